// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Slab geometry: how SLUB lays out a cache's objects, computed as the kernel computes it. The
// computation is lib/SimpleCache.Slab/SlubGeometry.cs (calculate_alignment(), calculate_sizes(),
// calculate_order() and min_partial of 6.1 and 6.12), the same code the library lays its own
// slabs out with; here are the model's types for it (the kernel's version, its flags, struct
// kmem_cache's fields) and the kernel's parameters. The VM harness checks the results against
// /proc/slabinfo and /sys/kernel/slab of Debian's 6.1 and 6.12 (tests/kernel/slab_matrix.c).

using System;
using SimpleCache.Slab;
using Slub = SimpleCache.Slab.SlubGeometry;

namespace SimpleCache.Model.Mm
{
    /// <summary>Which kernel's SLUB to follow.</summary>
    public enum KernelVersion
    {
        /// <summary>Linux 6.1 (Debian 12's kernel).</summary>
        V6_1,
        /// <summary>Linux 6.12 (Debian 12's backports and security kernel, Debian 13's).</summary>
        V6_12,
    }

    /// <summary>
    /// A cache's flags: the C# kernel API's <c>SlabFlags</c> bits (include/linux/Flags.cs, the
    /// one definition both backends share), plus the few the model keeps for itself.
    /// </summary>
    [Flags]
    public enum CacheFlags : uint
    {
        /// <summary>None.</summary>
        None = 0,
        /// <summary><c>SLAB_CONSISTENCY_CHECKS</c> (slub_debug F).</summary>
        ConsistencyChecks = global::Kernel.SlabFlags.ConsistencyChecks,
        /// <summary><c>SLAB_RED_ZONE</c> (slub_debug Z).</summary>
        RedZone = global::Kernel.SlabFlags.RedZone,
        /// <summary><c>SLAB_POISON</c> (slub_debug P).</summary>
        Poison = global::Kernel.SlabFlags.Poison,
        /// <summary><c>SLAB_STORE_USER</c> (slub_debug U).</summary>
        StoreUser = global::Kernel.SlabFlags.StoreUser,
        /// <summary><c>SLAB_HWCACHE_ALIGN</c>.</summary>
        HwcacheAlign = global::Kernel.SlabFlags.HwcacheAlign,
        /// <summary><c>SLAB_PANIC</c>.</summary>
        Panic = global::Kernel.SlabFlags.Panic,
        /// <summary><c>SLAB_TYPESAFE_BY_RCU</c>.</summary>
        TypesafeByRcu = global::Kernel.SlabFlags.TypesafeByRcu,
        /// <summary><c>SLAB_ACCOUNT</c>.</summary>
        Account = global::Kernel.SlabFlags.Account,
        /// <summary><c>SLAB_RECLAIM_ACCOUNT</c>.</summary>
        ReclaimAccount = global::Kernel.SlabFlags.ReclaimAccount,
        /// <summary><c>SLAB_NO_MERGE</c>.</summary>
        NoMerge = global::Kernel.SlabFlags.NoMerge,
        /// <summary><c>SLAB_TRACE</c> (slub_debug T); the model's own bit.</summary>
        Trace = 0x10000,
        /// <summary><c>SLAB_FAILSLAB</c> (slub_debug A); the model's own bit.</summary>
        FailSlab = 0x20000,
        /// <summary><c>__OBJECT_POISON</c>: poison the object bytes (set by calculate_sizes).</summary>
        ObjectPoison = 0x40000,
        /// <summary><c>SLAB_KMALLOC</c>: one of the kmalloc-N caches (with U, it stores each request's size).</summary>
        Kmalloc = 0x80000,

        /// <summary>The debug flags: any of them sends every allocation through the checked slow path.</summary>
        DebugFlags = ConsistencyChecks | RedZone | Poison | StoreUser | Trace,
    }

    /// <summary>The layout of one cache: what <c>struct kmem_cache</c> holds after kmem_cache_open().</summary>
    public sealed record SlabLayout
    {
        /// <summary><c>s->object_size</c>: the size the caller asked for.</summary>
        public required uint ObjectSize { get; init; }
        /// <summary><c>s->size</c>: the slot size, object plus metadata and padding (slabinfo's objsize).</summary>
        public required uint Size { get; init; }
        /// <summary><c>s->align</c>.</summary>
        public required uint Align { get; init; }
        /// <summary><c>s->inuse</c>: where the metadata after the object starts.</summary>
        public required uint Inuse { get; init; }
        /// <summary><c>s->offset</c>: where the free pointer is stored, from the start of the object.</summary>
        public required uint Offset { get; init; }
        /// <summary><c>s->red_left_pad</c>: bytes of left red zone before each object.</summary>
        public required uint RedLeftPad { get; init; }
        /// <summary>Slab order: each slab is 2^order pages.</summary>
        public required int Order { get; init; }
        /// <summary>Objects per slab.</summary>
        public required uint ObjectsPerSlab { get; init; }
        /// <summary><c>s->min_partial</c>: empty slabs kept on the node partial list.</summary>
        public required uint MinPartial { get; init; }
        /// <summary>The flags after calculate_sizes() (with <see cref="CacheFlags.ObjectPoison"/> when set).</summary>
        public required CacheFlags Flags { get; init; }
        /// <summary>Pages per slab.</summary>
        public int PagesPerSlab => 1 << Order;
        /// <summary>Bytes per slab.</summary>
        public uint SlabBytes => SlabGeometry.PageSize << Order;
        /// <summary>Whether the free pointer lives after the object rather than inside it.</summary>
        public bool FreePointerOutside => Offset >= Inuse;
        /// <summary>The same layout as lib/SimpleCache.Slab's type, for the computations the two share.</summary>
        public SlubLayout AsSlub => new(ObjectSize, Size, Align, Inuse, Offset, RedLeftPad, Order, ObjectsPerSlab, MinPartial, (SlubFlags)Flags);
    }

    /// <summary>
    /// The kernel's geometry computations, for a chosen kernel version and machine: the model's
    /// names for lib/SimpleCache.Slab's <see cref="Slub"/>, the one computation the library lays
    /// its own slabs out with, given here the kernel's parameters (slub_min_order 0, struct track
    /// of 32 bytes, the machine's CPUs).
    /// </summary>
    public static class SlabGeometry
    {
        /// <summary><c>PAGE_SIZE</c> on x86-64.</summary>
        public const uint PageSize = Slub.PageSize;
        /// <summary><c>cache_line_size()</c> on x86-64 (L1_CACHE_BYTES).</summary>
        public const uint CacheLineSize = Slub.CacheLineSize;
        /// <summary><c>ARCH_SLAB_MINALIGN</c>: <c>__alignof__(unsigned long long)</c>.</summary>
        public const uint ArchSlabMinAlign = Slub.ArchSlabMinAlign;
        /// <summary><c>sizeof(void *)</c>.</summary>
        public const uint PointerSize = Slub.PointerSize;
        /// <summary><c>slub_max_order</c> default: PAGE_ALLOC_COSTLY_ORDER.</summary>
        public const int SlubMaxOrder = Slub.SlubMaxOrder;
        /// <summary><c>slub_min_order</c> default.</summary>
        public const int SlubMinOrder = Slub.SlubMinOrder;
        /// <summary>The largest buddy order (MAX_ORDER - 1 in 6.1, MAX_PAGE_ORDER in 6.12).</summary>
        public const int MaxPageOrder = Slub.MaxPageOrder;
        /// <summary><c>MAX_OBJS_PER_PAGE</c>: slab->objects is 15 bits.</summary>
        public const uint MaxObjsPerPage = Slub.MaxObjsPerPage;
        /// <summary><c>MIN_PARTIAL</c>.</summary>
        public const uint MinPartial = Slub.MinPartial;
        /// <summary><c>MAX_PARTIAL</c>.</summary>
        public const uint MaxPartial = Slub.MaxPartial;
        /// <summary><c>sizeof(struct track)</c> with CONFIG_STACKDEPOT (Debian).</summary>
        public const uint TrackSize = Slub.TrackSize;

        /// <summary><c>calculate_alignment(flags, align, size)</c> (<see cref="Slub.CalculateAlignment"/>).</summary>
        public static uint CalculateAlignment(CacheFlags flags, uint align, uint size) => Slub.CalculateAlignment((SlubFlags)flags, align, size);

        /// <summary>
        /// Computes a cache's whole layout: <c>kmem_cache_open()</c>'s calculate_sizes(),
        /// calculate_order() and min_partial for an object of <paramref name="objectSize"/>
        /// bytes on a machine with <paramref name="cpus"/> present CPUs.
        /// </summary>
        /// <returns>The layout, or null where the kernel fails (-ENOSYS: no order fits).</returns>
        public static SlabLayout Calculate(KernelVersion version, uint objectSize, uint align, CacheFlags flags, bool hasCtor, int cpus) =>
            Slub.Calculate(Of(version), objectSize, align, (SlubFlags)flags, hasCtor, cpus) is { } l
                ? new SlabLayout
                {
                    ObjectSize = l.ObjectSize,
                    Size = l.Size,
                    Align = l.Align,
                    Inuse = l.Inuse,
                    Offset = l.Offset,
                    RedLeftPad = l.RedLeftPad,
                    Order = l.Order,
                    ObjectsPerSlab = l.ObjectsPerSlab,
                    MinPartial = l.MinPartial,
                    Flags = (CacheFlags)l.Flags,
                }
                : null;

        /// <summary>The stored kmalloc request size (<see cref="Slub.OrigSizeBytes"/>).</summary>
        public static uint OrigSizeBytes(KernelVersion version) => Slub.OrigSizeBytes(Of(version));

        /// <summary><c>order_objects(order, size)</c>.</summary>
        public static uint OrderObjects(int order, uint size) => Slub.OrderObjects(order, size);

        /// <summary>s->min_partial (<see cref="Slub.MinPartialFor"/>).</summary>
        public static uint MinPartialFor(uint size) => Slub.MinPartialFor(size);

        /// <summary>The default <c>slub_min_objects</c>: 4 * (fls(nr_cpus) + 1).</summary>
        public static uint MinObjects(int cpus) => Slub.MinObjects(cpus);

        /// <summary><c>calculate_order(size)</c> of the given kernel version.</summary>
        public static int CalculateOrder(KernelVersion version, uint size, int cpus) => Slub.CalculateOrder(Of(version), size, cpus);

        /// <summary><c>get_order(size)</c>.</summary>
        public static int GetOrder(ulong size) => Slub.GetOrder(size);

        /// <summary><c>fls(x)</c>.</summary>
        public static int Fls(uint x) => Slub.Fls(x);

        /// <summary><c>ALIGN(x, a)</c> for a power-of-two <paramref name="a"/>.</summary>
        public static uint AlignUp(uint x, uint a) => Slub.AlignUp(x, a);

        /// <summary><c>ALIGN_DOWN(x, a)</c>.</summary>
        public static uint AlignDown(uint x, uint a) => Slub.AlignDown(x, a);

        internal static SlubVersion Of(KernelVersion version) => version == KernelVersion.V6_1 ? SlubVersion.V6_1 : SlubVersion.V6_12;
    }
}
