// SPDX-License-Identifier: MIT OR GPL-2.0-only

using System;
using System.Linq;
using Xunit;
using SimpleCache.Model;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;

namespace SimpleCache.Model.Tests
{
    /// <summary>Shared helpers: a fresh kernel per test, the module image, log lines.</summary>
    internal static class K
    {
        public static ModelKernel Boot(KernelVersion version = KernelVersion.V6_12, int cpus = 2, string slubDebug = null, int memoryMiB = 64, bool bugOnDataCorruption = true) =>
            new ModelKernel(new KernelOptions { Version = version, Cpus = cpus, SlubDebug = slubDebug, MemoryMiB = memoryMiB, ManualClock = true, BugOnDataCorruption = bugOnDataCorruption }).Enter();

        public static ModuleImage SimpleCache => ModuleImage.FromAssembly(typeof(global::SimpleCache.SimpleCacheModule).Assembly);

        /// <summary>The module's own lines ("CACHE: ...") since the last call, clearing the log.</summary>
        public static string[] CacheLines(ModelKernel k) =>
            k.Log.ReadClear().Select(r => r.Text).Where(t => t.StartsWith("CACHE: ", StringComparison.Ordinal)).ToArray();

        public static string[] AllLines(ModelKernel k) => k.Log.Read().Select(r => r.Text).ToArray();

        /// <summary>
        /// Nothing the module allocated is left: no object of any cache is in use, and every page
        /// taken since <paramref name="freePagesBefore"/> is an empty slab that a kmalloc cache
        /// keeps for reuse (as the kernel's do; the module's lock and its write buffers come from
        /// kmalloc).
        /// </summary>
        public static void AssertNothingLeft(ModelKernel k, long freePagesBefore)
        {
            Assert.All(k.Slab.Caches, c => Assert.Equal(0, c.ObjectsInUse()));
            long keptSlabPages = k.Slab.Caches.Sum(c => c.GetSlabInfo().NumSlabs * c.GetSlabInfo().PagesPerSlab);
            Assert.Equal(freePagesBefore, k.Pages.NrFreePages + keptSlabPages);
        }
    }
}
