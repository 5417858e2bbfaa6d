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

        /// <summary>
        /// The sheaves experiment (Sheaves.cs), beside SimpleCache.Slab in the same run: (a) to (c)
        /// in pairs against the bare freelist, (d)'s gain from a second thread, and (e)'s walk.
        /// </summary>
        public static void SheavesExperiment(int capacity, int maxFull)
        {
            string F(double x) => x.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
            Console.WriteLine($"SLUB's slabs behind per-thread sheaves of {capacity} objects and a barn of at most {maxFull} full ones (6.18's design; Sheaves.cs), "
                + "beside SimpleCache.Slab through a thread's handle, 64-byte objects, medians of paired runs:");
            Console.WriteLine($"  checked first: {SheafCheck.Run(capacity, maxFull):N0} objects handed out by two threads freeing each other's, none twice, none lost");
            using var bare = new BareFreelist(Patterns.BigBatch + 16);
            using var sheaves = new SheafSlub(4 * Patterns.BigBatch + 4096, capacity, maxFull);
            SheafSlub.Cpu cpu = sheaves.ForThread();
            var slab = new SimpleCache.Slab.SlabCache("sheaves-experiment", 64);
            SimpleCache.Slab.SlabLocal local = slab.Local();
            void** p = (void**)NativeMemory.Alloc((nuint)Patterns.BigBatch * (nuint)sizeof(void*));
            var patterns = new (string Name, Work Bare, Work Sheaves, Work Handle)[]
            {
                ("a", _ => Patterns.Pairs(new Bare(bare), Patterns.PairsA * 10), _ => Patterns.Pairs(new Sheaves(cpu), Patterns.PairsA * 10),
                    _ => Patterns.Pairs(new SlabHandle(local), Patterns.PairsA * 10)),
                ("b", b => Patterns.Batches(new Bare(bare), b, Patterns.SmallBatch, Patterns.BatchOps * 10),
                    b => Patterns.Batches(new Sheaves(cpu), b, Patterns.SmallBatch, Patterns.BatchOps * 10),
                    b => Patterns.Batches(new SlabHandle(local), b, Patterns.SmallBatch, Patterns.BatchOps * 10)),
                ("c", b => Patterns.Batches(new Bare(bare), b, Patterns.BigBatch, Patterns.BatchOps * 10),
                    b => Patterns.Batches(new Sheaves(cpu), b, Patterns.BigBatch, Patterns.BatchOps * 10),
                    b => Patterns.Batches(new SlabHandle(local), b, Patterns.BigBatch, Patterns.BatchOps * 10)),
            };
            foreach (var (name, w0, w1, w2) in patterns)
            {
                for (int i = 0; i < 5; i++)
                {
                    w0(p); w1(p); w2(p);
                    Thread.Sleep(100);
                }
                var sheafRatio = new List<double>();
                var slabRatio = new List<double>();
                for (int i = 0; i < Pairs; i++)
                {
                    double floor = Time(() => w0(p));
                    sheafRatio.Add(Time(() => w1(p)) / floor);
                    slabRatio.Add(Time(() => w2(p)) / floor);
                }
                Console.WriteLine($"  ({name}) sheaves {F(Median(sheafRatio))}x the bare freelist, SimpleCache.Slab {F(Median(slabRatio))}x");
            }
            NativeMemory.Free(p);
            slab.Destroy();

            // (d): one cache, each thread its own sheaves; and, to tell sharing from the rest, a cache per thread.
            void** b1 = (void**)NativeMemory.AlignedAlloc(1024 * 8, 4096), b2 = (void**)NativeMemory.AlignedAlloc(1024 * 8, 4096);
            // Each thread's sheaves (and, for the row that shares nothing, its cache) are made on
            // that thread, as the kernel's per-CPU areas are each CPU's: made on the first thread,
            // the second's were malloc's neighbours of the first's, and cost that row half its gain.
            SheafSlub.Cpu c1 = sheaves.ForThread(), c2 = null;
            using var ownCache1 = new SheafSlub(Patterns.BigBatch, capacity, maxFull);
            SheafSlub ownCache2 = null;
            SheafSlub.Cpu own1 = ownCache1.ForThread(), own2 = null;
            var shared = new SimpleCache.Slab.SlabCache("sheaves-experiment-d", 64);
            using BareFreelist bare1 = new(1024), bare2 = new(1024);
            var work = new (string Name, Work Work)[]
            {
                ("sheaves, one cache", b => Patterns.Batches(new Sheaves(b == b1 ? c1 : c2 ??= sheaves.ForThread()), b, 1000, Rounds * 1000)),
                ("sheaves, a cache per thread (nothing shared)", b => Patterns.Batches(
                    new Sheaves(b == b1 ? own1 : own2 ??= (ownCache2 = new SheafSlub(Patterns.BigBatch, capacity, maxFull)).ForThread()), b, 1000, Rounds * 1000)),
                ("SimpleCache.Slab, one cache, a thread's handle", b => Patterns.Batches(new SlabHandle(shared.Local()), b, 1000, Rounds * 1000)),
                ("a bare freelist per thread", b => Patterns.Batches(new Bare(b == b1 ? bare1 : bare2), b, 1000, Rounds * 1000)),
            };
            var gains = work.Select(_ => new List<double>()).ToArray();
            using (var second = new SecondThread())
            {
                for (int i = 0; i < 3; i++)
                    foreach (var (_, w) in work)
                    {
                        w(b1);
                        second.Both(w, b1, b2);
                    }
                for (int i = 0; i < Pairs; i++)
                    for (int k = 0; k < work.Length; k++)
                    {
                        Work w = work[k].Work;
                        double one = Time(() => w(b1));
                        gains[k].Add(2.0 * one / second.Both(w, b1, b2));
                    }
            }
            for (int k = 0; k < work.Length; k++)
                Console.WriteLine($"  (d) {work[k].Name}: {F(Median(gains[k]))}x on 2 threads");
            ownCache2?.Dispose();
            shared.Destroy();
            NativeMemory.AlignedFree(b1);
            NativeMemory.AlignedFree(b2);

            // (e): the walk after a churn of shuffled frees, fresh caches.
            using var walkCache = new SheafSlub(2 * Patterns.Walk + 4096, capacity, maxFull);
            void* head = Patterns.BuildListFor(new Sheaves(walkCache.ForThread()), 1);
            var walkSlab = new SimpleCache.Slab.SlabCache("sheaves-experiment-e", 64);
            void* slabHead = Patterns.BuildListFor(new Slab(walkSlab), 1);
            using var walkBare = new BareFreelist(2 * Patterns.Walk);
            void* bareHead = Patterns.BuildListFor(new Bare(walkBare), 1);
            var ns = new List<double>();
            var nsSlab = new List<double>();
            var nsBare = new List<double>();
            for (int i = 0; i < 11; i++)
            {
                nsBare.Add(Time(() => Patterns.WalkList(bareHead)) / Patterns.Walk);
                ns.Add(Time(() => Patterns.WalkList(head)) / Patterns.Walk);
                nsSlab.Add(Time(() => Patterns.WalkList(slabHead)) / Patterns.Walk);
            }
            double tick = 1e9 / Stopwatch.Frequency;
            Console.WriteLine($"  (e) sheaves {F(Median(ns) * tick)} ns per node, SimpleCache.Slab {F(Median(nsSlab) * tick)}, the bare freelist {F(Median(nsBare) * tick)}");
            walkSlab.Destroy();
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
