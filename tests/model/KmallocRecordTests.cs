// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The model's kmalloc caches against the real kernels': data/kmalloc/ holds the kmalloc-N lines
// of /proc/slabinfo (name, objsize, objperslab, pagesperslab) that tests/vm/guest/geometry.sh
// printed in Debian's 6.1 and 6.12, x86-64 and arm64, with 2 and 4 CPUs (tests/vm/geometry.sh
// fails when a VM prints anything else). Which caches exist is the architecture's: arm64's 6.1
// has no kmalloc-8 to kmalloc-96 and no kmalloc-192 (KMALLOC_MIN_SIZE is 128 there); their
// geometry follows the CPU count.

using System;
using System.IO;
using System.Linq;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class KmallocRecordTests
    {
        [Theory]
        [InlineData("x86_64", "6.1", 2)]
        [InlineData("x86_64", "6.1", 4)]
        [InlineData("x86_64", "6.12", 2)]
        [InlineData("x86_64", "6.12", 4)]
        [InlineData("arm64", "6.1", 2)]
        [InlineData("arm64", "6.1", 4)]
        [InlineData("arm64", "6.12", 2)]
        [InlineData("arm64", "6.12", 4)]
        public void TheModelHasTheKernelsKmallocCaches(string arch, string version, int cpus)
        {
            string[] record = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "data", "kmalloc", $"{arch}-{version}-{cpus}cpus.txt"))
                .Where(l => !l.StartsWith('#')).ToArray();
            using var kernel = new ModelKernel(new KernelOptions
            {
                Version = version == "6.1" ? KernelVersion.V6_1 : KernelVersion.V6_12,
                Arch = arch == "arm64" ? KernelArch.Arm64 : KernelArch.X86_64,
                Cpus = cpus,
            });
            string[] model = kernel.Slab.Caches.Where(c => (c.Layout.Flags & CacheFlags.Kmalloc) != 0)
                .Select(c => $"KMALLOC {c.Name} {c.Layout.Size} {c.Layout.ObjectsPerSlab} {c.Layout.PagesPerSlab}")
                .Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(record, model);
        }

        [Fact]
        public void Arm64s61KmallocOfFiftyBytesComesFromKmalloc128()
        {
            using var kernel = new ModelKernel(new KernelOptions { Version = KernelVersion.V6_1, Arch = KernelArch.Arm64, Cpus = 2 }).Enter();
            unsafe
            {
                void* p = kernel.Slab.Kmalloc(50);
                Assert.Equal("kmalloc-128", kernel.Slab.Pages.SlabOf(p).Cache.Name);
                kernel.Slab.Kfree(p);
            }
            Assert.Equal(128u, kernel.Slab.KmallocMinSize);
            using var x86 = new ModelKernel(new KernelOptions { Version = KernelVersion.V6_1, Cpus = 2 });
            Assert.Equal(8u, x86.Slab.KmallocMinSize);
        }
    }
}
