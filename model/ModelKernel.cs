// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// One model kernel: a "machine" with its clock and jiffies, its log, its memory (page
// allocator and SLUB) and its modules. Several can exist side by side (each test makes its own);
// the module backend (arch/model) reaches the one it runs in through ModelKernel.Current.

using System;
using System.Diagnostics;
using System.Threading;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;
using LogLevel = global::Kernel.LogLevel;

namespace SimpleCache.Model
{
    /// <summary>How to build a model kernel.</summary>
    public sealed record KernelOptions
    {
        /// <summary>Whose SLUB and messages to follow (default 6.12).</summary>
        public KernelVersion Version { get; init; } = KernelVersion.V6_12;
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
        /// <c>WARN()</c>: the message and the "WARNING: CPU: .. PID: .. at ..." line, as the
        /// kernel prints them (without the register dump and backtrace); taints with W.
        /// </summary>
        public void Warn(string message, string location)
        {
            Printk(LogLevel.Warning, "------------[ cut here ]------------");
            Printk(LogLevel.Warning, message);
            Printk(LogLevel.Warning, $"WARNING: CPU: {Slab.CurrentCpu()} PID: {Environment.CurrentManagedThreadId} at {location}");
            Printk(LogLevel.Warning, "---[ end trace 0000000000000000 ]---");
            AddTaint('W');
        }

        /// <summary><c>panic()</c>: logs and throws <see cref="KernelPanicException"/>.</summary>
        public void Panic(string message)
        {
            Printk(LogLevel.Emerg, $"Kernel panic - not syncing: {message}");
            throw new KernelPanicException(message);
        }

        /// <summary>Adds a taint flag (<c>add_taint()</c>).</summary>
        public void AddTaint(char flag)
        {
            lock (this)
                if (!Taint.Contains(flag))
                    Taint += flag;
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
