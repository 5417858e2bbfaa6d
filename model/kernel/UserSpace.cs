// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// User memory as the kernel sees it through copy_from_user(): each task's (Task.cs) readable
// user memory is the set of buffers it has mapped (pinned for the duration of a system call). Any other address faults, and copy_from_user() returns
// the number of bytes it could not copy, as arch/x86's does.

using System;
using System.Collections.Generic;

namespace SimpleCache.Model.Kernel
{
    /// <summary>The user address space of the calling task.</summary>
    public static unsafe class UserSpace
    {

        /// <summary>
        /// Makes [<paramref name="start"/>, +<paramref name="length"/>) readable by the kernel
        /// for the calling task until the returned scope is disposed.
        /// </summary>
        public static Mapping Map(void* start, nuint length)
        {
            ModelTask task = ModelTask.Current;
            (task.Mapped ??= new()).Add(((nint)start, (nint)length));
            return new Mapping(task, (nint)start, (nint)length);
        }

        /// <summary>An active mapping; disposing it unmaps the range.</summary>
        public readonly struct Mapping : IDisposable
        {
            private readonly ModelTask _task;
            private readonly nint _start, _length;
            internal Mapping(ModelTask task, nint start, nint length) { _task = task; _start = start; _length = length; }
            /// <summary>Unmaps the range.</summary>
            public void Dispose() => _task?.Mapped?.Remove((_start, _length));
        }

        /// <summary>
        /// <c>copy_from_user(to, from, n)</c>: copies the readable prefix of [from, from+n) and
        /// returns the number of bytes not copied (0 when all of it was readable).
        /// </summary>
        public static nuint CopyFromUser(void* to, void* from, nuint n)
        {
            nuint readable = 0;
            if (ModelTask.Current.Mapped is { } mapped)
                foreach (var (start, length) in mapped)
                {
                    long offset = (byte*)from - (byte*)start;
                    if (offset >= 0 && offset < length)
                        readable = Math.Max(readable, (nuint)Math.Min((long)n, (long)length - offset));
                }
            if (readable > 0)
                Buffer.MemoryCopy(from, to, (long)n, (long)readable);
            return n - readable;
        }
    }
}
