// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The page allocator and SLUB's invariants, including property tests: random sequences of
// alloc, free and shrink over several caches and threads.

extern alias slablib;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using SimpleCache.Model.Mm;
using SlubStat = slablib::SimpleCache.Slab.SlubStat;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public unsafe class AllocatorTests
    {
        [Fact]
        public void BuddiesSplitAlignAndMergeBack()
        {
            using var pages = new PageAllocator(4096);
            long total = pages.NrFreePages;
            byte* a = pages.AllocPages(0);
            byte* b = pages.AllocPages(3);
            byte* c = pages.AllocPages(10);
            Assert.True(a != null && b != null && c != null);
            Assert.Equal(0, ((long)(b - pages.Base) >> 12) % 8);
            Assert.Equal(0, ((long)(c - pages.Base) >> 12) % 1024);
            Assert.Equal(total - 1 - 8 - 1024, pages.NrFreePages);
            pages.FreePages(a, 0);
            pages.FreePages(b, 3);
            pages.FreePages(c, 10);
            Assert.Equal(total, pages.NrFreePages);
            // Everything merged back: all max-order blocks can be had again.
            var blocks = new List<nint>();
            byte* p;
            while ((p = pages.AllocPages(10)) != null)
                blocks.Add((nint)p);
            Assert.Equal(4, blocks.Count);
            Assert.True(pages.AllocPages(0) == null);
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void FreelistRandomShufflesANewSlabsObjects(bool random)
        {
            using var k = new ModelKernel(new KernelOptions { Cpus = 1, MemoryMiB = 16, FreelistRandom = random, RandomSeed = 7 }).Enter();
            SlabCache s = k.Slab.Create("shuffled", 64, 0, CacheFlags.ConsistencyChecks, 0);   // a debug cache: no CPU freelist, slab order shows
            var addresses = Enumerable.Range(0, 64).Select(_ => (long)s.Alloc()).ToList();
            Assert.Equal(64, addresses.Distinct().Count());
            Assert.Equal(63 * 64, addresses.Max() - addresses.Min());   // one whole slab
            bool ascending = addresses.Zip(addresses.Skip(1)).All(p => p.Second == p.First + 64);
            Assert.Equal(!random, ascending);
        }

        [Fact]
        public void VirtToSlabIsAPageLookup()
        {
            using var k = K.Boot();
            SlabCache s = k.Slab.Create("lookup", 700, 0, CacheFlags.None, 0);
            byte* p = (byte*)s.Alloc();
            Slab slab = k.Pages.SlabOf(p);
            Assert.Same(s, slab.Cache);
            Assert.Same(slab, k.Pages.SlabOf(p + 699));
            Assert.Null(k.Pages.SlabOf(k.Pages.Base - 1));
        }

        [Fact]
        public void AllocationFailsCleanlyWhenMemoryRunsOut()
        {
            // 4000-byte objects with 2 CPUs: calculate_order() wants min_objects 4 * (fls(2) + 1)
            // = 12, but order 3 (slub_max_order) holds only 32768 / 4000 = 8, so order-3 slabs of
            // 8 objects (the VM's slab_matrix shows order 3, 8 per slab for size 4000). Every free
            // page goes to a slab: the count is 8 objects per 8 free pages, exactly.
            using var k = K.Boot(memoryMiB: 4);
            SlabCache s = k.Slab.Create("big", 4000, 0, CacheFlags.None, 0);
            long freePages = k.Pages.NrFreePages;
            int n = 0;
            while (s.Alloc() != null)
                n++;
            Assert.Equal(freePages / 8 * 8, n);
            Assert.Equal(0, s.AllocBulk(4, (void**)NativeMemory.Alloc(32)));
        }

        [Fact]
        public void BulkAllocationIsAllOrNothing()
        {
            using var k = K.Boot(memoryMiB: 4);
            SlabCache s = k.Slab.Create("bulk", 2048, 0, CacheFlags.None, 0);
            void** p = (void**)NativeMemory.Alloc(8 * 4096);
            Assert.Equal(16, s.AllocBulk(16, p));
            Assert.Equal(16, s.ObjectsInUse());
            s.FreeBulk(16, p);
            Assert.Equal(0, s.ObjectsInUse());
            Assert.Equal(0, s.AllocBulk(4096, p));   // more than 4 MiB: nothing is kept
            Assert.Equal(0, s.ObjectsInUse());
            NativeMemory.Free(p);
        }

        [Fact]
        public void ShrinkReleasesEmptySlabsAndDestroyReturnsEveryPage()
        {
            using var k = K.Boot();
            long free = k.Pages.NrFreePages;
            SlabCache s = k.Slab.Create("shrinkme", 256, 0, CacheFlags.None, 0);
            var objects = Enumerable.Range(0, 1000).Select(_ => (nint)s.Alloc()).ToList();
            foreach (nint o in objects)
                s.Free((void*)o);
            Assert.True(k.Pages.NrFreePages < free);
            Assert.Equal(0, s.Shrink());
            Assert.Equal(0, s.GetSlabInfo().NumSlabs);
            Assert.Equal(free, k.Pages.NrFreePages);
            k.Slab.Destroy(s, "test");
            Assert.Null(k.Slab.Find("shrinkme"));
        }

        [Fact]
        public void EmptySlabsBeyondMinPartialAreReleasedOnFree()
        {
            using var k = K.Boot(slubDebug: "F");   // a debug cache: no CPU slab, frees reach the node list at once (free_to_partial_list)
            SlabCache s = k.Slab.Create("partial", 1024, 0, CacheFlags.None, 0);
            var objects = Enumerable.Range(0, 400).Select(_ => (nint)s.Alloc()).ToList();
            foreach (nint o in objects)
                s.Free((void*)o);
            // __slab_free() discards an emptied slab while nr_partial, which counts that slab
            // itself, is at least min_partial: min_partial - 1 empty slabs stay.
            // min_partial = ilog2(1024) / 2 = 5 (within MIN_PARTIAL 5 and MAX_PARTIAL 10): 4.
            Assert.Equal(4, s.GetSlabInfo().NumSlabs);
        }

        [Fact]
        public void FailslabFailNthAndProbability()
        {
            using var k = K.Boot();
            SlabCache s = k.Slab.Create("fs", 64, 0, CacheFlags.None, 0);
            k.Slab.Failslab.FailNth = 3;
            Assert.True(s.Alloc() != null);
            Assert.True(s.Alloc() != null);
            Assert.True(s.Alloc() == null);
            Assert.True(s.Alloc() != null);
            Assert.Contains("FAULT_INJECTION: forcing a failure.", K.AllLines(k));

            // probability 100, times 2: GFP_KERNEL is spared (ignore-gfp-wait), atomic fails twice.
            k.Slab.Failslab.Probability = 100;
            k.Slab.Failslab.Times = 2;
            Assert.True(s.Alloc(mayWait: true) != null);
            Assert.True(s.Alloc(mayWait: false) == null);
            Assert.True(s.Alloc(mayWait: false) == null);
            Assert.True(s.Alloc(mayWait: false) != null);

            // interval 3: only every third eligible call may fail.
            k.Slab.Failslab.Times = -1;
            k.Slab.Failslab.Interval = 3;
            var results = Enumerable.Range(0, 6).Select(_ => s.Alloc(mayWait: false) == null).ToArray();
            Assert.Equal(new[] { false, false, true, false, false, true }, results);

            // cache-filter: only caches marked for failslab fail.
            k.Slab.Failslab.Interval = 1;
            k.Slab.Failslab.CacheFilter = true;
            Assert.True(s.Alloc(mayWait: false) != null);
            Assert.Equal(0, k.Fs.Write("/sys/kernel/slab/fs/failslab", "1"));
            Assert.True(s.Alloc(mayWait: false) == null);
        }

        [Fact]
        public void TheConstructorRunsExactlyOncePerObjectPerSlabPopulation()
        {
            using var k = K.Boot(cpus: 2);
            Interlocked.Exchange(ref s_ctorCalls, 0);
            SlabCache s = k.Slab.Create("once", 64, 0, CacheFlags.None, (nint)(delegate* unmanaged<void*, void>)&CountCalls);
            var objects = Enumerable.Range(0, 3000).Select(_ => (nint)s.Alloc()).ToList();
            long slabsMade = s.GetStat(SlubStat.AllocSlab);
            Assert.Equal(54, slabsMade);   // ceil(3000 / 56)
            // With a constructor the free pointer moves out of the object: 72-byte slots, 56 per
            // order-0 slab, as the VM shows for slab_matrix.c's kcsm_s64_a0_f0_c1 (GEOM ... 64 72 56 0 8).
            Assert.Equal(slabsMade * 56, Interlocked.Read(ref s_ctorCalls));
            foreach (nint o in objects)
                s.Free((void*)o);
            for (int i = 0; i < 3000; i++)
                s.Free(s.Alloc());   // reuse: no new constructor calls unless new slabs are made
            Assert.Equal(s.GetStat(SlubStat.AllocSlab) * 56, Interlocked.Read(ref s_ctorCalls));
            Assert.Equal(Interlocked.Read(ref s_ctorCalls), s.ConstructorCalls);   // the count the tour shows
        }

        private static long s_ctorCalls;

        [UnmanagedCallersOnly]
        private static void CountCalls(void* obj) => Interlocked.Increment(ref s_ctorCalls);

        [Fact]
        public void TheFastPathServesMostAllocations()
        {
            using var k = K.Boot(cpus: 1);
            SlabCache s = k.Slab.Create("fast", 64, 0, CacheFlags.None, 0);
            for (int i = 0; i < 10000; i++)
                s.Free(s.Alloc());
            // The first allocation makes the CPU slab (slow path); every free goes back to it
            // and every later allocation comes from its freelist.
            Assert.Equal((9999L, 1L, 10000L, 0L, 1L), (s.GetStat(SlubStat.AllocFastpath), s.GetStat(SlubStat.AllocSlowpath),
                s.GetStat(SlubStat.FreeFastpath), s.GetStat(SlubStat.FreeSlowpath), s.GetStat(SlubStat.AllocSlab)));
        }
    }
}
