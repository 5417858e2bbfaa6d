// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The slab allocator library: layout, reuse, the constructor's once-per-slab contract, frees
// from other threads, threads that end, shrink, bulk calls, the leak report, bad arguments and
// the metrics.

using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Threading;
using SimpleCache.Slab;
using Xunit;

namespace SimpleCache.Slab.Tests
{
    public unsafe class SlabCacheTests
    {
        private struct Obj64
        {
            public long Id;
            public fixed byte Name[32];
            public long Created;
            public long Prev, Next;
        }

        private struct Wide
        {
            public Vector128<long> A;
            public int B;
        }

        [Fact]
        public void ObjectsAreDistinctAlignedAndInsideTheirSlab()
        {
            using var cache = new SlabCache<Obj64>("layout");
            SlabCache u = cache.Untyped;
            Assert.Equal(64, sizeof(Obj64));
            Assert.Equal(64, u.SlotSize);
            // At least 4 * (fls(cpus) + 1) objects with at most 1/16 wasted, from order 4 (64 KiB,
            // the library's slub_min_order): 65536 / 64 = 1024 objects, the slab's whole memory
            // (its header is elsewhere, as struct slab is).
            Assert.Equal(4, u.Order);
            Assert.Equal(65536, u.SlabBytes);
            Assert.Equal(1024, u.ObjectsPerSlab);
            var seen = new HashSet<nint>();
            var objects = new List<nint>();
            for (int i = 0; i < 1000; i++)
            {
                Obj64* o = cache.Alloc();
                Assert.True(o != null);
                Assert.True(seen.Add((nint)o), $"object {i} at 0x{(nint)o:x} handed out twice");
                Assert.Equal(0, (nint)o % 8);
                long offset = (nint)o & (u.SlabBytes - 1);
                Assert.True(offset % 64 == 0 && offset / 64 < u.ObjectsPerSlab, $"offset {offset} in its slab");
                objects.Add((nint)o);
            }
            Assert.Equal(1, u.Slabs);   // ceil(1000 / 1024)
            foreach (nint o in objects)
                cache.Free((Obj64*)o);
        }

        [Fact]
        public void AStructIsAlignedAsItNeeds()
        {
            using var cache = new SlabCache<Wide>("wide");
            Assert.Equal(16, cache.Untyped.Align);
            Assert.Equal(32, cache.Untyped.SlotSize);
            var objects = Enumerable.Range(0, 300).Select(_ => (nint)cache.Alloc()).ToList();
            Assert.All(objects, o => Assert.Equal(0, o % 16));
            foreach (nint o in objects)
                cache.Free((Wide*)o);
        }

        [Fact]
        public void AFreedObjectIsTheNextOneHandedOut()
        {
            using var cache = new SlabCache<Obj64>("reuse");
            Obj64* a = cache.Alloc();
            Obj64* b = cache.Alloc();
            cache.Free(a);
            // LIFO within the thread's slab: the object still warm in the CPU's cache comes back.
            Obj64* c = cache.Alloc();
            Obj64* d = cache.Alloc();
            Assert.True(c == a);
            cache.Free(b);
            cache.Free(c);
            cache.Free(d);
        }

        [Fact]
        public void APartlyUsedSlabHandsOutItsFreeObjectsInAddressOrder()
        {
            using var cache = new SlabCache<Obj64>("ordered");
            int perSlab = cache.Untyped.ObjectsPerSlab;
            var first = Enumerable.Range(0, perSlab).Select(_ => (nint)cache.Alloc()).ToList();   // one whole slab
            var second = Enumerable.Range(0, perSlab).Select(_ => (nint)cache.Alloc()).ToList();  // the active one now
            // Free a random half of the first slab, in random order.
            var freed = first.OrderBy(o => o.GetHashCode() * 7919 % 1009).Take(128).ToList();
            foreach (nint o in freed)
                cache.Free((Obj64*)o);
            foreach (nint o in second)
                cache.Free((Obj64*)o);
            // The second slab is active: its own objects come first (LIFO), then the first slab's,
            // in address order rather than in the order they were freed.
            var again = Enumerable.Range(0, perSlab + 128).Select(_ => (nint)cache.Alloc()).ToList();
            List<nint> fromFirst = again.Skip(perSlab).ToList();
            Assert.Equal(freed.OrderBy(o => o), fromFirst);
            foreach (nint o in again.Concat(first.Except(freed)))
                cache.Free((Obj64*)o);
        }

        [Fact]
        public void TheConstructorRunsOncePerObjectPerSlabAndReuseKeepsItsState()
        {
            int calls = 0;
            using var cache = new SlabCache<Obj64>("ctor", (ref Obj64 o) => { o.Id = -1; o.Created = 42; calls++; });
            SlabCache u = cache.Untyped;
            // A constructor's state must survive while the object is free: the free pointer moves
            // after the object, and the slot grows by a pointer.
            Assert.Equal(72, u.SlotSize);
            var objects = Enumerable.Range(0, 600).Select(_ => (nint)cache.Alloc()).ToList();
            Assert.All(objects, o => Assert.Equal(-1, ((Obj64*)o)->Id));
            Assert.Equal(u.SlabsMade * u.ObjectsPerSlab, calls);
            Assert.Equal(calls, u.ConstructorCalls);
            foreach (nint o in objects)
                cache.Free((Obj64*)o);
            for (int round = 0; round < 10; round++)
            {
                var again = Enumerable.Range(0, 600).Select(_ => (nint)cache.Alloc()).ToList();
                Assert.All(again, o => Assert.Equal(42, ((Obj64*)o)->Created));   // constructed, and never overwritten by the free pointer
                foreach (nint o in again)
                    cache.Free((Obj64*)o);
            }
            Assert.Equal(u.SlabsMade * u.ObjectsPerSlab, calls);   // reuse ran no constructor
        }

        [Fact]
        public void ObjectsFreedByAnotherThreadComeBack()
        {
            var cache = new SlabCache<Obj64>("remote", options: new SlabCacheOptions { MinSlabOrder = 2, CpuPartial = 120 });   // 16 KiB slabs and the kernel's cpu_partial: the figures below
            SlabCache u = cache.Untyped;
            var objects = Enumerable.Range(0, 2000).Select(_ => (nint)cache.Alloc()).ToList();
            long slabs = u.Slabs;
            TestThreads.RunAndForget(() =>
            {
                foreach (nint o in objects)
                    cache.Free((Obj64*)o);
            });
            // __slab_free() for the first free to each of the 7 full slabs (each then goes on the
            // freeing thread's partial list, where its other frees are that thread's own), and for
            // every free to this thread's slab (frozen: they wait on its freelist).
            Assert.Equal(7 + (2000 - 7 * 256), u.RemoteFrees);
            // The freeing thread ended, its slabs went to the cache's list, and the allocating
            // thread gets them back: no new slab is needed.
            var again = new HashSet<nint>(Enumerable.Range(0, 2000).Select(_ => (nint)cache.Alloc()));
            Assert.Equal(2000, again.Count);
            Assert.Equal(slabs, u.Slabs);
            // The active slab's 48 objects never handed out come first, then the freed ones.
            Assert.Equal(2000 - (256 - 2000 % 256), again.Intersect(objects).Count());
            foreach (nint o in again)
                cache.Free((Obj64*)o);
            Assert.Equal(0, cache.Destroy().Leaked);
        }

        [Fact]
        public void TheSlabsOfAnEndedThreadGoToOthersAndNothingLeaks()
        {
            var cache = new SlabCache<Obj64>("ended", options: new SlabCacheOptions { MinSlabOrder = 2, CpuPartial = 120 });   // 16 KiB slabs and the kernel's cpu_partial: the figures below
            SlabCache u = cache.Untyped;
            List<nint> kept = null;
            TestThreads.RunAndForget(() =>
            {
                var objects = Enumerable.Range(0, 1000).Select(_ => (nint)cache.Alloc()).ToList();
                for (int i = 0; i < 500; i++)
                    cache.Free((Obj64*)objects[i]);
                kept = objects.Skip(500).ToList();
            });
            long slabs = u.Slabs;
            // The ended thread's slab (232 objects in use) and its two partial slabs (the first
            // one emptied, the second with 12 in use) are on the cache's list; its full slab is on
            // no list, as in SLUB.
            Assert.Equal(3, u.PartialSlabs);
            // This thread frees the ended thread's objects and allocates: it takes the slabs from
            // the cache's list, and the full one, which its first free put on this thread's
            // partial list, so no new one is made.
            foreach (nint o in kept)
                cache.Free((Obj64*)o);
            var mine = Enumerable.Range(0, 1000).Select(_ => (nint)cache.Alloc()).ToList();
            Assert.Equal(slabs, u.Slabs);
            foreach (nint o in mine)
                cache.Free((Obj64*)o);
            LeakReport report = cache.Destroy();
            Assert.Equal(0, report.Leaked);
        }

        // Arena.cs: a thread's new slabs are not cut right after another thread's. Two threads
        // on neighbouring slabs slow each other (pattern (d) of docs/performance.md); the slab
        // left out between them is address space only, and Bytes does not count it.
        [Fact]
        public void TwoThreadsNewSlabsAreNeverNeighbours()
        {
            using var cache = new SlabCache<Obj64>("apart");
            SlabCache u = cache.Untyped;
            var objects = new List<nint>[4];
            var threads = new Thread[objects.Length];
            using var end = new ManualResetEventSlim();
            for (int t = 0; t < objects.Length; t++)   // four threads one after another, three slabs each
            {
                int i = t;
                using var allocated = new ManualResetEventSlim();
                // Each thread lives on until the end: an ended thread's slabs go to the pool, and
                // the next thread would take them over before cutting its own.
                threads[t] = new Thread(() =>
                {
                    objects[i] = Enumerable.Range(0, 3 * u.ObjectsPerSlab).Select(_ => (nint)cache.Alloc()).ToList();
                    allocated.Set();
                    end.Wait();
                });
                threads[t].Start();
                allocated.Wait();
            }
            try
            {
                var owner = new Dictionary<nint, int>();
                for (int t = 0; t < objects.Length; t++)
                    foreach (nint o in objects[t])
                        Assert.Equal(t, owner.TryAdd(o & ~(nint)(u.SlabBytes - 1), t) ? t : owner[o & ~(nint)(u.SlabBytes - 1)]);
                Assert.Equal(12, owner.Count);
                foreach (var (slab, t) in owner)
                    if (owner.TryGetValue(slab + u.SlabBytes, out int next))
                        Assert.Equal(t, next);   // a neighbour is the same thread's
                // And no more room than that: each thread's three slabs side by side, one slab of
                // address space between one thread's and the next's, never two.
                var bySlab = owner.OrderBy(x => x.Key).ToList();
                for (int k = 1; k < bySlab.Count; k++)
                    Assert.Equal(bySlab[k].Value == bySlab[k - 1].Value ? u.SlabBytes : 2L * u.SlabBytes, (long)(bySlab[k].Key - bySlab[k - 1].Key));
                Assert.Equal(12L * u.SlabBytes + SlabCache.PageSize, u.Bytes);   // 12 slabs and a page of headers; the 3 gaps untouched
            }
            finally
            {
                foreach (List<nint> list in objects)
                    foreach (nint o in list)
                        cache.Free((Obj64*)o);
                end.Set();
                foreach (Thread t in threads)
                    t.Join();
            }
        }

        [Fact]
        public void ShrinkGivesEmptySlabsBack()
        {
            using var cache = new SlabCache<Obj64>("shrink", options: new SlabCacheOptions { MinSlabOrder = 2, CpuPartial = 120 });   // 16 KiB slabs and the kernel's cpu_partial: the figures below
            SlabCache u = cache.Untyped;
            var objects = Enumerable.Range(0, u.ObjectsPerSlab * 20).Select(_ => (nint)cache.Alloc()).ToList();
            Assert.Equal(20, u.Slabs);
            foreach (nint o in objects)
                cache.Free((Obj64*)o);
            // Kept: the thread's slab, its partial slab (cpu_partial_slabs is 1), and min_partial
            // (5) empty ones on the cache's list; the other 13 went back to their arena.
            Assert.Equal(1 + 1 + 5, u.Slabs);
            Assert.Equal(5, u.PartialSlabs);
            // The 20 slabs came from one arena (4 MiB: 255 of them after the slab of their
            // headers), which keeps the 13 for reuse: it has touched 20 slabs and one page of headers.
            Assert.Equal(20L * u.SlabBytes + SlabCache.PageSize, u.Bytes);
            int released = cache.Shrink();
            Assert.Equal(7, released);   // the thread's two, flushed, and the list's five
            Assert.Equal(0, u.Slabs);
            Assert.Equal(0, u.Bytes);    // no slab of the arena in use: back to the system
            var again = Enumerable.Range(0, u.ObjectsPerSlab * 20).Select(_ => (nint)cache.Alloc()).ToList();
            Assert.Equal(40, u.SlabsMade);
            foreach (nint o in again)
                cache.Free((Obj64*)o);
        }

        [Theory]
        [InlineData(8)]
        [InlineData(24)]
        [InlineData(64)]
        [InlineData(192)]
        [InlineData(1000)]
        [InlineData(5000)]
        public void ASlabHoldsTheObjectsSlubsGeometryGivesFromItsFirstByte(int size)
        {
            // From order 0, as the kernel's caches start: the library's slabs are SLUB's.
            using var cache = new SlabCache("geometry", size, new SlabCacheOptions { MinSlabOrder = 0 });
            SlubLayout l = SlubGeometry.Calculate(SlubVersion.V6_12, (uint)size, 8, SlubFlags.None, false, Environment.ProcessorCount).Value;
            Assert.Equal(l.Order, cache.Order);
            Assert.Equal((int)l.Size, cache.SlotSize);
            Assert.Equal((int)l.ObjectsPerSlab, cache.ObjectsPerSlab);
            if (size == 64)
            {
                // kmalloc-64 in /proc/slabinfo: 64 objects per slab, 1 page per slab.
                Assert.Equal(0, cache.Order);
                Assert.Equal(64, cache.ObjectsPerSlab);
            }
            // One slab's worth: the slots of one slab, from its first byte, a slot apart.
            var objects = Enumerable.Range(0, cache.ObjectsPerSlab).Select(_ => (nint)cache.Alloc()).Order().ToList();
            Assert.Equal(1, cache.Slabs);
            nint slab = objects[0] & ~(nint)(cache.SlabBytes - 1);
            for (int i = 0; i < objects.Count; i++)
                Assert.Equal(slab + (nint)i * cache.SlotSize, objects[i]);
            void* next = cache.Alloc();
            Assert.Equal(2, cache.Slabs);
            cache.Free(next);
            foreach (nint o in objects)
                cache.Free((void*)o);
        }

        [Fact]
        public void EmptySlabsBeyondMinPartialGoBackToTheirArenaConstructed()
        {
            int built = 0;
            using var cache = new SlabCache<Obj64>("min-partial", options: new SlabCacheOptions
            {
                MinPartial = 2,
                Constructor = _ => Interlocked.Increment(ref built),
            });
            SlabCache u = cache.Untyped;
            int perSlab = u.ObjectsPerSlab;
            var objects = Enumerable.Range(0, perSlab * 10).Select(_ => (nint)cache.Alloc()).ToList();
            Assert.Equal(10, u.Slabs);
            foreach (nint o in objects)
                cache.Free((Obj64*)o);
            // The thread's slab and its partial slab, min_partial empty ones on the cache's list:
            // the other 6 went back to the arena (discard_slab()).
            Assert.Equal(1 + 1 + 2, u.Slabs);
            Assert.Equal(2, u.PartialSlabs);
            Assert.Equal(10L * u.SlabBytes + SlabCache.PageSize, u.Bytes);   // and a page of headers
            // Allocating as many again takes the arena's slabs as they were: no slab made, no
            // constructor run, and the same addresses.
            var again = Enumerable.Range(0, perSlab * 10).Select(_ => (nint)cache.Alloc()).ToList();
            Assert.Equal(10, u.SlabsMade);
            Assert.Equal(10 * perSlab, built);
            Assert.Equal(objects.ToHashSet(), again.ToHashSet());
            foreach (nint o in again)
                cache.Free((Obj64*)o);
        }

        [Fact]
        public void ShrinkGivesAnArenaNoSlabUsesBackToTheSystem()
        {
            using var cache = new SlabCache<Obj64>("arenas", options: new SlabCacheOptions { MinPartial = 0 });
            SlabCache u = cache.Untyped;
            // 300 slabs: two arenas (255 slabs each, after their headers' slab); the full one has
            // touched 256 headers (four pages), the other 46 (one page). Then every object is
            // freed by a thread that ends.
            var objects = new List<nint>();
            TestThreads.RunAndForget(() => objects.AddRange(Enumerable.Range(0, u.ObjectsPerSlab * 300).Select(_ => (nint)cache.Alloc())));
            Assert.Equal(300L * u.SlabBytes + 5 * SlabCache.PageSize, u.Bytes);
            TestThreads.RunAndForget(() =>
            {
                foreach (nint o in objects)
                    cache.Free((Obj64*)o);
            });
            // Each slab, emptied, went back to its arena (min_partial 0), where they wait for reuse.
            Assert.Equal((0L, 0), (u.Slabs, u.PartialSlabs));
            Assert.Equal(300L * u.SlabBytes + 5 * SlabCache.PageSize, u.Bytes);
            Assert.Equal(0, cache.Shrink());   // none on a list
            Assert.Equal(0, u.Bytes);          // the arenas, which no slab uses, back to the system
        }

        [Fact]
        public void BulkCallsFillAndEmptyASpan()
        {
            using var cache = new SlabCache<Obj64>("bulk");
            Span<nint> objects = new nint[1000];
            Assert.Equal(1000, cache.AllocBulk(objects));
            Assert.Equal(1000, new HashSet<nint>(objects.ToArray()).Count);
            cache.FreeBulk(objects);
            Assert.Equal(0, cache.Destroy().Leaked);
        }

        [Fact]
        public void DestroyReportsEveryObjectNeverFreed()
        {
            var cache = new SlabCache<Obj64>("leaky");
            Obj64* a = cache.Alloc(), b = cache.Alloc(), c = cache.Alloc();
            cache.Free(b);
            LeakReport report = cache.Destroy();
            Assert.Equal(2, report.Leaked);
            Assert.Equal(new[] { (nint)a, (nint)c }.OrderBy(x => x), report.Objects.OrderBy(x => x));
            Assert.StartsWith("leaky: 2 objects remaining on destroy: 0x", report.ToString());
            // The leaked objects stay valid (the cache keeps its memory, as the kernel leaks such a cache).
            a->Id = 1;
            c->Id = 2;
            Assert.Throws<ObjectDisposedException>(() => { cache.Alloc(); });
        }

        [Fact]
        public void DisposeWithALeakThrowsWithTheReport()
        {
            var cache = new SlabCache<Obj64>("dispose_leak");
            cache.Alloc();
            var e = Assert.Throws<InvalidOperationException>(() => cache.Dispose());
            Assert.StartsWith("dispose_leak: 1 object remaining on destroy", e.Message);
        }

        [Theory]
        [InlineData(0, 8)]
        [InlineData(-1, 8)]
        [InlineData(64, 3)]
        [InlineData(64, 0)]
        [InlineData(64, 8192)]
        public void BadSizesAndAlignmentsAreRefused(int size, int align) =>
            Assert.Throws<ArgumentOutOfRangeException>(() => new SlabCache("bad", size, new SlabCacheOptions { Align = align }));

        [Fact]
        public void AnObjectLargerThanTheLargestSlabIsRefused() =>
            Assert.Throws<ArgumentOutOfRangeException>(() => new SlabCache("huge", (4 << 20) + 1, null));

        [Fact]
        public void AnObjectAsLargeAsTheLargestSlabFillsIt()
        {
            using var cache = new SlabCache("largest", 4 << 20, null);   // SLUB, too, takes it: one object in an order-10 slab
            Assert.Equal(10, cache.Order);
            Assert.Equal(1, cache.ObjectsPerSlab);
            byte* p = (byte*)cache.Alloc();
            Assert.True(p != null);
            p[0] = 1;
            p[(4 << 20) - 1] = 2;
            cache.Free(p);
        }

        [Fact]
        public void LargeObjectsGetOneOrAFewPerSlab()
        {
            using var cache = new SlabCache("large", 100_000, null);
            Assert.Equal(5, cache.Order);   // 131072 bytes: one object (SLUB also picks order 5 for 100000)
            Assert.Equal(1, cache.ObjectsPerSlab);
            void* p = cache.Alloc();
            Assert.True(p != null);
            new Span<byte>(p, 100_000).Fill(1);
            cache.Free(p);
        }

        [Fact]
        public void TheMeterReportsEachCachesFigures()
        {
            using var cache = new SlabCache<Obj64>("metered", options: new SlabCacheOptions { MinSlabOrder = 2 });   // 256 a slab
            var objects = Enumerable.Range(0, 300).Select(_ => (nint)cache.Alloc()).ToList();
            var seen = new Dictionary<string, long>();
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "SimpleCache.Slab")
                    l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) =>
            {
                foreach (var tag in tags)
                    if (tag.Key == "cache" && (string)tag.Value == "metered")
                        seen[instrument.Name] = value;
            });
            listener.Start();
            listener.RecordObservableInstruments();
            Assert.Equal(2, seen["simplecache.slab.slabs"]);
            Assert.Equal(2 * 16384 + SlabCache.PageSize, seen["simplecache.slab.bytes"]);   // two slabs and their headers' page
            Assert.Equal(2, seen["simplecache.slab.slabs_made"]);
            foreach (nint o in objects)
                cache.Free((Obj64*)o);
        }
    
        [Fact]
        public void AThreadsHandleSharesTheCachesObjectsAndSlabs()
        {
            var cache = new SlabCache("local", 64);
            SlabLocal local = cache.Local();
            Assert.Same(cache, local.Cache);
            byte* a = (byte*)local.Alloc();
            local.Free(a);
            Assert.Equal((nint)a, (nint)cache.Alloc());      // the same freelist behind both
            cache.Free(a);
            Assert.Equal((nint)a, (nint)local.Alloc());
            // Objects of other slabs, and another thread's, go back through the handle too.
            var many = new List<nint>();
            for (int i = 0; i < 3 * cache.ObjectsPerSlab; i++)
                many.Add((nint)local.Alloc());
            nint other = 0;
            var t = new Thread(() => other = (nint)cache.Alloc());
            t.Start();
            t.Join();
            local.Free((void*)other);
            foreach (nint p in many)
                local.Free((void*)p);
            local.Free(a);
            local.Free(null);
            Assert.Equal(0, cache.Destroy().Leaked);
            Assert.Throws<ObjectDisposedException>(() => { local.Alloc(); });
        }

        [Fact]
        public void ADebugCachesHandleTakesTheDebugPath()
        {
            var reports = new List<SlabDebugReport>();
            var cache = new SlabCache("local_debug", 64, new SlabCacheOptions { Debug = SlabDebugFlags.All, OnReport = reports.Add });
            SlabLocal local = cache.Local();
            void* a = local.Alloc();
            local.Free(a);
            local.Free(a);
            Assert.Equal(SlabProblem.DoubleFree, Assert.Single(reports).Problem);
            var typed = new SlabCache<long>("typed_local").Local();
            long* l = typed.Alloc();
            *l = 5;
            typed.Free(l);
        }
}
}
