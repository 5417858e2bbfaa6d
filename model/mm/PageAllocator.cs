// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The page allocator (mm/page_alloc.c, the buddy allocator) over one zone of unmanaged memory.
// Pages are 4096 bytes; a block of order n is 2^n contiguous pages aligned to its size. Every
// page has a descriptor (struct page / struct slab in the kernel), found from an address in O(1)
// by (address - zone start) >> PAGE_SHIFT, which is what virt_to_page() and virt_to_slab() do.
// Freeing merges a block with its buddy (index ^ 2^order) while the buddy is free and of the
// same order, as __free_one_page() does.

using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace SimpleCache.Model.Mm
{
    /// <summary>A page descriptor: <c>struct page</c>, with the slab that owns the page if any.</summary>
    public struct PageDescriptor
    {
        /// <summary>The order of the block this page heads (valid for free and allocated heads).</summary>
        public int Order;
        /// <summary>Whether the page heads a free block on a free list (PageBuddy).</summary>
        public bool Buddy;
        /// <summary>Whether the page heads an allocated block.</summary>
        public bool Head;
        /// <summary>The slab using this page (<c>page_slab()</c>), or null; set on every page of a slab.</summary>
        public Slab Slab;
        internal int NextFree;
        internal int PrevFree;
    }

    /// <summary>A buddy allocator over a fixed zone of 4 KiB pages in unmanaged memory.</summary>
    public sealed unsafe class PageAllocator : IDisposable
    {
        /// <summary><c>PAGE_SHIFT</c>.</summary>
        public const int PageShift = 12;
        /// <summary><c>PAGE_SIZE</c>.</summary>
        public const int PageSize = 1 << PageShift;
        /// <summary>Orders 0 to MaxOrder (MAX_PAGE_ORDER in 6.12, MAX_ORDER - 1 in 6.1).</summary>
        public const int MaxOrder = SlabGeometry.MaxPageOrder;

        private readonly object _lock = new();
        private readonly byte* _base;
        private readonly PageDescriptor[] _pages;
        private readonly int[] _freeHead = new int[MaxOrder + 1];
        private long _freePages;

        /// <summary>Creates a zone of <paramref name="pages"/> pages (rounded down to whole max-order blocks).</summary>
        public PageAllocator(int pages)
        {
            int blocks = Math.Max(1, pages >> MaxOrder);
            TotalPages = blocks << MaxOrder;
            _base = (byte*)NativeMemory.AlignedAlloc((nuint)TotalPages * PageSize, (nuint)PageSize << MaxOrder);
            _pages = new PageDescriptor[TotalPages];
            Array.Fill(_freeHead, -1);
            for (int i = 0; i < TotalPages; i++)
                _pages[i].NextFree = _pages[i].PrevFree = -1;
            for (int b = 0; b < blocks; b++)
                PushFree(b << MaxOrder, MaxOrder);
            _freePages = TotalPages;
        }

        /// <summary>Pages in the zone.</summary>
        public int TotalPages { get; }

        /// <summary>Pages on the free lists now (<c>NR_FREE_PAGES</c>).</summary>
        public long NrFreePages { get { lock (_lock) return _freePages; } }

        /// <summary>The first byte of the zone.</summary>
        public byte* Base => _base;

        /// <summary>
        /// <c>alloc_pages(gfp, order)</c>: 2^order contiguous pages, aligned to their size, or
        /// null when no block is free (the model does not reclaim).
        /// </summary>
        public byte* AllocPages(int order)
        {
            if (order < 0 || order > MaxOrder)
                return null;
            lock (_lock)
            {
                int o = order;
                while (o <= MaxOrder && _freeHead[o] < 0)
                    o++;
                if (o > MaxOrder)
                    return null;
                int index = _freeHead[o];
                RemoveFree(index, o);
                // expand(): split off the upper halves onto the lower free lists.
                while (o > order)
                {
                    o--;
                    PushFree(index + (1 << o), o);
                }
                _pages[index].Head = true;
                _pages[index].Order = order;
                _freePages -= 1L << order;
                return _base + ((long)index << PageShift);
            }
        }

        /// <summary><c>__free_pages(page, order)</c>: returns a block and merges it with free buddies.</summary>
        public void FreePages(byte* address, int order)
        {
            int index = IndexOf(address);
            lock (_lock)
            {
                if (index < 0 || !_pages[index].Head || _pages[index].Order != order)
                    throw new InvalidOperationException($"bad page free: 0x{(ulong)address:x} order {order}");
                _pages[index].Head = false;
                _freePages += 1L << order;
                while (order < MaxOrder)
                {
                    int buddy = index ^ (1 << order);
                    if (!_pages[buddy].Buddy || _pages[buddy].Order != order)
                        break;
                    RemoveFree(buddy, order);
                    index = Math.Min(index, buddy);
                    order++;
                }
                PushFree(index, order);
            }
        }

        /// <summary>The page index of an address in the zone, or -1 (<c>virt_to_page()</c>).</summary>
        public int IndexOf(void* address)
        {
            long offset = (byte*)address - _base;
            if (offset < 0 || offset >= (long)TotalPages * PageSize)
                return -1;
            return (int)(offset >> PageShift);
        }

        /// <summary>The descriptor of the page that holds <paramref name="address"/>; throws outside the zone.</summary>
        public ref PageDescriptor PageOf(void* address)
        {
            int index = IndexOf(address);
            if (index < 0)
                throw new ArgumentOutOfRangeException(nameof(address), $"0x{(ulong)address:x} is not in the zone");
            return ref _pages[index];
        }

        /// <summary>The slab that owns <paramref name="address"/>, or null (<c>virt_to_slab()</c>).</summary>
        public Slab SlabOf(void* address)
        {
            int index = IndexOf(address);
            return index < 0 ? null : Volatile.Read(ref _pages[index].Slab);
        }

        /// <summary>Marks the 2^order pages at <paramref name="address"/> as belonging to <paramref name="slab"/> (or to none).</summary>
        public void SetSlab(byte* address, int order, Slab slab)
        {
            int index = IndexOf(address);
            for (int i = 0; i < 1 << order; i++)
                Volatile.Write(ref _pages[index + i].Slab, slab);
        }

        private void PushFree(int index, int order)
        {
            ref PageDescriptor page = ref _pages[index];
            page.Buddy = true;
            page.Order = order;
            page.PrevFree = -1;
            page.NextFree = _freeHead[order];
            if (page.NextFree >= 0)
                _pages[page.NextFree].PrevFree = index;
            _freeHead[order] = index;
        }

        private void RemoveFree(int index, int order)
        {
            ref PageDescriptor page = ref _pages[index];
            if (page.PrevFree >= 0)
                _pages[page.PrevFree].NextFree = page.NextFree;
            else
                _freeHead[order] = page.NextFree;
            if (page.NextFree >= 0)
                _pages[page.NextFree].PrevFree = page.PrevFree;
            page.Buddy = false;
            page.NextFree = page.PrevFree = -1;
        }

        /// <summary>Releases the zone's memory. Every address from it becomes invalid.</summary>
        public void Dispose()
        {
            NativeMemory.AlignedFree(_base);
            GC.SuppressFinalize(this);
        }
    }
}
