// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Slab geometry, worked through by hand from mm/slub.c. The first two rows are what the VM's
// /proc/slabinfo shows for simple_cache; the VM harness (tests/vm/geometry.sh) compares the
// model with both real kernels for a whole matrix of caches on every run.

using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class GeometryTests
    {
        [Theory]
        // version, size, align, flags, ctor, cpus -> slot size, objects per slab, order
        [InlineData(KernelVersion.V6_1, 64u, 0u, CacheFlags.HwcacheAlign, true, 1, 128u, 32u, 0)]    // simple_cache, as the VM's slabinfo shows it
        [InlineData(KernelVersion.V6_12, 64u, 0u, CacheFlags.HwcacheAlign, true, 1, 128u, 32u, 0)]
        [InlineData(KernelVersion.V6_12, 64u, 0u, CacheFlags.None, false, 2, 64u, 64u, 0)]
        [InlineData(KernelVersion.V6_12, 24u, 0u, CacheFlags.HwcacheAlign, false, 2, 32u, 128u, 0)]
        public void KnownLayouts(KernelVersion v, uint size, uint align, CacheFlags flags, bool ctor, int cpus, uint slot, uint perSlab, int order)
        {
            SlabLayout l = SlabGeometry.Calculate(v, size, align, flags, ctor, cpus);
            Assert.Equal(slot, l.Size);
            Assert.Equal(perSlab, l.ObjectsPerSlab);
            Assert.Equal(order, l.Order);
        }

        [Theory]
        [InlineData(1u, 8u)]
        [InlineData(8u, 8u)]
        [InlineData(9u, 16u)]
        [InlineData(24u, 32u)]
        [InlineData(32u, 32u)]
        [InlineData(33u, 64u)]
        [InlineData(100u, 64u)]
        public void HwcacheAlignHalvesTheCacheLineWhileTheObjectFitsInHalf(uint size, uint expected) =>
            Assert.Equal(expected, SlabGeometry.CalculateAlignment(CacheFlags.HwcacheAlign, 0, size));

        [Fact]
        public void AConstructorPoisonOrRcuMovesTheFreePointerOutOfTheObject()
        {
            Assert.Equal(32u, SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0, 0, false, 2).Offset);
            Assert.Equal(64u, SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0, 0, true, 2).Offset);
            Assert.Equal(64u, SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0, CacheFlags.Poison, false, 2).Offset);
            Assert.Equal(64u, SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0, CacheFlags.TypesafeByRcu, false, 2).Offset);
        }

        [Fact]
        public void FullDebuggingAddsRedZonesTracksAndPadding()
        {
            // 64 + 8 right red zone = 72 (inuse); +8 free pointer (poison); +64 tracks; +8 pad word;
            // +8 left red zone = 160.
            SlabLayout l = SlabGeometry.Calculate(KernelVersion.V6_12, 64, 0,
                CacheFlags.ConsistencyChecks | CacheFlags.RedZone | CacheFlags.Poison | CacheFlags.StoreUser, false, 2);
            Assert.Equal(72u, l.Inuse);
            Assert.Equal(72u, l.Offset);
            Assert.Equal(8u, l.RedLeftPad);
            Assert.Equal(160u, l.Size);
        }

        [Fact]
        public void AKmallocCacheWithUserTrackingStoresTheRequestSize()
        {
            // 6.1: 32 + 8 right red zone = 40 (inuse), free pointer inside at 16, +64 tracks,
            // +4 request size, +8 pad word, +8 left red zone = 124, aligned to 8: 128.
            var flags = CacheFlags.Kmalloc | CacheFlags.StoreUser | CacheFlags.RedZone;
            SlabLayout l61 = SlabGeometry.Calculate(KernelVersion.V6_1, 32, 0, flags, false, 2);
            Assert.Equal(16u, l61.Offset);
            Assert.Equal(128u, l61.Size);
            // 6.12: the stored size moves the free pointer out (+8 at 40), +64, +8 (an unsigned
            // long since 6.12.7x), +8, +8 = 136.
            SlabLayout l612 = SlabGeometry.Calculate(KernelVersion.V6_12, 32, 0, flags, false, 2);
            Assert.Equal(40u, l612.Offset);
            Assert.Equal(136u, l612.Size);
        }

        [Theory]
        // slab_size of kmalloc caches with slub_debug=ZU, as Debian's kernels show it in the VM
        // (/sys/kernel/slab/kmalloc-N/slab_size): the request size is stored, and 6.12 aligns
        // kmalloc-96 to 32.
        [InlineData(KernelVersion.V6_1, 8u, 104u)]
        [InlineData(KernelVersion.V6_1, 32u, 160u)]
        [InlineData(KernelVersion.V6_1, 96u, 192u)]
        [InlineData(KernelVersion.V6_12, 8u, 112u)]
        [InlineData(KernelVersion.V6_12, 32u, 160u)]
        [InlineData(KernelVersion.V6_12, 96u, 224u)]
        public void KmallocCachesWithRedZonesAndTrackingMatchTheKernel(KernelVersion version, uint size, uint slabSize)
        {
            using var k = K.Boot(version, slubDebug: "ZU");
            Assert.Equal(slabSize, k.Slab.Find($"kmalloc-{size}").Layout.Size);
        }

        [Theory]
        // The orders Debian's kernels chose for slab_matrix.c's caches of these sizes (no flags,
        // no alignment, 2 CPUs: /sys/kernel/slab/kcsm_sN_a0_f0_c0/order, the same with 4 CPUs).
        // Up to 10920 bytes three objects fit an order-3 slab with little enough waste for both.
        // From 10928 to 12280 only two fit: 6.1's calculate_order() lowers min_objects step by
        // step and settles for order 2, one object per 16 KiB; 6.8+ accepts the waste of the
        // order that holds two, order 3. At 12288 two objects leave exactly a quarter of the order-3
        // slab, the most waste 6.1's first search accepts (slab_size / 4), so 6.1 takes order 3 too.
        [InlineData(10920u, 3, 3)]
        [InlineData(10928u, 2, 3)]
        [InlineData(12000u, 2, 3)]
        [InlineData(12280u, 2, 3)]
        [InlineData(12288u, 3, 3)]
        [InlineData(8192u, 3, 3)]
        [InlineData(5000u, 3, 3)]
        public void The68OrderSearchDiffersFrom61(uint size, int order61, int order612)
        {
            Assert.Equal(order61, SlabGeometry.CalculateOrder(KernelVersion.V6_1, size, 2));
            Assert.Equal(order612, SlabGeometry.CalculateOrder(KernelVersion.V6_12, size, 2));
        }

        [Fact]
        public void MinObjectsGrowsWithTheNumberOfCpus()
        {
            Assert.Equal(8u, SlabGeometry.MinObjects(1));
            Assert.Equal(12u, SlabGeometry.MinObjects(2));
            Assert.Equal(16u, SlabGeometry.MinObjects(4));
            Assert.Equal(20u, SlabGeometry.MinObjects(8));
        }
    }
}
