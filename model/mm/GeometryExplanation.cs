// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// "What would the kernel do with my struct?": the figures of a cache's layout with a one-line
// reason for each, derived step by step the way calculate_alignment(), calculate_sizes() and
// calculate_order() derive them.

using System.Collections.Generic;
using System.Text;

namespace SimpleCache.Model.Mm
{
    /// <summary>One /sys/kernel/slab attribute, its value and why it has that value.</summary>
    /// <param name="Attribute">The sysfs attribute name.</param>
    /// <param name="Value">Its value.</param>
    /// <param name="Reason">One line on how the kernel got there.</param>
    public sealed record GeometryFact(string Attribute, long Value, string Reason);

    /// <summary>Explains a <see cref="SlabLayout"/>.</summary>
    public static class GeometryExplanation
    {
        /// <summary>The facts behind a layout computed by <see cref="SlabGeometry.Calculate"/>.</summary>
        public static IReadOnlyList<GeometryFact> Explain(KernelVersion version, SlabLayout l, uint requestedAlign, CacheFlags flags, bool hasCtor, int cpus)
        {
            var facts = new List<GeometryFact>();
            facts.Add(new("object_size", l.ObjectSize, "the size you asked for (sizeof your struct)"));

            string align = (flags & CacheFlags.HwcacheAlign) != 0
                ? $"SLAB_HWCACHE_ALIGN: the {SlabGeometry.CacheLineSize}-byte cache line, halved while the object fits in half of it"
                : $"at least ARCH_SLAB_MINALIGN ({SlabGeometry.ArchSlabMinAlign}) and a multiple of the pointer size";
            if (requestedAlign > 0)
                align += $"; you asked for {requestedAlign}";
            facts.Add(new("align", l.Align, align));

            var size = new StringBuilder($"{l.ObjectSize} bytes");
            uint words = SlabGeometry.AlignUp(l.ObjectSize, SlabGeometry.PointerSize);
            if (words != l.ObjectSize)
                size.Append($", padded to {words} (whole words)");
            if ((l.Flags & CacheFlags.RedZone) != 0 && words == l.ObjectSize)
                size.Append(", +8 right red zone");
            if (l.FreePointerOutside)
            {
                string why = hasCtor ? "the constructor's work must survive while the object is free"
                    : (l.Flags & CacheFlags.Poison) != 0 ? "poisoning owns the free object's bytes"
                    : (l.Flags & CacheFlags.TypesafeByRcu) != 0 ? "SLAB_TYPESAFE_BY_RCU readers may still look at a freed object"
                    : "the object is smaller than a pointer and red-zoned";
                size.Append($", +8 free pointer after the object ({why})");
            }
            else
                size.Append($" (the free pointer lives inside the free object, at offset {l.Offset})");
            if ((l.Flags & CacheFlags.StoreUser) != 0)
                size.Append($", +{2 * SlabGeometry.TrackSize} alloc/free tracking");
            if ((l.Flags & CacheFlags.RedZone) != 0)
                size.Append($", +8 padding word, +{l.RedLeftPad} left red zone");
            size.Append($", rounded up to the alignment {l.Align}");
            facts.Add(new("slab_size", l.Size, size.ToString()));

            uint slabBytes = SlabGeometry.PageSize << l.Order;
            facts.Add(new("objs_per_slab", l.ObjectsPerSlab,
                $"a {slabBytes}-byte slab / {l.Size} = {l.ObjectsPerSlab}, {slabBytes - l.ObjectsPerSlab * l.Size} bytes left over"));

            uint minObjects = SlabGeometry.MinObjects(cpus);
            string order = version == KernelVersion.V6_1
                ? $"6.1: the smallest order up to {SlabGeometry.SlubMaxOrder} that holds {minObjects} objects (4 * (fls({cpus} CPUs) + 1)) wasting at most 1/16, else 1/8, 1/4 (then fewer objects)"
                : $"6.8+: start at the order that holds {minObjects} objects (4 * (fls({cpus} CPUs) + 1)), accept waste up to 1/16, 1/8, 1/4, 1/2, up to order {SlabGeometry.SlubMaxOrder}";
            facts.Add(new("order", l.Order, order));
            facts.Add(new("min_partial", l.MinPartial, $"ilog2({l.Size}) / 2, kept between {SlabGeometry.MinPartial} and {SlabGeometry.MaxPartial}: empty slabs kept for reuse"));
            return facts;
        }
    }
}
