// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The brief's five claims for a slab cache, each measured (issue 12, item 3): the model's
// kmem_cache against the model's kmalloc (the kernel's two ways to get a struct), and
// SimpleCache.Slab against glibc malloc and GC new (.NET's). 64-byte objects like the brief's
// struct cache_obj; its constructor sets id to -1, clears the name and links the list node to
// itself, as the module's does.
//   object reuse            constructor runs per 1,000,000 allocations (kmalloc must initialise
//                           at every allocation what a cache constructs once per slab)
//   reduced fragmentation   bytes held per live byte after a churn of mixed sizes
//   cache locality          pattern (e), from the BenchmarkDotNet run
//   predictable allocation  p50, p99 and p99.9 of single allocations, timed one by one
//   faster allocation paths pattern (a), alloc and free (with initialisation where a constructor
//                           would have done it)

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SimpleCache.Model;
using SimpleCache.Model.Mm;

namespace SimpleCache.Bench
{
    internal static unsafe class Claims
    {
        private const int Allocations = 1_000_000, Batch = 1_000;
        private static readonly uint[] MixedSizes = [32, 64, 96, 128, 192, 256];

        public sealed record Row(string Claim, string Measure, string Model, string Kmalloc, string Slab, string Malloc, string Gc);

        // The brief's constructor: id = -1, name cleared, the list node linked to itself.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Construct(void* p)
        {
            var o = (long*)p;
            o[0] = -1;                         // id
            o[1] = o[2] = o[3] = o[4] = 0;     // name[32]
            o[5] = 0;                          // created
            o[6] = o[7] = (long)(o + 6);       // list: next = prev = &list
        }

        [UnmanagedCallersOnly]
        private static void ConstructUnmanaged(void* p) => Construct(p);

        // kmalloc() and malloc() with the initialisation a constructor would have done.
        private readonly struct KmallocInit(SlabAllocator slab) : IAllocator
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void* Alloc()
            {
                void* p = slab.Kmalloc(64);
                Construct(p);
                return p;
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Free(void* p) => slab.Kfree(p);
        }

        private readonly struct MallocInit : IAllocator
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void* Alloc()
            {
                void* p = NativeMemory.Alloc(64);
                Construct(p);
                return p;
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Free(void* p) => NativeMemory.Free(p);
        }

        public static List<Row> Measure(Func<string, string, double> benchmark)
        {
            var rows = new List<Row>();
            using var kernel = new ModelKernel(new KernelOptions { Cpus = 2, MemoryMiB = 256 }).Enter();
            SlabAllocator slab = kernel.Slab;
            SimpleCache.Model.Mm.SlabCache kmemCache = slab.Create("cache_obj", 64, 0, CacheFlags.HwcacheAlign, (nint)(delegate* unmanaged<void*, void>)&ConstructUnmanaged);
            var lib = new SimpleCache.Slab.SlabCache("cache_obj", 64, new SimpleCache.Slab.SlabCacheOptions { Constructor = Construct });

            // Object reuse: a million allocations in batches; a cache constructs per slab made,
            // kmalloc (and malloc) must initialise at every allocation.
            void** p = (void**)NativeMemory.Alloc(Batch * (nuint)sizeof(void*));
            for (int done = 0; done < Allocations; done += Batch)
            {
                for (int i = 0; i < Batch; i++)
                    p[i] = kmemCache.Alloc();
                for (int i = 0; i < Batch; i++)
                    kmemCache.Free(p[i]);
                for (int i = 0; i < Batch; i++)
                    p[i] = lib.Alloc();
                for (int i = 0; i < Batch; i++)
                    lib.Free(p[i]);
            }
            rows.Add(new("object reuse", "constructor runs per 1,000,000 allocations",
                $"{kmemCache.ConstructorCalls:N0}", $"{Allocations:N0}", $"{lib.ConstructorCalls:N0}", $"{Allocations:N0}", $"{Allocations:N0}"));

            // Reduced fragmentation: mixed sizes, a churn, then bytes held per live byte.
            rows.Add(Fragmentation(kernel));

            // Cache locality: pattern (e).
            rows.Add(new("cache locality", "ns per node, walking 100,000 nodes allocated after shuffled frees (pattern e)",
                F(benchmark("E", "Model")), "-", F(benchmark("E", "Slab")), F(benchmark("E", "Malloc")), F(benchmark("E", "GcNew"))));

            // Predictable allocation: single allocations timed one by one.
            var kmem = Latencies(new Model(kmemCache));
            var kmalloc = Latencies(new KmallocInit(slab));
            var libLat = Latencies(new Slab(lib));
            var malloc = Latencies(new MallocInit());
            var gc = GcLatencies();
            rows.Add(new("predictable allocation", "p50 / p99 / p99.9 of one allocation, ns (timer overhead taken off)",
                kmem, kmalloc, libLat, malloc, gc));

            // Faster allocation paths: alloc and free repeated, initialising where no constructor did.
            rows.Add(new("faster allocation paths", "ns per alloc and free, initialised (pattern a with the brief's struct)",
                F(Pairs(new Model(kmemCache))),
                F(Pairs(new KmallocInit(slab))),
                F(Pairs(new Slab(lib))),
                F(Pairs(new MallocInit())),
                F(benchmark("A", "GcNew"))));
            NativeMemory.Free(p);
            return rows;
        }

        private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(v < 10 ? "F2" : "F1", System.Globalization.CultureInfo.InvariantCulture);

        private static double Pairs<T>(T a) where T : struct, IAllocator
        {
            double best = double.MaxValue;
            for (int run = 0; run < 5; run++)
            {
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < Allocations; i++)
                    a.Free(a.Alloc());
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalNanoseconds / Allocations);
            }
            return best;
        }

        // Each allocation of 200,000 (in batches of 1,000, then freed) timed alone; the timer's
        // own cost (the median of 10,000 empty readings) is taken off.
        private static string Latencies<T>(T a) where T : struct, IAllocator
        {
            var samples = new double[200_000];
            void** p = (void**)NativeMemory.Alloc(Batch * (nuint)sizeof(void*));
            double tick = 1e9 / Stopwatch.Frequency;
            var empty = new long[10_000];
            for (int i = 0; i < empty.Length; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                empty[i] = Stopwatch.GetTimestamp() - t0;
            }
            Array.Sort(empty);
            double overhead = empty[empty.Length / 2] * tick;
            for (int done = 0; done < samples.Length; done += Batch)
            {
                for (int i = 0; i < Batch; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    p[i] = a.Alloc();
                    samples[done + i] = (Stopwatch.GetTimestamp() - t0) * tick - overhead;
                }
                for (int i = 0; i < Batch; i++)
                    a.Free(p[i]);
            }
            NativeMemory.Free(p);
            return Percentiles(samples);
        }

        private static string GcLatencies()
        {
            var samples = new double[200_000];
            var keep = new object[Batch];
            double tick = 1e9 / Stopwatch.Frequency;
            long e0 = Stopwatch.GetTimestamp();
            double overhead = (Stopwatch.GetTimestamp() - e0) * tick;
            for (int done = 0; done < samples.Length; done += Batch)
            {
                for (int i = 0; i < Batch; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    keep[i] = new Node64 { A = -1 };
                    samples[done + i] = (Stopwatch.GetTimestamp() - t0) * tick - overhead;
                }
                Array.Clear(keep);
            }
            return Percentiles(samples);
        }

        private static string Percentiles(double[] samples)
        {
            Array.Sort(samples);
            double At(double q) => Math.Max(0, samples[(int)(q * (samples.Length - 1))]);
            return $"{F(At(0.5))} / {F(At(0.99))} / {F(At(0.999))}";
        }

        // 300,000 allocations of sizes drawn from the mix, a random two thirds freed, then the
        // memory held per byte still live.
        private static Row Fragmentation(ModelKernel kernel)
        {
            var random = new Random(3);
            uint[] sizes = Enumerable.Range(0, 300_000).Select(_ => MixedSizes[random.Next(MixedSizes.Length)]).ToArray();
            int[] freeOrder = Enumerable.Range(0, sizes.Length).ToArray();
            random.Shuffle(freeOrder);
            long liveBytes = 0;
            var live = new bool[sizes.Length];
            Array.Fill(live, true);
            foreach (int i in freeOrder.Take(200_000))
                live[i] = false;
            for (int i = 0; i < sizes.Length; i++)
                if (live[i])
                    liveBytes += sizes[i];

            // The model: one kmem_cache per size, and kmalloc.
            var caches = MixedSizes.ToDictionary(s => s, s => kernel.Slab.Create($"mix{s}", s, 0, CacheFlags.None, 0));
            double kmemHeld = Churn(sizes, freeOrder, i => (nint)caches[sizes[i]].Alloc(), (i, q) => caches[sizes[i]].Free((void*)q),
                () => caches.Values.Sum(c => (long)c.GetSlabInfo().NumSlabs * c.GetSlabInfo().PagesPerSlab * 4096));
            long kmallocBefore = KmallocBytes(kernel);
            double kmallocHeld = Churn(sizes, freeOrder, i => (nint)kernel.Slab.Kmalloc(sizes[i]), (i, q) => kernel.Slab.Kfree((void*)q),
                () => KmallocBytes(kernel) - kmallocBefore);
            var libs = MixedSizes.ToDictionary(s => s, s => new SimpleCache.Slab.SlabCache($"mix{s}", (int)s));
            double libHeld = Churn(sizes, freeOrder, i => (nint)libs[sizes[i]].Alloc(), (i, q) => libs[sizes[i]].Free((void*)q),
                () => libs.Values.Sum(c => c.Bytes));
            ulong mallocBefore = Memory.Held();
            double mallocHeld = Churn(sizes, freeOrder, i => (nint)NativeMemory.Alloc(sizes[i]), (i, q) => NativeMemory.Free((void*)q),
                () => (long)(Memory.Held() - mallocBefore));
            string R(double held) => F(held / liveBytes);
            return new("reduced fragmentation", $"bytes held per live byte after a churn of mixed sizes ({string.Join(", ", MixedSizes)} B; 100,000 of 300,000 live)",
                R(kmemHeld), R(kmallocHeld), R(libHeld), R(mallocHeld), "-");
        }

        private static long KmallocBytes(ModelKernel kernel) =>
            kernel.Slab.Caches.Where(c => c.Name.StartsWith("kmalloc-", StringComparison.Ordinal))
                .Sum(c => (long)c.GetSlabInfo().NumSlabs * c.GetSlabInfo().PagesPerSlab * 4096);

        private static double Churn(uint[] sizes, int[] freeOrder, Func<int, nint> alloc, Action<int, nint> free, Func<long> held)
        {
            var objects = new nint[sizes.Length];
            for (int i = 0; i < sizes.Length; i++)
                objects[i] = alloc(i);
            foreach (int i in freeOrder.Take(200_000))
                free(i, objects[i]);
            return held();
        }

    }
}
