// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache-bench: how fast is the model's SLUB as an allocator for .NET code?
// Prints nanoseconds per operation (the best of several runs) and bytes allocated on the GC
// heap per operation, for the model's kmem_cache_alloc/free and for .NET's alternatives.
//
//   dotnet run -c Release --project tools/bench [-- --quick]

using System;
using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using SimpleCache.Model;
using SimpleCache.Model.Mm;

internal static unsafe class Program
{
    private const int ObjectSize = 64;

    private static int Main(string[] args)
    {
        bool quick = Array.IndexOf(args, "--quick") >= 0;
        int ops = quick ? 200_000 : 5_000_000;
        int cpus = Environment.ProcessorCount;
        using var kernel = new ModelKernel(new KernelOptions { Cpus = cpus, MemoryMiB = 512 }).Enter();
        SlabCache cache = kernel.Slab.Create("bench", ObjectSize, 0, CacheFlags.HwcacheAlign, 0);
        SlabCache debug = kernel.Slab.Create("bench-debug", ObjectSize, 0, CacheFlags.HwcacheAlign | CacheFlags.ConsistencyChecks, 0);

        Console.WriteLine($"simple-cache-bench: {ObjectSize}-byte objects, {ops:N0} operations per run, best of 5 runs, {cpus} CPUs");
        Console.WriteLine($"{"what",-58} {"ns/op",8} {"GC B/op",8}");
        Report("model kmem_cache_alloc + kmem_cache_free (1 thread)", ops, n => { for (int i = 0; i < n; i++) cache.Free(cache.Alloc()); });
        Report("model: 1000 allocs then 1000 frees (1 thread)", ops, n => Batch(n, () => cache.Alloc(), p => cache.Free(p)));
        Report($"model alloc + free, {cpus} threads at once (per op)", ops, n => Parallel(n, cpus, () => { cache.Free(cache.Alloc()); }));
        Report("model with SLAB_CONSISTENCY_CHECKS (no CPU slabs)", ops / 10, n => { for (int i = 0; i < n; i++) debug.Free(debug.Alloc()); });
        Report("NativeMemory.Alloc + Free (malloc)", ops, n => { for (int i = 0; i < n; i++) NativeMemory.Free(NativeMemory.Alloc(ObjectSize)); });
        Report("NativeMemory: 1000 allocs then 1000 frees", ops, n => Batch(n, () => NativeMemory.Alloc(ObjectSize), p => NativeMemory.Free(p)));
        Report($"NativeMemory.Alloc + Free, {cpus} threads at once (per op)", ops, n => Parallel(n, cpus, () => NativeMemory.Free(NativeMemory.Alloc(ObjectSize))));
        Report("new byte[64] (GC heap)", ops, n => { for (int i = 0; i < n; i++) Keep(new byte[ObjectSize]); });
        Report("ArrayPool<byte>.Shared.Rent(64) + Return", ops, n => { for (int i = 0; i < n; i++) ArrayPool<byte>.Shared.Return(ArrayPool<byte>.Shared.Rent(ObjectSize)); });
        SlabInfo info = cache.GetSlabInfo();
        Console.WriteLine($"model cache after the runs: {info.NumSlabs} slabs, {info.NumObjs} objects, fast-path allocations {cache.GetStat(SlubStat.AllocFastpath):N0}, slow {cache.GetStat(SlubStat.AllocSlowpath):N0}");
        return 0;
    }

    private static object s_sink;
    private static void Keep(object o) => s_sink = o;


    private static void Batch(int n, AllocFn alloc, FreeFn free)
    {
        void** p = (void**)NativeMemory.Alloc(1000 * (nuint)sizeof(void*));
        for (int done = 0; done < n; done += 2000)
        {
            for (int i = 0; i < 1000; i++)
                p[i] = alloc();
            for (int i = 0; i < 1000; i++)
                free(p[i]);
        }
        NativeMemory.Free(p);
    }

    private delegate void* AllocFn();
    private delegate void FreeFn(void* p);

    private static void Parallel(int n, int threads, Action op)
    {
        var start = new Barrier(threads);
        var tasks = new Task[threads];
        for (int t = 0; t < threads; t++)
            tasks[t] = Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < n / threads; i++)
                    op();
            }, TaskCreationOptions.LongRunning);
        Task.WaitAll(tasks);
    }

    private static void Report(string what, int ops, Action<int> run)
    {
        run(ops / 10);   // warm up: tiering, first slabs
        double best = double.MaxValue;
        long bytes = 0;
        for (int r = 0; r < 5; r++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            var sw = Stopwatch.StartNew();
            run(ops);
            sw.Stop();
            bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
            best = Math.Min(best, sw.Elapsed.TotalNanoseconds / ops);
        }
        Console.WriteLine($"{what,-58} {best,8:F1} {(double)bytes / ops,8:F2}");
    }
}
