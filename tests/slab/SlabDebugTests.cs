// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// slub_debug in the library: each classic bug of tests/kernel/slab_bugs.c committed against a
// debug cache, and the report it must give (what, where, the bad byte and the one expected, the
// call sites), the repair, and that nothing else is lost. The byte values and the layout are
// SLUB's (mm/slub.c: 0xcc/0xbb red zones, 0x6b/0xa5 poison, 0x5a padding; calculate_sizes()'s
// order): a 64-byte object with FZPU has 8 bytes of red zone before it, 8 after it (64 is a
// multiple of 8, so Z adds a word), the free pointer, two 16-byte tracks: a 120-byte slot.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using SimpleCache.Slab;
using Xunit;

namespace SimpleCache.Slab.Tests
{
    [CollectionDefinition("environment", DisableParallelization = true)]
    public class EnvironmentCollection
    {
    }

    public unsafe class SlabDebugTests
    {
        private static (SlabCache Cache, List<SlabDebugReport> Reports) Debug(string name, SlabDebugFlags flags = SlabDebugFlags.All, int align = 8, SlabConstructor ctor = null)
        {
            var reports = new List<SlabDebugReport>();
            var cache = new SlabCache(name, 64, new SlabCacheOptions { Debug = flags, OnReport = reports.Add, Align = align, Constructor = ctor });
            return (cache, reports);
        }

        [Theory]
        [InlineData("FZPU", SlabDebugFlags.All)]
        [InlineData("", SlabDebugFlags.All)]
        [InlineData("-", SlabDebugFlags.None)]
        [InlineData("zp", SlabDebugFlags.RedZone | SlabDebugFlags.Poison)]
        [InlineData("UF", SlabDebugFlags.StoreUser | SlabDebugFlags.Consistency)]
        public void SlubDebugLettersParse(string letters, SlabDebugFlags flags)
        {
            Assert.Equal(flags, SlabDebug.Parse(letters));
            Assert.Equal(flags, SlabDebug.Parse(SlabDebug.Letters(flags)));
        }

        [Fact]
        public void AnUnknownLetterIsRefusedByName()
        {
            var e = Assert.Throws<ArgumentException>(() => SlabDebug.Parse("FZX"));
            Assert.Contains("'X'", e.Message);
        }

        [Fact]
        public void TheSlotHasRedZonesFreePointerAndTracksAroundTheObject()
        {
            var (cache, _) = Debug("layout");
            // SLUB's calculate_sizes(): left red zone, object, right red zone, free pointer,
            // the two tracks (16 bytes each here, 32 in the kernel), and with Z one more word of
            // padding, which over-long writes hit first.
            Assert.Equal(8 + 64 + 8 + 8 + 2 * 16 + 8, cache.SlotSize);
            Assert.Equal("FZPU", cache.DebugLetters);
            byte* p = (byte*)cache.Alloc();
            Assert.True(new ReadOnlySpan<byte>(p + 64 + 8 + 8 + 2 * 16, 8).IndexOfAnyExcept((byte)0x5a) < 0);
            // A new object of a cache without constructor comes poisoned (SLUB hands it out so),
            // its red zones active.
            Assert.True(new ReadOnlySpan<byte>(p, 63).IndexOfAnyExcept((byte)0x6b) < 0);
            Assert.Equal(0xa5, p[63]);
            Assert.True(new ReadOnlySpan<byte>(p - 8, 8).IndexOfAnyExcept((byte)0xcc) < 0);
            Assert.True(new ReadOnlySpan<byte>(p + 64, 8).IndexOfAnyExcept((byte)0xcc) < 0);
            cache.Free(p);
            // Free: red zones inactive.
            Assert.True(new ReadOnlySpan<byte>(p + 64, 8).IndexOfAnyExcept((byte)0xbb) < 0);
            Assert.Equal(0, cache.Destroy().Leaked);
        }

        [Fact]
        public void AWriteOnePastTheObjectIsReportedAtItsFreeAndRepaired()
        {
            var (cache, reports) = Debug("overflow");
            byte* a = (byte*)cache.Alloc();
            a[64] = 0x41;
            cache.Free(a);
            SlabDebugReport r = Assert.Single(reports);
            Assert.Equal(SlabProblem.RightRedZoneOverwritten, r.Problem);
            Assert.Equal((nint)a, r.Object);
            Assert.Equal(64, r.Offset);
            Assert.Equal(0x41, r.Found);
            Assert.Equal(0xcc, r.Expected);
            Assert.Contains($"Right Redzone overwritten: 0x{(nint)(a + 64):x}-0x{(nint)(a + 64):x} @offset=64. First byte 0x41 instead of 0xcc", r.Text);
            Assert.Contains("FIX overflow: Restoring Right Redzone", r.Text);
            Assert.Equal(0xbb, a[64]);   // restored, then made inactive by the free
            Assert.Equal((nint)a, (nint)cache.Alloc());   // and the object was freed
            Assert.Single(reports);
        }

        [Fact]
        public void AWriteJustBeforeTheObjectIsAnUnderflow()
        {
            var (cache, reports) = Debug("underflow");
            byte* a = (byte*)cache.Alloc();
            a[-1] = 0;
            cache.Free(a);
            SlabDebugReport r = Assert.Single(reports);
            Assert.Equal(SlabProblem.LeftRedZoneOverwritten, r.Problem);
            Assert.Equal(-1, r.Offset);
            Assert.Equal(0, r.Found);
        }

        [Fact]
        public void AWriteAfterFreeIsReportedWhenTheObjectIsNextHandedOut()
        {
            var (cache, reports) = Debug("use_after_free");
            byte* a = (byte*)cache.Alloc();
            cache.Free(a);
            for (int i = 16; i < 24; i++)
                a[i] = 0x41;
            Assert.Empty(reports);
            byte* c = (byte*)cache.Alloc();
            Assert.Equal((nint)a, (nint)c);   // the slab's freelist is LIFO
            SlabDebugReport r = Assert.Single(reports);
            Assert.Equal(SlabProblem.PoisonOverwritten, r.Problem);
            Assert.Equal(16, r.Offset);
            Assert.Equal(0x6b, r.Expected);
            Assert.Contains("@offset=16. First byte 0x41 instead of 0x6b", r.Text);
            Assert.Contains($"Restoring Poison 0x{(nint)(a + 16):x}-0x{(nint)(a + 23):x}=0x6b", r.Text);
            Assert.True(new ReadOnlySpan<byte>(c, 63).IndexOfAnyExcept((byte)0x6b) < 0);
        }

        [Fact]
        public void ADoubleFreeIsRefusedAndTheObjectIsHandedOutOnce()
        {
            var (cache, reports) = Debug("double_free");
            byte* a = (byte*)cache.Alloc();
            byte* b = (byte*)cache.Alloc();
            cache.Free(a);
            cache.Free(b);
            cache.Free(a);   // not at the freelist's head: SLUB without debug would not see it
            SlabDebugReport r = Assert.Single(reports);
            Assert.Equal(SlabProblem.DoubleFree, r.Problem);
            Assert.Contains("Object already free", r.Text);
            Assert.Contains($"FIX double_free: Object at 0x{(nint)a:x} not freed", r.Text);
            // Tracking says who allocated and who freed it first.
            Assert.Contains(nameof(ADoubleFreeIsRefusedAndTheObjectIsHandedOutOnce), r.AllocatedAt);
            Assert.Contains(nameof(ADoubleFreeIsRefusedAndTheObjectIsHandedOutOnce), r.FreedAt);
            Assert.Contains("SlabDebugTests.cs:", r.AllocatedAt);
            var handed = new HashSet<nint> { (nint)cache.Alloc(), (nint)cache.Alloc(), (nint)cache.Alloc() };
            Assert.Equal(3, handed.Count);
        }

        [Fact]
        public void AFreeOfAPointerThatIsNoObjectIsRefused()
        {
            var (cache, reports) = Debug("invalid_free");
            var (other, _) = Debug("other");
            byte* a = (byte*)cache.Alloc();
            byte* elsewhere = (byte*)NativeMemory.Alloc(64);
            try
            {
                cache.Free(a + 8);
                cache.Free(other.Alloc());
                cache.Free(elsewhere);
            }
            finally
            {
                NativeMemory.Free(elsewhere);
            }
            Assert.Equal(3, reports.Count);
            Assert.All(reports, r => Assert.Equal(SlabProblem.InvalidPointer, r.Problem));
            Assert.Contains($"Invalid object pointer 0x{(nint)(a + 8):x}", reports[0].Text);
            cache.Free(a);
            Assert.Equal(3, reports.Count);
            Assert.Equal(0, cache.Destroy().Leaked);
        }

        [Fact]
        public void WithoutAHandlerAReportIsThrownOnceTheCacheIsConsistent()
        {
            var cache = new SlabCache("throws", 64, new SlabCacheOptions { Debug = SlabDebugFlags.All });
            byte* a = (byte*)cache.Alloc();
            cache.Free(a);
            var e = Assert.Throws<SlabCorruptionException>(() => cache.Free(a));
            Assert.Equal(SlabProblem.DoubleFree, e.Report.Problem);
            Assert.StartsWith("BUG throws: Object already free", e.Message);
            Assert.Equal(1, cache.Reports);
            Assert.Equal((nint)a, (nint)cache.Alloc());
            cache.Free(a);
            Assert.Equal(0, cache.Destroy().Leaked);
        }

        [Fact]
        public void AWriteIntoTheObjectsPaddingIsReported()
        {
            // Aligned to 64: 64 bytes of left red zone, object, red zone, free pointer, tracks
            // (64 + 112 bytes), padding to 192.
            var (cache, reports) = Debug("padding", align: 64);
            Assert.Equal(192, cache.SlotSize);
            byte* a = (byte*)cache.Alloc();
            Assert.Equal(0, (nint)a % 64);
            a[112] = 0x41;
            cache.Free(a);
            SlabDebugReport r = Assert.Single(reports);
            Assert.Equal(SlabProblem.ObjectPaddingOverwritten, r.Problem);
            Assert.Equal(112, r.Offset);
            Assert.Equal(0x5a, r.Expected);
        }

        [Fact]
        public void AWriteIntoTheSlabsPaddingIsFoundByValidate()
        {
            // FZP: 96-byte slots (8 + 64 + 8 + 8 + 8), 16384 = 170 * 96 + 64.
            var (cache, reports) = Debug("pad_overwrite", SlabDebugFlags.Consistency | SlabDebugFlags.RedZone | SlabDebugFlags.Poison);
            byte* a = (byte*)cache.Alloc();
            // The slab: the slots from its first byte; what is left at the end is padding.
            byte* slab = (byte*)((nint)a & ~(nint)(cache.SlabBytes - 1));
            Assert.Equal(96, cache.SlotSize);
            Assert.Equal(64, cache.SlabBytes % cache.SlotSize);
            slab[cache.SlabBytes - 1] = 0x41;
            Assert.DoesNotContain(cache.Validate(), r => r.Problem != SlabProblem.SlabPaddingOverwritten);
            SlabDebugReport r = Assert.Single(reports);
            Assert.Equal(SlabProblem.SlabPaddingOverwritten, r.Problem);
            Assert.Equal(cache.SlabBytes - 1, r.Offset);
            Assert.Contains($"Padding overwritten. 0x{(nint)(slab + cache.SlabBytes - 1):x}-0x{(nint)(slab + cache.SlabBytes - 1):x} @offset={cache.SlabBytes - 1}", r.Text);
            Assert.Equal(0x5a, slab[cache.SlabBytes - 1]);
            Assert.Empty(cache.Validate());
            Assert.Single(reports);
            cache.Free(a);
        }

        [Fact]
        public void ValidateFindsAnOverflowOfALiveObject()
        {
            var (cache, reports) = Debug("validate");
            byte* a = (byte*)cache.Alloc();
            byte* b = (byte*)cache.Alloc();
            b[70] = 1;
            var found = cache.Validate();
            SlabDebugReport r = Assert.Single(found);
            Assert.Equal(SlabProblem.RightRedZoneOverwritten, r.Problem);
            Assert.Equal((nint)b, r.Object);
            Assert.Equal(70, r.Offset);
            cache.Free(a);
            cache.Free(b);
            Assert.Single(reports);
        }

        [Fact]
        public void ACorruptFreePointerDisablesTheSlabAndItsObjectsLeak()
        {
            var (cache, reports) = Debug("freeptr_corrupt");
            byte* a = (byte*)cache.Alloc();
            byte* b = (byte*)cache.Alloc();
            cache.Free(a);
            *(long*)(a + 72) = 0x4141414141414141;   // after the object and its red zone
            byte* c = (byte*)cache.Alloc();
            SlabDebugReport r = Assert.Single(reports);
            Assert.Equal(SlabProblem.FreePointerCorrupt, r.Problem);
            Assert.Contains("Marking all objects used", r.Text);
            Assert.NotEqual((nint)a & ~(nint)(cache.SlabBytes - 1), (nint)c & ~(nint)(cache.SlabBytes - 1));   // from another slab
            cache.Free(b);   // its slab is disabled
            Assert.Equal(SlabProblem.SlabDisabled, reports[1].Problem);
            cache.Free(c);
            LeakReport leak = cache.Destroy();
            Assert.Equal(cache.ObjectsPerSlab, leak.Leaked);   // the disabled slab's objects
            Assert.Contains((nint)b, leak.Objects);
        }

        [Fact]
        public void AConstructorCachesFreeObjectsKeepTheirStateAndOnlyPaddingIsPoisoned()
        {
            var (cache, reports) = Debug("ctor", ctor: p => new Span<byte>(p, 64).Fill(0x11), align: 64);
            byte* a = (byte*)cache.Alloc();
            Assert.True(new ReadOnlySpan<byte>(a, 64).IndexOfAnyExcept((byte)0x11) < 0);
            cache.Free(a);
            Assert.True(new ReadOnlySpan<byte>(a, 64).IndexOfAnyExcept((byte)0x11) < 0);
            Assert.Equal(0x5a, a[cache.SlotSize - 64 - 1]);   // the slot's last byte: padding
            Assert.Equal((nint)a, (nint)cache.Alloc());
            Assert.Empty(reports);
        }

        [Fact]
        public void DestroyNamesWhereTheLeakedObjectsWereAllocated()
        {
            var (cache, _) = Debug("leak");
            for (int i = 0; i < 3; i++)
                cache.Alloc();
            LeakObject(cache);
            LeakReport report = cache.Destroy();
            Assert.Equal(4, report.Leaked);
            Assert.Equal(2, report.Sites.Count);
            Assert.Equal(3, report.Sites[0].Objects);
            Assert.StartsWith($"SlabDebugTests.{nameof(DestroyNamesWhereTheLeakedObjectsWereAllocated)} (SlabDebugTests.cs:", report.Sites[0].Site);
            Assert.StartsWith($"SlabDebugTests.{nameof(LeakObject)} (SlabDebugTests.cs:", report.Sites[1].Site);
            Assert.Contains("3 allocated in SlabDebugTests.DestroyNamesWhereTheLeakedObjectsWereAllocated", report.ToString());
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void LeakObject(SlabCache cache) => cache.Alloc();

        [Fact]
        public void ShrinkChecksTheSlabPaddingOfTheSlabsItGivesBack()
        {
            var (cache, reports) = Debug("shrink", SlabDebugFlags.Poison);
            byte* a = (byte*)cache.Alloc();
            byte* slab = (byte*)((nint)a & ~(nint)(cache.SlabBytes - 1));
            cache.Free(a);
            slab[cache.SlabBytes - 2] = 7;
            Assert.Equal(1, cache.Shrink());
            Assert.Equal(SlabProblem.SlabPaddingOverwritten, Assert.Single(reports).Problem);
        }
    }

    [Collection("environment")]
    public class SlabDebugEnvironmentTests
    {
        [Fact]
        public void TheEnvironmentVariableDebugsCachesThatDoNotSay()
        {
            Environment.SetEnvironmentVariable(SlabDebug.EnvironmentVariable, "ZP");
            try
            {
                var cache = new SlabCache("env", 64);
                var explicitNone = new SlabCache("none", 64, new SlabCacheOptions { Debug = SlabDebugFlags.None });
                Assert.Equal("ZP", cache.DebugLetters);
                Assert.Equal("-", explicitNone.DebugLetters);
                cache.Destroy();
                explicitNone.Destroy();
            }
            finally
            {
                Environment.SetEnvironmentVariable(SlabDebug.EnvironmentVariable, null);
            }
        }
    }
}
