// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// SlabCache: SLUB's idea (mm/slub.c) for .NET code. Objects of one size live in slabs, blocks
// of 2^order pages laid out by SLUB's own geometry (SlubGeometry.cs), each described by a header
// kept beside it, as struct slab is, where an object's address finds it (Arena.cs: SLUB's
// virt_to_slab()). Where SLUB gives each CPU a
// slab to allocate from without atomic operations (this_cpu_cmpxchg on c->freelist and c->tid),
// this allocator gives each thread a ThreadCache: its active slab's free objects, its partial
// slabs and its full ones, all touched by that thread alone. The kernel pins a CPU's slab with
// the "frozen" bit; here a slab is frozen while a thread owns it (its Owner is the thread's
// token), its active slab or not: the library's freezing rule (SlubSlab.cs):
//
//   allocation, fast:   pop the thread's freelist                          (c->freelist in SLUB)
//   free by the owner:  push on the slab's LocalFree, count InUse down     (plain stores)
//   free by any other:  __slab_free(): on the slab's own freelist, head and counters changed
//                       together under the slab's lock (SlubSlab.cs, the code the model's SLUB
//                       runs too), and tell the owner once
//   allocation, slow:   the active slab's LocalFree, then its freelist (get_freelist()), then the thread's
//                       partial slabs (SLUB's CPU partial list), then the cache's pool (empty
//                       slabs kept constructed, and the slabs of threads that ended: SLUB's node
//                       partial list), then a new slab from an arena (new_slab()).
//
// A new slab runs the constructor on every object once (SLUB's setup_object() from
// allocate_slab()); a freed object goes back on a freelist as it is, so the next allocation gets
// it in the state its last user left, which for a constructor cache is the constructed state
// (the free pointer lives outside the object then, as SLUB moves it: calculate_sizes()).
// Emptied slabs stay with their thread up to MinPartial (SLUB's min_partial), then go to the
// cache's pool; Shrink() gives the pool's slabs back to the arenas, and arenas nobody uses back
// to the system. Destroy() counts what was never freed and reports it, as kmem_cache_destroy()
// does ("Objects remaining in ... on __kmem_cache_shutdown()").

using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace SimpleCache.Slab
{
    /// <summary>Runs once on each object of a new slab, before the object is first handed out.</summary>
    public unsafe delegate void SlabConstructor(void* obj);

    /// <summary>How a <see cref="SlabCache"/> lays out and keeps its slabs.</summary>
    public sealed class SlabCacheOptions
    {
        /// <summary>Alignment of each object, a power of two (at least 8; default 8).</summary>
        public int Align { get; init; } = 8;
        /// <summary>Run on each object once per slab (default none).</summary>
        public SlabConstructor Constructor { get; init; }
        /// <summary>The smallest slab, as a page order (slub_min_order; default 2: 16 KiB).</summary>
        public int MinSlabOrder { get; init; } = 2;
        /// <summary>Empty slabs a thread keeps for itself (SLUB's min_partial; default 5).</summary>
        public int MinPartial { get; init; } = 5;
        /// <summary>Empty slabs the cache's pool keeps, constructed, before giving slabs back (default 64).</summary>
        public int PoolLimit { get; init; } = 64;
        /// <summary>
        /// slub_debug for this cache (see <see cref="SlabDebugFlags"/>); null takes the letters of
        /// the SIMPLECACHE_SLAB_DEBUG environment variable, as slub_debug= on the kernel's command
        /// line applies to every cache, or none.
        /// </summary>
        public SlabDebugFlags? Debug { get; init; }
        /// <summary>Receives each debug report; without one, a report is thrown as a <see cref="SlabCorruptionException"/>.</summary>
        public Action<SlabDebugReport> OnReport { get; init; }
    }

    // A slab's header (SLUB's struct slab): 64 bytes in its arena's array of headers (Arena.cs).
    // Slab is struct slab's freelist and counters, changed only by SlubSlab.cs, the code the
    // model's SLUB changes its slabs with; the rest is the library's. The slab is frozen while a
    // thread owns it (the library's freezing rule, SlubSlab.cs): the owner's frees go to
    // LocalFree, and Slab.Freelist holds what other threads freed.
    [StructLayout(LayoutKind.Sequential, Size = 64)]
    internal unsafe struct SlabHeader
    {
        public void* LocalFree;      // objects the owner freed: the owner alone touches it
        public SlabState Slab;       // struct slab: objects other threads freed (a debug cache's slab: all its free objects), and the counters (inuse: objects not on that list)
        public long Owner;           // the owning ThreadCache's token, 0 while in the cache's pool
        public SlabHeader* Next;     // the owner's partial or full list, or the pool
        public SlabHeader* Prev;
        public int InUse;            // objects not on LocalFree (the thread's freelist and uncollected remote frees count as in use)
        public int List;             // which list the slab is on (SlabList)
        public int Notified;         // 1 while the owner has been told of remote frees and not yet looked
    }

    internal static class SlabList
    {
        public const int None = 0, Active = 1, Partial = 2, Full = 3, Pool = 4, Disabled = 5;
    }

    /// <summary>
    /// A cache of fixed-size unmanaged objects, allocated from slabs. Alloc and Free are safe from
    /// any thread; an object may be freed by another thread than the one that allocated it.
    /// </summary>
    public sealed unsafe partial class SlabCache : IDisposable
    {
        /// <summary>The page: slabs are 2^order of them.</summary>
        public const int PageSize = 4096;
        private const int MaxOrder = 10;

        [ThreadStatic] private static ThreadCache[] t_byId;
        [ThreadStatic] private static ThreadExitWatch t_watch;
        private static long s_tokens;
        private static readonly object s_idLock = new();
        private static readonly Stack<int> s_freeIds = new();
        private static int s_nextId;

        private readonly int _id;
        private readonly nint _arenaLow;      // an arena's bytes - 1: the bits of an address within its arena
        private readonly int _slabShift;      // log2 of a slab's bytes
        private readonly nint _slabBase;      // ~(a slab's bytes - 1): an address masked is its slab's memory
        private readonly int _freeOffset;
        private readonly SlabConstructor _ctor;
        private readonly int _minPartial;
        private readonly int _poolLimit;
        private readonly object _lock = new();
        private readonly Dictionary<long, ThreadCache> _threads = new();
        private readonly List<Arena> _arenas = new();
        private SlabHeader* _pool;
        private int _poolCount;
        private volatile bool _destroyed;
        private long _slabs, _slabsMade, _remoteFrees, _ctorCalls;

        /// <summary>Creates a cache of <paramref name="objectSize"/>-byte objects.</summary>
        public SlabCache(string name, int objectSize, SlabCacheOptions options = null)
        {
            options ??= new SlabCacheOptions();
            if (objectSize <= 0)
                throw new ArgumentOutOfRangeException(nameof(objectSize), objectSize, "an object has at least one byte");
            if (options.Align < 1 || !BitOperations.IsPow2(options.Align) || options.Align > PageSize)
                throw new ArgumentOutOfRangeException(nameof(options), options.Align, "the alignment must be a power of two up to the page size");
            if (options.MinSlabOrder < 0 || options.MinSlabOrder > MaxOrder)
                throw new ArgumentOutOfRangeException(nameof(options), options.MinSlabOrder, $"the slab order must be 0 to {MaxOrder}");
            Name = name ?? "slab";
            ObjectSize = objectSize;
            _ctor = options.Constructor;
            _minPartial = Math.Max(0, options.MinPartial);
            _poolLimit = Math.Max(0, options.PoolLimit);
            _debug = options.Debug ?? SlabDebug.FromEnvironment();
            _onReport = options.OnReport;

            // SLUB's calculate_sizes() and calculate_order() (SlubGeometry.cs, the computation the
            // model of the kernel checks against 6.1 and 6.12; 6.12's generation here): the slot,
            // the free pointer in the middle of the object (or after it, where a constructor's
            // state or poison must survive while it is free), the debug metadata of the letters
            // asked for, and the order; each track is this library's 16 bytes, where SLUB's are 32.
            SlubFlags flags = (Has(SlabDebugFlags.Consistency) ? SlubFlags.ConsistencyChecks : 0) | (Has(SlabDebugFlags.RedZone) ? SlubFlags.RedZone : 0)
                | (Has(SlabDebugFlags.Poison) ? SlubFlags.Poison : 0) | (Has(SlabDebugFlags.StoreUser) ? SlubFlags.StoreUser : 0);
            SlubLayout layout = SlubGeometry.Calculate(SlubVersion.V6_12, (uint)objectSize, (uint)options.Align, flags, _ctor != null,
                Environment.ProcessorCount, options.MinSlabOrder, TrackBytes)
                ?? throw new ArgumentOutOfRangeException(nameof(objectSize), objectSize, $"no slab up to order {MaxOrder} holds an object of {objectSize} bytes");
            Align = (int)layout.Align;
            SlotSize = (int)layout.Size;
            Order = layout.Order;
            SlabBytes = PageSize << Order;
            ObjectsPerSlab = (int)layout.ObjectsPerSlab;
            _freeOffset = (int)layout.Offset;
            _redLeft = (int)layout.RedLeftPad;
            _layout = layout;
            _trackOffset = (int)layout.InfoEnd;
            _slabShift = BitOperations.Log2((uint)SlabBytes);
            _slabBase = ~(nint)(SlabBytes - 1);
            _arenaLow = (nint)(Arena.BytesFor(SlabBytes) - 1);
            // A debug cache has no per-thread caches: no id, so Alloc and Free never take the
            // fast paths (which would read a slab header before any check of the pointer).
            if (_debug == SlabDebugFlags.None)
                lock (s_idLock)
                    _id = s_freeIds.Count > 0 ? s_freeIds.Pop() : s_nextId++;
            else
                _id = -1;
            SlabMetrics.Register(this);
        }

        /// <summary>The cache's name (in leak reports and metrics).</summary>
        public string Name { get; }
        /// <summary>Bytes of each object, as asked for.</summary>
        public int ObjectSize { get; }
        /// <summary>Alignment of each object.</summary>
        public int Align { get; }
        /// <summary>Bytes between one object and the next in a slab.</summary>
        public int SlotSize { get; }
        /// <summary>Each slab is 2^Order pages.</summary>
        public int Order { get; }
        /// <summary>Bytes of each slab.</summary>
        public int SlabBytes { get; }
        /// <summary>Objects in each slab.</summary>
        public int ObjectsPerSlab { get; }
        /// <summary>Slabs the cache holds now (in threads, in its pool, and full ones).</summary>
        public long Slabs => Interlocked.Read(ref _slabs);
        /// <summary>Slabs made from new memory since the cache was created (each one ran the constructor on all its objects).</summary>
        public long SlabsMade => Interlocked.Read(ref _slabsMade);
        /// <summary>Times the constructor ran.</summary>
        public long ConstructorCalls => Interlocked.Read(ref _ctorCalls);
        /// <summary>Frees by another thread than the slab's owner.</summary>
        public long RemoteFrees => Interlocked.Read(ref _remoteFrees);
        /// <summary>Slabs in the cache's pool: empty ones kept constructed, and those of threads that ended.</summary>
        public int PoolSlabs { get { lock (_lock) return _poolCount; } }
        /// <summary>
        /// Bytes of memory the cache holds from the system: its slabs, and the slabs its arenas
        /// keep for reuse until <see cref="Shrink"/> (address space never cut into slabs is not
        /// counted: no page of it is touched).
        /// </summary>
        public long Bytes
        {
            get
            {
                lock (_lock)
                    return _arenas.Sum(a => a.Bytes);
            }
        }

        // ---------------------------------------------------------------- allocation

        /// <summary>An object, or null when memory runs out. Its bytes are as its last user left them (or as the constructor made them).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Alloc()
        {
            ThreadCache[] byId = t_byId;
            if (byId != null && (uint)_id < (uint)byId.Length && byId[_id] is { } tc)
            {
                void* obj = tc.Freelist;
                if (obj != null)
                {
                    tc.Freelist = *(void**)((byte*)obj + _freeOffset);
                    return obj;
                }
            }
            return AllocSlow();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private void* AllocSlow()
        {
            if (_debug != SlabDebugFlags.None)
                return DebugAlloc();
            return AllocSlowFor(ThisThread());
        }

        // ___slab_alloc(): fills the thread's freelist; false when no memory is left.
        private bool Refill(ThreadCache tc)
        {
            SlabHeader* active = tc.Active;
            if (active != null)
            {
                // The objects the thread freed to its own active slab (SLUB frees those straight to c->freelist).
                if (active->LocalFree != null)
                {
                    tc.Freelist = active->LocalFree;
                    active->LocalFree = null;
                    active->InUse = ObjectsPerSlab;
                    return true;
                }
                // get_freelist(): what other threads freed to it meanwhile. They counted as in use and
                // now go to the thread's freelist, where they count as in use again.
                void* remote = Volatile.Read(ref active->Slab.Freelist) == 0 ? null : GetFreelist(active);
                if (remote != null)
                {
                    tc.Freelist = remote;
                    return true;
                }
                // Full: it waits on the thread's full list until a free comes.
                tc.Active = null;
                tc.ActiveBase = 0;
                Link(ref tc.Full, active, SlabList.Full);
            }
            DrainMail(tc);
            SlabHeader* partial = tc.Partial;
            if (partial != null)
            {
                Unlink(ref tc.Partial, partial);
                if (partial->InUse == 0)
                    tc.EmptyCount--;
                Activate(tc, partial);
                return true;
            }
            while (TakeFromPool(tc) is var slab && slab != null)
            {
                CollectRemote(slab);
                if (slab->LocalFree != null)
                {
                    Activate(tc, slab);
                    return true;
                }
                Link(ref tc.Full, slab, SlabList.Full);   // a full slab of an ended thread: ours to watch now
            }
            SlabHeader* fresh = NewSlab(tc.Token);
            if (fresh == null)
                return false;
            Activate(tc, fresh);
            return true;
        }

        private void Activate(ThreadCache tc, SlabHeader* slab)
        {
            if (slab->InUse > 0 && slab->LocalFree != null && ObjectsPerSlab <= MaxSortedObjects)
                SortFreelist(slab);
            slab->List = SlabList.Active;
            tc.Active = slab;
            tc.ActiveBase = (nint)MemoryOf(slab);
            tc.Freelist = slab->LocalFree;
            slab->LocalFree = null;
            slab->InUse = ObjectsPerSlab;
        }

        // A partly used slab's free objects were freed in whatever order their users chose: hand
        // them out in address order instead (SLUB keeps the order of the frees). Objects
        // allocated one after another then sit one after another, and a walk over them is one the
        // CPU's prefetchers follow: after a churn this is what keeps locality. The cost is a bit
        // per object of the slab, and a step per free one, once per activation; a slab with no
        // object in use (the common case when a live set comes and goes whole) skips it.
        private const int MaxSortedObjects = 32768;   // a bitmap of at most 4 KiB on the stack

        private void SortFreelist(SlabHeader* slab)
        {
            int words = (ObjectsPerSlab + 63) >> 6;
            ulong* free = stackalloc ulong[words];
            new Span<ulong>(free, words).Clear();
            byte* first = MemoryOf(slab);
            for (void* o = slab->LocalFree; o != null; o = *(void**)((byte*)o + _freeOffset))
            {
                int i = (int)(((byte*)o - first) / SlotSize);
                free[i >> 6] |= 1UL << i;
            }
            void* list = null;
            for (int w = words - 1; w >= 0; w--)
                for (ulong bits = free[w]; bits != 0; bits &= ~(1UL << (63 - BitOperations.LeadingZeroCount(bits))))
                {
                    byte* obj = ObjectAt(slab, (w << 6) + 63 - BitOperations.LeadingZeroCount(bits));
                    *(void**)(obj + _freeOffset) = list;
                    list = obj;
                }
            slab->LocalFree = list;
        }

        // ---------------------------------------------------------------- free

        /// <summary>Gives an object back. Null is ignored. The object must come from this cache and be in use.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* obj)
        {
            if (obj == null)
                return;
            ThreadCache[] byId = t_byId;
            if (byId != null && (uint)_id < (uint)byId.Length && byId[_id] is { } tc)
            {
                // do_slab_free()'s fast path: an object of the thread's active slab goes straight
                // back on its freelist, first out at the next allocation, still warm in the CPU cache.
                // The slab is known by its memory (the address masked), as c->slab is compared in
                // SLUB; the header is looked up only off this path.
                if (((nint)obj & _slabBase) == tc.ActiveBase)
                {
                    *(void**)((byte*)obj + _freeOffset) = tc.Freelist;
                    tc.Freelist = obj;
                    return;
                }
                SlabHeader* own = HeaderOf(obj);
                if (own->Owner == tc.Token)
                {
                    FreeOwned(tc, own, obj);
                    return;
                }
            }
            if (_debug != SlabDebugFlags.None)
                DebugFree(obj);
            else
                FreeRemote(HeaderOf(obj), obj);
        }

        // The owner frees to one of its slabs that is not active: plain stores.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal void FreeOwned(ThreadCache tc, SlabHeader* slab, void* obj)
        {
            *(void**)((byte*)obj + _freeOffset) = slab->LocalFree;
            slab->LocalFree = obj;
            if (--slab->InUse == 0 || slab->List == SlabList.Full)
                FreeSlowLocal(tc, slab);
        }

        // SlabLocal's allocation when the thread's freelist is empty.
        [MethodImpl(MethodImplOptions.NoInlining)]
        internal void* AllocSlowFor(ThreadCache tc)
        {
            ObjectDisposedException.ThrowIf(_destroyed, this);
            while (true)
            {
                void* obj = tc.Freelist;
                if (obj != null)
                {
                    tc.Freelist = *(void**)((byte*)obj + _freeOffset);
                    return obj;
                }
                if (!Refill(tc))
                    return null;
            }
        }

        internal int FreeOffset => _freeOffset;
        internal nint SlabBase => _slabBase;
        internal nint ArenaLow => _arenaLow;
        internal int SlabShift => _slabShift;

        // virt_to_slab(): the header of the slab an address of it is in (Arena.cs), from the
        // cache's shifts (SlabLocal keeps its own copies of them).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static SlabHeader* HeaderOf(void* p, nint arenaLow, int slabShift) =>
            (SlabHeader*)(((nint)p & ~arenaLow) + ((((nint)p & arenaLow) >> slabShift) << 6));

        /// <summary>
        /// The calling thread's own handle on the cache (its per-thread slabs, as SLUB's
        /// this_cpu_ptr(s->cpu_slab) is a CPU's): Alloc and Free through it skip the thread-local
        /// lookup that every <see cref="Alloc"/> and <see cref="Free"/> makes (on Linux a call to
        /// __tls_get_addr), the one cost the cache's fast path has beyond a bare freelist's. Keep
        /// it in a local or a field of the thread's own, and use it on this thread only: another
        /// thread must take its own. Objects stay the cache's: any thread may free them, through
        /// its handle or <see cref="Free"/>. A debug cache's handle takes the debug path.
        /// </summary>
        public SlabLocal Local() => _debug != SlabDebugFlags.None ? new SlabLocal(this, null) : new SlabLocal(this, ThisThread());

        // Frees that change the slab's list (the owner's own, or remote ones just collected): a
        // full slab has room again (SLUB: a full slab's first free puts it on the CPU partial
        // list), or a partial slab is empty, counted once as it becomes so.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void FreeSlowLocal(ThreadCache tc, SlabHeader* slab)
        {
            if (slab->List == SlabList.Full)
            {
                Unlink(ref tc.Full, slab);
                Link(ref tc.Partial, slab, SlabList.Partial);
            }
            if (slab->InUse == 0 && slab->List == SlabList.Partial)
                Emptied(tc, slab);
        }

        // An owned slab that is not active has no object in use: keep min_partial such slabs,
        // give the others to the pool (SLUB: discard_slab() once the node has min_partial).
        private void Emptied(ThreadCache tc, SlabHeader* slab)
        {
            if (tc.EmptyCount < _minPartial)
            {
                tc.EmptyCount++;
                return;
            }
            Unlink(ref tc.Partial, slab);
            ToPool(slab);
        }

        // __slab_free() from another thread than the owner: the object goes on the slab's own
        // freelist, head and counters updated together as the kernel's __slab_free() does it
        // (SlubSlab.TryFree, the model's code too), then, once until the owner looks, a note in
        // the owner's mailbox. The slab is frozen while it has an owner (the library's freezing
        // rule), so no free here moves it between lists: its owner does that.
        [MethodImpl(MethodImplOptions.NoInlining)]
        internal void FreeRemote(SlabHeader* slab, void* obj)
        {
            Interlocked.Increment(ref _remoteFrees);
            nint prior;
            uint counters;
            do
            {
                SlubSlab.Look(ref slab->Slab, out prior, out counters);
                // set_freepointer()'s naive check (CONFIG_SLAB_FREELIST_HARDENED, BUG_ON(object == fp)):
                // an object freed twice in a row would point to itself. (Freed twice with another
                // free between, it makes the list loop, which its collection finds.)
                if (prior == (nint)obj)
                    throw new InvalidOperationException($"{Name}: object 0x{(nint)obj:x} freed twice");
            }
            while (!SlubSlab.TryFree(ref slab->Slab, prior, counters, (byte*)obj, (byte*)obj, 1, freeze: false, FreePointer));
            if (Volatile.Read(ref slab->Notified) != 0 || Interlocked.CompareExchange(ref slab->Notified, 1, 0) != 0)
                return;
            // Read the owner after the push: a slab in the pool (owner 0) is collected when a
            // thread takes it, which sets the owner before it collects.
            long owner = Volatile.Read(ref slab->Owner);
            if (owner == 0)
                return;
            ThreadCache tc;
            lock (_lock)
                _threads.TryGetValue(owner, out tc);
            tc?.Post(slab);
        }

        // The library's free pointer: the address itself, at the slab's free pointer offset.
        private PlainFreePointer FreePointer => new(_freeOffset);

        // get_freelist() with the library's rule: what other threads freed, taken by the slab's
        // owner (or by the thread that takes it from the pool), which keeps the slab.
        private void* GetFreelist(SlabHeader* slab)
        {
            int fails = 0;
            return SlubSlab.GetFreelist(ref slab->Slab, ownerKeeps: true, ref fails);
        }

        // Moves a slab's remote frees to its LocalFree (the owner, or a thread taking it from the
        // pool); returns how many.
        //
        // It always takes the slab's lock, even for an empty list: a look without it could miss a
        // free whose thread, in the same instant, saw the owner's Notified still 1 and posted
        // nothing (each side's load passing its own store, as x86 allows). The lock's
        // compare-and-swap orders DrainMail's Notified = 0 before the look.
        private int CollectRemote(SlabHeader* slab)
        {
            var list = (byte*)GetFreelist(slab);
            if (list == null)
                return 0;
            int count = SlubSlab.Tail(list, ObjectsPerSlab, FreePointer, out byte* tail);
            if (count < 0)
                throw new InvalidOperationException($"{Name}: the objects other threads freed to slab 0x{(nint)MemoryOf(slab):x} are more than it holds: an object was freed twice");
            *(void**)(tail + _freeOffset) = slab->LocalFree;
            slab->LocalFree = list;
            slab->InUse -= count;
            return count;
        }

        // The owner reads its mailbox: each slab with remote frees gets them collected, and a
        // full one goes back on the partial list.
        private void DrainMail(ThreadCache tc)
        {
            int n = tc.TakeMail(out nint[] mail);
            Exception doubleFree = null;
            for (int i = 0; i < n; i++)
            {
                var slab = (SlabHeader*)mail[i];
                if (Volatile.Read(ref slab->Owner) != tc.Token)
                    continue;   // given to the pool since: whoever takes it collects
                Volatile.Write(ref slab->Notified, 0);
                // A note about frees already collected (by a refill, or an earlier note) changes
                // nothing; new frees move the slab's lists as the owner's own frees do. A slab
                // whose list loops is reported once the other slabs' mail is done.
                try
                {
                    if (CollectRemote(slab) > 0)
                        FreeSlowLocal(tc, slab);
                }
                catch (InvalidOperationException e)
                {
                    doubleFree ??= e;
                }
            }
            if (doubleFree != null)
                throw doubleFree;
        }

        // ---------------------------------------------------------------- bulk, shrink

        /// <summary>Fills <paramref name="objects"/> (kmem_cache_alloc_bulk()): all or nothing; returns how many (0 when memory ran out).</summary>
        public int AllocBulk(Span<nint> objects)
        {
            for (int i = 0; i < objects.Length; i++)
            {
                void* obj = Alloc();
                if (obj == null)
                {
                    FreeBulk(objects[..i]);
                    objects[..i].Clear();
                    return 0;
                }
                objects[i] = (nint)obj;
            }
            return objects.Length;
        }

        /// <summary>Frees every object of <paramref name="objects"/> (kmem_cache_free_bulk()).</summary>
        public void FreeBulk(ReadOnlySpan<nint> objects)
        {
            foreach (nint obj in objects)
                Free((void*)obj);
        }

        /// <summary>
        /// Gives memory back (kmem_cache_shrink()): the calling thread's empty slabs and the
        /// pool's go back to their arenas, and arenas with no slab in use to the system (until
        /// then an arena keeps the slabs given back to it, for the cache's next new slabs). Other
        /// threads' slabs are theirs (SLUB flushes every CPU; a thread cannot be interrupted
        /// here), so call it from each thread that should let go. Returns the slabs released.
        /// </summary>
        public int Shrink()
        {
            ThreadCache tc = Existing();
            if (tc != null)
            {
                DrainMail(tc);
                for (SlabHeader* s = tc.Partial, next; s != null; s = next)
                {
                    next = s->Next;
                    if (s->InUse == 0)
                    {
                        Unlink(ref tc.Partial, s);
                        tc.EmptyCount--;
                        ToPool(s);
                    }
                }
            }
            int released = 0;
            var reports = new List<SlabDebugReport>();
            lock (_lock)
            {
                for (SlabHeader* s = _dPartial, next; s != null; s = next)
                {
                    next = s->Next;
                    if (s->Slab.InUse == 0)
                    {
                        Unlink(ref _dPartial, s);
                        _dEmpty--;
                        SlabPadCheck(s, reports);
                        ReleaseSlab(s);
                        released++;
                    }
                }
                for (SlabHeader* s = _pool, next; s != null; s = next)
                {
                    next = s->Next;
                    CollectRemote(s);
                    if (s->InUse == 0)
                    {
                        Unlink(ref _pool, s);
                        _poolCount--;
                        ReleaseSlab(s);
                        released++;
                    }
                }
                ReleaseEmptyArenas();
            }
            Raise(reports);
            return released;
        }

        // ---------------------------------------------------------------- threads

        private ThreadCache ThisThread()
        {
            ThreadCache[] byId = t_byId;
            if (byId == null || byId.Length <= _id)
            {
                Array.Resize(ref byId, Math.Max(_id + 1, (byId?.Length ?? 4) * 2));
                t_byId = byId;
            }
            ThreadCache tc = byId[_id];
            if (tc != null && tc.Cache == this)
                return tc;
            tc = new ThreadCache(this, Interlocked.Increment(ref s_tokens));
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_destroyed, this);
                _threads.Add(tc.Token, tc);
            }
            byId[_id] = tc;
            (t_watch ??= new ThreadExitWatch()).Add(tc);
            return tc;
        }

        private ThreadCache Existing()
        {
            ThreadCache[] byId = t_byId;
            return byId != null && (uint)_id < (uint)byId.Length && byId[_id] is { } tc && tc.Cache == this ? tc : null;
        }

        // A thread ended (its ThreadExitWatch was finalized): its slabs go to the pool, where any
        // thread that needs a slab takes them, collecting what other threads freed to them.
        internal void Abandon(ThreadCache tc)
        {
            lock (_lock)
            {
                if (_destroyed || !_threads.Remove(tc.Token))
                    return;
                foreach (nint s in TakeSlabs(tc))
                    PoolLocked((SlabHeader*)s);
            }
        }

        // Every slab of a thread that will not use them again (it ended, or the cache is being
        // destroyed): its freelist's objects go back to the active slab's LocalFree, its mailbox
        // closes, and its lists are emptied.
        private List<nint> TakeSlabs(ThreadCache tc)
        {
            ReturnFreelist(tc);
            tc.Close();
            var slabs = new List<nint>();
            if (tc.Active != null)
                slabs.Add((nint)tc.Active);
            foreach (nint head in new[] { (nint)tc.Partial, (nint)tc.Full })
                for (SlabHeader* s = (SlabHeader*)head; s != null; s = s->Next)
                    slabs.Add((nint)s);
            tc.Active = tc.Partial = tc.Full = null;
            tc.ActiveBase = 0;
            return slabs;
        }

        private void ReturnFreelist(ThreadCache tc)
        {
            SlabHeader* active = tc.Active;
            for (void* obj = tc.Freelist, next; obj != null; obj = next)
            {
                next = *(void**)((byte*)obj + _freeOffset);
                *(void**)((byte*)obj + _freeOffset) = active->LocalFree;
                active->LocalFree = obj;
                active->InUse--;
            }
            tc.Freelist = null;
        }

        // ---------------------------------------------------------------- the pool and the arenas

        // An emptied slab goes to the pool, or, with the pool at its limit, straight back to its
        // arena, constructed, where the cache's next new slab comes from (the kernel's
        // discard_slab() once the node holds min_partial). O(1) either way: the pool is not
        // searched (a walk of 64 pooled slabs per release, when each header was the head of its
        // 16 KiB-aligned slab and all of them fell in one set of the CPU's caches, cost pattern
        // (c) 1 ns per object).
        private void ToPool(SlabHeader* slab)
        {
            lock (_lock)
            {
                if (_poolCount < _poolLimit)
                    PoolLocked(slab);
                else
                    ReleaseSlab(slab);
            }
        }

        private void PoolLocked(SlabHeader* slab)
        {
            int fails = 0;
            Volatile.Write(ref slab->Owner, 0);
            SlubSlab.Unfreeze(ref slab->Slab, ref fails);   // nobody's: as a slab on the node's partial list
            slab->Next = slab->Prev = null;
            Link(ref _pool, slab, SlabList.Pool);
            _poolCount++;
        }

        private SlabHeader* TakeFromPool(ThreadCache tc)
        {
            lock (_lock)
            {
                SlabHeader* slab = _pool;
                if (slab == null)
                    return null;
                Unlink(ref _pool, slab);
                _poolCount--;
                Interlocked.Exchange(ref slab->Owner, tc.Token);
                Volatile.Write(ref slab->Notified, 0);
                int fails = 0;
                SlubSlab.Freeze(ref slab->Slab, take: false, ref fails);   // the thread's now (its LocalFree comes with it)
                return slab;
            }
        }

        private SlabHeader* NewSlab(long owner)
        {
            SlabHeader* slab;
            bool fresh;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_destroyed, this);
                slab = CarveSlab(owner, out fresh);
            }
            if (slab == null)
                return null;
            Interlocked.Increment(ref _slabs);
            if (!fresh)
            {
                // A slab given back to its arena: every object is free, on its LocalFree, and as
                // its last user left it (constructed, for a constructor cache): nothing to redo.
                slab->Next = slab->Prev = null;
                slab->List = SlabList.None;
                slab->Notified = 0;
                if (owner > 0)
                    SlubSlab.Init(ref slab->Slab, null, ObjectsPerSlab, ObjectsPerSlab, frozen: true);
                // (a debug cache's slab keeps its objects on its own freelist, none in use)
                Volatile.Write(ref slab->Owner, owner);
                return slab;
            }
            // (Arena.Take cleared the header and set its owner.)
            // allocate_slab(): the freelist in address order, each object constructed once, by
            // the code that builds the model's slabs (SlubSlab.Build). A thread's slab gives its
            // objects to the owner's LocalFree: the slab's own freelist starts empty, so every
            // object counts in its counters as in use, as a new CPU slab's do (c->freelist holds
            // them). A debug cache's slab (no owner) keeps them on its own freelist, as SLUB's
            // debug slabs do.
            var setup = new ConstructorSetup(_ctor);
            byte* list = SlubSlab.Build(ObjectAt(slab, 0), ObjectsPerSlab, SlotSize, null, 0, FreePointer, ref setup);
            if (_ctor != null)
                Interlocked.Add(ref _ctorCalls, ObjectsPerSlab);
            if (owner > 0)
            {
                slab->LocalFree = list;
                SlubSlab.Init(ref slab->Slab, null, ObjectsPerSlab, ObjectsPerSlab, frozen: true);
            }
            else
                SlubSlab.Init(ref slab->Slab, list, ObjectsPerSlab);
            slab->Owner = owner;
            Interlocked.Increment(ref _slabsMade);
            return slab;
        }

        // setup_object() for this library: the constructor, if any (a debug cache's bytes are
        // laid after, by DebugInitSlab).
        private readonly struct ConstructorSetup(SlabConstructor ctor) : ISetupObject
        {
            public void Setup(byte* obj) => ctor?.Invoke(obj);
        }

        private SlabHeader* CarveSlab(long owner, out bool fresh)
        {
            foreach (Arena arena in _arenas)
                if (arena.Take(owner, out fresh) is var s && s != null)
                    return s;
            Arena added = Arena.Create(SlabBytes);
            fresh = true;
            if (added == null)
                return null;
            _arenas.Add(added);
            return added.Take(owner, out fresh);
        }

        // discard_slab(): back to its arena, where the cache's next new slab comes from. The arena
        // keeps it, objects constructed, until Shrink() or Destroy() (the kernel's page allocator
        // keeps freed pages too): a workload whose live set comes and goes would otherwise give
        // memory to the system and take it back, page faults and constructor calls and all, every
        // time. Its header's Next links the arena's list; its objects stay on its LocalFree (a
        // debug cache's, on its struct slab freelist).
        private void ReleaseSlab(SlabHeader* slab)
        {
            Interlocked.Decrement(ref _slabs);
            Arena arena = ArenaOf(slab) ?? throw new InvalidOperationException($"{Name}: slab 0x{(nint)slab:x} is in none of the cache's arenas");
            arena.Give(slab);
        }

        // The cache's arena whose slab this header describes, or null.
        private Arena ArenaOf(SlabHeader* slab)
        {
            foreach (Arena arena in _arenas)
                if (arena.Contains(slab))
                    return arena;
            return null;
        }

        // The objects of a slab's freelist, by address: at most one more than the slab holds, so
        // that a list a double free made loop still ends.
        private HashSet<nint> FreeSet(void* head)
        {
            var free = new HashSet<nint>();
            for (void* o = head; o != null && free.Count <= ObjectsPerSlab; o = *(void**)((byte*)o + _freeOffset))
                free.Add((nint)o);
            return free;
        }

        // Whether the address is in one of the cache's slabs.
        private bool InSlabs(byte* p)
        {
            foreach (Arena arena in _arenas)
                if (arena.ContainsAddress(p))
                    return true;
            return false;
        }

        // The i-th object of a slab: i slots in, past the slot's left red zone.
        private byte* ObjectAt(SlabHeader* slab, int i) => MemoryOf(slab) + (long)i * SlotSize + _redLeft;

        // virt_to_slab(): the header of the slab an address of it is in (Arena.cs). Only for an
        // address of one of the cache's slabs: any other may lead to memory nobody mapped.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private SlabHeader* HeaderOf(void* p) => HeaderOf(p, _arenaLow, _slabShift);

        // slab_address(): the first byte of a slab's memory, from its header.
        private byte* MemoryOf(SlabHeader* slab) =>
            (byte*)((nint)slab & ~_arenaLow) + ((((nint)slab & _arenaLow) >> 6) << _slabShift);

        // Arenas with no slab in use go back to the system.
        private void ReleaseEmptyArenas()
        {
            for (int i = _arenas.Count - 1; i >= 0; i--)
                if (_arenas[i].Empty)
                {
                    _arenas[i].Dispose();
                    _arenas.RemoveAt(i);
                }
        }

        // ---------------------------------------------------------------- lists

        private static void Link(ref SlabHeader* head, SlabHeader* slab, int list)
        {
            slab->List = list;
            slab->Prev = null;
            slab->Next = head;
            if (head != null)
                head->Prev = slab;
            head = slab;
        }

        private static void Unlink(ref SlabHeader* head, SlabHeader* slab)
        {
            if (slab->Prev != null)
                slab->Prev->Next = slab->Next;
            else
                head = slab->Next;
            if (slab->Next != null)
                slab->Next->Prev = slab->Prev;
            slab->Next = slab->Prev = null;
            slab->List = SlabList.None;
        }

        // ---------------------------------------------------------------- destroy

        /// <summary>
        /// kmem_cache_destroy(): frees every slab when no object is in use. Objects still in use
        /// are reported, and then the cache keeps its memory (as the kernel leaks such a cache),
        /// so that the leaked objects stay valid. No thread may use the cache during or after this.
        /// </summary>
        public LeakReport Destroy()
        {
            lock (_lock)
            {
                if (_destroyed)
                    return new LeakReport(Name, 0, []);
                _destroyed = true;
                var slabs = new List<nint>();
                foreach (ThreadCache tc in _threads.Values)
                    slabs.AddRange(TakeSlabs(tc));
                foreach (nint head in new[] { (nint)_pool, (nint)_dPartial, (nint)_dFull, (nint)_dDisabled })
                    for (SlabHeader* s = (SlabHeader*)head; s != null; s = s->Next)
                        slabs.Add((nint)s);
                _pool = _dPartial = _dFull = _dDisabled = null;
                _threads.Clear();
                var leaked = new List<nint>();
                long count = 0;
                foreach (nint p in slabs)
                {
                    var slab = (SlabHeader*)p;
                    // A debug cache's slabs keep their free objects on struct slab's freelist, as
                    // SLUB's debug caches do; the others on their owner's LocalFree, once what
                    // other threads freed is collected there.
                    int inUse;
                    void* freelist;
                    if (_debug != SlabDebugFlags.None)
                    {
                        inUse = slab->Slab.InUse;
                        freelist = (void*)slab->Slab.Freelist;
                    }
                    else
                    {
                        try
                        {
                            CollectRemote(slab);
                        }
                        catch (InvalidOperationException)
                        {
                            // a double free looped the list: what it held stays counted as in use
                        }
                        inUse = slab->InUse;
                        freelist = slab->LocalFree;
                    }
                    if (inUse == 0)
                        continue;
                    count += inUse;
                    // list_slab_objects(): the objects not on the freelist are the ones in use.
                    HashSet<nint> free = FreeSet(freelist);
                    for (int i = 0; i < ObjectsPerSlab && leaked.Count < LeakReport.MaxListed; i++)
                    {
                        nint obj = (nint)ObjectAt(slab, i);
                        if (!free.Contains(obj))
                            leaked.Add(obj);
                    }
                }
                if (count == 0)
                {
                    foreach (Arena arena in _arenas)
                        arena.Dispose();
                    _arenas.Clear();
                    Interlocked.Exchange(ref _slabs, 0);
                }
                if (_id >= 0)
                    lock (s_idLock)
                        s_freeIds.Push(_id);
                SlabMetrics.Unregister(this);
                return new LeakReport(Name, count, leaked, LeakSites(leaked));
            }
        }

        /// <summary>Destroys the cache (<see cref="Destroy"/>); a leak is reported by an exception.</summary>
        public void Dispose()
        {
            LeakReport report = Destroy();
            if (report.Leaked > 0)
                throw new InvalidOperationException(report.ToString());
        }
    }

    /// <summary>What <see cref="SlabCache.Destroy"/> found still in use.</summary>
    public sealed class LeakReport(string cache, long leaked, IReadOnlyList<nint> objects, IReadOnlyList<(string Site, int Objects)> sites = null)
    {
        /// <summary>At most this many addresses are listed.</summary>
        public const int MaxListed = 100;
        /// <summary>The cache's name.</summary>
        public string Cache { get; } = cache;
        /// <summary>Objects allocated and never freed.</summary>
        public long Leaked { get; } = leaked;
        /// <summary>The first of them (up to <see cref="MaxListed"/>).</summary>
        public IReadOnlyList<nint> Objects { get; } = objects;
        /// <summary>
        /// With tracking (slub_debug U): where the listed objects were allocated, and how many at
        /// each call site, most first (SLUB's /sys/kernel/debug/slab/NAME/alloc_traces); else empty.
        /// </summary>
        public IReadOnlyList<(string Site, int Objects)> Sites { get; } = sites ?? [];

        /// <summary>As the kernel says it: "Objects remaining in NAME on __kmem_cache_shutdown()", with the addresses.</summary>
        public override string ToString() => Leaked == 0
            ? $"{Cache}: every object was freed"
            : $"{Cache}: {Leaked} object{(Leaked == 1 ? "" : "s")} remaining on destroy: "
              + string.Join(", ", Objects.Take(10).Select(o => $"0x{(ulong)o:x}")) + (Leaked > 10 ? ", ..." : "")
              + string.Concat(Sites.Select(s => $"\n  {s.Objects} allocated in {s.Site}"));
    }

    // One thread's slabs of one cache (SLUB's struct kmem_cache_cpu). Its fields are the owning
    // thread's alone, except the mailbox, which other threads post to under its lock.
    internal sealed unsafe class ThreadCache(SlabCache cache, long token)
    {
        // Padding: the GC may compact two threads' ThreadCaches next to each other, and two threads
        // writing one cache line would take turns owning it (false sharing). The runtime puts
        // struct fields after the others, so these two lines end the object: 128 bytes between
        // one ThreadCache's Freelist and the next one's.
#pragma warning disable CS0169
        private CacheLine _pad1;
        public void* Freelist;
        public nint ActiveBase;              // the active slab's memory (0 with none): Free's fast-path test
        public SlabHeader* Active;
        public SlabHeader* Partial;
        public SlabHeader* Full;
        public int EmptyCount;
        public readonly SlabCache Cache = cache;
        public readonly long Token = token;
        private readonly object _mailLock = new();
        private nint[] _mail = new nint[8];
        private nint[] _spare = new nint[8];
        private int _mailCount;
        private bool _closed;
        private CacheLine _pad2;
#pragma warning restore CS0169

        [StructLayout(LayoutKind.Sequential, Size = 64)]
        private struct CacheLine
        {
        }

        // Another thread freed objects to one of our slabs.
        public void Post(SlabHeader* slab)
        {
            lock (_mailLock)
            {
                if (_closed)
                    return;
                if (_mailCount == _mail.Length)
                    Array.Resize(ref _mail, _mail.Length * 2);
                _mail[_mailCount++] = (nint)slab;
            }
        }

        // The posted slabs, in a buffer that stays the caller's until the next call.
        public int TakeMail(out nint[] mail)
        {
            if (Volatile.Read(ref _mailCount) == 0)
            {
                mail = null;
                return 0;
            }
            lock (_mailLock)
            {
                mail = _mail;
                int n = _mailCount;
                (_mail, _spare) = (_spare, _mail);
                if (_mail.Length < mail.Length)
                    _mail = new nint[mail.Length];
                _mailCount = 0;
                return n;
            }
        }

        public void Close()
        {
            lock (_mailLock)
                _closed = true;
        }
    }

    // Finalized after its thread ends (thread statics die with their thread): hands that
    // thread's slabs to their caches' pools. It holds its ThreadCaches strongly: weak references
    // would be finalized with it, in no set order.
    internal sealed class ThreadExitWatch
    {
        private readonly List<ThreadCache> _caches = new();

        public void Add(ThreadCache tc) => _caches.Add(tc);

        ~ThreadExitWatch()
        {
            foreach (ThreadCache tc in _caches)
                tc.Cache.Abandon(tc);
        }
    }
}
