// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// SLUB's per-CPU layer: struct kmem_cache_cpu and the functions that move slabs between a CPU,
// its partial list and the node's partial list. One implementation, which this library
// (SlabCache.cs, a thread where the kernel has a CPU) and the model of the kernel
// (model/mm/Slub.cs) both run, over the slab code both run (SlubSlab.cs).
//
// The functions are the kernel's (mm/slub.c of 6.1 and 6.12), each named where it is written:
//
//   AllocSlow        ___slab_alloc()        the CPU slab's own freelist, then the CPU partial list,
//                                           then the node partial list, then a new slab
//   GetPartialNode   get_partial_node()     the node's first partial slab for the CPU, more for its
//                                           partial list (6.1 acquire_slab(), 6.12 freeze_slab())
//   PutCpuPartial    put_cpu_partial()      a slab on the CPU partial list; a full list drained
//   PutPartials      __unfreeze_partials()  a CPU partial list to the node (6.12 __put_partials())
//   Deactivate       deactivate_slab()      the CPU slab and its freelist back to the node
//   SlabFree         __slab_free()          a free to any slab but the CPU's
//   Flush            flush_slab() and       a CPU's slab and partial list given up
//                    unfreeze_partials()
//
// What the two users put in (ISlubCpuOps): their slabs (the model's Slab objects, the library's
// slab headers), their node list and its lock, their page allocator, their statistics, and how
// each meets a fault. The library takes 6.1's paths (its CPU partial slabs are frozen) and adds
// one thing the kernel does not have, the freezing widened: a thread's frees to the frozen slabs
// of its own partial list go to a list of the slab's that only that thread touches (LocalFree),
// with plain stores, as a CPU's frees to its own slab go to c->freelist; TakeLocal() gives that
// list back whenever the slab leaves the partial list. In the kernel those frees are
// __slab_free()'s, on the slab's freelist, with the same result: every place that would find
// them there (a refill, an unfreeze) takes the local list first.
//
// Where 6.1 and 6.12 differ, V61 says which: 6.1 freezes CPU partial slabs (acquire_slab()
// tries once, a free of a full slab freezes it for the CPU partial list, a CPU slab taken from
// that list goes back to "redo" and get_freelist(), unfreeze_partials() unfreezes each); 6.12
// leaves them unfrozen (freeze_slab() retries, the CPU slab takes its freelist at once, and
// get_partial_node() takes no slab for the partial list when cpu_partial_slabs is 0).

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace SimpleCache.Slab
{
    /// <summary>SLUB's statistics: <c>enum stat_item</c> of 6.1 and 6.12, in its order (CONFIG_SLUB_STATS).</summary>
    public enum SlubStat
    {
        /// <summary>Allocation from the CPU's freelist.</summary>
        AllocFastpath,
        /// <summary>Allocation through ___slab_alloc().</summary>
        AllocSlowpath,
        /// <summary>Free to the CPU's slab.</summary>
        FreeFastpath,
        /// <summary>Free through __slab_free().</summary>
        FreeSlowpath,
        /// <summary>Free to a frozen slab (another CPU's slab; 6.1: also a CPU partial slab).</summary>
        FreeFrozen,
        /// <summary>Free that put a slab on the node partial list.</summary>
        FreeAddPartial,
        /// <summary>Free that took an emptied slab off the node partial list.</summary>
        FreeRemovePartial,
        /// <summary>CPU slab taken from the node partial list.</summary>
        AllocFromPartial,
        /// <summary>CPU slab taken from the page allocator.</summary>
        AllocSlab,
        /// <summary>CPU freelist refilled from the CPU slab's own freelist.</summary>
        AllocRefill,
        /// <summary>CPU slab of the wrong node (never in the one-node model).</summary>
        AllocNodeMismatch,
        /// <summary>Slab given back to the page allocator.</summary>
        FreeSlab,
        /// <summary>CPU slab taken away by a flush.</summary>
        CpuslabFlush,
        /// <summary>CPU slab deactivated while full: on no list.</summary>
        DeactivateFull,
        /// <summary>CPU slab deactivated while empty: discarded.</summary>
        DeactivateEmpty,
        /// <summary>CPU slab deactivated to the head of the node partial list.</summary>
        DeactivateToHead,
        /// <summary>CPU slab deactivated to the tail (other CPUs had freed to it).</summary>
        DeactivateToTail,
        /// <summary>Deactivated CPU slab that other CPUs had freed to.</summary>
        DeactivateRemoteFrees,
        /// <summary>CPU slab dropped as full without a deactivation.</summary>
        DeactivateBypass,
        /// <summary>A slab of the preferred order could not be had; a smaller one was used.</summary>
        OrderFallback,
        /// <summary>Fast path compare-and-swap retried (never in the model, which locks).</summary>
        CmpxchgDoubleCpuFail,
        /// <summary>Slab compare-and-swap retried: a look at a slab that changed before the update (slab_update_freelist()).</summary>
        CmpxchgDoubleFail,
        /// <summary>CPU slab taken from the CPU's partial list.</summary>
        CpuPartialAlloc,
        /// <summary>Slab put on the CPU's partial list by a free.</summary>
        CpuPartialFree,
        /// <summary>Slab put on the CPU's partial list from the node list.</summary>
        CpuPartialNode,
        /// <summary>CPU partial list drained to the node list.</summary>
        CpuPartialDrain,
        /// <summary>Number of statistics.</summary>
        Count,
    }

    /// <summary>
    /// The kernel keeps each CPU's kmem_cache_cpu in that CPU's per-CPU area, apart from the
    /// others'; here they are objects the GC may put side by side, and two CPUs (threads) writing
    /// one cache line would take turns owning it (false sharing). So a kmem_cache_cpu starts with
    /// two lines of padding (a base class's fields come first); the classes that end the chain
    /// end with two more (the runtime puts struct fields last).
    /// </summary>
    internal class PerCpuHead
    {
#pragma warning disable CS0169
        private Line _head1, _head2;
#pragma warning restore CS0169

        [StructLayout(LayoutKind.Sequential, Size = 64)]
        internal struct Line
        {
        }
    }

    /// <summary>
    /// <c>struct kmem_cache_cpu</c>: a CPU's slab (a thread's, in the library), its lockless
    /// freelist and transaction id, and its partial slabs (a stack through the slabs' own links,
    /// whose head holds the stack's length, as slab->slabs does).
    /// </summary>
    internal unsafe class KmemCacheCpu<TSlab> : PerCpuHead
    {
        public byte* Freelist;
        public TSlab Slab;
        public TSlab Partial;
        public ulong Tid;
    }

    /// <summary>What a user of <see cref="SlubCpu{TSlab, TPtr, TOps}"/> provides: its slabs, node list, pages, statistics and faults.</summary>
    internal unsafe interface ISlubCpuOps<TSlab, TPtr> where TPtr : struct, IFreePointer
    {
        /// <summary>6.1's paths where they differ from 6.12's.</summary>
        bool V61 { get; }
        TPtr FreePointer { get; }

        // the slabs
        bool IsNull(TSlab slab);
        ref SlabState State(TSlab slab);
        /// <summary>slab->next and slab->slabs: the CPU partial stack.</summary>
        TSlab Next(TSlab slab);
        void SetNext(TSlab slab, TSlab next);
        int Slabs(TSlab slab);
        void SetSlabs(TSlab slab, int slabs);

        // the CPUs
        KmemCacheCpu<TSlab> ThisCpu { get; }
        void Lock(KmemCacheCpu<TSlab> c);
        void Unlock(KmemCacheCpu<TSlab> c);
        void Stat(KmemCacheCpu<TSlab> c, SlubStat stat);
        void Stat(SlubStat stat, int count = 1);
        /// <summary>kmem_cache_has_cpu_partial().</summary>
        bool HasCpuPartial { get; }
        /// <summary>s->cpu_partial_slabs.</summary>
        uint CpuPartialSlabs { get; }
        /// <summary>c->slab changed (the library keeps its fast path's copy).</summary>
        void SlabChanged(KmemCacheCpu<TSlab> c);
        /// <summary>A frozen slab went on c's partial list (the library: c's thread owns it).</summary>
        void OnCpuPartial(KmemCacheCpu<TSlab> c, TSlab slab);
        /// <summary>
        /// The slab leaves a CPU partial list: the owner's own frees to it since it went there
        /// (<paramref name="count"/> objects, <paramref name="tail"/> the last), or null (always,
        /// in the kernel). A CPU slab never has such a list: it came off the partial list through
        /// here, and its CPU's frees to it go to c->freelist.
        /// </summary>
        byte* TakeLocal(TSlab slab, out byte* tail, out int count);
        /// <summary>
        /// The slab becomes a CPU slab with this freelist, <paramref name="inUse"/> of its objects
        /// in use (as far as was seen). The library orders a partly used slab's free objects.
        /// </summary>
        byte* Activating(TSlab slab, byte* freelist, int inUse);
        /// <summary>
        /// Before c->freelist's first object is taken: the model faults on a free pointer it
        /// cannot follow; the library checks that a <paramref name="refill"/>'s list (other
        /// threads' frees to its slab) ends.
        /// </summary>
        void Loading(KmemCacheCpu<TSlab> c, byte* freelist, bool refill);

        // the node
        void LockList();
        void UnlockList();
        TSlab NodeFirst();
        TSlab NodeNext(TSlab slab);
        /// <summary>n->nr_partial >= s->min_partial.</summary>
        bool NodeHasMinPartial { get; }
        /// <summary>The slab is on the node partial list (6.12's slab_test_node_partial()).</summary>
        bool OnNodePartial(TSlab slab);
        void AddPartial(TSlab slab, bool tail);
        void RemovePartial(TSlab slab);
        /// <summary>Off the node's lists and out of its counts (dec_slabs_node()), to be discarded; list_lock held.</summary>
        void Unlink(TSlab slab);
        /// <summary>inc_slabs_node() for a new slab (the kernel's count is atomic, no lock held).</summary>
        void Counted(TSlab slab);

        // the pages
        /// <summary>allocate_slab(): a slab not frozen, every object on its freelist; null without memory.</summary>
        TSlab NewSlab(KmemCacheCpu<TSlab> c);
        /// <summary>discard_slab(), list_lock not held.</summary>
        void DiscardSlab(TSlab slab);
        /// <summary>
        /// The empty slabs of a CPU partial list, linked through Next, each counted
        /// DEACTIVATE_EMPTY, discarded, and counted FREE_SLAB (the end of __unfreeze_partials()
        /// and __put_partials()), list_lock not held.
        /// </summary>
        void DiscardSlabs(TSlab list);

        // faults
        /// <summary>Whether the free pointer <paramref name="p"/> can be followed; if not, <see cref="WildFreePointer"/> is next.</summary>
        bool Readable(byte* p);
        void WildFreePointer(byte* p);
        /// <summary>deactivate_slab()'s walk of a freelist found more objects than the slab holds: it loops.</summary>
        void FreelistLoops(TSlab slab);
        /// <summary>set_freepointer()'s naive check: the object is the head of the freelist it joins.</summary>
        void NaiveDoubleFree(byte* obj);
    }

    /// <summary>SLUB's per-CPU layer (see the file's opening comment).</summary>
    internal static unsafe class SlubCpu<TSlab, TPtr, TOps>
        where TPtr : struct, IFreePointer
        where TOps : struct, ISlubCpuOps<TSlab, TPtr>
    {
        /// <summary>
        /// ___slab_alloc(): the CPU slab's own freelist (frees from elsewhere), then the CPU partial
        /// list, then the node partial list (get_partial_node()), then a new slab. Returns the
        /// first object and leaves the rest on c->freelist; null without memory.
        /// </summary>
        public static void* AllocSlow(TOps ops, KmemCacheCpu<TSlab> c)
        {
            ops.Stat(c, SlubStat.AllocSlowpath);
            bool popped = false;   // 6.1's redo after taking c->slab from the CPU partial list
            while (true)
            {
                ops.Lock(c);
                TSlab slab = c.Slab;
                if (!ops.IsNull(slab))
                {
                    if (c.Freelist != null)
                        return LoadFreelist(ops, c, c.Freelist);   // another thread of this CPU refilled it
                    int seen = ops.State(slab).InUse;
                    byte* freelist = GetFreelist(ops, slab);
                    if (freelist != null)
                    {
                        ops.Stat(c, SlubStat.AllocRefill);
                        if (popped)
                            return LoadFreelist(ops, c, ops.Activating(slab, freelist, seen));   // the slab's first load as c->slab
                        return LoadFreelist(ops, c, freelist, refill: true);
                    }
                    // The CPU slab is full (get_freelist() unfroze it): it floats, on no list, until a free finds it.
                    c.Slab = default;
                    ops.SlabChanged(c);
                    c.Tid++;
                    ops.Stat(c, SlubStat.DeactivateBypass);
                }
                // new_slab: the CPU partial list.
                if (!ops.IsNull(c.Partial))
                {
                    slab = c.Partial;
                    c.Partial = ops.Next(slab);
                    ops.SetNext(slab, default);
                    c.Slab = slab;
                    ops.SlabChanged(c);
                    ops.Stat(c, SlubStat.CpuPartialAlloc);
                    if (ops.V61)
                    {
                        // The owner's own frees to it (the library's) and the others', on the
                        // slab's freelist, are what get_freelist() finds in the kernel: a refill.
                        // The slab stays frozen whatever its freelist held (get_freelist() with
                        // the owner's rule): the local list is objects for the CPU.
                        byte* local = ops.TakeLocal(slab, out byte* tail, out int count);
                        if (local != null)
                        {
                            int live = ops.State(slab).InUse - count;   // inuse counts the local list: what is left is in use
                            if (ops.State(slab).Freelist != 0)
                            {
                                int fails = 0;
                                byte* others = SlubSlab.GetFreelist(ref ops.State(slab), ownerKeeps: true, ref fails);
                                CmpxchgFails(ops, fails);
                                ops.FreePointer.Set(tail, others);
                            }
                            ops.Stat(c, SlubStat.AllocRefill);
                            return LoadFreelist(ops, c, ops.Activating(slab, local, live));
                        }
                        // 6.1 goes back to redo: get_freelist() again, counted as a refill.
                        ops.Unlock(c);
                        popped = true;
                        continue;
                    }
                    // 6.12: freeze it and take its freelist here (the slab has free objects).
                    return LoadFreelist(ops, c, GetFreelist(ops, slab));
                }
                ops.Unlock(c);
                break;
            }

            // new_objects: a slab from the node partial list, else a new one.
            TSlab fresh = GetPartialNode(ops, c, out byte* objects, out int inUse);
            if (!ops.IsNull(fresh))
                objects = ops.Activating(fresh, objects, inUse);
            else
            {
                fresh = ops.NewSlab(c);
                if (ops.IsNull(fresh))
                    return null;   // slab_out_of_memory()
                ops.Stat(c, SlubStat.AllocSlab);
                // No other CPU sees it yet: 6.1 and 6.12 take its freelist and freeze it with
                // plain stores (slab->freelist = NULL; slab->inuse = slab->objects; slab->frozen = 1).
                ref SlabState state = ref ops.State(fresh);
                objects = (byte*)state.Freelist;
                SlubSlab.Init(ref state, null, state.Objects, state.Objects, frozen: true);
                ops.Counted(fresh);
            }
            // retry_load_slab: if another thread of this CPU installed a slab meanwhile, flush it.
            while (true)
            {
                ops.Lock(c);
                if (ops.IsNull(c.Slab))
                    break;
                TSlab old = c.Slab;
                byte* oldFreelist = c.Freelist;
                c.Slab = default;
                c.Freelist = null;
                ops.SlabChanged(c);
                c.Tid++;
                ops.Unlock(c);
                Deactivate(ops, old, oldFreelist);
                ops.Stat(c, SlubStat.CpuslabFlush);
            }
            c.Slab = fresh;
            ops.SlabChanged(c);
            return LoadFreelist(ops, c, objects);
        }

        // load_freelist: hand out the first object, the rest becomes the CPU's freelist. Called with
        // the CPU lock held; drops it.
        private static void* LoadFreelist(TOps ops, KmemCacheCpu<TSlab> c, byte* freelist, bool refill = false)
        {
            ops.Loading(c, freelist, refill);
            c.Freelist = ops.FreePointer.Get(freelist);
            c.Tid++;
            ops.Unlock(c);
            return freelist;
        }

        // get_freelist(): takes the slab's whole freelist for the CPU; inuse = objects, and the
        // slab stays frozen only if there was something to take (the kernel's freezing rule).
        private static byte* GetFreelist(TOps ops, TSlab slab)
        {
            int fails = 0;
            byte* freelist = SlubSlab.GetFreelist(ref ops.State(slab), ownerKeeps: false, ref fails);
            CmpxchgFails(ops, fails);
            return freelist;
        }

        // 6.12 freeze_slab(): the slab becomes the CPU's, frozen, with (take) or without its
        // freelist, trying until it does.
        private static byte* FreezeSlab(TOps ops, TSlab slab, bool take)
        {
            int fails = 0;
            byte* freelist = SlubSlab.Freeze(ref ops.State(slab), take, ref fails);
            CmpxchgFails(ops, fails);
            return freelist;
        }

        // Each slab_update_freelist() that found the slab changed since its look (CMPXCHG_DOUBLE_FAIL).
        private static void CmpxchgFails(TOps ops, int fails)
        {
            if (fails > 0)
                ops.Stat(SlubStat.CmpxchgDoubleFail, fails);
        }

        /// <summary>
        /// get_partial_node(): the first slab of the node partial list becomes the CPU slab (6.1
        /// acquire_slab(), 6.12 freeze_slab()); more go to this CPU's partial list until their
        /// number passes cpu_partial_slabs / 2 (6.1 takes one more even when that is 0). 6.1's
        /// acquire_slab() tries once: a slab that changed meanwhile (a free from another CPU)
        /// stays on the node list, and the taking stops there (break, in 6.1's loop).
        /// <paramref name="inUse"/> is the first slab's objects in use as it was taken.
        /// </summary>
        public static TSlab GetPartialNode(TOps ops, KmemCacheCpu<TSlab> c, out byte* freelist, out int inUse)
        {
            freelist = null;
            inUse = 0;
            TSlab first = default;
            bool v61 = ops.V61;
            ops.LockList();
            try
            {
                int partialSlabs = 0;
                for (TSlab slab = ops.NodeFirst(); !ops.IsNull(slab);)
                {
                    TSlab next = ops.NodeNext(slab);
                    bool isFirst = ops.IsNull(first);
                    int seen = ops.State(slab).InUse;
                    byte* taken = null;
                    if (v61 && !AcquireSlab(ops, slab, take: isFirst, out taken))
                        break;
                    ops.RemovePartial(slab);
                    if (isFirst)
                    {
                        first = slab;
                        inUse = seen;
                        freelist = v61 ? taken : FreezeSlab(ops, slab, take: true);
                        ops.Stat(c, SlubStat.AllocFromPartial);
                        if (!v61 && ops.CpuPartialSlabs == 0)
                            break;
                    }
                    else
                    {
                        // (6.1: frozen by acquire_slab(); 6.12's CPU partial slabs are not frozen)
                        PutCpuPartial(ops, slab, drain: false);
                        ops.Stat(c, SlubStat.CpuPartialNode);
                        if (++partialSlabs > ops.CpuPartialSlabs / 2)
                            break;
                    }
                    slab = next;
                }
            }
            finally
            {
                ops.UnlockList();
            }
            return first;
        }

        // 6.1's acquire_slab(): one try (TryFreeze), a failure counted as cmpxchg_double_slab() counts it.
        private static bool AcquireSlab(TOps ops, TSlab slab, bool take, out byte* taken)
        {
            if (SlubSlab.TryFreeze(ref ops.State(slab), take, out taken))
                return true;
            CmpxchgFails(ops, 1);
            return false;
        }

        /// <summary>
        /// put_cpu_partial(): pushes a slab on this CPU's partial list. With drain, a list already
        /// cpu_partial_slabs long goes to the node list first (the new slab starts a fresh one).
        /// </summary>
        public static void PutCpuPartial(TOps ops, TSlab slab, bool drain)
        {
            KmemCacheCpu<TSlab> c = ops.ThisCpu;
            TSlab toDrain = default;
            ops.Lock(c);
            TSlab old = c.Partial;
            int slabs = 0;
            if (!ops.IsNull(old))
            {
                if (drain && ops.Slabs(old) >= ops.CpuPartialSlabs)
                {
                    toDrain = old;
                    old = default;
                }
                else
                    slabs = ops.Slabs(old);
            }
            ops.SetSlabs(slab, slabs + 1);
            ops.SetNext(slab, old);
            c.Partial = slab;
            ops.OnCpuPartial(c, slab);
            ops.Unlock(c);
            if (!ops.IsNull(toDrain))
            {
                PutPartials(ops, toDrain);
                ops.Stat(c, SlubStat.CpuPartialDrain);
            }
        }

        /// <summary>
        /// 6.1 __unfreeze_partials(), 6.12 __put_partials(): each slab of a CPU partial list to the
        /// tail of the node list, or discarded if empty while the node keeps min_partial slabs.
        /// </summary>
        public static void PutPartials(TOps ops, TSlab list)
        {
            TSlab discard = default, discardTail = default;   // discarded in the order met
            ops.LockList();
            try
            {
                for (TSlab slab = list, next; !ops.IsNull(slab); slab = next)
                {
                    next = ops.Next(slab);
                    ops.SetNext(slab, default);
                    // 6.1 __unfreeze_partials() unfreezes each slab with a cmpxchg (the owner's
                    // own frees to it spliced in, in the library); 6.12's were never frozen.
                    int inUse;
                    if (ops.V61)
                    {
                        int fails = 0;
                        byte* local = ops.TakeLocal(slab, out byte* tail, out int count);
                        uint counters;
                        if (local == null)
                            counters = SlubSlab.Unfreeze(ref ops.State(slab), ref fails);
                        else
                            SlubSlab.Deactivate(ref ops.State(slab), local, tail, count, ops.FreePointer, out counters, ref fails);
                        CmpxchgFails(ops, fails);
                        inUse = SlubSlab.InUse(counters);
                    }
                    else
                        inUse = ops.State(slab).InUse;
                    if (inUse == 0 && ops.NodeHasMinPartial)
                    {
                        ops.Unlink(slab);
                        if (ops.IsNull(discard))
                            discard = slab;
                        else
                            ops.SetNext(discardTail, slab);
                        discardTail = slab;
                    }
                    else
                    {
                        ops.AddPartial(slab, tail: true);
                        ops.Stat(SlubStat.FreeAddPartial);
                    }
                }
            }
            finally
            {
                ops.UnlockList();
            }
            if (!ops.IsNull(discard))
                ops.DiscardSlabs(discard);
        }

        /// <summary>
        /// deactivate_slab(): the CPU's freelist goes back into the slab, which leaves the CPU: to
        /// the head of the node partial list (the tail if other CPUs freed to it meanwhile), on no
        /// list if full, discarded if empty while the node keeps min_partial slabs.
        /// </summary>
        public static void Deactivate(TOps ops, TSlab slab, byte* freelist)
        {
            bool toTail, discard = false;
            int objects = ops.State(slab).Objects;
            TPtr fp = ops.FreePointer;
            // Stage one, without a lock (the freelist is this CPU's alone): its length and tail.
            // A freelist that loops (a double free the hardened check missed) never ends: the
            // kernel spins here for good.
            byte* last = freelist;
            int count = freelist == null ? 0 : 1;
            if (freelist != null)
                for (byte* next = fp.Get(last); next != null; next = fp.Get(last))
                {
                    if (count == objects)
                        ops.FreelistLoops(slab);
                    if (!ops.Readable(next))
                        ops.WildFreePointer(next);
                    last = next;
                    count++;
                }
            ops.LockList();
            try
            {
                // Stage two: the slab's new state, and the decision on it, as the kernel's
                // new.inuse and new.freelist from its cmpxchg. Once unfrozen, the slab takes
                // frees without list_lock (__slab_free() of a full slab puts it on that CPU's
                // partial list): what it looks like a moment later is not what this decides on.
                int fails = 0;
                toTail = SlubSlab.Deactivate(ref ops.State(slab), freelist, last, count, fp, out uint counters, ref fails) != 0;
                CmpxchgFails(ops, fails);
                int inUse = SlubSlab.InUse(counters);
                bool hasFree = toTail || freelist != null;
                if (toTail)
                    ops.Stat(SlubStat.DeactivateRemoteFrees);
                if (inUse == 0 && ops.NodeHasMinPartial)
                {
                    ops.Unlink(slab);
                    discard = true;
                }
                else if (hasFree)
                {
                    ops.AddPartial(slab, toTail);
                    ops.Stat(toTail ? SlubStat.DeactivateToTail : SlubStat.DeactivateToHead);
                }
                else
                    ops.Stat(SlubStat.DeactivateFull);
            }
            finally
            {
                ops.UnlockList();
            }
            if (discard)
            {
                ops.Stat(SlubStat.DeactivateEmpty);
                ops.DiscardSlab(slab);
                ops.Stat(SlubStat.FreeSlab);
            }
        }

        /// <summary>
        /// __slab_free(): back on the slab's freelist. A full slab that is nobody's goes to this
        /// CPU's partial list; an emptied slab on the node list is discarded once the node keeps
        /// min_partial slabs.
        /// </summary>
        /// <remarks>
        /// list_lock only when the slab must change lists, as in the kernel (6.1 and 6.12
        /// __slab_free()): the free empties a slab that is not frozen, or fills a hole in a full
        /// one when the cache has no CPU partial lists. Every other free (to a partial slab, to
        /// another CPU's frozen slab, or of a full slab onto this CPU's partial list) takes only
        /// the slab, so that CPUs freeing to different slabs do not wait on each other. The
        /// kernel decides from a look at the slab, then makes the change with cmpxchg_double, and
        /// starts again (list_lock dropped) if the slab changed in between: here the look is
        /// SlubSlab.Look() and the change SlubSlab.TryFree(), under the slab's lock (slab_lock(),
        /// the kernel's fallback for cmpxchg_double); a slab that changed in between counts
        /// CMPXCHG_DOUBLE_FAIL, as a failed cmpxchg does.
        /// </remarks>
        public static void SlabFree(TOps ops, TSlab slab, byte* obj)
        {
            ops.Stat(SlubStat.FreeSlowpath);
            byte* prior;
            bool wasFrozen, toCpuPartial, listLocked;
            int inUse;
            bool hasCpuPartial = ops.HasCpuPartial, v61 = ops.V61;
            while (true)
            {
                SlubSlab.Look(ref ops.State(slab), out nint head, out uint counters);
                prior = (byte*)head;
                inUse = SlubSlab.InUse(counters) - 1;
                wasFrozen = SlubSlab.Frozen(counters);
                if (prior == obj)
                {
                    ops.NaiveDoubleFree(obj);   // set_freepointer() comes before list_lock in the kernel
                    return;
                }
                toCpuPartial = !wasFrozen && prior == null && hasCpuPartial;
                listLocked = (inUse == 0 || prior == null) && !wasFrozen && !toCpuPartial;
                if (listLocked)
                    ops.LockList();
                // 6.1 freezes a full slab that goes to the CPU partial list; 6.12 does not.
                if (SlubSlab.TryFree(ref ops.State(slab), head, counters, obj, obj, 1, freeze: toCpuPartial && v61, ops.FreePointer))
                    break;
                if (listLocked)
                    ops.UnlockList();
                ops.Stat(SlubStat.CmpxchgDoubleFail);
            }
            if (!listLocked)
            {
                if (wasFrozen)
                    ops.Stat(SlubStat.FreeFrozen);
                else if (toCpuPartial)
                {
                    PutCpuPartial(ops, slab, drain: true);
                    ops.Stat(SlubStat.CpuPartialFree);
                }
                return;
            }
            bool discard = false;
            try
            {
                // 6.12: a slab on a CPU partial list (unfrozen, not on the node list) stays there.
                // (6.1's CPU partial slabs are frozen, and so never get here.)
                if (prior != null && !ops.OnNodePartial(slab))
                    return;
                if (inUse == 0 && ops.NodeHasMinPartial)
                {
                    if (prior != null)
                        ops.Stat(SlubStat.FreeRemovePartial);
                    ops.Unlink(slab);
                    discard = true;
                }
                else if (prior == null)
                {
                    ops.AddPartial(slab, tail: true);   // only without CPU partial lists
                    ops.Stat(SlubStat.FreeAddPartial);
                }
            }
            finally
            {
                ops.UnlockList();
            }
            if (discard)
            {
                ops.Stat(SlubStat.FreeSlab);
                ops.DiscardSlab(slab);
            }
        }

        /// <summary>
        /// flush_slab() and unfreeze_partials() (6.12 put_partials()): a CPU's slab is deactivated
        /// with its freelist, and its partial list goes to the node.
        /// </summary>
        public static void Flush(TOps ops, KmemCacheCpu<TSlab> c)
        {
            ops.Lock(c);
            TSlab slab = c.Slab;
            byte* freelist = c.Freelist;
            TSlab partial = c.Partial;
            c.Slab = default;
            c.Freelist = null;
            c.Partial = default;
            ops.SlabChanged(c);
            c.Tid++;
            ops.Unlock(c);
            if (!ops.IsNull(slab))
            {
                Deactivate(ops, slab, freelist);
                ops.Stat(c, SlubStat.CpuslabFlush);
            }
            if (!ops.IsNull(partial))
                PutPartials(ops, partial);
        }
    }
}
