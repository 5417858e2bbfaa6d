// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// /proc/simple_cache_map, the module's root-only view of where the kernel put each object: the
// slab (as %pK prints it, so kptr_restrict decides) and the offset in it. In the model, both can
// be checked against the allocator's own map (SlabCache.Map); in the VM, tests/vm/guest/module.sh
// checks them against /proc/slabinfo and /sys/kernel/slab.

using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class MapViewTests
    {
        private static List<(int Id, string Name, string Slab, long Offset)> Rows(ModelKernel k)
        {
            string text = k.Fs.Read("/proc/simple_cache_map", out int error);
            Assert.Equal(0, error);
            string[] lines = text.Split('\n', System.StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith("objects: ", lines[0]);
            Assert.Equal("id     name                            slab             offset", lines[1]);
            return lines.Skip(2).Select(l => l.Split(' ', System.StringSplitOptions.RemoveEmptyEntries))
                .Select(w => (int.Parse(w[0], CultureInfo.InvariantCulture), w[1], w[2], long.Parse(w[3], CultureInfo.InvariantCulture))).ToList();
        }

        [Theory]
        [InlineData(KernelVersion.V6_1, null)]
        [InlineData(KernelVersion.V6_12, null)]
        [InlineData(KernelVersion.V6_12, "FZPU")]
        public void EachObjectIsShownInItsSlabAtItsOffset(KernelVersion version, string slubDebug)
        {
            using var k = K.Boot(version, slubDebug: slubDebug);
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, ""));
            for (int i = 0; i < 40; i++)
                Assert.Equal(0, k.Fs.Write("/proc/simple_cache", $"add o{i}"));
            Assert.Equal(0, k.Fs.Write("/proc/simple_cache", "del 7"));
            SlabCache cache = k.Slab.Find("simple_cache");
            Assert.Equal((ushort)0x100, k.Fs.Entry("simple_cache_map").Mode);   // 0400: root reads, nobody writes

            k.KptrRestrict = 1;   // root with CAP_SYSLOG sees the addresses
            var rows = Rows(k);
            Assert.Equal(41, rows.Count);
            Assert.Equal(Enumerable.Range(1, 42).Where(i => i != 7), rows.Select(r => r.Id));
            // Every row names an allocated slot of the allocator's own map: that slab, that offset.
            var slots = cache.Map().Slabs.SelectMany(s => s.Slots.Where(x => !x.Free).Select(x => (Slab: ((ulong)s.Address).ToString("x16"), Offset: (long)(x.Address - s.Address))))
                .ToHashSet();
            Assert.Equal(slots.Count, rows.Count);
            Assert.All(rows, r => Assert.Contains((r.Slab, r.Offset), slots));
            // The slot index is the offset over s->size (a left red zone only adds to the offset).
            Assert.All(rows, r => Assert.Equal(cache.Layout.RedLeftPad, (uint)(r.Offset % cache.Layout.Size)));
            Assert.All(rows, r => Assert.InRange(r.Offset / cache.Layout.Size, 0, cache.Layout.ObjectsPerSlab - 1));

            // kptr_restrict 0: hashed, the same value for the same slab, and not the address; but
            // slub_debug turns on no_hash_pointers, and then it is the address (as in the VM).
            k.KptrRestrict = 0;
            var hashed = Rows(k);
            Assert.Equal(rows.Select(r => r.Offset), hashed.Select(r => r.Offset));
            if (slubDebug != null)
                Assert.Equal(rows.Select(r => r.Slab), hashed.Select(r => r.Slab));
            else
            {
                Assert.Equal(rows.Select(r => r.Slab).Distinct().Count(), hashed.Select(r => r.Slab).Distinct().Count());
                Assert.All(hashed, r => Assert.StartsWith("00000000", r.Slab));
                Assert.Empty(hashed.Select(r => r.Slab).Intersect(rows.Select(r => r.Slab)));
            }
            // kptr_restrict 2: zeros for everyone.
            k.KptrRestrict = 2;
            Assert.All(Rows(k), r => Assert.Equal("0000000000000000", r.Slab));
        }

        [Fact]
        public void TheMapIsReadOnlyAndGoesWithTheModule()
        {
            using var k = K.Boot();
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache, ""));
            Assert.Equal(-5, k.Fs.Write("/proc/simple_cache_map", "add x"));   // no write operation: EIO
            Assert.Equal((ushort)0x1A4, k.Fs.Entry("simple_cache").Mode);      // the registry: 0644
            Assert.Equal(2, Rows(k).Count);
            Assert.Equal(0, k.Fs.Write("/proc/sys/kernel/kptr_restrict", "2"));
            Assert.Equal("2\n", k.Fs.Read("/proc/sys/kernel/kptr_restrict", out _));
            Assert.Equal(-22, k.Fs.Write("/proc/sys/kernel/kptr_restrict", "3"));
            Assert.Equal(0, k.Modules.Rmmod("simple_cache"));
            Assert.Null(k.Fs.Read("/proc/simple_cache_map", out int error));
            Assert.Equal(-2, error);
        }

        [Fact]
        public void FailingToCreateTheMapUndoesTheLoad()
        {
            using var k = K.Boot();
            long free = k.Pages.NrFreePages;
            // The map's file is allocation 6: cache, alpha, beta, lock, registry file, map file.
            Assert.Equal(-12, k.Modules.Insmod(K.SimpleCache, "fail_nth=6"));
            Assert.Contains("CACHE: cannot create /proc/simple_cache_map, undoing", K.AllLines(k));
            Assert.Null(k.Fs.Read("/proc/simple_cache", out _));
            Assert.Null(k.Slab.Find("simple_cache"));
            K.AssertNothingLeft(k, free);
        }
    }
}
