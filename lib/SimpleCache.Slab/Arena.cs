// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Where slabs come from: blocks of 4 MiB or more from the system, aligned to their own size, cut
// into slabs as they are needed (the page allocator's part in the kernel).
//
// A slab's metadata is not in the slab. SLUB keeps struct slab in the memory map, the array of
// struct page that describes every page frame, so that a slab's whole memory holds objects
// (order_objects() is slab size / object size, nothing reserved) and virt_to_slab() finds the
// metadata from any address in it. An arena does the same: its first slabs hold an array of
// SlabHeader, one per slab of the arena (the arena's memory map), and an address's header is
//
//   arena  = address & ~(arena bytes - 1)                 (an arena is aligned to its size)
//   header = arena + ((address - arena) >> slab shift) * sizeof(SlabHeader)
//
// A thread's new slabs are not cut right after another thread's: when the owner changes, one
// slab is left out between them, never touched (its header says it is no slab). Two threads
// working on neighbouring slabs slowed each other by 15 to 20 % on this project's machine, in
// pattern (d) of docs/performance.md (2 threads, each with its own slabs), although no cache line
// was shared: what one CPU's prefetcher fetched from the other's slab, the other then had to take
// back. With the gap, two threads scaled 1.94 to 2.0x instead of 1.63 to 1.72x (a slab held
// between them, measured in one run). The gap costs address space, not memory: its pages are
// never touched, and Bytes leaves it out. (The kernel's CPUs take their slabs' pages from
// per-CPU lists, pages that CPU freed, which keeps them apart in much the same way.)
//
// The headers are then 64 bytes apart, in few pages, as struct slab is. (They were the first 64
// bytes of each slab before, every one at the same offset of a 16 KiB-aligned block: lines that
// fall in one set of the CPU's caches and evict one another; and a slab of 64-byte objects held
// 255 where SLUB's holds 256.) Only the header pages of slabs cut so far are touched: the
// address space of the rest, and of slabs not cut yet, costs no memory.

using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace SimpleCache.Slab
{
    internal sealed unsafe class Arena : IDisposable
    {
        private const int MinBytes = 4 << 20;
        private readonly byte* _base;
        private readonly int _slabShift;
        private readonly int _slabs;        // slabs in the arena, the header slabs included
        private readonly int _firstSlab;    // the first slab after the headers
        private int _carved;                // slabs cut so far, from _firstSlab on, the gaps included
        private int _gaps;                  // slabs left out between two owners' slabs
        private bool _lastIsGap;            // the last slab cut is a gap
        private int _inUse;
        private SlabHeader* _free;

        private Arena(byte* memory, int slabShift, int slabs, int firstSlab)
        {
            _base = memory;
            _slabShift = slabShift;
            _slabs = slabs;
            _firstSlab = firstSlab;
        }

        /// <summary>The size of every arena of a cache whose slabs are <paramref name="slabBytes"/>: a power of two, at least four slabs.</summary>
        public static long BytesFor(int slabBytes) => Math.Max(MinBytes, 4L * slabBytes);

        /// <summary>A new arena for slabs of <paramref name="slabBytes"/> (a power of two), or null when the system has no memory.</summary>
        public static Arena Create(int slabBytes)
        {
            long bytes = BytesFor(slabBytes);
            int slabs = (int)(bytes / slabBytes);
            int headerSlabs = (int)((slabs * (long)sizeof(SlabHeader) + slabBytes - 1) / slabBytes);
            try
            {
                return new Arena((byte*)NativeMemory.AlignedAlloc((nuint)bytes, (nuint)bytes), System.Numerics.BitOperations.Log2((uint)slabBytes), slabs, headerSlabs);
            }
            catch (OutOfMemoryException)
            {
                return null;
            }
        }

        /// <summary>
        /// A slab's header for <paramref name="owner"/>: one given back before (<paramref name="fresh"/>
        /// false), or the next one not cut yet, a slab after the last one cut if that was another
        /// owner's; null when full.
        /// </summary>
        public SlabHeader* Take(long owner, out bool fresh)
        {
            SlabHeader* slab = _free;
            fresh = slab == null;
            if (slab != null)
                _free = slab->Next;
            else
            {
                // The last slab cut, unless it is a gap: its owner now (it may have gone back to
                // the arena and on to another thread since it was cut; 0 in the cache's pool).
                SlabHeader* last = _carved > 0 && !_lastIsGap ? (SlabHeader*)_base + _firstSlab + _carved - 1 : null;
                if (last != null && last->Carver != (int)owner && _firstSlab + _carved + 1 < _slabs)
                {
                    *((SlabHeader*)_base + _firstSlab + _carved++) = default;   // List None: no slab, for the debug checks
                    _gaps++;
                    _lastIsGap = true;
                }
                if (_firstSlab + _carved >= _slabs)
                    return null;
                slab = (SlabHeader*)_base + _firstSlab + _carved++;
                *slab = default;
                _lastIsGap = false;
            }
            slab->Carver = (int)owner;   // under the cache's lock, for the next Take to see
            _inUse++;
            return slab;
        }

        public void Give(SlabHeader* slab)
        {
            slab->Next = _free;
            _free = slab;
            slab->Carver = 0;
            _inUse--;
        }

        // The headers of the slabs the cache holds (taken and not given back).
        public System.Collections.Generic.List<nint> Slabs()
        {
            var slabs = new System.Collections.Generic.List<nint>();
            for (var h = (SlabHeader*)_base + _firstSlab; h < (SlabHeader*)_base + _firstSlab + _carved; h++)
                if (h->Carver != 0)
                    slabs.Add((nint)h);
            return slabs;
        }

        /// <summary>Whether the header is one of this arena's slabs'.</summary>
        public bool Contains(SlabHeader* slab) => slab >= (SlabHeader*)_base + _firstSlab && slab < (SlabHeader*)_base + _firstSlab + _carved;

        /// <summary>Whether the address is in one of the slabs cut from this arena (not in its headers).</summary>
        public bool ContainsAddress(byte* p) => p >= _base + ((long)_firstSlab << _slabShift) && p < _base + ((long)(_firstSlab + _carved) << _slabShift);

        public bool Empty => _inUse == 0;

        /// <summary>
        /// Bytes the arena has touched: the slabs cut so far (in use or kept for reuse), not the
        /// gaps between owners, and the pages of their headers.
        /// </summary>
        public long Bytes => ((long)(_carved - _gaps) << _slabShift) + ((long)(_firstSlab + _carved) * sizeof(SlabHeader) + SlabCache.PageSize - 1) / SlabCache.PageSize * SlabCache.PageSize;

        /// <summary>Slabs left out between two owners' slabs: address space only.</summary>
        public int Gaps => _gaps;

        public void Dispose() => NativeMemory.AlignedFree(_base);
    }
}
