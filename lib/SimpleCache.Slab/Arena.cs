// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Where slabs come from: blocks of at least 1 MiB from the system, aligned to the slab size, cut
// into slabs as they are needed (the page allocator's part in the kernel). A slab must be aligned
// to its size so that an object's slab is its address masked; one large aligned block per many
// slabs keeps what the alignment costs small (at most one slab's worth per block, and only
// address space: pages no slab was cut from are never touched).

using System;
using System.Runtime.InteropServices;

namespace SimpleCache.Slab
{
    internal sealed unsafe class Arena : IDisposable
    {
        private const int MinBytes = 1 << 20;
        private readonly byte* _base;
        private readonly int _slabBytes;
        private readonly int _slabs;
        private int _carved;
        private int _inUse;
        private SlabHeader* _free;

        private Arena(byte* memory, int slabBytes, int slabs)
        {
            _base = memory;
            _slabBytes = slabBytes;
            _slabs = slabs;
        }

        /// <summary>A new arena for slabs of <paramref name="slabBytes"/>, or null when the system has no memory.</summary>
        public static Arena Create(int slabBytes)
        {
            int slabs = Math.Max(1, MinBytes / slabBytes);
            try
            {
                return new Arena((byte*)NativeMemory.AlignedAlloc((nuint)slabs * (nuint)slabBytes, (nuint)slabBytes), slabBytes, slabs);
            }
            catch (OutOfMemoryException)
            {
                return null;
            }
        }

        /// <summary>A slab: one given back before (<paramref name="fresh"/> false), or the next one not cut yet; null when full.</summary>
        public SlabHeader* Take(out bool fresh)
        {
            SlabHeader* slab = _free;
            fresh = slab == null;
            if (slab != null)
                _free = slab->Next;
            else if (_carved < _slabs)
                slab = (SlabHeader*)(_base + (long)_carved++ * _slabBytes);
            else
                return null;
            _inUse++;
            return slab;
        }

        public void Give(SlabHeader* slab)
        {
            slab->Next = _free;
            _free = slab;
            _inUse--;
        }

        public bool Contains(SlabHeader* slab) => (byte*)slab >= _base && (byte*)slab < _base + (long)_slabs * _slabBytes;

        public bool Empty => _inUse == 0;

        /// <summary>Slabs cut from the arena so far (in use or kept for reuse): the pages it has touched.</summary>
        public int Carved => _carved;

        public void Dispose() => NativeMemory.AlignedFree(_base);
    }
}
