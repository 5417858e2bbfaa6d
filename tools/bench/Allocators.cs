// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The allocators compared, each a struct behind one interface so that the JIT specialises the
// pattern loops for each and inlines its Alloc and Free (an interface call would cost more than
// the fastest of them). Every one hands out 64-byte blocks.

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SimpleCache.Model;
using SimpleCache.Model.Mm;
using SimpleCache.Slab;

namespace SimpleCache.Bench
{
    internal unsafe interface IAllocator
    {
        void* Alloc();
        void Free(void* p);
    }

    /// <summary>
    /// The practical floor: an intrusive freelist over one preallocated block, no checks, no
    /// thread safety (each thread gets its own).
    /// </summary>
    /// Its head has a cache line of its own, so that two threads' lists share none.
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    internal sealed unsafe class BareFreelist : IDisposable
    {
        [FieldOffset(0)] private readonly byte* _memory;
        [FieldOffset(64)] public void* Head;
        [FieldOffset(64)] public nint HeadWord;   // the same field, for Interlocked

        public BareFreelist(int objects)
        {
            _memory = (byte*)NativeMemory.AlignedAlloc((nuint)objects * 64, 64);
            for (int i = objects - 1; i >= 0; i--)
            {
                *(void**)(_memory + (long)i * 64) = Head;
                Head = _memory + (long)i * 64;
            }
        }

        public void Dispose() => NativeMemory.AlignedFree(_memory);
    }

    internal readonly unsafe struct Bare(BareFreelist list) : IAllocator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Alloc()
        {
            void* p = list.Head;
            list.Head = *(void**)p;
            return p;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* p)
        {
            *(void**)p = list.Head;
            list.Head = p;
        }
    }

    /// <summary>
    /// The bare freelist with SLUB's free to a slab that is not the CPU's (__slab_free()): the
    /// push is a compare-and-swap (a locked cmpxchg), as any thread may free to that slab at once.
    /// </summary>
    internal readonly unsafe struct BareCas(BareFreelist list) : IAllocator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Alloc() => new Bare(list).Alloc();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* p)
        {
            nint old;
            do
            {
                old = (nint)list.Head;
                *(void**)p = (void*)old;
            }
            while (System.Threading.Interlocked.CompareExchange(ref list.HeadWord, (nint)p, old) != old);
        }
    }

    /// <summary>lib/SimpleCache.Slab.</summary>
    internal readonly unsafe struct Slab(SimpleCache.Slab.SlabCache cache) : IAllocator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Alloc() => cache.Alloc();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* p) => cache.Free(p);
    }

    /// <summary>lib/SimpleCache.Slab through a thread's own handle (SlabCache.Local()): no thread-local lookup per call.</summary>
    internal readonly unsafe struct SlabHandle(SimpleCache.Slab.SlabLocal local) : IAllocator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Alloc() => local.Alloc();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* p) => local.Free(p);
    }

    /// <summary>The model's kmem_cache (model/mm/Slub.cs).</summary>
    internal readonly unsafe struct Model(SimpleCache.Model.Mm.SlabCache cache) : IAllocator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Alloc() => cache.Alloc();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* p) => cache.Free(p);
    }

    /// <summary>glibc's malloc and free, through NativeMemory.</summary>
    internal readonly unsafe struct Malloc : IAllocator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Alloc() => NativeMemory.Alloc(64);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Free(void* p) => NativeMemory.Free(p);
    }

    /// <summary>A GC object of 64 bytes on the heap (16 bytes of header and method table, 48 of fields).</summary>
    internal sealed class Node64
    {
        public Node64 Next;
        public long A, B, C, D, E;
    }
}
