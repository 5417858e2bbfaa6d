// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// slub_debug for SlabCache: the checks SLUB makes of a cache booted with slub_debug=FZPU
// (mm/slub.c: calculate_sizes(), init_object(), check_object(), alloc_debug_processing(),
// free_debug_processing(), on_freelist(), slab_pad_check(), set_track()), with the same letters
// and the same byte values, so that what a learner sees in the kernel's reports reads the same
// here. Which bytes are written and checked is SlubDebugLayout.cs, the model of the kernel's too:
//
//   F  consistency checks: a free of a pointer that is no object of this cache ("Invalid object
//      pointer"), of an object already free ("Object already free"), a corrupt free pointer
//   Z  red zones: 8 bytes (at least) after each object and before it, 0xcc while the object is in
//      use and 0xbb while it is free; an overflow or underflow shows when the object is freed
//   P  poisoning: a free object's bytes are 0x6b, its last byte 0xa5 (not for a constructor cache,
//      whose free objects keep the constructed state, as SLUB leaves them), and an object is
//      handed out so too, as SLUB's init_object() leaves it; the padding after each object and
//      at the end of each slab is 0x5a; a write after free shows at the next allocation of the
//      object, a stray write into padding at the next check of it
//   U  tracking: the call site, thread and time of each object's last allocation and free, in
//      every report and in Destroy's leak report (SLUB's "Allocated in ... age= cpu= pid=")
//
// A debug cache takes the path SLUB's debug caches take (6.1 and 6.12: no per-CPU slabs,
// alloc_single_from_partial() and free_to_partial_list() under the node's list_lock): every
// allocation and free runs under the cache's lock, on one list of partial slabs and one of full
// ones, from any thread. It is slower, and meant for finding bugs, as slub_debug is.
//
// What SLUB does after a report, and what this does:
//   - bytes found overwritten (red zone, poison, padding) are restored, as SLUB's FIX lines say;
//     the object then goes on as usual (SLUB refuses such a free, and at allocation disables the
//     whole slab: "Marking all objects used"; here the free pointer lives outside the object, so
//     only a corrupt free pointer makes the slab's freelist untrustworthy, and only then is the
//     slab disabled: its objects stay allocated, and Destroy reports them);
//   - a double free or an invalid pointer is not freed ("Object at 0x... not freed").
// Then the report goes to SlabCacheOptions.OnReport, or, without one, is thrown as a
// SlabCorruptionException once the cache is consistent again.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;

namespace SimpleCache.Slab
{
    /// <summary>slub_debug's letters, for <see cref="SlabCacheOptions.Debug"/>.</summary>
    [Flags]
    public enum SlabDebugFlags
    {
        /// <summary>No debugging: the fast per-thread paths.</summary>
        None = 0,
        /// <summary>F: consistency checks (invalid pointers, double frees, free pointers).</summary>
        Consistency = 1,
        /// <summary>Z: red zones before and after each object.</summary>
        RedZone = 2,
        /// <summary>P: poison free objects (0x6b, last byte 0xa5) and padding (0x5a).</summary>
        Poison = 4,
        /// <summary>U: track each object's last allocation and free (call site, thread, time).</summary>
        StoreUser = 8,
        /// <summary>FZPU: everything, as slub_debug with no letters turns on.</summary>
        All = Consistency | RedZone | Poison | StoreUser,
    }

    /// <summary>Parses slub_debug's letters.</summary>
    public static class SlabDebug
    {
        /// <summary>The environment variable that turns debugging on for caches whose options do not say (SLUB's slub_debug= boot parameter).</summary>
        public const string EnvironmentVariable = "SIMPLECACHE_SLAB_DEBUG";

        /// <summary>
        /// "FZPU", any subset in any order and case, "" (all, as a bare slub_debug does) or "-" (none).
        /// </summary>
        /// <exception cref="ArgumentException">A letter that is not one of F, Z, P, U.</exception>
        public static SlabDebugFlags Parse(string letters)
        {
            ArgumentNullException.ThrowIfNull(letters);
            if (letters.Length == 0)
                return SlabDebugFlags.All;
            if (letters == "-")
                return SlabDebugFlags.None;
            SlabDebugFlags flags = SlabDebugFlags.None;
            foreach (char c in letters)
                flags |= char.ToUpperInvariant(c) switch
                {
                    'F' => SlabDebugFlags.Consistency,
                    'Z' => SlabDebugFlags.RedZone,
                    'P' => SlabDebugFlags.Poison,
                    'U' => SlabDebugFlags.StoreUser,
                    _ => throw new ArgumentException($"'{c}' is no slub_debug letter this allocator knows (F, Z, P, U; '-' for none)", nameof(letters)),
                };
            return flags;
        }

        /// <summary>The letters of <paramref name="flags"/>, in slub_debug's order ("FZPU"), or "-".</summary>
        public static string Letters(SlabDebugFlags flags) => flags == SlabDebugFlags.None ? "-" :
            (flags.HasFlag(SlabDebugFlags.Consistency) ? "F" : "") + (flags.HasFlag(SlabDebugFlags.RedZone) ? "Z" : "")
            + (flags.HasFlag(SlabDebugFlags.Poison) ? "P" : "") + (flags.HasFlag(SlabDebugFlags.StoreUser) ? "U" : "");

        internal static SlabDebugFlags FromEnvironment()
        {
            string value = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return value == null ? SlabDebugFlags.None : Parse(value);
        }
    }

    /// <summary>What a debug check found.</summary>
    public enum SlabProblem
    {
        /// <summary>A free of a pointer that is no object of this cache.</summary>
        InvalidPointer,
        /// <summary>A free of an object that is already free.</summary>
        DoubleFree,
        /// <summary>The red zone before the object was written (an underflow).</summary>
        LeftRedZoneOverwritten,
        /// <summary>The red zone after the object was written (an overflow).</summary>
        RightRedZoneOverwritten,
        /// <summary>A free object was written (a use after free).</summary>
        PoisonOverwritten,
        /// <summary>The padding after an object was written.</summary>
        ObjectPaddingOverwritten,
        /// <summary>The padding at the end of a slab was written.</summary>
        SlabPaddingOverwritten,
        /// <summary>A free object's free pointer points at no object of its slab: the slab is disabled.</summary>
        FreePointerCorrupt,
        /// <summary>A free to a slab disabled by an earlier corrupt free pointer.</summary>
        SlabDisabled,
    }

    /// <summary>One debug report: what, where, and (with tracking) who last allocated and freed the object.</summary>
    public sealed class SlabDebugReport
    {
        internal SlabDebugReport(string cache, SlabProblem problem, nint obj, string text, string allocatedAt, string freedAt, int offset, int found, int expected)
        {
            Cache = cache;
            Problem = problem;
            Object = obj;
            Text = text;
            AllocatedAt = allocatedAt;
            FreedAt = freedAt;
            Offset = offset;
            Found = found;
            Expected = expected;
        }

        /// <summary>The cache's name.</summary>
        public string Cache { get; }
        /// <summary>What was found.</summary>
        public SlabProblem Problem { get; }
        /// <summary>The object (or the pointer given to Free, or the slab for slab padding).</summary>
        public nint Object { get; }
        /// <summary>The first bad byte's offset from the object's first byte (negative: before it), or 0.</summary>
        public int Offset { get; }
        /// <summary>The first bad byte, or -1.</summary>
        public int Found { get; }
        /// <summary>What it should have been (0xcc, 0xbb, 0x6b, 0xa5, 0x5a), or -1.</summary>
        public int Expected { get; }
        /// <summary>With tracking (U): the object's last allocation, "Method (file:line) thread=N age=Nms"; else null.</summary>
        public string AllocatedAt { get; }
        /// <summary>With tracking (U): the object's last free, or null.</summary>
        public string FreedAt { get; }
        /// <summary>The whole report, in the words of SLUB's: the BUG line, the range, the tracks, the FIX line.</summary>
        public string Text { get; }

        /// <inheritdoc/>
        public override string ToString() => Text;
    }

    /// <summary>A debug cache found corruption (thrown when <see cref="SlabCacheOptions.OnReport"/> is not set).</summary>
    public sealed class SlabCorruptionException(SlabDebugReport report) : InvalidOperationException(report.Text)
    {
        /// <summary>The report.</summary>
        public SlabDebugReport Report { get; } = report;
    }

    public sealed unsafe partial class SlabCache
    {
        private const byte RedActive = SlubPoison.RedActive, RedInactive = SlubPoison.RedInactive, PoisonInUse = SlubPoison.InUse;
        private const int TrackBytes = 16;   // struct Track { int Site; int Thread; long Ticks }

        private readonly SlabDebugFlags _debug;
        private readonly SlubLayout _layout; // the slot (SlubGeometry.cs), whose debug areas SlubDebugLayout.cs gives
        private readonly int _redLeft;       // bytes of red zone before each object (0 without Z): the object's offset in its slot
        private readonly int _trackOffset;   // where the two tracks start, from the object (get_info_end())
        private SlabHeader* _dPartial, _dFull, _dDisabled;
        private int _dEmpty;
        private readonly List<string> _sites = new();
        private readonly Dictionary<string, int> _siteIds = new();
        private readonly Action<SlabDebugReport> _onReport;
        private long _reports;

        /// <summary>slub_debug's letters this cache was made with ("-" for none).</summary>
        public string DebugLetters => SlabDebug.Letters(_debug);

        /// <summary>Reports the debug checks have made.</summary>
        public long Reports => Interlocked.Read(ref _reports);

        private bool Has(SlabDebugFlags f) => (_debug & f) != 0;

        // The slot of a debug cache is SLUB's (calculate_sizes(), SlubGeometry.cs): [left red
        // zone][object][right red zone][free pointer, when it may not be in the object][alloc
        // track][free track][a word of padding with Z][padding to the alignment]. With P the free
        // pointer is after the object, so that a use after free damages the poison and not the
        // freelist; without P it is in the middle of the object, as in SLUB.

        // ------------------------------------------------------------ setting up a debug slab

        // setup_object() and slab padding for a fresh debug slab: every object free (each area
        // check_object() checks of a free object as it must be: red zones inactive, poisoned,
        // padding 0x5a; tracks cleared), the bytes after the last slot 0x5a. (SLUB fills the
        // whole slab with 0x5a first, setup_slab_debug(); here the freelist is already in it.)
        private void DebugInitSlab(SlabHeader* slab)
        {
            Span<SlubDebugArea> areas = stackalloc SlubDebugArea[SlubDebugLayout.MaxAreas];
            int n = SlubDebugLayout.CheckObject(_layout, SlubVersion.V6_12, active: false, (uint)ObjectSize, TrackBytes, areas);
            for (void* o = (void*)slab->Slab.Freelist; o != null; o = *(void**)((byte*)o + _freeOffset))
            {
                foreach (SlubDebugArea a in areas[..n])
                    new Span<byte>((byte*)o + a.Offset, a.Length).Fill(a.Value);
                if (Has(SlabDebugFlags.StoreUser))
                    new Span<byte>((byte*)o + _trackOffset, 2 * TrackBytes).Clear();
            }
            if (Has(SlabDebugFlags.Poison))
            {
                (uint offset, uint length) = SlubDebugLayout.SlabPadding(_layout, Order);
                new Span<byte>(MemoryOf(slab) + offset, (int)length).Fill(PoisonInUse);
            }
        }

        // init_object() (SlubDebugLayout.InitObject): the red zones to 0xcc in use or 0xbb free,
        // and, for a cache without a constructor, the object poisoned (0x6b, last byte 0xa5).
        private void InitObject(byte* p, byte red)
        {
            Span<SlubDebugArea> areas = stackalloc SlubDebugArea[SlubDebugLayout.MaxAreas];
            int n = SlubDebugLayout.InitObject(_layout, red == RedActive, (uint)ObjectSize, areas);
            foreach (SlubDebugArea a in areas[..n])
                new Span<byte>(p + a.Offset, a.Length).Fill(a.Value);
        }

        // ------------------------------------------------------------ allocation and free

        private void* DebugAlloc()
        {
            string site = Has(SlabDebugFlags.StoreUser) ? CallSite() : null;
            var reports = new List<SlabDebugReport>();
            void* result = null;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_destroyed, this);
                while (result == null)
                {
                    SlabHeader* slab = _dPartial;
                    if (slab == null)
                    {
                        slab = NewSlab(-1);
                        if (slab == null)
                            break;
                        DebugInitSlab(slab);   // every object free: poisoned, red zones inactive
                        Link(ref _dPartial, slab, SlabList.Partial);
                        _dEmpty++;
                    }
                    byte* obj = (byte*)slab->Slab.Freelist;
                    byte* next = *(byte**)(obj + _freeOffset);
                    if (Has(SlabDebugFlags.Consistency) && next != null && !IsObjectOf(slab, next))
                    {
                        // check_object()'s "Freepointer corrupt": the rest of the freelist is lost.
                        reports.Add(Report(SlabProblem.FreePointerCorrupt, slab, obj, 0, -1, -1,
                            $"Freepointer corrupt: 0x{(nint)next:x}", "Marking all objects used: the slab is disabled"));
                        Disable(slab);
                        continue;
                    }
                    CheckObject(slab, obj, RedInactive, reports);
                    if (slab->Slab.InUse == 0)
                        _dEmpty--;
                    SlubSlab.TakeOne(ref slab->Slab, FreePointer);   // alloc_single_from_partial(), the model's code too
                    if (next == null)
                    {
                        Unlink(ref _dPartial, slab);
                        Link(ref _dFull, slab, SlabList.Full);
                    }
                    InitObject(obj, RedActive);
                    if (site != null)
                        SetTrack(obj, 0, site);
                    result = obj;
                }
            }
            Raise(reports);
            return result;
        }

        private void DebugFree(void* pointer)
        {
            string site = Has(SlabDebugFlags.StoreUser) ? CallSite() : null;
            var reports = new List<SlabDebugReport>();
            SlabHeader* release = null;
            lock (_lock)
            {
                byte* obj = (byte*)pointer;
                SlabHeader* slab = InSlabs(obj) ? HeaderOf(obj) : null;
                if (slab == null || slab->List is not (SlabList.Partial or SlabList.Full or SlabList.Disabled) || !IsObjectOf(slab, obj))
                    reports.Add(Report(SlabProblem.InvalidPointer, null, obj, 0, -1, -1,
                        $"Invalid object pointer 0x{(nint)obj:x}", $"Object at 0x{(nint)obj:x} not freed"));
                else if (slab->List == SlabList.Disabled)
                    reports.Add(Report(SlabProblem.SlabDisabled, slab, obj, 0, -1, -1,
                        "Slab disabled since a consistency check failed", $"Object at 0x{(nint)obj:x} not freed"));
                else if (OnFreelist(slab, obj))
                    reports.Add(Report(SlabProblem.DoubleFree, slab, obj, 0, -1, -1,
                        "Object already free", $"Object at 0x{(nint)obj:x} not freed"));
                else
                {
                    CheckObject(slab, obj, RedActive, reports);
                    if (site != null)
                        SetTrack(obj, 1, site);
                    InitObject(obj, RedInactive);
                    // free_to_partial_list(), the model's code too
                    bool wasFull = SlubSlab.PutList(ref slab->Slab, obj, obj, 1, FreePointer) == null;
                    if (wasFull)
                    {
                        Unlink(ref _dFull, slab);
                        Link(ref _dPartial, slab, SlabList.Partial);
                    }
                    if (slab->Slab.InUse == 0)
                    {
                        if (_dEmpty < _minPartial)
                            _dEmpty++;
                        else
                        {
                            Unlink(ref _dPartial, slab);
                            release = slab;
                        }
                    }
                }
                if (release != null)
                {
                    SlabPadCheck(release, reports);
                    ReleaseSlab(release);
                }
            }
            Raise(reports);
        }

        // A slab whose freelist cannot be trusted: every object counts as in use from now on.
        private void Disable(SlabHeader* slab)
        {
            if (slab->Slab.InUse == 0)
                _dEmpty--;
            Unlink(ref _dPartial, slab);
            SlubSlab.Init(ref slab->Slab, null, ObjectsPerSlab, ObjectsPerSlab);
            Link(ref _dDisabled, slab, SlabList.Disabled);
        }

        // check_valid_pointer(): the start of an object of this slab.
        private bool IsObjectOf(SlabHeader* slab, byte* p)
        {
            long offset = p - ObjectAt(slab, 0);
            return offset >= 0 && offset < (long)ObjectsPerSlab * SlotSize && offset % SlotSize == 0;
        }

        // on_freelist(): whether the object is on its slab's freelist (at most ObjectsPerSlab steps).
        private bool OnFreelist(SlabHeader* slab, byte* obj)
        {
            int steps = 0;
            for (byte* p = (byte*)slab->Slab.Freelist; p != null && steps <= ObjectsPerSlab; p = *(byte**)(p + _freeOffset), steps++)
                if (p == obj)
                    return true;
            return false;
        }

        // check_object(): red zones, poison, padding (SlubDebugLayout.CheckObject, as 6.12 checks
        // them: every area); bytes found overwritten are restored.
        private void CheckObject(SlabHeader* slab, byte* p, byte red, List<SlabDebugReport> reports)
        {
            Span<SlubDebugArea> areas = stackalloc SlubDebugArea[SlubDebugLayout.MaxAreas];
            int n = SlubDebugLayout.CheckObject(_layout, SlubVersion.V6_12, red == RedActive, (uint)ObjectSize, TrackBytes, areas);
            foreach (SlubDebugArea a in areas[..n])
                CheckBytes(slab, p, ProblemOf(a.Kind), a.Name, p + a.Offset, a.Value, a.Length, reports);
        }

        private static SlabProblem ProblemOf(SlubDebugAreaKind kind) => kind switch
        {
            SlubDebugAreaKind.LeftRedzone => SlabProblem.LeftRedZoneOverwritten,
            SlubDebugAreaKind.RightRedzone or SlubDebugAreaKind.KmallocRedzone => SlabProblem.RightRedZoneOverwritten,
            SlubDebugAreaKind.Poison or SlubDebugAreaKind.EndPoison => SlabProblem.PoisonOverwritten,
            _ => SlabProblem.ObjectPaddingOverwritten,
        };

        // check_bytes_and_report(): the first and last bad byte, reported and restored.
        private void CheckBytes(SlabHeader* slab, byte* obj, SlabProblem problem, string what, byte* start, byte value, int bytes, List<SlabDebugReport> reports)
        {
            int first = new ReadOnlySpan<byte>(start, bytes).IndexOfAnyExcept(value);
            if (first < 0)
                return;
            int last = new ReadOnlySpan<byte>(start, bytes).LastIndexOfAnyExcept(value);
            byte* fault = start + first;
            reports.Add(Report(problem, slab, obj, (int)(fault - obj), fault[0], value,
                $"{what} overwritten: 0x{(nint)fault:x}-0x{(nint)(start + last):x} @offset={(long)(fault - obj)}. First byte 0x{fault[0]:x} instead of 0x{value:x}",
                $"Restoring {what} 0x{(nint)fault:x}-0x{(nint)(start + last):x}=0x{value:x}"));
            new Span<byte>(fault, last - first + 1).Fill(value);
        }

        // slab_pad_check(): the bytes after the last slot, when a slab goes back.
        private void SlabPadCheck(SlabHeader* slab, List<SlabDebugReport> reports)
        {
            if (!Has(SlabDebugFlags.Poison))
                return;
            byte* memory = MemoryOf(slab);
            (uint offset, uint padding) = SlubDebugLayout.SlabPadding(_layout, Order);
            byte* pad = memory + offset;
            int length = (int)padding;
            var span = new Span<byte>(pad, length);
            int first = span.IndexOfAnyExcept(PoisonInUse);
            if (first < 0)
                return;
            int last = span.LastIndexOfAnyExcept(PoisonInUse);
            reports.Add(Report(SlabProblem.SlabPaddingOverwritten, null, memory, (int)(pad + first - memory), pad[first], PoisonInUse,
                $"Padding overwritten. 0x{(nint)(pad + first):x}-0x{(nint)(pad + last):x} @offset={(long)(pad + first - memory)}",
                $"Restoring slab padding 0x{(nint)(pad + first):x}-0x{(nint)(pad + last):x}=0x{PoisonInUse:x}"));
            span.Slice(first, last - first + 1).Fill(PoisonInUse);
        }

        /// <summary>
        /// validate_slab_cache() (/sys/kernel/slab/NAME/validate): checks every object of every
        /// slab of a debug cache, free ones and ones in use, and the slabs' padding, restoring
        /// what it can and reporting each problem as an allocation would. Returns the reports
        /// (also passed to <see cref="SlabCacheOptions.OnReport"/>, or the first thrown).
        /// </summary>
        public IReadOnlyList<SlabDebugReport> Validate()
        {
            var reports = new List<SlabDebugReport>();
            if (_debug == SlabDebugFlags.None)
                return reports;
            lock (_lock)
            {
                foreach (nint head in new[] { (nint)_dPartial, (nint)_dFull })
                    for (SlabHeader* slab = (SlabHeader*)head; slab != null; slab = slab->Next)
                    {
                        HashSet<nint> free = FreeSet((void*)slab->Slab.Freelist);
                        for (int i = 0; i < ObjectsPerSlab; i++)
                        {
                            byte* obj = ObjectAt(slab, i);
                            CheckObject(slab, obj, free.Contains((nint)obj) ? RedInactive : RedActive, reports);
                        }
                        SlabPadCheck(slab, reports);
                    }
            }
            Raise(reports);
            return reports;
        }

        // ------------------------------------------------------------ tracking

        // set_track(): which = 0 for the allocation, 1 for the free.
        private void SetTrack(byte* obj, int which, string site)
        {
            int id;
            if (!_siteIds.TryGetValue(site, out id))
            {
                _sites.Add(site);
                id = _sites.Count;   // 0: no track
                _siteIds.Add(site, id);
            }
            byte* t = obj + _trackOffset + which * TrackBytes;
            *(int*)t = id;
            *(int*)(t + 4) = Environment.CurrentManagedThreadId;
            *(long*)(t + 8) = Environment.TickCount64;
        }

        // print_track(): "Method (file:line) thread=N age=Nms", or null for no track.
        private string Track(byte* obj, int which)
        {
            if (!Has(SlabDebugFlags.StoreUser))
                return null;
            byte* t = obj + _trackOffset + which * TrackBytes;
            int id = *(int*)t;
            if (id <= 0 || id > _sites.Count)
                return null;
            return $"{_sites[id - 1]} thread={*(int*)(t + 4)} age={Environment.TickCount64 - *(long*)(t + 8)}ms";
        }

        // The first frame outside this library: the caller of Alloc or Free (SLUB's _RET_IP_).
        private static string CallSite()
        {
            var trace = new StackTrace(2, fNeedFileInfo: true);
            foreach (StackFrame frame in trace.GetFrames())
            {
                var method = frame.GetMethod();
                if (method == null || method.DeclaringType?.Namespace == typeof(SlabCache).Namespace)
                    continue;
                string file = frame.GetFileName();
                return $"{method.DeclaringType?.Name}.{method.Name}" + (file != null ? $" ({System.IO.Path.GetFileName(file)}:{frame.GetFileLineNumber()})" : "");
            }
            return "(unknown)";
        }

        // ------------------------------------------------------------ reports

        private SlabDebugReport Report(SlabProblem problem, SlabHeader* slab, byte* obj, int offset, int found, int expected, string what, string fix)
        {
            bool isObject = slab != null && IsObjectOf(slab, obj);
            string allocated = isObject ? Track(obj, 0) : null;
            string freed = isObject ? Track(obj, 1) : null;
            var text = new StringBuilder();
            text.Append($"BUG {Name}: {what}\n");
            if (slab != null)
                text.Append($"Slab 0x{(nint)slab:x} objects={ObjectsPerSlab} used={slab->Slab.InUse}\n");
            if (isObject)
                text.Append($"Object 0x{(nint)obj:x} @offset={(long)(obj - MemoryOf(slab))}\n");
            if (allocated != null)
                text.Append($"Allocated in {allocated}\n");
            if (freed != null)
                text.Append($"Freed in {freed}\n");
            text.Append($"FIX {Name}: {fix}");
            Interlocked.Increment(ref _reports);
            return new SlabDebugReport(Name, problem, (nint)obj, text.ToString(), allocated, freed, offset, found, expected);
        }

        // Outside the lock: to the handler, or the first one thrown.
        private void Raise(List<SlabDebugReport> reports)
        {
            if (reports.Count == 0)
                return;
            if (_onReport != null)
            {
                foreach (SlabDebugReport r in reports)
                    _onReport(r);
                return;
            }
            throw new SlabCorruptionException(reports[0]);
        }

        // The call sites of the objects a debug cache's Destroy found in use, most frequent first.
        private IReadOnlyList<(string Site, int Objects)> LeakSites(List<nint> leaked)
        {
            if (!Has(SlabDebugFlags.StoreUser))
                return [];
            return leaked.Select(o => { byte* t = (byte*)o + _trackOffset; int id = *(int*)t; return id > 0 && id <= _sites.Count ? _sites[id - 1] : "(unknown)"; })
                .GroupBy(s => s).Select(g => (g.Key, g.Count())).OrderByDescending(g => g.Item2).ThenBy(g => g.Key).ToList();
        }
    }
}
