// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The slab map (SlabCache.Map) and the slot layout (ObjectLayout): a map must predict what the
// allocator does next (the freelist order is the order of the next allocations), group slabs as
// SLUB holds them, and agree with /proc/slabinfo; a layout must cover the slot exactly, with
// the regions mm/slub.c names.

using System.Collections.Generic;
using System.Linq;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public unsafe class SlabMapTests
    {
        private const CacheFlags Fzpu = CacheFlags.ConsistencyChecks | CacheFlags.RedZone | CacheFlags.Poison | CacheFlags.StoreUser;

        // The free slots of a map, in the order the next allocations take them.
        private static List<nint> FreeInOrder(SlabView slab) =>
            slab.Slots.Where(s => s.Free).OrderBy(s => s.OnCpuFreelist ? 0 : 1).ThenBy(s => s.FreelistPosition)
                .Select(s => s.Address).ToList();

        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void TheCpuFreelistOrderIsTheOrderOfTheNextAllocations(KernelVersion version)
        {
            using var k = K.Boot(version, cpus: 2);
            k.Slab.MigrateTo(1);
            SlabCache s = k.Slab.Create("mapped", 64, 0, CacheFlags.None, 0);
            nint first = (nint)s.Alloc();
            CacheMap map = s.Map();
            SlabView slab = Assert.Single(map.Slabs);
            Assert.Equal((SlabPlace.CpuSlab, 1, true), (slab.Place, slab.Cpu, slab.Frozen));
            Assert.Equal(64, slab.Slots.Count);
            Assert.Equal(first, Assert.Single(slab.Slots, x => !x.Free).Address);
            Assert.All(slab.Slots.Where(x => x.Free), x => Assert.True(x.OnCpuFreelist));
            Assert.Equal(Enumerable.Range(0, 63), slab.Slots.Where(x => x.Free).Select(x => x.FreelistPosition).Order());

            // The slots ordered by freelist position are handed out in that order.
            List<nint> predicted = FreeInOrder(slab);
            Assert.Equal(predicted.Take(10), Enumerable.Range(0, 10).Select(_ => (nint)s.Alloc()));
        }

        [Fact]
        public void AFreedObjectIsFirstOnTheCpuFreelistAndIsReusedNext()
        {
            using var k = K.Boot(cpus: 1);
            SlabCache s = k.Slab.Create("reuse", 64, 0, CacheFlags.None, 0);
            var objects = Enumerable.Range(0, 5).Select(_ => (nint)s.Alloc()).ToList();
            s.Free((void*)objects[2]);
            SlabView slab = Assert.Single(s.Map().Slabs);
            SlotView freed = Assert.Single(slab.Slots, x => x.Address == objects[2]);
            Assert.Equal((true, 0, true), (freed.Free, freed.FreelistPosition, freed.OnCpuFreelist));
            Assert.Equal(4, slab.Allocated);
            Assert.Equal(objects[2], (nint)s.Alloc());
        }

        [Theory]
        [InlineData(KernelVersion.V6_1, true)]
        [InlineData(KernelVersion.V6_12, false)]
        public void AFullSlabIsOnNoListUntilAFreeMovesItToTheCpuPartialList(KernelVersion version, bool frozen)
        {
            using var k = K.Boot(version, cpus: 1);
            SlabCache s = k.Slab.Create("full", 64, 0, CacheFlags.None, 0);
            var first = Enumerable.Range(0, 64).Select(_ => (nint)s.Alloc()).ToList();
            nint next = (nint)s.Alloc();   // the first slab is full: a new CPU slab
            CacheMap map = s.Map();
            Assert.Equal(new[] { SlabPlace.CpuSlab, SlabPlace.Full }, map.Slabs.Select(x => x.Place));
            Assert.Equal((64, 0), (map.Slabs[1].Allocated, map.Slabs[1].Slots.Count(x => x.Free)));
            Assert.Contains(map.Slabs[0].Slots, x => x.Address == next && !x.Free);

            s.Free((void*)first[7]);   // __slab_free(): a full slab that gets a free goes to the CPU partial list
            map = s.Map();
            SlabView partial = Assert.Single(map.Slabs, x => x.Place == SlabPlace.CpuPartial);
            Assert.Equal((0, frozen, 63), (partial.Cpu, partial.Frozen, partial.Allocated));
            SlotView freed = Assert.Single(partial.Slots, x => x.Free);
            Assert.Equal((first[7], 0, false), (freed.Address, freed.FreelistPosition, freed.OnCpuFreelist));
        }

        [Fact]
        public void ADebugCacheKeepsItsSlabsOnTheNodeLists()
        {
            using var k = K.Boot(cpus: 2, slubDebug: "FZPU,tracked");
            SlabCache s = k.Slab.Create("tracked", 64, 0, CacheFlags.None, 0);
            int perSlab = (int)s.Layout.ObjectsPerSlab;
            var objects = Enumerable.Range(0, perSlab + 1).Select(_ => (nint)s.Alloc()).ToList();
            CacheMap map = s.Map();
            // SLAB_STORE_USER: full slabs go on n->full; no CPU slabs at all.
            Assert.Equal(new[] { SlabPlace.NodePartial, SlabPlace.NodeFull }, map.Slabs.Select(x => x.Place).Order());
            Assert.All(map.Slabs, x => Assert.Equal((-1, false), (x.Cpu, x.Frozen)));
            SlabView partial = Assert.Single(map.Slabs, x => x.Place == SlabPlace.NodePartial);
            Assert.Equal(FreeInOrder(partial).First(), (nint)s.Alloc());
            Assert.Equal(objects.Count + 1, s.Map().Allocated);
        }

        [Theory]
        [InlineData(null)]
        [InlineData("FZPU")]
        public void TheMapAgreesWithSlabinfoAndTheFreeObjects(string slubDebug)
        {
            using var k = K.Boot(cpus: 2, slubDebug: slubDebug);
            SlabCache s = k.Slab.Create("agree", 200, 0, CacheFlags.None, 0);
            var live = new List<nint>();
            var random = new System.Random(3);
            for (int step = 0; step < 2000; step++)
            {
                k.Slab.MigrateTo(random.Next(2));
                if (live.Count > 0 && random.Next(3) == 0)
                {
                    int i = random.Next(live.Count);
                    s.Free((void*)live[i]);
                    live.RemoveAt(i);
                }
                else
                    live.Add((nint)s.Alloc());
            }
            CacheMap map = s.Map();
            SlabInfo info = s.GetSlabInfo();
            Assert.Equal((info.NumSlabs, info.NumObjs), (map.Slabs.Count, map.Slots));
            Assert.Equal(live.Order(), map.Slabs.SelectMany(x => x.Slots).Where(x => !x.Free).Select(x => x.Address).Order());
            Assert.Equal(s.FreeObjects().Order(), map.Slabs.SelectMany(x => x.Slots).Where(x => x.Free).Select(x => x.Address).Order());
            Assert.Equal(s.PartialSlabs, map.Slabs.Count(x => x.Place == SlabPlace.NodePartial));
            Assert.Equal(map.Slabs.Select(x => x.Address).Distinct().Count(), map.Slabs.Count);
            // Each freelist's positions are 0..n-1 with no gaps.
            foreach (SlabView slab in map.Slabs)
                foreach (bool cpu in new[] { true, false })
                {
                    var positions = slab.Slots.Where(x => x.Free && x.OnCpuFreelist == cpu).Select(x => x.FreelistPosition).Order().ToList();
                    if (cpu || !slab.Slots.Any(x => x.Free && x.OnCpuFreelist))
                        Assert.Equal(Enumerable.Range(0, positions.Count), positions);
                }
        }

        [Theory]
        // simple_cache's struct cache_obj: 64 bytes, a constructor, SLAB_HWCACHE_ALIGN. Plain, the
        // free pointer goes after the object (the constructor's work must survive) and the slot
        // rounds up to 128, the slab_size the VMs show. Under slub_debug=FZPU, calculate_sizes()
        // adds a red zone word (the object fills its words), the free pointer, two struct track
        // of 32 bytes, one more word, and red_left_pad = ALIGN(8, 64): 216, aligned to 256.
        [InlineData(KernelVersion.V6_1, null, "Object 0+64, Free pointer 64+8, Object padding 72+56")]
        [InlineData(KernelVersion.V6_12, null, "Object 0+64, Free pointer 64+8, Object padding 72+56")]
        [InlineData(KernelVersion.V6_1, "FZPU", "Left Redzone 0+64, Object 64+64, Right Redzone 128+8, Free pointer 136+8, " +
            "Tracking data (alloc) 144+32, Tracking data (free) 176+32, Object padding 208+48")]
        [InlineData(KernelVersion.V6_12, "FZPU", "Left Redzone 0+64, Object 64+64, Right Redzone 128+8, Free pointer 136+8, " +
            "Tracking data (alloc) 144+32, Tracking data (free) 176+32, Object padding 208+48")]
        public void SimpleCachesSlotAsCalculateSizesLaysItOut(KernelVersion version, string slubDebug, string expected)
        {
            CacheFlags debug = slubDebug == null ? CacheFlags.None : Fzpu;
            SlabLayout l = SlabGeometry.Calculate(version, 64, 0, CacheFlags.HwcacheAlign | debug, hasCtor: true, cpus: 2);
            Assert.Equal(expected, string.Join(", ", ObjectLayout.Regions(version, l).Select(r => $"{r.Name} {r.Start}+{r.Length}")));
            Assert.Equal(slubDebug == null ? 128u : 256u, l.Size);
        }

        [Fact]
        public void WithoutAConstructorTheFreePointerSitsInTheMiddleOfTheObject()
        {
            SlabLayout l = SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0, CacheFlags.None, hasCtor: false, cpus: 2);
            Assert.Equal("Object 0+32, Free pointer 32+8, Object 40+24",
                string.Join(", ", ObjectLayout.Regions(KernelVersion.V6_12, l).Select(r => $"{r.Name} {r.Start}+{r.Length}")));
        }

        [Theory]
        [InlineData(KernelVersion.V6_1, 64u, CacheFlags.HwcacheAlign, true)]
        [InlineData(KernelVersion.V6_12, 64u, CacheFlags.HwcacheAlign, true)]
        [InlineData(KernelVersion.V6_1, 61u, CacheFlags.None, false)]
        [InlineData(KernelVersion.V6_12, 4u, CacheFlags.None, false)]
        [InlineData(KernelVersion.V6_12, 200u, CacheFlags.Kmalloc, false)]
        [InlineData(KernelVersion.V6_1, 200u, CacheFlags.Kmalloc, false)]
        public void UnderSlubDebugTheSlotHasRedZonesTracksAndPadding(KernelVersion version, uint size, CacheFlags flags, bool ctor)
        {
            SlabLayout l = SlabGeometry.Calculate(version, size, 0, flags | Fzpu, ctor, cpus: 2);
            IReadOnlyList<LayoutRegion> regions = ObjectLayout.Regions(version, l);
            // Contiguous from 0 to s->size.
            Assert.Equal(0u, regions[0].Start);
            Assert.All(regions.Zip(regions.Skip(1)), p => Assert.Equal(p.First.End, p.Second.Start));
            Assert.Equal(l.Size, regions[^1].End);
            var names = regions.Select(r => r.Name).ToList();
            Assert.Equal("Left Redzone", names[0]);
            Assert.Equal(l.RedLeftPad, regions[0].Length);
            Assert.Equal(l.RedLeftPad, regions.First(r => r.Name == "Object").Start);
            Assert.Contains("Right Redzone", names);
            Assert.Equal(2, names.Count(n => n.StartsWith("Tracking data", System.StringComparison.Ordinal)));
            Assert.Equal(1, names.Count(n => n == "Free pointer"));
            Assert.Equal((flags & CacheFlags.Kmalloc) != 0, names.Contains("Original request size"));
            // Poisoning owns the object's bytes: the free pointer is after it, at s->offset.
            LayoutRegion fp = regions.Single(r => r.Name == "Free pointer");
            Assert.Equal(l.RedLeftPad + l.Offset, fp.Start);
            Assert.True(fp.Start >= l.RedLeftPad + l.ObjectSize);
        }
    }
}
