// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// A design experiment for issue 12's last point (one allocator for the model and the library),
// measured by `simple-cache-bench --sheaves`: SLUB's own answer to the cost of its remote frees,
// the per-CPU sheaves of Linux 6.18 (mm/slub.c: alloc_from_pcs(), free_to_pcs(),
// __pcs_replace_empty_main(), __pcs_replace_full_main(), struct node_barn), in front of SLUB's
// slab layer as 6.1 and 6.12 have it, with a thread where the kernel has a CPU:
//
//   sheaf   an array of free objects; a thread allocates from (pops) and frees to (pushes) its
//           main sheaf with plain loads and stores, whichever thread allocated the object
//   spare   a second sheaf: a full main is swapped with an empty spare, an empty main with a
//           full one
//   barn    the node's sheaves, under a lock: at most MaxFull full and MaxEmpty empty ones
//           (MAX_FULL_SHEAVES and MAX_EMPTY_SHEAVES, 10 each in 6.18)
//   slabs   SLUB's: each slab's freelist and inuse in one word changed by compare-and-swap
//           (cmpxchg_double's job), partial slabs on the node's list under list_lock. A sheaf
//           is refilled from them (taking a slab's free objects, in address order) and flushed
//           to them when the barn is full (one CAS per run of objects of one slab, as
//           build_detached_freelist() groups them)
//
// Not the library: no constructor, no debug, no shrink or destroy; memory is one arena, never
// given back. It answers one question before the allocator is rebuilt on it: does the kernel's
// design meet issue 12's numbers in .NET, where SLUB's CPU slabs (a CAS per remote free) do not?

using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace SimpleCache.Bench
{
    [StructLayout(LayoutKind.Explicit, Size = 320)]
    internal sealed unsafe class SheafSlub : IDisposable
    {
        public const int ObjectSize = 64, SlabShift = 14, Objects = (1 << SlabShift) / ObjectSize;   // 256 objects of 64 B in 16 KiB, as SLUB's kmalloc-64 at order 2

        // A slab's state word: bits 0..15 the first free object's index + 1 (0: none), 16..31 inuse.
        [StructLayout(LayoutKind.Sequential, Size = 64)]
        private struct SlabHead
        {
            public long State;
            public int OnPartial;   // under list_lock
            public int Next;        // the node's partial list, as slab indices (-1: end)
            public int Prev;
        }

        // Each group of fields in a cache line of its own (two caches' objects, or a cache and a
        // thread's Cpu, may be neighbours on the GC heap): read-only, the node's list, the barn.
        [FieldOffset(64)] private readonly byte* _memory;
        [FieldOffset(72)] private readonly SlabHead* _slabs;
        [FieldOffset(80)] private readonly Sheaf** _full;
        [FieldOffset(88)] private readonly Sheaf** _empty;
        [FieldOffset(96)] private readonly int _maxSlabs;
        [FieldOffset(100)] public readonly int Capacity;
        [FieldOffset(104)] private readonly int _maxFull;
        [FieldOffset(108)] private readonly int _maxEmpty;
        [FieldOffset(128)] private SpinLock _listLock;   // spin_lock(&n->list_lock), as the kernel's
        [FieldOffset(136)] private int _partial;          // the node's partial list, under _listLock
        [FieldOffset(140)] private int _slabCount;
        [FieldOffset(192)] private SpinLock _barnLock;   // spin_lock(&barn->lock)
        [FieldOffset(200)] private int _nrFull;
        [FieldOffset(204)] private int _nrEmpty;
        public int SlabCount => _slabCount;

        public SheafSlub(int maxObjects, int capacity = 64, int maxFull = 10, int maxEmpty = 64)
        {
            Capacity = capacity;
            _maxFull = maxFull;
            _maxEmpty = maxEmpty;
            _partial = -1;
            _listLock = new SpinLock(false);
            _barnLock = new SpinLock(false);
            _maxSlabs = (maxObjects + Objects - 1) / Objects + 64;
            _memory = (byte*)NativeMemory.AlignedAlloc((nuint)_maxSlabs << SlabShift, 1 << SlabShift);
            _slabs = (SlabHead*)NativeMemory.AlignedAlloc((nuint)(_maxSlabs * sizeof(SlabHead) + 128), 128);
            // The barn's arrays and the slab headers are written by whichever thread takes a lock:
            // 128 bytes of nothing after each, as after a sheaf (NewSheaf).
            _full = (Sheaf**)NativeMemory.AlignedAlloc((nuint)(((maxFull * sizeof(Sheaf*) + 127) & ~127) + 128), 128);
            _empty = (Sheaf**)NativeMemory.AlignedAlloc((nuint)(((maxEmpty * sizeof(Sheaf*) + 127) & ~127) + 128), 128);
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(_memory);
            NativeMemory.AlignedFree(_slabs);
            NativeMemory.AlignedFree(_full);
            NativeMemory.AlignedFree(_empty);
        }

        /// <summary>A thread's sheaves (struct slub_percpu_sheaves): one per thread and cache.</summary>
        public Cpu ForThread() => new(this);

        internal struct Sheaf
        {
            public int Size;
            public int Pad;
            // objects follow
            public void** Objects => (void**)((byte*)Unsafe.AsPointer(ref this) + 8);
        }

        private Sheaf* NewSheaf()
        {
            // 128 bytes of nothing after it: a neighbouring sheaf of another thread is never in the
            // 128-byte pair of lines that the CPU's adjacent-line prefetcher fetches together.
            var sheaf = (Sheaf*)NativeMemory.AlignedAlloc((nuint)(((8 + Capacity * 8 + 127) & ~127) + 128), 128);
            sheaf->Size = 0;
            return sheaf;
        }

        private static int Index(long state) => (int)(state & 0xffff) - 1;
        private static int InUse(long state) => (int)((state >> 16) & 0xffff);
        private static long State(int index, int inuse) => (long)(index + 1) | ((long)inuse << 16);
        private byte* ObjectAt(int slab, int i) => _memory + ((long)slab << SlabShift) + (long)i * ObjectSize;
        private int SlabOf(void* p) => (int)(((byte*)p - _memory) >> SlabShift);
        private int IndexIn(void* p) => (int)(((nint)p & ((1 << SlabShift) - 1)) / ObjectSize);

        // Its fields have cache lines of their own: two threads' Cpu objects share none.
        [StructLayout(LayoutKind.Explicit, Size = 192)]
        public sealed class Cpu
        {
            [FieldOffset(0)] private readonly SheafSlub cache;
            [FieldOffset(64)] private Sheaf* _main;
            [FieldOffset(72)] private Sheaf* _spare;
            [FieldOffset(80)] private readonly int _capacity;

            public Cpu(SheafSlub cache)
            {
                this.cache = cache;
                _main = cache.NewSheaf();
                _spare = cache.NewSheaf();
                _capacity = cache.Capacity;
            }

            private void Swap()
            {
                Sheaf* t = _main;
                _main = _spare;
                _spare = t;
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void* Alloc()
            {
                Sheaf* m = _main;
                int n = m->Size;
                if (n == 0)
                    return AllocSlow();
                m->Size = n - 1;
                return m->Objects[n - 1];
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Free(void* p)
            {
                Sheaf* m = _main;
                int n = m->Size;
                if (n == _capacity)
                {
                    FreeSlow(p);
                    return;
                }
                m->Objects[n] = p;
                m->Size = n + 1;
            }

            // __pcs_replace_empty_main(): the spare if it has objects, else a full sheaf from the barn, else refill from the slabs.
            [MethodImpl(MethodImplOptions.NoInlining)]
            private void* AllocSlow()
            {
                if (_spare->Size > 0)
                    Swap();
                else if (cache.BarnExchangeEmpty(ref _main) == false)
                    cache.Refill(_main);
                return Alloc();
            }

            // __pcs_replace_full_main(): the spare if empty, else the barn takes the full sheaf, else flush it to the slabs.
            [MethodImpl(MethodImplOptions.NoInlining)]
            private void FreeSlow(void* p)
            {
                if (_spare->Size == 0)
                    Swap();
                else if (cache.BarnExchangeFull(ref _main) == false)
                    cache.Flush(_main);
                Free(p);
            }
        }

        // ------------------------------------------------------------------ the barn

        private bool BarnExchangeEmpty(ref Sheaf* main)
        {
            bool taken = false;
            try
            {
                _barnLock.Enter(ref taken);
                {
                    if (_nrFull == 0)
                        return false;
                    Sheaf* full = _full[--_nrFull];
                    if (_nrEmpty < _maxEmpty)
                        _empty[_nrEmpty++] = main;
                    else
                        NativeMemory.AlignedFree(main);
                    main = full;
                        return true;
                }
            }
            finally
            {
                if (taken) _barnLock.Exit(false);
            }
        }

        private bool BarnExchangeFull(ref Sheaf* main)
        {
            bool taken = false;
            try
            {
                _barnLock.Enter(ref taken);
                {
                    if (_nrFull == _maxFull)
                        return false;
                    _full[_nrFull++] = main;
                    main = _nrEmpty > 0 ? _empty[--_nrEmpty] : null;
                    }
            }
            finally
            {
                if (taken) _barnLock.Exit(false);
            }
            main = main != null ? main : NewSheaf();
            main->Size = 0;
            return true;
        }

        // ------------------------------------------------------------------ the slabs

        // Fill an empty sheaf from partial slabs (a new slab if none): each slab's free objects
        // taken with one CAS, then put in the sheaf so that they pop in address order.
        private void Refill(Sheaf* sheaf)
        {
            int want = Capacity;
            void** objects = sheaf->Objects;
            int got = 0;
            while (got < want)
            {
                int slab = TakePartial();
                long old, next;
                int taken;
                int firstTaken = got;
                do
                {
                    got = firstTaken;
                    old = Volatile.Read(ref _slabs[slab].State);
                    int index = Index(old);
                    int inuse = InUse(old);
                    taken = 0;
                    while (index >= 0 && got < want)
                    {
                        byte* o = ObjectAt(slab, index);
                        objects[got++] = o;
                        taken++;
                        byte* nextFree = *(byte**)o;
                        index = nextFree == null ? -1 : IndexIn(nextFree);
                    }
                    next = State(index, inuse + taken);
                }
                while (Interlocked.CompareExchange(ref _slabs[slab].State, next, old) != old );
                if (Index(next) >= 0)
                    PutPartial(slab);   // objects left: back on the partial list
                // Address order within the run: popped from the end, so highest first.
                var run = new Span<nint>(objects + firstTaken, got - firstTaken);
                bool ascending = true;
                for (int k = 1; k < run.Length && ascending; k++)
                    ascending = run[k - 1] < run[k];
                if (!ascending)
                    run.Sort();
                run.Reverse();
            }
            sheaf->Size = got;
        }

        // A partial slab off the node's list, or a new one.
        private int TakePartial()
        {
            bool taken = false;
            try
            {
                _listLock.Enter(ref taken);
                {
                    int s = _partial;
                    if (s >= 0)
                    {
                        _partial = _slabs[s].Next;
                        if (_partial >= 0)
                            _slabs[_partial].Prev = -1;
                        _slabs[s].OnPartial = 0;
                        return s;
                    }
                    s = _slabCount++;
                    if (s >= _maxSlabs)
                        throw new OutOfMemoryException("the experiment's arena is full");
                    for (int i = 0; i < Objects; i++)
                        *(byte**)ObjectAt(s, i) = i + 1 < Objects ? ObjectAt(s, i + 1) : null;
                    _slabs[s] = default;
                    _slabs[s].State = State(0, 0);
                    return s;
                }
            }
            finally
            {
                if (taken) _listLock.Exit(false);
            }
        }

        private void PutPartial(int slab)
        {
            bool taken = false;
            try
            {
                _listLock.Enter(ref taken);
                {
                    if (_slabs[slab].OnPartial != 0)
                        return;
                    _slabs[slab].OnPartial = 1;
                    _slabs[slab].Prev = -1;
                    _slabs[slab].Next = _partial;
                    if (_partial >= 0)
                        _slabs[_partial].Prev = slab;
                    _partial = slab;
                }
            }
            finally
            {
                if (taken) _listLock.Exit(false);
            }
        }

        // __kmem_cache_free_bulk(): runs of objects of one slab (build_detached_freelist()),
        // each linked and given back with one CAS (__slab_free()); a slab that was full goes on
        // the partial list.
        private void Flush(Sheaf* sheaf)
        {
            void** objects = sheaf->Objects;
            int n = sheaf->Size;
            int i = 0;
            while (i < n)
            {
                int slab = SlabOf(objects[i]);
                int j = i + 1;
                while (j < n && SlabOf(objects[j]) == slab)
                    j++;
                // The run objects[i..j) becomes a chain: objects[i] -> ... -> objects[j-1] -> the slab's freelist.
                for (int k = i; k < j - 1; k++)
                    *(void**)objects[k] = objects[k + 1];
                long old, next;
                do
                {
                    old = Volatile.Read(ref _slabs[slab].State);
                    int index = Index(old);
                    *(void**)objects[j - 1] = index >= 0 ? ObjectAt(slab, index) : null;
                    next = State(IndexIn(objects[i]), InUse(old) - (j - i));
                }
                while (Interlocked.CompareExchange(ref _slabs[slab].State, next, old) != old );
                if (Index(old) < 0)
                    PutPartial(slab);   // it was full
                i = j;
            }
            sheaf->Size = 0;
        }
    }

    internal static unsafe class SheafCheck
    {
        /// <summary>
        /// Before the experiment's figures mean anything: two threads allocate, free each other's
        /// objects and their own, at random, in batches up to the barn's size and beyond; no
        /// object may be handed out twice, and at the end every object is in a sheaf or free on
        /// its slab. Returns the objects checked.
        /// </summary>
        public static long Run(int capacity, int maxFull)
        {
            using var cache = new SheafSlub(200_000, capacity, maxFull);
            var live = new HashSet<nint>();
            var handed = new System.Collections.Concurrent.ConcurrentQueue<nint>[] { new(), new() };
            long checkedObjects = 0;
            var threads = new Thread[2];
            for (int t = 0; t < 2; t++)
            {
                int me = t;
                threads[t] = new Thread(() =>
                {
                    SheafSlub.Cpu cpu = cache.ForThread();
                    var rng = new Random(me + 1);
                    var mine = new List<nint>();
                    for (int round = 0; round < 400; round++)
                    {
                        int n = rng.Next(1, 3000);
                        for (int i = 0; i < n; i++)
                        {
                            nint o = (nint)cpu.Alloc();
                            lock (live)
                            {
                                if (!live.Add(o))
                                    throw new InvalidOperationException($"object 0x{o:x} handed out twice");
                                checkedObjects++;
                            }
                            mine.Add(o);
                        }
                        rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(mine));
                        int give = mine.Count / 3;   // a third to the other thread, to free there
                        for (int i = 0; i < give; i++)
                            handed[1 - me].Enqueue(mine[i]);
                        int keep = Math.Min(rng.Next(0, 50), mine.Count - give);
                        for (int i = give; i < mine.Count - keep; i++)
                            Free(cpu, live, mine[i]);
                        mine.RemoveRange(0, mine.Count - keep);
                        while (handed[me].TryDequeue(out nint o))
                            Free(cpu, live, o);
                    }
                    foreach (nint o in mine)
                        Free(cpu, live, o);
                });
            }
            foreach (Thread t in threads)
                t.Start();
            foreach (Thread t in threads)
                t.Join();
            foreach (var q in handed)
                while (q.TryDequeue(out nint o))
                    Free(cache.ForThread(), live, o);
            if (live.Count != 0)
                throw new InvalidOperationException($"{live.Count} objects never freed");
            return checkedObjects;
        }

        private static void Free(SheafSlub.Cpu cpu, HashSet<nint> live, nint o)
        {
            lock (live)
                if (!live.Remove(o))
                    throw new InvalidOperationException($"object 0x{o:x} freed but not live");
            cpu.Free((void*)o);
        }
    }

    internal readonly unsafe struct Sheaves(SheafSlub.Cpu cpu) : IAllocator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Alloc() => cpu.Alloc();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* p) => cpu.Free(p);
    }
}
