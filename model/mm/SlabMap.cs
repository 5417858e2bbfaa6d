// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// A map of a cache's slabs, grouped as SLUB holds them (6.1 and 6.12 alike): each CPU's slab and
// the CPU's partial slabs (struct kmem_cache_cpu: slab, partial), the node's partial list and,
// for SLAB_STORE_USER caches, its full list (struct kmem_cache_node), and the full slabs that
// are on no list at all. Each slot is allocated or free; a free slot is on the slab's freelist
// or on its CPU's lockless freelist (the CPU slab's free objects: c->freelist), and the map gives
// each free slot's place on its freelist: the order in which the next allocations take them.
//
// What the kernel offers to see this: /sys/kernel/slab/<cache>/ gives only counts; drgn's
// slab_cache_for_each_slab()/slab_object_info() walk the same structures from a debugger. The
// model reads its own structures, under the same locks its allocator takes (each CPU's, then
// list_lock, then each slab's), one at a time: a map taken while other threads allocate is a
// picture of each part at a slightly different moment, as /proc/slabinfo is.

using System.Collections.Generic;
using System.Linq;

namespace SimpleCache.Model.Mm
{
    /// <summary>Where a slab is, for its cache.</summary>
    public enum SlabPlace
    {
        /// <summary>A CPU's slab (<c>c->slab</c>): that CPU allocates from it without a lock.</summary>
        CpuSlab,
        /// <summary>On a CPU's partial list (<c>c->partial</c>).</summary>
        CpuPartial,
        /// <summary>On the node's partial list (<c>n->partial</c>).</summary>
        NodePartial,
        /// <summary>On the node's full list (<c>n->full</c>: SLAB_STORE_USER caches only).</summary>
        NodeFull,
        /// <summary>Full and on no list: SLUB forgets full slabs until one of their objects is freed.</summary>
        Full,
    }

    /// <summary>One slot of a slab.</summary>
    /// <param name="Index">The slot's index in the slab (address order).</param>
    /// <param name="Address">The object's address (after any left red zone).</param>
    /// <param name="Free">Whether the object is free.</param>
    /// <param name="FreelistPosition">
    /// For a free object, its place on its freelist (0 = the next to be allocated); -1 if allocated.
    /// </param>
    /// <param name="OnCpuFreelist">A free object on the CPU's lockless freelist, not the slab's.</param>
    public readonly record struct SlotView(int Index, nint Address, bool Free, int FreelistPosition, bool OnCpuFreelist);

    /// <summary>One slab of a cache, with its slots.</summary>
    /// <param name="Address">The first byte of its pages.</param>
    /// <param name="Order">Its page order.</param>
    /// <param name="Place">Where SLUB keeps it.</param>
    /// <param name="Cpu">The CPU for <see cref="SlabPlace.CpuSlab"/> and <see cref="SlabPlace.CpuPartial"/>, else -1.</param>
    /// <param name="Frozen"><c>slab->frozen</c>.</param>
    /// <param name="InUse"><c>slab->inuse</c> (a CPU slab counts its CPU's free objects as in use).</param>
    /// <param name="Slots">Every slot, in address order.</param>
    public sealed record SlabView(nint Address, int Order, SlabPlace Place, int Cpu, bool Frozen, int InUse, IReadOnlyList<SlotView> Slots)
    {
        /// <summary>Slots holding an allocated object.</summary>
        public int Allocated => Slots.Count(s => !s.Free);
    }

    /// <summary>Every slab of one cache.</summary>
    /// <param name="Name">The cache's name.</param>
    /// <param name="Layout">Its layout.</param>
    /// <param name="Cpus">CPUs in the machine.</param>
    /// <param name="Slabs">Its slabs: CPU slabs and CPU partial slabs by CPU, then the node partial list in list order, then full slabs.</param>
    public sealed record CacheMap(string Name, SlabLayout Layout, int Cpus, IReadOnlyList<SlabView> Slabs)
    {
        /// <summary>Allocated objects in all slabs.</summary>
        public long Allocated => Slabs.Sum(s => (long)s.Allocated);

        /// <summary>Slots in all slabs.</summary>
        public long Slots => Slabs.Sum(s => (long)s.Slots.Count);
    }

    public sealed unsafe partial class SlabCache
    {
        /// <summary>The cache's slabs, grouped as SLUB holds them, with every slot's state.</summary>
        public CacheMap Map()
        {
            var slabs = new List<SlabView>();
            var seen = new HashSet<nint>();
            for (int cpu = 0; cpu < _cpu.Length; cpu++)
            {
                KmemCacheCpu c = _cpu[cpu];
                c.Lock();
                try
                {
                    if (c.Slab != null)
                        slabs.Add(View(c.Slab, SlabPlace.CpuSlab, cpu, c.Freelist));
                    for (Slab s = c.Partial; s != null; s = s.Next)
                        slabs.Add(View(s, SlabPlace.CpuPartial, cpu, null));
                }
                finally
                {
                    c.Unlock();
                }
            }
            foreach (SlabView v in slabs)
                seen.Add(v.Address);
            lock (_listLock)
            {
                foreach (Slab s in _partial)
                    if (seen.Add((nint)s.Address))
                        slabs.Add(View(s, SlabPlace.NodePartial, -1, null));
                foreach (Slab s in _full)
                    if (seen.Add((nint)s.Address))
                        slabs.Add(View(s, SlabPlace.NodeFull, -1, null));
                foreach (Slab s in _allocator.SlabsOf(this))
                    if (seen.Add((nint)s.Address))
                        slabs.Add(View(s, SlabPlace.Full, -1, null));
            }
            return new CacheMap(Name, Layout, _cpu.Length, slabs);
        }

        // One slab's slots: free if on the slab's freelist or (a CPU slab) its CPU's freelist.
        private SlabView View(Slab slab, SlabPlace place, int cpu, byte* cpuFreelist)
        {
            var position = new Dictionary<nint, (int At, bool Cpu)>();
            int at = 0;
            using (SimpleCache.Slab.SlubSlab.Hold(ref slab.State))
            {
                foreach (nint p in Freelist(slab, cpuFreelist))
                    position.TryAdd(p, (at++, true));
                // A CPU slab's own freelist (objects freed by other CPUs) comes after the CPU's:
                // ___slab_alloc() takes it when c->freelist runs dry.
                foreach (nint p in Freelist(slab, slab.Freelist))
                    position.TryAdd(p, (at++, false));
                var slots = new SlotView[slab.Objects];
                for (int i = 0; i < slots.Length; i++)
                {
                    nint obj = (nint)ObjectAt(slab, i);
                    slots[i] = position.TryGetValue(obj, out var f)
                        ? new SlotView(i, obj, true, f.At, f.Cpu)
                        : new SlotView(i, obj, false, -1, false);
                }
                return new SlabView((nint)slab.Address, slab.Order, place, cpu, slab.Frozen, slab.InUse, slots);
            }
        }
    }
}
