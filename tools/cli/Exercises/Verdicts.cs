// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The checks every exercise shares, each saying what went wrong in the learner's terms: a
// command that crashed the kernel, slub_debug's reports, objects that rmmod left behind.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace SimpleCache.Cli.Exercises
{
    /// <summary>Failures common to every exercise.</summary>
    public static class Verdicts
    {
        private static readonly Regex s_oops = new(
            @"^(BUG: kernel NULL pointer dereference.*|BUG: unable to handle page fault.*|general protection fault.*|kernel BUG at .*|list_(add|del) corruption.*|\(the model kernel panicked.*)$");

        /// <summary>The first step that crashed the kernel, and how: null if none did.</summary>
        public static string Crash(Transcript t)
        {
            for (int i = 0; i < t.Steps.Count; i++)
            {
                Step s = t.Steps[i];
                string why = s.Output.Split('\n').Select(l => s_oops.Match(l)).FirstOrDefault(m => m.Success)?.Value;
                // The log line comes in a later dmesg; the process that crashed says so at once.
                bool killed = Regex.IsMatch(s.Output, @"^(Segmentation fault|Killed)$", RegexOptions.Multiline);
                if (s.Command.StartsWith("dmesg", StringComparison.Ordinal) && why != null)
                    return $"the kernel crashed: {why}";
                if (killed)
                {
                    string logged = t.Steps.Skip(i + 1).Where(x => x.Command.StartsWith("dmesg", StringComparison.Ordinal))
                        .SelectMany(x => x.Output.Split('\n')).Select(l => s_oops.Match(l)).FirstOrDefault(m => m.Success)?.Value;
                    return $"`{s.Command}` crashed the kernel{(logged != null ? ": " + logged : "")}";
                }
                if (s.Command == "(the model stopped)")
                    return s.Output;
            }
            return null;
        }

        /// <summary>slub_debug's reports on any cache ("BUG kmalloc-16 (...): what"), but the leak at destroy (see Leaks).</summary>
        public static IEnumerable<string> SlubReports(Transcript t) =>
            t.Log.Select(l => Regex.Match(l, @"^BUG (\S+) \([^)]*\): (.*)$")).Where(m => m.Success)
                .Where(m => !m.Groups[2].Value.StartsWith("Objects remaining", StringComparison.Ordinal))
                .Select(m => $"slub_debug found a bug in {m.Groups[1].Value}: {m.Groups[2].Value}").Distinct();

        /// <summary>
        /// The objects left in the cache when it was destroyed. How many: the kernel's own report
        /// (list_slab_objects() in mm/slub.c prints "Object 0x... @offset=N" for each, 6.1 and
        /// 6.12). Which: those the module's log says it created and never freed, when that
        /// agrees with the kernel's count.
        /// </summary>
        public static IEnumerable<string> Leaks(Transcript t)
        {
            var log = t.Log.ToList();
            int report = log.FindIndex(l => l.Contains("Slab cache still has objects", StringComparison.Ordinal) ||
                                            Regex.IsMatch(l, @"^BUG simple_cache \([^)]*\): Objects remaining"));
            if (report < 0)
                yield break;
            int left = 0;
            for (int i = report; i < log.Count && !log[i].Contains("Slab cache still has objects", StringComparison.Ordinal); i++)
                if (Regex.IsMatch(log[i], @"^Object 0x[0-9a-f]+ @offset=\d+$"))
                    left++;
            var live = new SortedDictionary<int, string>();
            for (int i = 0; i < report; i++)
            {
                Match created = Regex.Match(log[i], @"^CACHE: created object (-?\d+) (.*)$");
                Match freed = Regex.Match(log[i], @"^CACHE: freeing object (-?\d+)$");
                if (created.Success)
                    live[int.Parse(created.Groups[1].Value)] = created.Groups[2].Value;
                else if (freed.Success)
                    live.Remove(int.Parse(freed.Groups[1].Value));
            }
            if (left == 0)
                left = live.Count;
            string what = left == 1 ? "1 object" : $"{left} objects";
            if (live.Count == left && left > 0)
            {
                foreach (var (id, name) in live)
                    yield return $"object {id} ({name}) was never freed: the module left {what} in simple_cache when it destroyed the cache";
                yield break;
            }
            yield return $"the module left {what} in simple_cache when it destroyed the cache (the kernel lists {(left == 1 ? "it" : "them")} after " +
                "\"Objects remaining\"), though its log does not say which: every object that leaves the list must go back to the cache";
        }

        /// <summary>The phase, or a failure saying the session never got there.</summary>
        public static Phase Need(Transcript t, string phase, List<string> failures)
        {
            Phase p = t[phase];
            if (p == null)
                failures.Add($"the checks stopped before the '{phase}' step (see the failures above)");
            return p;
        }
    }
}
