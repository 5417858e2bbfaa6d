// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The edges of model/mm/ that the rest of the suite never reached, found by Stryker's run of
// the part model-mm-rest (docs/mutation.md): kmem_cache_create()'s refusals, the slub_debug=
// option's cache lists, kmalloc's size classes and its page path, kfree_rcu(), /proc/slabinfo's
// order, a second kmem_cache_destroy(), %pS of a caller, failslab's knobs one by one, the page
// allocator's bad calls and its free lists, and the symbol table's bounds. Each expected value
// is the kernel's (the source line is cited), not the model's own arithmetic.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public unsafe class MmEdgeTests
    {
        // ------------------------------------------------------------ kmem_cache_create

        [Theory]
        // pr_warn("%s(%s) failed with error %d\n", __func__, ...), as the VMs print it for
        // slab_matrix.c's 4 MiB caches with a constructor (tests/model/data/geometry/).
        [InlineData(KernelVersion.V6_1, "kmem_cache_create_usercopy")]
        [InlineData(KernelVersion.V6_12, "__kmem_cache_create_args")]
        public void ACacheWhoseObjectsNoSlabCanHoldIsRefusedWithEinval(KernelVersion v, string function)
        {
            using var k = K.Boot(v);
            // calculate_order() (6.1: calc_slab_order(size, 1, MAX_ORDER, 1) < MAX_ORDER;
            // 6.12: <= MAX_PAGE_ORDER) finds order 10 for 4 MiB, nothing for a byte more:
            // calculate_sizes() fails, kmem_cache_open() returns -EINVAL, and
            // kmem_cache_create_usercopy() (6.1) / __kmem_cache_create_args() (6.12) warns.
            SlabCache max = k.Slab.Create("four_mib", SlabAllocator.KmallocMaxSize, 0, CacheFlags.None, 0);
            Assert.NotNull(max);
            Assert.Equal(10, max.Layout.Order);
            Assert.Equal(1u, max.Layout.ObjectsPerSlab);
            Assert.Null(k.Slab.Create("too_big", SlabAllocator.KmallocMaxSize + 1, 0, CacheFlags.None, 0));
            Assert.Contains($"{function}(too_big) failed with error -22", K.AllLines(k));
            Assert.Null(k.Slab.Find("too_big"));
            Assert.Same(max, k.Slab.Find("four_mib"));   // the failure lost nothing
        }

        [Fact]
        public void ACacheWithAnEmptyNameIsRefused()
        {
            // The kernel gets as far as sysfs_slab_add(): kobject_add_internal() refuses an empty
            // name with -EINVAL, and kmem_cache_create() fails with it.
            using var k = K.Boot();
            Assert.Null(k.Slab.Create("", 64, 0, CacheFlags.None, 0));
            Assert.Contains("__kmem_cache_create_args() failed with error -22", K.AllLines(k));
        }

        [Fact]
        public void SlabPanicTurnsARefusalIntoAPanic()
        {
            // mm/slab_common.c (6.1 and 6.12): if (flags & SLAB_PANIC) panic("%s: Failed to
            // create slab '%s'. Error %d\n", __func__, name, err); 6.12's __func__ is
            // __kmem_cache_create_args.
            using var k = K.Boot();
            var e = Assert.Throws<KernelPanicException>(() => k.Slab.Create("doomed", SlabAllocator.KmallocMaxSize + 1, 0, CacheFlags.Panic, 0));
            Assert.Equal("__kmem_cache_create_args: Failed to create slab 'doomed'. Error -22", e.Message);
            Assert.Contains("Kernel panic - not syncing: __kmem_cache_create_args: Failed to create slab 'doomed'. Error -22", K.AllLines(k));
        }

        [Fact]
        public void SlubDebugAddsToTheFlagsACacheAskedFor()
        {
            // kmem_cache_flags() returns flags | slub_debug_local: a flag both give stays set.
            using var k = K.Boot(slubDebug: "Z,both");
            SlabCache s = k.Slab.Create("both", 64, 0, CacheFlags.RedZone, 0);
            Assert.NotEqual(CacheFlags.None, s.Layout.Flags & CacheFlags.RedZone);
        }

        // ------------------------------------------------------------ slub_debug=

        [Fact]
        public void SlubDebugCacheListsMatchNamesAndPrefixes()
        {
            // parse_slub_debug_flags() and kmem_cache_flags() (mm/slub.c, 6.1 and 6.12): a block
            // with a cache list applies to those caches, "name*" to every name that starts so;
            // a block without one sets the flags of every other cache.
            SlubDebugOption o = SlubDebugOption.Parse("FZ,simple*,other;P");
            Assert.Equal(CacheFlags.ConsistencyChecks | CacheFlags.RedZone, o.FlagsFor("simple_cache"));
            Assert.Equal(CacheFlags.ConsistencyChecks | CacheFlags.RedZone, o.FlagsFor("simple"));
            Assert.Equal(CacheFlags.ConsistencyChecks | CacheFlags.RedZone, o.FlagsFor("other"));
            Assert.Equal(CacheFlags.Poison, o.FlagsFor("otherwise"));
            Assert.Equal(CacheFlags.Poison, o.FlagsFor("kmalloc-64"));
            Assert.Equal(CacheFlags.Poison, o.FlagsFor("simpl"));
            Assert.True(o.Enabled);
        }

        [Fact]
        public void SlubDebugLettersAddUpAndADashMeansNone()
        {
            // Each letter ORs its flag in (a repeated one stays set); '-' gives no flags, and
            // with no cache list that leaves slub_debug off (slub_debug == 0, no
            // slub_debug_string); "-,cache" still sets slub_debug_string.
            Assert.Equal(CacheFlags.ConsistencyChecks, SlubDebugOption.Parse("FF").FlagsFor("x"));
            Assert.Equal(CacheFlags.ConsistencyChecks | CacheFlags.Poison, SlubDebugOption.Parse("fpf").FlagsFor("x"));
            Assert.False(SlubDebugOption.Parse("-").Enabled);
            Assert.False(SlubDebugOption.Parse("").Enabled);
            Assert.True(SlubDebugOption.Parse("-,foo").Enabled);
            Assert.Equal(CacheFlags.None, SlubDebugOption.Parse("-,foo").FlagsFor("foo"));
            // "if (*str == ',') { *flags = DEBUG_DEFAULT_FLAGS; ..." : no letters, F Z P U.
            Assert.Equal(CacheFlags.ConsistencyChecks | CacheFlags.RedZone | CacheFlags.Poison | CacheFlags.StoreUser,
                SlubDebugOption.Parse(",foo").FlagsFor("foo"));
            Assert.Equal(CacheFlags.None, SlubDebugOption.Parse(",foo").FlagsFor("bar"));
        }

        // ------------------------------------------------------------ kmalloc

        [Theory]
        [InlineData(1u, "kmalloc-8")]
        [InlineData(8u, "kmalloc-8")]
        [InlineData(9u, "kmalloc-16")]
        [InlineData(64u, "kmalloc-64")]
        [InlineData(65u, "kmalloc-96")]
        [InlineData(96u, "kmalloc-96")]
        [InlineData(97u, "kmalloc-128")]
        [InlineData(4096u, "kmalloc-4k")]
        [InlineData(8192u, "kmalloc-8k")]
        public void KmallocTakesTheSmallestClassThatFits(uint size, string cache)
        {
            // kmalloc_index() on x86-64 (kmalloc_info[] in mm/slab_common.c): 96 and 192 between
            // the powers of two, up to KMALLOC_MAX_CACHE_SIZE = 2 pages.
            using var k = K.Boot();
            void* p = k.Slab.Kmalloc(size);
            Assert.Equal(cache, k.Pages.SlabOf(p)?.Cache.Name);
            k.Slab.Kfree(p);
        }

        [Fact]
        public void KmallocAboveTwoPagesTakesWholePagesAndKfreeGivesThemBack()
        {
            // kmalloc_large() (size > KMALLOC_MAX_CACHE_SIZE): alloc_pages(get_order(size)); kfree()
            // of such a pointer frees the pages (free_large_kmalloc()).
            using var k = K.Boot();
            long free = k.Pages.NrFreePages;
            byte* p = (byte*)k.Slab.Kmalloc(8193);
            Assert.Null(k.Pages.SlabOf(p));
            Assert.Equal(2, k.Pages.PageOf(p).Order);   // 3 pages round up to order 2
            Assert.Equal(free - 4, k.Pages.NrFreePages);
            new Span<byte>(p, 8193).Fill(0xab);
            k.Slab.Kfree(p);
            Assert.Equal(free, k.Pages.NrFreePages);
            // __GFP_ZERO on the page path: the same pages come back, cleared.
            byte* q = (byte*)k.Slab.Kmalloc(8193, zero: true);
            Assert.True(p == q);
            Assert.True(new Span<byte>(q, 8193).IndexOfAnyExcept((byte)0) < 0);
            k.Slab.Kfree(q);

            // KMALLOC_MAX_SIZE (4 MiB, order 10 = MAX_ORDER - 1 in 6.1, MAX_PAGE_ORDER in 6.12)
            // is the largest kmalloc(); a byte more gets NULL.
            byte* max = (byte*)k.Slab.Kmalloc(SlabAllocator.KmallocMaxSize);
            Assert.True(max != null);
            Assert.Equal(10, k.Pages.PageOf(max).Order);
            Assert.True(k.Slab.Kmalloc(SlabAllocator.KmallocMaxSize + 1) == null);
            k.Slab.Kfree(max);
            Assert.Equal(free, k.Pages.NrFreePages);
        }

        [Fact]
        public void KfreeRcuFreesOnceAtTheBarrier()
        {
            using var k = K.Boot(slubDebug: "F");
            void* p = k.Slab.Kmalloc(64);
            SlabCache kmalloc64 = k.Pages.SlabOf(p).Cache;
            long before = kmalloc64.ObjectsInUse();
            k.Slab.KfreeRcu(p);
            Assert.Equal(before, kmalloc64.ObjectsInUse());   // not before a grace period
            k.Slab.RcuBarrier();
            Assert.Equal(before - 1, kmalloc64.ObjectsInUse());
            k.Slab.RcuBarrier();   // nothing is queued any more: no second free
            Assert.Equal(before - 1, kmalloc64.ObjectsInUse());
            Assert.DoesNotContain(K.AllLines(k), l => l.Contains("already free") || l.StartsWith("BUG "));
            Assert.Equal(0, k.Slab.Errors);
        }

        // ------------------------------------------------------------ slabinfo and destroy

        [Fact]
        public void SlabinfoListsTheNewestCacheFirst()
        {
            // create_cache() does list_add(&s->list, &slab_caches), at the head, and slab_start()
            // walks slab_caches from the head: the cache made last is the first row.
            using var k = K.Boot();
            k.Slab.Create("made_first", 64, 0, CacheFlags.None, 0);
            k.Slab.Create("made_second", 64, 0, CacheFlags.None, 0);
            string[] rows = k.Slab.SlabinfoText().Split('\n');
            int first = Array.FindIndex(rows, r => r.StartsWith("made_first "));
            int second = Array.FindIndex(rows, r => r.StartsWith("made_second "));
            Assert.True(second >= 0 && first > second, $"made_second at row {second}, made_first at row {first}");
        }

        [Fact]
        public void ASecondDestroyOfALeakedCacheWarnsNoMore()
        {
            // 6.1 keeps a leaked cache on slab_caches with its refcount at 0; a second
            // kmem_cache_destroy() decrements it again, sees it nonzero and returns.
            using var k = K.Boot(KernelVersion.V6_1);
            SlabCache s = k.Slab.Create("leaked_twice", 64, 0, CacheFlags.None, 0);
            Assert.True(s.Alloc() != null);
            k.Slab.Destroy(s, "test+0x0/0x0");
            k.Slab.Destroy(s, "test+0x0/0x0");
            Assert.Single(K.AllLines(k), l => l.Contains("Slab cache still has objects"));
            Assert.Same(s, k.Slab.Find("leaked_twice"));
        }

        [Fact]
        public void ADestroyedCacheIsGoneAndASecondDestroyDoesNothing()
        {
            using var k = K.Boot();
            SlabCache s = k.Slab.Create("gone", 64, 0, CacheFlags.None, 0);
            s.Free(s.Alloc());
            k.Slab.Destroy(s, "test+0x0/0x0");
            Assert.Null(k.Slab.Find("gone"));
            int lines = K.AllLines(k).Length;
            k.Slab.Destroy(s, "test+0x0/0x0");
            Assert.Equal(lines, K.AllLines(k).Length);
        }

        [Theory]
        [InlineData(KernelVersion.V6_1, true)]     // 6.1: WARN(err, ...) always
        [InlineData(KernelVersion.V6_12, false)]   // 6.12: WARN(err && !slab_in_kunit_test(), ...)
        public void InAKunitTestOnly61WarnsAboutALeakingDestroy(KernelVersion v, bool warns)
        {
            using var k = K.Boot(v);
            k.Slab.BeginKunit();
            SlabCache s = k.Slab.Create("kunit_leak", 64, 0, CacheFlags.None, 0);
            Assert.True(s.Alloc() != null);
            k.Slab.Destroy(s, "test+0x0/0x0");
            k.Slab.EndKunit();
            Assert.Equal(warns, K.AllLines(k).Any(l => l.Contains("kmem_cache_destroy kunit_leak: Slab cache still has objects")));
        }

        [Theory]
        // sprint_symbol(): a kernel function by its name, a module's with " [module]"; C has no
        // classes, so the C# type goes.
        [InlineData("SlabAllocator.kmem_cache_free+0x0/0x0", "kmem_cache_free+0x0/0x0")]
        [InlineData("SimpleCacheModule.DestroyAll+0x0/0x0", "DestroyAll+0x0/0x0 [simple_cache]")]
        [InlineData("do_one_initcall+0x0/0x0", "do_one_initcall+0x0/0x0")]
        [InlineData("a.b.c", "a.b.c")]
        [InlineData(".f+0x0/0x0", "f+0x0/0x0")]
        public void TheCallerOfALeakingDestroyIsNamedAsPercentPSWould(string caller, string printed)
        {
            using var k = K.Boot(KernelVersion.V6_1);
            Assert.Equal(0, k.Modules.Insmod(K.SimpleCache));
            SlabCache s = k.Slab.Create("named_leak", 64, 0, CacheFlags.None, 0);
            Assert.True(s.Alloc() != null);
            k.Slab.Destroy(s, caller);
            Assert.Contains($"kmem_cache_destroy named_leak: Slab cache still has objects when called from {printed}", K.AllLines(k));
        }

        // ------------------------------------------------------------ failslab

        [Fact]
        public void FailNthReadsBackWhatIsLeftAndZeroTurnsItOff()
        {
            using var k = K.Boot();
            SlabCache s = k.Slab.Create("nth", 64, 0, CacheFlags.None, 0);
            Failslab f = k.Slab.Failslab;
            f.FailNth = 3;
            Assert.Equal(3, f.FailNth);   // proc_fail_nth_read(): current->fail_nth
            Assert.True(s.Alloc() != null);
            Assert.Equal(2, f.FailNth);
            f.FailNth = 0;
            Assert.Equal(0, f.FailNth);
            // With fail-nth off the other knobs decide again: probability 100 fails an atomic call.
            f.Probability = 100;
            Assert.True(s.Alloc(mayWait: false) == null);
            Assert.Equal(1, f.Injected);
        }

        [Fact]
        public void FailNthSpendsNoTimesLeftAndTimesZeroStopsTheRest()
        {
            // should_fail_ex(): a fail-nth failure goes to "fail:", which decrements times only if
            // it is neither -1 nor 0 (atomic_dec_not_zero); with times 0 nothing else fails.
            using var k = K.Boot();
            SlabCache s = k.Slab.Create("times", 64, 0, CacheFlags.None, 0);
            Failslab f = k.Slab.Failslab;
            f.Times = 0;
            f.FailNth = 1;
            Assert.True(s.Alloc() == null);
            Assert.Equal(0, f.Times);
            f.Probability = 100;
            Assert.True(s.Alloc(mayWait: false) != null);
            Assert.Equal(1, f.Injected);
        }

        [Theory]
        [InlineData(64, new[] { true })]                 // space is not more than the size: fails at once
        [InlineData(100, new[] { false, true })]         // 100 > 64: one passes, 36 left, then fails
        [InlineData(129, new[] { false, false, true })]  // 129 > 64, 65 > 64, then 1
        public void SpaceLetsThatManyBytesPassFirst(int space, bool[] fails)
        {
            // should_fail_ex(): if (attr->space > size) { attr->space -= size; return false; },
            // with should_failslab()'s size s->object_size.
            using var k = K.Boot();
            SlabCache s = k.Slab.Create("space", 64, 0, CacheFlags.None, 0);
            Failslab f = k.Slab.Failslab;
            f.Probability = 100;
            f.Times = -1;
            f.Space = space;
            Assert.Equal(fails, fails.Select(_ => s.Alloc(mayWait: false) == null).ToArray());
        }

        [Theory]
        [InlineData(1)]
        [InlineData(30)]
        [InlineData(99)]
        public void ProbabilityFailsWhenTheRandomPercentIsBelowIt(int probability)
        {
            // should_fail_ex(): if (attr->probability <= get_random_u32_below(100)) return false.
            // The model's random source is System.Random with the seed given: the test draws the
            // same numbers and applies the kernel's rule itself.
            using var k = K.Boot();
            SlabCache s = k.Slab.Create("chance", 64, 0, CacheFlags.None, 0);
            Failslab f = k.Slab.Failslab;
            f.Seed(42);
            f.Probability = probability;
            f.Times = -1;
            var draws = new Random(42);
            bool[] expected = Enumerable.Range(0, 400).Select(_ => draws.Next(100) < probability).ToArray();
            var objects = new List<nint>();
            bool[] failed = expected.Select(_ =>
            {
                void* p = s.Alloc(mayWait: false);
                if (p != null)
                    objects.Add((nint)p);
                return p == null;
            }).ToArray();
            Assert.Equal(expected, failed);
            Assert.Equal(expected.Count(e => e), f.Injected);
            foreach (nint p in objects)
                s.Free((void*)p);
        }

        [Theory]
        [InlineData(0, false)]
        [InlineData(1, true)]
        public void VerboseZeroInjectsSilently(int verbose, bool reported)
        {
            // fail_dump(): only if (attr->verbose > 0) does it print "FAULT_INJECTION: forcing a failure."
            using var k = K.Boot();
            SlabCache s = k.Slab.Create("quiet", 64, 0, CacheFlags.None, 0);
            k.Slab.Failslab.Verbose = verbose;
            k.Slab.Failslab.FailNth = 1;
            Assert.True(s.Alloc() == null);
            Assert.Equal(reported, K.AllLines(k).Any(l => l.Contains("FAULT_INJECTION: forcing a failure.")));
            Assert.Equal(1, k.Slab.Failslab.Injected);
        }

        // ------------------------------------------------------------ the page allocator

        [Fact]
        public void BadPageCallsAreRefusedAndChangeNothing()
        {
            using var pages = new PageAllocator(4096);
            long total = pages.NrFreePages;
            Assert.True(pages.AllocPages(-1) == null);
            Assert.True(pages.AllocPages(PageAllocator.MaxOrder + 1) == null);
            Assert.Equal(total, pages.NrFreePages);

            byte* block = pages.AllocPages(1);
            // __free_pages() of a tail page, of the wrong order, twice, or outside the zone.
            Assert.Throws<InvalidOperationException>(() => pages.FreePages(block + PageAllocator.PageSize, 0));
            Assert.Throws<InvalidOperationException>(() => pages.FreePages(block, 0));
            Assert.Throws<InvalidOperationException>(() => pages.FreePages(pages.Base - PageAllocator.PageSize, 0));
            Assert.Equal(total - 2, pages.NrFreePages);
            pages.FreePages(block, 1);
            Assert.Throws<InvalidOperationException>(() => pages.FreePages(block, 1));
            Assert.Equal(total, pages.NrFreePages);
        }

        [Fact]
        public void AddressesMapToPagesOnlyInsideTheZone()
        {
            using var pages = new PageAllocator(2048);
            long bytes = (long)pages.TotalPages * PageAllocator.PageSize;
            // Max-order blocks are naturally aligned (a buddy's pfn differs in one bit): the
            // zone's first byte is aligned to one.
            Assert.Equal(0ul, (ulong)pages.Base % ((ulong)PageAllocator.PageSize << PageAllocator.MaxOrder));
            Assert.Equal(0, pages.IndexOf(pages.Base));
            Assert.Equal(1, pages.IndexOf(pages.Base + PageAllocator.PageSize));
            Assert.Equal(pages.TotalPages - 1, pages.IndexOf(pages.Base + bytes - 1));
            Assert.Equal(-1, pages.IndexOf(pages.Base + bytes));
            Assert.Equal(-1, pages.IndexOf(pages.Base - 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => { _ = pages.PageOf(pages.Base + bytes).Order; });
            Assert.Null(pages.SlabOf(pages.Base + bytes));
        }

        [Fact]
        public void RandomAllocAndFreeKeepTheBuddyListsExact()
        {
            // A reference model beside the allocator: every block handed out is aligned to its
            // size, overlaps no other, and the free count is the zone less what is out; at the
            // end every max-order block can be had again, as after boot.
            using var pages = new PageAllocator(2048);
            var random = new Random(11);
            var live = new List<(nint Address, int Order)>();
            var owner = new int[pages.TotalPages];
            Array.Fill(owner, -1);
            long outPages = 0;
            for (int step = 0; step < 20000; step++)
            {
                if (live.Count > 0 && (random.Next(2) == 0 || outPages > pages.TotalPages * 3 / 4))
                {
                    int i = random.Next(live.Count);
                    var (address, order) = live[i];
                    live[i] = live[^1];
                    live.RemoveAt(live.Count - 1);
                    int first = pages.IndexOf((void*)address);
                    for (int p = first; p < first + (1 << order); p++)
                        owner[p] = -1;
                    pages.FreePages((byte*)address, order);
                    outPages -= 1 << order;
                }
                else
                {
                    int order = random.Next(100) < 70 ? 0 : random.Next(1, 6);
                    byte* b = pages.AllocPages(order);
                    if (b == null)
                    {
                        Assert.True(pages.NrFreePages < 1L << order || FreeRunsShorterThan(owner, order), $"step {step}: no order-{order} block with {pages.NrFreePages} pages free");
                        continue;
                    }
                    int first = pages.IndexOf(b);
                    Assert.True(first % (1 << order) == 0, $"step {step}: order-{order} block at page {first}");
                    for (int p = first; p < first + (1 << order); p++)
                    {
                        Assert.True(owner[p] < 0, $"step {step}: page {p} handed out twice");
                        owner[p] = step;
                    }
                    live.Add(((nint)b, order));
                    outPages += 1 << order;
                }
                Assert.Equal(pages.TotalPages - outPages, pages.NrFreePages);
            }
            foreach (var (address, order) in live)
                pages.FreePages((byte*)address, order);
            int blocks = 0;
            while (pages.AllocPages(PageAllocator.MaxOrder) != null)
                blocks++;
            Assert.Equal(pages.TotalPages >> PageAllocator.MaxOrder, blocks);
            Assert.Equal(0, pages.NrFreePages);
        }

        // Whether no aligned run of 2^order free pages exists (then an allocation may fail).
        private static bool FreeRunsShorterThan(int[] owner, int order)
        {
            for (int start = 0; start < owner.Length; start += 1 << order)
                if (owner.AsSpan(start, 1 << order).IndexOfAnyExcept(-1) < 0)
                    return false;
            return true;
        }

        // ------------------------------------------------------------ the symbol table

        [Fact]
        public void TokensAndHandlesOutsideTheTablesPrintAsNumbers()
        {
            var symbols = new SymbolTable();
            Assert.Equal("0x1000", symbols.Name(0x1000));   // token 0 is never handed out
            long token = symbols.CallerAddress();
            Assert.Equal(0x1001, token);
            Assert.EndsWith("+0x0/0x0", symbols.Name((ulong)token));
            Assert.Equal("0x1002", symbols.Name((ulong)token + 1));
            Assert.Equal("0xfff", symbols.Name(0xfff));
            Assert.Equal(token, symbols.CallerAddress());   // the same caller, the same token

            Assert.Null(symbols.Stack(0));
            uint handle = symbols.SaveStack();
            Assert.Equal(1u, handle);
            Assert.NotNull(symbols.Stack(handle));
            Assert.Null(symbols.Stack(handle + 1));
        }
    }
}
