// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/linux/proc_fs.h and seq_file.h as seen from C#: what a module needs to offer a file in
// /proc. Partial declarations: each backend implements them. Copying a writer's bytes is in
// Uaccess.cs, the locks that keep the data consistent in Sync.cs.
//
// A module has at most one proc file here. Its callbacks are the module's methods exported
// under the names in ModuleEntry (ProcOpen, ProcShow, ProcWrite, ProcRelease): the kernel glue
// calls them directly, as it calls module_init.

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
