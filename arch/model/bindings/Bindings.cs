// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The model backend of the C# kernel API: each partial method declared in include/linux is
// implemented here on the user-space kernel model (model/), in the kernel the calling code runs
// in (ModelKernel.Current) and for the module whose code is running (ModuleHost.Current).
// The module source compiled against these is the very file that kbuild links into
// simple_cache.ko; only this folder differs from arch/kernel/bindings.

using System.Diagnostics;
using System.Text;
using SimpleCache.Model;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;

namespace Kernel
{
    public static unsafe partial class Slab
    {
        public static partial KmemCache* KmemCacheCreate(System.ReadOnlySpan<byte> name, uint size, uint align, SlabFlags flags, delegate* unmanaged<void*, void> ctor)
        {
            SlabCache cache = ModelKernel.Current.Slab.Create(Encoding.UTF8.GetString(name), size, align, (CacheFlags)(uint)flags, (nint)ctor);
            return (KmemCache*)(cache?.Handle ?? 0);
        }

        public static partial void* KmemCacheAlloc(KmemCache* cache, Gfp flags) =>
            SlabCache.FromHandle((nint)cache).Alloc(mayWait: (flags & Gfp.Kernel) != 0, zero: (flags & Gfp.Zero) != 0);

        public static partial void KmemCacheFree(KmemCache* cache, void* obj) => SlabCache.FromHandle((nint)cache).Free(obj);

        public static partial void KmemCacheDestroy(KmemCache* cache)
        {
            if (cache != null)
                ModelKernel.Current.Slab.Destroy(SlabCache.FromHandle((nint)cache), Caller());
        }

        public static partial int KmemCacheShrink(KmemCache* cache) => SlabCache.FromHandle((nint)cache).Shrink();

        public static partial void* Kmalloc(nuint size, Gfp flags) =>
            ModelKernel.Current.Slab.Kmalloc(size, mayWait: (flags & Gfp.Kernel) != 0, zero: (flags & Gfp.Zero) != 0);

        public static partial void Kfree(void* ptr) => ModelKernel.Current.Slab.Kfree(ptr);

        // folio_address(virt_to_folio(obj)): the slab's first page, or the page of a non-slab address.
        public static partial void* SlabAddress(void* obj)
        {
            var slab = ModelKernel.Current.Pages.SlabOf((byte*)obj);
            return slab != null ? slab.Address : (void*)((nint)obj & ~(nint)(PageAllocator.PageSize - 1));
        }

        // folio_size(virt_to_folio(obj)): the slab's bytes, or a page for a non-slab address.
        public static partial nuint SlabSize(void* obj)
        {
            var slab = ModelKernel.Current.Pages.SlabOf((byte*)obj);
            return slab != null ? (nuint)PageAllocator.PageSize << (int)slab.Order : PageAllocator.PageSize;
        }

        // %pS of the caller, with the module's name as the kernel prints it: "fn+0x0/0x0 [module]".
        private static string Caller()
        {
            var frame = new StackTrace(2, false).GetFrame(0);
            var method = frame?.GetMethod();
            string module = ModuleHost.Current?.Name;
            return $"{method?.DeclaringType?.Name}.{method?.Name}+0x0/0x0" + (module != null ? $" [{module}]" : "");
        }
    }

    public static unsafe partial class Printk
    {
        // As the glue's kcs_printk(): printk(KERN_<level> "%.*s\n", len, text).
        private static partial void Emit(LogLevel level, byte* text, int length) =>
            ModelKernel.Current.Printk(level, Encoding.UTF8.GetString(text, length) + "\n");

        private static partial int RestrictedPointer(void* p, byte* text, int size)
        {
            string s = ModelKernel.Current.FormatRestrictedPointer((nint)p);
            int n = System.Math.Min(s.Length, size);
            for (int i = 0; i < n; i++)
                text[i] = (byte)s[i];
            return n;
        }
    }

    public static unsafe partial class Bug
    {
        private static partial void EmitWarning(byte* text, int length)
        {
            var method = new StackTrace(2, false).GetFrame(0)?.GetMethod();
            ModelKernel.Current.Warn(Encoding.UTF8.GetString(text, length), $"{method?.DeclaringType?.Name}.{method?.Name}+0x0/0x0");
        }
    }

    public static unsafe partial class ModuleParam
    {
        public static partial byte* Charp(System.ReadOnlySpan<byte> name)
        {
            LoadedModule host = ModuleHost.Current;
            byte** arg = host == null ? null : (byte**)host.ParamArg(Encoding.UTF8.GetString(name));
            return arg == null ? null : *arg;
        }

        public static partial int Int(System.ReadOnlySpan<byte> name)
        {
            LoadedModule host = ModuleHost.Current;
            int* arg = host == null ? null : (int*)host.ParamArg(Encoding.UTF8.GetString(name));
            return arg == null ? 0 : *arg;
        }
    }

    public static partial class Jiffies
    {
        public static partial ulong Now() => ModelKernel.Current.Clock.Jiffies;

        public static partial uint Hz() => ModelKernel.Current.Clock.Hz;
    }
}

namespace Kernel
{
    public static unsafe partial class Proc
    {
        public static partial ProcDirEntry* Create(System.ReadOnlySpan<byte> name, ushort mode)
        {
            var entry = ModelKernel.Current.Fs.CreateEntry(Encoding.UTF8.GetString(name), mode, ModuleHost.Current);
            return (ProcDirEntry*)(entry?.Handle ?? 0);
        }

        public static partial ProcDirEntry* CreateSingle(System.ReadOnlySpan<byte> name, ushort mode)
        {
            var entry = ModelKernel.Current.Fs.CreateEntry(Encoding.UTF8.GetString(name), mode, ModuleHost.Current, single: true);
            return (ProcDirEntry*)(entry?.Handle ?? 0);
        }

        public static partial void Remove(ProcDirEntry* entry)
        {
            if (entry != null)
                ModelKernel.Current.Fs.RemoveEntry(Handles.Get<SimpleCache.Model.Fs.ProcEntry>((nint)entry));
        }

        public static partial void SeqWrite(SeqFile* m, byte* data, int length) =>
            Handles.Get<SimpleCache.Model.Fs.SeqFileBuffer>((nint)m).Append(data, length);
    }

    public static unsafe partial class List
    {
        private static partial bool AddValidOrReport(ListHead* entry, ListHead* prev, ListHead* next) =>
            SimpleCache.Model.Lib.ListDebug.AddValidOrReport(ModelKernel.Current, (void**)entry, (void**)prev, (void**)next);

        private static partial bool DelEntryValidOrReport(ListHead* entry) =>
            SimpleCache.Model.Lib.ListDebug.DelEntryValidOrReport(ModelKernel.Current, (void**)entry);
    }

    public static unsafe partial class Uaccess
    {
        public static partial nuint CopyFromUser(void* to, void* from, nuint n) => UserSpace.CopyFromUser(to, from, n);
    }

    public static unsafe partial class Sync
    {
        // A raw spinlock in the model is kmalloc'd, as the glue kmallocs it (so a lock the module
        // never destroys shows as a kmalloc object still in use), with the model's spinlock
        // behind it (model/kernel/Spinlock.cs): mutual exclusion between tasks, not reentrant, and
        // a deadlock is reported as the soft lockup watchdog would, not spun on.
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<nint, Spinlock> s_locks = new();

        public static partial RawSpinlockT* RawSpinLockCreate()
        {
            void* memory = ModelKernel.Current.Slab.Kmalloc(4, mayWait: true, zero: true);   // sizeof(raw_spinlock_t)
            if (memory != null)
                s_locks[(nint)memory] = new Spinlock();
            return (RawSpinlockT*)memory;
        }

        public static partial void RawSpinLockDestroy(RawSpinlockT* lockp)
        {
            s_locks.TryRemove((nint)lockp, out _);
            ModelKernel.Current.Slab.Kfree(lockp);
        }

        public static partial void RawSpinLock(RawSpinlockT* lockp) => s_locks[(nint)lockp].Lock(ModelKernel.Current);

        public static partial void RawSpinUnlock(RawSpinlockT* lockp) => s_locks[(nint)lockp].Unlock();

        public static partial int AtomicCmpxchg(int* v, int expected, int value) => System.Threading.Interlocked.CompareExchange(ref *v, value, expected);

        public static partial void AtomicSetRelease(int* v, int value) => System.Threading.Volatile.Write(ref *v, value);
    }
}
