// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The bytes of a slot that slub_debug writes and checks, once, for this library's debug caches
// and for the model of the kernel (model/mm/SlubDebug.cs), as SlubGeometry.cs is their one
// layout. Each area is a run of bytes with the value it must hold, from the object's first byte:
//
//   [left red zone][object ........................][right red zone][free pointer?][tracks][pad]
//    0xcc / 0xbb    0x6b ... 0x6b 0xa5 while free     0xcc / 0xbb                          0x5a
//    (in use/free)  (poison: __OBJECT_POISON only)    (in use/free)
//
// init_object() (mm/slub.c, 6.1 and 6.12) writes the red zones and the poison; check_object()
// checks them and the padding, in the kernel's order. What each consumer does with a bad area
// (the kernel's report and its log levels in the model; a SlabDebugReport here) is its own.
// The two versions differ in check_object() only:
//   6.1  (mm/slub.c:1123): a bad red zone or poison ends the check; the alignment padding and
//        the object padding are reported and restored without failing it; no kmalloc red zone;
//   6.12 (mm/slub.c, check_object()): every area is checked and a bad one fails it; a kmalloc object with
//        user tracking has a red zone from the size asked for to its class's size.

using System;

namespace SimpleCache.Slab
{
    /// <summary>The byte values of include/linux/poison.h that slub_debug uses.</summary>
    public static class SlubPoison
    {
        /// <summary><c>POISON_INUSE</c>: padding, and a new slab's bytes.</summary>
        public const byte InUse = 0x5a;
        /// <summary><c>POISON_FREE</c>: the bytes of a free object.</summary>
        public const byte Free = 0x6b;
        /// <summary><c>POISON_END</c>: the last byte of a poisoned object.</summary>
        public const byte End = 0xa5;
        /// <summary><c>SLUB_RED_INACTIVE</c>: the red zones of a free object.</summary>
        public const byte RedInactive = 0xbb;
        /// <summary><c>SLUB_RED_ACTIVE</c>: the red zones of an object in use.</summary>
        public const byte RedActive = 0xcc;
    }

    /// <summary>Which bytes of a slot an area is, named as check_object()'s reports name them.</summary>
    public enum SlubDebugAreaKind
    {
        /// <summary>"Left Redzone": before the object.</summary>
        LeftRedzone,
        /// <summary>"Right Redzone": after the object, up to <c>s->inuse</c>.</summary>
        RightRedzone,
        /// <summary>"kmalloc Redzone": a kmalloc object's bytes beyond the size asked for (6.12).</summary>
        KmallocRedzone,
        /// <summary>"Alignment padding": after the object up to <c>s->inuse</c>, without red zones.</summary>
        AlignmentPadding,
        /// <summary>"Poison": a free object's bytes but the last.</summary>
        Poison,
        /// <summary>"End Poison": a free object's last byte.</summary>
        EndPoison,
        /// <summary>"Object padding": after the metadata, up to the next slot.</summary>
        ObjectPadding,
    }

    /// <summary>A run of a slot's bytes and the value each must hold; <see cref="Offset"/> is from the object's first byte.</summary>
    public readonly record struct SlubDebugArea(SlubDebugAreaKind Kind, int Offset, int Length, byte Value)
    {
        /// <summary>The area's name in SLUB's reports ("Right Redzone overwritten").</summary>
        public string Name => Kind switch
        {
            SlubDebugAreaKind.LeftRedzone => "Left Redzone",
            SlubDebugAreaKind.RightRedzone => "Right Redzone",
            SlubDebugAreaKind.KmallocRedzone => "kmalloc Redzone",
            SlubDebugAreaKind.AlignmentPadding => "Alignment padding",
            SlubDebugAreaKind.Poison => "Poison",
            SlubDebugAreaKind.EndPoison => "End Poison",
            _ => "Object padding",
        };

        /// <summary>
        /// Whether a bad area fails check_object() in 6.1, and ends it: the red zones and the
        /// poison; the paddings are reported and restored, and the check goes on.
        /// </summary>
        public bool EndsCheckIn61 => Kind is SlubDebugAreaKind.LeftRedzone or SlubDebugAreaKind.RightRedzone
            or SlubDebugAreaKind.Poison or SlubDebugAreaKind.EndPoison;
    }

    /// <summary>The areas slub_debug writes (init_object()) and checks (check_object(), slab_pad_check()).</summary>
    public static class SlubDebugLayout
    {
        /// <summary>The most areas one call gives: the size of the span to pass.</summary>
        public const int MaxAreas = 6;

        /// <summary>
        /// <c>slub_debug_orig_size()</c>: a kmalloc cache with user tracking stores each request's
        /// size after the tracks (and red-zones the rest of the object with Z).
        /// </summary>
        public static bool HasOrigSize(in SlubLayout l) =>
            (l.Flags & (SlubFlags.StoreUser | SlubFlags.Kmalloc)) == (SlubFlags.StoreUser | SlubFlags.Kmalloc);

        /// <summary>Where the stored request size is, from the object: after the two tracks.</summary>
        public static uint OrigSizeOffset(in SlubLayout l, uint trackSize) => l.InfoEnd + 2 * trackSize;

        /// <summary>
        /// <c>init_object(s, object, val)</c>: the areas it writes, in its order, for an object
        /// going into use (<paramref name="active"/>: red zones 0xcc) or coming back (0xbb). An
        /// object in use of a kmalloc cache with stored sizes is poisoned and red-zoned from
        /// <paramref name="origSize"/>, the size asked for. Without __OBJECT_POISON nothing of
        /// the object is written (a constructor's state stays).
        /// </summary>
        public static int InitObject(in SlubLayout l, bool active, uint origSize, Span<SlubDebugArea> areas)
        {
            int n = 0;
            byte red = active ? SlubPoison.RedActive : SlubPoison.RedInactive;
            uint poisonSize = l.ObjectSize;
            bool redZone = (l.Flags & SlubFlags.RedZone) != 0;
            if (redZone)
            {
                Add(areas, ref n, new(SlubDebugAreaKind.LeftRedzone, -(int)l.RedLeftPad, (int)l.RedLeftPad, red));
                if (HasOrigSize(l) && active)
                    poisonSize = origSize;
            }
            if ((l.Flags & SlubFlags.ObjectPoison) != 0)
            {
                Add(areas, ref n, new(SlubDebugAreaKind.Poison, 0, (int)poisonSize - 1, SlubPoison.Free));
                Add(areas, ref n, new(SlubDebugAreaKind.EndPoison, (int)poisonSize - 1, 1, SlubPoison.End));
            }
            if (redZone)
                Add(areas, ref n, new(SlubDebugAreaKind.RightRedzone, (int)poisonSize, (int)(l.Inuse - poisonSize), red));
            return n;
        }

        /// <summary>
        /// <c>check_object()</c>'s areas, in its order, for an object in use
        /// (<paramref name="active"/>) or free: the red zones (and, in 6.12, a kmalloc object's
        /// red zone from the <paramref name="origSize"/> asked for), or the alignment padding
        /// without them; a free object's poison; the padding after the metadata
        /// (<c>check_pad_bytes()</c>, with <paramref name="trackSize"/>-byte tracks). The free
        /// pointer's check, which follows them, is not an area. Areas of no bytes are left out.
        /// </summary>
        public static int CheckObject(in SlubLayout l, SlubVersion version, bool active, uint origSize, uint trackSize, Span<SlubDebugArea> areas)
        {
            int n = 0;
            byte red = active ? SlubPoison.RedActive : SlubPoison.RedInactive;
            if ((l.Flags & SlubFlags.RedZone) != 0)
            {
                Add(areas, ref n, new(SlubDebugAreaKind.LeftRedzone, -(int)l.RedLeftPad, (int)l.RedLeftPad, red));
                Add(areas, ref n, new(SlubDebugAreaKind.RightRedzone, (int)l.ObjectSize, (int)(l.Inuse - l.ObjectSize), red));
                if (version != SlubVersion.V6_1 && HasOrigSize(l) && active && l.ObjectSize > origSize)
                    Add(areas, ref n, new(SlubDebugAreaKind.KmallocRedzone, (int)origSize, (int)(l.ObjectSize - origSize), red));
            }
            else if ((l.Flags & SlubFlags.Poison) != 0 && l.ObjectSize < l.Inuse)
                Add(areas, ref n, new(SlubDebugAreaKind.AlignmentPadding, (int)l.ObjectSize, (int)(l.Inuse - l.ObjectSize), SlubPoison.InUse));
            if ((l.Flags & SlubFlags.Poison) != 0)
            {
                if (!active && (l.Flags & SlubFlags.ObjectPoison) != 0)
                {
                    Add(areas, ref n, new(SlubDebugAreaKind.Poison, 0, (int)l.ObjectSize - 1, SlubPoison.Free));
                    Add(areas, ref n, new(SlubDebugAreaKind.EndPoison, (int)l.ObjectSize - 1, 1, SlubPoison.End));
                }
                uint end = MetadataEnd(l, version, trackSize);
                Add(areas, ref n, new(SlubDebugAreaKind.ObjectPadding, (int)end, (int)(SizeFromObject(l) - end), SlubPoison.InUse));
            }
            return n;
        }

        // An area of no bytes (the poison of a 1-byte object but its last byte) checks nothing.
        private static void Add(Span<SlubDebugArea> areas, ref int n, SlubDebugArea area)
        {
            if (area.Length > 0)
                areas[n++] = area;
        }

        /// <summary>
        /// <c>check_pad_bytes()</c>'s start: the end of the slot's metadata, from the object (the
        /// free pointer when outside, the two tracks with U, and a kmalloc object's stored size).
        /// </summary>
        public static uint MetadataEnd(in SlubLayout l, SlubVersion version, uint trackSize)
        {
            uint off = l.InfoEnd;
            if ((l.Flags & SlubFlags.StoreUser) != 0)
            {
                off += 2 * trackSize;
                if ((l.Flags & SlubFlags.Kmalloc) != 0)
                    off += SlubGeometry.OrigSizeBytes(version);
            }
            return off;
        }

        /// <summary><c>size_from_object()</c>: the slot's bytes from the object's first byte to the next slot.</summary>
        public static uint SizeFromObject(in SlubLayout l) => (l.Flags & SlubFlags.RedZone) != 0 ? l.Size - l.RedLeftPad : l.Size;

        /// <summary>
        /// <c>slab_pad_check()</c>'s bytes: after the last slot of a slab of 2^<paramref name="order"/>
        /// pages, to its end (offset from the slab's first byte, and length; the length may be 0).
        /// </summary>
        public static (uint Offset, uint Length) SlabPadding(in SlubLayout l, int order)
        {
            uint length = SlubGeometry.PageSize << order;
            uint remainder = length % l.Size;
            return (length - remainder, remainder);
        }
    }
}
