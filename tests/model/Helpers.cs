// SPDX-License-Identifier: MIT OR GPL-2.0-only

using System;
using System.Linq;
using SimpleCache.Model;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;

namespace SimpleCache.Model.Tests
{
    /// <summary>Shared helpers: a fresh kernel per test, the module image, log lines.</summary>
    internal static class K
    {
        public static ModelKernel Boot(KernelVersion version = KernelVersion.V6_12, int cpus = 2, string slubDebug = null, int memoryMiB = 64) =>
            new ModelKernel(new KernelOptions { Version = version, Cpus = cpus, SlubDebug = slubDebug, MemoryMiB = memoryMiB, ManualClock = true }).Enter();

        public static ModuleImage SimpleCache => ModuleImage.FromAssembly(typeof(global::SimpleCache.SimpleCacheModule).Assembly);

        /// <summary>The module's own lines ("CACHE: ...") since the last call, clearing the log.</summary>
        public static string[] CacheLines(ModelKernel k) =>
            k.Log.ReadClear().Select(r => r.Text).Where(t => t.StartsWith("CACHE: ", StringComparison.Ordinal)).ToArray();

        public static string[] AllLines(ModelKernel k) => k.Log.Read().Select(r => r.Text).ToArray();
    }
}
