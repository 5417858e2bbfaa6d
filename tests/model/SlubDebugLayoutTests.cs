// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// lib/SimpleCache.Slab/SlubDebugLayout.cs, the bytes slub_debug writes and checks, shared by the
// model's SLUB and the library's debug caches, over a matrix of layouts from the geometry
// (sizes, alignments, every subset of FZPU, kmalloc caches, constructors, 6.1 and 6.12):
//   - what init_object() writes passes check_object() in the same state, in use and free, on a
//     slot set up as a new slab is (every byte 0x5a);
//   - with P, check_object()'s areas, the object's own bytes and the metadata (free pointer,
//     tracks, stored size) cover the slot exactly once: no byte unchecked, none checked twice;
//   - one wrong byte in any area fails the check in that area; without P no padding is checked;
//     the areas carry the kernel's names.
// The model's reports (SlubReportTests) and the VMs' (tests/vm/bugs.sh) check the same code
// through the kernel's words.

extern alias slablib;

using System;
using System.Collections.Generic;
using System.Linq;
using SimpleCache.Model.Mm;
using Xunit;
using Area = slablib::SimpleCache.Slab.SlubDebugArea;
using AreaKind = slablib::SimpleCache.Slab.SlubDebugAreaKind;
using DebugLayout = slablib::SimpleCache.Slab.SlubDebugLayout;
using SlubLayout = slablib::SimpleCache.Slab.SlubLayout;
using SlubVersion = slablib::SimpleCache.Slab.SlubVersion;

namespace SimpleCache.Model.Tests
{
    public class SlubDebugLayoutTests
    {
        private static readonly uint[] Sizes = [1, 8, 13, 24, 56, 64, 100, 192, 1000, 4096];

        // Every layout of the matrix for one version, with a name for the messages.
        private static List<(string Name, SlubLayout L, SlubVersion V, CacheFlags Flags)> Layouts(KernelVersion version)
        {
            var layouts = new List<(string, SlubLayout, SlubVersion, CacheFlags)>();
            SlubVersion v = version == KernelVersion.V6_1 ? SlubVersion.V6_1 : SlubVersion.V6_12;
            foreach (uint size in Sizes)
                foreach (uint align in new uint[] { 8, 64 })
                    for (int letters = 0; letters < 16; letters++)
                        foreach (bool ctor in new[] { false, true })
                            foreach (bool kmalloc in new[] { false, true })
                            {
                                if (kmalloc && ctor)
                                    continue;
                                CacheFlags flags = (CacheFlags)letters | (kmalloc ? CacheFlags.Kmalloc : 0);
                                if (SlabGeometry.Calculate(version, size, align, flags, ctor, 2) is { } l)
                                    layouts.Add(($"{version} size {size} align {align} {flags}{(ctor ? " ctor" : "")}", l.AsSlub, v, flags));
                            }
            Assert.Equal(Sizes.Length * 2 * 16 * 3, layouts.Count);   // every layout of the matrix exists
            return layouts;
        }

        private static Area[] Init(SlubLayout l, bool active, uint origSize)
        {
            Span<Area> areas = stackalloc Area[DebugLayout.MaxAreas];
            int n = DebugLayout.InitObject(l, active, origSize, areas);
            return areas[..n].ToArray();
        }

        private static Area[] Check(SlubLayout l, SlubVersion v, bool active, uint origSize)
        {
            Span<Area> areas = stackalloc Area[DebugLayout.MaxAreas];
            int n = DebugLayout.CheckObject(l, v, active, origSize, SlabGeometry.TrackSize, areas);
            return areas[..n].ToArray();
        }

        // A slot as bytes, index 0 the left red zone's first; the object at RedLeftPad.
        private static byte[] NewSlot(SlubLayout l) => Enumerable.Repeat((byte)0x5a, (int)l.Size).ToArray();

        private static void Write(byte[] slot, SlubLayout l, IEnumerable<Area> areas)
        {
            foreach (Area a in areas)
                Array.Fill(slot, a.Value, (int)l.RedLeftPad + a.Offset, a.Length);
        }

        private static Area[] Failing(byte[] slot, SlubLayout l, IEnumerable<Area> areas) =>
            areas.Where(a => slot.AsSpan((int)l.RedLeftPad + a.Offset, a.Length).IndexOfAnyExcept(a.Value) >= 0).ToArray();

        private static void Empty(Area[] failing, string what) =>
            Assert.True(failing.Length == 0, $"{what}: {string.Join(", ", failing.Select(a => a.Name))} fail");

        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void WhatInitObjectWritesPassesCheckObject(KernelVersion version)
        {
            foreach ((string name, SlubLayout l, SlubVersion v, _) in Layouts(version))
                foreach (uint orig in new[] { l.ObjectSize, Math.Max(1, l.ObjectSize / 2) })
                {
                    // The size asked for matters to an object in use only: a free one is whole.
                    byte[] slot = NewSlot(l);
                    Write(slot, l, Init(l, active: false, orig));
                    Empty(Failing(slot, l, Check(l, v, active: false, l.ObjectSize)), $"{name}, free");
                    Write(slot, l, Init(l, active: true, orig));
                    Empty(Failing(slot, l, Check(l, v, active: true, orig)), $"{name}, in use, {orig} bytes asked for");
                    Write(slot, l, Init(l, active: false, orig));
                    Empty(Failing(slot, l, Check(l, v, active: false, l.ObjectSize)), $"{name}, free again");
                }
        }

        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void WithPoisonEveryByteOfTheSlotIsCheckedOrIsDataOrMetadataOnce(KernelVersion version)
        {
            foreach ((string name, SlubLayout l, SlubVersion v, CacheFlags flags) in Layouts(version).Where(x => (x.Flags & CacheFlags.Poison) != 0))
            foreach (bool active in new[] { false, true })
            {
                var cover = new int[l.Size];
                void Mark(int offset, int length)
                {
                    Assert.InRange(offset, -(int)l.RedLeftPad, (int)(l.Size - l.RedLeftPad));
                    Assert.InRange(offset + length, offset, (int)(l.Size - l.RedLeftPad));
                    for (int i = 0; i < length; i++)
                        cover[l.RedLeftPad + offset + i]++;
                }
                Area[] areas = Check(l, v, active, l.ObjectSize);
                foreach (Area a in areas)
                    Mark(a.Offset, a.Length);
                // The object's own bytes, when no area covers them: in use, or a constructor's state.
                if (!areas.Any(a => a.Kind is AreaKind.Poison or AreaKind.EndPoison))
                    Mark(0, (int)l.ObjectSize);
                if (l.FreePointerOutside)
                    Mark((int)l.Offset, (int)SlabGeometry.PointerSize);
                if ((flags & CacheFlags.StoreUser) != 0)
                    Mark((int)l.InfoEnd, 2 * (int)SlabGeometry.TrackSize);
                if (DebugLayout.HasOrigSize(l))
                    Mark((int)DebugLayout.OrigSizeOffset(l, SlabGeometry.TrackSize), (int)SlabGeometry.OrigSizeBytes(version));
                int[] wrong = Enumerable.Range(0, (int)l.Size).Where(i => cover[i] != 1).ToArray();
                Assert.True(wrong.Length == 0, $"{name}, {(active ? "in use" : "free")}: slot bytes {string.Join(",", wrong.Take(8))} covered {string.Join(",", wrong.Take(8).Select(i => cover[i]))} times (size {l.Size}, red_left_pad {l.RedLeftPad}, inuse {l.Inuse}, offset {l.Offset})");
            }
        }

        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void OneWrongByteInAnAreaFailsThatArea(KernelVersion version)
        {
            foreach ((string name, SlubLayout l, SlubVersion v, _) in Layouts(version))
            foreach (bool active in new[] { false, true })
            {
                Area[] areas = Check(l, v, active, l.ObjectSize);
                foreach (Area a in areas)
                    foreach (int at in new[] { 0, a.Length - 1 })
                    {
                        byte[] slot = NewSlot(l);
                        Write(slot, l, Init(l, active, l.ObjectSize));
                        slot[l.RedLeftPad + a.Offset + at] ^= 0xff;
                        Assert.True(Failing(slot, l, areas).Select(f => f.Kind).SequenceEqual([a.Kind]), $"{name}, {(active ? "in use" : "free")}: byte {at} of {a.Name}");
                    }
            }
        }

        [Theory]
        [InlineData(KernelVersion.V6_1)]
        [InlineData(KernelVersion.V6_12)]
        public void WithoutPoisonNoByteIsHeldTo0x5a(KernelVersion version)
        {
            // Padding is checked only with SLAB_POISON (check_object(), check_pad_bytes()): without
            // P its bytes are whatever the page held.
            foreach ((string name, SlubLayout l, SlubVersion v, CacheFlags flags) in Layouts(version).Where(x => (x.Flags & CacheFlags.Poison) == 0))
                foreach (bool active in new[] { false, true })
                {
                    Area[] padding = Check(l, v, active, l.ObjectSize).Where(a => a.Value == 0x5a).ToArray();
                    Assert.True(padding.Length == 0, $"{name}: {string.Join(", ", padding.Select(a => a.Name))} checked against 0x5a");
                }
        }

        [Fact]
        public void TheAreasHaveTheKernelsNames()
        {
            // check_bytes_and_report()'s "what" in mm/slub.c (6.1 and 6.12): "<what> overwritten".
            Assert.Equal(["Left Redzone", "Right Redzone", "kmalloc Redzone", "Alignment padding", "Poison", "End Poison", "Object padding"],
                Enum.GetValues<AreaKind>().Select(k => new Area(k, 0, 1, 0).Name));
        }

        [Fact]
        public void TheSlabPaddingIsWhatFollowsTheLastSlot()
        {
            SlabLayout l = SlabGeometry.Calculate(KernelVersion.V6_12, 1000, 8, CacheFlags.Poison | CacheFlags.RedZone, false, 2);
            foreach (int order in new[] { 0, l.Order, 3 })
            {
                (uint offset, uint length) = DebugLayout.SlabPadding(l.AsSlub, order);
                Assert.Equal(SlabGeometry.PageSize << order, offset + length);
                Assert.Equal(SlabGeometry.OrderObjects(order, l.Size) * l.Size, offset);
                Assert.True(length < l.Size);
            }
        }
    }
}
