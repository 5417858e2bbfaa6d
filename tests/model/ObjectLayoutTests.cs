// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// What simple-cache layout names each byte of a slot (model/mm/ObjectLayout.cs): the regions
// as mm/slub.c's print_trailer() and calculate_sizes() name them, in order, with the struct
// kmem_cache field each comes from and the poison values slub_debug fills them with.

using System.Linq;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class ObjectLayoutTests
    {
        private static (string Name, string Field)[] Named(KernelVersion v, uint size, CacheFlags flags, bool ctor) =>
            ObjectLayout.Regions(v, SlabGeometry.Calculate(v, size, 0, flags, ctor, 1)).Select(r => (r.Name, r.Field)).ToArray();

        [Fact]
        public void SimpleCachesPlainSlotIsTheObjectItsFreePointerAndPadding()
        {
            Assert.Equal([("Object", "s->object_size"), ("Free pointer", "s->offset"), ("Object padding", "s->size")],
                Named(KernelVersion.V6_12, 64, CacheFlags.HwcacheAlign, ctor: true));
            var padding = ObjectLayout.Regions(KernelVersion.V6_12, SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0, CacheFlags.HwcacheAlign, true, 1))[^1];
            Assert.Equal("to the alignment: the slot's unused bytes", padding.Meaning);
        }

        [Fact]
        public void AFreePointerInsideTheObjectSplitsIt()
        {
            // No constructor, no debugging: the free pointer sits in the middle of the free object
            // (6.1 and 6.12 put it at the middle, aligned down to a word: offset 32 of 64).
            var regions = ObjectLayout.Regions(KernelVersion.V6_12, SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0, CacheFlags.None, false, 1));
            Assert.Equal([("Object", 0u, 32u), ("Free pointer", 32u, 8u), ("Object", 40u, 24u)], regions.Select(r => (r.Name, r.Start, r.Length)));
            Assert.StartsWith("inside the object: while it is free, the address of the next free object", regions[1].Meaning);
        }

        [Fact]
        public void FullDebuggingNamesEveryRegionAsPrintTrailerDoes()
        {
            const CacheFlags fzpu = CacheFlags.HwcacheAlign | CacheFlags.ConsistencyChecks | CacheFlags.RedZone | CacheFlags.Poison | CacheFlags.StoreUser;
            Assert.Equal([("Left Redzone", "s->red_left_pad"), ("Object", "s->object_size"), ("Right Redzone", "s->inuse - s->object_size"),
                    ("Free pointer", "s->offset"), ("Tracking data (alloc)", "struct track"), ("Tracking data (free)", "struct track"), ("Object padding", "s->size")],
                Named(KernelVersion.V6_12, 64, fzpu, ctor: true));
            var regions = ObjectLayout.Regions(KernelVersion.V6_12, SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0, fzpu, true, 1));
            Assert.Contains("0xbb while free, 0xcc while allocated", regions[0].Meaning);
            Assert.Contains("0xbb while free, 0xcc while allocated", regions[2].Meaning);
            Assert.Equal("to the alignment; filled with 0x5a (POISON_INUSE) and checked", regions[^1].Meaning);
        }

        [Fact]
        public void RedZonesAloneLeaveThePaddingUnchecked()
        {
            // check_pad_bytes() and setup_slab_debug()'s 0x5a come with SLAB_POISON only: under
            // SLAB_RED_ZONE alone the extra word of padding is neither filled nor checked.
            var regions = ObjectLayout.Regions(KernelVersion.V6_12, SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0, CacheFlags.RedZone, false, 1));
            Assert.Equal("Object padding", regions[^1].Name);
            Assert.Equal("to the alignment: the slot's unused bytes", regions[^1].Meaning);
        }

        [Fact]
        public void AKmallocCacheWithTrackingStoresTheRequestedSize()
        {
            const CacheFlags flags = CacheFlags.Kmalloc | CacheFlags.StoreUser;
            var names = Named(KernelVersion.V6_1, 64, flags, ctor: false).Select(n => n.Name).ToArray();
            Assert.Equal(["Tracking data (alloc)", "Tracking data (free)", "Original request size"], names.SkipWhile(n => !n.StartsWith("Tracking")).Take(3));
        }
    }
}
