// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// struct slab's freelist and counters, and every change made to them: one implementation, which
// this library (SlabCache.cs) and the model of the kernel (model/mm/Slub.cs) both run.
//
// In SLUB (6.1 and 6.12 alike, include/linux/mm_types.h / mm/slab.h) a slab's free objects are a
// list threaded through the objects themselves (slab->freelist; each free object holds the next
// one's address at s->offset), and beside the list's head sits one word of counters:
//
//     unsigned inuse:16;     objects not on slab->freelist
//     unsigned objects:15;   objects in the slab
//     unsigned frozen:1;     the slab belongs to a CPU, which alone allocates from it
//
// Head and counters change together or not at all. slab_update_freelist() (6.12;
// cmpxchg_double_slab() in 6.1) compares both with what the caller saw and replaces both: with
// cmpxchg16b on x86-64 (__update_freelist_fast()), or under slab_lock(), a bit spin lock in the
// page's flags, where the CPU has no double-word compare-and-swap (__update_freelist_slow();
// 6.1's __cmpxchg_double_slab() has the same two branches). .NET has no 16-byte
// compare-and-swap, so here it is always the slab_lock() way: a caller looks at the slab without
// a lock, decides, and then Update() replaces head and counters under the slab's bit lock if
// they are still what it saw. A failed update is the kernel's CMPXCHG_DOUBLE_FAIL; the caller
// looks again.
//
// The functions below are the kernel's, each named where it is defined:
//
//   Update        slab_update_freelist()          both words, or neither
//   GetFreelist   get_freelist()                  the whole freelist, for a CPU to allocate from
//   Freeze        freeze_slab() (6.12)            a slab becomes a CPU's, with or without taking
//   TryFreeze     acquire_slab() (6.1)            its freelist (6.1 tries once)
//   TryFree       __slab_free()'s update          a detached list of objects back on the freelist
//   Deactivate    deactivate_slab(), stage two    a CPU's freelist spliced back, the slab unfrozen
//   Unfreeze      __unfreeze_partials() (6.1)     a CPU partial slab unfrozen
//   TakeOne       alloc_single_from_partial()     a debug cache's allocation, under list_lock
//   PutList       free_to_partial_list()          a debug cache's free, under list_lock
//   Build         allocate_slab(),                setup_object() on every object and the free
//                 shuffle_freelist()              pointers laid, in address or random order
//
// Both allocators use them with the kernel's freezing rule: a slab is frozen while it is a
// CPU's slab (a thread's, in the library), and, in 6.1 and the library, while it is on a CPU's
// partial list. The CPU's own frees to its slab go to c->freelist with no atomic operation; every
// other free is __slab_free(): a look and an Update(). get_freelist() leaves a slab frozen only
// if there was something to take. The layer above, which moves slabs between CPUs and lists, is
// one implementation too (SlubCpu.cs). The library adds one thing, the freezing widened: a
// thread's frees to the frozen slabs of its own partial list go to a list of the slab's that
// only it touches (SlabHeader.LocalFree), with plain stores; when such a slab becomes the
// thread's slab, the local list and the slab's freelist are taken together, the slab staying
// frozen whatever its freelist held (GetFreelist(ownerKeeps: true)). That is what lets patterns
// (b) and (c) of docs/performance.md run with no atomic operation but one a slab.

using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace SimpleCache.Slab
{
    /// <summary>
    /// struct slab's freelist and counters (and, here, its slab_lock): 16 bytes, in the library's
    /// SlabHeader and in the model's Slab.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SlabState
    {
        /// <summary><c>slab->freelist</c>: the first free object, or 0.</summary>
        public nint Freelist;
        /// <summary><c>slab->counters</c>: inuse in bits 0-15, objects in 16-30, frozen in 31.</summary>
        public uint Counters;
        /// <summary><c>slab_lock()</c>: PG_locked of the slab's first page, a bit spin lock.</summary>
        public int Lock;

        public readonly int InUse => SlubSlab.InUse(Counters);
        public readonly int Objects => SlubSlab.Objects(Counters);
        public readonly bool Frozen => SlubSlab.Frozen(Counters);
    }

    /// <summary>Where a free object keeps the next one's address (<c>get_freepointer()</c>, <c>set_freepointer()</c>).</summary>
    internal unsafe interface IFreePointer
    {
        byte* Get(byte* obj);
        void Set(byte* obj, byte* next);
    }

    /// <summary>The address as it is, at the given offset (CONFIG_SLAB_FREELIST_HARDENED off; this library).</summary>
    internal readonly unsafe struct PlainFreePointer(int offset) : IFreePointer
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public byte* Get(byte* obj) => *(byte**)(obj + offset);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Set(byte* obj, byte* next) => *(byte**)(obj + offset) = next;
    }

    /// <summary>
    /// CONFIG_SLAB_FREELIST_HARDENED (on in Debian's 6.1 and 6.12): what is stored is
    /// <c>ptr ^ s->random ^ swab(ptr_addr)</c> (freelist_ptr_encode()), so that a stray write or
    /// an attacker cannot plant an address the allocator will hand out.
    /// </summary>
    internal readonly unsafe struct HardenedFreePointer(int offset, ulong random) : IFreePointer
    {
        public byte* Get(byte* obj)
        {
            ulong* at = (ulong*)(obj + offset);
            return (byte*)(*at ^ random ^ BinaryPrimitives.ReverseEndianness((ulong)at));
        }

        public void Set(byte* obj, byte* next)
        {
            ulong* at = (ulong*)(obj + offset);
            *at = (ulong)next ^ random ^ BinaryPrimitives.ReverseEndianness((ulong)at);
        }
    }

    /// <summary>What <c>setup_object()</c> does to each object of a new slab (debug bytes, the constructor).</summary>
    internal unsafe interface ISetupObject
    {
        void Setup(byte* obj);
    }

    /// <summary>The code that changes a slab's freelist and counters (see the top of this file).</summary>
    internal static unsafe class SlubSlab
    {
        private const uint InUseMask = 0xffff, ObjectsMask = 0x7fff << 16, FrozenBit = 1u << 31;

        /// <summary>MAX_OBJS_PER_PAGE: the most objects a slab's 15 bits can count.</summary>
        public const int MaxObjects = 32767;

        /// <summary>The counters word of a slab with these fields.</summary>
        public static uint Counters(int inUse, int objects, bool frozen) =>
            ((uint)inUse & InUseMask) | (((uint)objects << 16) & ObjectsMask) | (frozen ? FrozenBit : 0);

        public static int InUse(uint counters) => (int)(counters & InUseMask);
        public static int Objects(uint counters) => (int)((counters & ObjectsMask) >> 16);
        public static bool Frozen(uint counters) => (counters & FrozenBit) != 0;

        /// <summary>The counters with inuse replaced, as a 16-bit field takes it (it wraps).</summary>
        public static uint WithInUse(uint counters, int inUse) => (counters & ~InUseMask) | ((uint)inUse & InUseMask);

        /// <summary>The counters with frozen replaced.</summary>
        public static uint WithFrozen(uint counters, bool frozen) => frozen ? counters | FrozenBit : counters & ~FrozenBit;

        /// <summary>A new slab's state: every object on <paramref name="freelist"/>, none in use, not frozen.</summary>
        public static void Init(ref SlabState s, byte* freelist, int objects, int inUse = 0, bool frozen = false)
        {
            s.Freelist = (nint)freelist;
            s.Counters = Counters(inUse, objects, frozen);
            s.Lock = 0;
        }

        // ---------------------------------------------------------------- slab_lock()

        /// <summary><c>slab_lock()</c>: bit_spin_lock(PG_locked) on the slab's page.</summary>
        public static void Lock(ref SlabState s)
        {
            if (Interlocked.CompareExchange(ref s.Lock, 1, 0) == 0)
                return;
            var spin = new SpinWait();
            do
                spin.SpinOnce();
            while (Volatile.Read(ref s.Lock) != 0 || Interlocked.CompareExchange(ref s.Lock, 1, 0) != 0);
        }

        /// <summary><c>slab_unlock()</c>.</summary>
        public static void Unlock(ref SlabState s) => Volatile.Write(ref s.Lock, 0);

        /// <summary>The slab's lock for a block (<c>using (SlubSlab.Hold(ref s))</c>): for readers that must see a slab still.</summary>
        public static Held Hold(ref SlabState s)
        {
            Lock(ref s);
            return new Held(ref s);
        }

        /// <summary>A held slab_lock, let go at the end of a <c>using</c>.</summary>
        public ref struct Held
        {
            private readonly ref SlabState _s;

            internal Held(ref SlabState s) => _s = ref s;

            public readonly void Dispose() => Unlock(ref _s);
        }

        // ---------------------------------------------------------------- slab_update_freelist()

        /// <summary>
        /// A look at head and counters without the lock, as the kernel reads slab->freelist and
        /// slab->counters before its update: the two may be from different moments, and then
        /// <see cref="Update"/> refuses them.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Look(ref SlabState s, out nint freelist, out uint counters)
        {
            freelist = Volatile.Read(ref s.Freelist);
            counters = Volatile.Read(ref s.Counters);
        }

        /// <summary>
        /// <c>slab_update_freelist()</c> (6.12; <c>cmpxchg_double_slab()</c> in 6.1), the slab_lock()
        /// branch, <c>__update_freelist_slow()</c>: if the slab's head and counters are still
        /// <paramref name="oldFreelist"/> and <paramref name="oldCounters"/>, both are replaced.
        /// False when the slab changed since the caller looked (CMPXCHG_DOUBLE_FAIL).
        /// </summary>
        public static bool Update(ref SlabState s, nint oldFreelist, uint oldCounters, nint newFreelist, uint newCounters)
        {
            Lock(ref s);
            bool same = s.Freelist == oldFreelist && s.Counters == oldCounters;
            if (same)
            {
                s.Freelist = newFreelist;
                s.Counters = newCounters;
            }
            Unlock(ref s);
            return same;
        }

        /// <summary>
        /// <c>get_freelist()</c> (6.1 and 6.12): takes the slab's whole freelist for the CPU, which
        /// now counts all the slab's objects as in use. The kernel's rule leaves the slab frozen
        /// only if there was something to take (an empty-handed CPU lets the slab go); with
        /// <paramref name="ownerKeeps"/> (the library's rule) the slab stays as frozen as it was.
        /// <paramref name="fails"/> counts the updates that found the slab changed.
        /// </summary>
        public static byte* GetFreelist(ref SlabState s, bool ownerKeeps, ref int fails)
        {
            while (true)
            {
                Look(ref s, out nint freelist, out uint counters);
                uint next = WithInUse(counters, Objects(counters));
                if (!ownerKeeps)
                    next = WithFrozen(next, freelist != 0);
                if (Update(ref s, freelist, counters, 0, next))
                    return (byte*)freelist;
                fails++;
            }
        }

        /// <summary>
        /// 6.12's freeze_slab(): the slab becomes a CPU's (frozen), trying until it does. With
        /// <paramref name="take"/>, its freelist comes with it and every object counts as in use
        /// (the slab a CPU allocates from); without, the freelist stays (the library's rule, for a
        /// slab a thread takes from its pool). Returns what was taken.
        /// </summary>
        public static byte* Freeze(ref SlabState s, bool take, ref int fails)
        {
            byte* taken;
            while (!TryFreeze(ref s, take, out taken))
                fails++;
            return taken;
        }

        /// <summary>
        /// 6.1's acquire_slab(): one try at freezing the slab, with its freelist
        /// (<paramref name="take"/>, mode = true: the slab a CPU allocates from) or without (for
        /// a CPU's partial list). False when the slab changed since the look: 6.1's
        /// get_partial_node() then stops taking slabs, where 6.12's freeze_slab() tries again.
        /// </summary>
        public static bool TryFreeze(ref SlabState s, bool take, out byte* taken)
        {
            Look(ref s, out nint freelist, out uint counters);
            uint next = WithFrozen(counters, true);
            if (take)
                next = WithInUse(next, Objects(counters));
            taken = take ? (byte*)freelist : null;
            return Update(ref s, freelist, counters, take ? 0 : freelist, next);
        }

        /// <summary>6.1's __unfreeze_partials(): a CPU partial slab is no longer frozen. Returns the counters it left.</summary>
        public static uint Unfreeze(ref SlabState s, ref int fails)
        {
            while (true)
            {
                Look(ref s, out nint freelist, out uint counters);
                uint next = WithFrozen(counters, false);
                if (Update(ref s, freelist, counters, freelist, next))
                    return next;
                fails++;
            }
        }

        /// <summary>
        /// <c>__slab_free()</c>'s update: objects <paramref name="head"/> to <paramref name="tail"/>
        /// (<paramref name="count"/> of them, linked through their free pointers) go on the slab's
        /// freelist in front of <paramref name="prior"/>, and count as in use no more; with
        /// <paramref name="freeze"/> the slab becomes frozen as well (6.1's free of a full slab
        /// onto a CPU's partial list). Done only if the slab is as the caller looked at it
        /// (<paramref name="prior"/>, <paramref name="counters"/>); false otherwise, with tail's
        /// free pointer written and nothing else changed.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool TryFree<TPtr>(ref SlabState s, nint prior, uint counters, byte* head, byte* tail, int count, bool freeze, TPtr fp)
            where TPtr : struct, IFreePointer
        {
            fp.Set(tail, (byte*)prior);
            uint next = WithInUse(counters, InUse(counters) - count);
            if (freeze)
                next |= FrozenBit;
            return Update(ref s, prior, counters, (nint)head, next);
        }

        /// <summary>
        /// <c>deactivate_slab()</c>, stage two (6.1 and 6.12): the CPU's freelist
        /// (<paramref name="head"/> to <paramref name="tail"/>, <paramref name="count"/> objects;
        /// none if head is null) goes back in front of the slab's own, and the slab is unfrozen.
        /// Returns the slab's freelist as it found it (not null: other CPUs freed to the slab
        /// meanwhile) and, in <paramref name="counters"/>, the state it left, which is what the
        /// caller decides on: the slab takes frees again the moment it is unfrozen.
        /// </summary>
        public static nint Deactivate<TPtr>(ref SlabState s, byte* head, byte* tail, int count, TPtr fp, out uint counters, ref int fails)
            where TPtr : struct, IFreePointer
        {
            while (true)
            {
                Look(ref s, out nint old, out uint oldCounters);
                uint next = WithFrozen(oldCounters, false);
                nint freelist = old;
                if (head != null)
                {
                    next = WithInUse(next, InUse(oldCounters) - count);
                    fp.Set(tail, (byte*)old);
                    freelist = (nint)head;
                }
                if (Update(ref s, old, oldCounters, freelist, next))
                {
                    counters = next;
                    return old;
                }
                fails++;
            }
        }

        // ---------------------------------------------------------------- debug caches, under list_lock

        /// <summary>
        /// <c>alloc_single_from_partial()</c> (6.1 and 6.12): a debug cache takes one object,
        /// under list_lock and no other lock (its slabs are never a CPU's and never see
        /// __slab_free(); one that fails its checks is marked frozen, and refused from then on).
        /// The caller has checked that the slab has one.
        /// </summary>
        public static byte* TakeOne<TPtr>(ref SlabState s, TPtr fp)
            where TPtr : struct, IFreePointer
        {
            var obj = (byte*)s.Freelist;
            s.Freelist = (nint)fp.Get(obj);
            s.Counters = WithInUse(s.Counters, InUse(s.Counters) + 1);
            return obj;
        }

        /// <summary>
        /// <c>free_to_partial_list()</c>'s free (6.1 and 6.12): a debug cache's objects
        /// <paramref name="head"/> to <paramref name="tail"/> back on the slab's freelist, under
        /// list_lock. Returns the freelist as it was (null: the slab was full).
        /// </summary>
        public static byte* PutList<TPtr>(ref SlabState s, byte* head, byte* tail, int count, TPtr fp)
            where TPtr : struct, IFreePointer
        {
            var prior = (byte*)s.Freelist;
            s.Counters = WithInUse(s.Counters, InUse(s.Counters) - count);
            fp.Set(tail, prior);
            s.Freelist = (nint)head;
            return prior;
        }

        // ---------------------------------------------------------------- allocate_slab()

        /// <summary>
        /// <c>allocate_slab()</c> once the pages are there (6.1 and 6.12): every object is set up
        /// (<c>setup_object()</c>: debug bytes, then the constructor) and linked by its free pointer
        /// to the next, in address order, or with CONFIG_SLAB_FREELIST_RANDOM in the order of the
        /// cache's random sequence from <paramref name="start"/> on, skipping the slots a smaller
        /// slab (an order fallback) does not have (<c>shuffle_freelist()</c>). Objects are set up
        /// in the order they are linked, as the kernel does. Returns the freelist's head.
        /// </summary>
        /// <param name="first">The first object: the slab's first byte, past the left red zone (<c>fixup_red_left()</c>).</param>
        /// <param name="objects">Objects in this slab (fewer than the sequence's length in a fallback-order slab).</param>
        /// <param name="size">Bytes from one object to the next (<c>s->size</c>).</param>
        /// <param name="randomSeq">The cache's random sequence (<c>s->random_seq</c>), or null for address order.</param>
        /// <param name="start">Where in the sequence to begin.</param>
        /// <param name="fp">How free pointers are stored.</param>
        /// <param name="setup">What is done to each object.</param>
        public static byte* Build<TPtr, TSetup>(byte* first, int objects, int size, int[] randomSeq, int start, TPtr fp, ref TSetup setup)
            where TPtr : struct, IFreePointer
            where TSetup : struct, ISetupObject
        {
            byte* head = null, prev = null;
            int pos = start;
            for (int i = 0; i < objects; i++)
            {
                int index = i;
                if (randomSeq != null)
                {
                    do
                    {
                        index = randomSeq[pos];
                        pos = (pos + 1) % randomSeq.Length;
                    }
                    while (index >= objects);
                }
                byte* obj = first + (long)index * size;
                setup.Setup(obj);
                if (prev == null)
                    head = obj;
                else
                    fp.Set(prev, obj);
                prev = obj;
            }
            if (prev != null)
                fp.Set(prev, null);
            return head;
        }

        /// <summary>
        /// The length and last object of a list that ends in null, at most <paramref name="max"/>
        /// objects long (a list longer than its slab loops: returns -1).
        /// </summary>
        public static int Tail<TPtr>(byte* head, int max, TPtr fp, out byte* tail)
            where TPtr : struct, IFreePointer
        {
            tail = head;
            if (head == null)
                return 0;
            int count = 1;
            for (byte* next = fp.Get(head); next != null; next = fp.Get(tail))
            {
                if (count == max)
                    return -1;
                tail = next;
                count++;
            }
            return count;
        }
    }
}
