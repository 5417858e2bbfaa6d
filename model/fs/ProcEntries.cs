// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// /proc files made by modules (fs/proc/generic.c's proc_create and proc_remove, with
// seq_file's single_open for reads): an open file calls the module's open, then its show into
// a seq_file buffer on read, its write on write, and its release on close, each inside the
// module's context (ModuleHost.Call). proc_remove() waits for the calls in progress.

using System;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using SimpleCache.Model.Kernel;
using ModuleEntry = global::Kernel.ModuleEntry;

namespace SimpleCache.Model.Fs
{
    /// <summary>A /proc entry a module created (<c>struct proc_dir_entry</c>).</summary>
    public sealed unsafe class ProcEntry
    {
        private readonly object _lock = new();
        private int _inUse;
        private bool _removed;

        internal ProcEntry(string name, ushort mode, LoadedModule owner, bool single)
        {
            Name = name;
            Mode = mode;
            Owner = owner;
            Assembly code = owner.Code;
            if (single)
            {
                // proc_create_single(): seq_file's single_open with one show, nothing else.
                Show = ModuleImage.EntryPoint(code, ModuleEntry.ProcSingleShow);
            }
            else
            {
                Open = ModuleImage.EntryPoint(code, ModuleEntry.ProcOpen);
                Show = ModuleImage.EntryPoint(code, ModuleEntry.ProcShow);
                Write = ModuleImage.EntryPoint(code, ModuleEntry.ProcWrite);
                Release = ModuleImage.EntryPoint(code, ModuleEntry.ProcRelease);
            }
            Handle = Handles.Alloc(this);
        }

        /// <summary>The file's name under /proc.</summary>
        public string Name { get; }
        /// <summary>Its permission bits.</summary>
        public ushort Mode { get; }
        /// <summary>The module whose callbacks serve it.</summary>
        public LoadedModule Owner { get; }
        /// <summary>The native handle module code holds (<c>struct proc_dir_entry *</c>).</summary>
        public nint Handle { get; }
        internal nint Open { get; }
        internal nint Show { get; }
        internal nint Write { get; }
        internal nint Release { get; }

        internal bool Enter()
        {
            lock (_lock)
            {
                if (_removed)
                    return false;
                _inUse++;
                return true;
            }
        }

        internal void Exit()
        {
            lock (_lock)
            {
                _inUse--;
                Monitor.PulseAll(_lock);
            }
        }

        // proc_remove(): no new calls, then wait for those in progress.
        internal void Remove()
        {
            lock (_lock)
            {
                _removed = true;
                while (_inUse > 0)
                    Monitor.Wait(_lock);
            }
        }
    }

    /// <summary>A seq_file's buffer: what show callbacks print into.</summary>
    public sealed class SeqFileBuffer
    {
        private readonly StringBuilder _text = new();

        /// <summary><c>seq_write()</c>.</summary>
        public unsafe void Append(byte* data, int length) => _text.Append(Encoding.UTF8.GetString(data, length));

        /// <inheritdoc />
        public override string ToString() => _text.ToString();
    }

    /// <summary>An open /proc file (<c>struct file</c>), as a process holds it between open and close.</summary>
    public sealed unsafe class ProcFile : IDisposable
    {
        private readonly ModelKernel _kernel;
        private readonly ProcEntry _entry;
        private readonly bool _writable;
        private bool _closed;

        private ProcFile(ModelKernel kernel, ProcEntry entry, bool writable)
        {
            _kernel = kernel;
            _entry = entry;
            _writable = writable;
        }

        /// <summary><c>open()</c>: the module's open callback decides; null with the errno if it refuses.</summary>
        internal static ProcFile Open(ModelKernel kernel, ProcEntry entry, bool writable, out int error)
        {
            error = 0;
            if (!entry.Enter())
            {
                error = -global::Kernel.Errno.ENOENT;
                return null;
            }
            int ret = entry.Open == 0 ? 0 : kernel.Modules.Call(entry.Owner, () => ((delegate* unmanaged<int, int>)entry.Open)(writable ? 1 : 0));
            if (ret != 0)
            {
                entry.Exit();
                error = ret;
                return null;
            }
            return new ProcFile(kernel, entry, writable);
        }

        /// <summary><c>read()</c> of the whole file: the module's show callback through seq_file.</summary>
        public string Read()
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            var buffer = new SeqFileBuffer();
            nint m = Handles.Alloc(buffer);
            try
            {
                int ret = _kernel.Modules.Call(_entry.Owner, () => ((delegate* unmanaged<void*, int>)_entry.Show)((void*)m));
                return ret == 0 ? buffer.ToString() : null;
            }
            finally
            {
                Handles.Free(m);
            }
        }

        /// <summary><c>write(fd, bytes, n)</c> from a readable user buffer: bytes written or a negative errno.</summary>
        public long Write(ReadOnlySpan<byte> bytes)
        {
            fixed (byte* p = bytes)
            {
                using var mapping = UserSpace.Map(p, (nuint)bytes.Length);
                return WriteFrom(p, (nuint)bytes.Length);
            }
        }

        /// <summary>
        /// <c>write(fd, address, n)</c> with any address, mapped or not: how a test hands the
        /// kernel a buffer it cannot read (-EFAULT).
        /// </summary>
        public long WriteFrom(void* address, nuint length)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (!_writable)
                return -9;   // -EBADF: not open for writing
            if (_entry.Write == 0)
                return -global::Kernel.Errno.EIO;
            long ret = 0;
            _kernel.Modules.Call(_entry.Owner, () => { ret = ((delegate* unmanaged<void*, nuint, long>)_entry.Write)(address, length); return 0; });
            return ret;
        }

        /// <summary><c>close()</c>: the module's release callback.</summary>
        public void Dispose()
        {
            if (_closed)
                return;
            _closed = true;
            if (_entry.Release != 0)
                _kernel.Modules.Call(_entry.Owner, () => { ((delegate* unmanaged<int, void>)_entry.Release)(_writable ? 1 : 0); return 0; });
            _entry.Exit();
        }
    }
}
