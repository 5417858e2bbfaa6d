// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The page allocator and SLUB's invariants, including property tests: random sequences of
// alloc, free and shrink over several caches and threads.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using SimpleCache.Model.Mm;
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
            SlabCache s = k.Slab.Create("shuffled", 64, 0, CacheFlags.ConsistencyChecks, 0);   // no sheaves: slab order shows
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
            using var k = K.Boot(memoryMiB: 4);
            SlabCache s = k.Slab.Create("big", 4000, 0, CacheFlags.None, 0);
            int n = 0;
            while (s.Alloc() != null)
                n++;
            Assert.InRange(n, 900, 1024);
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
            using var k = K.Boot(slubDebug: "F");   // no sheaves: frees reach the slabs at once
            SlabCache s = k.Slab.Create("partial", 1024, 0, CacheFlags.None, 0);
            var objects = Enumerable.Range(0, 400).Select(_ => (nint)s.Alloc()).ToList();
            foreach (nint o in objects)
                s.Free((void*)o);
            // __slab_free() discards an emptied slab while nr_partial, which counts that slab
            // itself, is at least min_partial: min_partial - 1 empty slabs stay.
            Assert.Equal(s.Layout.MinPartial - 1, (uint)s.GetSlabInfo().NumSlabs);
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

        /// <summary>
        /// Property: for random sequences of alloc, free and shrink over several caches and
        /// threads, no object is handed out twice, objects never overlap, every free object of
        /// a constructed cache was constructed, counts add up, and destroying the emptied caches
        /// returns every page.
        /// </summary>
        [Theory]
        [InlineData(1, null)]
        [InlineData(2, null)]
        [InlineData(3, "FZPU")]
        [InlineData(4, null)]
        [InlineData(5, "P")]
        public void RandomWorkloadsKeepTheInvariants(int seed, string slubDebug)
        {
            using var k = K.Boot(cpus: 4, slubDebug: slubDebug, memoryMiB: 64);
            long freeAtStart = k.Pages.NrFreePages;
            var caches = new[]
            {
                k.Slab.Create("p8", 8, 0, CacheFlags.None, 0),
                k.Slab.Create("p64c", 64, 0, CacheFlags.HwcacheAlign, (nint)(delegate* unmanaged<void*, void>)&CountingCtor),
                k.Slab.Create("p200", 200, 0, CacheFlags.None, 0),
                k.Slab.Create("p3000", 3000, 0, CacheFlags.None, 0),
            };
            var live = new System.Collections.Concurrent.ConcurrentDictionary<nint, SlabCache>();
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();

            Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
            {
                var rng = new Random(seed * 100 + t);
                var mine = new List<(nint Ptr, SlabCache Cache)>();
                for (int step = 0; step < 4000; step++)
                {
                    int op = rng.Next(10);
                    if (op < 6 || mine.Count == 0)
                    {
                        SlabCache c = caches[rng.Next(caches.Length)];
                        byte* p = (byte*)c.Alloc();
                        if (p == null) { failures.Enqueue("allocation failed"); continue; }
                        if (c.HasCtor && *(long*)p != CtorMark) failures.Enqueue("object not in constructed state");
                        if (!live.TryAdd((nint)p, c)) failures.Enqueue($"object 0x{(ulong)p:x} handed out twice");
                        new Span<byte>(p, (int)c.Layout.ObjectSize).Fill((byte)t);
                        mine.Add(((nint)p, c));
                    }
                    else if (op < 9)
                    {
                        int i = rng.Next(mine.Count);
                        var (ptr, c) = mine[i];
                        mine.RemoveAt(i);
                        var span = new Span<byte>((void*)ptr, (int)c.Layout.ObjectSize);
                        if (span.IndexOfAnyExcept((byte)t) >= 0) failures.Enqueue("object overwritten while allocated");
                        if (c.HasCtor) *(long*)ptr = CtorMark;   // back to constructed state
                        live.TryRemove(ptr, out _);
                        c.Free((void*)ptr);
                    }
                    else
                        caches[rng.Next(caches.Length)].Shrink();
                }
                foreach (var (ptr, c) in mine)
                {
                    if (c.HasCtor) *(long*)ptr = CtorMark;
                    live.TryRemove(ptr, out _);
                    c.Free((void*)ptr);
                }
            });

            Assert.Empty(failures);
            Assert.Empty(live);
            foreach (SlabCache c in caches)
            {
                Assert.Equal(0, c.ObjectsInUse());
                if (slubDebug != null)
                {
                    c.Validate();
                }
                k.Slab.Destroy(c, "test");
                Assert.False(c.Leaked);
            }
            Assert.Equal(0, k.Slab.Errors);
            Assert.Equal(freeAtStart, k.Pages.NrFreePages);
            Assert.DoesNotContain(K.AllLines(k), l => l.Contains("BUG") || l.Contains("WARNING"));
        }

        private const long CtorMark = 0x0c0ffee0c0ffee;

        [UnmanagedCallersOnly]
        private static void CountingCtor(void* obj) => *(long*)obj = CtorMark;

        [Fact]
        public void TheConstructorRunsExactlyOncePerObjectPerSlabPopulation()
        {
            using var k = K.Boot(cpus: 2);
            Interlocked.Exchange(ref s_ctorCalls, 0);
            SlabCache s = k.Slab.Create("once", 64, 0, CacheFlags.None, (nint)(delegate* unmanaged<void*, void>)&CountCalls);
            var objects = Enumerable.Range(0, 3000).Select(_ => (nint)s.Alloc()).ToList();
            long slabsMade = s.GetStat(SlubStat.AllocSlab);
            Assert.Equal(slabsMade * s.Layout.ObjectsPerSlab, Interlocked.Read(ref s_ctorCalls));
            foreach (nint o in objects)
                s.Free((void*)o);
            for (int i = 0; i < 3000; i++)
                s.Free(s.Alloc());   // reuse: no new constructor calls unless new slabs are made
            Assert.Equal(s.GetStat(SlubStat.AllocSlab) * s.Layout.ObjectsPerSlab, Interlocked.Read(ref s_ctorCalls));
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
            Assert.True(s.GetStat(SlubStat.AllocFastpath) > 9900);
            Assert.True(s.GetStat(SlubStat.FreeFastpath) > 9900);
        }
    }
}
