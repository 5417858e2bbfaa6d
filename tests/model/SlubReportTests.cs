// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// slub_debug's reports and the destroy-with-live-objects report, line for line with their log
// levels, as Debian's 6.1.0-56 and 6.12.117 kernels print them. The expected text of each test is
// the VM's own `dmesg -c -t -x` for the same slab_bugs.ko scenario (tests/vm/bugs.sh, console
// logs of 2026-11-27), normalised as bugs.sh does: addresses, pids, the release, the hardware and
// code offsets put aside, the register dumps and call traces left out (the model has none), and
// "@offset=" kept inside the object's slot (the slot is random: CONFIG_SLAB_FREELIST_RANDOM).

using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using SimpleCache.Cli;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class SlubReportTests
    {
        // insmod slab_bugs.ko bug=BUG cache=CACHE on a one-CPU kernel; returns the normalised
        // output of `dmesg -c -t -x` after it, and the session for more commands.
        private static (string Dmesg, Session Session, StringWriter Output) Run(ModelKernel k, string bug, string cache, int slot)
        {
            var output = new StringWriter();
            var session = new Session(k, output);
            Assert.Equal(0, session.Execute($"insmod slab_bugs.ko bug={bug} cache={cache}", echo: false));
            output.GetStringBuilder().Clear();
            session.Execute("dmesg -c -t -x", echo: false);
            string text = Normalise(output.ToString(), slot);
            output.GetStringBuilder().Clear();
            return (text, session, output);
        }

        // tests/vm/bugs.sh's normalise(), for what the model prints (no register dumps or call
        // traces to drop; the stack depot's frames after "Allocated in"/"Freed in" are dropped).
        private static string Normalise(string text, int slot)
        {
            var kept = new System.Collections.Generic.List<string>();
            bool depot = false;
            foreach (string line in text.Split('\n'))
            {
                if (depot && line.StartsWith("kern  :warn  :  ", StringComparison.Ordinal))
                    continue;
                depot = Regex.IsMatch(line, ": (Allocated|Freed) in ");
                kept.Add(line);
            }
            text = string.Join('\n', kept);
            text = Regex.Replace(text, @"\b(0x)?[0-9a-f]{16}\b", "<addr>");
            text = Regex.Replace(text, @" PID: [0-9]+ ", " PID: <pid> ");
            text = Regex.Replace(text, @"(Comm: [^ ]+ Tainted: .{19}) .*", "$1 <release>");
            text = Regex.Replace(text, @"Hardware name: .*", "Hardware name: <hardware>");
            text = Regex.Replace(text, @"\+0x[0-9a-f]+/0x[0-9a-f]+", "+<offset>");
            text = Regex.Replace(text, @" (age|pid)=[0-9]+", " $1=<n>");
            text = Regex.Replace(text, @"@offset=([0-9]+)", m => $"@offset=<slot>+{long.Parse(m.Groups[1].Value) % slot}");
            return text;
        }

        private static string Slabinfo(Session session, StringWriter output)
        {
            session.Execute("cat /proc/slabinfo", echo: false);
            string row = output.ToString().Split('\n').FirstOrDefault(l => l.StartsWith("bug_", StringComparison.Ordinal));
            output.GetStringBuilder().Clear();
            return row;
        }

        private const string Load = """
            kern  :warn  : slab_bugs: loading out-of-tree module taints kernel.
            kern  :notice: slab_bugs: module verification failed: signature and/or required key missing - tainting kernel

            """;

        [Fact]
        public void V61DestroyWithALiveObjectDumpsTheStackBeforeTheObjectsAndKeepsTheCache()
        {
            using var k = K.Boot(KernelVersion.V6_1, cpus: 1);
            var (dmesg, session, output) = Run(k, "destroy_live", "ctor", 128);
            Assert.Equal(Load + """
                kern  :info  : bug: start destroy_live ctor
                kern  :info  : bug: cache bug_ctor object_size 64
                kern  :info  : bug: alloc A = <addr>
                kern  :info  : bug: alloc B = <addr>
                kern  :info  : bug: free B = <addr>
                kern  :info  : bug: kmem_cache_destroy bug_ctor
                kern  :err   : =============================================================================
                kern  :err   : BUG bug_ctor (Tainted: G           OE     ): Objects remaining in bug_ctor on __kmem_cache_shutdown()
                kern  :err   : -----------------------------------------------------------------------------

                kern  :err   : Slab <addr> objects=32 used=1 fp=<addr> flags=0xfffffc0000200(slab|node=0|zone=1|lastcpupid=0x1fffff)
                kern  :warn  : CPU: 0 PID: <pid> Comm: insmod Tainted: G           OE      <release>
                kern  :warn  : Hardware name: <hardware>
                kern  :warn  : Disabling lock debugging due to kernel taint
                kern  :err   : Object <addr> @offset=<slot>+0
                kern  :warn  : ------------[ cut here ]------------
                kern  :warn  : kmem_cache_destroy bug_ctor: Slab cache still has objects when called from destroy_cache+<offset> [slab_bugs]
                kern  :warn  : WARNING: CPU: 0 PID: <pid> at mm/slab_common.c:493 kmem_cache_destroy+<offset>
                kern  :warn  : Modules linked in: slab_bugs(OE+)
                kern  :warn  : CPU: 0 PID: <pid> Comm: insmod Tainted: G    B      OE      <release>
                kern  :warn  : Hardware name: <hardware>
                kern  :warn  : RIP: 0010:kmem_cache_destroy+<offset>
                kern  :warn  : ---[ end trace <addr> ]---
                kern  :info  : bug: done

                """, dmesg);
            Assert.Equal(12832, k.TaintMask);
            Assert.Equal("bug_ctor               1     32    128   32    1 : tunables    0    0    0 : slabdata      1      1      0", Slabinfo(session, output));
        }

        [Fact]
        public void V612DestroyWithALiveObjectWarnsTwiceAndUnlinksTheCache()
        {
            using var k = K.Boot(KernelVersion.V6_12, cpus: 1);
            var (dmesg, session, output) = Run(k, "destroy_live", "ctor", 128);
            // The 6.12 build of slab_bugs.ko inlines destroy_cache() into slab_bugs_init(), so
            // the VM names slab_bugs_init where the model names destroy_cache.
            Assert.Equal(Load + """
                kern  :info  : bug: start destroy_live ctor
                kern  :info  : bug: cache bug_ctor object_size 64
                kern  :info  : bug: alloc A = <addr>
                kern  :info  : bug: alloc B = <addr>
                kern  :info  : bug: free B = <addr>
                kern  :info  : bug: kmem_cache_destroy bug_ctor
                kern  :err   : =============================================================================
                kern  :err   : BUG bug_ctor (Tainted: G           OE     ): Objects remaining on __kmem_cache_shutdown()
                kern  :err   : -----------------------------------------------------------------------------

                kern  :err   : Object <addr> @offset=<slot>+0
                kern  :err   : Slab <addr> objects=32 used=1 fp=<addr> flags=0xfffffc0000200(workingset|node=0|zone=1|lastcpupid=0x1fffff)
                kern  :warn  : Disabling lock debugging due to kernel taint
                kern  :warn  : ------------[ cut here ]------------
                kern  :warn  : WARNING: CPU: 0 PID: <pid> at mm/slub.c:1152 __kmem_cache_shutdown+<offset>
                kern  :warn  : Modules linked in: slab_bugs(OE+)
                kern  :warn  : CPU: 0 UID: 0 PID: <pid> Comm: insmod Tainted: G    B      OE      <release>
                kern  :warn  : Tainted: [B]=BAD_PAGE, [O]=OOT_MODULE, [E]=UNSIGNED_MODULE
                kern  :warn  : Hardware name: <hardware>
                kern  :warn  : RIP: 0010:__kmem_cache_shutdown+<offset>
                kern  :warn  : ---[ end trace <addr> ]---
                kern  :warn  : ------------[ cut here ]------------
                kern  :warn  : kmem_cache_destroy bug_ctor: Slab cache still has objects when called from destroy_cache+<offset> [slab_bugs]
                kern  :warn  : WARNING: CPU: 0 PID: <pid> at mm/slab_common.c:548 kmem_cache_destroy+<offset>
                kern  :warn  : Modules linked in: slab_bugs(OE+)
                kern  :warn  : CPU: 0 UID: 0 PID: <pid> Comm: insmod Tainted: G    B   W  OE      <release>
                kern  :warn  : Tainted: [B]=BAD_PAGE, [W]=WARN, [O]=OOT_MODULE, [E]=UNSIGNED_MODULE
                kern  :warn  : Hardware name: <hardware>
                kern  :warn  : RIP: 0010:kmem_cache_destroy+<offset>
                kern  :warn  : ---[ end trace <addr> ]---
                kern  :info  : bug: done

                """, dmesg);
            Assert.Equal(12832, k.TaintMask);
            Assert.Null(Slabinfo(session, output));
        }

        [Fact]
        public void V61DoubleFreeUnderSlubDebugDumpsTheStackAndDoesNotWarn()
        {
            using var k = K.Boot(KernelVersion.V6_1, cpus: 1, slubDebug: "FZPU");
            var (dmesg, _, _) = Run(k, "double_free", "ctor", 256);
            // The format "Slab has %d allocated objects but %d are to be freed\n" ends with its
            // own newline: an empty line after the BUG line.
            Assert.Equal(Load + """
                kern  :info  : bug: start double_free ctor
                kern  :info  : bug: cache bug_ctor object_size 64
                kern  :info  : bug: alloc A = <addr>
                kern  :info  : bug: free A = <addr>
                kern  :info  : bug: free A again = <addr>
                kern  :err   : =============================================================================
                kern  :err   : BUG bug_ctor (Tainted: G           OE     ): Slab has 0 allocated objects but 1 are to be freed

                kern  :err   : -----------------------------------------------------------------------------

                kern  :err   : Slab <addr> objects=16 used=0 fp=<addr> flags=0xfffffc0000200(slab|node=0|zone=1|lastcpupid=0x1fffff)
                kern  :warn  : CPU: 0 PID: <pid> Comm: insmod Tainted: G           OE      <release>
                kern  :warn  : Hardware name: <hardware>
                kern  :warn  : Disabling lock debugging due to kernel taint
                kern  :err   : FIX bug_ctor: Object at <addr> not freed
                kern  :info  : bug: kmem_cache_destroy bug_ctor
                kern  :info  : bug: done

                """, dmesg);
            Assert.Equal(12320, k.TaintMask);   // B, O, E: no W
        }

        [Fact]
        public void V61OverflowTitlesTheReportWithTheAreaAndDumpsTheStack()
        {
            using var k = K.Boot(KernelVersion.V6_1, cpus: 1, slubDebug: "FZPU");
            var (dmesg, session, output) = Run(k, "overflow", "plain", 160);
            Assert.Equal(Load + """
                kern  :info  : bug: start overflow plain
                kern  :info  : bug: cache bug_plain object_size 64
                kern  :info  : bug: alloc A = <addr>
                kern  :info  : bug: write 0x41 at A + 64
                kern  :info  : bug: free A = <addr>
                kern  :err   : =============================================================================
                kern  :err   : BUG bug_plain (Tainted: G           OE     ): Right Redzone overwritten
                kern  :err   : -----------------------------------------------------------------------------

                kern  :err   : <addr>-<addr> @offset=<slot>+72. First byte 0x41 instead of 0xcc
                kern  :err   : Allocated in alloc_one+<offset> [slab_bugs] age=<n> cpu=0 pid=<n>
                kern  :err   : Slab <addr> objects=25 used=1 fp=<addr> flags=0xfffffc0000200(slab|node=0|zone=1|lastcpupid=0x1fffff)
                kern  :err   : Object <addr> @offset=<slot>+8 fp=<addr>

                kern  :err   : Redzone  <addr>: cc cc cc cc cc cc cc cc                          ........
                kern  :err   : Object   <addr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk
                kern  :err   : Object   <addr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk
                kern  :err   : Object   <addr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk
                kern  :err   : Object   <addr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.
                kern  :err   : Redzone  <addr>: 41 cc cc cc cc cc cc cc                          A.......
                kern  :err   : Padding  <addr>: 5a 5a 5a 5a 5a 5a 5a 5a                          ZZZZZZZZ
                kern  :warn  : CPU: 0 PID: <pid> Comm: insmod Tainted: G           OE      <release>
                kern  :warn  : Hardware name: <hardware>
                kern  :warn  : Disabling lock debugging due to kernel taint
                kern  :err   : FIX bug_plain: Restoring Right Redzone <addr>-<addr>=0xcc
                kern  :err   : FIX bug_plain: Object at <addr> not freed
                kern  :info  : bug: kmem_cache_destroy bug_plain
                kern  :err   : =============================================================================
                kern  :err   : BUG bug_plain (Tainted: G    B      OE     ): Objects remaining in bug_plain on __kmem_cache_shutdown()
                kern  :err   : -----------------------------------------------------------------------------

                kern  :err   : Slab <addr> objects=25 used=1 fp=<addr> flags=0xfffffc0000200(slab|node=0|zone=1|lastcpupid=0x1fffff)
                kern  :warn  : CPU: 0 PID: <pid> Comm: insmod Tainted: G    B      OE      <release>
                kern  :warn  : Hardware name: <hardware>
                kern  :err   : Object <addr> @offset=<slot>+8
                kern  :err   : Allocated in alloc_one+<offset> [slab_bugs] age=<n> cpu=0 pid=<n>
                kern  :warn  : ------------[ cut here ]------------
                kern  :warn  : kmem_cache_destroy bug_plain: Slab cache still has objects when called from destroy_cache+<offset> [slab_bugs]
                kern  :warn  : WARNING: CPU: 0 PID: <pid> at mm/slab_common.c:493 kmem_cache_destroy+<offset>
                kern  :warn  : Modules linked in: slab_bugs(OE+)
                kern  :warn  : CPU: 0 PID: <pid> Comm: insmod Tainted: G    B      OE      <release>
                kern  :warn  : Hardware name: <hardware>
                kern  :warn  : RIP: 0010:kmem_cache_destroy+<offset>
                kern  :warn  : ---[ end trace <addr> ]---
                kern  :info  : bug: done

                """, dmesg);
            Assert.Equal(12832, k.TaintMask);
            Assert.Equal("bug_plain              1     25    160   25    1 : tunables    0    0    0 : slabdata      1      1      0", Slabinfo(session, output));
        }

        [Fact]
        public void V612OverflowPrintsTheAreaBeforeAnObjectCorruptBannerAndWarns()
        {
            using var k = K.Boot(KernelVersion.V6_12, cpus: 1, slubDebug: "FZPU");
            var (dmesg, session, output) = Run(k, "overflow", "plain", 160);
            // From the 6.12 VM's console log (/work/groundtruth, dmesg -r of the same scenario);
            // its build inlines alloc_one() and destroy_cache() into slab_bugs_init(), the
            // model names them.
            Assert.Equal(Load + """
                kern  :info  : bug: start overflow plain
                kern  :info  : bug: cache bug_plain object_size 64
                kern  :info  : bug: alloc A = <addr>
                kern  :info  : bug: write 0x41 at A + 64
                kern  :info  : bug: free A = <addr>
                kern  :err   : [Right Redzone overwritten] <addr>-<addr> @offset=<slot>+72. First byte 0x41 instead of 0xcc
                kern  :err   : =============================================================================
                kern  :err   : BUG bug_plain (Tainted: G           OE     ): Object corrupt
                kern  :err   : -----------------------------------------------------------------------------

                kern  :err   : Allocated in alloc_one+<offset> [slab_bugs] age=<n> cpu=0 pid=<n>
                kern  :err   : Slab <addr> objects=25 used=1 fp=<addr> flags=0xfffffc0000200(workingset|node=0|zone=1|lastcpupid=0x1fffff)
                kern  :err   : Object <addr> @offset=<slot>+8 fp=<addr>

                kern  :err   : Redzone  <addr>: cc cc cc cc cc cc cc cc                          ........
                kern  :err   : Object   <addr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk
                kern  :err   : Object   <addr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk
                kern  :err   : Object   <addr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b  kkkkkkkkkkkkkkkk
                kern  :err   : Object   <addr>: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.
                kern  :err   : Redzone  <addr>: 41 cc cc cc cc cc cc cc                          A.......
                kern  :err   : Padding  <addr>: 5a 5a 5a 5a 5a 5a 5a 5a                          ZZZZZZZZ
                kern  :warn  : Disabling lock debugging due to kernel taint
                kern  :warn  : ------------[ cut here ]------------
                kern  :warn  : WARNING: CPU: 0 PID: <pid> at mm/slub.c:1127 object_err+<offset>
                kern  :warn  : Modules linked in: slab_bugs(OE+)
                kern  :warn  : CPU: 0 UID: 0 PID: <pid> Comm: insmod Tainted: G    B      OE      <release>
                kern  :warn  : Tainted: [B]=BAD_PAGE, [O]=OOT_MODULE, [E]=UNSIGNED_MODULE
                kern  :warn  : Hardware name: <hardware>
                kern  :warn  : RIP: 0010:object_err+<offset>
                kern  :warn  : ---[ end trace <addr> ]---
                kern  :err   : FIX bug_plain: Restoring Right Redzone <addr>-<addr>=0xcc
                kern  :err   : FIX bug_plain: Object at <addr> not freed
                kern  :info  : bug: kmem_cache_destroy bug_plain
                kern  :err   : =============================================================================
                kern  :err   : BUG bug_plain (Tainted: G    B   W  OE     ): Objects remaining on __kmem_cache_shutdown()
                kern  :err   : -----------------------------------------------------------------------------

                kern  :err   : Object <addr> @offset=<slot>+8
                kern  :err   : Allocated in alloc_one+<offset> [slab_bugs] age=<n> cpu=0 pid=<n>
                kern  :err   : Slab <addr> objects=25 used=1 fp=<addr> flags=0xfffffc0000200(workingset|node=0|zone=1|lastcpupid=0x1fffff)
                kern  :warn  : ------------[ cut here ]------------
                kern  :warn  : WARNING: CPU: 0 PID: <pid> at mm/slub.c:1152 __kmem_cache_shutdown+<offset>
                kern  :warn  : Modules linked in: slab_bugs(OE+)
                kern  :warn  : CPU: 0 UID: 0 PID: <pid> Comm: insmod Tainted: G    B   W  OE      <release>
                kern  :warn  : Tainted: [B]=BAD_PAGE, [W]=WARN, [O]=OOT_MODULE, [E]=UNSIGNED_MODULE
                kern  :warn  : Hardware name: <hardware>
                kern  :warn  : RIP: 0010:__kmem_cache_shutdown+<offset>
                kern  :warn  : ---[ end trace <addr> ]---
                kern  :warn  : ------------[ cut here ]------------
                kern  :warn  : kmem_cache_destroy bug_plain: Slab cache still has objects when called from destroy_cache+<offset> [slab_bugs]
                kern  :warn  : WARNING: CPU: 0 PID: <pid> at mm/slab_common.c:548 kmem_cache_destroy+<offset>
                kern  :warn  : Modules linked in: slab_bugs(OE+)
                kern  :warn  : CPU: 0 UID: 0 PID: <pid> Comm: insmod Tainted: G    B   W  OE      <release>
                kern  :warn  : Tainted: [B]=BAD_PAGE, [W]=WARN, [O]=OOT_MODULE, [E]=UNSIGNED_MODULE
                kern  :warn  : Hardware name: <hardware>
                kern  :warn  : RIP: 0010:kmem_cache_destroy+<offset>
                kern  :warn  : ---[ end trace <addr> ]---
                kern  :info  : bug: done

                """, dmesg);
            Assert.Equal(12832, k.TaintMask);
            Assert.Null(Slabinfo(session, output));   // 6.12 unlinks the cache it cannot destroy
        }

        [Theory]
        // The stack depot's frames of an object allocated and freed in a module's init, as the VMs
        // printed them (tests/vm/bugs.sh, bug=use_after_free under slub_debug=FZPU): the module's
        // frames, then finit_module's path, which 6.12 splits into init_module_from_file and
        // idempotent_init_module. (gcc inlines alloc_one into slab_bugs_init on 6.12 and
        // tail-calls from free_one; the C# port keeps both frames, see bugs.sh.)
        [InlineData(KernelVersion.V6_1, "do_one_initcall do_init_module __do_sys_finit_module do_syscall_64 entry_SYSCALL_64_after_hwframe")]
        [InlineData(KernelVersion.V6_12, "do_one_initcall do_init_module init_module_from_file idempotent_init_module __x64_sys_finit_module do_syscall_64 entry_SYSCALL_64_after_hwframe")]
        public void TracksEndInTheSystemCallThatRanTheModule(KernelVersion version, string kernelFrames)
        {
            using var k = K.Boot(version, cpus: 1, slubDebug: "FZPU");
            var output = new StringWriter();
            var session = new Session(k, output);
            Assert.Equal(0, session.Execute("insmod slab_bugs.ko bug=use_after_free cache=plain", echo: false));
            output.GetStringBuilder().Clear();
            session.Execute("dmesg -t", echo: false);
            string[] lines = output.ToString().Split('\n');
            foreach (var (what, fn) in new[] { ("Allocated", "alloc_one"), ("Freed", "free_one") })
            {
                int at = System.Array.FindIndex(lines, l => l.StartsWith($"{what} in ", System.StringComparison.Ordinal));
                Assert.True(at >= 0, $"no {what} line");
                Assert.Matches($@"^{what} in {fn}\+0x0/0x0 \[slab_bugs\] age=\d+ cpu=0 pid=1\d\d\d$", lines[at]);
                var frames = lines.Skip(at + 1).TakeWhile(l => l.StartsWith(' ')).Select(l => l.Trim().Split('+')[0]).ToArray();
                Assert.Equal($"{fn} slab_bugs_init {kernelFrames}", string.Join(' ', frames));
            }
        }

        [Fact]
        public void LockDebuggingIsDisabledOnceAndSilentlyByAnOops()
        {
            using var k = K.Boot(KernelVersion.V6_12, cpus: 1);
            k.AddTaint('B', lockdepNowUnreliable: true);
            k.AddTaint('B', lockdepNowUnreliable: true);
            Assert.Single(K.AllLines(k), "Disabling lock debugging due to kernel taint");
            Assert.False(k.DebugLocks);

            // oops_enter() turns debug_locks off without a word; add_taint(TAINT_DIE) then finds it off.
            using var k2 = K.Boot(KernelVersion.V6_1, cpus: 1);
            var session = new Session(k2, new StringWriter());
            Assert.Equal(139, session.Execute("insmod slab_bugs.ko bug=double_free cache=plain", echo: false));
            Assert.DoesNotContain("Disabling lock debugging due to kernel taint", K.AllLines(k2));
            Assert.False(k2.DebugLocks);
        }
    }
}
