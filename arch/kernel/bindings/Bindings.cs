// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The real-kernel backend of the C# kernel API: each partial method declared in include/linux
// is bound here to a small C wrapper in ../glue/kcs.c (DllImport("*") with SuppressGCTransition
// compiles to a direct `call kcs_...`, resolved by the kernel's module loader).
//
// Why wrappers and not the kernel functions themselves: C# runs inside kernel_fpu_begin() /
// kernel_fpu_end() (RyuJIT uses SSE registers for ordinary copies), which disables preemption.
// A kernel function that may sleep (kmem_cache_create, a GFP_KERNEL allocation) must be called
// outside that section, so its wrapper leaves the FPU section, calls it, and re-enters. Other
// wrappers translate the API's own flag bits into the kernel's and expand macros (jiffies, HZ).

using System.Runtime.InteropServices;

namespace Kernel
{
    public static unsafe partial class Slab
    {
        [DllImport("*", EntryPoint = "kcs_kmem_cache_create"), SuppressGCTransition]
        private static extern KmemCache* KcsKmemCacheCreate(byte* name, int nameLength, uint size, uint align, uint flags, void* ctor);

        [DllImport("*", EntryPoint = "kcs_kmem_cache_alloc"), SuppressGCTransition]
        private static extern void* KcsKmemCacheAlloc(KmemCache* cache, uint flags);

        [DllImport("*", EntryPoint = "kcs_kmem_cache_free"), SuppressGCTransition]
        private static extern void KcsKmemCacheFree(KmemCache* cache, void* obj);

        [DllImport("*", EntryPoint = "kcs_kmem_cache_destroy"), SuppressGCTransition]
        private static extern void KcsKmemCacheDestroy(KmemCache* cache);

        [DllImport("*", EntryPoint = "kcs_kmem_cache_shrink"), SuppressGCTransition]
        private static extern int KcsKmemCacheShrink(KmemCache* cache);

        [DllImport("*", EntryPoint = "kcs_kmalloc"), SuppressGCTransition]
        private static extern void* KcsKmalloc(nuint size, uint flags);

        [DllImport("*", EntryPoint = "kcs_kfree"), SuppressGCTransition]
        private static extern void KcsKfree(void* ptr);

        public static partial KmemCache* KmemCacheCreate(System.ReadOnlySpan<byte> name, uint size, uint align, SlabFlags flags, delegate* unmanaged<void*, void> ctor)
        {
            fixed (byte* n = name)
                return KcsKmemCacheCreate(n, name.Length, size, align, (uint)flags, ctor);
        }

        public static partial void* KmemCacheAlloc(KmemCache* cache, Gfp flags) => KcsKmemCacheAlloc(cache, (uint)flags);

        public static partial void KmemCacheFree(KmemCache* cache, void* obj) => KcsKmemCacheFree(cache, obj);

        public static partial void KmemCacheDestroy(KmemCache* cache) => KcsKmemCacheDestroy(cache);

        public static partial int KmemCacheShrink(KmemCache* cache) => KcsKmemCacheShrink(cache);

        public static partial void* Kmalloc(nuint size, Gfp flags) => KcsKmalloc(size, (uint)flags);

        public static partial void Kfree(void* ptr) => KcsKfree(ptr);

        [DllImport("*", EntryPoint = "kcs_slab_address"), SuppressGCTransition]
        private static extern void* KcsSlabAddress(void* obj);

        public static partial void* SlabAddress(void* obj) => KcsSlabAddress(obj);

        [DllImport("*", EntryPoint = "kcs_slab_size"), SuppressGCTransition]
        private static extern nuint KcsSlabSize(void* obj);

        public static partial nuint SlabSize(void* obj) => KcsSlabSize(obj);
    }

    public static unsafe partial class Printk
    {
        [DllImport("*", EntryPoint = "kcs_printk"), SuppressGCTransition]
        private static extern void KcsPrintk(int level, byte* text, int length);

        private static partial void Emit(LogLevel level, byte* text, int length) => KcsPrintk((int)level, text, length);

        [DllImport("*", EntryPoint = "kcs_format_pk"), SuppressGCTransition]
        private static extern int KcsFormatPk(void* p, byte* text, int size);

        private static partial int RestrictedPointer(void* p, byte* text, int size) => KcsFormatPk(p, text, size);
    }

    public static unsafe partial class Bug
    {
        [DllImport("*", EntryPoint = "kcs_warn"), SuppressGCTransition]
        private static extern void KcsWarn(byte* text, int length);

        private static partial void EmitWarning(byte* text, int length) => KcsWarn(text, length);
    }

    public static unsafe partial class List
    {
        [DllImport("*", EntryPoint = "kcs_list_add_valid_or_report"), SuppressGCTransition]
        private static extern byte KcsListAddValidOrReport(ListHead* entry, ListHead* prev, ListHead* next);

        [DllImport("*", EntryPoint = "kcs_list_del_entry_valid_or_report"), SuppressGCTransition]
        private static extern byte KcsListDelEntryValidOrReport(ListHead* entry);

        private static partial bool AddValidOrReport(ListHead* entry, ListHead* prev, ListHead* next) =>
            KcsListAddValidOrReport(entry, prev, next) != 0;

        private static partial bool DelEntryValidOrReport(ListHead* entry) => KcsListDelEntryValidOrReport(entry) != 0;
    }

    public static unsafe partial class ModuleParam
    {
        [DllImport("*", EntryPoint = "kcs_param_arg"), SuppressGCTransition]
        private static extern void* KcsParamArg(byte* name, int nameLength);

        public static partial byte* Charp(System.ReadOnlySpan<byte> name)
        {
            fixed (byte* n = name)
            {
                byte** arg = (byte**)KcsParamArg(n, name.Length);
                return arg == null ? null : *arg;
            }
        }

        public static partial int Int(System.ReadOnlySpan<byte> name)
        {
            fixed (byte* n = name)
            {
                int* arg = (int*)KcsParamArg(n, name.Length);
                return arg == null ? 0 : *arg;
            }
        }
    }

    public static partial class Jiffies
    {
        [DllImport("*", EntryPoint = "kcs_jiffies"), SuppressGCTransition]
        private static extern ulong KcsJiffies();

        [DllImport("*", EntryPoint = "kcs_hz"), SuppressGCTransition]
        private static extern uint KcsHz();

        public static partial ulong Now() => KcsJiffies();

        public static partial uint Hz() => KcsHz();
    }
}

namespace Kernel
{
    public static unsafe partial class Proc
    {
        [DllImport("*", EntryPoint = "kcs_proc_create"), SuppressGCTransition]
        private static extern ProcDirEntry* KcsProcCreate(byte* name, int nameLength, ushort mode);

        [DllImport("*", EntryPoint = "kcs_proc_create_single"), SuppressGCTransition]
        private static extern ProcDirEntry* KcsProcCreateSingle(byte* name, int nameLength, ushort mode);

        [DllImport("*", EntryPoint = "kcs_proc_remove"), SuppressGCTransition]
        private static extern void KcsProcRemove(ProcDirEntry* entry);

        [DllImport("*", EntryPoint = "kcs_seq_write"), SuppressGCTransition]
        private static extern void KcsSeqWrite(SeqFile* m, byte* data, int length);

        public static partial ProcDirEntry* Create(System.ReadOnlySpan<byte> name, ushort mode)
        {
            fixed (byte* n = name)
                return KcsProcCreate(n, name.Length, mode);
        }

        public static partial ProcDirEntry* CreateSingle(System.ReadOnlySpan<byte> name, ushort mode)
        {
            fixed (byte* n = name)
                return KcsProcCreateSingle(n, name.Length, mode);
        }

        public static partial void Remove(ProcDirEntry* entry) => KcsProcRemove(entry);

        public static partial void SeqWrite(SeqFile* m, byte* data, int length) => KcsSeqWrite(m, data, length);
    }

    public static unsafe partial class Uaccess
    {
        [DllImport("*", EntryPoint = "kcs_copy_from_user"), SuppressGCTransition]
        private static extern nuint KcsCopyFromUser(void* to, void* from, nuint n);

        public static partial nuint CopyFromUser(void* to, void* from, nuint n) => KcsCopyFromUser(to, from, n);
    }

    public static unsafe partial class Sync
    {
        [DllImport("*", EntryPoint = "kcs_raw_spin_lock_create"), SuppressGCTransition]
        private static extern RawSpinlockT* KcsRawSpinLockCreate();

        [DllImport("*", EntryPoint = "kcs_raw_spin_lock_destroy"), SuppressGCTransition]
        private static extern void KcsRawSpinLockDestroy(RawSpinlockT* lockp);

        [DllImport("*", EntryPoint = "kcs_raw_spin_lock"), SuppressGCTransition]
        private static extern void KcsRawSpinLock(RawSpinlockT* lockp);

        [DllImport("*", EntryPoint = "kcs_raw_spin_unlock"), SuppressGCTransition]
        private static extern void KcsRawSpinUnlock(RawSpinlockT* lockp);

        [DllImport("*", EntryPoint = "kcs_atomic_cmpxchg"), SuppressGCTransition]
        private static extern int KcsAtomicCmpxchg(int* v, int expected, int value);

        [DllImport("*", EntryPoint = "kcs_atomic_set_release"), SuppressGCTransition]
        private static extern void KcsAtomicSetRelease(int* v, int value);

        public static partial RawSpinlockT* RawSpinLockCreate() => KcsRawSpinLockCreate();

        public static partial void RawSpinLockDestroy(RawSpinlockT* lockp) => KcsRawSpinLockDestroy(lockp);

        public static partial void RawSpinLock(RawSpinlockT* lockp) => KcsRawSpinLock(lockp);

        public static partial void RawSpinUnlock(RawSpinlockT* lockp) => KcsRawSpinUnlock(lockp);

        public static partial int AtomicCmpxchg(int* v, int expected, int value) => KcsAtomicCmpxchg(v, expected, value);

        public static partial void AtomicSetRelease(int* v, int value) => KcsAtomicSetRelease(v, value);
    }
}
