// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Native handles for model objects: what the C# kernel API hands a module as an opaque kernel
// pointer (struct kmem_cache *, raw_spinlock_t *, struct proc_dir_entry *, struct seq_file *).
// A handle is a small block of unmanaged memory holding a GCHandle to the object, so module
// code sees a stable pointer and the model finds its object again in O(1).

using System;
using System.Runtime.InteropServices;

namespace SimpleCache.Model.Kernel
{
    /// <summary>Allocates, resolves and frees native handles to managed objects.</summary>
    public static unsafe class Handles
    {
        /// <summary>A new handle to <paramref name="target"/>.</summary>
        public static nint Alloc(object target)
        {
            nint h = (nint)NativeMemory.Alloc((nuint)sizeof(nint));
            *(nint*)h = GCHandle.ToIntPtr(GCHandle.Alloc(target));
            return h;
        }

        /// <summary>The object behind a handle; a null handle is a kernel oops, here an exception.</summary>
        public static T Get<T>(nint handle) where T : class
        {
            if (handle == 0)
                throw new NullReferenceException($"NULL {typeof(T).Name} pointer (the kernel would oops here)");
            return (T)GCHandle.FromIntPtr(*(nint*)handle).Target;
        }

        /// <summary>Frees a handle; the pointer must not be used again.</summary>
        public static void Free(nint handle)
        {
            if (handle == 0)
                return;
            GCHandle.FromIntPtr(*(nint*)handle).Free();
            NativeMemory.Free((void*)handle);
        }
    }
}
