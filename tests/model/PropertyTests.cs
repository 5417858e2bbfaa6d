// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Property tests of the slab allocator, with CsCheck. A run is an array of steps, each made by
// one of four logical threads on its own CPU: allocate from one of five caches, free any live
// object (often another thread's), shrink a cache, or check the whole state. CsCheck generates
// the runs, shrinks a failing one to the shortest it can find, and prints the seed that replays
// it:
//
//   CsCheck_Seed=<seed> dotnet test tests/model --filter FullyQualifiedName~AllocatorProperties
//
// Two ways to run the same steps:
//   - interleaved: one OS thread plays every step in the array's order, migrating to the step's
//     CPU first. The seed fixes the interleaving, so a failure replays exactly and shrinks well.
//   - parallel: each logical thread is an OS thread that plays its own steps in order; the seed
//     fixes each thread's steps, the scheduler the interleaving.
//
// What each run asserts, at the step where it first fails (the message names the thread, the
// step and the object):
//   - no object is handed out while live, and no two live objects overlap (by address range);
//   - every object is stamped with its own serial number while it is live, and the stamp is
//     whole when it is checked or freed, so any write into another object is caught whichever
//     thread made it;
//   - an object of a constructed cache comes out in the constructor's state;
//   - at every "check" step the objects each cache counts as in use equal the live set, and
//     /proc/slabinfo's active_objs and num_objs are at least that;
//   - at the end, every object freed: nothing in use, slub_debug's validation finds nothing,
//     destroying the caches returns every page, and the log has no BUG or WARNING.
//
// `make soak` runs many more runs (SOAK_ITER of each test, default 500).

using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using CsCheck;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    [Trait("Category", "Property")]
    public unsafe class AllocatorProperties
    {
        private const int Threads = 4;
        private const int Cpus = 4;

        public enum Op { Alloc, Free, Shrink, Check }

        /// <summary>One step of one logical thread. Pick chooses the object a free takes.</summary>
        public readonly record struct Step(int Thread, Op Op, int Cache, int Pick)
        {
            public override string ToString() => Op switch
            {
                Op.Alloc => $"thread {Thread}: alloc from {Caches[Cache].Name}",
                Op.Free => $"thread {Thread}: free a live object (pick {Pick})",
                Op.Shrink => $"thread {Thread}: shrink {Caches[Cache].Name}",
                _ => $"thread {Thread}: check",
            };
        }

        private readonly record struct CacheSpec(string Name, uint Size, CacheFlags Flags, bool Ctor);

        private static readonly CacheSpec[] Caches =
        {
            new("p8", 8, CacheFlags.None, false),
            new("p64c", 64, CacheFlags.HwcacheAlign, true),
            new("p200", 200, CacheFlags.None, false),
            new("p3000", 3000, CacheFlags.None, false),
            new("p96r", 96, CacheFlags.RedZone, false),
        };

        private static readonly Gen<Step> GenStep =
            Gen.Select(Gen.Int[0, Threads - 1], Gen.Int[0, 99], Gen.Int[0, Caches.Length - 1], Gen.Int[0, int.MaxValue],
                (t, o, c, pick) => new Step(t, o < 55 ? Op.Alloc : o < 92 ? Op.Free : o < 96 ? Op.Shrink : Op.Check, c, pick));

        private static Gen<Step[]> Runs(int maxSteps) => GenStep.Array[1, maxSteps];

        /// <summary>Runs per test: few in `make test`, SOAK_ITER (default 500) under `make soak`.</summary>
        private static long Iter(long quick) =>
            Environment.GetEnvironmentVariable("SOAK") == "1"
                ? long.TryParse(Environment.GetEnvironmentVariable("SOAK_ITER"), out long n) ? n : 500
                : quick;

        private static string Print(Step[] steps) => $"{steps.Length} steps";

        [Theory]
        [InlineData(null)]
        [InlineData("FZPU")]
        [InlineData("P")]
        public void InterleavedRunsKeepTheInvariants(string slubDebug) =>
            Runs(3000).Sample(steps => Play(steps, slubDebug, parallel: false), iter: Iter(12), print: Print);

        [Theory]
        [InlineData(null)]
        [InlineData("FZPU")]
        public void ParallelRunsKeepTheInvariants(string slubDebug) =>
            Runs(8000).Sample(steps => Play(steps, slubDebug, parallel: true), iter: Iter(4), threads: 1, print: Print);

        /// <summary>
        /// The checks can fail: a write one byte past an object, made by another thread between
        /// its steps, is reported at the step that finds it, with the thread and the object.
        /// </summary>
        [Fact]
        public void AStrayWriteIntoAnotherObjectIsCaughtAtTheStepThatFindsIt()
        {
            Step[] steps =
            {
                new(0, Op.Alloc, 2, 0), new(1, Op.Alloc, 2, 0), new(2, Op.Check, 0, 0),
            };
            var e = Assert.Throws<PropertyFailure>(() => Play(steps, null, parallel: false, corrupt: 1));
            Assert.Matches(@"^step 2, thread 2: check: p200 object 2 \(allocated by thread 1 at step 1\) at 0x[0-9a-f]+ has byte 0xfd at offset 0, not its stamp 0x02$", e.Message);
        }

        /// <summary>Thrown at the first step that breaks a property.</summary>
        public sealed class PropertyFailure(string message) : Exception(message);

        private sealed class Live
        {
            public long Serial;
            public int Cache;
            public int Thread;
            public int Step;
            public nint Address;
            public uint Size;
        }

        private const long CtorMark = 0x0c0ffee0c0ffee;

        [UnmanagedCallersOnly]
        private static void Construct(void* obj) => *(long*)obj = CtorMark;

        /// <summary>
        /// Plays one run. <paramref name="corrupt"/> (for the test that shows the checks work)
        /// writes over the first byte of the object allocated at that step, as a neighbour's
        /// overflow would.
        /// </summary>
        private static void Play(Step[] steps, string slubDebug, bool parallel, int corrupt = -1)
        {
            using var k = K.Boot(cpus: Cpus, slubDebug: slubDebug, memoryMiB: 64);
            long freeAtStart = k.Pages.NrFreePages;
            SlabCache[] caches = Caches.Select(c => k.Slab.Create(c.Name, c.Size, 0, c.Flags,
                c.Ctor ? (nint)(delegate* unmanaged<void*, void>)&Construct : 0)).ToArray();
            var state = new State(k, caches);

            if (parallel)
            {
                var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
                {
                    k.Enter();
                    k.Slab.MigrateTo(t % Cpus);
                    for (int i = 0; i < steps.Length && state.Failure == null; i++)
                        if (steps[i].Thread == t)
                            state.Do(i, steps[i]);
                })).ToArray();
                foreach (Thread w in workers)
                    w.Start();
                foreach (Thread w in workers)
                    w.Join();
            }
            else
            {
                for (int i = 0; i < steps.Length && state.Failure == null; i++)
                {
                    k.Slab.MigrateTo(steps[i].Thread % Cpus);
                    state.Do(i, steps[i]);
                    if (i == corrupt)
                        *(byte*)state.Newest ^= 0xff;
                }
            }
            if (state.Failure != null)
                throw new PropertyFailure(state.Failure);

            state.FreeAll();
            foreach (SlabCache c in caches)
            {
                Assert.Equal(0, c.ObjectsInUse());
                if (slubDebug != null)
                    c.Validate();
                k.Slab.Destroy(c, "test");
                Assert.False(c.Leaked);
            }
            Assert.Equal(0, k.Slab.Errors);
            Assert.Equal(freeAtStart, k.Pages.NrFreePages);
            Assert.DoesNotContain(K.AllLines(k), l => l.Contains("BUG") || l.Contains("WARNING"));
        }

        /// <summary>The live set, shared by the logical threads.</summary>
        private sealed class State(ModelKernel k, SlabCache[] caches)
        {
            // Steps run under the read side; a check takes the write side, so no step is half
            // done while it counts.
            private readonly ReaderWriterLockSlim _phase = new(LockRecursionPolicy.NoRecursion);
            private readonly object _lock = new();
            private readonly List<Live> _live = new();
            private readonly SortedDictionary<nint, Live> _byAddress = new();
            private long _serial;
            private string _failure;

            public string Failure => Volatile.Read(ref _failure);
            public nint Newest { get; private set; }

            public void Do(int i, Step step)
            {
                string where = $"step {i}, {step}";
                if (step.Op == Op.Check)
                {
                    _phase.EnterWriteLock();
                    try { Check(where); }
                    finally { _phase.ExitWriteLock(); }
                    return;
                }
                _phase.EnterReadLock();
                try
                {
                    switch (step.Op)
                    {
                        case Op.Alloc: Alloc(where, i, step); break;
                        case Op.Free: Free(where, step.Pick); break;
                        default: caches[step.Cache].Shrink(); break;
                    }
                }
                finally { _phase.ExitReadLock(); }
            }

            private void Fail(string where, string what) => Interlocked.CompareExchange(ref _failure, $"{where}: {what}", null);

            private void Alloc(string where, int i, Step step)
            {
                SlabCache c = caches[step.Cache];
                byte* p = (byte*)c.Alloc();
                if (p == null)
                {
                    Fail(where, $"{c.Name} returned NULL with 64 MiB and no fault injection");
                    return;
                }
                if (Caches[step.Cache].Ctor && *(long*)p != CtorMark)
                    Fail(where, $"the {c.Name} object at 0x{(ulong)p:x} is not in the constructor's state (first word 0x{*(ulong*)p:x})");
                var obj = new Live
                {
                    Serial = Interlocked.Increment(ref _serial), Cache = step.Cache, Thread = step.Thread, Step = i,
                    Address = (nint)p, Size = c.Layout.ObjectSize,
                };
                Stamp(obj);   // before another thread can pick it to free
                lock (_lock)
                {
                    if (_byAddress.TryGetValue((nint)p, out Live twice))
                        Fail(where, $"{c.Name} handed out 0x{(ulong)p:x} again while {Describe(twice)} is live");
                    else if (Overlapping(obj) is Live other)
                        Fail(where, $"the new {c.Name} object at 0x{(ulong)p:x} ({obj.Size} bytes) overlaps {Describe(other)}");
                    _live.Add(obj);
                    _byAddress[(nint)p] = obj;
                    Newest = (nint)p;
                }
            }

            private void Free(string where, int pick)
            {
                Live obj;
                lock (_lock)
                {
                    if (_live.Count == 0)
                        return;
                    int at = pick % _live.Count;
                    obj = _live[at];
                    _live[at] = _live[^1];
                    _live.RemoveAt(_live.Count - 1);
                    _byAddress.Remove(obj.Address);
                }
                if (!StampIsWhole(obj, out string damage))
                    Fail(where, $"{Describe(obj)} {damage}");
                if (Caches[obj.Cache].Ctor)
                    *(long*)obj.Address = CtorMark;   // back to the constructed state, as kmem_cache_free() expects
                caches[obj.Cache].Free((void*)obj.Address);
            }

            private void Check(string where)
            {
                foreach (Live obj in _live)
                    if (!StampIsWhole(obj, out string damage))
                    {
                        Fail(where, $"{Describe(obj)} {damage}");
                        return;
                    }
                for (int c = 0; c < caches.Length; c++)
                {
                    long live = _live.Count(o => o.Cache == c);
                    long inUse = caches[c].ObjectsInUse();
                    SlabInfo info = caches[c].GetSlabInfo();
                    if (inUse != live)
                        Fail(where, $"{caches[c].Name} counts {inUse} objects in use, the live set has {live}");
                    else if (info.ActiveObjs < live || info.NumObjs < info.ActiveObjs)
                        Fail(where, $"{caches[c].Name}'s slabinfo says {info.ActiveObjs} active of {info.NumObjs}, with {live} live");
                }
            }

            public void FreeAll()
            {
                k.Slab.MigrateTo(0);
                while (_live.Count > 0)
                    Free("the final frees", 0);
                if (Failure != null)
                    throw new PropertyFailure(Failure);
            }

            private Live Overlapping(Live obj)
            {
                // Only the nearest live object below and the nearest above can overlap.
                Live below = null, above = null;
                foreach (var (address, o) in _byAddress)
                {
                    if (address < obj.Address)
                        below = o;
                    else
                    {
                        above = o;
                        break;
                    }
                }
                if (below != null && below.Address + (nint)below.Size > obj.Address)
                    return below;
                if (above != null && obj.Address + (nint)obj.Size > above.Address)
                    return above;
                return null;
            }

            private static string Describe(Live o) =>
                $"{Caches[o.Cache].Name} object {o.Serial} (allocated by thread {o.Thread} at step {o.Step}) at 0x{(ulong)o.Address:x}";

            // Each byte of a live object holds its serial number's bytes, in turn.
            private static byte StampByte(long serial, int i) => (byte)(serial >> (8 * (i % 8)));

            private static void Stamp(Live o)
            {
                byte* p = (byte*)o.Address;
                for (int i = 0; i < o.Size; i++)
                    p[i] = StampByte(o.Serial, i);
            }

            private static bool StampIsWhole(Live o, out string damage)
            {
                byte* p = (byte*)o.Address;
                for (int i = 0; i < o.Size; i++)
                    if (p[i] != StampByte(o.Serial, i))
                    {
                        damage = $"has byte 0x{p[i]:x} at offset {i}, not its stamp 0x{StampByte(o.Serial, i):x2}";
                        return false;
                    }
                damage = null;
                return true;
            }
        }
    }
}
