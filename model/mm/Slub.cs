// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The SLUB allocator (mm/slub.c), modelled in user space.
//
// Layers, from the caller down:
//   per-CPU sheaves   each CPU has a main and a spare sheaf: arrays of object pointers
//                     (Linux 6.18's sheaves, a Bonwick magazine by another name). Alloc pops
//                     from main, free pushes to main; the lock is per CPU and only contended
//                     when a thread migrates, as local_trylock() in the kernel.
//   barn              per node: full and empty sheaves exchanged with the CPUs (a Bonwick
//                     depot), at most MaxFullSheaves / MaxEmptySheaves of each.
//   slabs             per node, under list_lock: the partial list of slabs with free objects
//                     (and, for debug caches, the full list). Each slab keeps its free objects
//                     on a freelist threaded through the objects at s->offset, with
//                     CONFIG_SLAB_FREELIST_HARDENED's encoding, as Debian builds it.
//   pages             the buddy allocator (PageAllocator).
// The constructor runs for every object of a slab when the slab is made (allocate_slab ->
// setup_object), never on kmem_cache_alloc. Debug caches (slub_debug, SLAB_* debug flags) get
// no sheaves, as in the kernel, so every alloc and free passes the checks in SlubDebug.cs.
//
// Lock order (outermost first; a lock may be taken while holding only those above it):
//   1. slab_mutex        SlabAllocator._slabMutex: the list of caches; kmem_cache_create and
//                        kmem_cache_destroy (which flushes and empties the cache under it).
//   2. cpu sheaves lock  PerCpuSheaves.TryLock/Lock, local_trylock() in the kernel: one CPU's
//                        main and spare sheaves and its statistics. The fast paths take it with
//                        one compare-and-swap and never wait; flushes from another CPU wait.
//   3. barn lock         SlabCache._barnLock, node_barn->lock: the node's full and empty sheaves.
//   4. list_lock         SlabCache._listLock, kmem_cache_node->list_lock: the partial and full
//                        lists, every slab's freelist and inuse count, and the slab and object
//                        counters. Debug checks and their reports run under it.
//   5. leaf locks        taken last and never around another: the page allocator's zone lock,
//                        Kernel.Random, the printk buffer, the SymbolTable, the handle table.
// Not under any of these: the constructor runs under 2 (a slab is made while refilling a sheaf)
// but outside 3 and 4, since new_slab() runs without list_lock; pages are released
// (DiscardSlab) after list_lock is dropped, as discard_slab() is in the kernel.
// The kernel's own order (the comment at the top of mm/slub.c, 6.1 and 6.12) is 1. slab_mutex
// 2. node->list_lock 3. cpu_slab->lock 4. slab_lock 5. object_map_lock, for its per-CPU slabs.
// The model's sheaves reach the node lists from under the per-CPU lock (refilling and flushing
// a sheaf), so here the per-CPU lock comes before list_lock.
//
// Where the model is simpler than the kernel: one NUMA node; slab freelists are changed under
// list_lock rather than with cmpxchg_double; no RCU (SLAB_TYPESAFE_BY_RCU only moves the free
// pointer); no memcg accounting; no cache merging.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace SimpleCache.Model.Mm
{
    /// <summary>One slab: 2^order pages holding objects of one cache (<c>struct slab</c>).</summary>
    public sealed unsafe class Slab
    {
        internal Slab(SlabCache cache, byte* address, int order, int objects)
        {
            Cache = cache;
            Address = address;
            Order = order;
            Objects = objects;
        }

        /// <summary>The cache the slab belongs to (<c>slab->slab_cache</c>).</summary>
        public SlabCache Cache { get; }
        /// <summary>The first byte of the slab's pages (<c>slab_address()</c>).</summary>
        public byte* Address { get; }
        /// <summary>The slab's page order.</summary>
        public int Order { get; }
        /// <summary><c>slab->objects</c>.</summary>
        public int Objects { get; }
        /// <summary><c>slab->inuse</c>: objects not on the slab's freelist (allocated or in a sheaf).</summary>
        public int InUse { get; internal set; }
        /// <summary><c>slab->freelist</c>: the first free object, or null.</summary>
        public byte* Freelist { get; internal set; }
        /// <summary>Which node list the slab is on.</summary>
        internal SlabList List;
        internal LinkedListNode<Slab> Node;
    }

    internal enum SlabList { None, Partial, Full }

    /// <summary>An array of object pointers that a CPU allocates from and frees to (<c>struct slab_sheaf</c>).</summary>
    internal sealed unsafe class Sheaf
    {
        public readonly nint[] Objects;
        public int Size;
        public Sheaf(int capacity) => Objects = new nint[capacity];
        public bool IsFull => Size == Objects.Length;
    }

    /// <summary>A CPU's sheaves (<c>struct slub_percpu_sheaves</c>) and its statistics.</summary>
    internal sealed class PerCpuSheaves
    {
        public Sheaf Main;
        public Sheaf Spare;
        public readonly long[] Stats = new long[(int)SlubStat.Count];
        private int _locked;

        /// <summary><c>local_trylock()</c>: one compare-and-swap; fails if the CPU's sheaves are busy.</summary>
        public bool TryLock() => Interlocked.CompareExchange(ref _locked, 1, 0) == 0;

        /// <summary><c>local_unlock()</c>.</summary>
        public void Unlock() => Volatile.Write(ref _locked, 0);

        /// <summary>Takes the lock, waiting for it (flushes from other CPUs).</summary>
        public void Lock()
        {
            var spin = new SpinWait();
            while (!TryLock())
                spin.SpinOnce();
        }
    }

    /// <summary>The SLUB statistics the model keeps (CONFIG_SLUB_STATS names).</summary>
    public enum SlubStat
    {
        /// <summary>Allocations served from the CPU's sheaf.</summary>
        AllocFastpath,
        /// <summary>Allocations that went to the slabs.</summary>
        AllocSlowpath,
        /// <summary>Frees into the CPU's sheaf.</summary>
        FreeFastpath,
        /// <summary>Frees that went to the slabs.</summary>
        FreeSlowpath,
        /// <summary>Slabs allocated from the page allocator.</summary>
        AllocSlab,
        /// <summary>Slabs given back to the page allocator.</summary>
        FreeSlab,
        /// <summary>Sheaves refilled from the slabs.</summary>
        SheafRefill,
        /// <summary>Sheaves flushed back to the slabs.</summary>
        SheafFlush,
        /// <summary>Full sheaves taken from the barn.</summary>
        BarnGet,
        /// <summary>Barn had no full sheaf.</summary>
        BarnGetFail,
        /// <summary>Full sheaves put in the barn.</summary>
        BarnPut,
        /// <summary>Barn had no room for a full sheaf.</summary>
        BarnPutFail,
        /// <summary>A slab of the preferred order could not be had; a smaller one was used.</summary>
        OrderFallback,
        /// <summary>Number of statistics.</summary>
        Count,
    }

    /// <summary>
    /// A slab cache (<c>struct kmem_cache</c>): its layout, per-CPU sheaves, barn and node lists.
    /// Thread-safe: any thread may allocate and free.
    /// </summary>
    public sealed unsafe partial class SlabCache
    {
        /// <summary><c>MAX_FULL_SHEAVES</c>.</summary>
        public const int MaxFullSheaves = 10;
        /// <summary><c>MAX_EMPTY_SHEAVES</c>.</summary>
        public const int MaxEmptySheaves = 10;

        private readonly SlabAllocator _allocator;
        private readonly PerCpuSheaves[] _pcs;
        private readonly object _listLock = new();   // kmem_cache_node->list_lock: guards _partial, _full, every slab's Freelist and InUse, _nrSlabs, _totalObjects
        private readonly LinkedList<Slab> _partial = new();
        private readonly LinkedList<Slab> _full = new();
        private readonly object _barnLock = new();   // node_barn->lock: guards _barnFull and _barnEmpty
        private readonly Stack<Sheaf> _barnFull = new();
        private readonly Stack<Sheaf> _barnEmpty = new();
        private readonly ulong _random;              // s->random, for the hardened freelist
        private readonly int[] _randomSeq;           // s->random_seq (CONFIG_SLAB_FREELIST_RANDOM)
        private readonly delegate* unmanaged<void*, void> _ctor;
        private long _nrSlabs;
        private long _totalObjects;

        internal SlabCache(SlabAllocator allocator, string name, SlabLayout layout, nint ctor)
        {
            _allocator = allocator;
            Name = name;
            Layout = layout;
            _ctor = (delegate* unmanaged<void*, void>)ctor;
            lock (allocator.Kernel.Random)
            {
                _random = (ulong)allocator.Kernel.Random.NextInt64() | 1;
                // init_cache_random_seq(): one shuffled order of the slots of a slab, per cache.
                if (allocator.Kernel.Options.FreelistRandom)
                {
                    _randomSeq = new int[layout.ObjectsPerSlab];
                    for (int i = 0; i < _randomSeq.Length; i++)
                        _randomSeq[i] = i;
                    for (int i = _randomSeq.Length - 1; i > 0; i--)
                    {
                        int j = allocator.Kernel.Random.Next(i + 1);
                        (_randomSeq[i], _randomSeq[j]) = (_randomSeq[j], _randomSeq[i]);
                    }
                }
            }
            IsDebug = (layout.Flags & CacheFlags.DebugFlags) != 0;
            SheafCapacity = IsDebug ? 0 : SheafCapacityFor(layout.Size);
            _pcs = new PerCpuSheaves[allocator.Cpus];
            for (int i = 0; i < _pcs.Length; i++)
                _pcs[i] = new PerCpuSheaves
                {
                    Main = new Sheaf(SheafCapacity),
                    Spare = SheafCapacity > 0 ? new Sheaf(SheafCapacity) : null,
                };
        }

        private nint _handle;

        /// <summary>
        /// A native handle for the cache: what the C# kernel API hands modules as a
        /// <c>struct kmem_cache *</c>. Valid until the cache is destroyed (forever if leaked).
        /// </summary>
        public nint Handle
        {
            get
            {
                if (_handle == 0)
                {
                    nint h = Kernel.Handles.Alloc(this);
                    if (Interlocked.CompareExchange(ref _handle, h, 0) != 0)
                        Kernel.Handles.Free(h);
                }
                return _handle;
            }
        }

        /// <summary>The cache behind a <see cref="Handle"/>.</summary>
        public static SlabCache FromHandle(nint handle) => Kernel.Handles.Get<SlabCache>(handle);

        internal void FreeHandle() => Kernel.Handles.Free(Interlocked.Exchange(ref _handle, 0));

        /// <summary>The cache's name (<c>s->name</c>).</summary>
        public string Name { get; }
        /// <summary>The layout computed by kmem_cache_open().</summary>
        public SlabLayout Layout { get; }
        /// <summary>Whether the cache has a constructor.</summary>
        public bool HasCtor => _ctor != null;
        /// <summary>Whether any debug flag is on (no sheaves; checks on every alloc and free).</summary>
        public bool IsDebug { get; }
        /// <summary>Objects per sheaf; 0 for debug caches, which have none.</summary>
        public int SheafCapacity { get; }
        /// <summary>Set when kmem_cache_destroy() found objects still allocated: the cache is leaked.</summary>
        public bool Leaked { get; internal set; }
        /// <summary>The allocator the cache belongs to.</summary>
        public SlabAllocator Allocator => _allocator;

        /// <summary>
        /// The sheaf size the sheaves-for-all series picks for an object size: 4 objects of a
        /// page or more, 12 of 1 KiB or more, 26 of 256 bytes or more, else 60.
        /// </summary>
        public static int SheafCapacityFor(uint size) => size >= 4096 ? 4 : size >= 1024 ? 12 : size >= 256 ? 26 : 60;

        // ---------------------------------------------------------------- allocation

        /// <summary>Set by /sys/kernel/slab/&lt;cache&gt;/failslab: failslab's cache-filter lets this cache fail.</summary>
        public bool FailslabMarked { get; set; }

        /// <summary>
        /// <c>kmem_cache_alloc(s, gfp)</c>: an object, or null when memory runs out or failslab
        /// says so. <paramref name="mayWait"/> is true for GFP_KERNEL (__GFP_DIRECT_RECLAIM),
        /// false for GFP_ATOMIC and GFP_NOWAIT; <paramref name="zero"/> is __GFP_ZERO.
        /// </summary>
        public void* Alloc(bool mayWait = true, bool zero = false) => AllocObject(mayWait, zero, Layout.ObjectSize);

        /// <summary>
        /// <c>kmalloc()</c> from this cache (<c>__kmalloc_cache_noprof()</c>): as <see cref="Alloc"/>,
        /// for a request of <paramref name="size"/> bytes, which a kmalloc cache with user
        /// tracking stores and red-zones beyond.
        /// </summary>
        public void* AllocKmalloc(uint size, bool mayWait = true, bool zero = false) => AllocObject(mayWait, zero, size);

        private void* AllocObject(bool mayWait, bool zero, uint origSize)
        {
            if (_allocator.Failslab.ShouldFail(this, mayWait))
                return null;
            void* obj = SheafCapacity > 0 ? AllocFromSheaf() : null;
            if (obj == null)
            {
                Stat(SlubStat.AllocSlowpath);
                obj = AllocFromSlabs(origSize);
            }
            if (obj != null && zero)
                new Span<byte>(obj, (int)origSize).Clear();
            return obj;
        }

        private void* AllocFromSheaf()
        {
            PerCpuSheaves pcs = _pcs[_allocator.CurrentCpu()];
            if (!pcs.TryLock())
                return null;   // local_trylock() failed: take the slow path
            try
            {
                if (pcs.Main.Size == 0)
                {
                    if (pcs.Spare.Size > 0)
                        (pcs.Main, pcs.Spare) = (pcs.Spare, pcs.Main);
                    else if (!BarnExchangeForFull(pcs) && !RefillSheaf(pcs.Main))
                        return null;
                }
                pcs.Stats[(int)SlubStat.AllocFastpath]++;   // under the per-CPU lock
                return (void*)pcs.Main.Objects[--pcs.Main.Size];
            }
            finally
            {
                pcs.Unlock();
            }
        }

        // barn_replace_empty_sheaf(): give the barn our empty main, take a full one.
        private bool BarnExchangeForFull(PerCpuSheaves pcs)
        {
            lock (_barnLock)
            {
                if (_barnFull.Count == 0)
                {
                    Stat(pcs, SlubStat.BarnGetFail);
                    return false;
                }
                Sheaf full = _barnFull.Pop();
                if (_barnEmpty.Count < MaxEmptySheaves)
                    _barnEmpty.Push(pcs.Main);
                pcs.Main = full;
                Stat(pcs, SlubStat.BarnGet);
                return true;
            }
        }

        // refill_sheaf(): fill a sheaf from the slabs in one pass under list_lock.
        private bool RefillSheaf(Sheaf sheaf)
        {
            int want = sheaf.Objects.Length - sheaf.Size;
            fixed (nint* dst = &sheaf.Objects[sheaf.Size])
            {
                int got = AllocBulkFromSlabs(want, (void**)dst, allOrNothing: false);
                sheaf.Size += got;
                if (got > 0)
                    Stat(SlubStat.SheafRefill);
                return got > 0;
            }
        }

        private void* AllocFromSlabs(uint origSize)
        {
            void* obj;
            return AllocBulkFromSlabs(1, &obj, allOrNothing: true, origSize) == 1 ? obj : null;
        }

        /// <summary>
        /// Takes up to <paramref name="count"/> objects from the node's slabs: the partial list
        /// first (get_partial), then new slabs (new_slab). Debug caches check each object.
        /// </summary>
        private int AllocBulkFromSlabs(int count, void** p, bool allOrNothing, uint origSize = 0)
        {
            if (origSize == 0)
                origSize = Layout.ObjectSize;
            int got = 0;
            while (got < count)
            {
                Slab fresh = null;
                lock (_listLock)
                {
                    while (got < count && _partial.First != null)
                    {
                        Slab slab = _partial.First.Value;
                        while (got < count && slab.Freelist != null)
                        {
                            void* obj = TakeFromSlab(slab);
                            if (IsDebug && !AllocDebugProcessing(slab, obj, origSize))
                                continue;   // the object was bad: leaked, as the kernel does
                            p[got++] = obj;
                        }
                        if (slab.Freelist == null)
                            MoveSlab(slab, (Layout.Flags & CacheFlags.StoreUser) != 0 ? SlabList.Full : SlabList.None);
                    }
                }
                if (got == count)
                    break;
                fresh = NewSlab();
                if (fresh == null)
                    break;
                lock (_listLock)
                {
                    _nrSlabs++;
                    _totalObjects += fresh.Objects;
                    MoveSlab(fresh, SlabList.Partial);
                }
            }
            if (got < count && allOrNothing)
            {
                FreeBulkToSlabs(got, p);
                return 0;
            }
            return got;
        }

        private void* TakeFromSlab(Slab slab)
        {
            byte* obj = slab.Freelist;
            slab.Freelist = GetFreePointer(obj);
            slab.InUse++;
            return obj;
        }

        // allocate_slab(): pages, then the freelist, then setup_object() (debug init and the
        // constructor) for every object.
        private Slab NewSlab()
        {
            int order = Layout.Order;
            byte* address = _allocator.Pages.AllocPages(order);
            if (address == null)
            {
                int minOrder = SlabGeometry.GetOrder(Layout.Size);
                if (minOrder < order)
                {
                    order = minOrder;
                    address = _allocator.Pages.AllocPages(order);
                    Stat(SlubStat.OrderFallback);
                }
                if (address == null)
                    return null;
            }
            int objects = (int)SlabGeometry.OrderObjects(order, Layout.Size);
            var slab = new Slab(this, address, order, objects);
            if (IsDebug)
                SetupSlabDebug(slab);
            // shuffle_freelist(): walk the cache's random sequence from a random start, skipping
            // slots past the end of a smaller (fallback-order) slab; else address order.
            int pos = 0;
            if (_randomSeq != null)
                lock (_allocator.Kernel.Random)
                    pos = _allocator.Kernel.Random.Next(_randomSeq.Length);
            byte* prev = null;
            for (int i = 0; i < objects; i++)
            {
                int index = i;
                if (_randomSeq != null)
                {
                    do
                    {
                        index = _randomSeq[pos];
                        pos = (pos + 1) % _randomSeq.Length;
                    } while (index >= objects);
                }
                byte* obj = ObjectAt(slab, index);
                SetupObject(obj);
                if (prev == null)
                    slab.Freelist = obj;
                else
                    SetFreePointer(prev, obj);
                prev = obj;
            }
            SetFreePointer(prev, null);
            _allocator.Pages.SetSlab(address, order, slab);
            Stat(SlubStat.AllocSlab);
            return slab;
        }

        private void SetupObject(byte* obj)
        {
            if (IsDebug)
                InitObject(obj, RedInactive);
            if (_ctor != null)
                _ctor(obj);
        }

        /// <summary>The <paramref name="index"/>th object of a slab (<c>fixup_red_left()</c> included).</summary>
        public byte* ObjectAt(Slab slab, int index) => slab.Address + (long)index * Layout.Size + Layout.RedLeftPad;

        // ---------------------------------------------------------------- free

        /// <summary><c>kmem_cache_free(s, x)</c>. Freeing to the wrong cache is reported and refused.</summary>
        public void Free(void* obj)
        {
            if (obj == null)
                return;
            Slab slab = _allocator.Pages.SlabOf(obj);
            if (slab == null || slab.Cache != this)
            {
                // cache_from_obj(): "Wrong slab cache" (checked under CONFIG_SLAB_FREELIST_HARDENED).
                _allocator.Kernel.Warn($"kmem_cache_free: Wrong slab cache. {Name} but object is from {slab?.Cache.Name ?? "(no slab)"}", "mm/slub.c cache_from_obj");
                return;
            }
            if (SheafCapacity > 0 && FreeToSheaf(obj))
                return;
            Stat(SlubStat.FreeSlowpath);
            FreeBulkToSlabs(1, &obj);
        }

        private bool FreeToSheaf(void* obj)
        {
            PerCpuSheaves pcs = _pcs[_allocator.CurrentCpu()];
            if (!pcs.TryLock())
                return false;
            try
            {
                if (pcs.Main.IsFull)
                {
                    if (pcs.Spare.Size == 0)
                        (pcs.Main, pcs.Spare) = (pcs.Spare, pcs.Main);
                    else if (!BarnExchangeForEmpty(pcs))
                        FlushSheaf(pcs.Main);
                }
                pcs.Main.Objects[pcs.Main.Size++] = (nint)obj;
                pcs.Stats[(int)SlubStat.FreeFastpath]++;
                return true;
            }
            finally
            {
                pcs.Unlock();
            }
        }

        // barn_replace_full_sheaf(): give the barn our full main, take an empty one.
        private bool BarnExchangeForEmpty(PerCpuSheaves pcs)
        {
            lock (_barnLock)
            {
                if (_barnFull.Count >= MaxFullSheaves)
                {
                    Stat(pcs, SlubStat.BarnPutFail);
                    return false;
                }
                _barnFull.Push(pcs.Main);
                pcs.Main = _barnEmpty.Count > 0 ? _barnEmpty.Pop() : new Sheaf(SheafCapacity);
                Stat(pcs, SlubStat.BarnPut);
                return true;
            }
        }

        private void FlushSheaf(Sheaf sheaf)
        {
            if (sheaf.Size == 0)
                return;
            fixed (nint* p = sheaf.Objects)
                FreeBulkToSlabs(sheaf.Size, (void**)p);
            sheaf.Size = 0;
            Stat(SlubStat.SheafFlush);
        }

        /// <summary>
        /// __slab_free() for each object: back onto its slab's freelist; a full slab goes back on
        /// the partial list, an empty one is released once the node keeps min_partial slabs.
        /// </summary>
        private void FreeBulkToSlabs(int count, void** p)
        {
            List<Slab> discard = null;
            lock (_listLock)
            {
                for (int i = 0; i < count; i++)
                {
                    byte* obj = (byte*)p[i];
                    Slab slab = _allocator.Pages.SlabOf(obj);
                    if (IsDebug && !FreeDebugProcessing(slab, obj))
                        continue;
                    bool wasFull = slab.Freelist == null;
                    SetFreePointer(obj, slab.Freelist);
                    slab.Freelist = obj;
                    slab.InUse--;
                    if (slab.InUse == 0 && _partial.Count >= (int)Layout.MinPartial)
                        (discard ??= new List<Slab>()).Add(Unlink(slab));
                    else if (wasFull)
                        MoveSlab(slab, SlabList.Partial);
                }
            }
            if (discard != null)
                foreach (Slab slab in discard)
                    DiscardSlab(slab);
        }

        private void DiscardSlab(Slab slab)
        {
            if (IsDebug)
                SlabPadCheck(slab);
            _allocator.Pages.SetSlab(slab.Address, slab.Order, null);
            _allocator.Pages.FreePages(slab.Address, slab.Order);
            Stat(SlubStat.FreeSlab);
        }

        /// <summary>Takes a slab off the node's lists and counts (dec_slabs_node()), to be discarded; list_lock held.</summary>
        private Slab Unlink(Slab slab)
        {
            MoveSlab(slab, SlabList.None);
            _nrSlabs--;
            _totalObjects -= slab.Objects;
            return slab;
        }

        private void MoveSlab(Slab slab, SlabList to)
        {
            if (slab.List == to)
                return;
            if (slab.List == SlabList.Partial)
                _partial.Remove(slab.Node);
            else if (slab.List == SlabList.Full)
                _full.Remove(slab.Node);
            slab.Node = to switch
            {
                SlabList.Partial => _partial.AddLast(slab),
                SlabList.Full => _full.AddLast(slab),
                _ => null,
            };
            slab.List = to;
        }

        // ---------------------------------------------------------------- bulk, shrink, destroy

        /// <summary><c>kmem_cache_alloc_bulk()</c>: all <paramref name="count"/> objects, or none (returns 0).</summary>
        public int AllocBulk(int count, void** p)
        {
            for (int i = 0; i < count; i++)
            {
                p[i] = Alloc();
                if (p[i] == null)
                {
                    FreeBulk(i, p);
                    return 0;
                }
            }
            return count;
        }

        /// <summary><c>kmem_cache_free_bulk()</c>.</summary>
        public void FreeBulk(int count, void** p)
        {
            for (int i = 0; i < count; i++)
                Free(p[i]);
        }

        /// <summary>Flushes every CPU's sheaves and the barn back to the slabs (<c>flush_all()</c>).</summary>
        public void FlushAll()
        {
            foreach (PerCpuSheaves pcs in _pcs)
            {
                pcs.Lock();
                try
                {
                    FlushSheaf(pcs.Main);
                    if (pcs.Spare != null)
                        FlushSheaf(pcs.Spare);
                }
                finally
                {
                    pcs.Unlock();
                }
            }
            lock (_barnLock)
            {
                foreach (Sheaf sheaf in _barnFull)
                    FlushSheaf(sheaf);
                while (_barnFull.Count > 0)
                {
                    Sheaf s = _barnFull.Pop();
                    if (_barnEmpty.Count < MaxEmptySheaves)
                        _barnEmpty.Push(s);
                }
            }
        }

        /// <summary>
        /// <c>kmem_cache_shrink()</c>: flushes the per-CPU layer and releases every empty slab.
        /// </summary>
        /// <returns>0 if no slab is left, 1 otherwise (the kernel's "all slabs released" test).</returns>
        public int Shrink()
        {
            FlushAll();
            var discard = new List<Slab>();
            lock (_listLock)
            {
                for (var node = _partial.First; node != null;)
                {
                    var next = node.Next;
                    if (node.Value.InUse == 0)
                        discard.Add(Unlink(node.Value));
                    node = next;
                }
            }
            foreach (Slab slab in discard)
                DiscardSlab(slab);
            lock (_listLock)
                return _nrSlabs == 0 ? 0 : 1;
        }

        /// <summary>
        /// <c>__kmem_cache_shutdown()</c>: flushes the per-CPU layer, then free_partial(): each
        /// empty slab on the partial list is released, each one with objects is reported
        /// (list_slab_objects). As in the kernel, a slab whose objects are all allocated is on
        /// no list (without SLAB_STORE_USER) and so goes unreported, though it still keeps the
        /// cache busy.
        /// </summary>
        /// <returns>true if every slab was released; false if the cache must be leaked.</returns>
        internal bool Shutdown()
        {
            FlushAll();
            var discard = new List<Slab>();
            bool busy;
            lock (_listLock)
            {
                foreach (Slab slab in _partial.ToArray())
                {
                    if (slab.InUse == 0)
                        discard.Add(Unlink(slab));
                    else
                        ListSlabObjects(slab);
                }
                busy = _nrSlabs > 0;
            }
            foreach (Slab slab in discard)
                DiscardSlab(slab);
            return !busy;
        }

        // ---------------------------------------------------------------- statistics, slabinfo

        /// <summary>The cache's counters for /proc/slabinfo (<c>get_slabinfo()</c>).</summary>
        public SlabInfo GetSlabInfo()
        {
            lock (_listLock)
            {
                long free = 0;
                foreach (Slab slab in _partial)
                    free += slab.Objects - slab.InUse;
                return new SlabInfo(Name, _totalObjects - free, _totalObjects, Layout.Size, Layout.ObjectsPerSlab,
                    Layout.PagesPerSlab, _nrSlabs, _nrSlabs);
            }
        }

        /// <summary>Slabs on the node partial list (/sys/kernel/slab/&lt;cache&gt;/partial).</summary>
        public long PartialSlabs { get { lock (_listLock) return _partial.Count; } }

        /// <summary>Objects in use in partial slabs (objects_partial).</summary>
        public long PartialObjects { get { lock (_listLock) return _partial.Sum(s => (long)s.InUse); } }

        /// <summary>A statistic summed over the CPUs (/sys/kernel/slab/&lt;cache&gt;/&lt;stat&gt;).</summary>
        public long GetStat(SlubStat stat)
        {
            long sum = 0;
            foreach (PerCpuSheaves pcs in _pcs)
                sum += Volatile.Read(ref pcs.Stats[(int)stat]);
            return sum;
        }

        /// <summary>Objects allocated and not freed, not counting those cached in sheaves.</summary>
        public long ObjectsInUse()
        {
            long inUse = 0;
            lock (_listLock)
                foreach (Slab slab in _allocator.SlabsOf(this))
                    inUse += slab.InUse;
            long cached = 0;
            foreach (PerCpuSheaves pcs in _pcs)
            {
                pcs.Lock();
                cached += pcs.Main.Size + (pcs.Spare?.Size ?? 0);
                pcs.Unlock();
            }
            lock (_barnLock)
                foreach (Sheaf s in _barnFull)
                    cached += s.Size;
            return inUse - cached;
        }

        /// <summary>
        /// Every free object of the cache, by address: those on its slabs' freelists and those
        /// cached in the CPUs' sheaves and the barn. A free object is one the next
        /// kmem_cache_alloc() may hand out, so for a cache with a constructor each one must be
        /// in the state the constructor leaves (what a module's free path has to restore).
        /// </summary>
        public List<nint> FreeObjects()
        {
            var free = new List<nint>();
            foreach (PerCpuSheaves pcs in _pcs)
            {
                pcs.Lock();
                try
                {
                    for (int i = 0; i < pcs.Main.Size; i++)
                        free.Add(pcs.Main.Objects[i]);
                    for (int i = 0; i < (pcs.Spare?.Size ?? 0); i++)
                        free.Add(pcs.Spare.Objects[i]);
                }
                finally
                {
                    pcs.Unlock();
                }
            }
            lock (_barnLock)
                foreach (Sheaf sheaf in _barnFull)
                    for (int i = 0; i < sheaf.Size; i++)
                        free.Add(sheaf.Objects[i]);
            lock (_listLock)
                foreach (Slab slab in _allocator.SlabsOf(this))
                    for (byte* obj = slab.Freelist; obj != null; obj = GetFreePointer(obj))
                        free.Add((nint)obj);
            return free;
        }

        private void Stat(SlubStat stat) => Stat(_pcs[_allocator.CurrentCpu()], stat);

        private static void Stat(PerCpuSheaves pcs, SlubStat stat) => Interlocked.Increment(ref pcs.Stats[(int)stat]);

        // ---------------------------------------------------------------- free pointers

        // CONFIG_SLAB_FREELIST_HARDENED: the stored pointer is ptr ^ s->random ^ swab(ptr_addr).
        private byte* GetFreePointer(byte* obj)
        {
            ulong* at = (ulong*)(obj + Layout.Offset);
            return (byte*)(*at ^ _random ^ System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ulong)at));
        }

        private void SetFreePointer(byte* obj, byte* next)
        {
            ulong* at = (ulong*)(obj + Layout.Offset);
            *at = (ulong)next ^ _random ^ System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ulong)at);
        }
    }

    /// <summary>One line of /proc/slabinfo.</summary>
    public readonly record struct SlabInfo(string Name, long ActiveObjs, long NumObjs, uint ObjSize, uint ObjPerSlab,
        int PagesPerSlab, long ActiveSlabs, long NumSlabs);
}
