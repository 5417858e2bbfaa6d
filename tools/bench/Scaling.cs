// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Pattern (d) measured in pairs: pattern (b) on one thread, then at once on two, fifteen times
// over, and the median of the fifteen throughput ratios. This machine's two CPUs are virtual and
// share their host: how much a second thread gains swings from one second to the next, so two
// BenchmarkDotNet rows measured a minute apart compare different machines; a ratio of two runs
// back to back does not. The same pairs of a pure computation give the machine's ceiling.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using SimpleCache.Model;
using SimpleCache.Model.Mm;

namespace SimpleCache.Bench
{
    internal static unsafe class Scaling
    {
        private const int Rounds = 2_000, Pairs = 15;

        public static List<(string Name, double Gain)> Measure()
        {
            var results = new List<(string, double)>();
            void** b1 = (void**)NativeMemory.AlignedAlloc(1024 * 8, 4096), b2 = (void**)NativeMemory.AlignedAlloc(1024 * 8, 4096);
            var slab = new SimpleCache.Slab.SlabCache("scaling", 64);
            results.Add(("SimpleCache.Slab", Gain(b => Patterns.Batches(new Slab(slab), b, 1000, Rounds * 1000), b1, b2)));
            results.Add(("SimpleCache.Slab, a thread's handle", Gain(b => Patterns.Batches(new SlabHandle(slab.Local()), b, 1000, Rounds * 1000), b1, b2)));
            results.Add(("glibc malloc", Gain(b => Patterns.Batches(new Malloc(), b, 1000, Rounds * 1000), b1, b2)));
            using (var kernel = new ModelKernel(new KernelOptions { Cpus = 2, MemoryMiB = 64 }).Enter())
            {
                SimpleCache.Model.Mm.SlabCache model = kernel.Slab.Create("scaling", 64, 0, CacheFlags.None, 0);
                results.Add(("model kmem_cache", Gain(b => Patterns.Batches(new Model(model), b, 1000, Rounds * 1000), b1, b2)));
            }
            results.Add(("a pure computation (the machine's ceiling)", Gain(_ => Compute(), b1, b2)));
            NativeMemory.AlignedFree(b1);
            NativeMemory.AlignedFree(b2);
            return results;
        }

        private delegate void Work(void** batch);

        private static double Gain(Work work, void** b1, void** b2)
        {
            work(b1);   // warm up: tiering, first slabs
            var ratios = new List<double>();
            for (int i = 0; i < Pairs; i++)
            {
                long one = Time(() => work(b1));
                long two = Time(() =>
                {
                    var other = new Thread(() => work(b2));
                    other.Start();
                    work(b1);
                    other.Join();
                });
                ratios.Add(2.0 * one / two);   // twice the work in the time of two
            }
            ratios.Sort();
            return ratios[Pairs / 2];
        }

        private static long Time(Action action)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            return Stopwatch.GetTimestamp() - start;
        }

        private static double s_sink;

        private static void Compute()
        {
            double x = 1;
            for (int i = 0; i < Rounds * 2000; i++)
                x = x * 1.0000001 + 0.5;
            s_sink = x;
        }
    }
}
