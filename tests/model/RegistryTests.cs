// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// /proc/simple_cache on the model: the same battery and concurrency checks that
// simple-cache-ctl runs in the VM (tests/registry/RegistryChecks.cs), through the model's ProcFile.

using System;
using System.Linq;
using System.Runtime.InteropServices;
using SimpleCache.Model.Fs;
using SimpleCache.Model.Mm;
using SimpleCache.Cli;
using SimpleCache.Registry;
using Xunit;
using Xunit.Abstractions;

namespace SimpleCache.Model.Tests
{
    public unsafe class RegistryTests(ITestOutputHelper output)
    {
        /// <summary>Runs registry checks on the model: none may fail, and exactly <paramref name="expectedChecks"/> must run.</summary>
        private void RunChecks(System.Func<IRegistry, System.Action<bool, string>, (int Passed, int Failed)> checks, ModelKernel k, int expectedChecks)
        {
            var failures = new System.Collections.Generic.List<string>();
            var (passed, failed) = checks(new ModelRegistry(k), (ok, what) =>
            {
                output.WriteLine($"{(ok ? "PASS" : "FAIL")} {what}");
                if (!ok) failures.Add(what);
            });
            Assert.Empty(failures);
            Assert.Equal(expectedChecks, passed + failed);
        }

        [Theory]
        [InlineData(SimpleCache.Model.Mm.KernelVersion.V6_1, null)]
        [InlineData(SimpleCache.Model.Mm.KernelVersion.V6_12, "FZPU")]
        public void TheBadInputBatteryGetsTheDocumentedErrnosAndChangesNothing(SimpleCache.Model.Mm.KernelVersion version, string slubDebug)
        {
            using var k = K.Boot(version, slubDebug: slubDebug);
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, "fail_nth=7"));
            Assert.True(RegistryChecks.BadInputs().Count() >= 40);
            // 1 check before, 2 for each of the 49 bad inputs, 2 for the good command after them.
            RunChecks(RegistryChecks.RunBattery, k, 103);
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            Assert.DoesNotContain(K.AllLines(k), l => l.Contains("BUG") || l.Contains("WARNING") || l.Contains("Objects remaining"));
            Assert.Null(k.Slab.Find("simple_cache"));
        }

        [Theory]
        [InlineData(SimpleCache.Model.Mm.KernelVersion.V6_1, null)]
        [InlineData(SimpleCache.Model.Mm.KernelVersion.V6_12, "FZPU")]
        public void ASequenceOfCommandsLeavesExactlyTheExpectedRegistryAfterEachOne(SimpleCache.Model.Mm.KernelVersion version, string slubDebug)
        {
            using var k = K.Boot(version, slubDebug: slubDebug);
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache));
            // 1 check before, then 25 commands with 2 checks each.
            RunChecks(RegistryChecks.RunSequence, k, 51);
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            Assert.Null(k.Slab.Find("simple_cache"));
        }

        [Fact]
        public void AWriteWhoseCopyCannotBeAllocatedGetsEnomemAndChangesNothing()
        {
            using var k = K.Boot();
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, ""));
            string before = RegistryText.Snapshot(k.Fs.Read("/proc/simple_cache", out _));
            // failslab on kmalloc-8 alone, once, GFP_KERNEL included: ProcWrite's copy of
            // "add x\n" (memdup_user_nul, 7 bytes) comes from kmalloc-8; the objects do not.
            k.Slab.Failslab.IgnoreGfpWait = false;
            k.Slab.Failslab.CacheFilter = true;
            k.Slab.Failslab.Probability = 100;
            k.Slab.Failslab.Times = 1;
            Assert.Equal(0, k.Fs.Write("/sys/kernel/slab/kmalloc-8/failslab", "1"));
            Assert.Equal(-global::Kernel.Errno.ENOMEM, k.Fs.Write("/proc/simple_cache", "add x"));
            Assert.Equal(before, RegistryText.Snapshot(k.Fs.Read("/proc/simple_cache", out _)));
            Assert.Equal(0, k.Fs.Write("/proc/simple_cache", "add x"));   // the one failure is spent
            Assert.Contains(" x ", k.Fs.Read("/proc/simple_cache", out _));
        }

        [Fact]
        public void TheModulesSelfCheckFindsFreeObjectsInTheConstructorsState()
        {
            using var k = K.Boot();
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, "selfcheck=1 last_id=2147483600"));
            RunChecks(RegistryChecks.RunConstructedState, k, 27);
            string[] log = K.AllLines(k);
            Assert.Equal(6, log.Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^CACHE: self-check: (\d+) free objects, \1 in the constructor's state$")));
            Assert.DoesNotContain(log, l => l.Contains("a free object has id"));
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            Assert.DoesNotContain(K.AllLines(k), l => l.Contains("Objects remaining") || l.Contains("BUG"));
        }

        [Fact]
        public void TheSelfCheckReportsAnObjectFreedOutOfTheConstructorsState()
        {
            // As a FreeObject that forgot `obj->Id = -1` would leave it: the check must fail.
            using var k = K.Boot();
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, "selfcheck=1"));
            SlabCache cache = k.Slab.Find("simple_cache");
            void* p = cache.Alloc();
            *(int*)p = 7;   // cache_obj.id
            cache.Free(p);
            Assert.Equal(-global::Kernel.Errno.EUCLEAN, k.Fs.Write("/proc/simple_cache", "check 1"));
            Assert.Contains("CACHE: self-check: a free object has id 7 and a list node that is empty, not the constructor's -1 and empty", K.AllLines(k));
            Assert.Contains("CACHE: self-check: 1 free objects, 0 in the constructor's state", K.AllLines(k));
        }

        [Fact]
        public void WhenTheIdsRunOutAnAddGetsEnospcAndIdsAreNeverReused()
        {
            using var k = K.Boot();
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, "last_id=2147483645"));
            RunChecks(RegistryChecks.RunIdsRunOut, k, 6);
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            string[] log = K.AllLines(k);
            Assert.Equal(new[] { "CACHE: freeing object 2147483646", "CACHE: cache destroyed" }, log.Where(l => l.StartsWith("CACHE: ")).TakeLast(2));
            // The object allocated for the add that got ENOSPC went back: nothing leaked (a leak
            // makes kmem_cache_destroy warn, taint the kernel with W, and drop the cache).
            Assert.DoesNotContain(log, l => l.Contains("still has objects") || l.Contains("Objects remaining"));
            Assert.DoesNotContain('W', k.Taint);
            Assert.Null(k.Slab.Find("simple_cache"));
            Assert.All(k.Slab.Caches, c => Assert.Equal(0, c.ObjectsInUse()));
        }

        [Theory]
        [InlineData("last_id=2147483647", -28, "CACHE: no id left for the next object (the last id is 2147483647), undoing")]
        [InlineData("last_id=2147483646", -28, "CACHE: no id left for the next object (the last id is 2147483647), undoing")]
        [InlineData("last_id=-1", -22, "CACHE: last_id must not be negative")]
        public void ALoadWithoutIdsLeftFailsAndLeavesNothing(string args, int errno, string message)
        {
            using var k = K.Boot();
            Assert.Equal(errno, k.Modules.Insmod(K.SimpleCache, args));
            Assert.Contains(message, K.CacheLines(k));
            Assert.Null(k.Slab.Find("simple_cache"));
            Assert.Null(k.Modules.Find("simple_cache"));
        }

        [Fact]
        public void EachCommandLogsWhatItDid()
        {
            using var k = K.Boot(cpus: 1);
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache));
            K.CacheLines(k);
            void Expect(string command, params string[] lines)
            {
                Assert.Equal(0, k.Fs.Write("/proc/simple_cache", command));
                Assert.Equal(lines, K.CacheLines(k));
            }
            Expect("add gamma", "CACHE: created object 3 gamma");
            Expect("del 1", "CACHE: freeing object 1");
            Expect("rename 2 beta2", "CACHE: renamed object 2");
            Expect("add g", "CACHE: created object 4 g");   // the shortest name there is
            Expect("clear", "CACHE: freeing object 2", "CACHE: freeing object 3", "CACHE: freeing object 4", "CACHE: cleared 3 objects");
            Assert.Equal(-global::Kernel.Errno.ENOENT, k.Fs.Write("/proc/simple_cache", "del 2"));
            Assert.Empty(K.CacheLines(k));   // a failed command logs nothing
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            Assert.Equal(new[] { "CACHE: cache destroyed" }, K.CacheLines(k));
        }

        [Fact]
        public void TwoWritersAndTwoReadersAtOnceSeeAConsistentList()
        {
            using var k = K.Boot(cpus: 2);
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache));
            RunChecks((r, report) => RegistryChecks.RunConcurrent(r, writers: 2, operations: 10000, seed: 1, report), k, 6);
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            Assert.Null(k.Slab.Find("simple_cache"));
            // The write buffers came from kmalloc: all returned (the kmalloc caches keep their
            // slabs, as the kernel's do).
            Assert.All(k.Slab.Caches, c => Assert.Equal(0, c.ObjectsInUse()));
        }

        [Fact]
        public void ReadingListsIdsNamesAndAges()
        {
            using var k = K.Boot();
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache));
            k.Clock.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal(0, k.Fs.Write("/proc/simple_cache", "add gamma"));
            string[] lines = k.Fs.Read("/proc/simple_cache", out _).Split('\n');
            Assert.Equal("objects: 3, last id: 3, cache: simple_cache, HZ: 250", lines[0]);
            Assert.Equal("id     name                            created      age_ms", lines[1]);
            Assert.Equal("1      alpha                           4294892296   2000", lines[2]);
            Assert.Equal("3      gamma                           4294892796   0", lines[4]);
            Assert.Equal(0, k.Fs.Write("/proc/simple_cache", "del 1"));
            Assert.Equal(-global::Kernel.Errno.ENOENT, k.Fs.Write("/proc/simple_cache", "del 1"));
            Assert.Equal(0, k.Fs.Write("/proc/simple_cache", "add delta"));
            Assert.Contains("4      delta ", k.Fs.Read("/proc/simple_cache", out _));   // ids are never reused
        }
    }
}
