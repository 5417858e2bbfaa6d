// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// SlabCache: SLUB (mm/slub.c) for .NET code. Objects of one size live in slabs, blocks of
// 2^order pages laid out by SLUB's own geometry (SlubGeometry.cs), each described by a header
// kept beside it, as struct slab is, where an object's address finds it (Arena.cs: SLUB's
// virt_to_slab()). Where SLUB gives each CPU a slab to allocate from without atomic operations
// (this_cpu_cmpxchg on c->freelist and c->tid), this allocator gives each thread one: a
// ThreadCache is the thread's struct kmem_cache_cpu. Above the slabs (SlubSlab.cs) the code is
// the kernel's per-CPU layer, the one the model of the kernel runs (SlubCpu.cs), with 6.1's
// paths (a CPU partial slab is frozen):
//
//   allocation, fast:   pop the thread's freelist                          (c->freelist)
//   free, fast:         an object of the thread's slab: push on that list  (do_slab_free())
//   free, slow:         __slab_free(): on the slab's own freelist, head and counters changed
//                       together under the slab's lock; a full slab's first free puts it on the
//                       freeing thread's partial list, an emptied slab on the node list is
//                       given back once the node keeps min_partial slabs
//   allocation, slow:   ___slab_alloc(): the thread's slab's freelist (other threads' frees),
//                       then the thread's partial list, then the cache's partial list (the
//                       node's: get_partial_node()), then a new slab from an arena (new_slab())
//
// One thing is the library's own, the freezing widened: a thread's frees to the frozen slabs of
// its own partial list go to a list of the slab's that only that thread touches (LocalFree),
// with plain stores, as its frees to its slab go to its freelist. The kernel makes those frees
// with __slab_free(); SlubCpu.cs takes the local list wherever the kernel would find them on the
// slab's freelist. That, and the thread's slab found by its memory in one compare, is what lets
// patterns (b) and (c) of docs/performance.md run with no atomic operation.
//
// A new slab runs the constructor on every object once (SLUB's setup_object() from
// allocate_slab()); a freed object goes back on a freelist as it is, so the next allocation gets
// it in the state its last user left, which for a constructor cache is the constructed state
// (the free pointer lives outside the object then, as SLUB moves it: calculate_sizes()). A slab
// given back goes to its arena, constructed, where the cache's next new slab comes from;
// Shrink() gives arenas nobody uses back to the system. Destroy() counts what was never freed
// and reports it, as kmem_cache_destroy() does ("Objects remaining in ... on
// __kmem_cache_shutdown()").

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
        /// <summary>
        /// The smallest slab, as a page order (slub_min_order; default 4: 64 KiB, 1,024 objects of
        /// 64 bytes). A slab's trips through the slow paths (a lock or a compare-and-swap each) are
        /// shared by its objects: docs/performance.md measures the choice.
        /// </summary>
        public int MinSlabOrder { get; init; } = 4;
        /// <summary>Empty slabs the cache's partial list keeps before it gives slabs back to their arena (SLUB's min_partial; default 5).</summary>
        public int MinPartial { get; init; } = 5;
        /// <summary>
        /// Free objects a thread's partial slabs are meant to hold (SLUB's cpu_partial): a thread
        /// keeps DIV_ROUND_UP(2 * CpuPartial, objects per slab) partial slabs, then gives them to
        /// the cache's list. Null: 4 slabs' objects, so that a thread keeps 8 partial slabs (the
        /// library's default; SLUB's set_cpu_partial() gives 120 objects below 256 bytes, 52 below
        /// 1 KiB, 24 below 4 KiB, else 6: <see cref="SlubGeometry.CpuPartial"/>). At most 100 slabs
        /// are kept.
        /// </summary>
        public int? CpuPartial { get; init; }
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
    // model's SLUB changes its slabs with; the rest is the library's.
    [StructLayout(LayoutKind.Sequential, Size = 64)]
    internal unsafe struct SlabHeader
    {
        public void* LocalFree;      // the owner's own frees, while the slab is on its thread's partial list: the owner alone touches these three
        public void* LocalTail;
        public SlabState Slab;       // struct slab: freelist and counters (inuse: objects not on that freelist)
        public long Owner;           // the token of the thread whose partial list holds the slab, else 0
        public SlabHeader* Next;     // the cache's partial list, a debug list, a thread's partial stack (slab->next), or the arena's free list
        public SlabHeader* Prev;
        public int Carver;           // the token (its low 32 bits) of the thread the slab was taken for, -1 for a debug cache's: 0 while its arena keeps it
        public ushort LocalCount;    // objects on LocalFree (a slab holds at most 32767)
        public byte List;            // which of the cache's lists the slab is on (SlabList)
        public byte Slabs;           // slab->slabs: a thread's partial stack's length from here down (cpu_partial_slabs is at most 100)
    }

    internal static class SlabList
    {
        public const byte None = 0, Partial = 2, Full = 3, Disabled = 5;
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
        private readonly uint _cpuPartial, _cpuPartialSlabs;
        private readonly object _lock = new();       // the node's list_lock: the partial list, the arenas, the threads
        private readonly Dictionary<long, ThreadCache> _threads = new();
        private readonly List<Arena> _arenas = new();
        private SlabHeader* _partial, _partialTail;  // the node partial list
        private int _partialCount;
        private volatile bool _destroyed;
        private long _slabs, _slabsMade, _ctorCalls;
        private readonly long[] _stats = new long[(int)SlubStat.Count];

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
            // set_cpu_partial() and slub_set_cpu_partial(), as 6.1 and 6.12 set them (SlubGeometry.CpuPartial).
            _cpuPartial = options.CpuPartial is int cp ? (uint)Math.Max(0, cp) : DefaultCpuPartialSlabs * (uint)ObjectsPerSlab / 2;
            _cpuPartialSlabs = Math.Min(MaxCpuPartialSlabs, (_cpuPartial * 2 + (uint)ObjectsPerSlab - 1) / (uint)ObjectsPerSlab);
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
        /// <summary>Frees through __slab_free(): to a slab that was neither the freeing thread's slab nor on its partial list.</summary>
        public long RemoteFrees => Statistic(SlubStat.FreeSlowpath);
        /// <summary>Slabs on the cache's partial list (the node's): given up by threads, with free objects.</summary>
        public int PartialSlabs { get { lock (_lock) return _partialCount; } }
        /// <summary>SLUB's cpu_partial: free objects a thread's partial slabs are meant to hold.</summary>
        public int CpuPartial => (int)_cpuPartial;
        /// <summary>SLUB's cpu_partial_slabs: slabs a thread keeps on its partial list before it gives them to the cache's.</summary>
        public int CpuPartialSlabs => (int)_cpuPartialSlabs;

        /// <summary>
        /// SLUB's statistic <paramref name="stat"/> (CONFIG_SLUB_STATS, /sys/kernel/slab/NAME/...)
        /// for the paths this library shares with the kernel's: everything but the fast paths,
        /// which count nothing here (<see cref="SlubStat.AllocFastpath"/> and
        /// <see cref="SlubStat.FreeFastpath"/> stay 0, as do the ones a library has no use for).
        /// A debug cache counts none.
        /// </summary>
        public long Statistic(SlubStat stat)
        {
            if ((uint)stat >= (uint)SlubStat.Count)
                return 0;
            lock (_lock)
            {
                long sum = Interlocked.Read(ref _stats[(int)stat]);
                foreach (ThreadCache tc in _threads.Values)
                    sum += Volatile.Read(ref tc.Stats[(int)stat]);
                return sum;
            }
        }
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
                byte* obj = tc.Freelist;
                if (obj != null)
                {
                    tc.Freelist = *(byte**)(obj + _freeOffset);
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

        // SlabLocal's allocation when the thread's freelist is empty: ___slab_alloc() (SlubCpu.cs).
        [MethodImpl(MethodImplOptions.NoInlining)]
        internal void* AllocSlowFor(ThreadCache tc)
        {
            ObjectDisposedException.ThrowIf(_destroyed, this);
            byte* obj = tc.Freelist;
            if (obj != null)
            {
                tc.Freelist = *(byte**)(obj + _freeOffset);
                return obj;
            }
            return SlubCpu<nint, PlainFreePointer, CpuOps>.AllocSlow(new CpuOps(this, tc), tc);
        }

        // A partly used slab's free objects were freed in whatever order their users chose: hand
        // them out in address order instead (SLUB keeps the order of the frees). Objects
        // allocated one after another then sit one after another, and a walk over them is one the
        // CPU's prefetchers follow: after a churn this is what keeps locality. The cost is a bit
        // per object of the slab, and a step per free one, once each time a partly used slab
        // becomes a thread's slab; a slab with no object in use (the common case when a live set
        // comes and goes whole) skips it.
        private const int MaxSortedObjects = 32768;   // a bitmap of at most 4 KiB on the stack
        private const uint MaxCpuPartialSlabs = 100;  // a thread's partial stack stays under 256 slabs: SlabHeader.Slabs is a byte
        // The library's cpu_partial: half-full slabs' worth of 8 (docs/performance.md: a batch of a
        // few slabs' objects stays with its thread, where SLUB's 120 objects below 256 bytes keep
        // one 64 KiB slab, and every slab of a batch went through the cache's list and its lock).
        private const uint DefaultCpuPartialSlabs = 8;

        private byte* SortFreelist(SlabHeader* slab, byte* head)
        {
            if (head == null || ObjectsPerSlab > MaxSortedObjects)
                return head;
            int words = (ObjectsPerSlab + 63) >> 6;
            ulong* free = stackalloc ulong[words];
            new Span<ulong>(free, words).Clear();
            byte* first = MemoryOf(slab);
            int count = 0;
            for (byte* o = head; o != null && count <= ObjectsPerSlab; o = *(byte**)(o + _freeOffset), count++)
            {
                int i = (int)((o - first) / SlotSize);
                free[i >> 6] |= 1UL << i;
            }
            if (count > ObjectsPerSlab)
                FreelistLoops(slab);
            byte* sorted = null;
            for (int w = words - 1; w >= 0; w--)
                for (ulong bits = free[w]; bits != 0; bits &= ~(1UL << (63 - BitOperations.LeadingZeroCount(bits))))
                {
                    byte* obj = ObjectAt(slab, (w << 6) + 63 - BitOperations.LeadingZeroCount(bits));
                    *(byte**)(obj + _freeOffset) = sorted;
                    sorted = obj;
                }
            return sorted;
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
                // do_slab_free()'s fast path: an object of the thread's slab goes straight back on
                // its freelist, first out at the next allocation, still warm in the CPU cache. The
                // slab is known by its memory (the address masked), as c->slab is compared in
                // SLUB; the header is looked up only off this path.
                if (((nint)obj & _slabBase) == tc.ActiveBase)
                {
                    if (obj == tc.Freelist)
                        DoubleFree(obj);
                    *(byte**)((byte*)obj + _freeOffset) = tc.Freelist;
                    tc.Freelist = (byte*)obj;
                    return;
                }
                SlabHeader* own = HeaderOf(obj);
                if (own->Owner == tc.Token)
                {
                    FreeOwned(own, obj);
                    return;
                }
            }
            if (_debug != SlabDebugFlags.None)
                DebugFree(obj);
            else
                FreeRemote(HeaderOf(obj), obj);
        }

        // The freezing widened: a free to a frozen slab of the thread's own partial list goes on the
        // slab's LocalFree, with plain stores (SlubCpu.cs takes the list back wherever the
        // kernel's __slab_free() would have put these objects on the slab's freelist).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal void FreeOwned(SlabHeader* slab, void* obj)
        {
            void* head = slab->LocalFree;
            if (obj == head)
                DoubleFree(obj);   // set_freepointer()'s naive check, as __slab_free() makes it for the kernel's frees to a CPU partial slab
            *(void**)((byte*)obj + _freeOffset) = head;
            if (head == null)
                slab->LocalTail = obj;
            slab->LocalFree = obj;
            slab->LocalCount++;
        }

        // set_freepointer()'s naive check (CONFIG_SLAB_FREELIST_HARDENED): an object freed while it
        // is the head of the list it joins would point to itself.
        [MethodImpl(MethodImplOptions.NoInlining)]
        internal void DoubleFree(void* obj) => throw new InvalidOperationException($"{Name}: object 0x{(nint)obj:x} freed twice");

        // A walk of a slab's free objects found more than the slab holds: a double free, with other
        // frees between, made the list loop.
        private void FreelistLoops(SlabHeader* slab) =>
            throw new InvalidOperationException($"{Name}: the free objects of slab 0x{(nint)MemoryOf(slab):x} are more than it holds: an object was freed twice");

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

        // __slab_free() (SlubCpu.cs, the model's code too): any free to a slab that is neither the
        // thread's slab nor on its partial list. An object freed twice in a row is refused, as
        // set_freepointer()'s naive check refuses it (freed twice with another free between, it
        // makes the list loop, which the walks that take the list find).
        //
        // The freeing thread gets its ThreadCache first, if it has none: a full slab's free puts
        // the slab on that thread's partial list (a thread that only frees keeps at most
        // cpu_partial_slabs there, as a CPU does), and the cache is made before the slab is
        // frozen, so that a failure to make it (a destroyed cache) strands no slab.
        [MethodImpl(MethodImplOptions.NoInlining)]
        internal void FreeRemote(SlabHeader* slab, void* obj)
        {
            SlubCpu<nint, PlainFreePointer, CpuOps>.SlabFree(new CpuOps(this, ThisThread()), (nint)slab, (byte*)obj);
        }

        // The library's free pointer: the address itself, at the slab's free pointer offset.
        private PlainFreePointer FreePointer => new(_freeOffset);

        // ---------------------------------------------------------------- the per-CPU layer's hooks

        // What SlubCpu.cs needs of the library: its slab headers, the thread's ThreadCache (a CPU's
        // kmem_cache_cpu, which only its thread touches, so no lock), the cache's partial list
        // under the cache's lock (the node's list_lock), its arenas, statistics, and the owner's
        // local lists. 6.1's paths: a slab on a thread's partial list is frozen.
        // The calling thread's ThreadCache comes with it where the caller has it (null: look it up).
        private readonly struct CpuOps(SlabCache cache, ThreadCache self = null) : ISlubCpuOps<nint, PlainFreePointer>
        {
            public bool V61 => true;
            public PlainFreePointer FreePointer => cache.FreePointer;
            public bool IsNull(nint slab) => slab == 0;
            public ref SlabState State(nint slab) => ref ((SlabHeader*)slab)->Slab;
            public nint Next(nint slab) => (nint)((SlabHeader*)slab)->Next;
            public void SetNext(nint slab, nint next) => ((SlabHeader*)slab)->Next = (SlabHeader*)next;
            public int Slabs(nint slab) => ((SlabHeader*)slab)->Slabs;
            public void SetSlabs(nint slab, int slabs) => ((SlabHeader*)slab)->Slabs = (byte)slabs;
            public KmemCacheCpu<nint> ThisCpu => self ?? cache.ThisThread();
            public void Lock(KmemCacheCpu<nint> c)
            {
            }
            public void Unlock(KmemCacheCpu<nint> c)
            {
            }
            // Each thread counts on its own (CONFIG_SLUB_STATS counts per CPU); a thread with no
            // ThreadCache, or one that ended, counts on the cache, atomically.
            public void Stat(KmemCacheCpu<nint> c, SlubStat stat) => cache.Count((ThreadCache)c, stat, 1);
            public void Stat(SlubStat stat, int count) => cache.Count(self ?? cache.Existing(), stat, count);
            public bool HasCpuPartial => true;
            public uint CpuPartialSlabs => cache._cpuPartialSlabs;
            public void SlabChanged(KmemCacheCpu<nint> c) =>
                ((ThreadCache)c).ActiveBase = c.Slab == 0 ? 0 : (nint)cache.MemoryOf((SlabHeader*)c.Slab);
            public void OnCpuPartial(KmemCacheCpu<nint> c, nint slab)
            {
                var h = (SlabHeader*)slab;
                h->LocalFree = h->LocalTail = null;
                h->LocalCount = 0;
                h->Owner = ((ThreadCache)c).Token;
            }
            public byte* TakeLocal(nint slab, out byte* tail, out int count)
            {
                var h = (SlabHeader*)slab;
                h->Owner = 0;
                var local = (byte*)h->LocalFree;
                tail = (byte*)h->LocalTail;
                count = h->LocalCount;
                h->LocalFree = h->LocalTail = null;
                h->LocalCount = 0;
                return local;
            }
            // A partly used slab's free objects in address order.
            public byte* Activating(nint slab, byte* freelist, int inUse) =>
                inUse != 0 ? cache.SortFreelist((SlabHeader*)slab, freelist) : freelist;
            public void Loading(KmemCacheCpu<nint> c, byte* freelist, bool refill)
            {
                // Other threads' frees: one freed twice with another free between made the list
                // loop, which would hand its objects out again and again. (The kernel finds out
                // later, or never; SlubCpu.cs sends the lists the owner built through Activating.)
                if (refill && SlubSlab.Tail(freelist, cache.ObjectsPerSlab, cache.FreePointer, out _) < 0)
                    FreelistLoops(c.Slab);
            }
            public void LockList() => Monitor.Enter(cache._lock);
            public void UnlockList() => Monitor.Exit(cache._lock);
            public nint NodeFirst() => (nint)cache._partial;
            public nint NodeNext(nint slab) => (nint)((SlabHeader*)slab)->Next;
            public bool NodeHasMinPartial => cache._partialCount >= cache._minPartial;
            public bool OnNodePartial(nint slab) => ((SlabHeader*)slab)->List == SlabList.Partial;
            public void AddPartial(nint slab, bool tail) => cache.AddPartial((SlabHeader*)slab, tail);
            public void RemovePartial(nint slab) => cache.RemovePartial((SlabHeader*)slab);
            public void Unlink(nint slab)
            {
                if (((SlabHeader*)slab)->List == SlabList.Partial)
                    cache.RemovePartial((SlabHeader*)slab);
            }
            public void Counted(nint slab)
            {
            }
            public nint NewSlab(KmemCacheCpu<nint> c) => (nint)cache.NewSlab(((ThreadCache)c).Token);
            public void DiscardSlab(nint slab)
            {
                lock (cache._lock)
                    cache.ReleaseSlab((SlabHeader*)slab);
            }
            public void DiscardSlabs(nint list)
            {
                int n = 0;
                lock (cache._lock)
                    for (nint slab = list, next; slab != 0; slab = next, n++)
                    {
                        next = (nint)((SlabHeader*)slab)->Next;
                        cache.ReleaseSlab((SlabHeader*)slab);
                    }
                Stat(SlubStat.DeactivateEmpty, n);
                Stat(SlubStat.FreeSlab, n);
            }
            public bool Readable(byte* p) => true;
            public void WildFreePointer(byte* p)
            {
            }
            public void FreelistLoops(nint slab) => cache.FreelistLoops((SlabHeader*)slab);
            public void NaiveDoubleFree(byte* obj) => cache.DoubleFree(obj);
        }

        private void Count(ThreadCache tc, SlubStat stat, int count)
        {
            if (tc != null && tc.Live)
                Volatile.Write(ref tc.Stats[(int)stat], tc.Stats[(int)stat] + count);   // its thread's alone: a plain add, read whole by Statistic()
            else
                Interlocked.Add(ref _stats[(int)stat], count);
        }

        // The thread's slab, then its partial list (flush_slab(), then unfreeze_partials()), the
        // list taken first: should the slab's deactivation fault (a freelist a double free made
        // loop), the partial slabs still go to the cache's list.
        private void Flush(ThreadCache tc)
        {
            var ops = new CpuOps(this);
            nint partial = tc.Partial;
            tc.Partial = 0;
            try
            {
                SlubCpu<nint, PlainFreePointer, CpuOps>.Flush(ops, tc);
            }
            finally
            {
                if (partial != 0)
                    SlubCpu<nint, PlainFreePointer, CpuOps>.PutPartials(ops, partial);
            }
        }

        // add_partial(): to the head or the tail of the cache's partial list; list_lock held.
        private void AddPartial(SlabHeader* slab, bool tail)
        {
            slab->List = SlabList.Partial;
            if (tail)
            {
                slab->Next = null;
                slab->Prev = _partialTail;
                if (_partialTail != null)
                    _partialTail->Next = slab;
                else
                    _partial = slab;
                _partialTail = slab;
            }
            else
            {
                Link(ref _partial, slab, SlabList.Partial);
                if (_partialTail == null)
                    _partialTail = slab;
            }
            _partialCount++;
        }

        // remove_partial(); list_lock held.
        private void RemovePartial(SlabHeader* slab)
        {
            if (_partialTail == slab)
                _partialTail = slab->Prev;
            Unlink(ref _partial, slab);
            _partialCount--;
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
        /// Gives memory back (kmem_cache_shrink()): the calling thread's slab and partial slabs go
        /// to the cache's partial list (flush_slab() and unfreeze_partials()), every empty slab of
        /// that list goes back to its arena, and arenas with no slab in use to the system (until
        /// then an arena keeps the slabs given back to it, for the cache's next new slabs). Other
        /// threads' slabs are theirs (SLUB flushes every CPU; a thread cannot be interrupted
        /// here), so call it from each thread that should let go. Returns the slabs released (the
        /// flush's and the list's).
        /// </summary>
        public int Shrink()
        {
            ThreadCache tc = Existing();
            var reports = new List<SlabDebugReport>();
            long released;
            lock (_lock)
            {
                long before = _slabs;
                if (tc != null)
                    Flush(tc);
                for (SlabHeader* s = _dPartial, next; s != null; s = next)
                {
                    next = s->Next;
                    if (s->Slab.InUse == 0)
                    {
                        Unlink(ref _dPartial, s);
                        _dEmpty--;
                        SlabPadCheck(s, reports);
                        ReleaseSlab(s);
                    }
                }
                for (SlabHeader* s = _partial, next; s != null; s = next)
                {
                    next = s->Next;
                    if (s->Slab.InUse == 0)
                    {
                        RemovePartial(s);
                        ReleaseSlab(s);
                    }
                }
                released = before - _slabs;   // the flush's and the lists' (a slab is counted under this lock)
                ReleaseEmptyArenas();
            }
            Raise(reports);
            return (int)released;
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

        // A thread ended (its ThreadExitWatch was finalized): its slab and partial slabs go to the
        // cache's partial list, as a CPU that goes offline flushes its slabs (slub_cpu_dead()),
        // and its statistics to the cache's. This runs on the finalizer thread, where an
        // exception would end the process: a slab whose freelist a double free made loop stays
        // frozen, its objects counted as in use (Destroy reports them).
        internal void Abandon(ThreadCache tc)
        {
            lock (_lock)
            {
                if (_destroyed || !_threads.Remove(tc.Token))
                    return;
                Retire(tc);
            }
        }

        // A thread's slabs and statistics go to the cache for good (the thread ended, or the cache
        // is being destroyed); the cache's lock held. A slab whose freelist a double free made
        // loop stays frozen, its objects counted as in use (Destroy reports them): nothing is
        // thrown, which on the finalizer thread would end the process.
        private void Retire(ThreadCache tc)
        {
            tc.Live = false;
            for (int i = 0; i < tc.Stats.Length; i++)
                _stats[i] += tc.Stats[i];
            try
            {
                Flush(tc);
            }
            catch (InvalidOperationException)
            {
            }
        }

        // ---------------------------------------------------------------- the arenas

        // allocate_slab(): a slab from an arena (one given back, or a new one cut), not frozen,
        // every object free on its freelist. The thread's token keeps different threads' slabs
        // apart in an arena (Arena.Take); a debug cache's slabs take -1.
        private SlabHeader* NewSlab(long owner)
        {
            SlabHeader* slab;
            bool fresh;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_destroyed, this);
                slab = CarveSlab(owner, out fresh);
                if (slab != null)
                    Volatile.Write(ref _slabs, _slabs + 1);   // under the lock: every change of the count is
            }
            if (slab == null)
                return null;
            slab->Next = slab->Prev = null;
            slab->List = SlabList.None;
            slab->LocalFree = null;
            slab->Owner = 0;
            slab->Slabs = 0;
            if (!fresh)
            {
                // A slab given back to its arena: every object is free, on its freelist, and as
                // its last user left it (constructed, for a constructor cache): nothing to redo.
                SlubSlab.Init(ref slab->Slab, (byte*)slab->Slab.Freelist, ObjectsPerSlab);
                return slab;
            }
            // allocate_slab(): the freelist in address order, each object constructed once, by
            // the code that builds the model's slabs (SlubSlab.Build).
            var setup = new ConstructorSetup(_ctor);
            byte* list = SlubSlab.Build(ObjectAt(slab, 0), ObjectsPerSlab, SlotSize, null, 0, FreePointer, ref setup);
            if (_ctor != null)
                Interlocked.Add(ref _ctorCalls, ObjectsPerSlab);
            SlubSlab.Init(ref slab->Slab, list, ObjectsPerSlab);
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
        // time. Its header's Next links the arena's list; its objects stay on its freelist.
        private void ReleaseSlab(SlabHeader* slab)
        {
            Volatile.Write(ref _slabs, _slabs - 1);   // the cache's lock held
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

        private static void Link(ref SlabHeader* head, SlabHeader* slab, byte list)
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
                // __kmem_cache_shutdown(): every thread's slabs flushed (flush_all()), then every
                // slab the cache holds, found in its arenas: those on the partial list, and the
                // full ones, which SLUB keeps on no list (and so reports only with
                // SLAB_STORE_USER) but whose objects are leaked all the same. Each slab's free
                // objects are now on its freelist: a debug cache's always, the others' once the
                // flush gave back what the threads held.
                foreach (ThreadCache tc in _threads.Values)
                    Retire(tc);
                _threads.Clear();
                _partial = _partialTail = _dPartial = _dFull = _dDisabled = null;
                _partialCount = 0;
                var leaked = new List<nint>();
                long count = 0;
                foreach (Arena arena in _arenas)
                    foreach (nint p in arena.Slabs())
                    {
                        var slab = (SlabHeader*)p;
                        int inUse = slab->Slab.InUse;
                        if (inUse == 0)
                            continue;
                        count += inUse;
                        // list_slab_objects(): the objects not on the freelist are the ones in use.
                        HashSet<nint> free = FreeSet((void*)slab->Slab.Freelist);
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

    // One thread's slabs of one cache: its struct kmem_cache_cpu (SlubCpu.cs), whose fields only
    // that thread touches (and, once it has ended, the flush that gives its slabs back). The
    // padding at each end keeps two threads' ThreadCaches off each other's cache lines.
    internal sealed unsafe class ThreadCache(SlabCache cache, long token) : KmemCacheCpu<nint>
    {
        public nint ActiveBase;              // the memory of c->slab (0 with none): Free's fast-path test
        public readonly SlabCache Cache = cache;
        public readonly long Token = token;
        public readonly long[] Stats = new long[(int)SlubStat.Count];   // CONFIG_SLUB_STATS, this thread's (the cache's once it ended)
        public bool Live = true;
#pragma warning disable CS0169
        private PerCpuHead.Line _tail1, _tail2;
#pragma warning restore CS0169
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
