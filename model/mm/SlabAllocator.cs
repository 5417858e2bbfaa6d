// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The cache registry and its kernel-facing operations: mm/slab_common.c's kmem_cache_create()
// and kmem_cache_destroy() (with slab_mutex and the slab_caches list), /proc/slabinfo's
// cache_show(), and the slub_debug= boot option that turns debug flags on for chosen caches.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using SimpleCache.Model.Kernel;
using LogLevel = global::Kernel.LogLevel;

namespace SimpleCache.Model.Mm
{
    /// <summary>All slab caches of one model kernel, and the page allocator under them.</summary>
    public sealed unsafe class SlabAllocator
    {
        private readonly object _slabMutex = new();   // slab_mutex: guards _caches, the kmalloc caches and _debugfsSlab (lock order: mm/Slub.cs)
        private readonly HashSet<string> _debugfsSlab = new();   // /sys/kernel/debug/slab/'s directories, by name
        private readonly List<SlabCache> _caches = new();
        private readonly SlubDebugOption _debugOption;
        private int _nextCpu;


        /// <summary>Creates the allocator of <paramref name="kernel"/>.</summary>
        public SlabAllocator(ModelKernel kernel, PageAllocator pages, int cpus, KernelVersion version, string slubDebug)
        {
            Kernel = kernel;
            Pages = pages;
            Cpus = cpus;
            Version = version;
            Arch = kernel?.Options.Arch ?? KernelArch.X86_64;
            _debugOption = SlubDebugOption.Parse(slubDebug);
            Failslab = new Failslab();
            KmallocCaches();   // create_kmalloc_caches() at boot
        }

        /// <summary>The kernel this allocator belongs to (its log, its clock).</summary>
        public ModelKernel Kernel { get; }
        /// <summary>The page allocator slabs come from.</summary>
        public PageAllocator Pages { get; }
        /// <summary>Present CPUs (num_present_cpus()); sizes the per-CPU layer and calculate_order().</summary>
        public int Cpus { get; }
        /// <summary>The kernel version whose SLUB is followed.</summary>
        public KernelVersion Version { get; }
        /// <summary>The failslab fault injector (/sys/kernel/debug/failslab).</summary>
        public Failslab Failslab { get; }
        /// <summary>Names and stacks for SLAB_STORE_USER tracking.</summary>
        public SymbolTable Symbols { get; } = new();

        /// <summary>slub_debug is on (<see cref="SlubDebugOption.Enabled"/>): the kernel then prints pointers unhashed.</summary>
        public bool DebugEnabled => _debugOption.Enabled;

        private bool _inKunit;
        private long _errors;

        /// <summary>Errors SLUB's debug checks have reported (each report and each fix counts once).</summary>
        public long Errors => Interlocked.Read(ref _errors);

        /// <summary>Whether a "kunit test" runs: reports are counted, not printed (slab_in_kunit_test()).</summary>
        public bool InKunit => Volatile.Read(ref _inKunit);

        /// <summary>Starts counting errors silently, as lib/slub_kunit.c's slab_errors resource does.</summary>
        public void BeginKunit()
        {
            Interlocked.Exchange(ref _errors, 0);
            Volatile.Write(ref _inKunit, true);
        }

        /// <summary>Ends a kunit test; returns the errors counted since <see cref="BeginKunit"/> or the last reset.</summary>
        public long EndKunit()
        {
            Volatile.Write(ref _inKunit, false);
            return Errors;
        }

        /// <summary>Sets the error count back to 0 (slab_errors = 0).</summary>
        public void ResetErrors() => Interlocked.Exchange(ref _errors, 0);

        // slab_add_kunit_errors(): counts; true (skip the printing) only inside a kunit test.
        internal bool AddKunitError()
        {
            Interlocked.Increment(ref _errors);
            return InKunit;
        }

        /// <summary>
        /// The CPU the calling task runs on (<see cref="ModelTask.Current"/>: by default one per
        /// thread). Each task is given a CPU when it first allocates,
        /// round robin, and keeps it (a thread pinned with sched_setaffinity, in kernel terms).
        /// </summary>
        public int CurrentCpu()
        {
            ModelTask task = ModelTask.Current;
            if (task.CpuOwner != this)
            {
                task.Cpu = (Interlocked.Increment(ref _nextCpu) - 1) % Cpus;
                task.CpuOwner = this;
            }
            return task.Cpu;
        }

        /// <summary>
        /// Moves the calling thread to <paramref name="cpu"/> (sched_setaffinity to one CPU). The
        /// property tests use it to run several logical threads on one OS thread, each on its own
        /// CPU, in an order that the seed fixes.
        /// </summary>
        public void MigrateTo(int cpu)
        {
            if ((uint)cpu >= (uint)Cpus)
                throw new ArgumentOutOfRangeException(nameof(cpu), cpu, $"the kernel has CPUs 0 to {Cpus - 1}");
            ModelTask task = ModelTask.Current;
            task.Cpu = cpu;
            task.CpuOwner = this;
        }

        /// <summary>The caches on the slab_caches list, oldest first.</summary>
        public IReadOnlyList<SlabCache> Caches
        {
            get { lock (_slabMutex) return _caches.ToList(); }
        }

        /// <summary>Finds a cache by name, or null.</summary>
        public SlabCache Find(string name)
        {
            lock (_slabMutex)
                return _caches.LastOrDefault(c => c.Name == name);
        }

        /// <summary>
        /// <c>kmem_cache_create(name, size, align, flags, ctor)</c>.
        /// </summary>
        /// <returns>The cache, or null with the kernel's message when it cannot be made.</returns>
        public SlabCache Create(string name, uint size, uint align, CacheFlags flags, nint ctor)
        {
            lock (_slabMutex)
            {
                int err = 0;
                SlabLayout layout = null;
                if (string.IsNullOrEmpty(name) || size == 0 || size > KmallocMaxSize || (align & (align - 1)) != 0)
                    err = -22;   // -EINVAL
                // A name already taken is no error. sysfs_slab_add() (mm/slub.c, 6.1 and 6.12) first
                // calls sysfs_remove_link(&slab_kset->kobj, name) for a cache that cannot be merged
                // (a constructor, slab_nomerge, debug flags), and kernfs_remove_by_name() removes
                // whatever has that name, the older cache's directory included: /sys/kernel/slab/NAME
                // is then the newer cache's (Find returns the newest). Both VMs show it: an insmod
                // after an rmmod that leaked simple_cache succeeds; 6.1 then lists two simple_cache
                // rows in /proc/slabinfo, 6.12 one (its kmem_cache_destroy drops a leaking cache).
                else
                {
                    flags |= _debugOption.FlagsFor(name);
                    layout = SlabGeometry.Calculate(Version, size, align, flags, ctor != 0, Cpus);
                    if (layout == null)
                        err = -22;
                }
                if (err != 0)
                {
                    if ((flags & CacheFlags.Panic) != 0)
                        Kernel.Panic($"{CreateFunction(Version)}: Failed to create slab '{name}'. Error {err}");
                    Kernel.Printk(LogLevel.Warning, CreateFailure(Version, name, err));
                    return null;
                }
                var cache = new SlabCache(this, name, layout, ctor);
                _caches.Add(cache);
                // debugfs_slab_add() (SLAB_STORE_USER caches: /sys/kernel/debug/slab/NAME, for
                // alloc_traces and free_traces). A directory of that name left by a cache that
                // leaked (6.1 keeps it, see Destroy) makes debugfs_create_dir() fail, and say so.
                if ((layout.Flags & CacheFlags.StoreUser) != 0 && !_debugfsSlab.Add(name))
                    Kernel.Printk(LogLevel.Err, $"debugfs: Directory '{name}' with parent 'slab' already present!");
                return cache;
            }
        }

        /// <summary>
        /// The function whose <c>__func__</c> kmem_cache_create()'s failure messages print:
        /// kmem_cache_create_usercopy() in 6.1 (mm/slab_common.c), __kmem_cache_create_args() in
        /// 6.12, as the VMs print them for slab_matrix.c's caches that no slab can hold.
        /// </summary>
        public static string CreateFunction(KernelVersion version) =>
            version == KernelVersion.V6_1 ? "kmem_cache_create_usercopy" : "__kmem_cache_create_args";

        /// <summary>The warning of a refused cache: <c>pr_warn("%s(%s) failed with error %d\n", __func__, name, err)</c>.</summary>
        public static string CreateFailure(KernelVersion version, string name, int err) =>
            $"{CreateFunction(version)}({name}) failed with error {err}";

        /// <summary><c>KMALLOC_MAX_SIZE</c> on x86-64 with 4 KiB pages: 2^(MAX_ORDER - 1 + PAGE_SHIFT).</summary>
        public const uint KmallocMaxSize = 1u << (SlabGeometry.MaxPageOrder + 12);

        /// <summary>
        /// <c>kmem_cache_destroy(s)</c>. With objects still allocated the kernel reports them,
        /// warns "Slab cache still has objects" and leaks the cache; so does the model: the
        /// leaked cache stays on the list (and in /proc/slabinfo) and its memory is never reused.
        /// </summary>
        public void Destroy(SlabCache cache, string caller)
        {
            if (cache == null)
                return;
            RcuBarrier();   // in-flight kfree_rcu()s may include objects of this cache
            lock (_slabMutex)
            {
                if (!_caches.Contains(cache) || cache.Leaked)
                    return;
                if (!cache.Shutdown())
                {
                    cache.Leaked = true;
                    // WARN(err, "%s %s: Slab cache still has objects when called from %pS", __func__, s->name, _RET_IP_):
                    // 6.1 at mm/slab_common.c:493, always; 6.12 at mm/slab_common.c:548, unless in a kunit test.
                    if (Version == KernelVersion.V6_1 || !InKunit)
                        Kernel.Warn($"kmem_cache_destroy {cache.Name}: Slab cache still has objects when called from {KernelSymbol(caller)}",
                            Version == KernelVersion.V6_1 ? "mm/slab_common.c:493 kmem_cache_destroy" : "mm/slab_common.c:548 kmem_cache_destroy");
                    // 6.1: the cache stays on slab_caches (and in /proc/slabinfo). 6.12: list_del(&s->list)
                    // runs whatever __kmem_cache_shutdown() said: the cache vanishes, its slabs leak.
                    if (Version != KernelVersion.V6_1)
                    {
                        _caches.Remove(cache);
                        DebugfsSlabRelease(cache);
                    }
                    return;
                }
                _caches.Remove(cache);
                DebugfsSlabRelease(cache);
                cache.FreeHandle();
            }
        }

        // debugfs_slab_release(): debugfs_lookup_and_remove(s->name, slab_debugfs_root), in
        // shutdown_cache() after a clean shutdown (6.1), or whatever it said (6.12). It removes
        // the directory by name: if an older, leaked cache of that name owned it, it goes.
        private void DebugfsSlabRelease(SlabCache cache)
        {
            if ((cache.Layout.Flags & CacheFlags.StoreUser) != 0)
                _debugfsSlab.Remove(cache.Name);
        }

        /// <summary>
        /// %pS of a C# method as the kernel would print the C function: C has no classes, so
        /// "SlabBugsModule.destroy_cache+0x0/0x0 [slab_bugs]" becomes "destroy_cache+0x0/0x0
        /// [slab_bugs]"; a method of a loaded module's code gets " [module]" (sprint_symbol()
        /// names the module of an address in one) when the name does not have it yet.
        /// </summary>
        internal bool IsModuleCode(System.Reflection.MethodBase method)
        {
            System.Reflection.Assembly assembly = method.DeclaringType?.Assembly;
            return assembly != null && Kernel.Modules.Loaded.Any(m => m.Code == assembly);
        }

        internal string KernelSymbol(string symbol)
        {
            if (symbol == null)
                return null;
            int plus = symbol.IndexOf('+');
            int dot = plus < 0 ? -1 : symbol.LastIndexOf('.', plus);
            if (dot < 0)
                return symbol;
            string type = symbol[..dot];
            string name = symbol[(dot + 1)..];
            if (!name.Contains(" ["))
            {
                foreach (LoadedModule module in Kernel.Modules.Loaded)
                {
                    try
                    {
                        if (module.Code != null && module.Code.GetTypes().Any(t => t.Name == type))
                            return $"{name} [{module.Name}]";
                    }
                    catch (System.Reflection.ReflectionTypeLoadException)
                    {
                    }
                }
            }
            return name;
        }

        // ---------------------------------------------------------------- kmalloc

        /// <summary>The architecture whose build of the kernel is followed.</summary>
        public KernelArch Arch { get; }

        /// <summary>
        /// <c>KMALLOC_MIN_SIZE</c>: ARCH_KMALLOC_MINALIGN, or 8. x86-64 leaves it at 8. arm64's 6.1
        /// defines no ARCH_KMALLOC_MINALIGN, so include/linux/slab.h makes it ARCH_DMA_MINALIGN,
        /// 128 (arch/arm64/include/asm/cache.h: a DMA buffer may not share a cache line of any
        /// CPU); 6.12 sets it to 8 and bounces DMA that is not aligned instead. Checked against
        /// each kernel's /proc/slabinfo (tests/vm/geometry.sh, tests/model/data/kmalloc/).
        /// </summary>
        public uint KmallocMinSize => Arch == KernelArch.Arm64 && Version == KernelVersion.V6_1 ? 128u : 8u;

        /// <summary>
        /// The kmalloc caches create_kmalloc_caches() makes: kmalloc_info[] from KMALLOC_MIN_SIZE
        /// up, kmalloc-96 only where KMALLOC_MIN_SIZE is at most 32 and kmalloc-192 only where it
        /// is at most 64 (mm/slab_common.c, 6.1 and 6.12).
        /// </summary>
        public IEnumerable<(uint Size, string Name)> KmallocClasses => KmallocInfo.Where(k => k.Size >= KmallocMinSize
            && (k.Size != 96 || KmallocMinSize <= 32) && (k.Size != 192 || KmallocMinSize <= 64));

        /// <summary>The kmalloc size classes (kmalloc_info[]), 8 bytes to KMALLOC_MAX_CACHE_SIZE.</summary>
        private static readonly (uint Size, string Name)[] KmallocInfo =
        [
            (8, "kmalloc-8"), (16, "kmalloc-16"), (32, "kmalloc-32"), (64, "kmalloc-64"), (96, "kmalloc-96"),
            (128, "kmalloc-128"), (192, "kmalloc-192"), (256, "kmalloc-256"), (512, "kmalloc-512"),
            (1024, "kmalloc-1k"), (2048, "kmalloc-2k"), (4096, "kmalloc-4k"), (8192, "kmalloc-8k"),
        ];

        private SlabCache[] _kmallocCaches;

        /// <summary>
        /// create_boot_cache()'s alignment of a kmalloc cache: ARCH_KMALLOC_MINALIGN
        /// (<see cref="KmallocMinSize"/>), raised to the size itself for a power of two (6.1), or
        /// to the largest power of two that divides the size (6.12: kmalloc-96 is 32-byte aligned).
        /// </summary>
        public uint KmallocAlign(uint size) => Version == KernelVersion.V6_1
            ? (System.Numerics.BitOperations.IsPow2(size) ? Math.Max(KmallocMinSize, size) : KmallocMinSize)
            : Math.Max(8, size & (~size + 1));

        /// <summary>
        /// <c>kmalloc(size, gfp)</c>: from the smallest kmalloc-N cache that fits, or whole pages
        /// above KMALLOC_MAX_CACHE_SIZE (8 KiB), as kmalloc_large() does. Null for 0 bytes
        /// (the kernel returns ZERO_SIZE_PTR) or when memory runs out.
        /// </summary>
        public void* Kmalloc(nuint size, bool mayWait = true, bool zero = false)
        {
            if (size == 0 || size > KmallocMaxSize)
                return null;
            if (size > 8192)
            {
                byte* pages = Pages.AllocPages(SlabGeometry.GetOrder(size));
                if (pages != null && zero)
                    new Span<byte>(pages, (int)size).Clear();
                return pages;
            }
            SlabCache[] caches = KmallocCaches();
            foreach (SlabCache cache in caches)
                if (cache.Layout.ObjectSize >= size)
                    return cache.AllocKmalloc((uint)size, mayWait, zero);
            return null;
        }

        private readonly List<nint> _rcuPending = new();

        /// <summary>
        /// <c>kfree_rcu(p)</c>: frees the object after an RCU grace period. The model has no
        /// readers to wait for; the grace period ends at the next <see cref="RcuBarrier"/>
        /// (<c>kvfree_rcu_barrier()</c>, which kmem_cache_destroy() calls first).
        /// </summary>
        public void KfreeRcu(void* p)
        {
            if (p == null)
                return;
            lock (_rcuPending)
                _rcuPending.Add((nint)p);
        }

        /// <summary><c>kvfree_rcu_barrier()</c>: frees every object queued by <see cref="KfreeRcu"/>.</summary>
        public void RcuBarrier()
        {
            nint[] pending;
            lock (_rcuPending)
            {
                pending = _rcuPending.ToArray();
                _rcuPending.Clear();
            }
            foreach (nint p in pending)
                Kfree((void*)p);
        }

        /// <summary><c>kfree(p)</c>: to the object's cache, or back to the page allocator; null is ignored.</summary>
        public void Kfree(void* p)
        {
            if (p == null)
                return;
            Slab slab = Pages.SlabOf(p);
            if (slab != null)
                slab.Cache.Free(p);
            else
                Pages.FreePages((byte*)p, Pages.PageOf(p).Order);
        }

        private SlabCache[] KmallocCaches()
        {
            if (Volatile.Read(ref _kmallocCaches) is { } caches)
                return caches;
            lock (_slabMutex)
            {
                _kmallocCaches ??= KmallocClasses.Select(k => Create(k.Name, k.Size, KmallocAlign(k.Size), CacheFlags.Kmalloc, 0)).ToArray();
                return _kmallocCaches;
            }
        }

        /// <summary>Every slab of <paramref name="cache"/>, found through the page descriptors.</summary>
        public List<Slab> SlabsOf(SlabCache cache)
        {
            var slabs = new List<Slab>();
            byte* end = Pages.Base + (long)Pages.TotalPages * PageAllocator.PageSize;
            for (byte* p = Pages.Base; p < end; p += PageAllocator.PageSize)
            {
                Slab slab = Pages.SlabOf(p);
                if (slab != null && slab.Cache == cache && slab.Address == p)
                    slabs.Add(slab);
            }
            return slabs;
        }

        /// <summary>/proc/slabinfo, version 2.1, as <c>slab_show()</c> prints it (newest cache last).</summary>
        public string SlabinfoText()
        {
            var sb = new StringBuilder();
            sb.Append("slabinfo - version: 2.1\n");
            sb.Append("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
            foreach (SlabCache cache in Caches.Reverse())
                sb.Append(FormatSlabinfoLine(cache.GetSlabInfo())).Append('\n');
            return sb.ToString();
        }

        /// <summary>One slabinfo line: cache_show()'s "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu".</summary>
        public static string FormatSlabinfoLine(SlabInfo i) =>
            $"{i.Name,-17} {i.ActiveObjs,6} {i.NumObjs,6} {i.ObjSize,6} {i.ObjPerSlab,4} {i.PagesPerSlab,4} : tunables {0,4} {0,4} {0,4} : slabdata {i.ActiveSlabs,6} {i.NumSlabs,6} {0,6}";
    }

    /// <summary>
    /// The <c>slub_debug=</c> (or <c>slab_debug=</c>) boot option: blocks separated by ';', each
    /// "OPTIONS[,cache,cache*...]". Options F Z P U T A, '-' for none, O is accepted and ignored;
    /// no options means F, Z, P and U. Without a cache list a block applies to every cache.
    /// </summary>
    public sealed class SlubDebugOption
    {
        private readonly List<(CacheFlags Flags, string[] Caches)> _blocks = new();

        /// <summary>Parses the option's value; null or empty means no debugging.</summary>
        public static SlubDebugOption Parse(string value)
        {
            var option = new SlubDebugOption();
            if (string.IsNullOrEmpty(value))
                return option;
            foreach (string block in value.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] parts = block.Split(',');
                string letters = parts[0];
                CacheFlags flags = 0;
                if (letters.Length == 0)
                    flags = CacheFlags.ConsistencyChecks | CacheFlags.RedZone | CacheFlags.Poison | CacheFlags.StoreUser;
                foreach (char c in letters.ToLowerInvariant())
                {
                    flags |= c switch
                    {
                        'f' => CacheFlags.ConsistencyChecks,
                        'z' => CacheFlags.RedZone,
                        'p' => CacheFlags.Poison,
                        'u' => CacheFlags.StoreUser,
                        't' => CacheFlags.Trace,
                        'a' => CacheFlags.FailSlab,
                        _ => 0,
                    };
                }
                option._blocks.Add((flags, parts.Skip(1).Where(p => p.Length > 0).ToArray()));
            }
            return option;
        }

        /// <summary>
        /// Whether the option turns slub_debug on at all (setup_slub_debug(): global flags, or
        /// any per-cache block: <c>slub_debug != 0 || slub_debug_string</c>, 6.1 and 6.12); then
        /// kmem_cache_init() calls no_hash_pointers_enable(), and %p and %pK stop hashing.
        /// </summary>
        public bool Enabled => _blocks.Any(b => b.Flags != 0 || b.Caches.Length > 0);

        /// <summary>The debug flags the option gives the cache called <paramref name="name"/>.</summary>
        public CacheFlags FlagsFor(string name)
        {
            CacheFlags global = 0;
            foreach (var (flags, caches) in _blocks)
            {
                if (caches.Length == 0)
                    global = flags;
                else if (caches.Any(glob => glob.EndsWith('*') ? name.StartsWith(glob[..^1], StringComparison.Ordinal) : glob == name))
                    return flags;
            }
            return global;
        }
    }
}
