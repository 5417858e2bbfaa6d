// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// SlabLocal: a thread's handle on a SlabCache, the allocator's fast path with nothing in front of
// it. SLUB's fast path finds its CPU's kmem_cache_cpu with one %gs-relative load; a .NET thread
// finds its ThreadCache through a [ThreadStatic], which on Linux x64 is a call to glibc's
// __tls_get_addr at every Alloc and Free (the JIT does not hoist it out of a loop). A thread that
// allocates in a loop can look its ThreadCache up once, here, and then pay what a bare freelist
// pays, plus one compare for the free.

using System.Runtime.CompilerServices;

namespace SimpleCache.Slab
{
    /// <summary>
    /// A thread's own handle on a <see cref="SlabCache"/> (from <see cref="SlabCache.Local"/>):
    /// the same objects and the same slabs as the cache's Alloc and Free, without the thread-local
    /// lookup. Use it on the thread that took it, only.
    /// </summary>
    public readonly unsafe struct SlabLocal
    {
        private readonly SlabCache _cache;
        private readonly ThreadCache _tc;       // null for a debug cache: every call takes the debug path
        private readonly int _freeOffset;
        private readonly nint _slabBase;
        private readonly nint _arenaLow;
        private readonly int _slabShift;

        internal SlabLocal(SlabCache cache, ThreadCache tc)
        {
            _cache = cache;
            _tc = tc;
            _freeOffset = cache.FreeOffset;
            _slabBase = cache.SlabBase;
            _arenaLow = cache.ArenaLow;
            _slabShift = cache.SlabShift;
        }

        /// <summary>The cache.</summary>
        public SlabCache Cache => _cache;

        /// <summary>An object, or null when memory runs out (as <see cref="SlabCache.Alloc"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Alloc()
        {
            ThreadCache tc = _tc;
            if (tc != null)
            {
                byte* obj = tc.Freelist;
                if (obj != null)
                {
                    tc.Freelist = *(byte**)(obj + _freeOffset);
                    return obj;
                }
                return _cache.AllocSlowFor(tc);
            }
            return _cache.Alloc();
        }

        /// <summary>Gives an object of the cache back, from any thread's allocation (as <see cref="SlabCache.Free"/>). Null is ignored.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* obj)
        {
            ThreadCache tc = _tc;
            if (tc != null && obj != null)
            {
                // An object of the thread's slab goes back on its freelist (do_slab_free()'s fast path).
                if (((nint)obj & _slabBase) == tc.ActiveBase)
                {
                    if (obj == tc.Freelist)
                        _cache.DoubleFree(obj);
                    *(byte**)((byte*)obj + _freeOffset) = tc.Freelist;
                    tc.Freelist = (byte*)obj;
                    return;
                }
                // A slab of the thread's partial list: the cache's FreeOwned, inlined here (plain
                // stores); any other slab: __slab_free().
                SlabHeader* slab = SlabCache.HeaderOf(obj, _arenaLow, _slabShift);
                if (slab->Owner == tc.Token)
                    _cache.FreeOwned(slab, obj);
                else
                    _cache.FreeRemote(slab, obj);
                return;
            }
            _cache.Free(obj);
        }
    }
}
