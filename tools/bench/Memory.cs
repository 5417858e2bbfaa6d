// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Memory held per live 64-byte object, 100,000 of them live, in two states:
//   steady:  100,000 allocated, all freed, 100,000 allocated again (a workload whose live set
//            comes and goes whole: what the allocator keeps besides the objects themselves);
//   churned: 200,000 allocated and a random half freed (the live objects are scattered: a slab
//            allocator keeps every slab that still has one, which is fragmentation).
// A slab allocator's figure is its slabs' bytes; glibc's is what its heap took from the system
// (mallinfo2's arena and the mmapped bytes), measured as a difference.

using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using SimpleCache.Model;
using SimpleCache.Model.Mm;

namespace SimpleCache.Bench
{
    internal static unsafe partial class Memory
    {
        private const int Live = 100_000;

        public static List<(string Name, double Steady, double Churned)> Measure()
        {
            var results = new List<(string, double, double)>();

            var steadySlab = new SimpleCache.Slab.SlabCache("steady", 64);
            Steady(new Slab(steadySlab));
            var churnedSlab = new SimpleCache.Slab.SlabCache("churned", 64);
            Churned(new Slab(churnedSlab));
            results.Add(("SimpleCache.Slab (its slabs)", (double)steadySlab.Bytes / Live, (double)churnedSlab.Bytes / Live));

            using (var kernel = new ModelKernel(new KernelOptions { Cpus = 2, MemoryMiB = 128 }).Enter())
            {
                SimpleCache.Model.Mm.SlabCache steady = kernel.Slab.Create("steady", 64, 0, CacheFlags.None, 0);
                Steady(new Model(steady));
                SimpleCache.Model.Mm.SlabCache churned = kernel.Slab.Create("churned", 64, 0, CacheFlags.None, 0);
                Churned(new Model(churned));
                static double Bytes(SimpleCache.Model.Mm.SlabCache c) => (double)c.GetSlabInfo().NumSlabs * c.GetSlabInfo().PagesPerSlab * 4096 / Live;
                results.Add(("model kmem_cache (its slabs' pages)", Bytes(steady), Bytes(churned)));
            }

            ulong before = Held();
            Steady(new Malloc());
            ulong middle = Held();
            Churned(new Malloc());
            results.Add(("glibc malloc (heap taken from the system)", (double)(middle - before) / Live, (double)(Held() - middle) / Live));
            return results;
        }

        private static void Steady<T>(T a) where T : struct, IAllocator
        {
            var live = new nint[Live];
            for (int i = 0; i < Live; i++)
                live[i] = (nint)a.Alloc();
            for (int i = 0; i < Live; i++)
                a.Free((void*)live[i]);
            for (int i = 0; i < Live; i++)
                live[i] = (nint)a.Alloc();
            // They stay allocated: this is a measurement, not a cleanup.
        }

        private static void Churned<T>(T a) where T : struct, IAllocator
        {
            var all = new nint[2 * Live];
            for (int i = 0; i < all.Length; i++)
                all[i] = (nint)a.Alloc();
            new Random(5).Shuffle(all);
            for (int i = 0; i < Live; i++)
                a.Free((void*)all[i]);
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct MallInfo
        {
            public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
        }

        [LibraryImport("libc", EntryPoint = "mallinfo2")]
        private static partial MallInfo MallInfo2();

        /// <summary>What glibc's heap has taken from the system: mallinfo2()'s arena and mmapped bytes.</summary>
        internal static ulong Held()
        {
            MallInfo m = MallInfo2();
            return m.Arena + m.Hblkhd;
        }
    }
}
