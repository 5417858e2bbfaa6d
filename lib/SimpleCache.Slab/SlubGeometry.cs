// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Slab geometry: how SLUB lays out a cache's objects, computed as the kernel computes it. One
// computation for two users: SlabCache (this library) lays out its slabs with it, and the
// model of the kernel (model/mm/SlabGeometry.cs) gives it the kernel's parameters and checks the
// result against Debian's 6.1 and 6.12 kernels (/proc/slabinfo and /sys/kernel/slab, through
// tests/kernel/slab_matrix.c).
//   calculate_alignment()   mm/slab_common.c
//   calculate_sizes()       mm/slub.c   (free-pointer placement, debug metadata, slot size)
//   calculate_order()       mm/slub.c   (slab order and objects per slab)
//   min_partial             mm/slub.c (inline in kmem_cache_open(), 6.1; do_kmem_cache_create(), 6.12)
// Two kernel generations differ in calculate_order(): up to 6.7 it lowers min_objects when no
// order fits; 6.8 (commit "mm/slub: attempt to find layouts up to 1/2 waste in
// calculate_order()") keeps min_objects and accepts more waste instead.

using System;
using System.Numerics;

namespace SimpleCache.Slab
{
    /// <summary>Which generation of SLUB's calculate_order() to follow.</summary>
    public enum SlubVersion
    {
        /// <summary>Linux 6.1 (up to 6.7): min_objects is lowered until an order fits.</summary>
        V6_1,
        /// <summary>Linux 6.12 (from 6.8): min_objects is kept and more waste accepted.</summary>
        V6_12,
    }

    /// <summary>The <c>SLAB_*</c> flags calculate_sizes() reads, with the kernel's values (and the model's own bits above 0xffff).</summary>
    [Flags]
    public enum SlubFlags : uint
    {
        /// <summary>None.</summary>
        None = 0,
        /// <summary><c>SLAB_CONSISTENCY_CHECKS</c> (slub_debug F).</summary>
        ConsistencyChecks = 0x01,
        /// <summary><c>SLAB_RED_ZONE</c> (slub_debug Z).</summary>
        RedZone = 0x02,
        /// <summary><c>SLAB_POISON</c> (slub_debug P).</summary>
        Poison = 0x04,
        /// <summary><c>SLAB_STORE_USER</c> (slub_debug U).</summary>
        StoreUser = 0x08,
        /// <summary><c>SLAB_HWCACHE_ALIGN</c>.</summary>
        HwcacheAlign = 0x10,
        /// <summary><c>SLAB_TYPESAFE_BY_RCU</c>.</summary>
        TypesafeByRcu = 0x40,
        /// <summary><c>__OBJECT_POISON</c>: poison the object bytes (set by calculate_sizes).</summary>
        ObjectPoison = 0x40000,
        /// <summary><c>SLAB_KMALLOC</c>: one of the kmalloc-N caches (with U, it stores each request's size).</summary>
        Kmalloc = 0x80000,
    }

    /// <summary>A cache's layout: what <c>struct kmem_cache</c> holds after kmem_cache_open().</summary>
    /// <param name="ObjectSize"><c>s->object_size</c>: the size asked for.</param>
    /// <param name="Size"><c>s->size</c>: the slot, object plus metadata and padding.</param>
    /// <param name="Align"><c>s->align</c>.</param>
    /// <param name="Inuse"><c>s->inuse</c>: where the metadata after the object starts.</param>
    /// <param name="Offset"><c>s->offset</c>: where the free pointer is stored, from the object.</param>
    /// <param name="RedLeftPad"><c>s->red_left_pad</c>: red zone before each object.</param>
    /// <param name="Order">Each slab is 2^order pages.</param>
    /// <param name="ObjectsPerSlab"><c>oo_objects(s->oo)</c>.</param>
    /// <param name="MinPartial"><c>s->min_partial</c>.</param>
    /// <param name="Flags">The flags after calculate_sizes() (with ObjectPoison when set).</param>
    public readonly record struct SlubLayout(uint ObjectSize, uint Size, uint Align, uint Inuse, uint Offset, uint RedLeftPad,
        int Order, uint ObjectsPerSlab, uint MinPartial, SlubFlags Flags)
    {
        /// <summary>Whether the free pointer lives after the object rather than inside it.</summary>
        public bool FreePointerOutside => Offset >= Inuse;
        /// <summary><c>get_info_end()</c>: where the tracks start, from the object.</summary>
        public uint InfoEnd => FreePointerOutside ? Inuse + SlubGeometry.PointerSize : Inuse;
    }

    /// <summary>SLUB's geometry computations (x86-64's constants; the kernel's defaults unless given).</summary>
    public static class SlubGeometry
    {
        /// <summary><c>PAGE_SIZE</c>.</summary>
        public const uint PageSize = 4096;
        /// <summary><c>cache_line_size()</c> (L1_CACHE_BYTES).</summary>
        public const uint CacheLineSize = 64;
        /// <summary><c>ARCH_SLAB_MINALIGN</c>: <c>__alignof__(unsigned long long)</c>.</summary>
        public const uint ArchSlabMinAlign = 8;
        /// <summary><c>sizeof(void *)</c>.</summary>
        public const uint PointerSize = 8;
        /// <summary><c>slub_max_order</c> default: PAGE_ALLOC_COSTLY_ORDER.</summary>
        public const int SlubMaxOrder = 3;
        /// <summary><c>slub_min_order</c> default.</summary>
        public const int SlubMinOrder = 0;
        /// <summary>The largest buddy order (MAX_ORDER - 1 in 6.1, MAX_PAGE_ORDER in 6.12).</summary>
        public const int MaxPageOrder = 10;
        /// <summary><c>MAX_OBJS_PER_PAGE</c>: slab->objects is 15 bits.</summary>
        public const uint MaxObjsPerPage = 32767;
        /// <summary><c>MIN_PARTIAL</c>.</summary>
        public const uint MinPartial = 5;
        /// <summary><c>MAX_PARTIAL</c>.</summary>
        public const uint MaxPartial = 10;
        /// <summary>
        /// <c>sizeof(struct track)</c> with CONFIG_STACKDEPOT (Debian): unsigned long addr;
        /// depot_stack_handle_t handle; int cpu; int pid; unsigned long when = 8+4+4+4(+4 pad)+8.
        /// </summary>
        public const uint TrackSize = 32;

        /// <summary>
        /// <c>calculate_alignment(flags, align, size)</c>: with SLAB_HWCACHE_ALIGN, the cache line,
        /// halved while the object still fits in half of it; never below the caller's alignment
        /// or ARCH_SLAB_MINALIGN; rounded up to a multiple of the pointer size.
        /// </summary>
        public static uint CalculateAlignment(SlubFlags flags, uint align, uint size)
        {
            if ((flags & SlubFlags.HwcacheAlign) != 0)
            {
                uint ralign = CacheLineSize;
                while (size <= ralign / 2)
                    ralign /= 2;
                align = Math.Max(align, ralign);
            }
            align = Math.Max(align, ArchSlabMinAlign);
            return AlignUp(align, PointerSize);
        }

        /// <summary>
        /// A cache's whole layout: <c>kmem_cache_open()</c>'s calculate_sizes(),
        /// calculate_order() and min_partial for an object of <paramref name="objectSize"/> bytes
        /// on a machine with <paramref name="cpus"/> CPUs, slabs from <paramref name="minOrder"/>
        /// (slub_min_order; see <see cref="CalculateOrder"/>), each track <paramref name="trackSize"/> bytes.
        /// </summary>
        /// <returns>The layout, or null where the kernel fails (-ENOSYS: no order fits).</returns>
        public static SlubLayout? Calculate(SlubVersion version, uint objectSize, uint align, SlubFlags flags, bool hasCtor, int cpus,
            int minOrder = SlubMinOrder, uint trackSize = TrackSize)
        {
            align = CalculateAlignment(flags, align, objectSize);
            uint size = AlignUp(objectSize, PointerSize);

            // Poison the object only when nothing else owns its bytes while it is free.
            if ((flags & SlubFlags.Poison) != 0 && (flags & SlubFlags.TypesafeByRcu) == 0 && !hasCtor)
                flags |= SlubFlags.ObjectPoison;
            else
                flags &= ~SlubFlags.ObjectPoison;

            // A right red zone: if the object fills its words exactly, add a word for it.
            if ((flags & SlubFlags.RedZone) != 0 && size == objectSize)
                size += PointerSize;

            uint inuse = size;
            uint offset;
            // slub_debug_orig_size(): a kmalloc cache with user tracking stores each request's size.
            bool origSize = (flags & (SlubFlags.StoreUser | SlubFlags.Kmalloc)) == (SlubFlags.StoreUser | SlubFlags.Kmalloc);
            if ((flags & (SlubFlags.TypesafeByRcu | SlubFlags.Poison)) != 0 || hasCtor
                || ((flags & SlubFlags.RedZone) != 0 && (objectSize < PointerSize || (version != SlubVersion.V6_1 && origSize))))
            {
                // The free pointer may not overwrite the object: after it, in its own word.
                offset = size;
                size += PointerSize;
            }
            else
            {
                // Near the middle of the object, away from the edges that overflows hit first.
                offset = AlignDown(objectSize / 2, PointerSize);
            }

            if ((flags & SlubFlags.StoreUser) != 0)
                size += 2 * trackSize;
            if (origSize)
                size += OrigSizeBytes(version);

            uint redLeftPad = 0;
            if ((flags & SlubFlags.RedZone) != 0)
            {
                // One word of padding after everything (so over-long writes hit it), and a left
                // red zone before the object, a multiple of the alignment.
                size += PointerSize;
                redLeftPad = AlignUp(PointerSize, align);
                size += redLeftPad;
            }

            size = AlignUp(size, align);
            int order = CalculateOrder(version, size, cpus, minOrder);
            if (order < 0)
                return null;
            return new SlubLayout(objectSize, size, align, inuse, offset, redLeftPad, order, OrderObjects(order, size), MinPartialFor(size), flags);
        }

        /// <summary>
        /// The stored kmalloc request size: an unsigned int in 6.1, an unsigned long in the 6.12
        /// stable kernels Debian ships (since 6.12.7x).
        /// </summary>
        public static uint OrigSizeBytes(SlubVersion version) => version == SlubVersion.V6_1 ? 4u : 8u;

        /// <summary><c>order_objects(order, size)</c>: how many objects fit in a slab of that order.</summary>
        public static uint OrderObjects(int order, uint size) => (PageSize << order) / size;

        /// <summary>s->min_partial (6.1 and 6.12 set it inline; set_min_partial() was removed in 5.19): ilog2(size) / 2, clamped to [MIN_PARTIAL, MAX_PARTIAL].</summary>
        public static uint MinPartialFor(uint size)
        {
            uint minPartial = (uint)BitOperations.Log2(size) / 2;
            return Math.Clamp(minPartial, MinPartial, MaxPartial);
        }

        /// <summary>
        /// set_cpu_partial() (6.1 and 6.12 alike) for a cache with CPU partial lists: the objects a
        /// CPU may keep on its partial slabs, by slot size (a debug cache has none).
        /// </summary>
        public static uint CpuPartial(uint size) => size >= PageSize ? 6u : size >= 1024 ? 24u : size >= 256 ? 52u : 120u;

        /// <summary>The default <c>slub_min_objects</c>: 4 * (fls(nr_cpus) + 1).</summary>
        public static uint MinObjects(int cpus) => 4 * ((uint)Fls((uint)Math.Max(cpus, 1)) + 1);

        /// <summary>
        /// <c>calculate_order(size)</c> of the given kernel version, with slub_min_order
        /// <paramref name="minOrder"/>. slub_max_order is the kernel's default, 3, or
        /// <paramref name="minOrder"/> where that is larger (SlabCache's MinSlabOrder may be; the
        /// model keeps the kernel's default slub_min_order, 0, so its results are the kernel's).
        /// </summary>
        public static int CalculateOrder(SlubVersion version, uint size, int cpus, int minOrder = SlubMinOrder)
        {
            int maxOrder = Math.Max(SlubMaxOrder, minOrder);
            uint minObjects = MinObjects(cpus);
            if (version == SlubVersion.V6_1)
            {
                uint maxObjects = OrderObjects(maxOrder, size);
                minObjects = Math.Min(minObjects, maxObjects);
                while (minObjects > 1)
                {
                    for (uint fraction = 16; fraction >= 4; fraction /= 2)
                    {
                        int o = CalcSlabOrder61(size, minObjects, minOrder, maxOrder, fraction);
                        if (o <= maxOrder)
                            return o;
                    }
                    minObjects--;
                }
                int order = CalcSlabOrder61(size, 1, minOrder, maxOrder, 1);
                if (order <= maxOrder)
                    return order;
                order = CalcSlabOrder61(size, 1, minOrder, MaxPageOrder + 1, 1);
                return order < MaxPageOrder + 1 ? order : -1;
            }
            else
            {
                uint maxObjects = Math.Max(OrderObjects(maxOrder, size), 1u);
                minObjects = Math.Min(minObjects, maxObjects);
                int firstOrder = Math.Max(minOrder, GetOrder((ulong)minObjects * size));
                if (OrderObjects(firstOrder, size) > MaxObjsPerPage)
                    return GetOrder((ulong)size * MaxObjsPerPage) - 1;
                for (uint fraction = 16; fraction > 1; fraction /= 2)
                {
                    int o = CalcSlabOrder612(size, firstOrder, maxOrder, fraction);
                    if (o <= maxOrder)
                        return o;
                }
                int order = GetOrder(size);
                return order <= MaxPageOrder ? order : -1;
            }
        }

        // calc_slab_order() up to 6.7: the smallest order that holds min_objects with at most
        // 1/fract_leftover of the slab wasted.
        private static int CalcSlabOrder61(uint size, uint minObjects, int minOrder, int maxOrder, uint fractLeftover)
        {
            if (OrderObjects(minOrder, size) > MaxObjsPerPage)
                return GetOrder((ulong)size * MaxObjsPerPage) - 1;
            int order;
            for (order = Math.Max(minOrder, GetOrder((ulong)minObjects * size)); order <= maxOrder; order++)
            {
                uint slabSize = PageSize << order;
                uint rem = slabSize % size;
                if (rem <= slabSize / fractLeftover)
                    break;
            }
            return order;
        }

        // calc_slab_order() from 6.8: the search starts at a precomputed min_order.
        private static int CalcSlabOrder612(uint size, int minOrder, int maxOrder, uint fractLeftover)
        {
            int order;
            for (order = minOrder; order <= maxOrder; order++)
            {
                uint slabSize = PageSize << order;
                uint rem = slabSize % size;
                if (rem <= slabSize / fractLeftover)
                    break;
            }
            return order;
        }

        /// <summary><c>get_order(size)</c>: the smallest order whose 2^order pages hold <paramref name="size"/> bytes.</summary>
        public static int GetOrder(ulong size)
        {
            if (size <= PageSize)
                return 0;
            return 64 - BitOperations.LeadingZeroCount((size - 1) >> 12);
        }

        /// <summary><c>fls(x)</c>: the 1-based index of the highest set bit, 0 for 0.</summary>
        public static int Fls(uint x) => x == 0 ? 0 : 32 - BitOperations.LeadingZeroCount(x);

        /// <summary><c>ALIGN(x, a)</c> for a power-of-two <paramref name="a"/>.</summary>
        public static uint AlignUp(uint x, uint a) => (x + a - 1) & ~(a - 1);

        /// <summary><c>ALIGN_DOWN(x, a)</c>.</summary>
        public static uint AlignDown(uint x, uint a) => x & ~(a - 1);
    }
}
