// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// SLUB's debugging (CONFIG_SLUB_DEBUG; slub_debug=F,Z,P,U): red zones, poisoning, allocation and
// free tracking, consistency checks, validate_slab_cache(), and the reports they print.
//
// The reports follow each version's own mm/slub.c, line for line with their log levels, as
// Debian's 6.1.0-56 (6.1.192) and 6.12.117 kernels print them (checked against their console
// logs, tests/vm/bugs.sh):
//   6.1:  slab_bug()'s banner titled with what was found ("Right Redzone overwritten"), the
//         object's trailer, and dump_stack() (the task line, the hardware, the call trace);
//         check_object() stops at the first bad area.
//   6.12: check_bytes_and_report() prints "[Right Redzone overwritten] ..." before an "Object
//         corrupt" banner; every report ends with WARN_ON(1) (mm/slub.c:1127 in object_err(),
//         :1152 in __slab_err()), which taints W; check_object() checks every area.
// add_taint(TAINT_BAD_PAGE, LOCKDEP_NOW_UNRELIABLE) after each report prints "Disabling lock
// debugging due to kernel taint" the first time (ModelKernel.AddTaint). Error counting follows
// slab_add_kunit_errors(): each report and each fix counts once, which is what lib/slub_kunit.c's
// expected counts measure; while a "kunit test" runs (SlabAllocator.BeginKunit) reports are
// counted and not printed, as in the kernel.
//
// Object layout with debugging (see the comment above check_pad_bytes() in mm/slub.c):
//   [left red zone: red_left_pad] [object: object_size] [right red zone: inuse - object_size]
//   [free pointer if outside] [alloc track][free track] [padding to size, 0x5a]
// Which of those bytes init_object() writes and check_object() checks, with which values, is
// lib/SimpleCache.Slab/SlubDebugLayout.cs, the library's debug caches' own; what is done about a
// bad area (the report, in each version's words, and the repair) is here.

using System;
using System.Diagnostics;
using System.Text;
using SimpleCache.Slab;
using LogLevel = global::Kernel.LogLevel;

namespace SimpleCache.Model.Mm
{
    /// <summary>Byte values of include/linux/poison.h.</summary>
    public static class Poison
    {
        /// <summary><c>POISON_INUSE</c>: padding and never-used memory.</summary>
        public const byte InUse = SlubPoison.InUse;
        /// <summary><c>POISON_FREE</c>: the bytes of a free object.</summary>
        public const byte Free = SlubPoison.Free;
        /// <summary><c>POISON_END</c>: the last byte of a free object.</summary>
        public const byte End = SlubPoison.End;
        /// <summary><c>SLUB_RED_INACTIVE</c>: red zone of a free object.</summary>
        public const byte RedInactive = SlubPoison.RedInactive;
        /// <summary><c>SLUB_RED_ACTIVE</c>: red zone of an allocated object.</summary>
        public const byte RedActive = SlubPoison.RedActive;
    }

    public sealed unsafe partial class SlabCache
    {
        private const byte RedInactive = Poison.RedInactive;
        private const byte RedActive = Poison.RedActive;
        private const int TrackAlloc = 0;
        private const int TrackFree = 1;

        private bool Has(CacheFlags flag) => (Layout.Flags & flag) != 0;

        /// <summary><c>get_info_end()</c>: where the tracking data starts.</summary>
        private uint InfoEnd => Layout.AsSlub.InfoEnd;

        /// <summary><c>size_from_object()</c>: the slot size seen from the object's start.</summary>
        private uint SizeFromObject => SlubDebugLayout.SizeFromObject(Layout.AsSlub);

        /// <summary><c>slub_debug_orig_size()</c>: kmalloc caches with user tracking store each request's size.</summary>
        private bool HasOrigSize => SlubDebugLayout.HasOrigSize(Layout.AsSlub);

        private uint OrigSizeBytes => SlabGeometry.OrigSizeBytes(Allocator.Version);

        // get_orig_size() / set_orig_size(): after the two tracks.
        private uint GetOrigSize(byte* obj) => HasOrigSize ? *(uint*)(obj + SlubDebugLayout.OrigSizeOffset(Layout.AsSlub, SlabGeometry.TrackSize)) : Layout.ObjectSize;

        private void SetOrigSize(byte* obj, uint size)
        {
            if (!HasOrigSize)
                return;
            byte* at = obj + SlubDebugLayout.OrigSizeOffset(Layout.AsSlub, SlabGeometry.TrackSize);
            if (OrigSizeBytes == 8)
                *(ulong*)at = size;
            else
                *(uint*)at = size;
        }

        // setup_slab_debug(): a poisoned cache's new slab is filled with POISON_INUSE.
        private void SetupSlabDebug(Slab slab)
        {
            if (Has(CacheFlags.Poison))
                new Span<byte>(slab.Address, (int)Layout.SlabBytes).Fill(Poison.InUse);
        }

        // init_object(): red zones to val; a free object's bytes poisoned (last byte POISON_END);
        // an allocated kmalloc object from the size asked for (SlubDebugLayout.InitObject).
        private void InitObject(byte* p, byte val)
        {
            SlubLayout layout = Layout.AsSlub;
            Span<SlubDebugArea> areas = stackalloc SlubDebugArea[SlubDebugLayout.MaxAreas];
            bool active = val == RedActive;
            int n = SlubDebugLayout.InitObject(layout, active, active && HasOrigSize ? GetOrigSize(p) : Layout.ObjectSize, areas);
            foreach (SlubDebugArea a in areas[..n])
                new Span<byte>(p + a.Offset, a.Length).Fill(a.Value);
            if (Has(CacheFlags.StoreUser) && val == RedInactive && !_tracked)
                new Span<byte>(p + InfoEnd, 2 * (int)SlabGeometry.TrackSize).Clear();
        }

        // Tracks are cleared only when a slab is set up (init_tracking); later frees keep them.
        private bool _tracked;

        // alloc_debug_processing(), called with list_lock held.
        private bool AllocDebugProcessing(Slab slab, void* obj, uint origSize)
        {
            if (Has(CacheFlags.ConsistencyChecks) && !AllocConsistencyChecks(slab, (byte*)obj))
            {
                SlabFix("Marking all objects used");
                slab.InUse = slab.Objects;
                slab.Freelist = null;
                // "mm/slub: Avoid list corruption when removing a slab from the full list" (v6.12,
                // backported to 6.1.y: Debian's 6.1.0-57 (6.1.192) and 6.12.117 both have it): the
                // slab is marked frozen, and check_slab() refuses it from then on.
                slab.Frozen = true;
                return false;
            }
            if (Has(CacheFlags.StoreUser))
                SetTrack((byte*)obj, TrackAlloc);
            Trace(slab, (byte*)obj, alloc: true);
            SetOrigSize((byte*)obj, origSize);
            InitObject((byte*)obj, RedActive);
            return true;
        }

        private bool AllocConsistencyChecks(Slab slab, byte* obj)
        {
            if (!CheckSlab(slab))
                return false;
            if (!CheckValidPointer(slab, obj))
            {
                ObjectErr(slab, obj, "Freelist Pointer check fails");
                return false;
            }
            return CheckObject(slab, obj, RedInactive);
        }

        // free_debug_processing() for one object (bulk_cnt 1), called with list_lock held; the
        // same in 6.1 (mm/slub.c:2843) and 6.12 (:3485). A refused free ends with
        // "FIX <cache>: Object at 0x... not freed".
        private bool FreeDebugProcessing(Slab slab, byte* obj)
        {
            if (FreeChecks(slab, obj))
            {
                if (Has(CacheFlags.StoreUser))
                    SetTrack(obj, TrackFree);
                Trace(slab, obj, alloc: false);
                InitObject(obj, RedInactive);
                return true;
            }
            SlabFix($"Object at 0x{(ulong)obj:x16} not freed");
            return false;
        }

        private bool FreeChecks(Slab slab, byte* obj)
        {
            if (Has(CacheFlags.ConsistencyChecks) && !CheckSlab(slab))
                return false;
            // Checked with any debug flag; the format's own "\n" leaves an empty line after the BUG line.
            if (slab.InUse < 1)
            {
                SlabErr(slab, $"Slab has {slab.InUse} allocated objects but 1 are to be freed\n");
                return false;
            }
            return !Has(CacheFlags.ConsistencyChecks) || FreeConsistencyChecks(slab, obj);
        }

        // free_consistency_checks()
        private bool FreeConsistencyChecks(Slab slab, byte* obj)
        {
            if (!CheckValidPointer(slab, obj))
            {
                SlabErr(slab, $"Invalid object pointer 0x{(ulong)obj:x16}");
                return false;
            }
            if (OnFreelist(slab, obj))
            {
                ObjectErr(slab, obj, "Object already free");
                return false;
            }
            return CheckObject(slab, obj, RedActive);
        }

        private void Trace(Slab slab, byte* obj, bool alloc)
        {
            if (Has(CacheFlags.Trace))
                Report(LogLevel.Info, $"TRACE {Name} {(alloc ? "alloc" : "free")} 0x{(ulong)obj:x16} inuse={slab.InUse} fp=0x{(ulong)slab.Freelist:x16}");
        }

        // check_valid_pointer(): NULL, or the start of an object slot of this slab.
        private bool CheckValidPointer(Slab slab, byte* obj)
        {
            if (obj == null)
                return true;
            byte* start = obj - Layout.RedLeftPad;
            long offset = start - slab.Address;
            return offset >= 0 && offset < (long)slab.Objects * Layout.Size && offset % Layout.Size == 0;
        }

        // check_slab()
        private bool CheckSlab(Slab slab)
        {
            uint maxObjects = SlabGeometry.OrderObjects(slab.Order, Layout.Size);
            if (slab.Objects > maxObjects)
            {
                SlabErr(slab, $"objects {slab.Objects} > max {maxObjects}");
                return false;
            }
            if (slab.InUse > slab.Objects)
            {
                SlabErr(slab, $"inuse {slab.InUse} > max {slab.Objects}");
                return false;
            }
            // A debug cache has no CPU slabs: a frozen slab is one that failed alloc_debug_processing()
            // (the same backport): a free to it is refused, "Object at 0x... not freed".
            if (slab.Frozen)
            {
                SlabErr(slab, "Slab disabled since SLUB metadata consistency check failed");
                return false;
            }
            SlabPadCheck(slab);
            return true;
        }

        // slab_pad_check(): the bytes after the last object of a poisoned slab stay 0x5a.
        private void SlabPadCheck(Slab slab)
        {
            if (!Has(CacheFlags.Poison))
                return;
            (uint offset, uint remainder) = SlubDebugLayout.SlabPadding(Layout.AsSlub, slab.Order);
            if (remainder == 0)
                return;
            uint length = offset + remainder;
            byte* pad = slab.Address + offset;
            byte* fault = MemchrInv(pad, Poison.InUse, remainder);
            if (fault == null)
                return;
            byte* end = slab.Address + length;
            while (end > fault && end[-1] == Poison.InUse)
                end--;
            string reason = $"Padding overwritten. 0x{(ulong)fault:x16}-0x{(ulong)(end - 1):x16} @offset={fault - slab.Address}";
            if (_v61)
            {
                // 6.1: slab_err() (banner, slab, dump_stack), then the padding.
                SlabErr(slab, reason);
                PrintSection("Padding ", pad, remainder);
            }
            else
            {
                // 6.12: slab_bug(), the padding, then __slab_err() (uncounted, as in the kernel).
                SlabBug(reason);
                PrintSection("Padding ", pad, remainder);
                SlabErrTail(slab, "slab_pad_check");
            }
            RestoreBytes("slab padding", Poison.InUse, fault, end);
        }

        // check_bytes_and_report()
        private bool CheckBytesAndReport(Slab slab, byte* obj, string what, byte* start, byte value, uint bytes, bool printObject)
        {
            byte* fault = MemchrInv(start, value, bytes);
            if (fault == null)
                return true;
            byte* end = start + bytes;
            while (end > fault && end[-1] == value)
                end--;
            string range = $"0x{(ulong)fault:x16}-0x{(ulong)(end - 1):x16} @offset={fault - slab.Address}. First byte 0x{fault[0]:x} instead of 0x{value:x}";
            if (!AddKunitError())
            {
                if (_v61)
                {
                    // 6.1: the banner names the area, the range follows it, then the trailer
                    // (with its dump_stack()).
                    SlabBug($"{what} overwritten");
                    Report(LogLevel.Err, range);
                    PrintTrailer(slab, obj);
                    Allocator.Kernel.AddTaint('B', lockdepNowUnreliable: true);
                }
                else
                {
                    // 6.12: "[<what> overwritten] <range>", then (first bad area only) object_err().
                    Report(LogLevel.Err, $"[{what} overwritten] {range}");
                    if (printObject)
                        ObjectErr(slab, obj, "Object corrupt");
                }
            }
            RestoreBytes(what, value, fault, end);
            return false;
        }

        // check_object(): the areas of SlubDebugLayout.CheckObject, in the kernel's order, then the
        // free pointer. 6.12: every area is checked, and the first bad one prints
        // the object (check_pad_bytes() always does). 6.1 (mm/slub.c:1123): a bad red zone or
        // poison ends the check; the paddings are reported and restored without failing it.
        private bool CheckObject(Slab slab, byte* p, byte val)
        {
            SlubLayout layout = Layout.AsSlub;
            Span<SlubDebugArea> areas = stackalloc SlubDebugArea[SlubDebugLayout.MaxAreas];
            bool active = val == RedActive;
            uint origSize = active && HasOrigSize ? GetOrigSize(p) : Layout.ObjectSize;
            int n = SlubDebugLayout.CheckObject(layout, SlabGeometry.Of(Allocator.Version), active, origSize, SlabGeometry.TrackSize, areas);
            bool ret = true;
            foreach (SlubDebugArea a in areas[..n])
            {
                bool printObject = _v61 || ret || a.Kind == SlubDebugAreaKind.ObjectPadding;
                if (CheckBytesAndReport(slab, p, a.Name, p + a.Offset, a.Value, (uint)a.Length, printObject))
                    continue;
                if (!_v61)
                    ret = false;
                else if (a.EndsCheckIn61)
                    return false;
            }
            // The free pointer of an allocated object may overlap its data: check it only when it cannot.
            if ((Layout.FreePointerOutside || !active) && !CheckValidPointer(slab, GetFreePointer(p)))
            {
                ObjectErr(slab, p, "Freepointer corrupt");
                SetFreePointer(p, null);
                ret = false;
            }
            return ret;
        }

        // on_freelist(): whether search is free; repairs a broken chain and wrong counts.
        private bool OnFreelist(Slab slab, byte* search)
        {
            int nr = 0;
            byte* fp = slab.Freelist;
            byte* obj = null;
            while (fp != null && nr <= slab.Objects)
            {
                if (fp == search)
                    return true;
                if (!CheckValidPointer(slab, fp))
                {
                    if (obj != null)
                    {
                        ObjectErr(slab, obj, "Freechain corrupt");
                        SetFreePointer(obj, null);
                    }
                    else
                    {
                        SlabErr(slab, "Freepointer corrupt");
                        slab.Freelist = null;
                        slab.InUse = slab.Objects;
                        SlabFix("Freelist cleared");
                        return false;
                    }
                    break;
                }
                obj = fp;
                fp = GetFreePointer(obj);
                nr++;
            }
            if (slab.InUse != slab.Objects - nr)
            {
                SlabErr(slab, $"Wrong object count. Counter is {slab.InUse} but counted were {slab.Objects - nr}");
                slab.InUse = slab.Objects - nr;
                SlabFix("Object count adjusted");
            }
            return search == null;
        }

        /// <summary>
        /// <c>validate_slab_cache()</c>: flushes the per-CPU layer, then checks every slab on the
        /// partial list (and the full list, with SLAB_STORE_USER) and every object in them,
        /// repairing what it can.
        /// </summary>
        /// <returns>The number of slabs checked.</returns>
        public long Validate()
        {
            FlushAll();
            long count = 0;
            lock (_listLock)
            {
                foreach (Slab slab in _partial)
                {
                    ValidateSlab(slab);
                    count++;
                }
                if (Has(CacheFlags.StoreUser))
                {
                    foreach (Slab slab in _full)
                    {
                        ValidateSlab(slab);
                        count++;
                    }
                    if (count != _nrSlabs)
                    {
                        Report(LogLevel.Err, $"SLUB: {Name} {count} slabs counted but counter={_nrSlabs}");
                        AddKunitError();
                    }
                }
            }
            return count;
        }

        // validate_slab(), under list_lock. A debug cache changes its slabs only under list_lock;
        // the slab's lock as well keeps a call on any other cache (a test's) from racing a free.
        private void ValidateSlab(Slab slab)
        {
            using (SlubSlab.Hold(ref slab.State))
            {
                if (!CheckSlab(slab) || !OnFreelist(slab, null))
                    return;
                bool[] free = FreeMap(slab);
                for (int i = 0; i < slab.Objects; i++)
                    if (!CheckObject(slab, ObjectAt(slab, i), free[i] ? RedInactive : RedActive))
                        break;
            }
        }

        // __fill_map(): which objects of the slab are on its freelist.
        private bool[] FreeMap(Slab slab)
        {
            var free = new bool[slab.Objects];
            foreach (nint p in Freelist(slab, slab.Freelist))
                free[IndexOf(slab, (byte*)p)] = true;
            return free;
        }

        private int IndexOf(Slab slab, byte* obj) => (int)((obj - Layout.RedLeftPad - slab.Address) / Layout.Size);

        // list_slab_objects(): the objects still allocated when the cache is destroyed (printed
        // although no debug flag is set: CONFIG_SLUB_DEBUG is on in Debian's kernels).
        //   6.1 (mm/slub.c:4392): slab_err(s, slab, "Objects remaining in %s on
        //        __kmem_cache_shutdown()", s->name) (banner, slab, dump_stack), then the objects.
        //   6.12 (mm/slub.c:5535): the banner without the name, the objects, then __slab_err()
        //        (slab, WARN_ON at mm/slub.c:1152, inlined into __kmem_cache_shutdown()).
        private void ListSlabObjects(Slab slab)
        {
            if (_v61)
                SlabErr(slab, $"Objects remaining in {Name} on __kmem_cache_shutdown()");
            else if (!AddKunitError())
                SlabBug("Objects remaining on __kmem_cache_shutdown()");
            bool[] free = FreeMap(slab);
            for (int i = 0; i < slab.Objects; i++)
            {
                if (free[i] || (!_v61 && AddKunitError()))
                    continue;
                byte* p = ObjectAt(slab, i);
                Report(LogLevel.Err, $"Object 0x{(ulong)p:x16} @offset={p - slab.Address}");
                PrintTracking(p);
            }
            if (!_v61)
                SlabErrTail(slab, "__kmem_cache_shutdown");
        }

        // ---------------------------------------------------------------- tracking

        private void SetTrack(byte* obj, int which)
        {
            byte* t = obj + InfoEnd + which * SlabGeometry.TrackSize;
            *(ulong*)t = (ulong)Allocator.Symbols.CallerAddress();
            *(uint*)(t + 8) = Allocator.Symbols.SaveStack(Allocator.IsModuleCode, Kernel.ModelTask.Current.Entry, Allocator.Version);
            *(int*)(t + 12) = Allocator.CurrentCpu();
            *(int*)(t + 16) = Kernel.ModelTask.Current.Pid;   // current->pid
            *(ulong*)(t + 24) = Allocator.Kernel.Clock.Jiffies;
            _tracked = true;
        }

        private void PrintTracking(byte* obj)
        {
            if (!Has(CacheFlags.StoreUser))
                return;
            ulong now = Allocator.Kernel.Clock.Jiffies;
            PrintTrack("Allocated", obj + InfoEnd, now);
            PrintTrack("Freed", obj + InfoEnd + SlabGeometry.TrackSize, now);
        }

        private void PrintTrack(string what, byte* t, ulong now)
        {
            ulong addr = *(ulong*)t;
            if (addr == 0)
                return;
            Report(LogLevel.Err, $"{what} in {Allocator.KernelSymbol(Allocator.Symbols.Name(addr))} age={now - *(ulong*)(t + 24)} cpu={*(int*)(t + 12)} pid={*(int*)(t + 16)}");
            uint handle = *(uint*)(t + 8);
            string stack = Allocator.Symbols.Stack(handle);
            if (stack == null)
                Report(LogLevel.Err, "object allocation/free stack trace missing");
            else
                // stack_depot_print() -> stack_trace_print(): " %pS" per frame, at KERN_DEFAULT.
                foreach (string line in stack.Split('\n'))
                    Report(LogLevel.Warning, " " + Allocator.KernelSymbol(line.TrimStart(' ')));
        }

        // ---------------------------------------------------------------- reports

        private bool AddKunitError() => Allocator.AddKunitError();

        private void Report(LogLevel level, string text)
        {
            if (!Allocator.InKunit)
                Allocator.Kernel.Printk(level, text);
        }

        // slab_bug() (6.1) / __slab_bug() (6.12), the same in both: the dashes' "\n\n" leaves an
        // empty line (dmesg prints it bare), and so does a reason that ends with "\n".
        private void SlabBug(string reason)
        {
            Report(LogLevel.Err, "=============================================================================\n");
            Report(LogLevel.Err, $"BUG {Name} ({Allocator.Kernel.PrintTainted()}): {reason}\n");
            Report(LogLevel.Err, "-----------------------------------------------------------------------------\n\n");
        }

        private void SlabFix(string what)
        {
            if (AddKunitError())
                return;
            Report(LogLevel.Err, $"FIX {Name}: {what}");
        }

        private void RestoreBytes(string what, byte value, byte* from, byte* to)
        {
            SlabFix($"Restoring {what} 0x{(ulong)from:x16}-0x{(ulong)(to - 1):x16}=0x{value:x}");
            new Span<byte>(from, (int)(to - from)).Fill(value);
        }

        // slab_err().
        //   6.1 (mm/slub.c:953): the banner, print_slab_info(), dump_stack(), add_taint(B).
        //   6.12 (mm/slub.c:1155): the banner, then __slab_err(): print_slab_info(), add_taint(B),
        //        WARN_ON(1) at mm/slub.c:1152, which %pS names slab_err (__slab_err is inlined).
        private void SlabErr(Slab slab, string reason)
        {
            if (AddKunitError())
                return;
            SlabBug(reason);
            if (_v61)
            {
                PrintSlabInfo(slab);
                Allocator.Kernel.DumpStack();
                Allocator.Kernel.AddTaint('B', lockdepNowUnreliable: true);
            }
            else
                SlabErrTail(slab, "slab_err");
        }

        // 6.12's __slab_err(): slab info, taint, WARN_ON(1) at mm/slub.c:1152; the WARNING line
        // names the function __slab_err() was inlined into (slab_err, __kmem_cache_shutdown).
        private void SlabErrTail(Slab slab, string inlinedInto)
        {
            if (Allocator.InKunit)
                return;
            PrintSlabInfo(slab);
            Allocator.Kernel.AddTaint('B', lockdepNowUnreliable: true);
            Allocator.Kernel.WarnOn("mm/slub.c", 1152, inlinedInto);
        }

        // object_err(). 6.1 (mm/slub.c:923): banner, trailer (ending with dump_stack()), taint B.
        // 6.12 (mm/slub.c:1112): the same without dump_stack(), then WARN_ON(1) at mm/slub.c:1127.
        // An invalid object pointer gets the slab and "Invalid pointer" instead of the trailer
        // (no dump_stack() in 6.1).
        private void ObjectErr(Slab slab, byte* obj, string reason)
        {
            if (AddKunitError())
                return;
            SlabBug(reason);
            if (obj == null || !CheckValidPointer(slab, obj))
            {
                PrintSlabInfo(slab);
                Report(LogLevel.Err, $"Invalid pointer 0x{(ulong)obj:x16}");
            }
            else
                PrintTrailer(slab, obj);
            Allocator.Kernel.AddTaint('B', lockdepNowUnreliable: true);
            if (!_v61)
                Allocator.Kernel.WarnOn("mm/slub.c", 1127, "object_err");
        }

        // print_slab_info(): "flags=%pGp" of the slab's page, as the VMs print it for an order-0
        // slab: 6.1 shows PG_slab (bit 9) as "slab". In 6.12 PG_slab became a page type, and bit 9
        // is PG_workingset, which SLUB sets while the slab is on its node's partial list
        // (slab_set_node_partial()): a slab taken off every list, as one that failed its checks,
        // prints without it (the VM: "flags=0xfffffc0000000(node=0|..."). Then node 0, zone 1
        // (DMA32), and the last cpupid field all ones. (A compound, order > 0 slab would add its
        // head flag, which the model leaves out.)
        private void PrintSlabInfo(Slab slab)
        {
            string bit9 = _v61 ? "slab|" : slab.List == SlabList.Partial ? "workingset|" : "";
            Report(LogLevel.Err, $"Slab 0x{(ulong)slab.Address:x16} objects={slab.Objects} used={slab.InUse} fp=0x{(ulong)slab.Freelist:x16} "
                + $"flags=0xfffffc0000{(bit9.Length > 0 ? "200" : "000")}({bit9}node=0|zone=1|lastcpupid=0x1fffff)");
        }

        // print_trailer(); 6.1 ends it with dump_stack().
        private void PrintTrailer(Slab slab, byte* p)
        {
            PrintTracking(p);
            PrintSlabInfo(slab);
            Report(LogLevel.Err, $"Object 0x{(ulong)p:x16} @offset={p - slab.Address} fp=0x{(ulong)GetFreePointer(p):x16}\n\n");
            if (Has(CacheFlags.RedZone))
                PrintSection("Redzone  ", p - Layout.RedLeftPad, Layout.RedLeftPad);
            else if (p > slab.Address + 16)
                PrintSection("Bytes b4 ", p - 16, 16);
            PrintSection("Object   ", p, Math.Min(Layout.ObjectSize, SlabGeometry.PageSize));
            if (Has(CacheFlags.RedZone))
                PrintSection("Redzone  ", p + Layout.ObjectSize, Layout.Inuse - Layout.ObjectSize);
            uint off = SlubDebugLayout.MetadataEnd(Layout.AsSlub, SlabGeometry.Of(Allocator.Version), SlabGeometry.TrackSize);
            if (off != SizeFromObject)
                PrintSection("Padding  ", p + off, SizeFromObject - off);
            if (_v61)
                Allocator.Kernel.DumpStack();
        }

        // print_hex_dump(KERN_ERR, text, DUMP_PREFIX_ADDRESS, 16, 1, addr, length, 1)
        private void PrintSection(string text, byte* addr, uint length)
        {
            for (uint i = 0; i < length; i += 16)
            {
                int n = (int)Math.Min(16, length - i);
                var hex = new StringBuilder();
                var ascii = new StringBuilder();
                for (int k = 0; k < n; k++)
                {
                    byte b = addr[i + k];
                    hex.Append(k == 0 ? "" : " ").Append(b.ToString("x2"));
                    ascii.Append(b >= 0x20 && b < 0x7f ? (char)b : '.');
                }
                Report(LogLevel.Err, $"{text}{(ulong)(addr + i):x16}: {hex.ToString().PadRight(16 * 3 + 1)}{ascii}");
            }
        }

        private static byte* MemchrInv(byte* start, byte value, uint bytes)
        {
            int index = new ReadOnlySpan<byte>(start, (int)bytes).IndexOfAnyExcept(value);
            return index < 0 ? null : start + index;
        }
    }
}
