// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// printk and dmesg, jiffies, lsmod, modinfo, /proc/slabinfo and the other files, and the CLI.

using System;
using System.IO;
using System.Linq;
using SimpleCache.Cli;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class KernelTests
    {
        [Fact]
        public void DmesgRendersSecondsAndMicroseconds()
        {
            Assert.Equal("[    1.234567] hello", new LogRecord(0, 1_234_567_890, global::Kernel.LogLevel.Info, "hello").Render());
            Assert.Equal("[12345.000001] x", new LogRecord(0, 12_345_000_001_000, global::Kernel.LogLevel.Info, "x").Render());
        }

        [Fact]
        public void DmesgClearAndFollow()
        {
            using var k = K.Boot();
            k.Printk(global::Kernel.LogLevel.Info, "one");
            Assert.Single(k.Log.ReadClear());
            Assert.Empty(k.Log.Read());
            k.Printk(global::Kernel.LogLevel.Info, "two\nthree\n");
            Assert.Equal(new[] { "two", "three" }, k.Log.Read().Select(r => r.Text));
            long after = (long)k.Log.Read().Last().Sequence;
            var waiter = System.Threading.Tasks.Task.Run(() => k.Log.WaitForNew(after, TimeSpan.FromSeconds(30)));
            System.Threading.Thread.Sleep(50);
            k.Printk(global::Kernel.LogLevel.Info, "four");
            Assert.Equal("four", waiter.Result.Single().Text);
        }

        [Fact]
        public void JiffiesStartFiveMinutesBeforeTheWrap()
        {
            using var k = K.Boot();
            Assert.Equal(250u, k.Clock.Hz);
            Assert.Equal(4294892296UL, k.Clock.Jiffies);   // (unsigned int)(-300 * 250)
            k.Clock.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal(4294892296UL + 500, k.Clock.Jiffies);
            k.Clock.Advance(TimeSpan.FromMinutes(5));
            Assert.True(k.Clock.Jiffies > uint.MaxValue);   // past the 32-bit wrap, as on a real boot
        }

        [Fact]
        public void SlabinfoHasTheVersion21FormatByteForByte()
        {
            using var k = K.Boot();
            string[] lines = k.Fs.Read("/proc/slabinfo", out int err).Split('\n');
            Assert.Equal(0, err);
            Assert.Equal("slabinfo - version: 2.1", lines[0]);
            Assert.Equal("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>", lines[1]);
            // The kernel's own line for a cache of this shape (dentry, from slab-facts):
            Assert.Equal("dentry            1000729 1295994    192   21    1 : tunables    0    0    0 : slabdata  61714  61714      0",
                SlabAllocator.FormatSlabinfoLine(new SlabInfo("dentry", 1000729, 1295994, 192, 21, 1, 61714, 61714)));
            Assert.Contains(lines, l => l.StartsWith("kmalloc-64 "));
        }

        [Fact]
        public void LsmodAndModinfoLookLikeKmods()
        {
            using var k = K.Boot();
            Assert.Equal("Module                  Size  Used by\n", Kmod.Lsmod(k.Modules));
            k.Modules.Insmod(K.SimpleCache);
            string row = Kmod.Lsmod(k.Modules).Split('\n')[1];
            Assert.Matches(@"^simple_cache\s{7,}\d+  0$", row);
            string info = Kmod.Modinfo(K.SimpleCache, "simple_cache.ko");
            Assert.Contains("license:        Dual MIT/GPL\n", info);
            Assert.Contains("parm:           fail_nth:Fault injection: make the Nth allocation of the module fail (1 = the cache, 2 = the first object, ...; 0 = none) (int)\n", info);
            Assert.Equal("0\n", k.Fs.Read("/sys/module/simple_cache/parameters/fail_nth", out _));
        }

        [Fact]
        public void SysfsShowsTheCacheAndTakesWrites()
        {
            using var k = K.Boot();
            k.Modules.Insmod(K.SimpleCache);
            Assert.Equal("64\n", k.Fs.Read("/sys/kernel/slab/simple_cache/object_size", out _));
            Assert.Equal("128\n", k.Fs.Read("/sys/kernel/slab/simple_cache/slab_size", out _));
            Assert.Equal("32\n", k.Fs.Read("/sys/kernel/slab/simple_cache/objs_per_slab", out _));
            Assert.Equal("64\n", k.Fs.Read("/sys/kernel/slab/simple_cache/align", out _));
            // validate_store() takes only debug caches (6.0's "mm/slub: restrict sysfs validation to debug caches").
            Assert.Equal(-global::Kernel.Errno.EINVAL, k.Fs.Write("/sys/kernel/slab/simple_cache/validate", "1"));
            Assert.Equal(-global::Kernel.Errno.EINVAL, k.Fs.Write("/sys/kernel/debug/failslab/probability", "101"));
            Assert.Equal(0, k.Fs.Write("/sys/kernel/debug/failslab/probability", "10"));
            Assert.Equal("10\n", k.Fs.Read("/sys/kernel/debug/failslab/probability", out _));
            Assert.Null(k.Fs.Read("/sys/kernel/slab/nosuch/order", out int err));
            Assert.Equal(-global::Kernel.Errno.ENOENT, err);
        }

        [Fact]
        public void ValidateTakesADebugCache()
        {
            using var k = K.Boot(slubDebug: "F");
            k.Modules.Insmod(K.SimpleCache);
            Assert.Equal(0, k.Fs.Write("/sys/kernel/slab/simple_cache/validate", "1"));
            Assert.Equal(-global::Kernel.Errno.EINVAL, k.Fs.Write("/sys/kernel/slab/simple_cache/validate", "2"));
        }

        [Fact]
        public void TheCliRunsTheBriefsSession()
        {
            using var k = K.Boot();
            var output = new StringWriter();
            var session = new Session(k, output);
            foreach (string line in Session.BriefScript)
                session.Execute(line, echo: true);
            Assert.Equal(1, session.Execute("insmod simple_cache.ko fail_nth=2", echo: true));
            Assert.Equal(1, session.Execute("rmmod simple_cache", echo: true));
            string text = output.ToString();
            Assert.Contains("\n$ insmod simple_cache.ko\n", text);
            Assert.Contains("] CACHE: created object 1 alpha\n", text);
            Assert.Contains("] CACHE: cache destroyed\n", text);
            Assert.Contains("\nsimple_cache          ", text);
            Assert.Contains("insmod: ERROR: could not insert module simple_cache.ko: Cannot allocate memory\n", text);
            Assert.Contains("rmmod: ERROR: Module simple_cache is not currently loaded\n", text);
        }
        [Fact]
        public void EveryCommandTheHelpNamesExists()
        {
            using var k = K.Boot();
            var output = new StringWriter();
            var session = new Session(k, output);
            var words = Session.Commands.Select(c => c.Name).ToList();
            Assert.Equal(["insmod", "rmmod", "lsmod", "modinfo", "dmesg", "cat", "ls", "grep", "echo", "taskset", "for", "slabs", "layout", "slabtop", "simple-cache-ctl"], words);
            Assert.All(Session.Commands, c => Assert.Contains(c.Usage, Session.Help));
            foreach (string word in words)
            {
                output.GetStringBuilder().Clear();
                session.Execute(word, echo: false);
                Assert.DoesNotContain("not found", output.ToString());
            }
            output.GetStringBuilder().Clear();
            Assert.Equal(127, session.Execute("slabinfo", echo: false));
            Assert.Contains("sh: slabinfo: not found (try help)", output.ToString());
        }
        [Fact]
        public void TasksetRunsACommandOnOneCpuAndForLoopsOverSeq()
        {
            using var k = K.Boot(cpus: 2);
            var output = new StringWriter();
            var session = new Session(k, output);
            Assert.Equal(0, session.Execute("taskset -c 0 insmod simple_cache.ko", echo: false));
            Assert.Equal(0, session.Execute("for i in $(seq 1 40); do taskset -c 0 echo add o$i > /proc/simple_cache; done", echo: false));
            Assert.Equal(0, session.Execute("for i in $(seq 3 2 7); do taskset -c 1 echo del $i > /proc/simple_cache; done", echo: false));
            Assert.Contains("objects: 39, last id: 42,", k.Fs.Read("/proc/simple_cache", out _));   // ids 3, 5 and 7 are gone
            // The first slab (ids 1 to 32) was full; CPU 1's frees put it on CPU 1's partial list.
            Assert.Equal("16(1) C1=16(1)\n", k.Fs.Read("/sys/kernel/slab/simple_cache/slabs_cpu_partial", out _));
            Assert.Equal(1, session.Execute("taskset -c 2 lsmod", echo: false));
            Assert.Contains("taskset: can't set pid 0's affinity: Invalid argument", output.ToString());
            Assert.Equal(2, session.Execute("for i in 1 2 3; do lsmod; done", echo: false));
        }

        [Theory]
        [InlineData(KernelVersion.V6_1, null, "120", false)]
        [InlineData(KernelVersion.V6_12, null, "120", true)]
        [InlineData(KernelVersion.V6_12, "FZPU", "0", true)]
        public void SimpleCachesSysfsAttributesAreTheKernels(KernelVersion version, string slubDebug, string cpuPartial, bool skipKfence)
        {
            // Read off /sys/kernel/slab/simple_cache in the VM right after insmod (Debian 6.1.0-56
            // and 6.12.117, booted plain and with slub_debug=FZPU); tests/vm/module.sh compares
            // every attribute on every make test.
            using var k = K.Boot(version, cpus: 1, slubDebug: slubDebug);
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache));
            string Attr(string name) => k.Fs.Read($"/sys/kernel/slab/simple_cache/{name}", out _)?.TrimEnd('\n');
            Assert.Equal("0", Attr("aliases"));
            Assert.Equal("0", Attr("cache_dma"));
            Assert.Equal(cpuPartial, Attr("cpu_partial"));
            Assert.Equal("1", Attr("hwcache_align"));
            Assert.Equal("0", Attr("destroy_by_rcu"));
            Assert.Equal("0", Attr("reclaim_account"));
            Assert.Equal("100", Attr("remote_node_defrag_ratio"));
            Assert.Equal("0", Attr("usersize"));
            Assert.Equal("0(0)", Attr("slabs_cpu_partial"));
            Assert.Equal(skipKfence ? "0" : null, Attr("skip_kfence"));
            Assert.Equal(skipKfence, k.Fs.Read("/sys/kernel/slab/simple_cache", out _).Split('\n').Contains("skip_kfence"));
        }
    }
}
