// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// struct slab's freelist and counters and the code that changes them (SlubSlab.cs), which the
// library's slabs and the model's SLUB both run: the counters' bits, slab_update_freelist()'s
// both-or-neither, get_freelist() under the kernel's freezing rule and the library's,
// freeze_slab(), __slab_free()'s update, deactivate_slab()'s splice, allocate_slab()'s freelist
// in address and in shuffled order, the hardened free pointer, and frees from two threads racing
// a third that takes the freelist.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using Xunit;

namespace SimpleCache.Slab.Tests
{
    public unsafe class SlubSlabTests
    {
        private const int Size = 64, Offset = 32;
        private static readonly PlainFreePointer Fp = new(Offset);

        // A slab's memory and state, its objects linked in address order (every object free).
        private sealed class TestSlab : IDisposable
        {
            public readonly byte* Memory;
            public readonly int Objects;
            public SlabState State;

            public TestSlab(int objects)
            {
                Objects = objects;
                Memory = (byte*)NativeMemory.AllocZeroed((nuint)(objects * Size));
                var none = new NoSetup();
                SlubSlab.Init(ref State, SlubSlab.Build(Memory, objects, Size, null, 0, Fp, ref none), objects);
            }

            public byte* this[int i] => Memory + i * Size;

            public List<int> Walk(byte* head)
            {
                var order = new List<int>();
                for (byte* p = head; p != null && order.Count <= Objects; p = Fp.Get(p))
                    order.Add((int)((p - Memory) / Size));
                return order;
            }

            public void Dispose() => NativeMemory.Free(Memory);
        }

        private struct NoSetup : ISetupObject
        {
            public void Setup(byte* obj) { }
        }

        private struct RecordSetup(List<nint> seen) : ISetupObject
        {
            public void Setup(byte* obj) => seen.Add((nint)obj);
        }

        [Fact]
        public void CountersAreStructSlabsBitfields()
        {
            // unsigned inuse:16; unsigned objects:15; unsigned frozen:1; (6.1 and 6.12)
            uint c = SlubSlab.Counters(5, 256, frozen: true);
            Assert.Equal(5u | 256u << 16 | 1u << 31, c);
            Assert.Equal((5, 256, true), (SlubSlab.InUse(c), SlubSlab.Objects(c), SlubSlab.Frozen(c)));
            Assert.Equal(SlubSlab.Counters(7, 256, false), SlubSlab.WithFrozen(SlubSlab.WithInUse(c, 7), false));
            // inuse is 16 bits: one free too many wraps it, and leaves objects and frozen alone.
            uint wrapped = SlubSlab.WithInUse(SlubSlab.Counters(0, SlubSlab.MaxObjects, true), -1);
            Assert.Equal((65535, 32767, true), (SlubSlab.InUse(wrapped), SlubSlab.Objects(wrapped), SlubSlab.Frozen(wrapped)));
        }

        [Fact]
        public void UpdateReplacesHeadAndCountersTogetherOrNeither()
        {
            using var slab = new TestSlab(4);
            SlubSlab.Look(ref slab.State, out nint head, out uint counters);
            Assert.Equal((nint)slab[0], head);
            Assert.Equal(SlubSlab.Counters(0, 4, false), counters);
            // A stale head, or stale counters: refused, nothing changed.
            Assert.False(SlubSlab.Update(ref slab.State, (nint)slab[1], counters, 0, SlubSlab.Counters(4, 4, true)));
            Assert.False(SlubSlab.Update(ref slab.State, head, counters + 1, 0, SlubSlab.Counters(4, 4, true)));
            Assert.Equal(((nint)slab[0], counters), (slab.State.Freelist, slab.State.Counters));
            Assert.True(SlubSlab.Update(ref slab.State, head, counters, (nint)slab[2], SlubSlab.Counters(2, 4, true)));
            Assert.Equal(((nint)slab[2], 2, true), (slab.State.Freelist, slab.State.InUse, slab.State.Frozen));
            Assert.Equal(0, slab.State.Lock);
        }

        [Fact]
        public void GetFreelistFollowsTheFreezingRuleItIsGiven()
        {
            int fails = 0;
            using var slab = new TestSlab(4);
            // The kernel's: frozen because there was something to take; all objects in use.
            byte* taken = SlubSlab.GetFreelist(ref slab.State, ownerKeeps: false, ref fails);
            Assert.Equal(new[] { 0, 1, 2, 3 }, slab.Walk(taken));
            Assert.Equal((0, 4, true), (slab.State.Freelist, slab.State.InUse, slab.State.Frozen));
            // Nothing to take: the CPU lets the slab go.
            Assert.True(SlubSlab.GetFreelist(ref slab.State, ownerKeeps: false, ref fails) == null);
            Assert.False(slab.State.Frozen);
            // The library's: the owner keeps its slab, frozen, whether or not it took anything.
            SlubSlab.Freeze(ref slab.State, take: false, ref fails);
            Assert.True(SlubSlab.GetFreelist(ref slab.State, ownerKeeps: true, ref fails) == null);
            Assert.True(slab.State.Frozen);
            SlubSlab.Unfreeze(ref slab.State, ref fails);
            Assert.True(SlubSlab.GetFreelist(ref slab.State, ownerKeeps: true, ref fails) == null);
            Assert.False(slab.State.Frozen);
            Assert.Equal(0, fails);
        }

        [Fact]
        public void FreezeTakesTheFreelistOrLeavesIt()
        {
            int fails = 0;
            using var slab = new TestSlab(3);
            // 6.1 acquire_slab(mode = false): frozen, freelist and inuse as they were.
            Assert.True(SlubSlab.Freeze(ref slab.State, take: false, ref fails) == null);
            Assert.Equal(((nint)slab[0], 0, true), (slab.State.Freelist, slab.State.InUse, slab.State.Frozen));
            Assert.Equal(0u, SlubSlab.Unfreeze(ref slab.State, ref fails) & (1u << 31));
            // freeze_slab(): frozen, and the CPU has every free object.
            Assert.Equal(new[] { 0, 1, 2 }, slab.Walk(SlubSlab.Freeze(ref slab.State, take: true, ref fails)));
            Assert.Equal((0, 3, true), (slab.State.Freelist, slab.State.InUse, slab.State.Frozen));
        }

        [Fact]
        public void TryFreePushesADetachedListOnlyOnTheSlabItLookedAt()
        {
            int fails = 0;
            using var slab = new TestSlab(5);
            SlubSlab.GetFreelist(ref slab.State, ownerKeeps: false, ref fails);   // all 5 in use
            SlubSlab.Look(ref slab.State, out nint prior, out uint counters);
            // Objects 3 and 1, linked (build_detached_freelist()'s job), as one free.
            Fp.Set(slab[3], slab[1]);
            Assert.True(SlubSlab.TryFree(ref slab.State, prior, counters, slab[3], slab[1], 2, freeze: false, Fp));
            Assert.Equal(new[] { 3, 1 }, slab.Walk((byte*)slab.State.Freelist));
            Assert.Equal((3, true), (slab.State.InUse, slab.State.Frozen));
            // Looked at before that free: refused, the slab as it is.
            Assert.False(SlubSlab.TryFree(ref slab.State, prior, counters, slab[4], slab[4], 1, freeze: false, Fp));
            Assert.Equal(new[] { 3, 1 }, slab.Walk((byte*)slab.State.Freelist));
            Assert.Equal(3, slab.State.InUse);
            // 6.1's free of a full, unfrozen slab onto a CPU partial list freezes it.
            SlubSlab.GetFreelist(ref slab.State, ownerKeeps: false, ref fails);
            SlubSlab.Unfreeze(ref slab.State, ref fails);
            SlubSlab.Look(ref slab.State, out prior, out counters);
            Assert.True(SlubSlab.TryFree(ref slab.State, prior, counters, slab[2], slab[2], 1, freeze: true, Fp));
            Assert.Equal(((nint)slab[2], 4, true), (slab.State.Freelist, slab.State.InUse, slab.State.Frozen));
            Assert.True(Fp.Get(slab[2]) == null);
            // Freezing a slab that is frozen leaves it frozen.
            SlubSlab.Look(ref slab.State, out prior, out counters);
            Assert.True(SlubSlab.TryFree(ref slab.State, prior, counters, slab[4], slab[4], 1, freeze: true, Fp));
            Assert.Equal(((nint)slab[4], 3, true), (slab.State.Freelist, slab.State.InUse, slab.State.Frozen));
        }

        // A free pointer store that lets another CPU's free land on the slab at that moment:
        // between the caller's look at the slab and its update, as a race would.
        private struct RacingFreePointer(SlabState* slab, byte* other) : IFreePointer
        {
            private bool _raced;

            public byte* Get(byte* obj) => Fp.Get(obj);

            public void Set(byte* obj, byte* next)
            {
                Fp.Set(obj, next);
                if (_raced)
                    return;
                _raced = true;
                SlubSlab.Look(ref *slab, out nint prior, out uint counters);
                Assert.True(SlubSlab.TryFree(ref *slab, prior, counters, other, other, 1, freeze: false, Fp));
            }
        }

        [Fact]
        public void AnUpdateThatLostARaceIsCountedAndDoneAgainOnWhatTheSlabHasNow()
        {
            int fails = 0;
            using var slab = new TestSlab(4);
            fixed (SlabState* state = &slab.State)
            {
                byte* cpu = SlubSlab.Freeze(ref *state, take: true, ref fails);   // 0 1 2 3, all in use
                cpu = Fp.Get(Fp.Get(cpu));                                          // 0 and 1 handed out
                // The CPU gives 2 and 3 back as another CPU frees 0: the splice fails once, then
                // puts 2 and 3 in front of 0.
                var racing = new RacingFreePointer(state, slab[0]);
                int count = SlubSlab.Tail(cpu, slab.Objects, Fp, out byte* tail);
                nint found = SlubSlab.Deactivate(ref *state, cpu, tail, count, racing, out uint left, ref fails);
                Assert.Equal(1, fails);
                Assert.Equal((nint)slab[0], found);
                Assert.Equal(SlubSlab.Counters(1, 4, false), left);
                Assert.Equal(new[] { 2, 3, 0 }, slab.Walk((byte*)state->Freelist));
            }
        }

        [Fact]
        public void HoldKeepsEveryUpdateOutUntilItEnds()
        {
            using var slab = new TestSlab(2);
            SlubSlab.Look(ref slab.State, out nint head, out uint counters);
            bool updated = false;
            Thread other;
            using (SlubSlab.Hold(ref slab.State))
            {
                Assert.Equal(1, slab.State.Lock);
                other = new Thread(() => Volatile.Write(ref updated, SlubSlab.Update(ref slab.State, head, counters, 0, SlubSlab.Counters(2, 2, true))));
                other.Start();
                Assert.False(other.Join(200));   // it spins on the lock
                Assert.False(Volatile.Read(ref updated));
                Assert.Equal(head, slab.State.Freelist);
            }
            Assert.True(other.Join(10_000));
            Assert.True(updated);
            Assert.Equal((0, 2, true, 0), (slab.State.Freelist, slab.State.InUse, slab.State.Frozen, slab.State.Lock));
        }

        [Fact]
        public void DeactivateSplicesTheCpuFreelistInFrontAndUnfreezes()
        {
            int fails = 0;
            using var slab = new TestSlab(6);
            byte* cpu = SlubSlab.Freeze(ref slab.State, take: true, ref fails);
            // The CPU hands out 0 and 1; another CPU frees 0 to the slab meanwhile.
            cpu = Fp.Get(Fp.Get(cpu));
            SlubSlab.Look(ref slab.State, out nint prior, out uint counters);
            Assert.True(SlubSlab.TryFree(ref slab.State, prior, counters, slab[0], slab[0], 1, freeze: false, Fp));
            int count = SlubSlab.Tail(cpu, slab.Objects, Fp, out byte* tail);
            Assert.Equal((4, (nint)slab[5]), (count, (nint)tail));
            nint found = SlubSlab.Deactivate(ref slab.State, cpu, tail, count, Fp, out uint left, ref fails);
            Assert.Equal((nint)slab[0], found);   // not null: remote frees, so deactivate_slab() adds it at the tail
            Assert.Equal(SlubSlab.Counters(1, 6, false), left);
            Assert.Equal(left, slab.State.Counters);
            Assert.Equal(new[] { 2, 3, 4, 5, 0 }, slab.Walk((byte*)slab.State.Freelist));
            // A CPU with an empty freelist: only unfrozen.
            SlubSlab.Freeze(ref slab.State, take: false, ref fails);
            Assert.Equal((nint)slab[2], SlubSlab.Deactivate(ref slab.State, null, null, 0, Fp, out left, ref fails));
            Assert.Equal(SlubSlab.Counters(1, 6, false), left);
        }

        [Fact]
        public void BuildSetsUpEachObjectInTheOrderItLinksThem()
        {
            byte* memory = (byte*)NativeMemory.AllocZeroed(8 * Size);
            try
            {
                var seen = new List<nint>();
                var setup = new RecordSetup(seen);
                byte* head = SlubSlab.Build(memory + 8, 4, Size, null, 0, Fp, ref setup);
                Assert.Equal(Enumerable.Range(0, 4).Select(i => (nint)(memory + 8 + i * Size)), seen);
                Assert.True(head == memory + 8);
                Assert.Equal(4, SlubSlab.Tail(head, 4, Fp, out byte* tail));
                Assert.True(tail == memory + 8 + 3 * Size && Fp.Get(tail) == null);
                Assert.Equal(-1, SlubSlab.Tail(head, 3, Fp, out _));   // longer than a slab of 3: it loops

                // shuffle_freelist(): the cache's sequence from a start, slots past a smaller slab skipped.
                seen.Clear();
                head = SlubSlab.Build(memory, 3, Size, [3, 0, 2, 1], 2, Fp, ref setup);
                Assert.Equal(new nint[] { (nint)(memory + 2 * Size), (nint)(memory + Size), (nint)memory }, seen);
                Assert.Equal(3, SlubSlab.Tail(head, 3, Fp, out tail));
                Assert.True(head == memory + 2 * Size && tail == memory);
            }
            finally
            {
                NativeMemory.Free(memory);
            }
        }

        [Fact]
        public void HardenedFreePointersDecodeToWhatWasStoredAndStoreNoAddress()
        {
            byte* memory = (byte*)NativeMemory.AllocZeroed(4 * Size);
            try
            {
                var hardened = new HardenedFreePointer(Offset, 0x5a5a_1234_dead_beefUL);
                var none = new NoSetup();
                byte* head = SlubSlab.Build(memory, 4, Size, null, 0, hardened, ref none);
                for (byte* p = head; p != null; p = hardened.Get(p))
                    Assert.NotEqual((ulong)hardened.Get(p), *(ulong*)(p + Offset));
                Assert.Equal(4, SlubSlab.Tail(head, 4, hardened, out byte* tail));
                Assert.True(tail == memory + 3 * Size);
                // The same word read plainly is not the next object's address.
                Assert.False(new PlainFreePointer(Offset).Get(head) == memory + Size);
            }
            finally
            {
                NativeMemory.Free(memory);
            }
        }

        // The library's frees from another thread run SlubSlab.TryFree: an object freed twice in a
        // row is refused as set_freepointer()'s check refuses it; freed twice with another free
        // between, the list would loop, and the owner's refill says so instead of spinning.
        [Fact]
        public void RemoteDoubleFreesAreCaughtNotLooped()
        {
            var cache = new SlabCache("remote-double", 64);
            void* a = cache.Alloc(), b = cache.Alloc(), c = cache.Alloc();
            Exception OnAnotherThread(Action free)
            {
                Exception caught = null;
                var t = new Thread(() =>
                {
                    try { free(); }
                    catch (Exception e) { caught = e; }
                });
                t.Start();
                t.Join();
                return caught;
            }
            Exception twice = OnAnotherThread(() => { cache.Free(c); cache.Free(c); });
            Assert.IsType<InvalidOperationException>(twice);
            Assert.Contains($"object 0x{(nint)c:x} freed twice", twice.Message);
            Assert.Null(OnAnotherThread(() => { cache.Free(a); cache.Free(b); cache.Free(a); }));
            // The three are on this thread's slab's freelist, which loops: the refill that takes
            // it, once this thread's own freelist runs out, says so instead of handing a and b
            // out again and again.
            var looped = Assert.Throws<InvalidOperationException>(() =>
            {
                for (int i = 0; i <= cache.ObjectsPerSlab; i++)
                    cache.Alloc();
            });
            Assert.Contains("freed twice", looped.Message);
            cache.Destroy();
        }

        // The thread's own frees take set_freepointer()'s naive check too, as the kernel's do: to its
        // slab (c->freelist) and to a slab of its partial list (its local list, where the kernel
        // would run __slab_free()). Without it, a local list's count would take a double free as
        // two objects, and the slab would be given back with one still in use.
        [Fact]
        public void TheOwnersDoubleFreesAreCaughtOnBothItsLists()
        {
            var cache = new SlabCache("owner-double", 64);
            int perSlab = cache.ObjectsPerSlab;
            var full = Enumerable.Range(0, perSlab).Select(_ => (nint)cache.Alloc()).ToList();   // slab 1, full
            void* mine = cache.Alloc();                                                             // slab 2, the thread's
            cache.Free(mine);
            var e = Assert.Throws<InvalidOperationException>(() => cache.Free(mine));
            Assert.Contains($"object 0x{(nint)mine:x} freed twice", e.Message);
            cache.Free((void*)full[0]);   // __slab_free(): slab 1 on this thread's partial list
            cache.Free((void*)full[1]);   // the local list
            e = Assert.Throws<InvalidOperationException>(() => cache.Free((void*)full[1]));
            Assert.Contains($"object 0x{full[1]:x} freed twice", e.Message);
            SlabLocal local = cache.Local();
            e = Assert.Throws<InvalidOperationException>(() => local.Free((void*)full[1]));
            Assert.Contains("freed twice", e.Message);
            foreach (nint o in full.Skip(2))
                cache.Free((void*)o);
            Assert.Equal(0, cache.Destroy().Leaked);   // each counted once
        }

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(3)]
        [InlineData(4)]
        [InlineData(5)]
        [InlineData(6)]
        [InlineData(7)]
        [InlineData(8)]
        public void FreesFromTwoThreadsRacingATakerLoseNothing(int round)
        {
            _ = round;   // rounds: a lost update needs the race's few nanoseconds
            const int Objects = SlubSlab.MaxObjects;
            using var slab = new TestSlab(Objects);
            int fails = 0;
            SlubSlab.Freeze(ref slab.State, take: true, ref fails);   // all in use, the owner's
            var collected = new List<nint>();
            int done = 0;
            int retries = 0;
            using var start = new Barrier(3);
            void Free(int from)
            {
                start.SignalAndWait();
                int mine = 0;
                for (int i = from; i < Objects; i += 2)
                {
                    nint prior;
                    uint counters;
                    do
                    {
                        SlubSlab.Look(ref slab.State, out prior, out counters);
                        mine++;
                    }
                    while (!SlubSlab.TryFree(ref slab.State, prior, counters, slab[i], slab[i], 1, freeze: false, Fp));
                    mine--;
                }
                Interlocked.Add(ref retries, mine);
                Interlocked.Increment(ref done);
            }
            var threads = new[] { new Thread(() => Free(0)), new Thread(() => Free(1)) };
            foreach (Thread t in threads)
                t.Start();
            int takerFails = 0;
            start.SignalAndWait();
            while (Volatile.Read(ref done) < 2 || slab.State.Freelist != 0)
            {
                byte* list = SlubSlab.GetFreelist(ref slab.State, ownerKeeps: true, ref takerFails);
                for (byte* p = list; p != null; p = Fp.Get(p))
                    collected.Add((nint)p);
            }
            foreach (Thread t in threads)
                t.Join();
            // Every object came back once; the slab's counters agree (all taken: all in use).
            Assert.Equal(Objects, collected.Count);
            Assert.Equal(Objects, collected.Distinct().Count());
            Assert.Equal((Objects, true, 0), (slab.State.InUse, slab.State.Frozen, slab.State.Lock));
        }
    }
}
