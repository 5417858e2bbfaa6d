// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The SLUB allocator (mm/slub.c) of Linux 6.1 and 6.12, modelled in user space. Where the two
// versions differ, the code says which does what ("6.1:", "6.12:").
//
// Layers, from the caller down:
//   per-CPU slab      struct kmem_cache_cpu: each CPU allocates from one slab of its own (the
//                     "CPU slab", frozen) through a lockless freelist that only it touches, and
//                     frees to it when the object is from that slab: the fast paths.
//   per-CPU partial   a short stack of partial slabs per CPU (c->partial), up to
//                     s->cpu_partial_slabs of them: slabs that got a free while full, and slabs
//                     taken from the node list in a batch. 6.1 keeps them frozen, 6.12 does not.
//   node lists        kmem_cache_node: the partial list of slabs with free objects (and, for
//                     SLAB_STORE_USER caches, the full list), at least min_partial kept even when
//                     empty. A full slab that is nobody's CPU slab is on no list ("floating").
//   slabs             each keeps its free objects on a freelist threaded through the objects at
//                     s->offset, encoded as CONFIG_SLAB_FREELIST_HARDENED does (Debian's builds).
//   pages             the buddy allocator (PageAllocator).
// Debug caches (slub_debug, SLAB_* debug flags) have no CPU slabs and no CPU partial lists, in
// 6.1 as in 6.12: each alloc takes one object from the node lists (alloc_single_from_partial,
// alloc_single_from_new_slab) and each free goes back under list_lock (free_to_partial_list),
// so that every one passes the checks in SlubDebug.cs. The constructor runs for every object of
// a slab when the slab is made (allocate_slab -> setup_object), never on kmem_cache_alloc.
//
// /proc/slabinfo counts as free only the free objects of slabs on the node partial lists: those
// of CPU slabs and CPU partial slabs count as active (get_slabinfo(), count_partial()). That is
// why one object of a new cache shows its whole first slab as in use.
//
// Lock order (outermost first; the kernel's own, from the comment at the top of mm/slub.c in
// 6.1 and 6.12: slab_mutex, node->list_lock, kmem_cache_cpu->lock, slab_lock):
//   1. slab_mutex        SlabAllocator._slabMutex: the list of caches; kmem_cache_create and
//                        kmem_cache_destroy.
//   2. list_lock         SlabCache._listLock, kmem_cache_node->list_lock: the node's partial and
//                        full lists, the slab and object counters, each slab's List. Debug
//                        caches change their slabs' freelists under it, and their checks and
//                        reports run under it.
//   3. cpu lock          KmemCacheCpu.Lock/TryLock, local_lock in the kernel: one CPU's slab,
//                        freelist, partial list, tid and statistics. Only threads on that CPU
//                        take it (and flushes), so the fast paths never wait on another CPU.
//   4. slab_lock         Slab.State.Lock: a slab's freelist and counters (inuse, objects,
//                        frozen), which the kernel changes with cmpxchg_double, or under
//                        slab_lock() where it cannot. .NET has no 16-byte compare-and-swap, so the
//                        model always takes the slab_lock() way. Every change goes through
//                        lib/SimpleCache.Slab/SlubSlab.cs, the code the library's allocator changes
//                        its slabs with: one implementation of struct slab for both. (A debug
//                        cache's slabs change only under list_lock, without the slab's lock, as
//                        in the kernel: SlubSlab.TakeOne and PutList, and SlubDebug.cs's repairs
//                        of a slab that fails its checks, which write its fields directly.)
//   5. leaf locks        taken last and never around another: the page allocator's zone lock,
//                        Kernel.Random, the printk buffer, the SymbolTable, the handle table.
// The constructor runs with no lock held (new_slab() runs outside list_lock and the CPU lock),
// and pages are released (DiscardSlab) after list_lock is dropped, as discard_slab() is.
//
// Where the model is simpler than the kernel: one NUMA node; no RCU (SLAB_TYPESAFE_BY_RCU only
// moves the free pointer); no memcg; no cache merging; no PREEMPT_RT differences (there the
// fast path takes the local lock and counts as slow).

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using SimpleCache.Slab;

namespace SimpleCache.Model.Mm
{
    /// <summary>One slab: 2^order pages holding objects of one cache (<c>struct slab</c>).</summary>
    public sealed unsafe class Slab
    {
        internal Slab(SlabCache cache, byte* address, int order, int objects)
        {
            Node = new LinkedListNode<Slab>(this);
            Cache = cache;
            Address = address;
            Order = order;
            Objects = objects;
            SlubSlab.Init(ref State, null, objects);
        }

        /// <summary>
        /// <c>slab->freelist</c> and <c>slab->counters</c> (inuse:16, objects:15, frozen:1), as
        /// the library's slab headers hold them, changed by the same code (SlubSlab.cs).
        /// </summary>
        internal SlabState State;

        /// <summary>The cache the slab belongs to (<c>slab->slab_cache</c>).</summary>
        public SlabCache Cache { get; }
        /// <summary>The first byte of the slab's pages (<c>slab_address()</c>).</summary>
        public byte* Address { get; }
        /// <summary>The slab's page order.</summary>
        public int Order { get; }
        /// <summary><c>slab->objects</c>.</summary>
        public int Objects { get; }
        /// <summary>
        /// <c>slab->inuse</c>: objects not on the slab's freelist. A CPU slab counts all its
        /// objects: its free ones are on the CPU's freelist, which the slab does not see.
        /// </summary>
        public int InUse
        {
            get => State.InUse;
            internal set => State.Counters = SlubSlab.WithInUse(State.Counters, value);   // a debug cache's, under list_lock
        }
        /// <summary><c>slab->freelist</c>: the first free object, or null.</summary>
        public byte* Freelist
        {
            get => (byte*)State.Freelist;
            internal set => State.Freelist = (nint)value;   // a debug cache's, under list_lock
        }
        /// <summary><c>slab->frozen</c>: a CPU's slab (6.1: also a slab on a CPU's partial list).</summary>
        public bool Frozen
        {
            get => State.Frozen;
            internal set => State.Counters = SlubSlab.WithFrozen(State.Counters, value);   // a debug cache's, under list_lock
        }
        /// <summary>Which node list the slab is on (6.12's slab_test_node_partial() is List == Partial).</summary>
        internal SlabList List;
        internal readonly LinkedListNode<Slab> Node;
        /// <summary><c>slab->next</c> and <c>slab->slabs</c>: the CPU partial stack, and its length from here down.</summary>
        internal Slab Next;
        internal int Slabs;
    }

    internal enum SlabList { None, Partial, Full }

    /// <summary>
    /// <c>struct kmem_cache_cpu</c> (the fields SlubCpu.cs moves slabs with, shared with the
    /// library) and the model's own: the CPU's lock and its statistics (CONFIG_SLUB_STATS).
    /// </summary>
    internal sealed unsafe class KmemCacheCpu : KmemCacheCpu<Slab>
    {
        // Counted on this CPU alone; its first and last 16 are padding, as the object's head and tail are.
        private readonly long[] _stats = new long[(int)SlubStat.Count + 32];
        private int _locked;
#pragma warning disable CS0169
        private PerCpuHead.Line _tail1, _tail2;
#pragma warning restore CS0169

        /// <summary>This CPU's count of <paramref name="stat"/>.</summary>
        public ref long Stat(SlubStat stat) => ref _stats[16 + (int)stat];

        /// <summary>One compare-and-swap; fails if another thread on this CPU holds it.</summary>
        public bool TryLock() => Interlocked.CompareExchange(ref _locked, 1, 0) == 0;

        /// <summary><c>local_lock()</c>: uncontended unless two threads share the CPU, or a flush runs.</summary>
        public void Lock()
        {
            if (TryLock())
                return;
            var spin = new SpinWait();
            while (!TryLock())
                spin.SpinOnce();
        }

        /// <summary><c>local_unlock()</c>.</summary>
        public void Unlock() => Volatile.Write(ref _locked, 0);
    }

    /// <summary>
    /// A slab cache (<c>struct kmem_cache</c>): its layout, per-CPU slabs and node lists.
    /// Thread-safe: any thread may allocate, and free any object.
    /// </summary>
    public sealed unsafe partial class SlabCache
    {
        private readonly SlabAllocator _allocator;
        private readonly KmemCacheCpu[] _cpu;
        private readonly bool _v61;                  // Linux 6.1's behaviour where it differs from 6.12's
        private readonly object _listLock = new();   // kmem_cache_node->list_lock: guards _partial, _full, every slab's List, _nrSlabs, _totalObjects; debug caches' slab freelists
        private readonly LinkedList<Slab> _partial = new();
        private readonly LinkedList<Slab> _full = new();
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
            _v61 = allocator.Kernel.Options.Version == KernelVersion.V6_1;
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
            SetCpuPartial(CpuPartialFor(layout));
            _cpu = new KmemCacheCpu[allocator.Cpus];
            for (int i = 0; i < _cpu.Length; i++)
                _cpu[i] = new KmemCacheCpu();
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
        /// <summary>Whether any debug flag is on (no CPU slabs; checks on every alloc and free).</summary>
        public bool IsDebug { get; }
        /// <summary>Set when kmem_cache_destroy() found objects still allocated: the cache is leaked.</summary>
        public bool Leaked { get; internal set; }
        /// <summary>The allocator the cache belongs to.</summary>
        public SlabAllocator Allocator => _allocator;
        /// <summary>
        /// <c>s->min_partial</c>: empty slabs the node list keeps rather than discards; set at
        /// creation from the geometry, and by a write to /sys/kernel/slab/&lt;cache&gt;/min_partial.
        /// </summary>
        public ulong MinPartial => _minPartial ?? Layout.MinPartial;
        private ulong? _minPartial;

        /// <summary>min_partial_store() (6.1 and 6.12 alike): any unsigned long, no other effect.</summary>
        public void StoreMinPartial(ulong value) => _minPartial = value;

        /// <summary>
        /// cpu_partial_store() (6.1 and 6.12 alike): -EINVAL for a non-zero value on a cache
        /// without CPU partial lists (a debug cache); else slub_set_cpu_partial(), then flush_all().
        /// </summary>
        public int StoreCpuPartial(uint objects)
        {
            if (objects != 0 && !HasCpuPartial)
                return -global::Kernel.Errno.EINVAL;
            SetCpuPartial(objects);
            FlushAll();
            return 0;
        }

        // The node list keeps enough empty slabs: n->nr_partial >= s->min_partial.
        private bool NodeHasMinPartial => (ulong)_partial.Count >= MinPartial;
        /// <summary><c>s->cpu_partial</c>: objects a CPU's partial slabs are meant to hold (/sys/.../cpu_partial).</summary>
        public uint CpuPartial { get; private set; }
        /// <summary><c>s->cpu_partial_slabs</c>: the most slabs a free leaves on a CPU's partial list.</summary>
        public uint CpuPartialSlabs { get; private set; }

        /// <summary>kmem_cache_has_cpu_partial(): CONFIG_SLUB_CPU_PARTIAL (Debian: y) and not a debug cache.</summary>
        private bool HasCpuPartial => !IsDebug;

        /// <summary>
        /// set_cpu_partial() (6.1 and 6.12 alike): the objects a CPU may keep on its partial
        /// slabs, none for a debug cache, else by slot size.
        /// </summary>
        public static uint CpuPartialFor(SlabLayout l) =>
            (l.Flags & CacheFlags.DebugFlags) != 0 ? 0u : SlubGeometry.CpuPartial(l.Size);

        // slub_set_cpu_partial(): nr_slabs = DIV_ROUND_UP(nr_objects * 2, oo_objects(s->oo)), as if
        // each partial slab were half full.
        private void SetCpuPartial(uint objects)
        {
            CpuPartial = objects;
            CpuPartialSlabs = (objects * 2 + Layout.ObjectsPerSlab - 1) / Layout.ObjectsPerSlab;
        }

        private KmemCacheCpu ThisCpu => _cpu[_allocator.CurrentCpu()];

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
            void* obj = IsDebug ? AllocDebug(origSize) : SlabAllocNode();
            if (obj != null && zero)
                new Span<byte>(obj, (int)origSize).Clear();
            return obj;
        }

        // slab_alloc_node(): the fast path takes the first object of the CPU's freelist (the kernel
        // with this_cpu_cmpxchg on freelist and tid; the model under the CPU's own lock).
        private void* SlabAllocNode()
        {
            KmemCacheCpu c = ThisCpu;
            c.Lock();
            byte* obj = c.Freelist;
            if (obj != null && c.Slab != null)
            {
                if (!Readable(obj))
                {
                    c.Unlock();   // lockless in the kernel
                    WildFreePointer(obj);
                }
                c.Freelist = GetFreePointer(obj);
                c.Tid++;
                c.Stat(SlubStat.AllocFastpath)++;
                c.Unlock();
                return obj;
            }
            c.Unlock();
            return SlabAllocSlow(c);
        }

        // ___slab_alloc() and the rest of the per-CPU layer: SlubCpu.cs, the code the library runs
        // too, with the model's slabs, lists, statistics and faults (CpuOps, below).
        private void* SlabAllocSlow(KmemCacheCpu c) => SlubCpu<Slab, HardenedFreePointer, CpuOps>.AllocSlow(new CpuOps(this), c);

        // alloc_single_from_partial() and alloc_single_from_new_slab(): a debug cache takes one
        // object at a time under list_lock, checking it; a full slab goes to the full list (with
        // SLAB_STORE_USER) or to none.
        private void* AllocDebug(uint origSize)
        {
            Stat(SlubStat.AllocSlowpath);
            while (true)
            {
                lock (_listLock)
                {
                    while (_partial.First != null)
                    {
                        Slab slab = _partial.First.Value;
                        void* obj = TakeFromSlab(slab);
                        if (!AllocDebugProcessing(slab, obj, origSize))
                        {
                            RemovePartial(slab);   // a bad slab is left off the lists, leaked, as the kernel does
                            continue;
                        }
                        if (slab.InUse == slab.Objects)
                        {
                            RemovePartial(slab);
                            AddFull(slab);
                        }
                        return obj;
                    }
                }
                Slab fresh = NewSlab();
                if (fresh == null)
                    return null;
                Stat(SlubStat.AllocSlab);
                lock (_listLock)
                {
                    void* obj = TakeFromSlab(fresh);
                    if (!AllocDebugProcessing(fresh, obj, origSize))
                        continue;   // a new slab that fails its checks is left off the lists and counts
                    if (fresh.InUse == fresh.Objects)
                        AddFull(fresh);
                    else
                        AddPartial(fresh, tail: false);
                    _nrSlabs++;   // inc_slabs_node()
                    _totalObjects += fresh.Objects;
                    return obj;
                }
            }
        }

        private void* TakeFromSlab(Slab slab)
        {
            byte* obj = slab.Freelist;
            if (!Readable(obj))
            {
                // alloc_single_from_partial() runs under list_lock, taken with interrupts off; the
                // kernel dies holding it (and "exited with preempt_count 2", as the 6.1 VM prints
                // after a refused double free NULLed a free pointer). The model lets it go.
                Monitor.Exit(_listLock);
                WildFreePointer(obj, _v61 ? "get_partial_node.part.0" : "get_partial_node", irqsDisabled: true, preemptCount: 2);
            }
            return SlubSlab.TakeOne(ref slab.State, FreePointer);   // the library's debug caches' code too
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
            // slots past the end of a smaller (fallback-order) slab; else address order. The
            // library's new slabs are built by the same code (SlubSlab.Build).
            int pos = 0;
            if (_randomSeq != null)
                lock (_allocator.Kernel.Random)
                    pos = _allocator.Kernel.Random.Next(_randomSeq.Length);
            var setup = new ObjectSetup(this);
            byte* freelist = SlubSlab.Build(ObjectAt(slab, 0), objects, (int)Layout.Size, _randomSeq, pos, FreePointer, ref setup);
            SlubSlab.Init(ref slab.State, freelist, objects);
            _allocator.Pages.SetSlab(address, order, slab);
            return slab;
        }

        // setup_object(): the model's debug bytes and constructor, for SlubSlab.Build.
        private readonly struct ObjectSetup(SlabCache cache) : ISetupObject
        {
            public void Setup(byte* obj) => cache.SetupObject(obj);
        }

        private void SetupObject(byte* obj)
        {
            if (IsDebug)
                InitObject(obj, RedInactive);
            if (_ctor != null)
            {
                Interlocked.Increment(ref _ctorCalls);
                _ctor(obj);
            }
        }

        private long _ctorCalls;

        /// <summary>
        /// How many times the constructor has run: once per object of each new slab. The kernel
        /// keeps no such count; the model does, so that a learner can see it.
        /// </summary>
        public long ConstructorCalls => Interlocked.Read(ref _ctorCalls);

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
                // cache_from_obj(): "Wrong slab cache" (checked under CONFIG_SLAB_FREELIST_HARDENED), a
                // WARN at 6.1 mm/slab.h:665 / 6.12 mm/slub.c:4770, inlined into kmem_cache_free().
                _allocator.Kernel.Warn($"kmem_cache_free: Wrong slab cache. {Name} but object is from {slab?.Cache.Name ?? "(no slab)"}",
                    _v61 ? "mm/slab.h:665 kmem_cache_free" : "mm/slub.c:4770 kmem_cache_free");
                return;
            }
            if (IsDebug)
            {
                // 6.1: slab_free() always runs slab_free_freelist_hook() first (mm/slub.c:1738),
                // which rebuilds the one-object freelist and so sets the object's free pointer to
                // NULL (mm/slub.c:1763) before free_debug_processing() looks at it. When the free
                // is refused (a double free), an object that is already on the slab's freelist
                // now ends it: the rest of the freelist is lost ("Wrong object count" at the next
                // check, or a NULL free pointer followed by the next allocations). 6.12's
                // slab_free() frees one object as it is (do_slab_free(s, slab, object, object, 1)).
                // (A cache without debugging rewrites the pointer right after, or BUG()s.)
                if (_v61)
                    SetFreePointer((byte*)obj, null);
                FreeToPartialList(slab, (byte*)obj);
                return;
            }
            // do_slab_free(): an object of this CPU's slab goes on the CPU's freelist.
            KmemCacheCpu c = ThisCpu;
            c.Lock();
            if (slab == c.Slab)
            {
                if (obj == c.Freelist)
                {
                    c.Unlock();   // the kernel's lockless fast path holds no lock here
                    NaiveDoubleFree();
                }
                SetFreePointer((byte*)obj, c.Freelist);
                c.Freelist = (byte*)obj;
                c.Tid++;
                c.Stat(SlubStat.FreeFastpath)++;
                c.Unlock();
                return;
            }
            c.Unlock();
            SlabFree(slab, (byte*)obj);
        }

        // __slab_free() (SlubCpu.cs): a free to any slab but this CPU's.
        private void SlabFree(Slab slab, byte* obj) => SlubCpu<Slab, HardenedFreePointer, CpuOps>.SlabFree(new CpuOps(this), slab, obj);

        // set_freepointer() under CONFIG_SLAB_FREELIST_HARDENED (on in Debian): an object freed
        // while it is the head of the freelist it joins would point to itself.
        //     BUG_ON(object == fp); /* naive detection of double free or corruption */
        // 6.1: mm/slub.c:419, 6.12: mm/slub.c:550 (Debian's 6.1.192 and 6.12.117 sources). Only
        // the naive case: a double free with another free in between goes unseen and corrupts
        // the freelist. Debug caches (slub_debug F) catch every double free before this.
        // Whether the kernel could read the free pointer of an object at this address: the model
        // can read its own memory only. A free pointer that a use-after-free overwrote decodes
        // to garbage, almost always a non-canonical address, and the allocation that follows it
        // faults (x86-64's general protection fault); a canonical one outside memory page faults.
        private bool Readable(byte* obj) => _allocator.Pages.IndexOf(obj) >= 0;

        // The fault itself, as x86-64 reports it (arch/x86/mm/fault.c and traps.c, 6.1 and 6.12):
        // an address in the first page is a NULL pointer dereference, another canonical address
        // a page fault; both oops through page_fault_oops(), __die("Oops") and SIGKILL. A
        // non-canonical address is a general protection fault (die_addr(), SIGSEGV). The caller
        // says where the kernel faults (the RIP's function) and what it holds there.
        private void WildFreePointer(byte* obj, string function = "kmem_cache_alloc", bool irqsDisabled = false, int preemptCount = 0)
        {
            ModelKernel kernel = _allocator.Kernel;
            ulong address = (ulong)obj + Layout.Offset;
            bool canonical = (long)address >> 47 is 0 or -1;
            if (!canonical)
                kernel.Oops($"general protection fault, probably for non-canonical address 0x{address:x}: 0000", function, 11, irqsDisabled, preemptCount);
            kernel.Printk(global::Kernel.LogLevel.Alert, address < SlabGeometry.PageSize
                ? $"BUG: kernel NULL pointer dereference, address: {address:x16}"
                : $"BUG: unable to handle page fault for address: {address:x16}");
            kernel.Printk(global::Kernel.LogLevel.Alert, "#PF: supervisor read access in kernel mode");
            kernel.Printk(global::Kernel.LogLevel.Alert, "#PF: error_code(0x0000) - not-present page");
            // dump_pagetable(): the model has no page tables; the VM's entries are put aside by the comparison.
            kernel.Printk(global::Kernel.LogLevel.Info, "PGD 0 P4D 0 ");
            kernel.Oops("Oops: 0000", function, 9, irqsDisabled, preemptCount);
        }

        private void NaiveDoubleFree() =>
            _allocator.Kernel.Bug("mm/slub.c", _v61 ? 419 : 550, "kmem_cache_free");

        // free_to_partial_list(): a debug cache's free, checked, under list_lock.
        private void FreeToPartialList(Slab slab, byte* obj)
        {
            Stat(SlubStat.FreeSlowpath);
            bool discard = false;
            lock (_listLock)
            {
                if (!FreeDebugProcessing(slab, obj))
                    return;
                byte* prior = SlubSlab.PutList(ref slab.State, obj, obj, 1, FreePointer);   // the library's debug caches' code too
                discard = slab.InUse == 0 && NodeHasMinPartial;
                if (prior == null)
                {
                    RemoveFull(slab);
                    if (!discard)
                    {
                        AddPartial(slab, tail: true);
                        Stat(SlubStat.FreeAddPartial);
                    }
                }
                else if (discard)
                    Stat(SlubStat.FreeRemovePartial);
                if (discard)
                    Unlink(slab);
            }
            if (discard)
            {
                Stat(SlubStat.FreeSlab);
                DiscardSlab(slab);
            }
        }

        private void DiscardSlab(Slab slab)
        {
            if (IsDebug)
                SlabPadCheck(slab);
            _allocator.Pages.SetSlab(slab.Address, slab.Order, null);
            _allocator.Pages.FreePages(slab.Address, slab.Order);
        }

        /// <summary>Takes a slab off the node's lists and counts (dec_slabs_node()), to be discarded; list_lock held.</summary>
        private Slab Unlink(Slab slab)
        {
            MoveSlab(slab, SlabList.None, tail: true);
            _nrSlabs--;
            _totalObjects -= slab.Objects;
            return slab;
        }

        // add_partial() and remove_partial(); add_full() and remove_full() act only with SLAB_STORE_USER.
        private void AddPartial(Slab slab, bool tail) => MoveSlab(slab, SlabList.Partial, tail);
        private void RemovePartial(Slab slab) => MoveSlab(slab, SlabList.None, tail: true);
        private void AddFull(Slab slab) => MoveSlab(slab, (Layout.Flags & CacheFlags.StoreUser) != 0 ? SlabList.Full : SlabList.None, tail: true);
        private void RemoveFull(Slab slab) => MoveSlab(slab, SlabList.None, tail: true);

        private void MoveSlab(Slab slab, SlabList to, bool tail)
        {
            if (slab.List == to)
                return;
            if (slab.List == SlabList.Partial)
                _partial.Remove(slab.Node);
            else if (slab.List == SlabList.Full)
                _full.Remove(slab.Node);
            LinkedList<Slab> list = to == SlabList.Partial ? _partial : to == SlabList.Full ? _full : null;
            if (list != null)
            {
                // The slab's own node, as struct slab's slab_list is part of it: no allocation per move.
                if (tail)
                    list.AddLast(slab.Node);
                else
                    list.AddFirst(slab.Node);
            }
            slab.List = to;
        }

        // ---------------------------------------------------------------- bulk, flush, shrink, destroy

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

        /// <summary>
        /// <c>flush_all()</c>: every CPU's slab is deactivated and its partial list drained to the
        /// node list (flush_slab(), then unfreeze_partials() / put_partials()).
        /// </summary>
        public void FlushAll()
        {
            foreach (KmemCacheCpu c in _cpu)
                SlubCpu<Slab, HardenedFreePointer, CpuOps>.Flush(new CpuOps(this), c);
        }

        /// <summary>
        /// <c>kmem_cache_shrink()</c>: flushes the CPUs, releases every empty slab of the node
        /// list (min_partial or not), and sorts the rest by free objects, fewest first, so that
        /// allocations fill the fullest slabs (__kmem_cache_do_shrink(), SHRINK_PROMOTE_MAX 32).
        /// </summary>
        /// <returns>0 if no slab is left, 1 otherwise (the kernel's "all slabs released" test).</returns>
        public int Shrink()
        {
            FlushAll();
            const int ShrinkPromoteMax = 32;
            var discard = new List<Slab>();
            lock (_listLock)
            {
                var promote = new List<Slab>[ShrinkPromoteMax];
                for (var node = _partial.First; node != null;)
                {
                    var next = node.Next;
                    Slab slab = node.Value;
                    int free = slab.Objects - slab.InUse;
                    if (free == slab.Objects)
                        discard.Add(Unlink(slab));
                    else if (free <= ShrinkPromoteMax)
                    {
                        RemovePartial(slab);
                        (promote[free - 1] ??= new List<Slab>()).Insert(0, slab);   // list_move: to the bucket's head
                    }
                    node = next;
                }
                // list_splice() of each bucket to the list's head, the largest free count first.
                for (int i = ShrinkPromoteMax - 1; i >= 0; i--)
                    if (promote[i] != null)
                        for (int k = promote[i].Count - 1; k >= 0; k--)
                            AddPartial(promote[i][k], tail: false);
            }
            foreach (Slab slab in discard)
                DiscardSlab(slab);
            lock (_listLock)
                return _nrSlabs == 0 ? 0 : 1;
        }

        /// <summary>
        /// <c>__kmem_cache_shutdown()</c>: flushes the CPUs, then free_partial(): each empty slab
        /// on the partial list is released, each one with objects is reported
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

        // ---------------------------------------------------------------- statistics, slabinfo, sysfs

        /// <summary>
        /// The cache's counters for /proc/slabinfo (<c>get_slabinfo()</c>): only the free objects
        /// of node partial slabs count as free (<c>count_partial(n, count_free)</c>; 6.12's
        /// estimate is exact below 10,000 partial slabs).
        /// </summary>
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

        /// <summary>kmem_cache_node->list_lock, for the tests that hold it.</summary>
        internal object ListLock => _listLock;

        /// <summary>Slabs on the node partial list (/sys/kernel/slab/&lt;cache&gt;/partial).</summary>
        public long PartialSlabs { get { lock (_listLock) return _partial.Count; } }

        /// <summary>Objects in use in node partial slabs (objects_partial).</summary>
        public long PartialObjects { get { lock (_listLock) return _partial.Sum(s => (long)s.InUse); } }

        /// <summary>
        /// /sys/kernel/slab/&lt;cache&gt;/cpu_slabs (show_slab_objects(SO_CPU)): for each CPU with a
        /// slab, 1 and the length of its partial list. A CPU without a slab counts nothing, even
        /// with partial slabs: the kernel's loop skips it.
        /// </summary>
        public long CpuSlabs
        {
            get
            {
                long total = 0;
                foreach (KmemCacheCpu c in _cpu)
                {
                    c.Lock();
                    if (c.Slab != null)
                        total += 1 + (c.Partial?.Slabs ?? 0);
                    c.Unlock();
                }
                return total;
            }
        }

        /// <summary>
        /// /sys/kernel/slab/&lt;cache&gt;/slabs_cpu_partial (slabs_cpu_partial_show()): the slabs on
        /// the CPUs' partial lists, with an estimate of their objects (half of each slab), in
        /// total and per CPU: "6(2) C0=3(1) C1=3(1)".
        /// </summary>
        public string SlabsCpuPartial()
        {
            var perCpu = new System.Text.StringBuilder();
            long slabs = 0;
            for (int cpu = 0; cpu < _cpu.Length; cpu++)
            {
                KmemCacheCpu c = _cpu[cpu];
                c.Lock();
                int n = c.Partial?.Slabs ?? 0;
                c.Unlock();
                if (n == 0)
                    continue;
                slabs += n;
                perCpu.Append($" C{cpu}={n * Layout.ObjectsPerSlab / 2}({n})");
            }
            return $"{slabs * Layout.ObjectsPerSlab / 2}({slabs}){perCpu}\n";
        }

        /// <summary>A statistic summed over the CPUs (/sys/kernel/slab/&lt;cache&gt;/&lt;stat&gt;).</summary>
        public long GetStat(SlubStat stat)
        {
            long sum = 0;
            foreach (KmemCacheCpu c in _cpu)
                sum += Volatile.Read(ref c.Stat(stat));
            return sum;
        }

        /// <summary>Objects allocated and not freed: the slabs' inuse, less the CPUs' freelists.</summary>
        public long ObjectsInUse()
        {
            long inUse = 0;
            lock (_listLock)
                foreach (Slab slab in _allocator.SlabsOf(this))
                    inUse += slab.State.InUse;
            foreach (KmemCacheCpu c in _cpu)
            {
                c.Lock();
                foreach (nint p in Freelist(c.Slab, c.Freelist))
                    inUse--;
                c.Unlock();
            }
            return inUse;
        }

        /// <summary>
        /// Every free object of the cache, by address: those on its slabs' freelists and those on
        /// the CPUs' freelists. A free object is one the next kmem_cache_alloc() may hand out, so
        /// for a cache with a constructor each one must be in the state the constructor leaves
        /// (what a module's free path has to restore).
        /// </summary>
        public List<nint> FreeObjects()
        {
            var free = new List<nint>();
            foreach (KmemCacheCpu c in _cpu)
            {
                c.Lock();
                foreach (nint p in Freelist(c.Slab, c.Freelist))
                    free.Add(p);
                c.Unlock();
            }
            lock (_listLock)
                foreach (Slab slab in _allocator.SlabsOf(this))
                    using (SlubSlab.Hold(ref slab.State))
                        foreach (nint obj in Freelist(slab, slab.Freelist))
                            free.Add(obj);
            return free;
        }

        private void Stat(SlubStat stat) => Stat(ThisCpu, stat);

        private static void Stat(KmemCacheCpu c, SlubStat stat) => Interlocked.Increment(ref c.Stat(stat));

        // ---------------------------------------------------------------- the per-CPU layer's hooks

        // What SlubCpu.cs needs of the model: its Slab objects, per-CPU lock and statistics, node
        // list under list_lock, page allocator, and the kernel's faults. No local lists: that is
        // the library's (every free to a slab not the CPU's is __slab_free()'s).
        private readonly struct CpuOps(SlabCache cache) : ISlubCpuOps<Slab, HardenedFreePointer>
        {
            public bool V61 => cache._v61;
            public HardenedFreePointer FreePointer => cache.FreePointer;
            public bool IsNull(Slab slab) => slab == null;
            public ref SlabState State(Slab slab) => ref slab.State;
            public Slab Next(Slab slab) => slab.Next;
            public void SetNext(Slab slab, Slab next) => slab.Next = next;
            public int Slabs(Slab slab) => slab.Slabs;
            public void SetSlabs(Slab slab, int slabs) => slab.Slabs = slabs;
            public KmemCacheCpu<Slab> ThisCpu => cache.ThisCpu;
            public void Lock(KmemCacheCpu<Slab> c) => ((KmemCacheCpu)c).Lock();
            public void Unlock(KmemCacheCpu<Slab> c) => ((KmemCacheCpu)c).Unlock();
            public void Stat(KmemCacheCpu<Slab> c, SlubStat stat) => SlabCache.Stat((KmemCacheCpu)c, stat);
            public void Stat(SlubStat stat, int count) => Interlocked.Add(ref cache.ThisCpu.Stat(stat), count);
            public bool HasCpuPartial => cache.HasCpuPartial;
            public uint CpuPartialSlabs => cache.CpuPartialSlabs;
            public void SlabChanged(KmemCacheCpu<Slab> c)
            {
            }
            public void OnCpuPartial(KmemCacheCpu<Slab> c, Slab slab)
            {
            }
            public byte* TakeLocal(Slab slab, out byte* tail, out int count)
            {
                tail = null;
                count = 0;
                return null;
            }
            public byte* Activating(Slab slab, byte* freelist, int inUse) => freelist;
            public void Loading(KmemCacheCpu<Slab> c, byte* freelist, bool refill)
            {
                if (!cache.Readable(freelist))
                {
                    ((KmemCacheCpu)c).Unlock();   // lockless in the kernel
                    cache.WildFreePointer(freelist);
                }
            }
            public void LockList() => Monitor.Enter(cache._listLock);
            public void UnlockList() => Monitor.Exit(cache._listLock);
            public Slab NodeFirst() => cache._partial.First?.Value;
            public Slab NodeNext(Slab slab) => slab.Node.Next?.Value;
            public bool NodeHasMinPartial => cache.NodeHasMinPartial;
            public bool OnNodePartial(Slab slab) => slab.List == SlabList.Partial;
            public void AddPartial(Slab slab, bool tail) => cache.AddPartial(slab, tail);
            public void RemovePartial(Slab slab) => cache.RemovePartial(slab);
            public void Unlink(Slab slab) => cache.Unlink(slab);
            public void Counted(Slab slab)
            {
                lock (cache._listLock)   // the model's counts are list_lock's
                {
                    cache._nrSlabs++;   // inc_slabs_node()
                    cache._totalObjects += slab.Objects;
                }
            }
            public Slab NewSlab(KmemCacheCpu<Slab> c) => cache.NewSlab();
            public void DiscardSlab(Slab slab) => cache.DiscardSlab(slab);
            public void DiscardSlabs(Slab list)
            {
                for (Slab slab = list, next; slab != null; slab = next)
                {
                    next = slab.Next;
                    slab.Next = null;
                    Stat(SlubStat.DeactivateEmpty, 1);
                    cache.DiscardSlab(slab);
                    Stat(SlubStat.FreeSlab, 1);
                }
            }
            public bool Readable(byte* p) => cache.Readable(p);
            public void WildFreePointer(byte* p) => cache.WildFreePointer(p);
            public void FreelistLoops(Slab slab) =>
                cache._allocator.Kernel.SoftLockup($"deactivate_slab() walks the freelist of a {cache.Name} slab, which loops: more than its {slab.Objects} objects");
            public void NaiveDoubleFree(byte* obj) => cache.NaiveDoubleFree();
        }

        // ---------------------------------------------------------------- free pointers

        // A freelist walk that the model does for itself (counts, maps), which must end even on a
        // corrupted freelist: at null, after the slab's number of objects (a freelist that loops),
        // or before a pointer that is not an object of the slab (check_valid_pointer()).
        internal FreelistWalk Freelist(Slab slab, byte* head) => new(this, slab, head);

        /// <summary>The objects of a freelist, bounded (see <see cref="Freelist"/>).</summary>
        internal ref struct FreelistWalk
        {
            private readonly SlabCache _cache;
            private readonly Slab _slab;
            private byte* _next;
            private int _left;

            internal FreelistWalk(SlabCache cache, Slab slab, byte* head)
            {
                _cache = cache;
                _slab = slab;
                _next = head;
                _left = slab?.Objects ?? 0;
                Current = 0;
            }

            public nint Current { get; private set; }

            public readonly FreelistWalk GetEnumerator() => this;

            public bool MoveNext()
            {
                if (_next == null || _left-- == 0 || !_cache.IsObjectOf(_slab, _next))
                    return false;
                Current = (nint)_next;
                _next = _cache.GetFreePointer(_next);
                return true;
            }
        }

        private bool IsObjectOf(Slab slab, byte* p)
        {
            long offset = p - Layout.RedLeftPad - slab.Address;
            return offset >= 0 && offset < (long)slab.Objects * Layout.Size && offset % Layout.Size == 0;
        }

        // CONFIG_SLAB_FREELIST_HARDENED: the stored pointer is ptr ^ s->random ^ swab(ptr_addr)
        // (SlubSlab.cs's HardenedFreePointer, which the slab code takes as a parameter).
        private HardenedFreePointer FreePointer => new((int)Layout.Offset, _random);

        private byte* GetFreePointer(byte* obj) => FreePointer.Get(obj);

        private void SetFreePointer(byte* obj, byte* next) => FreePointer.Set(obj, next);
    }

    /// <summary>One line of /proc/slabinfo.</summary>
    public readonly record struct SlabInfo(string Name, long ActiveObjs, long NumObjs, uint ObjSize, uint ObjPerSlab,
        int PagesPerSlab, long ActiveSlabs, long NumSlabs);
}
