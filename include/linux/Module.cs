// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/linux/module.h, moduleparam.h and jiffies.h as seen from C#.
//
// A C module names its entry points with module_init()/module_exit(). A C# module marks them
// [UnmanagedCallersOnly(EntryPoint = ModuleEntry.Init)] and so on: the kernel glue calls these
// symbols directly (never through a function pointer, which an IBT kernel would reject), and the
// model's module host finds them by the same names.

namespace Kernel
{
    /// <summary>The symbols through which the kernel enters a C# module.</summary>
    public static class ModuleEntry
    {
        /// <summary>The <c>module_init()</c> function: <c>int init(void)</c>, 0 or a negative errno.</summary>
        public const string Init = "kcs_module_init";

        /// <summary>The <c>module_exit()</c> function: <c>void exit(void)</c>.</summary>
        public const string Exit = "kcs_module_exit";

        /// <summary>The slab constructor passed to <see cref="Slab.KmemCacheCreate"/>: <c>void ctor(void *obj)</c>.</summary>
        public const string SlabCtor = "kcs_slab_ctor";

        /// <summary>The proc file's open: <c>int open(int writable)</c>, 0 or a negative errno (-EBUSY...).</summary>
        public const string ProcOpen = "kcs_proc_open";

        /// <summary>The proc file's seq_file show: <c>int show(struct seq_file *m)</c>.</summary>
        public const string ProcShow = "kcs_proc_show";

        /// <summary>The proc file's write: <c>long write(const char __user *buf, size_t len)</c>: bytes consumed or a negative errno.</summary>
        public const string ProcWrite = "kcs_proc_write";

        /// <summary>The proc file's release: <c>void release(int writable)</c>.</summary>
        public const string ProcRelease = "kcs_proc_release";
    }

    /// <summary>
    /// Module parameters (include/linux/moduleparam.h). Each one is declared with module_param()
    /// in the module's <c>.modinfo.c</c> next to its C# source, which is where modinfo reads its
    /// description; C# reads the value given to insmod by name.
    /// </summary>
    public static unsafe partial class ModuleParam
    {
        /// <summary>A <c>charp</c> parameter's value (NUL-terminated), or null when insmod did not set it.</summary>
        public static partial byte* Charp(System.ReadOnlySpan<byte> name);

        /// <summary>An <c>int</c> parameter's value (0 when insmod did not set it).</summary>
        public static partial int Int(System.ReadOnlySpan<byte> name);
    }

    /// <summary><c>jiffies</c> (include/linux/jiffies.h): the tick counter.</summary>
    public static partial class Jiffies
    {
        /// <summary>The current value of <c>jiffies</c>.</summary>
        public static partial ulong Now();

        /// <summary><c>HZ</c>: ticks per second of this kernel.</summary>
        public static partial uint Hz();
    }
}
