// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// SLUB's debugging (CONFIG_SLUB_DEBUG; slub_debug=F,Z,P,U): red zones, poisoning, allocation and
// free tracking, consistency checks, validate_slab_cache(), and the reports they print.
//
// The behaviour and the report shapes follow Linux 6.12.76 (Debian's 6.12 kernels carry its
// reworked reports: "[Right Redzone overwritten] ..." lines, one "Object corrupt" banner per
// object). Linux 6.1 prints a banner and the object trailer for every overwritten area and stops
// at the first; the model does not reproduce that older shape. Error counting follows
// slab_add_kunit_errors(): each report and each fix counts once, which is what lib/slub_kunit.c's
// expected counts measure; while a "kunit test" runs (SlabAllocator.BeginKunit) reports are
// counted and not printed, as in the kernel.
//
// Object layout with debugging (see the comment above check_pad_bytes() in mm/slub.c):
//   [left red zone: red_left_pad] [object: object_size] [right red zone: inuse - object_size]
//   [free pointer if outside] [alloc track][free track] [padding to size, 0x5a]

using System;
using System.Diagnostics;
using System.Text;
using LogLevel = global::Kernel.LogLevel;

namespace SimpleCache.Model.Mm
{
    /// <summary>Byte values of include/linux/poison.h.</summary>
    public static class Poison
    {
        /// <summary><c>POISON_INUSE</c>: padding and never-used memory.</summary>
        public const byte InUse = 0x5a;
        /// <summary><c>POISON_FREE</c>: the bytes of a free object.</summary>
        public const byte Free = 0x6b;
        /// <summary><c>POISON_END</c>: the last byte of a free object.</summary>
        public const byte End = 0xa5;
        /// <summary><c>SLUB_RED_INACTIVE</c>: red zone of a free object.</summary>
        public const byte RedInactive = 0xbb;
        /// <summary><c>SLUB_RED_ACTIVE</c>: red zone of an allocated object.</summary>
        public const byte RedActive = 0xcc;
    }

    public sealed unsafe partial class SlabCache
    {
        private const byte RedInactive = Poison.RedInactive;
        private const byte RedActive = Poison.RedActive;
        private const int TrackAlloc = 0;
        private const int TrackFree = 1;

        private bool Has(CacheFlags flag) => (Layout.Flags & flag) != 0;

        /// <summary><c>get_info_end()</c>: where the tracking data starts.</summary>
        private uint InfoEnd => Layout.FreePointerOutside ? Layout.Inuse + SlabGeometry.PointerSize : Layout.Inuse;

        /// <summary><c>size_from_object()</c>: the slot size seen from the object's start.</summary>
        private uint SizeFromObject => Has(CacheFlags.RedZone) ? Layout.Size - Layout.RedLeftPad : Layout.Size;

        /// <summary><c>slub_debug_orig_size()</c>: kmalloc caches with user tracking store each request's size.</summary>
        private bool HasOrigSize => (Layout.Flags & (CacheFlags.StoreUser | CacheFlags.Kmalloc)) == (CacheFlags.StoreUser | CacheFlags.Kmalloc);

        private uint OrigSizeBytes => SlabGeometry.OrigSizeBytes(Allocator.Version);

        // get_orig_size() / set_orig_size(): after the two tracks.
        private uint GetOrigSize(byte* obj) => HasOrigSize ? *(uint*)(obj + InfoEnd + 2 * SlabGeometry.TrackSize) : Layout.ObjectSize;

        private void SetOrigSize(byte* obj, uint size)
        {
            if (!HasOrigSize)
                return;
            byte* at = obj + InfoEnd + 2 * SlabGeometry.TrackSize;
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

        // init_object(): red zones to val; a free object's bytes poisoned (last byte POISON_END).
        private void InitObject(byte* p, byte val)
        {
            uint poisonSize = Layout.ObjectSize;
            if (Has(CacheFlags.RedZone))
            {
                new Span<byte>(p - Layout.RedLeftPad, (int)Layout.RedLeftPad).Fill(val);
                // A kmalloc object is red-zoned from the size asked for, not the size of its class.
                if (HasOrigSize && val == RedActive)
                    poisonSize = GetOrigSize(p);
            }
            if (Has(CacheFlags.ObjectPoison))
            {
                new Span<byte>(p, (int)poisonSize - 1).Fill(Poison.Free);
                p[poisonSize - 1] = Poison.End;
            }
            if (Has(CacheFlags.RedZone))
                new Span<byte>(p + poisonSize, (int)(Layout.Inuse - poisonSize)).Fill(val);
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

        // free_debug_processing() for one object, called with list_lock held.
        private bool FreeDebugProcessing(Slab slab, byte* obj)
        {
            if (Has(CacheFlags.ConsistencyChecks))
            {
                if (!CheckSlab(slab))
                    return false;
                if (slab.InUse < 1)
                {
                    SlabErr(slab, $"Slab has {slab.InUse} allocated objects but 1 are to be freed");
                    return false;
                }
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
                if (!CheckObject(slab, obj, RedActive))
                    return false;
            }
            if (Has(CacheFlags.StoreUser))
                SetTrack(obj, TrackFree);
            Trace(slab, obj, alloc: false);
            InitObject(obj, RedInactive);
            return true;
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
            SlabPadCheck(slab);
            return true;
        }

        // slab_pad_check(): the bytes after the last object of a poisoned slab stay 0x5a.
        private void SlabPadCheck(Slab slab)
        {
            if (!Has(CacheFlags.Poison))
                return;
            uint length = SlabGeometry.PageSize << slab.Order;
            uint remainder = length % Layout.Size;
            if (remainder == 0)
                return;
            byte* pad = slab.Address + length - remainder;
            byte* fault = MemchrInv(pad, Poison.InUse, remainder);
            if (fault == null)
                return;
            byte* end = slab.Address + length;
            while (end > fault && end[-1] == Poison.InUse)
                end--;
            if (!AddKunitError())
            {
                SlabBug($"Padding overwritten. 0x{(ulong)fault:x16}-0x{(ulong)(end - 1):x16} @offset={fault - slab.Address}");
                PrintSection("Padding ", pad, remainder);
                SlabErrTail(slab);
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
            if (!AddKunitError())
            {
                Report(LogLevel.Err, $"[{what} overwritten] 0x{(ulong)fault:x16}-0x{(ulong)(end - 1):x16} @offset={fault - slab.Address}. First byte 0x{fault[0]:x} instead of 0x{value:x}");
                if (printObject)
                    ObjectErr(slab, obj, "Object corrupt");
            }
            RestoreBytes(what, value, fault, end);
            return false;
        }

        // check_object(): every check runs; the first failure prints the object.
        private bool CheckObject(Slab slab, byte* p, byte val)
        {
            bool ret = true;
            byte* endObject = p + Layout.ObjectSize;
            if (Has(CacheFlags.RedZone))
            {
                if (!CheckBytesAndReport(slab, p, "Left Redzone", p - Layout.RedLeftPad, val, Layout.RedLeftPad, ret))
                    ret = false;
                if (!CheckBytesAndReport(slab, p, "Right Redzone", endObject, val, Layout.Inuse - Layout.ObjectSize, ret))
                    ret = false;
                if (HasOrigSize && val == RedActive)
                {
                    uint origSize = GetOrigSize(p);
                    if (Layout.ObjectSize > origSize
                        && !CheckBytesAndReport(slab, p, "kmalloc Redzone", p + origSize, val, Layout.ObjectSize - origSize, ret))
                        ret = false;
                }
            }
            else if (Has(CacheFlags.Poison) && Layout.ObjectSize < Layout.Inuse)
            {
                if (!CheckBytesAndReport(slab, p, "Alignment padding", endObject, Poison.InUse, Layout.Inuse - Layout.ObjectSize, ret))
                    ret = false;
            }
            if (Has(CacheFlags.Poison))
            {
                if (val != RedActive && Has(CacheFlags.ObjectPoison))
                {
                    if (!CheckBytesAndReport(slab, p, "Poison", p, Poison.Free, Layout.ObjectSize - 1, ret))
                        ret = false;
                    if (!CheckBytesAndReport(slab, p, "End Poison", p + Layout.ObjectSize - 1, Poison.End, 1, ret))
                        ret = false;
                }
                if (!CheckPadBytes(slab, p))
                    ret = false;
            }
            // The free pointer of an allocated object may overlap its data: check it only when it cannot.
            if ((Layout.FreePointerOutside || val != RedActive) && !CheckValidPointer(slab, GetFreePointer(p)))
            {
                ObjectErr(slab, p, "Freepointer corrupt");
                SetFreePointer(p, null);
                ret = false;
            }
            return ret;
        }

        // check_pad_bytes(): from the end of the metadata to the end of the slot, 0x5a.
        private bool CheckPadBytes(Slab slab, byte* p)
        {
            uint off = InfoEnd;
            if (Has(CacheFlags.StoreUser))
            {
                off += 2 * SlabGeometry.TrackSize;
                if (Has(CacheFlags.Kmalloc))
                    off += OrigSizeBytes;
            }
            if (SizeFromObject == off)
                return true;
            return CheckBytesAndReport(slab, p, "Object padding", p + off, Poison.InUse, SizeFromObject - off, true);
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

        private void ValidateSlab(Slab slab)
        {
            if (!CheckSlab(slab) || !OnFreelist(slab, null))
                return;
            bool[] free = FreeMap(slab);
            for (int i = 0; i < slab.Objects; i++)
                if (!CheckObject(slab, ObjectAt(slab, i), free[i] ? RedInactive : RedActive))
                    break;
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

        // list_slab_objects(): the objects still allocated when the cache is destroyed.
        private void ListSlabObjects(Slab slab)
        {
            if (!AddKunitError())
                SlabBug(Allocator.Version == KernelVersion.V6_1
                    ? $"Objects remaining in {Name} on __kmem_cache_shutdown()"
                    : "Objects remaining on __kmem_cache_shutdown()");
            bool[] free = FreeMap(slab);
            for (int i = 0; i < slab.Objects; i++)
            {
                if (free[i] || AddKunitError())
                    continue;
                byte* p = ObjectAt(slab, i);
                Report(LogLevel.Err, $"Object 0x{(ulong)p:x16} @offset={p - slab.Address}");
                PrintTracking(p);
            }
            SlabErrTail(slab);
        }

        // ---------------------------------------------------------------- tracking

        private void SetTrack(byte* obj, int which)
        {
            byte* t = obj + InfoEnd + which * SlabGeometry.TrackSize;
            *(ulong*)t = (ulong)Allocator.Symbols.CallerAddress();
            *(uint*)(t + 8) = Allocator.Symbols.SaveStack();
            *(int*)(t + 12) = Allocator.CurrentCpu();
            *(int*)(t + 16) = Environment.CurrentManagedThreadId;
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
            Report(LogLevel.Err, $"{what} in {Allocator.Symbols.Name(addr)} age={now - *(ulong*)(t + 24)} cpu={*(int*)(t + 12)} pid={*(int*)(t + 16)}");
            uint handle = *(uint*)(t + 8);
            string stack = Allocator.Symbols.Stack(handle);
            if (stack == null)
                Report(LogLevel.Err, "object allocation/free stack trace missing");
            else
                foreach (string line in stack.Split('\n'))
                    Report(LogLevel.Warning, " " + line);
        }

        // ---------------------------------------------------------------- reports

        private bool AddKunitError() => Allocator.AddKunitError();

        private void Report(LogLevel level, string text)
        {
            if (!Allocator.InKunit)
                Allocator.Kernel.Printk(level, text);
        }

        private void SlabBug(string reason)
        {
            Report(LogLevel.Err, "=============================================================================");
            Report(LogLevel.Err, $"BUG {Name} ({Allocator.Kernel.PrintTainted()}): {reason}");
            Report(LogLevel.Err, "-----------------------------------------------------------------------------");
            Report(LogLevel.Err, "");
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

        private void SlabErr(Slab slab, string reason)
        {
            if (AddKunitError())
                return;
            SlabBug(reason);
            SlabErrTail(slab);
        }

        // __slab_err(): slab info, taint, WARN_ON(1).
        private void SlabErrTail(Slab slab)
        {
            if (Allocator.InKunit)
                return;
            PrintSlabInfo(slab);
            Allocator.Kernel.AddTaint('B');
            Allocator.Kernel.Warn("", "mm/slub.c __slab_err");
        }

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
            Allocator.Kernel.AddTaint('B');
            Allocator.Kernel.Warn("", "mm/slub.c object_err");
        }

        private void PrintSlabInfo(Slab slab) =>
            Report(LogLevel.Err, $"Slab 0x{(ulong)slab.Address:x16} objects={slab.Objects} used={slab.InUse} fp=0x{(ulong)slab.Freelist:x16} flags=0x{(IsDebug ? 0x200 : 0):x}(slab)");

        // print_trailer()
        private void PrintTrailer(Slab slab, byte* p)
        {
            PrintTracking(p);
            PrintSlabInfo(slab);
            Report(LogLevel.Err, $"Object 0x{(ulong)p:x16} @offset={p - slab.Address} fp=0x{(ulong)GetFreePointer(p):x16}");
            Report(LogLevel.Err, "");
            if (Has(CacheFlags.RedZone))
                PrintSection("Redzone  ", p - Layout.RedLeftPad, Layout.RedLeftPad);
            else if (p > slab.Address + 16)
                PrintSection("Bytes b4 ", p - 16, 16);
            PrintSection("Object   ", p, Math.Min(Layout.ObjectSize, SlabGeometry.PageSize));
            if (Has(CacheFlags.RedZone))
                PrintSection("Redzone  ", p + Layout.ObjectSize, Layout.Inuse - Layout.ObjectSize);
            uint off = InfoEnd + (Has(CacheFlags.StoreUser) ? 2 * SlabGeometry.TrackSize : 0) + (HasOrigSize ? OrigSizeBytes : 0);
            if (off != SizeFromObject)
                PrintSection("Padding  ", p + off, SizeFromObject - off);
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
