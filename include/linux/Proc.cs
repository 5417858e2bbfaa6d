// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/linux/proc_fs.h, seq_file.h, uaccess.h, spinlock.h and atomic.h as seen from C#:
// what a module needs to offer a file in /proc and keep its data consistent while several
// processes use it. Partial declarations: each backend implements them.
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

    /// <summary><c>spinlock_t</c>: opaque (its size depends on the kernel's configuration).</summary>
    public struct SpinlockT
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

    /// <summary>User memory (include/linux/uaccess.h).</summary>
    public static unsafe partial class Uaccess
    {
        /// <summary>
        /// <c>copy_from_user(to, from, n)</c>: copies from a user-space address, which may be
        /// unmapped or unreadable. May sleep (page faults): never call it holding a spinlock.
        /// </summary>
        /// <returns>The number of bytes that could NOT be copied: 0 on success.</returns>
        public static partial nuint CopyFromUser(void* to, void* from, nuint n);

        /// <summary><c>PAGE_SIZE</c>.</summary>
        public const int PageSize = 4096;
    }

    /// <summary>Spinlocks (include/linux/spinlock.h) and atomics (include/linux/atomic.h).</summary>
    public static unsafe partial class Sync
    {
        /// <summary>
        /// A new, unlocked spinlock (<c>kmalloc(sizeof(spinlock_t))</c> + <c>spin_lock_init()</c>),
        /// or null if memory ran out. May sleep.
        /// </summary>
        public static partial SpinlockT* SpinLockCreate();

        /// <summary>Frees a spinlock made by <see cref="SpinLockCreate"/>.</summary>
        public static partial void SpinLockDestroy(SpinlockT* lockp);

        /// <summary><c>spin_lock(lock)</c>: busy-waits for the lock. Nothing that may sleep until <see cref="SpinUnlock"/>.</summary>
        public static partial void SpinLock(SpinlockT* lockp);

        /// <summary><c>spin_unlock(lock)</c>.</summary>
        public static partial void SpinUnlock(SpinlockT* lockp);

        /// <summary><c>atomic_cmpxchg(v, old, new)</c>: sets *v to <paramref name="value"/> if it was <paramref name="expected"/>; returns what *v was.</summary>
        public static partial int AtomicCmpxchg(int* v, int expected, int value);

        /// <summary><c>atomic_set(v, i)</c> with release ordering (<c>atomic_set_release</c>).</summary>
        public static partial void AtomicSetRelease(int* v, int value);
    }
}
