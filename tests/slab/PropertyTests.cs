// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Random operations over several threads, with frees from other threads and threads that end
// and start between rounds: no object may be handed out twice or overlap another (each live
// object is stamped with its identity over all its bytes but the free pointer's, and checked at
// its free), no free may be lost (at the end every object is freed and Destroy finds none in use,
// then gives every slab back). A failure names the seed, the thread and the step; the same seed
// replays each thread's operations (the threads' interleaving is the machine's). The same runs
// with slub_debug=FZPU (SlabDebugFlags.All): the debug path under the cache's lock must keep the
// same promises, and its checks must find nothing to report in a correct program.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using SimpleCache.Slab;
using Xunit;

namespace SimpleCache.Slab.Tests
{
    public unsafe class PropertyTests
    {
        private const int Size = 64;

        [Theory]
        [InlineData(1, false, false)]
        [InlineData(2, false, false)]
        [InlineData(3, true, false)]
        [InlineData(4, true, false)]
        [InlineData(5, false, true)]
        [InlineData(6, true, true)]
        public void ThreadsAllocateAndFreeEachOthersObjectsAndNothingIsLost(int seed, bool constructor, bool debug)
        {
            int constructed = 0;
            var reports = new ConcurrentQueue<SlabDebugReport>();
            var options = new SlabCacheOptions
            {
                MinPartial = 1,
                CpuPartial = seed % 2 == 0 ? 0 : null,   // 0: every free of a full slab drains the thread's partial list
                Constructor = constructor ? p => { Interlocked.Increment(ref constructed); } : null,
                Debug = debug ? SlabDebugFlags.All : SlabDebugFlags.None,
                OnReport = reports.Enqueue,
            };
            var cache = new SlabCache("property", Size, options);
            var live = new ConcurrentDictionary<nint, long>();
            var handoff = new ConcurrentQueue<nint>();
            int rounds = 4, threads = 4, steps = debug ? 5_000 : 20_000;   // a debug cache records a stack trace per call
            string failure = null;
            for (int round = 0; round < rounds && failure == null; round++)
            {
                var workers = new Thread[threads];
                for (int t = 0; t < threads; t++)
                {
                    int thread = t, r = round;
                    workers[t] = new Thread(() =>
                    {
                        string f = Run(cache, seed * 1000 + r * 10 + thread, r, thread, steps, live, handoff);
                        if (f != null)
                            Interlocked.CompareExchange(ref failure, f, null);
                    });
                    workers[t].Start();
                }
                foreach (Thread w in workers)
                    w.Join();
                // The round's threads ended: their slabs go to the pool for the next round's.
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Assert.True(failure == null, failure);
            while (handoff.TryDequeue(out nint o))
                FreeChecked(cache, live, o, "the end", ref failure);
            foreach (nint o in live.Keys)
                FreeChecked(cache, live, o, "the end", ref failure);
            Assert.True(failure == null, failure);
            Assert.Empty(live);
            LeakReport report = cache.Destroy();
            Assert.True(report.Leaked == 0, $"seed {seed}: {report}");
            Assert.Equal(0, cache.Slabs);
            Assert.True(reports.IsEmpty, $"seed {seed}: a correct program got a debug report: {(reports.TryPeek(out var first) ? first.Text : "")}");
            Assert.Equal(debug ? "FZPU" : "-", cache.DebugLetters);
            if (constructor)
                Assert.Equal(cache.SlabsMade * cache.ObjectsPerSlab, constructed);
        }

        private static string Run(SlabCache cache, int seed, int round, int thread, int steps,
            ConcurrentDictionary<nint, long> live, ConcurrentQueue<nint> handoff)
        {
            var random = new Random(seed);
            var mine = new List<nint>();
            // Odd threads go through a handle of their own (SlabCache.Local), even ones through the
            // cache: the two paths share slabs and objects, and free each other's.
            SlabLocal? local = thread % 2 == 1 ? cache.Local() : null;
            string failure = null;
            for (int step = 0; step < steps && failure == null; step++)
            {
                string where = $"seed {seed}, round {round}, thread {thread}, step {step}";
                int op = random.Next(100);
                if (op < 45 || mine.Count == 0)
                {
                    byte* p = (byte*)(local is { } l ? l.Alloc() : cache.Alloc());
                    if (p == null)
                        return $"{where}: out of memory";
                    long identity = ((long)seed << 32) | (uint)step;
                    if (!live.TryAdd((nint)p, identity))
                        return $"{where}: 0x{(nint)p:x} handed out while still in use";
                    Stamp(p, identity);
                    mine.Add((nint)p);
                }
                else if (op < 80)
                {
                    int i = random.Next(mine.Count);
                    nint o = mine[i];
                    mine[i] = mine[^1];
                    mine.RemoveAt(mine.Count - 1);
                    FreeChecked(cache, live, o, where, ref failure, local);
                }
                else if (op < 95)
                {
                    int i = random.Next(mine.Count);
                    handoff.Enqueue(mine[i]);   // for another thread (or a later round) to free
                    mine[i] = mine[^1];
                    mine.RemoveAt(mine.Count - 1);
                }
                else if (op < 99)
                {
                    if (handoff.TryDequeue(out nint o))
                        FreeChecked(cache, live, o, where, ref failure, local);
                }
                else
                    cache.Shrink();
            }
            // Half of what is left is freed by this thread, half by whoever comes next.
            for (int i = 0; i < mine.Count && failure == null; i++)
                if (i % 2 == 0)
                    FreeChecked(cache, live, mine[i], $"seed {seed}, round {round}, thread {thread}, the end", ref failure);
                else
                    handoff.Enqueue(mine[i]);
            return failure;
        }

        // Every byte but the free pointer's (the middle word: 32 to 39) says whose the object is.
        private static void Stamp(byte* p, long identity)
        {
            for (int w = 0; w < Size / 8; w++)
                if (w != 4)
                    ((long*)p)[w] = identity ^ w;
        }

        private static void FreeChecked(SlabCache cache, ConcurrentDictionary<nint, long> live, nint o, string where, ref string failure, SlabLocal? local = null)
        {
            if (!live.TryRemove(o, out long identity))
            {
                failure ??= $"{where}: 0x{o:x} freed but not in use";
                return;
            }
            for (int w = 0; w < Size / 8; w++)
                if (w != 4 && ((long*)o)[w] != (identity ^ w))
                {
                    failure ??= $"{where}: 0x{o:x} was overwritten while in use (word {w}: 0x{((long*)o)[w]:x})";
                    return;
                }
            if (local is { } l)
                l.Free((void*)o);
            else
                cache.Free((void*)o);
        }
    }
}
