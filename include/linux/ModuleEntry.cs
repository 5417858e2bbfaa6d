// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The names of a C# module's entry points: what module_init(), module_exit(), a slab
// constructor and proc_ops are in C.
//
// A C module names its entry points with module_init()/module_exit(). A C# module marks them
// [UnmanagedCallersOnly(EntryPoint = ModuleEntry.Init)] and so on. Both backends find them by
// these names and by no other copy of them:
//  - the kernel glue (arch/kernel/glue/kcs.h declares the same symbols) calls them directly,
//    never through a function pointer, which an IBT kernel would reject;
//  - the model's module host (model/kernel/ModuleLoader.cs, model/fs/ProcEntries.cs) looks them
//    up in the module's assembly. The model library compiles this file for that (see Errno.cs).
// tests/host/abi.sh checks that kcs.h declares every name listed here.

namespace Kernel
{
    /// <summary>The symbols through which the kernel enters a C# module.</summary>
    public static class ModuleEntry
    {
        /// <summary>The <c>module_init()</c> function: <c>int init(void)</c>, 0 or a negative errno.</summary>
        public const string Init = "kcs_module_init";

        /// <summary>The <c>module_exit()</c> function: <c>void exit(void)</c>.</summary>
        public const string Exit = "kcs_module_exit";

        /// <summary>The slab constructor passed to <c>Slab.KmemCacheCreate</c>: <c>void ctor(void *obj)</c>.</summary>
        public const string SlabCtor = "kcs_slab_ctor";

        /// <summary>The proc file's open: <c>int open(int writable)</c>, 0 or a negative errno (-EBUSY...).</summary>
        public const string ProcOpen = "kcs_proc_open";

        /// <summary>The proc file's seq_file show: <c>int show(struct seq_file *m)</c>.</summary>
        public const string ProcShow = "kcs_proc_show";

        /// <summary>The proc file's write: <c>long write(const char __user *buf, size_t len)</c>: bytes consumed or a negative errno.</summary>
        public const string ProcWrite = "kcs_proc_write";

        /// <summary>The proc file's release: <c>void release(int writable)</c>.</summary>
        public const string ProcRelease = "kcs_proc_release";

        /// <summary>
        /// The show of the read-only file made by <c>Proc.CreateSingle</c> (proc_create_single()):
        /// <c>int show(struct seq_file *m)</c>.
        /// </summary>
        public const string ProcSingleShow = "kcs_proc_single_show";
    }
}
