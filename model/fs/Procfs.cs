// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The files of procfs, sysfs and debugfs that concern slabs and modules, read and written as a
// shell would: /proc/slabinfo (mm/slab_common.c), /proc/modules (kernel/module/procfs.c),
// /sys/kernel/slab/<cache>/* (mm/slub.c's sysfs attributes), /sys/kernel/debug/failslab/*
// (lib/fault-inject.c) and /sys/module/<module>/parameters/*.

using System;
using System.Globalization;
using System.Linq;
using System.Text;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;
using Errno = global::Kernel.Errno;
using ModuleEntry = global::Kernel.ModuleEntry;

namespace SimpleCache.Model.Fs
{
    /// <summary>Reads and writes the model kernel's pseudo-files.</summary>
    public sealed class Procfs
    {
        private readonly ModelKernel _kernel;
        private readonly System.Collections.Generic.Dictionary<string, ProcEntry> _entries = new();

        /// <summary>Creates the view of <paramref name="kernel"/>'s files.</summary>
        public Procfs(ModelKernel kernel) => _kernel = kernel;

        /// <summary>
        /// <c>proc_create()</c>, or with <paramref name="single"/> <c>proc_create_single()</c>: a
        /// /proc file served by <paramref name="owner"/>'s callbacks, or null if the name is taken.
        /// </summary>
        public ProcEntry CreateEntry(string name, ushort mode, LoadedModule owner, bool single = false)
        {
            lock (_entries)
            {
                if (_entries.ContainsKey(name) || name is "slabinfo" or "modules" or "sys" || owner == null)
                    return null;
                var entry = new ProcEntry(name, mode, owner, single);
                _entries[name] = entry;
                return entry;
            }
        }

        /// <summary>The module file /proc/<paramref name="name"/>, or null.</summary>
        public ProcEntry Entry(string name)
        {
            lock (_entries)
                return _entries.TryGetValue(name, out ProcEntry entry) ? entry : null;
        }

        /// <summary><c>proc_remove()</c>: unlinks the file, then waits for calls in progress.</summary>
        public void RemoveEntry(ProcEntry entry)
        {
            lock (_entries)
                _entries.Remove(entry.Name);
            entry.Remove();
            Handles.Free(entry.Handle);
        }

        /// <summary><c>open("/proc/NAME", write ? O_WRONLY : O_RDONLY)</c>; null with the errno on failure.</summary>
        public ProcFile Open(string path, bool write, out int error)
        {
            ProcEntry entry = null;
            if (path.StartsWith("/proc/", StringComparison.Ordinal))
                lock (_entries)
                    _entries.TryGetValue(path["/proc/".Length..], out entry);
            if (entry == null)
            {
                error = -Errno.ENOENT;
                return null;
            }
            return ProcFile.Open(_kernel, entry, write, out error);
        }

        /// <summary>Reads a file; null with <paramref name="error"/> set (negative errno) when it cannot.</summary>
        public string Read(string path, out int error)
        {
            error = 0;
            string[] p = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            switch (p)
            {
                case ["proc", "slabinfo"]:
                    return _kernel.Slab.SlabinfoText();
                case ["proc", var name] when name is not ("slabinfo" or "modules"):
                {
                    using ProcFile file = Open(path, write: false, out error);
                    return file?.Read();
                }
                case ["proc", "sys", "kernel", "panic_on_oops"]:
                    return _kernel.PanicOnOops ? "1\n" : "0\n";
                case ["proc", "sys", "kernel", "tainted"]:
                    return $"{_kernel.TaintMask}\n";
                case ["proc", "sys", "kernel", "kptr_restrict"]:
                    return $"{_kernel.KptrRestrict}\n";
                case ["proc", "modules"]:
                    return string.Concat(_kernel.Modules.Loaded.Select(m =>
                        $"{m.Name} {m.Image.Size} {m.ShownRefCount} - {m.StateName} 0x0000000000000000 (OE{m.StateFlag})\n"));
                case ["sys", "kernel", "slab"]:
                    return string.Join("\n", _kernel.Slab.Caches.Select(c => c.Name).Order()) + "\n";
                case ["sys", "kernel", "slab", var name]:
                    return _kernel.Slab.Find(name) is null ? Missing(out error) : string.Join("\n", SlabAttributes(_kernel.Options.Version)) + "\n";
                case ["sys", "kernel", "slab", var name, var attribute]:
                    return _kernel.Slab.Find(name) is { } cache ? SlabAttribute(cache, attribute, out error) : Missing(out error);
                case ["sys", "kernel", "debug", "failslab", var knob]:
                    return FailslabKnob(knob, out error);
                case ["sys", "module", var module, "parameters", var param]:
                    return _kernel.Modules.Find(module)?.ParamValue(param) is { } v ? v + "\n" : Missing(out error);
                default:
                    return Missing(out error);
            }
        }

        /// <summary>Writes a file (as <c>echo VALUE &gt; PATH</c>); 0 or a negative errno.</summary>
        public int Write(string path, string value)
        {
            string[] p = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (p is ["proc", _])
            {
                // echo VALUE > /proc/FILE: open for writing, one write of VALUE and a newline, close.
                using ProcFile file = Open(path, write: true, out int error);
                if (file == null)
                    return error;
                long written = file.Write(Encoding.UTF8.GetBytes(value + "\n"));
                return written < 0 ? (int)written : 0;
            }
            value = value.Trim();
            switch (p)
            {
                case ["proc", "sys", "kernel", "kptr_restrict"]:
                    // proc_dointvec_minmax_sysadmin, 0 to 2 (kernel/printk/sysctl.c): out of range is EINVAL.
                    if (!int.TryParse(value, out int restrict) || restrict is < 0 or > 2)
                        return -Errno.EINVAL;
                    _kernel.KptrRestrict = restrict;
                    return 0;
                case ["proc", "sys", "kernel", "panic_on_oops"]:
                    // proc_dointvec: an integer; any non-zero value turns it on.
                    if (!int.TryParse(value, out int onOops))
                        return -Errno.EINVAL;
                    _kernel.PanicOnOops = onOops != 0;
                    return 0;
                case ["sys", "kernel", "slab", var name, var attribute]:
                    SlabCache cache = _kernel.Slab.Find(name);
                    if (cache == null)
                        return -Errno.ENOENT;
                    switch (attribute)
                    {
                        case "validate":
                            // validate_store(): only a debug cache (kmem_cache_debug(s)), since 6.0's
                            // "mm/slub: restrict sysfs validation to debug caches and make it safe";
                            // the frees of any other cache change its slabs without list_lock.
                            if (value != "1" || !cache.IsDebug)
                                return -Errno.EINVAL;
                            cache.Validate();
                            return 0;
                        case "shrink":
                            if (value != "1")
                                return -Errno.EINVAL;
                            cache.Shrink();
                            return 0;
                        case "min_partial":
                            // kstrtoul(buf, 10, ...): decimal digits (an optional '+'), nothing else.
                            if (!ulong.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out ulong min) || value.StartsWith('-'))
                                return value.Length > 0 && value.TrimStart('+').All(char.IsAsciiDigit) ? -Errno.ERANGE : -Errno.EINVAL;
                            cache.StoreMinPartial(min);
                            return 0;
                        case "cpu_partial":
                            // kstrtouint(buf, 10, ...), then cpu_partial_store()'s own check.
                            if (!uint.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out uint objects) || value.StartsWith('-'))
                                return value.Length > 0 && value.TrimStart('+').All(char.IsAsciiDigit) ? -Errno.ERANGE : -Errno.EINVAL;
                            return cache.StoreCpuPartial(objects);
                        case "failslab":
                            if (value is not ("0" or "1"))
                                return -Errno.EINVAL;
                            cache.FailslabMarked = value == "1";
                            return 0;
                        default:
                            return -Errno.EPERM;
                    }
                case ["sys", "kernel", "debug", "failslab", var knob]:
                    return SetFailslab(knob, value);
                default:
                    return -Errno.ENOENT;
            }
        }

        /// <summary>
        /// The attributes of /sys/kernel/slab/&lt;cache&gt;/ in Debian's kernels (CONFIG_SLUB_DEBUG,
        /// CONFIG_NUMA, CONFIG_SLUB_CPU_PARTIAL; no CONFIG_SLUB_STATS), as `ls` lists them on 6.1
        /// and 6.12; 6.12 adds skip_kfence (CONFIG_KFENCE). failslab is the model's own: Debian
        /// builds its kernels without CONFIG_FAILSLAB, the model has failslab.
        /// </summary>
        public static string[] SlabAttributes(KernelVersion version) =>
        [
            "aliases", "align", "cache_dma", "cpu_partial", "cpu_slabs", "ctor", "destroy_by_rcu", "failslab",
            "hwcache_align", "min_partial", "object_size", "objects", "objects_partial", "objs_per_slab", "order",
            "partial", "poison", "reclaim_account", "red_zone", "remote_node_defrag_ratio", "sanity_checks",
            "shrink", .. (version == KernelVersion.V6_1 ? (string[])[] : ["skip_kfence"]), "slab_size", "slabs",
            "slabs_cpu_partial", "store_user", "total_objects", "trace", "usersize", "validate",
        ];

        private string SlabAttribute(SlabCache c, string attribute, out int error)
        {
            error = 0;
            SlabLayout l = c.Layout;
            SlabInfo info = c.GetSlabInfo();
            string Flag(CacheFlags f) => (l.Flags & f) != 0 ? "1\n" : "0\n";
            string Num(long n) => n.ToString(CultureInfo.InvariantCulture) + "\n";
            // show_slab_objects(): the total, then " N<node>=<count>" for each node with a count.
            string PerNode(long n) => n == 0 ? "0\n" : $"{n} N0={n}\n";
            if (Array.IndexOf(SlabAttributes(_kernel.Options.Version), attribute) < 0)
                return Missing(out error);
            return attribute switch
            {
                "aliases" => "0\n",                        // no cache merging in the model
                "cache_dma" => "0\n",                      // no SLAB_CACHE_DMA in the API
                "cpu_partial" => Num(c.CpuPartial),
                "cpu_slabs" => PerNode(c.CpuSlabs),
                "slabs_cpu_partial" => c.SlabsCpuPartial(),
                "destroy_by_rcu" => Flag(CacheFlags.TypesafeByRcu),
                "hwcache_align" => Flag(CacheFlags.HwcacheAlign),
                "reclaim_account" => Flag(CacheFlags.ReclaimAccount),
                "remote_node_defrag_ratio" => "100\n",     // s->remote_node_defrag_ratio = 1000, shown / 10
                "skip_kfence" => "0\n",
                "usersize" => "0\n",                       // kmem_cache_create() has no usercopy region
                "align" => Num(l.Align),
                "object_size" => Num(l.ObjectSize),
                "slab_size" => Num(l.Size),
                "objs_per_slab" => Num(l.ObjectsPerSlab),
                "order" => Num(l.Order),
                "min_partial" => $"{c.MinPartial}\n",   // %lu
                "ctor" => c.HasCtor ? $"{ModuleEntry.SlabCtor}+0x0/0x0\n" : "",
                "sanity_checks" => Flag(CacheFlags.ConsistencyChecks),
                "red_zone" => Flag(CacheFlags.RedZone),
                "poison" => Flag(CacheFlags.Poison),
                "store_user" => Flag(CacheFlags.StoreUser),
                "trace" => Flag(CacheFlags.Trace),
                "failslab" => c.FailslabMarked || (l.Flags & CacheFlags.FailSlab) != 0 ? "1\n" : "0\n",
                "total_objects" => PerNode(info.NumObjs),
                "objects" => PerNode(info.ActiveObjs),
                "slabs" => PerNode(info.NumSlabs),
                "partial" => PerNode(c.PartialSlabs),
                "objects_partial" => PerNode(c.PartialObjects),
                "validate" or "shrink" => "",
                _ => Missing(out error),
            };
        }

        private string FailslabKnob(string knob, out int error)
        {
            error = 0;
            Failslab f = _kernel.Slab.Failslab;
            return knob switch
            {
                "probability" => $"{f.Probability}\n",
                "interval" => $"{f.Interval}\n",
                "times" => $"{f.Times}\n",
                "space" => $"{f.Space}\n",
                "verbose" => $"{f.Verbose}\n",
                "ignore-gfp-wait" => f.IgnoreGfpWait ? "Y\n" : "N\n",
                "cache-filter" => f.CacheFilter ? "Y\n" : "N\n",
                _ => Missing(out error),
            };
        }

        private int SetFailslab(string knob, string value)
        {
            Failslab f = _kernel.Slab.Failslab;
            bool isBool = value is "Y" or "y" or "1" or "N" or "n" or "0";
            bool flag = value is "Y" or "y" or "1";
            bool isNumber = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n);
            switch (knob)
            {
                case "probability" when isNumber && n >= 0 && n <= 100: f.Probability = (int)n; return 0;
                case "interval" when isNumber && n >= 1: f.Interval = (ulong)n; return 0;
                case "times" when isNumber && n >= -1 && n <= int.MaxValue: f.Times = (int)n; return 0;
                case "space" when isNumber && n >= 0 && n <= int.MaxValue: f.Space = (int)n; return 0;
                case "verbose" when isNumber && n >= 0 && n <= 2: f.Verbose = (int)n; return 0;
                case "ignore-gfp-wait" when isBool: f.IgnoreGfpWait = flag; return 0;
                case "cache-filter" when isBool: f.CacheFilter = flag; return 0;
                case "probability" or "interval" or "times" or "space" or "verbose" or "ignore-gfp-wait" or "cache-filter":
                    return -Errno.EINVAL;
                default:
                    return -Errno.ENOENT;
            }
        }

        private static string Missing(out int error)
        {
            error = -Errno.ENOENT;
            return null;
        }

        /// <summary>strerror() for the errno values the model returns.</summary>
        public static string StrError(int errno) => Math.Abs(errno) switch
        {
            Errno.EPERM => "Operation not permitted",
            Errno.ENOENT => "No such file or directory",
            Errno.EIO => "Input/output error",
            Errno.E2BIG => "Argument list too long",
            Errno.EAGAIN => "Resource temporarily unavailable",
            Errno.ENOMEM => "Cannot allocate memory",
            Errno.EFAULT => "Bad address",
            Errno.EBUSY => "Device or resource busy",
            Errno.EEXIST => "File exists",
            Errno.EINVAL => "Invalid argument",
            Errno.ENOSPC => "No space left on device",
            Errno.ERANGE => "Numerical result out of range",
            Errno.ENAMETOOLONG => "File name too long",
            var e => $"Unknown error {e}",
        };
    }
}
