// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/linux/uaccess.h as seen from C#: reading user memory, which may be unmapped, unreadable
// or paged out. Partial declarations: each backend implements them.

namespace Kernel
{
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
}
