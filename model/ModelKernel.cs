// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// One model kernel: a "machine" with its clock and jiffies, its log, its memory (page
// allocator and SLUB) and its modules. Several can exist side by side (each test makes its own);
// the module backend (arch/model) reaches the one it runs in through ModelKernel.Current.

using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;
using LogLevel = global::Kernel.LogLevel;

namespace SimpleCache.Model
{
    /// <summary>Whose architecture's build of the kernel the model follows.</summary>
    public enum KernelArch
    {
        /// <summary>Debian's amd64 kernels (the default).</summary>
        X86_64,
        /// <summary>
        /// Debian's arm64 kernels (4K pages). What differs for the slab allocator: 6.1's kmalloc
        /// caches start at kmalloc-128 (<see cref="Mm.SlabAllocator.KmallocMinSize"/>). The slab
        /// geometry is x86-64's: the VM's 1316 caches agree on both kernels.
        /// </summary>
        Arm64,
    }

    /// <summary>How to build a model kernel.</summary>
    public sealed record KernelOptions
    {
        /// <summary>Whose SLUB and messages to follow (default 6.12).</summary>
        public KernelVersion Version { get; init; } = KernelVersion.V6_12;
        /// <summary>Which architecture's build of that kernel (default x86-64).</summary>
        public KernelArch Arch { get; init; } = KernelArch.X86_64;
        /// <summary>Present CPUs: the per-CPU layer's width and calculate_order()'s input (default: this machine's).</summary>
        public int Cpus { get; init; } = Environment.ProcessorCount;
        /// <summary>Memory for the page allocator, in MiB (default 256).</summary>
        public int MemoryMiB { get; init; } = 256;
        /// <summary>The slub_debug= boot option (e.g. "FZPU"), or null.</summary>
        public string SlubDebug { get; init; }
        /// <summary>
        /// CONFIG_SLAB_FREELIST_RANDOM (on in Debian): a new slab hands out its objects in a
        /// shuffled order. Off gives address order, easier to follow in a debugger.
        /// </summary>
        public bool FreelistRandom { get; init; } = true;
        /// <summary>Seed of the kernel's random numbers (freelist order, hardened pointers, failslab); null for a random seed.</summary>
        public int? RandomSeed { get; init; }
        /// <summary>
        /// <c>CONFIG_BUG_ON_DATA_CORRUPTION</c> (on in Debian): a corrupted list BUG()s and the
        /// task dies. Off: a WARN, and the list operation is refused.
        /// </summary>
        public bool BugOnDataCorruption { get; init; } = true;
        /// <summary><c>CONFIG_HZ</c>: Debian's x86-64 kernels use 250.</summary>
        public uint Hz { get; init; } = 250;
        /// <summary>
        /// A manual clock: time moves only through <see cref="KernelClock.Advance"/>, so logs and
        /// jiffies are repeatable. Off by default (the clock follows real time).
        /// </summary>
        public bool ManualClock { get; init; }
    }

    /// <summary>Thrown when the model kernel panics (SLAB_PANIC, a BUG()); the machine is dead.</summary>
    public sealed class KernelPanicException(string message) : Exception(message);

    /// <summary>A model kernel: clock, log, memory, modules.</summary>
    public sealed class ModelKernel : IDisposable
    {
        private static readonly AsyncLocal<ModelKernel> s_current = new();
        private static ModelKernel s_default;

        /// <summary>Boots a model kernel.</summary>
        public ModelKernel(KernelOptions options = null)
        {
            Options = options ?? new KernelOptions();
            Clock = new KernelClock(Options.Hz, Options.ManualClock);
            Log = new PrintkLog(() => Clock.NowNs);
            Pages = new PageAllocator(Options.MemoryMiB * 256);
            Random = Options.RandomSeed is int seed ? new Random(seed) : new Random();
            Slab = new SlabAllocator(this, Pages, Options.Cpus, Options.Version, Options.SlubDebug);
            Slab.Failslab.Report += text => Printk(LogLevel.Err, text);
            Modules = new ModuleHost(this);
            Fs = new Fs.Procfs(this);
        }

        /// <summary>The kernel's random numbers (get_random_u32() and friends); lock it to use it.</summary>
        public Random Random { get; }
        /// <summary>The options it was booted with.</summary>
        public KernelOptions Options { get; }
        /// <summary>Time since boot and jiffies.</summary>
        public KernelClock Clock { get; }
        /// <summary>The printk ring buffer.</summary>
        public PrintkLog Log { get; }
        /// <summary>The buddy page allocator.</summary>
        public PageAllocator Pages { get; }
        /// <summary>SLUB: the slab caches.</summary>
        public SlabAllocator Slab { get; }
        /// <summary>/proc, /sys and debugfs files.</summary>
        public Fs.Procfs Fs { get; }
        /// <summary>insmod, rmmod, lsmod.</summary>
        public ModuleHost Modules { get; }
        /// <summary>Kernel taint letters so far (O: out-of-tree module, E: unsigned, B: bad page, W: warning).</summary>
        public string Taint { get; private set; } = "";

        /// <summary>
        /// The kernel that module code on this thread (or async flow) runs in. Set by
        /// <see cref="Enter"/>; falls back to the last kernel entered anywhere.
        /// </summary>
        public static ModelKernel Current => s_current.Value ?? s_default
            ?? throw new InvalidOperationException("no model kernel: create one and call Enter()");

        /// <summary>Makes this the kernel of the calling flow (and the default for other threads).</summary>
        public ModelKernel Enter()
        {
            s_current.Value = this;
            s_default = this;
            return this;
        }

        /// <summary><c>printk()</c> at a level (KERN_EMERG to KERN_DEBUG).</summary>
        public void Printk(LogLevel level, string text) => Log.Log(level, text);

        /// <summary>
        /// <c>WARN(cond, fmt...)</c> or <c>WARN_ON(cond)</c> (empty <paramref name="message"/>) at
        /// <paramref name="location"/>, "file:line function" (or just "function" when the kernel
        /// prints no file), as kernel/panic.c's __warn() prints it on x86-64 (6.1 and 6.12 alike):
        /// the cut line (report_bug(), or __warn_printk() with the message before the ud2 trap),
        /// "WARNING: CPU: .. PID: .. at file:line function+off", the modules, show_regs()'s task
        /// line (6.12: and the verbose taint line), the hardware, "RIP: 0010:function+off", the end
        /// marker; then taint W (LOCKDEP_STILL_OK: lock debugging stays on). The register dump and
        /// the call trace are left out. A function without an offset gets "+0x0/0x0" (the model has
        /// no code offsets; the comparisons with a VM put them aside).
        /// </summary>
        public void Warn(string message, string location)
        {
            int space = location.LastIndexOf(' ');
            string function = location[(space + 1)..];
            if (!function.Contains("+0x"))
            {
                function += "+0x0/0x0";
                location = (space < 0 ? "" : location[..(space + 1)]) + function;
            }
            Printk(LogLevel.Warning, "------------[ cut here ]------------");
            if (!string.IsNullOrEmpty(message))
                Printk(LogLevel.Warning, message);
            Printk(LogLevel.Warning, $"WARNING: CPU: {Slab.CurrentCpu()} PID: {ModelTask.Current.Pid} at {location}");
            Printk(LogLevel.Warning, ModulesLinkedIn());
            DumpStackPrintInfo();
            Printk(LogLevel.Warning, $"RIP: 0010:{function}");
            Printk(LogLevel.Warning, "---[ end trace 0000000000000000 ]---");
            AddTaint('W');
        }

        /// <summary><c>WARN_ON(1)</c> at <paramref name="file"/>:<paramref name="line"/> in <paramref name="function"/> (as the kernel's %pS names it).</summary>
        public void WarnOn(string file, int line, string function) => Warn("", $"{file}:{line} {function}");

        /// <summary>
        /// <c>dump_stack()</c> (lib/dump_stack.c, KERN_DEFAULT): dump_stack_print_info()'s task
        /// line (6.12: and the verbose taint line) and the hardware; the call trace is left out,
        /// as in <see cref="Oops(string, string)"/>.
        /// </summary>
        public void DumpStack() => DumpStackPrintInfo();

        // dump_stack_print_info(): 6.1 "CPU: 0 PID: 88 Comm: insmod Tainted: ... release #1 ...";
        // 6.12 adds "UID: 0 " and, when tainted, print_tainted_verbose()'s line.
        private void DumpStackPrintInfo()
        {
            bool v61 = Options.Version == KernelVersion.V6_1;
            ModelTask task = ModelTask.Current;
            Printk(LogLevel.Warning, $"CPU: {Slab.CurrentCpu()} {(v61 ? "" : "UID: 0 ")}PID: {task.Pid} Comm: {task.Comm} {PrintTainted()} {Release} #1");
            if (!v61 && Taint.Length > 0)
                Printk(LogLevel.Warning, PrintTaintedVerbose());
            Printk(LogLevel.Warning, "Hardware name: the simple_cache model kernel");
        }

        // print_modules(): "Modules linked in: name(taints+) ... [last unloaded: name(taints)]".
        private string ModulesLinkedIn() =>
            "Modules linked in: " + string.Join(' ', Modules.Loaded.Select(m => $"{m.Name}(OE{m.StateFlag})"))
            + (Modules.LastUnloaded != null ? $" [last unloaded: {Modules.LastUnloaded}]" : "");

        /// <summary>
        /// <c>panic()</c>: logs, and the machine stops: the caller gets
        /// <see cref="KernelPanicException"/> (from module code, the task is parked for good).
        /// </summary>
        public void Panic(string message)
        {
            Printk(LogLevel.Emerg, $"Kernel panic - not syncing: {message}");
            ModelTask.Die(new KernelPanicException(message));
        }

        private int _dieCounter;

        /// <summary>/proc/sys/kernel/panic_on_oops (Debian's default 0: an oops kills the task, the kernel runs on).</summary>
        public bool PanicOnOops { get; set; }

        /// <summary>
        /// /proc/sys/kernel/kptr_restrict (0, 1 or 2; the kernel's default 0): how %pK prints a
        /// pointer (<see cref="FormatRestrictedPointer"/>).
        /// </summary>
        public int KptrRestrict { get; set; }

        private ulong _ptrKey;

        /// <summary>
        /// %pK as lib/vsprintf.c's restricted_pointer() prints it (6.1 and 6.12 alike), for a
        /// reader who is root (the model's shell has CAP_SYSLOG): kptr_restrict 0 hashes it as %p
        /// does (ptr_to_id(): the low 32 bits of a keyed hash of the address, as 16 hex digits;
        /// unhashed when slub_debug is on, which sets no_hash_pointers;
        /// the kernel's hash is siphash, the model's a simpler one), 1 prints the address, 2
        /// prints zeros. The key is random per boot, as ptr_key is.
        /// </summary>
        public string FormatRestrictedPointer(nint p)
        {
            switch (KptrRestrict)
            {
                case 0 when Slab.DebugEnabled:
                    // slub_debug turned on no_hash_pointers at boot (kmem_cache_init(), mm/slub.c,
                    // 6.1 and 6.12): default_pointer() prints the address itself.
                    return ((ulong)p).ToString("x16");
                case 0:
                    if (_ptrKey == 0)
                        lock (Random)
                            _ptrKey = (ulong)Random.NextInt64() | 1;
                    ulong h = (ulong)p ^ _ptrKey;
                    h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdUL;
                    h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53UL;
                    return ((h ^ (h >> 33)) & 0xffffffffUL).ToString("x16");
                case 1:
                    return ((ulong)p).ToString("x16");
                default:
                    return new string('0', 16);
            }
        }

        /// <summary>
        /// <c>BUG()</c> at <paramref name="file"/>:<paramref name="line"/> (each version's own line
        /// of its own source) in <paramref name="function"/>: on x86-64 the ud2 trap's
        /// report_bug() (lib/bug.c) prints the cut line and "kernel BUG at file:line!", then
        /// die("invalid opcode") oopses and the calling task is killed. Never returns.
        /// </summary>
        public void Bug(string file, int line, string function)
        {
            Printk(LogLevel.Warning, "------------[ cut here ]------------");   // KERN_DEFAULT
            Printk(LogLevel.Crit, $"kernel BUG at {file}:{line}!");
            Oops("invalid opcode: 0000", function);
        }

        /// <summary>
        /// A NULL pointer dereference in module code (the model sees it as .NET's
        /// NullReferenceException): x86-64's page_fault_oops() for an address in the first page
        /// (arch/x86/mm/fault.c, 6.1 and 6.12), then the oops, and the task is killed with SIGKILL.
        /// The model does not learn the faulting address or whether it was a read or a write: it
        /// prints address 0 and a read, where the kernel prints the field's offset and the access.
        /// </summary>
        public void NullPointerOops(string function)
        {
            Printk(LogLevel.Alert, "BUG: kernel NULL pointer dereference, address: 0000000000000000");
            Printk(LogLevel.Alert, "#PF: supervisor read access in kernel mode");
            Printk(LogLevel.Alert, "#PF: error_code(0x0000) - not-present page");
            Printk(LogLevel.Info, "PGD 0 P4D 0 ");
            Oops("Oops: 0000", function, 9, irqsDisabled: false, preemptCount: 0);
        }

        /// <summary>
        /// <c>die()</c> and <c>oops_end()</c> (arch/x86/kernel/dumpstack.c), then
        /// <c>make_task_dead(SIGSEGV)</c>: the oops header, the task line with the taint as it was
        /// before this oops, where it happened, the modules, the end marker; then the kernel is
        /// tainted D and the task dies (<see cref="ModelTask.Die"/>). The register dump, the code
        /// bytes and the stack frames are left out. Never returns.
        /// </summary>
        public void Oops(string what, string function) => Oops(what, function, signal: 11, irqsDisabled: false, preemptCount: 0);

        /// <summary>
        /// As <see cref="Oops(string, string)"/>, killing the task with <paramref name="signal"/>
        /// (a page fault in kernel mode kills with SIGKILL: x86's page_fault_oops(); a trap with
        /// SIGSEGV), and do_exit()'s notes when the task dies with interrupts off or inside
        /// preempt-disabled sections (a spinlock held at the fault).
        /// </summary>
        public void Oops(string what, string function, int signal, bool irqsDisabled, int preemptCount)
        {
            bool v61 = Options.Version == KernelVersion.V6_1;
            ModelTask task = ModelTask.Current;
            // oops_enter(): debug_locks_off(), silently; so add_taint(TAINT_DIE, LOCKDEP_NOW_UNRELIABLE)
            // below never prints "Disabling lock debugging due to kernel taint" (6.1 and 6.12).
            DebugLocks = false;
            int n = Interlocked.Increment(ref _dieCounter);
            // __die_header(): Debian's kernels are PREEMPT_DYNAMIC (CONFIG_PREEMPTION), SMP, with PTI compiled in.
            Printk(LogLevel.Warning, $"{(v61 ? "" : "Oops: ")}{what} [#{n}] PREEMPT SMP NOPTI");
            // dump_stack_print_info(): 6.12 added the UID and, when tainted, the verbose taint line.
            DumpStackPrintInfo();
            Printk(LogLevel.Warning, $"RIP: 0010:{function}+0x0/0x0");
            Printk(LogLevel.Warning, ModulesLinkedIn());
            Printk(LogLevel.Warning, "---[ end trace 0000000000000000 ]---");
            // oops_end(): the first oops's RIP again (the "executive summary"), then panic if asked.
            Printk(LogLevel.Warning, $"RIP: 0010:{function}+0x0/0x0");
            AddTaint('D', lockdepNowUnreliable: true);
            if (PanicOnOops)
                Panic("Fatal exception");
            // make_task_dead() -> do_exit(): its notes (kernel/exit.c, 6.1 and 6.12).
            if (irqsDisabled)
                Printk(LogLevel.Info, $"note: {task.Comm}[{task.Pid}] exited with irqs disabled");
            if (preemptCount > 0)
                Printk(LogLevel.Info, $"note: {task.Comm}[{task.Pid}] exited with preempt_count {preemptCount}");
            ModelTask.Die(new TaskKilledException(task, signal, $"oops: {what}"));
        }

        /// <summary>
        /// A CPU that would spin forever on a lock or a looping list. The kernel's soft lockup
        /// watchdog reports it after 20 s and the CPU spins on; the model prints that report at
        /// once and kills the spinning task instead, so that no model operation hangs (the one
        /// place the model departs from the kernel on purpose). Never returns.
        /// </summary>
        public void SoftLockup(string why)
        {
            ModelTask task = ModelTask.Current;
            Printk(LogLevel.Emerg, $"watchdog: BUG: soft lockup - CPU#{Slab.CurrentCpu()} stuck for 22s! [{task.Comm}:{task.Pid}]");
            Printk(LogLevel.Warning, $"(the model stops here what the kernel would spin on for good: {why})");
            AddTaint('L');
            ModelTask.Die(new TaskKilledException(task, 9, $"soft lockup: {why}"));
        }

        /// <summary>uname -r of the model (the comparisons with a VM put the VM's release aside).</summary>
        public string Release => Options.Version == KernelVersion.V6_1 ? "6.1.0-model" : "6.12.0-model";

        /// <summary>print_tainted_verbose() (6.12): "Tainted: [O]=OOT_MODULE, [E]=UNSIGNED_MODULE".</summary>
        public string PrintTaintedVerbose()
        {
            var names = new System.Collections.Generic.List<string>();
            foreach ((char flag, string name) in s_taintNames)
                if (Taint.Contains(flag))
                    names.Add($"[{flag}]={name}");
            return "Tainted: " + string.Join(", ", names);
        }

        // taint_flags[] of kernel/panic.c, in its order.
        private static readonly (char Flag, string Name)[] s_taintNames =
        [
            ('P', "PROPRIETARY_MODULE"), ('F', "FORCED_MODULE"), ('S', "CPU_OUT_OF_SPEC"), ('R', "FORCED_RMMOD"),
            ('M', "MACHINE_CHECK"), ('B', "BAD_PAGE"), ('U', "USER"), ('D', "DIE"), ('A', "OVERRIDDEN_ACPI_TABLE"),
            ('W', "WARN"), ('C', "CRAP"), ('I', "FIRMWARE_WORKAROUND"), ('O', "OOT_MODULE"), ('E', "UNSIGNED_MODULE"),
            ('L', "SOFTLOCKUP"), ('K', "LIVEPATCH"), ('X', "AUX"), ('T', "RANDSTRUCT"), ('N', "TEST"),
        ];

        /// <summary>
        /// lib/debug_locks.c's <c>debug_locks</c>: 1 at boot; turned off for good by the first
        /// taint that makes lockdep unreliable (<see cref="AddTaint"/>) or by an oops (oops_enter()).
        /// </summary>
        public bool DebugLocks { get; private set; } = true;

        /// <summary>
        /// <c>add_taint(flag, lockdep_ok)</c> (kernel/panic.c, 6.1 and 6.12): with
        /// LOCKDEP_NOW_UNRELIABLE (<paramref name="lockdepNowUnreliable"/>: TAINT_BAD_PAGE from
        /// slub_debug's reports, TAINT_DIE) the first call to turn debug_locks off prints
        /// "Disabling lock debugging due to kernel taint"; then the flag is set.
        /// </summary>
        public void AddTaint(char flag, bool lockdepNowUnreliable = false)
        {
            bool disabling;
            lock (this)
            {
                disabling = lockdepNowUnreliable && DebugLocks;   // __debug_locks_off(): xchg(&debug_locks, 0)
                if (disabling)
                    DebugLocks = false;
            }
            if (disabling)
                Printk(LogLevel.Warning, "Disabling lock debugging due to kernel taint");
            lock (this)
                if (!Taint.Contains(flag))
                    Taint += flag;
        }

        /// <summary>/proc/sys/kernel/tainted: the taint flags as a bit mask (bit i: taint_flags[i]).</summary>
        public long TaintMask
        {
            get
            {
                long mask = 0;
                for (int i = 0; i < s_taintNames.Length; i++)
                    if (Taint.Contains(s_taintNames[i].Flag))
                        mask |= 1L << i;
                return mask;
            }
        }

        /// <summary>The taint as print_tainted() shows it: "Not tainted" or "Tainted: G    B   W  OE".</summary>
        public string PrintTainted()
        {
            if (Taint.Length == 0)
                return "Not tainted";
            // The kernel prints one column per taint flag it knows, in this order.
            const string flags = "PFSRMBUDAWCIOELKXTN";
            var columns = new char[flags.Length];
            for (int i = 0; i < flags.Length; i++)
                columns[i] = Taint.Contains(flags[i]) ? flags[i] : ' ';
            if (columns[0] == ' ')
                columns[0] = 'G';
            return "Tainted: " + new string(columns);
        }

        /// <summary>Frees the machine's memory: every pointer into it becomes invalid.</summary>
        public void Dispose()
        {
            if (s_default == this)
                s_default = null;
            Pages.Dispose();
        }
    }

    /// <summary>The kernel's clock: nanoseconds since boot and <c>jiffies</c>.</summary>
    public sealed class KernelClock
    {
        private readonly Stopwatch _sinceBoot = Stopwatch.StartNew();
        private readonly bool _manual;
        private long _manualNs;

        /// <summary>Creates a clock ticking at <paramref name="hz"/>.</summary>
        public KernelClock(uint hz, bool manual)
        {
            Hz = hz;
            _manual = manual;
        }

        /// <summary><c>HZ</c>.</summary>
        public uint Hz { get; }

        /// <summary>
        /// <c>INITIAL_JIFFIES</c>: ((unsigned long)(unsigned int)(-300*HZ)), so that the 32-bit
        /// jiffies wrap five minutes after boot and code that mishandles the wrap shows it early.
        /// </summary>
        public ulong InitialJiffies => (uint)(-300 * (int)Hz);

        /// <summary>Nanoseconds since boot (<c>local_clock()</c>).</summary>
        public ulong NowNs => _manual ? (ulong)Interlocked.Read(ref _manualNs) : (ulong)(_sinceBoot.Elapsed.Ticks * 100);

        /// <summary>The current <c>jiffies</c>.</summary>
        public ulong Jiffies => InitialJiffies + NowNs / (1_000_000_000UL / Hz);

        /// <summary>Moves a manual clock forward.</summary>
        public void Advance(TimeSpan by)
        {
            if (!_manual)
                throw new InvalidOperationException("the clock follows real time");
            Interlocked.Add(ref _manualNs, by.Ticks * 100);
        }
    }
}
