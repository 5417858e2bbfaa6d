// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The classic slab bugs of tests/kernel/slab_bugs.c against what the real kernels printed for
// them: data/bugs/ holds the transcripts of tests/vm/bugs.sh's scenarios in Debian's 6.1 and
// 6.12 kernels, normalised by tests/vm/bugs-normalise.sh (bugs.sh fails when a kernel prints
// anything but its record, so the record stays the kernel's). Each test replays a record's
// commands in the model, as `simple-cache run` would, normalises the model's transcript with the
// same script, and wants the record back line for line: every slub_debug report (double free,
// red zones, poison, slab padding, invalid free, kmalloc red zone, corrupt free pointer, the
// disabled slab after it), every FIX line, WARNING and taint, with their log levels. This makes
// the kernel's reports part of the model's own suite (and of Stryker's runs, which cannot boot VMs).

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using SimpleCache.Cli;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class BugsRecordTests
    {
        private static string Data => Path.Combine(AppContext.BaseDirectory, "data", "bugs");

        public static IEnumerable<object[]> Records() =>
            Directory.GetFiles(Data, "*.txt").Select(f => new object[] { Path.GetFileName(f) }).OrderBy(f => (string)f[0]);

        [Fact]
        public void EveryScenarioOfMakeTestHasARecordOnBothKernels()
        {
            // tests/vm/run.sh's default list: 6 scenarios on each of 6.1 and 6.12.
            string[] names = Directory.GetFiles(Data, "*.txt").Select(Path.GetFileName).ToArray();
            Assert.Equal(6, names.Count(n => n.StartsWith("6.1-", StringComparison.Ordinal)));
            Assert.Equal(6, names.Count(n => n.StartsWith("6.12-", StringComparison.Ordinal)));
        }

        [Theory]
        [MemberData(nameof(Records))]
        public void TheModelPrintsWhatTheKernelPrinted(string name)
        {
            // VERSION-MODE-CACHE-NcpuN-BUGS.txt (bugs.sh: '/' became '@' and '+' ',').
            string[] parts = name[..^4].Split('-', 5);
            string version = parts[0], mode = parts[1], cache = parts[2];
            int cpus = int.Parse(parts[3].Replace("cpu", ""));
            string record = File.ReadAllText(Path.Combine(Data, name));
            string[] commands = record.Split('\n').Where(l => l.StartsWith("$ ", StringComparison.Ordinal)).Select(l => l[2..]).ToArray();
            Assert.NotEmpty(commands);

            using var k = K.Boot(version == "6.1" ? KernelVersion.V6_1 : KernelVersion.V6_12, cpus, mode == "fzpu" ? "FZPU" : null);
            var output = new StringWriter();
            var session = new Session(k, output);
            // `simple-cache run`'s transcript: an empty line, "$ command", what it printed.
            var transcript = new StringBuilder();
            foreach (string command in commands)
            {
                transcript.Append("\n$ ").Append(command).Append('\n');
                session.Execute(command, echo: false);
                transcript.Append(output.ToString());
                output.GetStringBuilder().Clear();
            }
            string model = Normalise(transcript.ToString(), version, mode, cache);
            Assert.Equal(record.TrimEnd('\n'), model.TrimEnd('\n'));
        }

        // tests/vm/bugs-normalise.sh, the script bugs.sh runs on both sides.
        private static string Normalise(string transcript, string version, string mode, string cache)
        {
            var start = new ProcessStartInfo("bash", [Path.Combine(AppContext.BaseDirectory, "bugs-normalise.sh"), version, mode, cache])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using Process p = Process.Start(start);
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardInput.Write(transcript);
            p.StandardInput.Close();
            Assert.True(p.WaitForExit(60_000), "bugs-normalise.sh did not finish in a minute");
            Assert.True(p.ExitCode == 0, $"bugs-normalise.sh failed ({p.ExitCode}): {stderr.Result}");
            return stdout.Result;
        }
    }
}
