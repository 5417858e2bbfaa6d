// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache geometry SIZE [options]: prints the /proc/slabinfo line and the /sys/kernel/slab
// attributes the kernel would show for a cache of SIZE-byte objects, each with its reason.

using System;
using System.CommandLine;
using SimpleCache.Model.Mm;

namespace SimpleCache.Cli
{
    internal static class Geometry
    {
        public static Command BuildCommand(Option<string> kernel)
        {
            var size = new Argument<uint>("SIZE") { Description = "sizeof your struct, in bytes" };
            size.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<uint>() == 0)
                    r.AddError("SIZE is a positive number of bytes");
            });
            var align = new Option<uint>("--align") { Description = "The align argument of kmem_cache_create (a power of two, or 0)" };
            align.Validators.Add(r =>
            {
                uint a = r.GetValueOrDefault<uint>();
                if ((a & (a - 1)) != 0)
                    r.AddError($"--align must be a power of two, not {a}");
            });
            var hwcache = new Option<bool>("--hwcache-align") { Description = "SLAB_HWCACHE_ALIGN" };
            var ctor = new Option<bool>("--ctor") { Description = "The cache has a constructor" };
            var rcu = new Option<bool>("--rcu") { Description = "SLAB_TYPESAFE_BY_RCU" };
            var cpus = new Option<int>("--cpus") { Description = "CPUs of the machine", DefaultValueFactory = _ => 2 };
            cpus.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() < 1)
                    r.AddError("--cpus takes a number of at least 1");
            });
            var name = new Option<string>("--name") { Description = "The cache's name", DefaultValueFactory = _ => "mycache" };
            var debug = new Option<string>("--debug") { Description = "slub_debug= options for the cache, e.g. FZPU" };
            var command = new Command("geometry", "What the kernel would do with a cache of SIZE-byte objects: its /proc/slabinfo line " +
                "and /sys/kernel/slab attributes, each with the reason.")
            {
                size, align, hwcache, ctor, rcu, cpus, kernel, name, debug,
            };
            command.SetAction(r =>
            {
                CacheFlags flags = (r.GetValue(hwcache) ? CacheFlags.HwcacheAlign : 0) | (r.GetValue(rcu) ? CacheFlags.TypesafeByRcu : 0);
                string n = r.GetValue(name);
                string d = r.GetValue(debug);
                if (d != null)
                {
                    try
                    {
                        flags |= SlubDebugOption.Parse(d).FlagsFor(n);
                    }
                    catch (ArgumentException e)
                    {
                        Console.Error.WriteLine($"simple-cache geometry: {e.Message}");
                        return 2;
                    }
                }
                return Run(r.GetValue(size), r.GetValue(align), flags, r.GetValue(ctor), r.GetValue(cpus), n,
                    Program.ParseVersion(r.GetValue(kernel)));
            });
            return command;
        }

        public static int Run(uint size, uint align, CacheFlags flags, bool ctor, int cpus, string name, KernelVersion version)
        {
            SlabLayout layout = SlabGeometry.Calculate(version, size, align, flags, ctor, cpus);
            if (layout == null || size > SlabAllocator.KmallocMaxSize)
            {
                Console.WriteLine($"kmem_cache_create({name}) would fail: no slab order can hold a {size}-byte object");
                return 1;
            }
            Console.WriteLine("slabinfo - version: 2.1");
            Console.WriteLine("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>");
            Console.WriteLine(SlabAllocator.FormatSlabinfoLine(new SlabInfo(name, 0, 0, layout.Size, layout.ObjectsPerSlab, layout.PagesPerSlab, 0, 0)));
            Console.WriteLine();
            foreach (GeometryFact fact in GeometryExplanation.Explain(version, layout, align, flags, ctor, cpus))
                Console.WriteLine($"{"/sys/kernel/slab/" + name + "/" + fact.Attribute,-40} {fact.Value,6}  {fact.Reason}");
            return 0;
        }
    }
}
