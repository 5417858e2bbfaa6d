// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache geometry SIZE [options]: prints the /proc/slabinfo line and the /sys/kernel/slab
// attributes the kernel would show for a cache of SIZE-byte objects, each with its reason.

using System;
using SimpleCache.Model.Mm;

namespace SimpleCache.Cli
{
    internal static class Geometry
    {
        public static int Run(string[] args)
        {
            uint size = 0, align = 0;
            CacheFlags flags = CacheFlags.None;
            bool ctor = false;
            int cpus = 2;
            string name = "mycache";
            KernelVersion version = KernelVersion.V6_12;
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--align": align = (uint)Program.ParseInt("--align", Next(), 0); break;
                    case "--hwcache-align": flags |= CacheFlags.HwcacheAlign; break;
                    case "--ctor": ctor = true; break;
                    case "--rcu": flags |= CacheFlags.TypesafeByRcu; break;
                    case "--cpus": cpus = Program.ParseInt("--cpus", Next(), 1); break;
                    case "--kernel": version = Program.ParseVersion(Next()); break;
                    case "--name": name = Next(); break;
                    case "--debug": flags |= SlubDebugOption.Parse(Next()).FlagsFor(name); break;
                    default:
                        if (size != 0 || !uint.TryParse(args[i], out size) || size == 0)
                            throw new ArgumentException($"unexpected argument '{args[i]}' (SIZE is a positive number of bytes)");
                        break;
                }
            }
            if (size == 0)
                throw new ArgumentException("geometry needs the object SIZE in bytes");
            if (align != 0 && (align & (align - 1)) != 0)
                throw new ArgumentException($"--align must be a power of two, not {align}");

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
