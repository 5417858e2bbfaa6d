// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/uapi/asm-generic/errno-base.h and errno.h: the error numbers the kernel returns. Kernel
// functions return them negated (return -ENOMEM); user space sees the positive value in errno.
//
// Pure definitions, no backend: the kernel build compiles this file into the module's object, and
// the model library (model/SimpleCache.Model.csproj) compiles it once for itself and for every
// module built on the model (arch/model uses the model's copy rather than compiling its own).

namespace Kernel
{
    /// <summary>Error numbers, as in <c>include/uapi/asm-generic/errno-base.h</c> (x86-64 values).</summary>
    public static class Errno
    {
        /// <summary><c>EPERM</c>: operation not permitted.</summary>
        public const int EPERM = 1;
        /// <summary><c>ENOENT</c>: no such file or directory (no such object).</summary>
        public const int ENOENT = 2;
        /// <summary><c>EIO</c>: I/O error.</summary>
        public const int EIO = 5;
        /// <summary><c>E2BIG</c>: argument list too long.</summary>
        public const int E2BIG = 7;
        /// <summary><c>EAGAIN</c>: try again.</summary>
        public const int EAGAIN = 11;
        /// <summary><c>ENOMEM</c>: out of memory.</summary>
        public const int ENOMEM = 12;
        /// <summary><c>EFAULT</c>: bad address (a user pointer the kernel cannot read or write).</summary>
        public const int EFAULT = 14;
        /// <summary><c>EBUSY</c>: device or resource busy.</summary>
        public const int EBUSY = 16;
        /// <summary><c>EEXIST</c>: already exists.</summary>
        public const int EEXIST = 17;
        /// <summary><c>EINVAL</c>: invalid argument.</summary>
        public const int EINVAL = 22;
        /// <summary><c>ENOSPC</c>: no space left.</summary>
        public const int ENOSPC = 28;
        /// <summary><c>ERANGE</c>: result out of range.</summary>
        public const int ERANGE = 34;
        /// <summary><c>ENAMETOOLONG</c>: name too long.</summary>
        public const int ENAMETOOLONG = 36;
        /// <summary><c>EUCLEAN</c>: structure needs cleaning (a structure found corrupted).</summary>
        public const int EUCLEAN = 117;
    }
}
