// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// A session's transcript, as `simple-cache run` prints it and as the VM's guest prints it
// (tests/vm/guest/transcript.sh): for each command, a blank line, "$ command", then what it
// printed. The exercises' checks read it the same way whichever kernel wrote it.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace SimpleCache.Cli.Exercises
{
    /// <summary>One command and what it printed.</summary>
    public sealed record Step(string Command, string Output);

    /// <summary>The steps of a session, grouped in phases ("echo phase: NAME" starts one).</summary>
    public sealed class Transcript
    {
        private readonly List<Step> _steps = new();

        /// <summary>Every step, in order.</summary>
        public IReadOnlyList<Step> Steps => _steps;

        /// <summary>Parses a transcript.</summary>
        public static Transcript Parse(string text)
        {
            var t = new Transcript();
            string command = null;
            var output = new List<string>();
            string[] lines = text.Replace("\r", "").Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                bool starts = lines[i].StartsWith("$ ", StringComparison.Ordinal) && (i == 0 || lines[i - 1].Length == 0);
                if (!starts)
                {
                    if (command != null)
                        output.Add(lines[i]);
                    continue;
                }
                Flush();
                command = lines[i][2..];
            }
            Flush();
            return t;

            void Flush()
            {
                if (command == null)
                    return;
                while (output.Count > 0 && output[^1].Length == 0)
                    output.RemoveAt(output.Count - 1);
                t._steps.Add(new Step(command, string.Join("\n", output)));
                output.Clear();
            }
        }

        /// <summary>The steps of phase <paramref name="name"/>, or null if the session never got there.</summary>
        public Phase this[string name]
        {
            get
            {
                int start = _steps.FindIndex(s => s.Command == "echo phase: " + name);
                if (start < 0)
                    return null;
                int end = _steps.FindIndex(start + 1, s => s.Command.StartsWith("echo phase: ", StringComparison.Ordinal));
                return new Phase(name, _steps.GetRange(start + 1, (end < 0 ? _steps.Count : end) - start - 1));
            }
        }

        /// <summary>Every kernel log line the session read (the output of its dmesg commands).</summary>
        public IEnumerable<string> Log => LogOf(_steps);

        /// <summary>The kernel log lines that the dmesg commands among <paramref name="steps"/> read.</summary>
        internal static IEnumerable<string> LogOf(IEnumerable<Step> steps) =>
            steps.Where(s => s.Command.StartsWith("dmesg", StringComparison.Ordinal)).SelectMany(s => s.Output.Split('\n')).Where(l => l.Length > 0);
    }

    /// <summary>The steps of one phase.</summary>
    public sealed class Phase(string name, List<Step> steps)
    {
        /// <summary>The phase's name.</summary>
        public string Name { get; } = name;

        /// <summary>Its steps.</summary>
        public IReadOnlyList<Step> Steps { get; } = steps;

        /// <summary>The kernel log lines its dmesg commands read.</summary>
        public IEnumerable<string> Log => Transcript.LogOf(Steps);

        /// <summary>Its CACHE: lines, without the prefix.</summary>
        public IEnumerable<string> Cache => Log.Where(l => l.StartsWith("CACHE: ", StringComparison.Ordinal)).Select(l => l[7..]);

        /// <summary>What <paramref name="command"/> printed (its first run in the phase), or null.</summary>
        public string Output(string command) => Steps.FirstOrDefault(s => s.Command == command)?.Output;

        /// <summary>
        /// The exit status of <paramref name="command"/>: the "echo status $?" step right after it
        /// prints it. Null if the command did not run, or no status followed it.
        /// </summary>
        public int? Status(string command)
        {
            for (int i = 0; i + 1 < Steps.Count; i++)
                if (Steps[i].Command == command && Steps[i + 1].Command == "echo status $?")
                {
                    Match m = Regex.Match(Steps[i + 1].Output, @"^status (\d+)$");
                    return m.Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
                }
            return null;
        }
    }
}
