// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// module/SimpleCache.cs running on the model: the brief's lines, parameters, fault injection,
// bad names, repeated loads, and nothing leaked. The same expectations hold in the real kernel
// (tests/vm/guest/module.sh); tests/vm/compare.sh diffs the two directly.

using System.Linq;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class ModuleTests
    {
        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void LoadAndUnloadLogTheBriefsLines(KernelVersion version)
        {
            using var k = K.Boot(version);
            long freeAtBoot = k.Pages.NrFreePages;
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache));
            Assert.Equal(new[] { "CACHE: created object 1 alpha", "CACHE: created object 2 beta" }, K.CacheLines(k));
            Assert.Contains("simple_cache ", Kmod.Lsmod(k.Modules));
            SlabCache cache = k.Slab.Find("simple_cache");
            Assert.NotNull(cache);
            Assert.Equal(2, cache.ObjectsInUse());
            Assert.Equal(128u, cache.Layout.Size);
            Assert.True(k.Pages.NrFreePages < freeAtBoot);

            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            Assert.Equal(new[] { "CACHE: freeing object 1", "CACHE: freeing object 2", "CACHE: cache destroyed" }, K.CacheLines(k));
            Assert.Null(k.Slab.Find("simple_cache"));
            K.AssertNothingLeft(k, freeAtBoot);
            Assert.DoesNotContain(K.AllLines(k), l => l.Contains("BUG") || l.Contains("WARNING"));
        }

        [Fact]
        public void TheConstructorRunsOncePerObjectOfEachNewSlab()
        {
            using var k = K.Boot();
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, "names=a,b,c"));
            SlabCache cache = k.Slab.Find("simple_cache");
            // Every object of every slab was constructed: id -1 in all the free ones.
            long constructedFree = 0;
            foreach (Slab slab in k.Slab.SlabsOf(cache))
                for (int i = 0; i < slab.Objects; i++)
                    unsafe
                    {
                        int id = *(int*)cache.ObjectAt(slab, i);
                        Assert.True(id == -1 || id is >= 1 and <= 3);
                        if (id == -1) constructedFree++;
                    }
            Assert.Equal(cache.GetSlabInfo().NumObjs - 3, constructedFree);
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
        }

        [Fact]
        public void CustomNamesAreCreatedAndFreedInOrder()
        {
            using var k = K.Boot();
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, "names=gamma,delta,epsilon"));
            Assert.Equal(new[] { "CACHE: created object 1 gamma", "CACHE: created object 2 delta", "CACHE: created object 3 epsilon" }, K.CacheLines(k));
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            Assert.Equal(new[] { "CACHE: freeing object 1", "CACHE: freeing object 2", "CACHE: freeing object 3", "CACHE: cache destroyed" }, K.CacheLines(k));
        }

        [Theory]
        [InlineData("names=alpha,abcdefghijklmnopqrstuvwxyz012345", "CACHE: object name 2 is 32 bytes, longer than the 31 that fit in name[32]")]
        [InlineData("names=alpha,,beta", "CACHE: object name 2 is empty")]
        [InlineData("names=,", "CACHE: object name 1 is empty")]
        [InlineData("names=\"alpha,be ta\"", "CACHE: object name 2 has a byte that is not printable (0x20)")]
        [InlineData("names=alpha,del\u007f", "CACHE: object name 2 has a byte that is not printable (0x7f)")]
        [InlineData("names=\u0001", "CACHE: object name 1 has a byte that is not printable (0x01)")]
        public void BadNamesAreRejectedWithEinvalAndNothingIsMade(string args, string message)
        {
            using var k = K.Boot();
            long free = k.Pages.NrFreePages;
            Assert.Equal(-global::Kernel.Errno.EINVAL, k.Modules.Insmod(K.SimpleCache, args));
            Assert.Equal(new[] { message }, K.CacheLines(k));
            Assert.Empty(k.Modules.Loaded);
            Assert.Null(k.Slab.Find("simple_cache"));
            K.AssertNothingLeft(k, free);
        }

        [Fact]
        public void A31ByteNameFits()
        {
            using var k = K.Boot();
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, "names=abcdefghijklmnopqrstuvwxyz01234"));
            Assert.Equal(new[] { "CACHE: created object 1 abcdefghijklmnopqrstuvwxyz01234" }, K.CacheLines(k));
        }

        [Theory]
        [InlineData("alpha,beta", 1, new string[] { "CACHE: fault injection: failing allocation 1", "CACHE: kmem_cache_create failed" })]
        [InlineData("alpha,beta", 2, new string[] { "CACHE: fault injection: failing allocation 2", "CACHE: allocation of object 1 failed, undoing", "CACHE: cache destroyed" })]
        [InlineData("alpha,beta", 3, new string[] { "CACHE: created object 1 alpha", "CACHE: fault injection: failing allocation 3", "CACHE: allocation of object 2 failed, undoing", "CACHE: freeing object 1", "CACHE: cache destroyed" })]
        [InlineData("alpha,beta", 4, new string[] { "CACHE: created object 1 alpha", "CACHE: created object 2 beta", "CACHE: fault injection: failing allocation 4", "CACHE: cannot allocate the registry's lock, undoing", "CACHE: freeing object 1", "CACHE: freeing object 2", "CACHE: cache destroyed" })]
        [InlineData("alpha,beta", 5, new string[] { "CACHE: created object 1 alpha", "CACHE: created object 2 beta", "CACHE: fault injection: failing allocation 5", "CACHE: cannot create /proc/simple_cache, undoing", "CACHE: freeing object 1", "CACHE: freeing object 2", "CACHE: cache destroyed" })]
        public void FaultInjectionAtEachAllocationUndoesEverything(string names, int nth, string[] expected)
        {
            using var k = K.Boot();
            long free = k.Pages.NrFreePages;
            Assert.Equal(-global::Kernel.Errno.ENOMEM, k.Modules.Insmod(K.SimpleCache, $"names={names} fail_nth={nth}"));
            Assert.Equal(expected, K.CacheLines(k));
            Assert.Empty(k.Modules.Loaded);
            Assert.Null(k.Slab.Find("simple_cache"));
            K.AssertNothingLeft(k, free);
            Assert.Null(k.Fs.Read("/proc/simple_cache", out _));
        }

        [Fact]
        public void FiftyCyclesLeaveNothingBehind()
        {
            using var k = K.Boot();
            long free = k.Pages.NrFreePages;
            for (int i = 0; i < 50; i++)
            {
                Assert.Equal(0, k.Modules.Insmod(K.SimpleCache));
                Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            }
            Assert.Equal(100, K.CacheLines(k).Count(l => l.StartsWith("CACHE: created object")));
            K.AssertNothingLeft(k, free);
            Assert.Empty(k.Modules.Loaded);
        }

        [Fact]
        public void EachLoadHasItsOwnStaticsSoTwoKernelsCanRunTheModule()
        {
            using var first = K.Boot();
            using var second = new ModelKernel(new KernelOptions { Cpus = 2, MemoryMiB = 16, ManualClock = true });
            Assert.Equal(0, first.Modules.Insmod(K.SimpleCache, "names=one"));
            Assert.Equal(0, second.Modules.Insmod(K.SimpleCache, "names=two,three"));
            Assert.NotSame(first.Modules.Find("simple_cache").Code, second.Modules.Find("simple_cache").Code);
            Assert.Equal(0, first.Modules.Rmmod("simple_cache"));
            Assert.Equal(new[] { "CACHE: created object 1 one", "CACHE: freeing object 1", "CACHE: cache destroyed" }, K.CacheLines(first));
            Assert.Equal(0, second.Modules.Rmmod("simple_cache"));
            Assert.Equal(new[] { "CACHE: created object 1 two", "CACHE: created object 2 three", "CACHE: freeing object 1",
                "CACHE: freeing object 2", "CACHE: cache destroyed" }, K.CacheLines(second));
        }

        [Fact]
        public void ModuleParametersFollowTheKernelsParser()
        {
            using var k = K.Boot();
            Assert.Equal(-global::Kernel.Errno.EINVAL, k.Modules.Insmod(K.SimpleCache, "fail_nth=abc"));
            Assert.Contains("simple_cache: `abc' invalid for parameter `fail_nth'", K.AllLines(k));
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, "bogus=1 fail_nth=0x0"));
            Assert.Contains("simple_cache: unknown parameter 'bogus' ignored", K.AllLines(k));
            Assert.Equal(-global::Kernel.Errno.EEXIST, k.Modules.Insmod(K.SimpleCache));
            Assert.Equal("(null)", k.Modules.Find("simple_cache").ParamValue("names"));
            Assert.Equal("0", k.Modules.Find("simple_cache").ParamValue("fail_nth"));
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            Assert.Equal(-global::Kernel.Errno.ENOENT, k.Modules.Rmmod("simple_cache"));
        }

        [Fact]
        public void FirstLoadTaintsTheKernelLikeAnUnsignedOutOfTreeModule()
        {
            using var k = K.Boot();
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache));
            string[] lines = K.AllLines(k);
            Assert.Equal("simple_cache: loading out-of-tree module taints kernel.", lines[0]);
            Assert.Equal("simple_cache: module verification failed: signature and/or required key missing - tainting kernel", lines[1]);
            // As the 6.1 VM prints it after loading simple_cache.ko.
            Assert.Equal("Tainted: G           OE     ", k.PrintTainted());
        }

        [Fact]
        public void ALeakedObjectIsReportedAndTheCacheLeakedAsIn61()
        {
            using var k = K.Boot(KernelVersion.V6_1);
            SlabCache cache = k.Slab.Create("leaky", 64, 0, CacheFlags.None, 0);
            unsafe { Assert.True(cache.Alloc() != null); }
            k.Slab.Destroy(cache, "test+0x0/0x0");
            string[] lines = K.AllLines(k);
            Assert.Contains(lines, l => l.StartsWith("BUG leaky (") && l.EndsWith("): Objects remaining in leaky on __kmem_cache_shutdown()"));
            Assert.Contains(lines, l => l.StartsWith("Object 0x") && l.Contains(" @offset="));
            Assert.Contains("kmem_cache_destroy leaky: Slab cache still has objects when called from test+0x0/0x0", lines);
            // As the 6.1 VM prints it (tests/vm/bugs.sh destroy_live), the model's code offset aside.
            Assert.Contains(lines, l => l.StartsWith("WARNING: CPU: ") && l.EndsWith(" at mm/slab_common.c:493 kmem_cache_destroy+0x0/0x0"));
            Assert.Contains("RIP: 0010:kmem_cache_destroy+0x0/0x0", lines);
            Assert.Same(cache, k.Slab.Find("leaky"));   // 6.1 keeps the leaked cache listed
            // And a cache of the same name can be made again: /sys/kernel/slab/leaky is then the new
            // one's, and /proc/slabinfo lists both, newest first (the 6.1 VM after an rmmod that
            // leaked simple_cache and an insmod: rows of 32 and of 2 active objects, sysfs's objects 32).
            SlabCache again = k.Slab.Create("leaky", 64, 0, CacheFlags.None, 0);
            Assert.NotNull(again);
            Assert.Same(again, k.Slab.Find("leaky"));
            Assert.Equal(2, k.Slab.SlabinfoText().Split('\n').Count(l => l.StartsWith("leaky ")));
        }
    }
}
