// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The five patterns of issue 12, 64-byte objects, each allocator beside the bare freelist:
//   (a) alloc, free, repeat                        ns per alloc+free pair
//   (b) 1,000 allocs, then 1,000 frees             ns per object (its alloc and its free)
//   (c) the same with 100,000                      ns per object
//   (d) pattern (b) on 2 threads at once           ns per object, wall time: against (b), the
//                                                  throughput gained by a second thread
//   (e) walk a 100,000-node list built after a churn of shuffled frees   ns per node
// Categories group each pattern; the bare freelist is every group's baseline.

using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.ObjectPool;
using SimpleCache.Model;
using SimpleCache.Model.Mm;

namespace SimpleCache.Bench
{
    [GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
    [CategoriesColumn]
    public unsafe class Patterns
    {
        public const int PairsA = 100_000, SmallBatch = 1_000, BigBatch = 100_000, BatchOps = 100_000, Walk = 100_000;

        private BareFreelist _bare, _bare2;
        private SimpleCache.Slab.SlabCache _slab;
        private ModelKernel _kernel;
        private SimpleCache.Model.Mm.SlabCache _model;
        private DefaultObjectPool<Node64> _pool;
        private void** _batch, _batch2;
        private Node64[] _gcBatch, _gcBatch2;

        [GlobalSetup]
        public void Setup()
        {
            _bare = new BareFreelist(BigBatch + 16);
            _bare2 = new BareFreelist(BigBatch + 16);
            _slab = new SimpleCache.Slab.SlabCache("bench", 64);
            _kernel = new ModelKernel(new KernelOptions { Cpus = Math.Max(2, Environment.ProcessorCount), MemoryMiB = 256 }).Enter();
            _model = _kernel.Slab.Create("bench", 64, 0, CacheFlags.None, 0);
            _pool = new DefaultObjectPool<Node64>(new DefaultPooledObjectPolicy<Node64>(), BigBatch);
            _batch = (void**)NativeMemory.Alloc((nuint)BigBatch * (nuint)sizeof(void*));
            _batch2 = (void**)NativeMemory.Alloc((nuint)BigBatch * (nuint)sizeof(void*));
            _gcBatch = new Node64[BigBatch];
            _gcBatch2 = new Node64[BigBatch];
            SetupWalks();
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _bare.Dispose();
            _bare2.Dispose();
            NativeMemory.Free(_batch);
            NativeMemory.Free(_batch2);
            _kernel.Dispose();
        }

        // ---------------------------------------------------------------- the loops

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal static void Pairs<T>(T a, int n) where T : struct, IAllocator
        {
            for (int i = 0; i < n; i++)
                a.Free(a.Alloc());
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal static void Batches<T>(T a, void** p, int batch, int ops) where T : struct, IAllocator
        {
            for (int done = 0; done < ops; done += batch)
            {
                for (int i = 0; i < batch; i++)
                    p[i] = a.Alloc();
                for (int i = 0; i < batch; i++)
                    a.Free(p[i]);
            }
        }

        private static void GcBatches(Node64[] p, int batch, int ops)
        {
            for (int done = 0; done < ops; done += batch)
            {
                for (int i = 0; i < batch; i++)
                    p[i] = new Node64();
                Array.Clear(p, 0, batch);
            }
        }

        private static void PoolBatches(DefaultObjectPool<Node64> pool, Node64[] p, int batch, int ops)
        {
            for (int done = 0; done < ops; done += batch)
            {
                for (int i = 0; i < batch; i++)
                    p[i] = pool.Get();
                for (int i = 0; i < batch; i++)
                    pool.Return(p[i]);
            }
        }

        // ---------------------------------------------------------------- (a)

        [Benchmark(Baseline = true, OperationsPerInvoke = PairsA), BenchmarkCategory("a")] public void A_Bare() => Pairs(new Bare(_bare), PairsA);
        [Benchmark(OperationsPerInvoke = PairsA), BenchmarkCategory("a")] public void A_Slab() => Pairs(new Slab(_slab), PairsA);
        [Benchmark(OperationsPerInvoke = PairsA), BenchmarkCategory("a")] public void A_SlabLocal() => Pairs(new SlabHandle(_slab.Local()), PairsA);
        [Benchmark(OperationsPerInvoke = PairsA), BenchmarkCategory("a")] public void A_Model() => Pairs(new Model(_model), PairsA);
        [Benchmark(OperationsPerInvoke = PairsA), BenchmarkCategory("a")] public void A_Malloc() => Pairs(new Malloc(), PairsA);

        [Benchmark(OperationsPerInvoke = PairsA), BenchmarkCategory("a")]
        public void A_GcNew()
        {
            Node64 keep = null;
            for (int i = 0; i < PairsA; i++)
                keep = new Node64();
            GC.KeepAlive(keep);
        }

        [Benchmark(OperationsPerInvoke = PairsA), BenchmarkCategory("a")]
        public void A_ObjectPool()
        {
            for (int i = 0; i < PairsA; i++)
                _pool.Return(_pool.Get());
        }

        // ---------------------------------------------------------------- (b)

        [Benchmark(Baseline = true, OperationsPerInvoke = BatchOps), BenchmarkCategory("b")] public void B_Bare() => Batches(new Bare(_bare), _batch, SmallBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("b")] public void B_Slab() => Batches(new Slab(_slab), _batch, SmallBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("b")] public void B_SlabLocal() => Batches(new SlabHandle(_slab.Local()), _batch, SmallBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("b")] public void B_Model() => Batches(new Model(_model), _batch, SmallBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("b")] public void B_Malloc() => Batches(new Malloc(), _batch, SmallBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("b")] public void B_GcNew() => GcBatches(_gcBatch, SmallBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("b")] public void B_ObjectPool() => PoolBatches(_pool, _gcBatch, SmallBatch, BatchOps);

        // ---------------------------------------------------------------- (c)

        [Benchmark(Baseline = true, OperationsPerInvoke = BatchOps), BenchmarkCategory("c")] public void C_Bare() => Batches(new Bare(_bare), _batch, BigBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("c")] public void C_Slab() => Batches(new Slab(_slab), _batch, BigBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("c")] public void C_SlabLocal() => Batches(new SlabHandle(_slab.Local()), _batch, BigBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("c")] public void C_Model() => Batches(new Model(_model), _batch, BigBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("c")] public void C_Malloc() => Batches(new Malloc(), _batch, BigBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("c")] public void C_GcNew() => GcBatches(_gcBatch, BigBatch, BatchOps);
        [Benchmark(OperationsPerInvoke = BatchOps), BenchmarkCategory("c")] public void C_ObjectPool() => PoolBatches(_pool, _gcBatch, BigBatch, BatchOps);

        // ---------------------------------------------------------------- (d): (b) on two threads

        private void Two(Action first, Action second) => Parallel.Invoke(first, second);

        [Benchmark(Baseline = true, OperationsPerInvoke = 2 * BatchOps), BenchmarkCategory("d")]
        public void D_Bare() => Two(() => Batches(new Bare(_bare), _batch, SmallBatch, BatchOps), () => Batches(new Bare(_bare2), _batch2, SmallBatch, BatchOps));
        [Benchmark(OperationsPerInvoke = 2 * BatchOps), BenchmarkCategory("d")]
        public void D_Slab() => Two(() => Batches(new Slab(_slab), _batch, SmallBatch, BatchOps), () => Batches(new Slab(_slab), _batch2, SmallBatch, BatchOps));
        [Benchmark(OperationsPerInvoke = 2 * BatchOps), BenchmarkCategory("d")]
        public void D_SlabLocal() => Two(() => Batches(new SlabHandle(_slab.Local()), _batch, SmallBatch, BatchOps), () => Batches(new SlabHandle(_slab.Local()), _batch2, SmallBatch, BatchOps));
        [Benchmark(OperationsPerInvoke = 2 * BatchOps), BenchmarkCategory("d")]
        public void D_Model() => Two(() => { _kernel.Slab.MigrateTo(0); Batches(new Model(_model), _batch, SmallBatch, BatchOps); },
            () => { _kernel.Slab.MigrateTo(1); Batches(new Model(_model), _batch2, SmallBatch, BatchOps); });   // a CPU each, as the kernel's scheduler would
        [Benchmark(OperationsPerInvoke = 2 * BatchOps), BenchmarkCategory("d")]
        public void D_Malloc() => Two(() => Batches(new Malloc(), _batch, SmallBatch, BatchOps), () => Batches(new Malloc(), _batch2, SmallBatch, BatchOps));
        [Benchmark(OperationsPerInvoke = 2 * BatchOps), BenchmarkCategory("d")]
        public void D_GcNew() => Two(() => GcBatches(_gcBatch, SmallBatch, BatchOps), () => GcBatches(_gcBatch2, SmallBatch, BatchOps));
        [Benchmark(OperationsPerInvoke = 2 * BatchOps), BenchmarkCategory("d")]
        public void D_ObjectPool() => Two(() => PoolBatches(_pool, _gcBatch, SmallBatch, BatchOps), () => PoolBatches(_pool, _gcBatch2, SmallBatch, BatchOps));

        // ---------------------------------------------------------------- (e)

        private void* _walkBare, _walkSlab, _walkModel, _walkMalloc;
        private Node64 _walkGc;
        private BareFreelist _bareWalk;
        private SimpleCache.Slab.SlabCache _slabWalk;
        private SimpleCache.Model.Mm.SlabCache _modelWalk;
        private Node64[] _gcKeep;

        // 200,000 objects, a random half freed in random order, then 100,000 allocated and linked
        // in allocation order: the list the walk follows. The objects freed last are reused first.
        internal static void* BuildListFor<T>(T a, int seed) where T : struct, IAllocator => BuildList(a, seed);

        private static void* BuildList<T>(T a, int seed) where T : struct, IAllocator
        {
            var all = new nint[2 * Walk];
            for (int i = 0; i < all.Length; i++)
                all[i] = (nint)a.Alloc();
            new Random(seed).Shuffle(all);
            for (int i = 0; i < Walk; i++)
                a.Free((void*)all[i]);
            void* head = null;
            for (int i = 0; i < Walk; i++)
            {
                var node = (long*)a.Alloc();
                node[0] = (long)head;
                node[1] = i;
                head = node;
            }
            return head;
        }

        private void SetupWalks()
        {
            _bareWalk = new BareFreelist(2 * Walk);
            _walkBare = BuildList(new Bare(_bareWalk), 1);
            _slabWalk = new SimpleCache.Slab.SlabCache("walk", 64);
            _walkSlab = BuildList(new Slab(_slabWalk), 1);
            _modelWalk = _kernel.Slab.Create("walk", 64, 0, CacheFlags.None, 0);
            _walkModel = BuildList(new Model(_modelWalk), 1);
            _walkMalloc = BuildList(new Malloc(), 1);
            var all = new Node64[2 * Walk];
            for (int i = 0; i < all.Length; i++)
                all[i] = new Node64();
            new Random(1).Shuffle(all);
            Array.Clear(all, 0, Walk);
            _gcKeep = all;
            Node64 head = null;
            for (int i = 0; i < Walk; i++)
                head = new Node64 { Next = head, A = i };
            _walkGc = head;
            GC.Collect();   // the churn's garbage goes, the survivors are compacted as the GC would
        }

        internal static long WalkList(void* head)
        {
            long sum = 0;
            for (var node = (long*)head; node != null; node = (long*)node[0])
                sum += node[1];
            return sum;
        }

        [Benchmark(Baseline = true, OperationsPerInvoke = Walk), BenchmarkCategory("e")] public long E_Bare() => WalkList(_walkBare);
        [Benchmark(OperationsPerInvoke = Walk), BenchmarkCategory("e")] public long E_Slab() => WalkList(_walkSlab);
        [Benchmark(OperationsPerInvoke = Walk), BenchmarkCategory("e")] public long E_Model() => WalkList(_walkModel);
        [Benchmark(OperationsPerInvoke = Walk), BenchmarkCategory("e")] public long E_Malloc() => WalkList(_walkMalloc);

        [Benchmark(OperationsPerInvoke = Walk), BenchmarkCategory("e")]
        public long E_GcNew()
        {
            long sum = 0;
            for (Node64 node = _walkGc; node != null; node = node.Next)
                sum += node.A;
            return sum;
        }
    }
}
