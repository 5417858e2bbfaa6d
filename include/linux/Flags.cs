// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// GFP and slab flags as the C# API names them. The kernel's own bit values are not stable
// (gfp_types.h and slab.h derive them from enums whose positions depend on the configuration,
// and slab flags became enum bit positions in 6.8), so the C# API uses its own bits and each
// backend maps them: the real-kernel glue onto the kernel's macros (arch/kernel/glue/kcs.c),
// the model onto its own allocator. Pure definitions: the model library compiles this file once,
// for itself and for the modules built on it (see Errno.cs).

namespace Kernel
{
    /// <summary><c>gfp_t</c>: how an allocation may behave (include/linux/gfp_types.h).</summary>
    public enum Gfp : uint
    {
        /// <summary><c>GFP_KERNEL</c>: normal allocation; may sleep and reclaim memory.</summary>
        Kernel = 0x01,
        /// <summary><c>GFP_ATOMIC</c>: may not sleep; may use emergency reserves.</summary>
        Atomic = 0x02,
        /// <summary><c>GFP_NOWAIT</c>: may not sleep, no reserves.</summary>
        NoWait = 0x04,
        /// <summary><c>__GFP_ZERO</c>: return zeroed memory.</summary>
        Zero = 0x100,
        /// <summary><c>__GFP_NOWARN</c>: no allocation-failure warning.</summary>
        NoWarn = 0x200,
    }

    /// <summary><c>slab_flags_t</c>: properties of a kmem_cache (include/linux/slab.h).</summary>
    public enum SlabFlags : uint
    {
        /// <summary>No flags.</summary>
        None = 0,
        /// <summary><c>SLAB_CONSISTENCY_CHECKS</c>: expensive checks on alloc and free (slub_debug F).</summary>
        ConsistencyChecks = 0x01,
        /// <summary><c>SLAB_RED_ZONE</c>: guard bytes around each object (slub_debug Z).</summary>
        RedZone = 0x02,
        /// <summary><c>SLAB_POISON</c>: fill free objects with 0x6b, end byte 0xa5 (slub_debug P).</summary>
        Poison = 0x04,
        /// <summary><c>SLAB_STORE_USER</c>: record the last allocator and freer (slub_debug U).</summary>
        StoreUser = 0x08,
        /// <summary><c>SLAB_HWCACHE_ALIGN</c>: align objects on (a fraction of) a cache line.</summary>
        HwcacheAlign = 0x10,
        /// <summary><c>SLAB_PANIC</c>: panic if kmem_cache_create fails.</summary>
        Panic = 0x20,
        /// <summary><c>SLAB_TYPESAFE_BY_RCU</c>: delay freeing slab pages by an RCU grace period.</summary>
        TypesafeByRcu = 0x40,
        /// <summary><c>SLAB_ACCOUNT</c>: charge allocations to the memory cgroup.</summary>
        Account = 0x80,
        /// <summary><c>SLAB_RECLAIM_ACCOUNT</c>: objects are reclaimable (shrinkers).</summary>
        ReclaimAccount = 0x100,
        /// <summary><c>SLAB_NO_MERGE</c> (6.5+): never alias this cache with a compatible one.</summary>
        NoMerge = 0x200,
    }

    /// <summary>Kernel log levels, <c>KERN_EMERG</c> (0) to <c>KERN_DEBUG</c> (7) (include/linux/kern_levels.h).</summary>
    public enum LogLevel
    {
        /// <summary><c>KERN_EMERG</c>.</summary>
        Emerg = 0,
        /// <summary><c>KERN_ALERT</c>.</summary>
        Alert = 1,
        /// <summary><c>KERN_CRIT</c>.</summary>
        Crit = 2,
        /// <summary><c>KERN_ERR</c>.</summary>
        Err = 3,
        /// <summary><c>KERN_WARNING</c>.</summary>
        Warning = 4,
        /// <summary><c>KERN_NOTICE</c>.</summary>
        Notice = 5,
        /// <summary><c>KERN_INFO</c>.</summary>
        Info = 6,
        /// <summary><c>KERN_DEBUG</c>.</summary>
        Debug = 7,
    }
}
