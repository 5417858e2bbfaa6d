// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Corruption as Debian configures it: the hardened freelist's BUG, an oops that kills the calling
// task and leaves the kernel running, the module left loading, the taint, spinlocks that can
// never be released reported (not spun on), and every bug scenario of slab_bugs.ko (the C#
// port of tests/kernel/slab_bugs.c) ending under a watchdog. The VM comparison of the same
// scenarios is tests/vm/bugs.sh.

using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using SimpleCache.Cli;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;
using Xunit;
using LogLevel = global::Kernel.LogLevel;

namespace SimpleCache.Model.Tests
{
    public class OopsTests
    {
        // Runs shell lines in a fresh session; returns the session's output.
        private static (Session Session, StringWriter Output) Shell(ModelKernel k)
        {
            var output = new StringWriter();
            return (new Session(k, output), output);
        }

        [Theory]
        [InlineData(KernelVersion.V6_1, 419, "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", "CPU: 0 PID: ")]
        [InlineData(KernelVersion.V6_12, 550, "Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", "CPU: 0 UID: 0 PID: ")]
        public void ANaiveDoubleFreeBugsKillsInsmodAndLeavesTheModuleLoading(KernelVersion version, int line, string header, string cpuLine)
        {
            using var k = K.Boot(version, cpus: 1);
            var (session, output) = Shell(k);
            Assert.Equal(139, session.Execute("insmod slab_bugs.ko bug=double_free cache=plain", echo: false));
            Assert.Equal("Segmentation fault\n", output.ToString());

            var records = k.Log.Read();
            string[] lines = records.Select(r => r.Text).ToArray();
            int at = Array.FindIndex(lines, l => l.StartsWith("bug: free A again = "));
            Assert.True(at > 0, string.Join('\n', lines));
            Assert.Equal("------------[ cut here ]------------", lines[at + 1]);
            Assert.Equal($"kernel BUG at mm/slub.c:{line}!", lines[at + 2]);
            Assert.Equal(LogLevel.Crit, records[at + 2].Level);
            Assert.Equal(header, lines[at + 3]);
            // The task line shows the taint from before this oops (no D yet) and the dying task.
            Assert.StartsWith(cpuLine, lines[at + 4]);
            Assert.Contains(" Comm: insmod Tainted: G           OE      ", lines[at + 4]);
            Assert.Contains("Modules linked in: slab_bugs(OE+)", lines);
            Assert.Equal("---[ end trace 0000000000000000 ]---", lines[^2]);
            Assert.Equal("RIP: 0010:kmem_cache_free+0x0/0x0", lines[^1]);   // oops_end()'s summary
            Assert.DoesNotContain("bug: done", lines);

            // The kernel goes on: the module is stuck loading, rmmod refuses it, the taint has D.
            output.GetStringBuilder().Clear();
            session.Execute("cat /proc/modules", echo: false);
            Assert.Matches(@"^slab_bugs \d+ 1 - Loading 0x[0-9a-f]{16} \(OE\+\)\n$", output.ToString());
            output.GetStringBuilder().Clear();
            Assert.Equal(1, session.Execute("rmmod slab_bugs", echo: false));
            Assert.Equal("rmmod: ERROR: Module slab_bugs is in use\n", output.ToString());
            output.GetStringBuilder().Clear();
            session.Execute("cat /proc/sys/kernel/tainted", echo: false);
            // taint_flags[]: D is bit 7, O bit 12, E bit 13.
            Assert.Equal($"{(1 << 7) | (1 << 12) | (1 << 13)}\n", output.ToString());
            // The cache with its one slab stays: the CPU slab counts as fully in use.
            Assert.Equal(1, k.Slab.Find("bug_plain").GetSlabInfo().NumSlabs);

            // ... and other modules still load and work, on a kernel now tainted D.
            Assert.Equal(0, session.Execute("insmod simple_cache.ko", echo: false));
            Assert.Equal(0, session.Execute("echo add gamma > /proc/simple_cache", echo: false));
            Assert.Equal(0, session.Execute("rmmod simple_cache", echo: false));
            Assert.Contains("CACHE: cache destroyed", k.Log.Read().Select(r => r.Text));
        }

        [Fact]
        public void ASecondOopsShowsTheFirstOnesTaintAndCount()
        {
            using var k = K.Boot(KernelVersion.V6_12, cpus: 1);
            var (session, _) = Shell(k);
            Assert.Equal(139, session.Execute("insmod slab_bugs.ko bug=double_free cache=plain", echo: false));
            k.Log.Clear();
            // A second module of the same name cannot load (the first is still there, loading):
            // the second oops comes from the list check instead, in a kernel module of its own.
            var killed = Assert.Throws<TaskKilledException>(() =>
            {
                unsafe
                {
                    var head = stackalloc global::Kernel.ListHead[2];
                    global::Kernel.List.Init(head);
                    global::Kernel.List.AddTail(head + 1, head);
                    global::Kernel.List.Del(head + 1);
                    global::Kernel.List.Del(head + 1);
                }
            });
            Assert.Equal(11, killed.Signal);
            string[] lines = k.Log.Read().Select(r => r.Text).ToArray();
            Assert.Contains("Oops: invalid opcode: 0000 [#2] PREEMPT SMP NOPTI", lines);
            Assert.Contains(lines, l => l.Contains(" Tainted: G      D    OE      "));
            Assert.Contains("Tainted: [D]=DIE, [O]=OOT_MODULE, [E]=UNSIGNED_MODULE", lines);
        }

        [Fact]
        public void ASpinlockTakenTwiceIsASoftLockupReportNotAHang()
        {
            using var k = K.Boot();
            var spinlock = new Spinlock();
            ModelTask me = ModelTask.Current;
            spinlock.Lock(k);
            Assert.Same(me, spinlock.Owner);
            var killed = Assert.Throws<TaskKilledException>(() => spinlock.Lock(k));
            Assert.Equal(137, killed.ExitStatus);   // SIGKILL: the model stops what the kernel would spin on
            string[] lines = k.Log.Read().Select(r => r.Text).ToArray();
            Assert.Contains(lines, l => l.StartsWith($"watchdog: BUG: soft lockup - CPU#") && l.EndsWith($"! [{me.Comm}:{me.Pid}]"));
            Assert.Contains("L", k.Taint);
        }

        [Fact]
        public void ASpinlockHeldByAnotherRunningTaskIsWaitedFor()
        {
            using var k = K.Boot();
            var spinlock = new Spinlock();
            var held = new System.Threading.ManualResetEventSlim();
            var release = new System.Threading.ManualResetEventSlim();
            var holder = Task.Run(() => ModelTask.Current.RunInKernel(() =>
            {
                spinlock.Lock(k);
                held.Set();
                release.Wait();
                spinlock.Unlock();
                return 0;
            }));
            held.Wait();
            var waiter = Task.Run(() => ModelTask.Current.RunInKernel(() => { spinlock.Lock(k); spinlock.Unlock(); return 1; }));
            Assert.False(waiter.Wait(200));   // spinning while the holder runs
            release.Set();
            Assert.Equal(1, waiter.Result);
            Assert.Equal(0, holder.Result);
            Assert.DoesNotContain(k.Log.Read(), r => r.Text.Contains("soft lockup"));
        }

        [Fact]
        public void ASpinlockLeftHeldByAReturnedSystemCallIsASoftLockupForTheNextTask()
        {
            using var k = K.Boot();
            var spinlock = new Spinlock();
            Assert.Null(OnThreadOfItsOwn(() => ModelTask.Current.RunInKernel(() => { spinlock.Lock(k); return 0; })));
            Assert.IsType<TaskKilledException>(OnThreadOfItsOwn(() => ModelTask.Current.RunInKernel(() => { spinlock.Lock(k); return 0; })));
            Assert.Contains(k.Log.Read(), r => r.Text.Contains("whose system call returned without releasing it"));
        }

        // Runs code on a new thread, which is a task of its own; returns what it threw, or null.
        private static Exception OnThreadOfItsOwn(Action code)
        {
            Exception thrown = null;
            var thread = new System.Threading.Thread(() =>
            {
                try { code(); }
                catch (Exception e) { thrown = e; }
            });
            thread.Start();
            Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
            return thrown;
        }

        public static TheoryData<string, string, string, KernelVersion> Scenarios()
        {
            var data = new TheoryData<string, string, string, KernelVersion>();
            foreach (string bug in new[] { "destroy_live", "double_free", "double_free_live", "double_free_live_head", "overflow", "use_after_free", "list_del_twice" })
                foreach (string cache in new[] { "ctor", "plain" })
                    foreach (string debug in new[] { "", "FZPU" })
                        foreach (KernelVersion version in new[] { KernelVersion.V6_1, KernelVersion.V6_12 })
                            data.Add(bug, cache, debug, version);
            return data;
        }

        [Theory]
        [MemberData(nameof(Scenarios))]
        public void EveryBugScenarioEndsUnderAWatchdog(string bug, string cache, string slubDebug, KernelVersion version)
        {
            // No model operation may hang: each scenario, then rmmod and the files a learner
            // reads next, must finish within 30 s (they take milliseconds).
            var run = Task.Run(() =>
            {
                using var k = K.Boot(version, cpus: 1, slubDebug: slubDebug == "" ? null : slubDebug);
                var (session, output) = Shell(k);
                int status = session.Execute($"insmod slab_bugs.ko bug={bug} cache={cache}", echo: false);
                session.Execute("rmmod slab_bugs", echo: false);
                session.Execute("cat /proc/slabinfo", echo: false);
                session.Execute("cat /proc/modules", echo: false);
                return (status, output.ToString());
            });
            Assert.True(run.Wait(TimeSpan.FromSeconds(30)), $"{bug} {cache} {slubDebug} {version} did not finish in 30 s");
            // Loaded, killed by a BUG (SIGSEGV) or by a page fault in the kernel (SIGKILL).
            Assert.Contains(run.Result.status, new[] { 0, 139, 137 });
        }
    }
}
