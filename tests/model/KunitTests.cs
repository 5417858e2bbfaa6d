// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// lib/slub_kunit.c's cases (Linux 6.12.76), run on the model with the same caches, the same
// corruption and the same expected error counts.

using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public unsafe class KunitTests
    {
        private static SlabCache Create(ModelKernel k, string name, CacheFlags flags) => k.Slab.Create(name, 64, 0, flags, 0);

        [Fact]
        public void TestClobberZone()
        {
            using var k = K.Boot();
            k.Slab.BeginKunit();
            SlabCache s = Create(k, "TestSlub_RZ_alloc", CacheFlags.RedZone);
            byte* p = (byte*)s.Alloc();
            p[64] = 0x12;
            s.Validate();
            Assert.Equal(2, k.Slab.EndKunit());
            s.Free(p);
            k.Slab.Destroy(s, "test");
        }

        // Not in slub_kunit.c: the two red-zone edges its cases leave out. A 64-byte object with
        // SLAB_RED_ZONE has red_left_pad = sizeof(void *) = 8 bytes before it, and a right red zone
        // from object_size (64) to inuse (64 + sizeof(void *) = 72), so bytes -8..-1 and 64..71.
        // check_bytes_and_report() counts @offset from the slab's first byte.
        [Theory]
        [InlineData(-1, "Left Redzone")]
        [InlineData(-8, "Left Redzone")]
        [InlineData(64, "Right Redzone")]
        [InlineData(71, "Right Redzone")]
        public void EachEdgeOfEachRedZoneIsChecked(int at, string zone)
        {
            using var k = K.Boot();
            SlabCache s = Create(k, "rz_edges", CacheFlags.RedZone);
            byte* p = (byte*)s.Alloc();
            long offset = p + at - (byte*)k.Pages.SlabOf(p).Address;

            // As test_clobber_zone counts them: one error for the report, one for the fix.
            k.Slab.BeginKunit();
            p[at] = 0x5a;
            s.Validate();
            Assert.Equal(2, k.Slab.EndKunit());
            Assert.Equal(0xcc, p[at]);

            // Outside KUnit, the report names the zone, the byte and its offset.
            p[at] = 0x5a;
            s.Validate();
            string[] lines = K.AllLines(k);
            string fault = $"0x{(ulong)(p + at):x16}";
            Assert.Contains($"[{zone} overwritten] {fault}-{fault} @offset={offset}. First byte 0x5a instead of 0xcc", lines);
            Assert.Contains(lines, l => l == $"FIX rz_edges: Restoring {zone} {fault}-{fault}=0xcc");
            Assert.Contains(lines, l => l.StartsWith("BUG rz_edges (") && l.EndsWith("): Object corrupt"));
            Assert.Equal(0xcc, p[at]);
            k.Slab.BeginKunit();
            s.Validate();   // restored: the next validation finds nothing
            Assert.Equal(0, k.Slab.EndKunit());
            s.Free(p);
            k.Slab.Destroy(s, "test");
        }

        [Fact]
        public void TestNextPointer()
        {
            using var k = K.Boot();
            k.Slab.BeginKunit();
            SlabCache s = Create(k, "TestSlub_next_ptr_free", CacheFlags.Poison);
            byte* p = (byte*)s.Alloc();
            s.Free(p);
            ulong* ptrAddr = (ulong*)(p + s.Layout.Offset);
            ulong tmp = *ptrAddr;
            p[s.Layout.Offset] = (byte)~p[s.Layout.Offset];

            // One error for the corrupted freechain, one for the wrong count of objects in use,
            // one for fixing the broken cache.
            s.Validate();
            Assert.Equal(3, k.Slab.Errors);

            // Repaired pointer: still the wrong count and its fix.
            *ptrAddr = tmp;
            k.Slab.ResetErrors();
            s.Validate();
            Assert.Equal(2, k.Slab.Errors);

            // The previous validation repaired the count.
            k.Slab.ResetErrors();
            s.Validate();
            Assert.Equal(0, k.Slab.EndKunit());
            k.Slab.Destroy(s, "test");
        }

        [Fact]
        public void TestFirstWord()
        {
            using var k = K.Boot();
            k.Slab.BeginKunit();
            SlabCache s = Create(k, "TestSlub_1th_word_free", CacheFlags.Poison);
            byte* p = (byte*)s.Alloc();
            s.Free(p);
            *p = 0x78;
            s.Validate();
            Assert.Equal(2, k.Slab.EndKunit());
            k.Slab.Destroy(s, "test");
        }

        [Fact]
        public void TestClobber50thByte()
        {
            using var k = K.Boot();
            k.Slab.BeginKunit();
            SlabCache s = Create(k, "TestSlub_50th_word_free", CacheFlags.Poison);
            byte* p = (byte*)s.Alloc();
            s.Free(p);
            p[50] = 0x9a;
            s.Validate();
            Assert.Equal(2, k.Slab.EndKunit());
            k.Slab.Destroy(s, "test");
        }

        [Fact]
        public void TestClobberRedzoneFree()
        {
            using var k = K.Boot();
            k.Slab.BeginKunit();
            SlabCache s = Create(k, "TestSlub_RZ_free", CacheFlags.RedZone);
            byte* p = (byte*)s.Alloc();
            s.Free(p);
            p[64] = 0xab;
            s.Validate();
            Assert.Equal(2, k.Slab.EndKunit());
            k.Slab.Destroy(s, "test");
        }

        [Fact]
        public void TestKmallocRedzoneAccess()
        {
            using var k = K.Boot();
            k.Slab.BeginKunit();
            SlabCache s = k.Slab.Create("TestSlub_RZ_kmalloc", 32, 0, CacheFlags.Kmalloc | CacheFlags.StoreUser | CacheFlags.RedZone, 0);
            byte* p = (byte*)s.AllocKmalloc(18);
            p[18] = 0xab;
            p[19] = 0xab;
            s.Validate();
            Assert.Equal(2, k.Slab.EndKunit());
            s.Free(p);
            k.Slab.Destroy(s, "test");
        }

        [Fact]
        public void TestKfreeRcu()
        {
            using var k = K.Boot();
            k.Slab.BeginKunit();
            SlabCache s = k.Slab.Create("TestSlub_kfree_rcu", 64, 0, CacheFlags.None, 0);
            void* p = s.Alloc();
            k.Slab.KfreeRcu(p);
            k.Slab.Destroy(s, "test");   // kvfree_rcu_barrier() first: the object is freed, not leaked
            Assert.Equal(0, k.Slab.EndKunit());
            Assert.False(s.Leaked);
        }

        [Fact]
        public void TestLeakDestroy()
        {
            using var k = K.Boot();
            k.Slab.BeginKunit();
            SlabCache s = Create(k, "TestSlub_leak_destroy", CacheFlags.NoMerge);
            Assert.True(s.Alloc() != null);
            k.Slab.Destroy(s, "test");
            Assert.Equal(2, k.Slab.EndKunit());
            Assert.True(s.Leaked);
        }

        [Fact]
        public void UncorruptedCachesValidateWithoutErrors()
        {
            using var k = K.Boot(slubDebug: "FZPU");
            SlabCache s = Create(k, "clean", CacheFlags.None);
            var objects = new System.Collections.Generic.List<nint>();
            for (int i = 0; i < 500; i++)
                objects.Add((nint)s.Alloc());
            for (int i = 0; i < objects.Count; i += 2)
                s.Free((void*)objects[i]);
            s.Validate();
            Assert.Equal(0, k.Slab.Errors);
            Assert.DoesNotContain(K.AllLines(k), l => l.Contains("BUG"));
        }

        [Fact]
        public void ADoubleFreeIsCaughtWithTheKernelsReport()
        {
            using var k = K.Boot(slubDebug: "F");
            SlabCache s = Create(k, "df", CacheFlags.None);
            void* p = s.Alloc();
            void* keep = s.Alloc();
            s.Free(p);
            s.Free(p);
            string[] lines = K.AllLines(k);
            Assert.Contains(lines, l => l.StartsWith("BUG df (") && l.EndsWith("): Object already free"));
            Assert.Contains(lines, l => l.StartsWith("Slab 0x") && l.Contains(" objects=") && l.Contains(" used=1 "));
            Assert.Equal(1, s.ObjectsInUse());   // the second free was refused
            s.Free(keep);
        }

        [Fact]
        public void ARedZoneOverwriteIsReportedOnFreeAndRestored()
        {
            using var k = K.Boot(slubDebug: "FZ");
            SlabCache s = Create(k, "rz", CacheFlags.None);
            byte* p = (byte*)s.Alloc();
            p[64] = 0x00;
            s.Free(p);
            string[] lines = K.AllLines(k);
            Assert.Contains(lines, l => l.StartsWith("[Right Redzone overwritten] 0x") && l.EndsWith(". First byte 0x0 instead of 0xcc"));
            Assert.Contains(lines, l => l.StartsWith("BUG rz (") && l.EndsWith("): Object corrupt"));
            Assert.Contains(lines, l => l.StartsWith("FIX rz: Restoring Right Redzone 0x") && l.EndsWith("=0xcc"));
            Assert.Equal(0xcc, p[64]);
        }

        [Fact]
        public void PoisonFillsFreeObjectsAndPadding()
        {
            using var k = K.Boot(slubDebug: "P");
            SlabCache s = Create(k, "poisoned", CacheFlags.None);
            byte* p = (byte*)s.Alloc();
            s.Free(p);
            for (int i = 0; i < 63; i++)
                Assert.Equal(Poison.Free, p[i]);
            Assert.Equal(Poison.End, p[63]);
        }
    }
}
