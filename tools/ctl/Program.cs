// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache-ctl: drive /proc/simple_cache from a shell, and check it.
//
//   simple-cache-ctl list                      print the registry
//   simple-cache-ctl add NAME                  add an object
//   simple-cache-ctl del ID                    free an object
//   simple-cache-ctl rename ID NAME            rename an object
//   simple-cache-ctl clear                     free every object
//   simple-cache-ctl write TEXT                write TEXT as it is (C escapes: \n \t \0 \xHH)
//   simple-cache-ctl write-unreadable N        write N bytes from an address the kernel cannot read
//   simple-cache-ctl battery                   the bad-input battery: one PASS/FAIL line per check
//   simple-cache-ctl sequence                  good and bad commands, the exact registry after each
//   simple-cache-ctl ids-run-out               ENOSPC (the module loaded with last_id=2147483645)
//   simple-cache-ctl constructed               free objects in the constructor's state (the module
//                                              loaded with selfcheck=1 last_id=2147483600)
//   simple-cache-ctl map [VIEW SYSFS-DIR]      where the kernel put each object, slab by slab, from
//                                              /proc/simple_cache_map and /sys/kernel/slab (root)
//   simple-cache-ctl stress [OPS] [WRITERS] [SEED] [READERS]
//                                              concurrent writers and readers (default 10000 2 1 2)
// battery, sequence, ids-run-out, constructed and stress are the registry checks of
// tests/registry/RegistryChecks.cs.
// Options: --file PATH (default /proc/simple_cache). Errors print the errno's name and text, and
// the exit status is the errno.

using System;
using System.Runtime.InteropServices;
using System.Text;
using SimpleCache.Registry;

namespace SimpleCache.Ctl
{
    internal static unsafe class Program
    {
        private static int Main(string[] args)
        {
            string file = "/proc/simple_cache";
            if (args.Length >= 2 && args[0] == "--file")
            {
                file = args[1];
                args = args[2..];
            }
            if (args is ["map"])
                return Map.Run("/proc/simple_cache_map", "/sys/kernel/slab/simple_cache");
            if (args is ["map", var view, var sysfs])   // the same from copies (tests/host/cli.sh: the model's)
                return Map.Run(view, sysfs);
            return CtlCommands.Run(new ProcRegistry(file), args, Console.Out, Console.Error);
        }
    }

    /// <summary>The registry through the real system calls (open, read, write, close, mmap).</summary>
    internal sealed unsafe class ProcRegistry(string path) : IRegistry
    {
        private const int O_RDONLY = 0, O_WRONLY = 1, PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;

        [DllImport("libc", SetLastError = true)] private static extern int open(string path, int flags);
        [DllImport("libc", SetLastError = true)] private static extern nint write(int fd, void* buf, nuint count);
        [DllImport("libc", SetLastError = true)] private static extern nint read(int fd, void* buf, nuint count);
        [DllImport("libc")] private static extern int close(int fd);
        [DllImport("libc", SetLastError = true)] private static extern void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);
        [DllImport("libc")] private static extern int mprotect(void* addr, nuint length, int prot);
        [DllImport("libc")] private static extern int munmap(void* addr, nuint length);

        private static int Errno() => Marshal.GetLastPInvokeError();

        private long WriteFrom(void* buffer, int length)
        {
            int fd = open(path, O_WRONLY);
            if (fd < 0)
                return -Errno();
            long ret = write(fd, buffer, (nuint)length);
            if (ret < 0)
                ret = -Errno();
            close(fd);
            return ret;
        }

        public long Write(ReadOnlySpan<byte> bytes)
        {
            fixed (byte* p = bytes)
                return WriteFrom(p, bytes.Length);
        }

        public long WriteUnreadable(int length)
        {
            void* page = mmap(null, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            long ret = WriteFrom(page, length);
            munmap(page, 4096);
            return ret;
        }

        public long WritePartlyReadable(int readable, int length)
        {
            byte* pages = (byte*)mmap(null, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            mprotect(pages + 4096, 4096, PROT_NONE);
            byte* start = pages + 4096 - readable;
            Encoding.ASCII.GetBytes("add ", new Span<byte>(start, readable));
            long ret = WriteFrom(start, length);
            munmap(pages, 8192);
            return ret;
        }

        public string Read()
        {
            int fd = open(path, O_RDONLY);
            if (fd < 0)
                return null;
            var text = new StringBuilder();
            byte* buffer = stackalloc byte[4096];
            nint n;
            while ((n = read(fd, buffer, 4096)) > 0)
                text.Append(Encoding.Latin1.GetString(buffer, (int)n));
            close(fd);
            return n < 0 ? null : text.ToString();
        }

        public IDisposable OpenForWriting(out int error)
        {
            int fd = open(path, O_WRONLY);
            error = fd < 0 ? -Errno() : 0;
            return new Fd(fd);
        }

        private sealed class Fd(int fd) : IDisposable
        {
            public void Dispose()
            {
                if (fd >= 0)
                    close(fd);
            }
        }
    }
}
