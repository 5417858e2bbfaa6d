// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// What the library promises at its edges, which the first mutation run of it (docs/mutation.md,
// part slab-library) found no test held it to: the meter's six instruments and their end at
// Destroy, the leak report's and the debug reports' words, how many empty slabs a thread and a
// debug cache keep (SLUB's min_partial) through frees and Shrink, the options' limits and their
// messages, and frees by another thread to a full slab, again and again.

using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using Xunit;

namespace SimpleCache.Slab.Tests
{
    public unsafe class ContractTests
    {
        // Each instrument's figures for the caches named, and its unit and description.
        private sealed record Instrument(string Unit, string Description, Dictionary<string, long> Values);

        private static Dictionary<string, Instrument> Measure(params string[] caches)
        {
            var seen = new Dictionary<string, Instrument>();
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "SimpleCache.Slab")
                    l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) =>
            {
                foreach (var tag in tags)
                    if (tag.Key == "cache" && caches.Contains((string)tag.Value))
                    {
                        if (!seen.TryGetValue(instrument.Name, out Instrument i))
                            seen[instrument.Name] = i = new Instrument(instrument.Unit, instrument.Description, new Dictionary<string, long>());
                        Assert.Equal(typeof(SlabCache).Assembly.GetName().Version.ToString(3), instrument.Meter.Version);
                        i.Values[(string)tag.Value] = value;
                    }
            });
            listener.Start();
            listener.RecordObservableInstruments();
            return seen;
        }

        [Fact]
        public void TheMeterPublishesSixFiguresWithUnitsAndDescriptionsUntilDestroy()
        {
            int constructed = 0;
            var cache = new SlabCache("meter-six", 64, new SlabCacheOptions { Constructor = _ => Interlocked.Increment(ref constructed) });
            var reports = new List<SlabDebugReport>();
            var debug = new SlabCache("meter-six-debug", 64, new SlabCacheOptions { Debug = SlabDebugFlags.All, OnReport = reports.Add });
            var objects = Enumerable.Range(0, cache.ObjectsPerSlab + 1).Select(_ => (nint)cache.Alloc()).ToList();
            // Ten of the full slab freed by another thread: the first is __slab_free()'s (a remote
            // free), which puts the slab on that thread's partial list; the other nine are that
            // thread's own frees to it.
            var t = new Thread(() =>
            {
                foreach (nint o in objects.Take(10))
                    cache.Free((void*)o);
            });
            t.Start();
            t.Join();
            byte* d = (byte*)debug.Alloc();
            d[64] = 0;      // past the object: the red zone
            debug.Free(d);  // one report
            Assert.Single(reports);

            Dictionary<string, Instrument> m = Measure("meter-six", "meter-six-debug");
            Assert.Equal(
                new[] { "simplecache.slab.bytes", "simplecache.slab.constructor_calls", "simplecache.slab.debug_reports",
                        "simplecache.slab.remote_frees", "simplecache.slab.slabs", "simplecache.slab.slabs_made" },
                m.Keys.OrderBy(k => k, StringComparer.Ordinal));
            Assert.Equal("By", m["simplecache.slab.bytes"].Unit);
            Assert.Equal("{slab}", m["simplecache.slab.slabs"].Unit);
            Assert.Equal("{slab}", m["simplecache.slab.slabs_made"].Unit);
            Assert.Equal("{call}", m["simplecache.slab.constructor_calls"].Unit);
            Assert.Equal("{object}", m["simplecache.slab.remote_frees"].Unit);
            Assert.Equal("{report}", m["simplecache.slab.debug_reports"].Unit);
            // Every description says something, and no two say the same.
            Assert.All(m.Values, i => Assert.False(string.IsNullOrWhiteSpace(i.Description)));
            Assert.Equal(6, m.Values.Select(i => i.Description).Distinct().Count());

            Assert.Equal(2, m["simplecache.slab.slabs"].Values["meter-six"]);
            Assert.Equal(2, m["simplecache.slab.slabs_made"].Values["meter-six"]);
            Assert.Equal(2L * cache.ObjectsPerSlab, m["simplecache.slab.constructor_calls"].Values["meter-six"]);
            Assert.Equal(constructed, m["simplecache.slab.constructor_calls"].Values["meter-six"]);
            Assert.Equal(1, m["simplecache.slab.remote_frees"].Values["meter-six"]);
            Assert.Equal(0, m["simplecache.slab.debug_reports"].Values["meter-six"]);
            Assert.Equal(1, m["simplecache.slab.debug_reports"].Values["meter-six-debug"]);
            Assert.Equal(0, m["simplecache.slab.remote_frees"].Values["meter-six-debug"]);

            foreach (nint o in objects.Skip(10))
                cache.Free((void*)o);
            cache.Destroy();
            debug.Destroy();
            Assert.Empty(Measure("meter-six", "meter-six-debug"));   // a destroyed cache is no longer observed
        }

        [Fact]
        public void TheLeakReportCountsListsTheFirstTenAndSaysWhenThereAreMore()
        {
            var none = new SlabCache("leak-none", 32);
            none.Free(none.Alloc());
            Assert.Equal("leak-none: every object was freed", none.Destroy().ToString());
            Assert.Equal((0, 0L), (none.Slabs, none.Bytes));   // nothing leaked: the memory went back

            var one = new SlabCache("leak-one", 32);
            nint a = (nint)one.Alloc();
            Assert.Equal($"leak-one: 1 object remaining on destroy: 0x{(ulong)a:x}", one.Destroy().ToString());

            var ten = new SlabCache("leak-ten", 32);
            var tenObjects = Enumerable.Range(0, 10).Select(_ => (nint)ten.Alloc()).ToList();
            string tenText = ten.Destroy().ToString();
            Assert.StartsWith("leak-ten: 10 objects remaining on destroy: 0x", tenText);
            Assert.Equal(tenObjects.Select(o => $"0x{(ulong)o:x}").Order(), tenText["leak-ten: 10 objects remaining on destroy: ".Length..].Split(", ").Order());   // all ten, no "..."

            var twelve = new SlabCache("leak-twelve", 32);
            var twelveObjects = Enumerable.Range(0, 12).Select(_ => (nint)twelve.Alloc()).ToList();
            LeakReport r = twelve.Destroy();
            string text = r.ToString();
            Assert.StartsWith("leak-twelve: 12 objects remaining on destroy: 0x", text);
            Assert.EndsWith(", ...", text);
            Assert.Equal(11, text.Split(", ").Length);   // ten addresses, then "..."
            Assert.Equal(12, r.Objects.Count);
            Assert.Empty(r.Sites);                       // no tracking: no sites, never null
            Assert.True(twelve.Bytes > 0);               // a leak keeps the memory

            var many = new SlabCache("leak-many", 32);
            for (int i = 0; i < LeakReport.MaxListed + 50; i++)
                many.Alloc();
            LeakReport m = many.Destroy();
            Assert.Equal(LeakReport.MaxListed + 50, m.Leaked);
            Assert.Equal(LeakReport.MaxListed, m.Objects.Count);
        }

        [Fact]
        public void ADebugReportNamesTheSlabTheObjectAndWhoLastAllocatedAndFreedIt()
        {
            var reports = new List<SlabDebugReport>();
            var cache = new SlabCache("report-words", 64, new SlabCacheOptions { Debug = SlabDebugFlags.All, OnReport = reports.Add });
            byte* keep = (byte*)cache.Alloc();
            byte* a = (byte*)cache.Alloc();
            long before = Environment.TickCount64;
            cache.Free(a);
            a[20] = 0x41;                      // a write after free
            byte* again = (byte*)cache.Alloc();
            long after = Environment.TickCount64;
            Assert.Equal((nint)a, (nint)again);
            SlabDebugReport r = Assert.Single(reports);
            string[] lines = r.Text.Split('\n');
            Assert.StartsWith($"BUG report-words: Poison overwritten: 0x{(nint)(a + 20):x}-0x{(nint)(a + 20):x} @offset=20. First byte 0x41 instead of 0x6b", lines[0]);
            nint slab = (nint)a & ~(nint)(cache.SlabBytes - 1);
            long offset = (long)((nint)a - slab);
            Assert.Matches($"^Slab 0x[0-9a-f]+ objects={cache.ObjectsPerSlab} used=1$", lines[1]);   // the kept object (checked before this one is counted)
            Assert.Equal($"Object 0x{(nint)a:x} @offset={offset}", lines[2]);
            string thread = $"thread={Environment.CurrentManagedThreadId} ";
            Assert.StartsWith($"Allocated in ContractTests.{nameof(ADebugReportNamesTheSlabTheObjectAndWhoLastAllocatedAndFreedIt)} (ContractTests.cs:", lines[3]);
            Assert.Contains(thread, lines[3]);
            Assert.StartsWith($"Freed in ContractTests.{nameof(ADebugReportNamesTheSlabTheObjectAndWhoLastAllocatedAndFreedIt)} (ContractTests.cs:", lines[4]);
            Assert.Contains(thread, lines[4]);
            Assert.Equal(lines[3]["Allocated in ".Length..], r.AllocatedAt);
            Assert.Equal(lines[4]["Freed in ".Length..], r.FreedAt);
            // age= is the milliseconds since that free: between 0 and the test's own span.
            long age = long.Parse(r.FreedAt[(r.FreedAt.IndexOf("age=", StringComparison.Ordinal) + 4)..^2]);
            Assert.InRange(age, 0, after - before);
            Assert.EndsWith("ms", r.FreedAt);
            Assert.StartsWith("FIX report-words: ", lines[^1]);

            // A pointer that is no object: no slab line, no object line, no tracks; -1 for the bytes.
            reports.Clear();
            cache.Free(keep + 8);
            SlabDebugReport bad = Assert.Single(reports);
            Assert.Equal(SlabProblem.InvalidPointer, bad.Problem);
            Assert.Equal($"BUG report-words: Invalid object pointer 0x{(nint)(keep + 8):x}\nFIX report-words: Object at 0x{(nint)(keep + 8):x} not freed", bad.Text);
            Assert.Equal((0, -1, -1), (bad.Offset, bad.Found, bad.Expected));
            Assert.Null(bad.AllocatedAt);
            Assert.Null(bad.FreedAt);

            // A double free: the object's tracks, -1 for the bytes.
            reports.Clear();
            cache.Free(keep);
            cache.Free(keep);
            SlabDebugReport twice = Assert.Single(reports);
            Assert.Equal(SlabProblem.DoubleFree, twice.Problem);
            Assert.Equal((0, -1, -1), (twice.Offset, twice.Found, twice.Expected));
            Assert.NotNull(twice.FreedAt);
            cache.Free(again);
            cache.Destroy();
        }

        [Fact]
        public void WithoutTrackingAReportHasNoTracksAndTheSlotNone()
        {
            var reports = new List<SlabDebugReport>();
            var cache = new SlabCache("no-tracks", 64, new SlabCacheOptions { Debug = SlabDebugFlags.Consistency | SlabDebugFlags.Poison, OnReport = reports.Add });
            byte* a = (byte*)cache.Alloc();
            cache.Free(a);
            cache.Free(a);
            SlabDebugReport r = Assert.Single(reports);
            Assert.Null(r.AllocatedAt);
            Assert.Null(r.FreedAt);
            Assert.DoesNotContain("Allocated in", r.Text);
            Assert.DoesNotContain("Freed in", r.Text);
            cache.Destroy();
        }

        [Fact]
        public void ADisabledSlabsObjectsAreRefusedWithTheirOwnReport()
        {
            var reports = new List<SlabDebugReport>();
            var cache = new SlabCache("disabled-words", 64, new SlabCacheOptions { Debug = SlabDebugFlags.All, OnReport = reports.Add });
            byte* a = (byte*)cache.Alloc();
            byte* b = (byte*)cache.Alloc();
            cache.Free(b);
            *(long*)(b + 72) = 0x1234;   // its free pointer: after the object and its red zone (64-byte objects, FZPU)
            byte* c = (byte*)cache.Alloc();   // finds it: the slab is disabled
            SlabDebugReport corrupt = Assert.Single(reports, x => x.Problem == SlabProblem.FreePointerCorrupt);
            Assert.Equal((0, -1, -1), (corrupt.Offset, corrupt.Found, corrupt.Expected));
            Assert.Contains("Freepointer corrupt: 0x1234", corrupt.Text);
            Assert.EndsWith("Marking all objects used: the slab is disabled", corrupt.Text);
            reports.Clear();
            cache.Free(a);
            SlabDebugReport r = Assert.Single(reports);
            Assert.Equal(SlabProblem.SlabDisabled, r.Problem);
            Assert.Equal((0, -1, -1), (r.Offset, r.Found, r.Expected));
            Assert.Contains("BUG disabled-words: Slab disabled since a consistency check failed", r.Text);
            Assert.EndsWith($"FIX disabled-words: Object at 0x{(nint)a:x} not freed", r.Text);
            if (c != null)
                cache.Free(c);
        }

        [Fact]
        public void AThreadKeepsItsPartialSlabsAndTheCacheMinPartialEmptyOnesEveryRound()
        {
            // SLUB's per-CPU layer (SlubCpu.cs) with 64-byte objects in 16 KiB slabs (256 a slab) and
            // the kernel's cpu_partial, 120: a thread keeps cpu_partial_slabs =
            // DIV_ROUND_UP(2 * 120, 256) = 1 partial slab.
            var cache = new SlabCache("min-partial", 64, new SlabCacheOptions { MinPartial = 2, MinSlabOrder = 2, CpuPartial = 120 });
            int perSlab = cache.ObjectsPerSlab;
            Assert.Equal((256, 120, 1), (perSlab, cache.CpuPartial, cache.CpuPartialSlabs));
            for (int round = 0; round < 3; round++)
            {
                var objects = Enumerable.Range(0, 6 * perSlab).Select(_ => (nint)cache.Alloc()).ToList();
                Assert.Equal(6, cache.Slabs);
                Assert.Equal(0, cache.PartialSlabs);   // the thread took back every slab with free objects
                foreach (nint o in objects)
                    cache.Free((void*)o);
                // Freed in order, each full slab's first free puts it on the thread's partial list
                // (__slab_free()), which then holds one slab: the one before goes to the cache's
                // list, empty. The list keeps min_partial (2) of them, the first two; the third
                // and fourth go back to their arena. The fifth stays on the thread's list, the
                // sixth is its slab.
                Assert.Equal(2, cache.PartialSlabs);
                Assert.Equal(2 + 1 + 1, cache.Slabs);
                Assert.Equal(6, cache.SlabsMade);   // never a new one after the first round: the arena's come back
                Assert.Equal(2L * (round + 1), cache.Statistic(SlubStat.FreeSlab));
            }
            // Shrink flushes the thread's slabs to the list and gives back every empty one.
            cache.Shrink();
            Assert.Equal((0, 0L), (cache.PartialSlabs, cache.Slabs));
            var again = Enumerable.Range(0, 6 * perSlab).Select(_ => (nint)cache.Alloc()).ToList();
            foreach (nint o in again)
                cache.Free((void*)o);
            Assert.Equal(2, cache.PartialSlabs);
            Assert.Equal(4, cache.Slabs);
            Assert.Equal(12, cache.SlabsMade);   // Shrink gave the arena, no slab of it in use, back to the system
            cache.Destroy();
        }

        [Fact]
        public void ADebugCacheKeepsMinPartialEmptySlabsEveryRoundAndShrinkGivesThemBack()
        {
            var cache = new SlabCache("min-partial-debug", 64, new SlabCacheOptions { Debug = SlabDebugFlags.All, MinPartial = 2, OnReport = r => throw new Xunit.Sdk.XunitException(r.Text) });
            int perSlab = cache.ObjectsPerSlab;
            for (int round = 0; round < 3; round++)
            {
                var objects = Enumerable.Range(0, 5 * perSlab).Select(_ => (nint)cache.Alloc()).ToList();
                Assert.Equal(5, cache.Slabs);
                foreach (nint o in objects)
                    cache.Free((void*)o);
                Assert.Equal(2, cache.Slabs);       // min_partial empty slabs kept, the others given back
            }
            cache.Shrink();
            Assert.Equal(0, cache.Slabs);
            var again = Enumerable.Range(0, 3 * perSlab).Select(_ => (nint)cache.Alloc()).ToList();
            foreach (nint o in again)
                cache.Free((void*)o);
            Assert.Equal(2, cache.Slabs);
            cache.Destroy();
        }

        [Fact]
        public void OptionsAtTheirLimitsAreTakenAndPastThemRefusedWithAReason()
        {
            Assert.Equal(8, new SlabCache("align-1", 24, new SlabCacheOptions { Align = 1 }).Align);   // SLUB's minimum, ARCH_SLAB_MINALIGN
            var page = new SlabCache("align-page", 24, new SlabCacheOptions { Align = SlabCache.PageSize });
            Assert.Equal(SlabCache.PageSize, page.Align);
            Assert.Equal(0, (nint)page.Alloc() % SlabCache.PageSize);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SlabCache("align-2-pages", 24, new SlabCacheOptions { Align = 2 * SlabCache.PageSize }));
            Assert.Equal("options", e.ParamName);
            Assert.Contains("the alignment must be a power of two up to the page size", e.Message);
            Assert.Equal(10, new SlabCache("order-10", 4096, new SlabCacheOptions { MinSlabOrder = 10 }).Order);
            // Small objects stop short of it: at most MAX_OBJS_PER_PAGE (32767) objects in a slab,
            // as calculate_order() has it: order 7 holds 21,845 of 24 bytes, order 8 too many.
            Assert.Equal(7, new SlabCache("order-10-small", 24, new SlabCacheOptions { MinSlabOrder = 10 }).Order);
            Assert.Equal(0, new SlabCache("order-0", 24, new SlabCacheOptions { MinSlabOrder = 0 }).Order);
            foreach (int order in new[] { -1, 11 })
            {
                e = Assert.Throws<ArgumentOutOfRangeException>(() => new SlabCache("order-bad", 24, new SlabCacheOptions { MinSlabOrder = order }));
                Assert.Equal("options", e.ParamName);
                Assert.Contains("the slab order must be 0 to 10", e.Message);
            }
            e = Assert.Throws<ArgumentOutOfRangeException>(() => new SlabCache("empty", 0));
            Assert.Contains("an object has at least one byte", e.Message);
            e = Assert.Throws<ArgumentOutOfRangeException>(() => new SlabCache("huge", (SlabCache.PageSize << 10) + 1));
            Assert.Contains($"no slab up to order 10 holds an object of {(SlabCache.PageSize << 10) + 1} bytes", e.Message);
            Assert.Equal("slab", new SlabCache(null, 8).Name);
        }

        [Fact]
        public void FreesByAnotherThreadToAFullSlabBringItBackEveryTime()
        {
            var cache = new SlabCache("remote-full", 64);
            int perSlab = cache.ObjectsPerSlab;
            // Slab 1 full, slab 2 this thread's.
            var first = Enumerable.Range(0, perSlab).Select(_ => (nint)cache.Alloc()).ToList();
            var rest = new List<nint> { (nint)cache.Alloc() };
            for (int round = 0; round < 4; round++)
            {
                // Another thread frees the whole full slab: the first free puts it on that
                // thread's partial list (__slab_free()), the others are that thread's own. When
                // the thread ends, its slabs go to the cache's list (slub_cpu_dead()), and this
                // thread, running out of its slab, takes it from there instead of making one.
                TestThreads.RunAndForget(() =>
                {
                    foreach (nint o in first)
                        cache.Free((void*)o);
                });
                first.Clear();
                while (first.Count < perSlab)
                {
                    nint o = (nint)cache.Alloc();
                    if (((nint)o & ~(nint)(cache.SlabBytes - 1)) == ((nint)rest[0] & ~(nint)(cache.SlabBytes - 1)))
                        rest.Add(o);
                    else
                        first.Add(o);
                }
                Assert.Equal(2, cache.SlabsMade);
            }
            // In the first round the slab is full and nobody's: one __slab_free() puts it on the
            // freeing thread's partial list. In the next three it is this thread's slab, taken
            // back from the cache's list, frozen: each free is __slab_free()'s, onto its freelist.
            Assert.Equal(1 + 3 * perSlab, cache.RemoteFrees);
            Assert.Equal((1L, 3L * perSlab), (cache.Statistic(SlubStat.CpuPartialFree), cache.Statistic(SlubStat.FreeFrozen)));
            foreach (nint o in first.Concat(rest))
                cache.Free((void*)o);
            Assert.Equal("remote-full: every object was freed", cache.Destroy().ToString());
        }

        // A slab on a thread's partial list gets frees from its thread (the local list) and from
        // another (the slab's freelist, __slab_free() to a frozen slab): when the thread takes the
        // slab back, both lists come with it, and it stays frozen, the thread's slab.
        [Fact]
        public void APartialSlabsOwnAndOthersFreesComeBackTogether()
        {
            var cache = new SlabCache("both-lists", 64, new SlabCacheOptions { MinSlabOrder = 2 });
            int perSlab = cache.ObjectsPerSlab;
            var full = Enumerable.Range(0, perSlab).Select(_ => (nint)cache.Alloc()).ToList();   // slab A, full
            var mine = Enumerable.Range(0, perSlab).Select(_ => (nint)cache.Alloc()).ToList();   // slab B, this thread's, full
            cache.Free((void*)full[0]);   // A to this thread's partial list
            for (int i = 1; i < perSlab / 2; i++)
                cache.Free((void*)full[i]);   // the local list
            TestThreads.RunAndForget(() =>
            {
                for (int i = perSlab / 2; i < perSlab; i++)
                    cache.Free((void*)full[i]);   // A is frozen: its freelist
            });
            Assert.Equal(perSlab / 2, cache.Statistic(SlubStat.FreeFrozen));
            // B is full: the next allocation drops it and takes A, every one of A's objects.
            var again = Enumerable.Range(0, perSlab).Select(_ => (nint)cache.Alloc()).ToList();
            Assert.Equal(full.OrderBy(o => o), again.OrderBy(o => o));
            Assert.Equal(2, cache.SlabsMade);
            // (A was dropped full once before, when B was made)
            Assert.Equal((1L, 2L), (cache.Statistic(SlubStat.CpuPartialAlloc), cache.Statistic(SlubStat.DeactivateBypass)));
            // A stayed frozen, this thread's slab: another thread's free to it is FREE_FROZEN again.
            TestThreads.RunAndForget(() => cache.Free((void*)again[0]));
            Assert.Equal(perSlab / 2 + 1, cache.Statistic(SlubStat.FreeFrozen));
            cache.Free((void*)again[1]);
            foreach (nint o in again.Skip(2).Concat(mine))
                cache.Free((void*)o);
            Assert.Equal(0, cache.Destroy().Leaked);
        }

        [Fact]
        public void AThreadFreeingAnothersFullSlabsKeepsOneAndGivesTheCacheTheRest()
        {
            var cache = new SlabCache("remote-many", 64, new SlabCacheOptions { MinPartial = 100, MinSlabOrder = 2, CpuPartial = 120 });
            int perSlab = cache.ObjectsPerSlab;
            var objects = Enumerable.Range(0, 40 * perSlab).Select(_ => (nint)cache.Alloc()).ToList();
            long made = cache.SlabsMade;
            TestThreads.RunAndForget(() =>
            {
                foreach (nint o in objects)
                    cache.Free((void*)o);
                // 39 full slabs went on this thread's partial list one after another; each but the
                // first drained the one before (cpu_partial_slabs is 1). The 40th is the other
                // thread's slab, frozen: its frees wait on its freelist.
                Assert.Equal((39L, 38L, 38), (cache.Statistic(SlubStat.CpuPartialFree), cache.Statistic(SlubStat.CpuPartialDrain), cache.PartialSlabs));
                Assert.Equal(perSlab, cache.Statistic(SlubStat.FreeFrozen));
            });
            Assert.Equal(39, cache.PartialSlabs);   // the ended thread's partial slab joined them
            // All 40 slabs' objects come back to this thread without a new slab.
            var again = Enumerable.Range(0, 40 * perSlab).Select(_ => (nint)cache.Alloc()).ToList();
            Assert.Equal(made, cache.SlabsMade);
            Assert.Equal(objects.OrderBy(o => o), again.OrderBy(o => o));
            foreach (nint o in again)
                cache.Free((void*)o);
            cache.Destroy();
        }
    }
}
