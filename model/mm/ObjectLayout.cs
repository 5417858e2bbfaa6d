// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// One slot of a cache, byte by byte: the regions that the comment "Object layout:" above
// check_pad_bytes() in mm/slub.c describes (6.1 and 6.12 word it the same), named as mm/slub.c
// names them in its reports ("Left Redzone", "Right Redzone", "Alignment padding", "Object
// padding") and in calculate_sizes():
//
//   slot + 0                 Left Redzone (s->red_left_pad; SLAB_RED_ZONE only)
//   object = slot + red_left_pad
//   object + 0               the object (s->object_size); a free object holds the free pointer
//                            at s->offset when nothing else needs its bytes
//   object + object_size     padding to a word: "Right Redzone" under SLAB_RED_ZONE (one more
//                            word when the object fills its words), else "Alignment padding"
//   object + inuse           metadata: A. the free pointer, when it may not overlay the object
//                            (a constructor, poisoning, SLAB_TYPESAFE_BY_RCU); B. two struct
//                            track (SLAB_STORE_USER); C. the original request size of kmalloc
//                            objects (SLAB_STORE_USER); D. padding to the alignment, at least a
//                            word under SLAB_RED_ZONE ("Object padding", filled with 0x5a and
//                            checked under SLAB_POISON)
//   slot + s->size           the next slot

using System;
using System.Collections.Generic;
using SimpleCache.Slab;

namespace SimpleCache.Model.Mm
{
    /// <summary>A run of bytes in a slot.</summary>
    /// <param name="Start">Its offset from the start of the slot.</param>
    /// <param name="Length">Its bytes.</param>
    /// <param name="Name">Its name in mm/slub.c (a report's name where a report names it).</param>
    /// <param name="Field">What the kernel calls the figure behind it (<c>s->object_size</c>, ...).</param>
    /// <param name="Meaning">What it is for, in one line.</param>
    public readonly record struct LayoutRegion(uint Start, uint Length, string Name, string Field, string Meaning)
    {
        /// <summary>The first offset after it.</summary>
        public uint End => Start + Length;
    }

    /// <summary>The regions of a slot.</summary>
    public static class ObjectLayout
    {
        /// <summary>
        /// The regions of one slot of a cache with layout <paramref name="l"/>, in address order,
        /// covering the slot (<c>s->size</c> bytes) exactly. A free pointer inside the object is a
        /// region of its own, splitting the object in two.
        /// </summary>
        public static IReadOnlyList<LayoutRegion> Regions(KernelVersion version, SlabLayout l)
        {
            var regions = new List<LayoutRegion>();
            bool redZone = (l.Flags & CacheFlags.RedZone) != 0;
            uint obj = l.RedLeftPad;
            if (redZone)
                regions.Add(new(0, l.RedLeftPad, "Left Redzone", "s->red_left_pad",
                    "0xbb while free, 0xcc while allocated: catches writes before the object"));
            if (l.FreePointerOutside)
                regions.Add(new(obj, l.ObjectSize, "Object", "s->object_size", "your struct"));
            else
            {
                if (l.Offset > 0)
                    regions.Add(new(obj, l.Offset, "Object", "s->object_size", "your struct"));
                regions.Add(new(obj + l.Offset, SlabGeometry.PointerSize, "Free pointer", "s->offset",
                    "inside the object: while it is free, the address of the next free object (hardened: XORed)"));
                uint after = l.Offset + SlabGeometry.PointerSize;
                if (after < l.ObjectSize)
                    regions.Add(new(obj + after, l.ObjectSize - after, "Object", "s->object_size", "your struct, after the free pointer"));
            }
            if (l.Inuse > l.ObjectSize)
                regions.Add(redZone
                    ? new(obj + l.ObjectSize, l.Inuse - l.ObjectSize, "Right Redzone", "s->inuse - s->object_size",
                        "0xbb while free, 0xcc while allocated: catches writes past the object")
                    : new(obj + l.ObjectSize, l.Inuse - l.ObjectSize, "Alignment padding", "s->inuse - s->object_size",
                        "up to a whole word"));
            uint info = l.Inuse;
            if (l.FreePointerOutside)
            {
                regions.Add(new(obj + info, SlabGeometry.PointerSize, "Free pointer", "s->offset",
                    "after the object, because the object's bytes must survive while it is free"));
                info += SlabGeometry.PointerSize;
            }
            if ((l.Flags & CacheFlags.StoreUser) != 0)
            {
                regions.Add(new(obj + info, SlabGeometry.TrackSize, "Tracking data (alloc)", "struct track",
                    "who allocated the object: call site, CPU, pid, jiffies, stack"));
                regions.Add(new(obj + info + SlabGeometry.TrackSize, SlabGeometry.TrackSize, "Tracking data (free)", "struct track",
                    "who freed it last"));
                info += 2 * SlabGeometry.TrackSize;
                if ((l.Flags & CacheFlags.Kmalloc) != 0)
                {
                    uint bytes = SlabGeometry.OrigSizeBytes(version);
                    regions.Add(new(obj + info, bytes, "Original request size", "orig_size",
                        "the size kmalloc() was asked for: bytes after it count as red zone"));
                    info += bytes;
                }
            }
            if (obj + info < l.Size)
                regions.Add(new(obj + info, l.Size - obj - info, "Object padding", "s->size",
                    PaddingChecked(version, l)
                        ? "to the alignment; filled with 0x5a (POISON_INUSE) and checked"
                        : "to the alignment: the slot's unused bytes"));
            return regions;
        }

        // Whether slub_debug holds the padding after the metadata to 0x5a: the areas
        // check_object() checks (lib/SimpleCache.Slab/SlubDebugLayout.cs) include it with
        // SLAB_POISON only (check_pad_bytes(); setup_slab_debug() fills a slab with 0x5a then).
        private static bool PaddingChecked(KernelVersion version, SlabLayout l)
        {
            Span<SlubDebugArea> areas = stackalloc SlubDebugArea[SlubDebugLayout.MaxAreas];
            int n = SlubDebugLayout.CheckObject(l.AsSlub, SlabGeometry.Of(version), active: false, l.ObjectSize, SlabGeometry.TrackSize, areas);
            foreach (SlubDebugArea a in areas[..n])
                if (a.Kind == SlubDebugAreaKind.ObjectPadding)
                    return true;
            return false;
        }
    }
}
