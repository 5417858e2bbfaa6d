// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/linux/proc_fs.h and seq_file.h as seen from C#: what a module needs to offer a file in
// /proc. Partial declarations: each backend implements them. Copying a writer's bytes is in
// Uaccess.cs, the locks that keep the data consistent in Sync.cs.
//
// A module has at most two proc files here: one made by Create, whose callbacks are the module's
// methods exported under the names in ModuleEntry (ProcOpen, ProcShow, ProcWrite, ProcRelease),
// and one read-only file made by CreateSingle, shown by ModuleEntry.ProcSingleShow. The kernel
// glue calls them directly, as it calls module_init.

namespace Kernel
{
    /// <summary><c>struct proc_dir_entry</c>: opaque.</summary>
    public struct ProcDirEntry
    {
    }

    /// <summary><c>struct seq_file</c>: opaque; what a show callback prints into.</summary>
    public struct SeqFile
    {
    }

    /// <summary>
    /// File permission bits (include/uapi/linux/stat.h), for proc files' modes. C# has no octal
    /// literals: 0644 in C# source is the decimal 644 (octal 1204), so modes are built from these,
    /// as kernel code also writes them: <c>S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH</c> is 0644.
    /// </summary>
    public static class Stat
    {
        /// <summary>00400: the owner may read.</summary>
        public const ushort S_IRUSR = 0x100;
        /// <summary>00200: the owner may write.</summary>
        public const ushort S_IWUSR = 0x80;
        /// <summary>00040: the group may read.</summary>
        public const ushort S_IRGRP = 0x20;
        /// <summary>00020: the group may write.</summary>
        public const ushort S_IWGRP = 0x10;
        /// <summary>00004: others may read.</summary>
        public const ushort S_IROTH = 0x4;
        /// <summary>00002: others may write.</summary>
        public const ushort S_IWOTH = 0x2;
    }

    /// <summary>/proc files (include/linux/proc_fs.h) and seq_file output.</summary>
    public static unsafe partial class Proc
    {
        /// <summary>
        /// <c>proc_create(name, mode, NULL, &amp;ops)</c>: creates /proc/NAME, whose operations
        /// are the module's ModuleEntry.Proc* callbacks (read through seq_file's single_open).
        /// May sleep.
        /// </summary>
        /// <returns>The entry, or null on failure.</returns>
        public static partial ProcDirEntry* Create(System.ReadOnlySpan<byte> name, ushort mode);

        /// <summary>
        /// <c>proc_create_single(name, mode, NULL, show)</c>: creates a read-only /proc/NAME whose
        /// every read prints what the module's ModuleEntry.ProcSingleShow callback prints. The
        /// mode is the file's permission (<see cref="Stat"/>): S_IRUSR alone lets only root read it. May sleep.
        /// </summary>
        /// <returns>The entry, or null on failure.</returns>
        public static partial ProcDirEntry* CreateSingle(System.ReadOnlySpan<byte> name, ushort mode);

        /// <summary><c>proc_remove(pde)</c>: removes the file and waits for calls in progress to finish. May sleep.</summary>
        public static partial void Remove(ProcDirEntry* entry);

        /// <summary><c>seq_write(m, data, len)</c>: appends bytes to what a read returns.</summary>
        public static partial void SeqWrite(SeqFile* m, byte* data, int length);

        /// <summary><c>seq_printf(m, fmt, ...)</c>: formats with <see cref="Printk.Format"/> and appends.</summary>
        public static void SeqPrintf(SeqFile* m, System.ReadOnlySpan<byte> format, PrintkArg a = default, PrintkArg b = default, PrintkArg c = default, PrintkArg d = default)
        {
            TextBuffer line = default;
            Printk.Format(ref line, format, a, b, c, d);
            SeqWrite(m, line.Bytes, line.Length);
        }
    }
}
