// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// /proc/simple_cache of a model kernel as simple-cache-ctl sees the real one (IRegistry of
// tests/registry/RegistryChecks.cs): open, write, read and close through the model's ProcFile.
// The shell's simple-cache-ctl command and the model's tests (RegistryTests) use it.

using System;
using System.Runtime.InteropServices;
using SimpleCache.Model;
using SimpleCache.Model.Fs;
using SimpleCache.Registry;

namespace SimpleCache.Cli
{
    /// <summary>IRegistry on the model.</summary>
    public sealed unsafe class ModelRegistry(ModelKernel kernel, string path = "/proc/simple_cache") : IRegistry
    {
        /// <inheritdoc/>
        public long Write(ReadOnlySpan<byte> bytes)
        {
            using ProcFile file = kernel.Fs.Open(path, write: true, out int error);
            return file == null ? error : file.Write(bytes);
        }

        /// <inheritdoc/>
        public long WriteUnreadable(int length)
        {
            using ProcFile file = kernel.Fs.Open(path, write: true, out int error);
            return file == null ? error : file.WriteFrom((void*)0x1000, (nuint)length);   // nothing is mapped there
        }

        /// <inheritdoc/>
        public long WritePartlyReadable(int readable, int length)
        {
            using ProcFile file = kernel.Fs.Open(path, write: true, out int error);
            if (file == null)
                return error;
            byte* buffer = (byte*)NativeMemory.Alloc((nuint)length);
            try
            {
                using var mapping = SimpleCache.Model.Kernel.UserSpace.Map(buffer, (nuint)readable);
                return file.WriteFrom(buffer, (nuint)length);
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }

        /// <inheritdoc/>
        public string Read() => kernel.Fs.Read(path, out _);

        /// <inheritdoc/>
        public IDisposable OpenForWriting(out int error) => kernel.Fs.Open(path, write: true, out error) ?? (IDisposable)new Nothing();

        private sealed class Nothing : IDisposable
        {
            public void Dispose() { }
        }
    }
}
