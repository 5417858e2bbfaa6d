// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/linux/slab.h: the slab allocator's interface. These are partial declarations: the
// contract both backends implement (arch/kernel/bindings binds them to the real kernel, the model
// implements them in user space). A backend that drifts from this contract does not compile.

namespace Kernel
{
    /// <summary><c>struct kmem_cache</c>: opaque to callers, as it is to a kernel module.</summary>
    public struct KmemCache
    {
    }

    /// <summary>The object-cache half of <c>include/linux/slab.h</c>, plus kmalloc/kfree.</summary>
    public static unsafe partial class Slab
    {
        /// <summary>
        /// <c>kmem_cache_create(name, size, align, flags, ctor)</c>: creates a cache of objects of
        /// <paramref name="size"/> bytes. The constructor, if any, runs once for each object when
        /// the allocator populates a new slab, not on every allocation; objects must be freed back
        /// in their constructed state. May sleep.
        /// </summary>
        /// <param name="name">Shown in /proc/slabinfo; copied by the kernel.</param>
        /// <param name="size">Object size in bytes.</param>
        /// <param name="align">Minimum alignment, or 0.</param>
        /// <param name="flags">Cache flags (SLAB_HWCACHE_ALIGN, debug flags...).</param>
        /// <param name="ctor">The constructor, an [UnmanagedCallersOnly] function, or null.</param>
        /// <returns>The cache, or null on failure.</returns>
        public static partial KmemCache* KmemCacheCreate(System.ReadOnlySpan<byte> name, uint size, uint align, SlabFlags flags, delegate* unmanaged<void*, void> ctor);

        /// <summary><c>kmem_cache_alloc(cachep, flags)</c>: one object from the cache, or null. May sleep with <see cref="Gfp.Kernel"/>.</summary>
        public static partial void* KmemCacheAlloc(KmemCache* cache, Gfp flags);

        /// <summary>
        /// <c>kmem_cache_free(cachep, obj)</c>: returns an object to its cache. Never sleeps on an
        /// ordinary kernel, but may on PREEMPT_RT, where SLUB's per-CPU and per-node locks are
        /// sleeping locks: never call it holding a spinlock.
        /// </summary>
        public static partial void KmemCacheFree(KmemCache* cache, void* obj);

        /// <summary>
        /// <c>kmem_cache_destroy(cachep)</c>: destroys an empty cache. With objects still
        /// allocated the kernel reports "Slab cache still has objects" and leaks the cache. May sleep.
        /// </summary>
        public static partial void KmemCacheDestroy(KmemCache* cache);

        /// <summary><c>kmem_cache_shrink(cachep)</c>: releases empty slabs; 0 if all slabs were released. May sleep.</summary>
        public static partial int KmemCacheShrink(KmemCache* cache);

        /// <summary><c>kmalloc(size, flags)</c>: a general-purpose allocation, or null. May sleep with <see cref="Gfp.Kernel"/>.</summary>
        public static partial void* Kmalloc(nuint size, Gfp flags);

        /// <summary><c>kfree(ptr)</c>: frees a kmalloc allocation; null is ignored. May sleep on PREEMPT_RT (see <see cref="KmemCacheFree"/>).</summary>
        public static partial void Kfree(void* ptr);

        /// <summary>
        /// The first byte of the slab that holds <paramref name="obj"/>:
        /// <c>folio_address(virt_to_folio(obj))</c> (what mm/slab.h's <c>slab_address(virt_to_slab(obj))</c>
        /// gives inside mm/). With the object's address it gives the object's offset in its slab.
        /// </summary>
        public static partial void* SlabAddress(void* obj);

        /// <summary>
        /// The size in bytes of the slab that holds <paramref name="obj"/>:
        /// <c>folio_size(virt_to_folio(obj))</c>, <c>PAGE_SIZE &lt;&lt; order</c>. With
        /// <see cref="SlabAddress"/> it gives the slab's end, where its padding is.
        /// </summary>
        public static partial nuint SlabSize(void* obj);
    }
}
