// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The model's slab geometry against what the real kernels made of tests/kernel/slab_matrix.c's
// 1316 caches: data/geometry/ holds the lines tests/vm/guest/geometry.sh printed in Debian's
// 6.1 and 6.12 kernels with 2 and 4 CPUs (tests/vm/geometry.sh fails when a VM prints anything
// else, so the record stays the kernel's). The VM suite judges the same lines on every make test;
// this test makes the judgement part of the model's own suite (and of Stryker's runs, which
// cannot boot VMs), so that every figure of SlabGeometry, from 8-byte objects to 4 MiB ones and
// the caches no slab can hold, is checked against the kernel rather than against itself.

using System;
using System.IO;
using System.Linq;
using SimpleCache.Cli;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class GeometryRecordTests
    {
        // slab_matrix.c: 47 sizes x 2 alignments x 7 flag sets x with and without a constructor.
        private const int Caches = 47 * 2 * 7 * 2;

        [Theory]
        [InlineData("6.1", 2)]
        [InlineData("6.1", 4)]
        [InlineData("6.12", 2)]
        [InlineData("6.12", 4)]
        public void TheModelMakesWhatTheKernelMadeOfEveryCache(string version, int cpus)
        {
            string[] lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "data", "geometry", $"{version}-{cpus}cpus.txt"))
                .Where(l => !l.StartsWith('#')).ToArray();
            int Count(string key) => int.Parse(lines.Single(l => l.StartsWith(key + " ", StringComparison.Ordinal)).Split(' ')[1]);
            Assert.Equal(cpus, Count("NRCPUS"));
            Assert.Equal(Caches, Count("NRCACHES") + Count("NRREFUSED"));
            Assert.Equal(Count("NRREFUSED"), lines.Count(l => l.StartsWith("REFUSED ", StringComparison.Ordinal)));

            var verdicts = CheckGeometry.Judge(version == "6.1" ? KernelVersion.V6_1 : KernelVersion.V6_12, cpus, lines);
            Assert.Equal(Caches, verdicts.Count);
            Assert.Equal(Caches, verdicts.Select(v => v.Cache).Distinct().Count());
            string[] failed = verdicts.Where(v => !v.Pass).Select(v => $"{v.Cache}: {v.Text}").ToArray();
            Assert.True(failed.Length == 0, $"{failed.Length} of {Caches} caches differ from {version} with {cpus} CPUs:\n{string.Join("\n", failed.Take(20))}");
        }
    }
}
