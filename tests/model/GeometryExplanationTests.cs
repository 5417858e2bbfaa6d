// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache geometry's explanations (model/mm/GeometryExplanation.cs): each figure with the
// reason calculate_sizes() and calculate_order() give it, for simple_cache's own cache (the VMs
// show 128-byte slots, 32 to a 4 KiB slab) and for kmalloc-8's shape.

using System.Linq;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class GeometryExplanationTests
    {
        [Fact]
        public void SimpleCachesSlotIsExplainedByItsConstructorAndTheCacheLine()
        {
            const CacheFlags flags = CacheFlags.HwcacheAlign;
            SlabLayout l = SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0, flags, true, 2);
            var facts = GeometryExplanation.Explain(KernelVersion.V6_12, l, 0, flags, true, 2).ToDictionary(f => f.Attribute);
            Assert.Equal(["object_size", "align", "slab_size", "objs_per_slab", "order", "min_partial"], facts.Keys);
            Assert.Equal((64, "the size you asked for (sizeof your struct)"), (facts["object_size"].Value, facts["object_size"].Reason));
            Assert.Equal(64, facts["align"].Value);
            Assert.StartsWith("SLAB_HWCACHE_ALIGN: the 64-byte cache line", facts["align"].Reason);
            Assert.Equal((128, "64 bytes, +8 free pointer after the object (the constructor's work must survive while the object is free), rounded up to the alignment 64"),
                (facts["slab_size"].Value, facts["slab_size"].Reason));
            Assert.Equal((32, "a 4096-byte slab / 128 = 32, 0 bytes left over"), (facts["objs_per_slab"].Value, facts["objs_per_slab"].Reason));
            Assert.Equal(0, facts["order"].Value);
            Assert.StartsWith("6.8+: start at the order that holds 12 objects (4 * (fls(2 CPUs) + 1))", facts["order"].Reason);
            Assert.Equal((5, "ilog2(128) / 2, kept between 5 and 10: empty slabs kept for reuse"), (facts["min_partial"].Value, facts["min_partial"].Reason));
        }

        [Fact]
        public void ATinyObjectKeepsItsFreePointerInsideAndIsPaddedToAWord()
        {
            SlabLayout l = SlabGeometry.Calculate(KernelVersion.V6_1, 4, 0, CacheFlags.None, false, 1);
            var facts = GeometryExplanation.Explain(KernelVersion.V6_1, l, 0, CacheFlags.None, false, 1).ToDictionary(f => f.Attribute);
            Assert.Equal((8, "at least ARCH_SLAB_MINALIGN (8) and a multiple of the pointer size"), (facts["align"].Value, facts["align"].Reason));
            Assert.Equal((8, "4 bytes, padded to 8 (whole words) (the free pointer lives inside the free object, at offset 0), rounded up to the alignment 8"),
                (facts["slab_size"].Value, facts["slab_size"].Reason));
            Assert.Equal((512, "a 4096-byte slab / 8 = 512, 0 bytes left over"), (facts["objs_per_slab"].Value, facts["objs_per_slab"].Reason));
            Assert.StartsWith("6.1: the smallest order up to 3 that holds 8 objects (4 * (fls(1 CPUs) + 1))", facts["order"].Reason);
        }

        [Fact]
        public void FullDebuggingNamesEveryAddedPart()
        {
            const CacheFlags flags = CacheFlags.HwcacheAlign | CacheFlags.RedZone | CacheFlags.Poison | CacheFlags.StoreUser | CacheFlags.ConsistencyChecks;
            SlabLayout l = SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0, flags, true, 1);
            string reason = GeometryExplanation.Explain(KernelVersion.V6_12, l, 32, flags, true, 1).Single(f => f.Attribute == "slab_size").Reason;
            Assert.Contains(", +8 right red zone", reason);
            Assert.Contains("+8 free pointer after the object (the constructor's work", reason);
            Assert.Contains($", +{2 * SlabGeometry.TrackSize} alloc/free tracking", reason);
            Assert.Contains(", +8 padding word, +", reason);
            Assert.Contains("; you asked for 32", GeometryExplanation.Explain(KernelVersion.V6_12, l, 32, flags, true, 1).Single(f => f.Attribute == "align").Reason);
        }
    }
}
