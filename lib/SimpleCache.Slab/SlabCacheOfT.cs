// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// SlabCache<T>: the typed face of SlabCache, for an unmanaged struct: kmem_cache_create() with
// sizeof(T) and T's alignment, and T* in and out.

using System;
using System.Runtime.CompilerServices;

namespace SimpleCache.Slab
{
    /// <summary>Runs once on each object of a new slab, before the object is first handed out.</summary>
    public delegate void SlabConstructor<T>(ref T obj) where T : unmanaged;

    /// <summary>A <see cref="SlabCache"/> of <typeparamref name="T"/> objects.</summary>
    public sealed unsafe class SlabCache<T> : IDisposable where T : unmanaged
    {
        /// <summary>Creates a cache of <typeparamref name="T"/>, aligned as T needs (at least 8).</summary>
        /// <param name="name">A name for leak reports and metrics (default: T's name).</param>
        /// <param name="constructor">Run once on each object of a new slab.</param>
        /// <param name="options">Alignment and how many slabs to keep; its Constructor is replaced by <paramref name="constructor"/> when that is given.</param>
        public SlabCache(string name = null, SlabConstructor<T> constructor = null, SlabCacheOptions options = null)
        {
            options ??= new SlabCacheOptions();
            Untyped = new SlabCache(name ?? typeof(T).Name, sizeof(T), new SlabCacheOptions
            {
                Align = Math.Max(options.Align, AlignOf()),
                Constructor = constructor == null ? options.Constructor : p => constructor(ref *(T*)p),
                MinSlabOrder = options.MinSlabOrder,
                MinPartial = options.MinPartial,
                CpuPartial = options.CpuPartial,
                Debug = options.Debug,
                OnReport = options.OnReport,
            });
        }

        /// <summary>The untyped cache underneath (its figures: SlotSize, ObjectsPerSlab, Slabs...).</summary>
        public SlabCache Untyped { get; }

        /// <summary>A <typeparamref name="T"/>, or null when memory runs out.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T* Alloc() => (T*)Untyped.Alloc();

        /// <summary>Gives <paramref name="obj"/> back; null is ignored.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(T* obj) => Untyped.Free(obj);

        /// <summary>See <see cref="SlabCache.AllocBulk"/>.</summary>
        public int AllocBulk(Span<nint> objects) => Untyped.AllocBulk(objects);

        /// <summary>See <see cref="SlabCache.FreeBulk"/>.</summary>
        public void FreeBulk(ReadOnlySpan<nint> objects) => Untyped.FreeBulk(objects);

        /// <summary>See <see cref="SlabCache.Shrink"/>.</summary>
        public int Shrink() => Untyped.Shrink();

        /// <summary>See <see cref="SlabCache.Destroy"/>.</summary>
        public LeakReport Destroy() => Untyped.Destroy();

        /// <summary>See <see cref="SlabCache.Dispose"/>.</summary>
        public void Dispose() => Untyped.Dispose();

        // The alignment the runtime gives T: the offset of a T after a byte.
        private static int AlignOf() => sizeof(AlignHelper) - sizeof(T);

        private struct AlignHelper
        {
#pragma warning disable CS0649
            public byte Pad;
            public T Value;
#pragma warning restore CS0649
        }

        /// <summary>The calling thread's own handle (see <see cref="SlabCache.Local"/>): Alloc and Free without the thread-local lookup.</summary>
        public SlabLocal<T> Local() => new(Untyped.Local());
    }

    /// <summary>A thread's own handle on a <see cref="SlabCache{T}"/>; use it on that thread only.</summary>
    public readonly unsafe struct SlabLocal<T>(SlabLocal local) where T : unmanaged
    {
        /// <summary>A <typeparamref name="T"/>, or null when memory runs out.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T* Alloc() => (T*)local.Alloc();

        /// <summary>Gives an object back; null is ignored.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(T* obj) => local.Free(obj);
    }
}
