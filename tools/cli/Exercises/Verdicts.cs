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

        /// <summary>slub_debug's reports on simple_cache ("BUG simple_cache (...): what"), but the leak at destroy.</summary>
        public static IEnumerable<string> SlubReports(Transcript t) =>
            t.Log.Select(l => Regex.Match(l, @"^BUG simple_cache \([^)]*\): (.*)$")).Where(m => m.Success)
                .Select(m => m.Groups[1].Value).Where(w => !w.StartsWith("Objects remaining", StringComparison.Ordinal))
                .Distinct().Select(w => $"slub_debug found a bug in simple_cache: {w}");

        /// <summary>
        /// The objects rmmod (or a failed insmod) left in the cache: those created and never
        /// freed, by the module's own log, when the kernel says the cache still has objects.
        /// </summary>
        public static IEnumerable<string> Leaks(Transcript t)
        {
            var log = t.Log.ToList();
            if (!log.Any(l => l.Contains("Slab cache still has objects", StringComparison.Ordinal) ||
                              l.Contains("Objects remaining in simple_cache", StringComparison.Ordinal)))
                yield break;
            // Ids are per load: count from the last load that left objects.
            var live = new Dictionary<int, string>();
            bool reported = false;
            foreach (string line in log)
            {
                Match created = Regex.Match(line, @"^CACHE: created object (-?\d+) (.*)$");
                Match freed = Regex.Match(line, @"^CACHE: freeing object (-?\d+)$");
                if (created.Success)
                    live[int.Parse(created.Groups[1].Value)] = created.Groups[2].Value;
                else if (freed.Success)
                    live.Remove(int.Parse(freed.Groups[1].Value));
                else if (line.Contains("Slab cache still has objects", StringComparison.Ordinal) && !reported)
                {
                    reported = true;
                    string what = live.Count == 1 ? "1 object" : $"{live.Count} objects";
                    if (live.Count == 0)
                        yield return "the cache still had objects when it was destroyed, though the module's log says it freed every object it created";
                    foreach (var (id, name) in live.OrderBy(p => p.Key))
                        yield return $"object {id} ({name}) was never freed: the module left {what} in simple_cache when it destroyed the cache";
                }
            }
            if (!reported)
                yield return "the cache still had objects when it was destroyed";
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
