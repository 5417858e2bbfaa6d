// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The contract of a cache with a constructor: SLUB runs the constructor once per object, when a
// slab is made, so every free object (the next kmem_cache_alloc may hand out any of them) must
// be in the state the constructor leaves: id -1 and a list node that points at itself. These
// tests walk every free object of simple_cache, on the slabs' freelists and on the CPUs'
// freelists, after each kind of step the module takes.

using System.Linq;
using SimpleCache.Model;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public unsafe class ConstructedStateTests
    {
        /// <summary>Every free object of simple_cache is constructed, and free plus live objects are all the cache's objects.</summary>
        private static void AssertConstructed(ModelKernel k, string step, int live)
        {
            SlabCache cache = k.Slab.Find("simple_cache");
            Assert.NotNull(cache);
            var free = cache.FreeObjects();
            foreach (nint p in free)
            {
                var obj = (global::SimpleCache.CacheObj*)p;
                Assert.True(obj->Id == -1, $"after {step}: the free object at 0x{p:x} has id {obj->Id}, not the constructor's -1");
                Assert.True(obj->List.Next == &obj->List && obj->List.Prev == &obj->List,
                    $"after {step}: the free object at 0x{p:x} has a list node that does not point at itself");
            }
            Assert.True(free.Distinct().Count() == free.Count, $"after {step}: an object is free twice");
            Assert.Equal(cache.GetSlabInfo().NumObjs, free.Count + live);
        }

        private static int Rows(ModelKernel k) =>
            k.Fs.Read("/proc/simple_cache", out _).Split('\n').Count(l => l.Length > 0 && char.IsDigit(l[0]));

        private static void Write(ModelKernel k, string command, int errno = 0) =>
            Assert.Equal(-errno, k.Fs.Write("/proc/simple_cache", command));

        [Theory]
        [InlineData(KernelVersion.V6_1, 1)]
        [InlineData(KernelVersion.V6_12, 2)]
        public void FreeObjectsAreInTheConstructorsStateAfterEveryStep(KernelVersion version, int cpus)
        {
            using var k = K.Boot(version, cpus);
            // fail_nth=7: the cache, alpha, beta, the lock and the two files are allocations 1 to 6;
            // the first object added through /proc is the 7th and fails.
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, "fail_nth=7"));
            AssertConstructed(k, "load", 2);
            Write(k, "add gamma", global::Kernel.Errno.ENOMEM);
            AssertConstructed(k, "a failed add (ENOMEM)", 2);
            Write(k, "add gamma");
            AssertConstructed(k, "add", 3);
            Write(k, "del 1");
            AssertConstructed(k, "del", 2);
            Write(k, "del 1", global::Kernel.Errno.ENOENT);
            AssertConstructed(k, "a failed del (ENOENT)", 2);
            Write(k, "rename 2 beta2");
            AssertConstructed(k, "rename", 2);
            Write(k, "add bad\u0001name", global::Kernel.Errno.EINVAL);
            AssertConstructed(k, "a failed add (EINVAL)", 2);
            for (int i = 0; i < 100; i++)   // over several slabs
                Write(k, $"add o{i}");
            AssertConstructed(k, "100 adds", 102);
            for (int id = 5; id < 105; id += 2)
                Write(k, $"del {id}");
            AssertConstructed(k, "50 dels", 52);
            Assert.Equal(52, Rows(k));
            Write(k, "clear");
            AssertConstructed(k, "clear", 0);
            Write(k, "add again");
            AssertConstructed(k, "an add after clear (a reused object)", 1);
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            Assert.Null(k.Slab.Find("simple_cache"));
        }

        [Fact]
        public void AFailedLoadLeavesNoCacheAndTheNextLoadStartsConstructed()
        {
            using var k = K.Boot();
            for (int nth = 1; nth <= 5; nth++)
            {
                Assert.Equal(-global::Kernel.Errno.ENOMEM, k.Modules.Insmod(K.SimpleCache, $"fail_nth={nth}"));
                Assert.Null(k.Slab.Find("simple_cache"));
            }
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache));
            AssertConstructed(k, "a load after five failed ones", 2);
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
        }
    }
}
