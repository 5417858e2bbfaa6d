// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Ratios measured in pairs. This machine's two CPUs are virtual and share their host: its speed
// swings from one second to the next, so two BenchmarkDotNet rows measured a minute apart
// compare different machines; runs back to back, interleaved, do not.
//
//   Ratios():  patterns (a), (b) and (c), the bare freelist and the slab cache (plain, and
//              through a thread's handle) one after another, fifteen rounds; the median of each
//              allocator's fifteen ratios to the bare freelist of its own round. Also the bare
//              freelist whose free is a compare-and-swap, as SLUB's free to a slab that is not
//              the CPU's (__slab_free()) must be: what following SLUB there would cost.
//   Measure(): pattern (d), pattern (b) on one thread and then at once on two, fifteen rounds,
//              every allocator in each round; the median of the fifteen throughput ratios. The
//              second thread is started once and kept (SecondThread): a round times the work,
//              not a thread's start. The
//              same pairs of a pure computation give the machine's ceiling for code that touches
//              no memory, and a bare freelist per thread (each on its own lines) its ceiling for
//              an allocator's work: loads and stores to a thread's own cache lines.

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

        private delegate void Work(void** batch);

        /// <summary>Patterns (a) to (c), in pairs: each slab allocator's median ratio to the bare freelist.</summary>
        public static List<(string Pattern, double Slab, double Handle, double Cas)> Ratios()
        {
            var results = new List<(string, double, double, double)>();
            using var bare = new BareFreelist(Patterns.BigBatch + 16);
            var slab = new SimpleCache.Slab.SlabCache("pairs", 64);
            SimpleCache.Slab.SlabLocal local = slab.Local();
            void** p = (void**)NativeMemory.Alloc((nuint)Patterns.BigBatch * (nuint)sizeof(void*));
            var patterns = new (string Name, Work Bare, Work Slab, Work Handle, Work Cas)[]
            {
                ("a", _ => Patterns.Pairs(new Bare(bare), Patterns.PairsA * 10), _ => Patterns.Pairs(new Slab(slab), Patterns.PairsA * 10),
                    _ => Patterns.Pairs(new SlabHandle(local), Patterns.PairsA * 10), _ => Patterns.Pairs(new BareCas(bare), Patterns.PairsA * 10)),
                ("b", b => Patterns.Batches(new Bare(bare), b, Patterns.SmallBatch, Patterns.BatchOps * 10),
                    b => Patterns.Batches(new Slab(slab), b, Patterns.SmallBatch, Patterns.BatchOps * 10),
                    b => Patterns.Batches(new SlabHandle(local), b, Patterns.SmallBatch, Patterns.BatchOps * 10),
                    b => Patterns.Batches(new BareCas(bare), b, Patterns.SmallBatch, Patterns.BatchOps * 10)),
                ("c", b => Patterns.Batches(new Bare(bare), b, Patterns.BigBatch, Patterns.BatchOps * 10),
                    b => Patterns.Batches(new Slab(slab), b, Patterns.BigBatch, Patterns.BatchOps * 10),
                    b => Patterns.Batches(new SlabHandle(local), b, Patterns.BigBatch, Patterns.BatchOps * 10),
                    b => Patterns.Batches(new BareCas(bare), b, Patterns.BigBatch, Patterns.BatchOps * 10)),
            };
            foreach (var (name, w0, w1, w2, w3) in patterns)
            {
                for (int i = 0; i < 5; i++)   // warm up: the slabs, and tiering (its compiles run in the background)
                {
                    w0(p); w1(p); w2(p); w3(p);
                    Thread.Sleep(100);
                }
                var plain = new List<double>();
                var handle = new List<double>();
                var cas = new List<double>();
                for (int i = 0; i < Pairs; i++)
                {
                    double floor = Time(() => w0(p));
                    plain.Add(Time(() => w1(p)) / floor);
                    handle.Add(Time(() => w2(p)) / floor);
                    cas.Add(Time(() => w3(p)) / floor);
                }
                results.Add((name, Median(plain), Median(handle), Median(cas)));
            }
            NativeMemory.Free(p);
            slab.Destroy();
            return results;
        }

        /// <summary>Pattern (d), in pairs: each allocator's median gain from a second thread.</summary>
        public static List<(string Name, double Gain)> Measure()
        {
            void** b1 = (void**)NativeMemory.AlignedAlloc(1024 * 8, 4096), b2 = (void**)NativeMemory.AlignedAlloc(1024 * 8, 4096);
            var slab = new SimpleCache.Slab.SlabCache("scaling", 64);
            // One bare freelist per thread, each in its own memory (the two threads pick theirs by batch).
            using BareFreelist bare1 = new(1024), bare2 = new(1024);
            using var kernel = new ModelKernel(new KernelOptions { Cpus = 2, MemoryMiB = 64 }).Enter();
            SimpleCache.Model.Mm.SlabCache model = kernel.Slab.Create("scaling", 64, 0, CacheFlags.None, 0);
            var work = new (string Name, Work Work)[]
            {
                ("SimpleCache.Slab", b => Patterns.Batches(new Slab(slab), b, 1000, Rounds * 1000)),
                ("SimpleCache.Slab, a thread's handle", b => Patterns.Batches(new SlabHandle(slab.Local()), b, 1000, Rounds * 1000)),
                ("glibc malloc", b => Patterns.Batches(new Malloc(), b, 1000, Rounds * 1000)),
                ("model kmem_cache", b =>
                {
                    kernel.Slab.MigrateTo(b == b1 ? 0 : 1);   // a CPU each (a model task keeps the CPU it first allocated on)
                    Patterns.Batches(new Model(model), b, 1000, Rounds * 1000);
                }),
                ("a bare freelist per thread (the machine's ceiling for an allocator)", b => Patterns.Batches(new Bare(b == b1 ? bare1 : bare2), b, 1000, Rounds * 1000)),
                ("a pure computation (the machine's ceiling)", _ => Compute()),
            };
            for (int i = 0; i < 3; i++)   // warm up: the first slabs, and tiering (its compiles run in the background)
            {
                foreach (var (_, w) in work)
                    w(b1);
                Thread.Sleep(100);
            }
            var ratios = work.Select(_ => new List<double>()).ToArray();
            using (var second = new SecondThread())
            {
                for (int i = 0; i < 3; i++)   // the second thread's first slabs, as the first's above
                    foreach (var (_, w) in work)
                        second.Both(w, b1, b2);
                for (int i = 0; i < Pairs; i++)
                    for (int k = 0; k < work.Length; k++)
                    {
                        Work w = work[k].Work;
                        double one = Time(() => w(b1));
                        double two = second.Both(w, b1, b2);
                        ratios[k].Add(2.0 * one / two);   // twice the work in the time of two
                    }
            }
            NativeMemory.AlignedFree(b1);
            NativeMemory.AlignedFree(b2);
            return work.Select((w, k) => (w.Name, Median(ratios[k]))).ToList();
        }

        /// <summary>
        /// The second thread of pattern (d): started once and kept, as a program's worker threads
        /// are, so that what (d) times is the allocator's work on two threads, not a thread's
        /// creation, start-up and first slabs in every round (up to a tenth of a round under this
        /// host). It waits, blocked, while the first thread runs alone.
        /// </summary>
        private sealed class SecondThread : IDisposable
        {
            private readonly Thread _thread;
            private readonly SemaphoreSlim _go = new(0);
            private readonly SemaphoreSlim _done = new(0);
            private Work _work;
            private void** _batch;
            private long _start, _end;
            private volatile int _running;
            private volatile bool _stop;

            public SecondThread()
            {
                _thread = new Thread(Loop) { IsBackground = true, Name = "pattern (d)" };
                _thread.Start();
            }

            /// <summary>Runs <paramref name="work"/> on this thread and the second at once; the wall time, in timestamp ticks, from the first start to the last end.</summary>
            public double Both(Work work, void** mine, void** its)
            {
                _work = work;
                _batch = its;
                _go.Release();
                // Start when the second thread has: the span below would otherwise time its wake-up.
                var spin = new SpinWait();
                while (_running == 0)
                    spin.SpinOnce(sleep1Threshold: -1);
                long start = Stopwatch.GetTimestamp();
                work(mine);
                long end = Stopwatch.GetTimestamp();
                _done.Wait();
                _running = 0;
                return Math.Max(end, _end) - Math.Min(start, _start);
            }

            private void Loop()
            {
                while (true)
                {
                    _go.Wait();
                    if (_stop)
                        return;
                    _start = Stopwatch.GetTimestamp();
                    _running = 1;
                    _work(_batch);
                    _end = Stopwatch.GetTimestamp();
                    _done.Release();
                }
            }

            public void Dispose()
            {
                _stop = true;
                _go.Release();
                _thread.Join();
            }
        }

        private static double Median(List<double> values)
        {
            values.Sort();
            return values[values.Count / 2];
        }

        private static double Time(Action action)
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
