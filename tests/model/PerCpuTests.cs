// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The per-CPU layer of 6.1 and 6.12 (mm/slub.c): the CPU slab, the CPU partial list and the node
// partial list, worked through by hand from each version's source. A 128-byte cache without a
// constructor has 32 objects per order-0 slab, cpu_partial 120 (set_cpu_partial(), size < 256)
// and so cpu_partial_slabs = DIV_ROUND_UP(120 * 2, 32) = 8, and min_partial 5. The states these
// tests reach are the ones tests/scenarios/module.txt reaches with simple_cache's 128-byte slots,
// which the VM compares with both real kernels step by step.

extern alias slablib;

using System;
using System.Linq;
using System.Threading;
using SimpleCache.Model.Mm;
using SlubStat = slablib::SimpleCache.Slab.SlubStat;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public unsafe class PerCpuTests
    {
        private static (ModelKernel K, SlabCache S) Boot(KernelVersion version, int cpus = 1)
        {
            ModelKernel k = K.Boot(version, cpus: cpus);
            k.Slab.MigrateTo(0);
            return (k, k.Slab.Create("pc", 128, 0, CacheFlags.None, 0));
        }

        private static nint[] Alloc(SlabCache s, int n) => Enumerable.Range(0, n).Select(_ => (nint)s.Alloc()).ToArray();

        private static string Attr(ModelKernel k, string name) => k.Fs.Read($"/sys/kernel/slab/pc/{name}", out _);

        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void TheLimitsFollowSetCpuPartialAndMinPartial(KernelVersion version)
        {
            var (k, s) = Boot(version);
            using (k)
            {
                Assert.Equal((120u, 8u, 5u), (s.CpuPartial, s.CpuPartialSlabs, s.MinPartial));
                Assert.Equal("120\n", Attr(k, "cpu_partial"));
            }
        }

        [Fact]
        public void ADebugCacheHasNoCpuPartialList()
        {
            using var k = K.Boot(slubDebug: "F");
            SlabCache s = k.Slab.Create("dbg", 128, 0, CacheFlags.None, 0);
            s.Alloc();
            Assert.Equal((0u, 0u), (s.CpuPartial, s.CpuPartialSlabs));
            Assert.Equal("0\n", k.Fs.Read("/sys/kernel/slab/dbg/cpu_slabs", out _));   // no CPU slab either
            Assert.Equal(1, s.GetSlabInfo().ActiveObjs);                              // its partial slab's free objects are free
        }

        [Theory]
        // 6.1 freezes a slab it puts on the CPU partial list: a later free to it is FREE_FROZEN,
        // and taking it back goes through get_freelist() again (ALLOC_REFILL). 6.12 does neither.
        [InlineData(KernelVersion.V6_1, 1L, 1L)]
        [InlineData(KernelVersion.V6_12, 0L, 0L)]
        public void AFullSlabThatGetsAFreeGoesToTheCpuPartialList(KernelVersion version, long freeFrozen, long allocRefill)
        {
            var (k, s) = Boot(version);
            using (k)
            {
                nint[] p = Alloc(s, 64);   // slab A full and floating, slab B the CPU slab, full
                Assert.Equal((64L, 64L), (s.GetSlabInfo().ActiveObjs, s.GetSlabInfo().NumObjs));
                s.Free((void*)p[0]);       // A: to this CPU's partial list
                Assert.Equal("2 N0=2\n", Attr(k, "cpu_slabs"));
                Assert.Equal("16(1) C0=16(1)\n", Attr(k, "slabs_cpu_partial"));
                Assert.Equal(64, s.GetSlabInfo().ActiveObjs);   // a CPU partial slab's free object counts as active
                s.Free((void*)p[1]);
                Assert.True(s.Alloc() != null);   // B is full: dropped; A becomes the CPU slab
                Assert.Equal("1 N0=1\n", Attr(k, "cpu_slabs"));
                Assert.Equal("0(0)\n", Attr(k, "slabs_cpu_partial"));
                Assert.Equal((1L, 1L, 1L, freeFrozen, allocRefill, 2L, 2L, 3L),
                    (s.GetStat(SlubStat.CpuPartialFree), s.GetStat(SlubStat.CpuPartialAlloc), s.GetStat(SlubStat.FreeSlowpath) - 1,
                     s.GetStat(SlubStat.FreeFrozen), s.GetStat(SlubStat.AllocRefill), s.GetStat(SlubStat.DeactivateBypass),
                     s.GetStat(SlubStat.AllocSlab), s.GetStat(SlubStat.AllocSlowpath)));
            }
        }

        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void TheNinthPushDrainsEightSlabsAndTheNodeListGivesABatchBack(KernelVersion version)
        {
            var (k, s) = Boot(version);
            using (k)
            {
                nint[] p = Alloc(s, 320);   // ten full slabs
                for (int i = 0; i < 8; i++)
                    s.Free((void*)p[32 * i]);
                Assert.Equal("128(8) C0=128(8)\n", Attr(k, "slabs_cpu_partial"));
                Assert.Equal("0\n", Attr(k, "partial"));
                s.Free((void*)p[32 * 8]);   // the list holds cpu_partial_slabs: drained first
                Assert.Equal("16(1) C0=16(1)\n", Attr(k, "slabs_cpu_partial"));
                Assert.Equal("8 N0=8\n", Attr(k, "partial"));
                Assert.Equal("248 N0=248\n", Attr(k, "objects_partial"));
                Assert.Equal((312L, 320L), (s.GetSlabInfo().ActiveObjs, s.GetSlabInfo().NumObjs));
                Assert.Equal((1L, 8L), (s.GetStat(SlubStat.CpuPartialDrain), s.GetStat(SlubStat.FreeAddPartial)));

                // The CPU slab is full and its partial slab has one free object: the first
                // allocation takes that; the second takes the node list's first slab as the CPU
                // slab and moves more to the CPU partial list until they are more than
                // cpu_partial_slabs / 2 (5 of them).
                for (int i = 0; i < 2; i++)
                    Assert.True(s.Alloc() != null);
                Assert.Equal((1L, 5L), (s.GetStat(SlubStat.AllocFromPartial), s.GetStat(SlubStat.CpuPartialNode)));
                Assert.Equal("2 N0=2\n", Attr(k, "partial"));
                Assert.Equal("80(5) C0=80(5)\n", Attr(k, "slabs_cpu_partial"));
                Assert.Equal("6 N0=6\n", Attr(k, "cpu_slabs"));
                // Each of those slabs had one free object: the next allocation already needs
                // the next partial slab.
                Assert.True(s.Alloc() != null);
                Assert.Equal("64(4) C0=64(4)\n", Attr(k, "slabs_cpu_partial"));
                Assert.Equal(2L, s.GetStat(SlubStat.CpuPartialAlloc));
            }
        }

        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void AFreeFromAnotherCpuGoesToTheSlabAndSendsItToTheTailWhenFlushed(KernelVersion version)
        {
            var (k, s) = Boot(version, cpus: 2);
            using (k)
            {
                void* p = s.Alloc();        // CPU 0's slab
                k.Slab.MigrateTo(1);
                s.Free(p);                  // not CPU 1's slab: a remote free to a frozen slab
                Assert.Equal((1L, 0L), (s.GetStat(SlubStat.FreeFrozen), s.GetStat(SlubStat.FreeFastpath)));
                Assert.Equal("1 N0=1\n", Attr(k, "cpu_slabs"));
                s.FlushAll();               // deactivate_slab(): it had remote frees, so to the tail
                Assert.Equal((1L, 1L, 0L), (s.GetStat(SlubStat.DeactivateRemoteFrees), s.GetStat(SlubStat.DeactivateToTail), s.GetStat(SlubStat.DeactivateToHead)));
                Assert.Equal("1 N0=1\n", Attr(k, "partial"));   // empty, but the node keeps min_partial slabs
                Assert.Equal(0, s.Shrink());                      // shrink releases every empty slab
            }
        }

        // flush_all() deactivates the CPU slab (flush_slab(): CPUSLAB_FLUSH): a full one goes on no
        // list (DEACTIVATE_FULL), one with free objects to the head of the node partial list
        // (DEACTIVATE_TO_HEAD), kept while the node has fewer than min_partial slabs, even empty.
        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void AFlushSendsAFullCpuSlabToNoListAndOneWithFreeObjectsToTheHead(KernelVersion version)
        {
            var (k, s) = Boot(version);
            using (k)
            {
                Alloc(s, 64);               // slab A full and floating, slab B the CPU slab, full
                s.FlushAll();               // B: nothing free
                Assert.Equal((1L, 1L, 0L, 0L), (s.GetStat(SlubStat.CpuslabFlush), s.GetStat(SlubStat.DeactivateFull),
                    s.GetStat(SlubStat.DeactivateToHead), s.GetStat(SlubStat.DeactivateEmpty)));
                Assert.Equal("0\n", Attr(k, "partial"));
                void* q = s.Alloc();        // no slab on any list: a new CPU slab, C
                s.Free(q);                  // back on the CPU's freelist: C is all free
                s.FlushAll();               // C: to the head, kept (the node has 0 < min_partial slabs)
                Assert.Equal((2L, 1L, 1L, 0L, 0L), (s.GetStat(SlubStat.CpuslabFlush), s.GetStat(SlubStat.DeactivateFull),
                    s.GetStat(SlubStat.DeactivateToHead), s.GetStat(SlubStat.DeactivateEmpty), s.GetStat(SlubStat.DeactivateToTail)));
                Assert.Equal("1 N0=1\n", Attr(k, "partial"));
                Assert.Equal(3L, s.GetStat(SlubStat.AllocSlab));
            }
        }

        [Fact]
        public void CpuSlabsSkipsTheCpuPartialSlabsOfACpuWithoutASlab()
        {
            var (k, s) = Boot(KernelVersion.V6_12, cpus: 2);
            using (k)
            {
                nint[] p = Alloc(s, 64);    // CPU 0: slab A floating, slab B its CPU slab
                k.Slab.MigrateTo(1);
                s.Free((void*)p[0]);        // A goes to CPU 1's partial list; CPU 1 has no slab
                Assert.Equal("16(1) C1=16(1)\n", Attr(k, "slabs_cpu_partial"));
                Assert.Equal("1 N0=1\n", Attr(k, "cpu_slabs"));   // show_slab_objects() skips CPU 1
            }
        }

        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void ClearingEverythingKeepsMinPartialEmptySlabsOnTheNodeList(KernelVersion version)
        {
            var (k, s) = Boot(version);
            using (k)
            {
                nint[] p = Alloc(s, 320);
                for (int i = 0; i < 9; i++)
                    s.Free((void*)p[32 * i]);
                foreach (nint o in p.Where((_, i) => i % 32 != 0 || i >= 32 * 9))
                    s.Free((void*)o);
                // Node partial slabs that empty are discarded while nr_partial >= min_partial (5):
                // four stay; the CPU slab and the CPU partial slab stay where they are.
                Assert.Equal("4 N0=4\n", Attr(k, "partial"));
                Assert.Equal((64L, 192L, 6L), (s.GetSlabInfo().ActiveObjs, s.GetSlabInfo().NumObjs, s.GetSlabInfo().NumSlabs));
                Assert.Equal(0, s.ObjectsInUse());
            }
        }
        // __slab_free() takes the node's list_lock only when the slab changes lists (6.1 and 6.12:
        // "(!new.inuse || !prior) && !was_frozen", and not for a full slab going to a CPU partial
        // list): CPUs freeing to slabs that stay where they are do not wait for each other. The
        // test holds list_lock and frees on CPU 1: the frees that move no slab finish, the one
        // that empties a slab on the node list waits until the lock is let go.
        // Two CPUs free to the same slabs at once: each free is __slab_free()'s look and update
        // (lib/SimpleCache.Slab/SlubSlab.cs), which must replace a slab's freelist and counters
        // together or not at all. None may be lost: afterwards no object is in use, and every
        // slab left holds all its objects free.
        [Theory]
        [InlineData(KernelVersion.V6_1, 1)]
        [InlineData(KernelVersion.V6_1, 2)]
        [InlineData(KernelVersion.V6_1, 3)]
        [InlineData(KernelVersion.V6_1, 4)]
        [InlineData(KernelVersion.V6_12, 1)]
        [InlineData(KernelVersion.V6_12, 2)]
        [InlineData(KernelVersion.V6_12, 3)]
        [InlineData(KernelVersion.V6_12, 4)]
        public void TwoCpusFreeingToTheSameSlabsLoseNoObject(KernelVersion version, int round)
        {
            _ = round;   // rounds: a lost update needs the race's few nanoseconds
            var (k, s) = Boot(version, cpus: 3);
            using (k)
            {
                nint[] p = Alloc(s, 32 * 600);   // on CPU 0: 600 slabs, full
                s.FlushAll();
                using var start = new Barrier(2);
                Exception failure = null;
                Thread FreeEvery(int cpu, int from) => new(() =>
                {
                    try
                    {
                        k.Enter();
                        k.Slab.MigrateTo(cpu);
                        start.SignalAndWait();
                        for (int i = from; i < p.Length; i += 2)
                            s.Free((void*)p[i]);
                    }
                    catch (Exception e)
                    {
                        failure = e;
                    }
                });
                Thread[] cpus = [FreeEvery(1, 0), FreeEvery(2, 1)];
                foreach (Thread t in cpus)
                    t.Start();
                foreach (Thread t in cpus)
                    Assert.True(t.Join(TimeSpan.FromSeconds(60)));
                Assert.Null(failure);
                s.FlushAll();
                Assert.Equal(0, s.ObjectsInUse());
                SlabInfo info = s.GetSlabInfo();
                Assert.Equal((0L, info.NumObjs), (info.ActiveObjs, (long)s.FreeObjects().Distinct().Count()));
                Assert.True(s.GetStat(SlubStat.FreeSlowpath) == p.Length, "every free was __slab_free()'s");
            }
        }

        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void OnlyAFreeThatMovesASlabBetweenListsTakesListLock(KernelVersion version)
        {
            var (k, s) = Boot(version, cpus: 2);
            using (k)
            {
                nint[] p = Alloc(s, 96);   // CPU 0: slabs A and B full and on no list, C its CPU slab
                nint[][] slabs = p.GroupBy(o => (nint)k.Pages.SlabOf((void*)o).Address).Select(g => g.ToArray()).ToArray();
                Assert.Equal(3, slabs.Length);
                nint[] a = slabs.First(g => !g.Contains(p[^1])), b = slabs.First(g => g != a && !g.Contains(p[^1]));
                foreach (nint o in a.Skip(2))
                    s.Free((void*)o);      // A: to CPU 0's partial list, then frees to it
                s.FlushAll();              // A to the node partial list with 2 objects in use
                Assert.Equal("1 N0=1\n", Attr(k, "partial"));

                var moved = new ManualResetEventSlim();
                var done = new ManualResetEventSlim();
                Exception failure = null;
                var cpu1 = new Thread(() =>
                {
                    try
                    {
                        k.Enter();
                        k.Slab.MigrateTo(1);
                        s.Free((void*)b[0]);   // full B to CPU 1's partial list
                        s.Free((void*)b[1]);   // to B there (6.1: frozen)
                        s.Free((void*)a[0]);   // to A on the node list, which keeps an object
                        moved.Set();
                        s.Free((void*)a[1]);   // empties A on the node list: list_lock
                    }
                    catch (Exception e)
                    {
                        failure = e;
                    }
                    finally
                    {
                        moved.Set();
                        done.Set();
                    }
                });
                bool waited;
                Monitor.Enter(s.ListLock);
                try
                {
                    cpu1.Start();
                    Assert.True(moved.Wait(TimeSpan.FromSeconds(30)), "a free that moves no slab waited for list_lock");
                    waited = !done.Wait(TimeSpan.FromMilliseconds(300));
                }
                finally
                {
                    Monitor.Exit(s.ListLock);
                }
                Assert.True(done.Wait(TimeSpan.FromSeconds(30)));
                cpu1.Join();
                Assert.Null(failure);
                Assert.True(waited, "the free that empties a node partial slab did not wait for list_lock");
                Assert.Equal(96 - 34, s.ObjectsInUse());
                Assert.Equal(0, s.GetStat(SlubStat.CmpxchgDoubleFail));   // nothing raced with these frees
            }
        }
    }
}
