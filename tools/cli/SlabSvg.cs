// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// A cache's slab map as an SVG picture: each slab a row of slots (wrapped every 32), grouped as
// SLUB holds them; a slot in use is green (with simple_cache's id in it), a free one blue when it
// is on the CPU's lockless freelist and grey on the slab's own, numbered in the order the next
// allocations will take them; the module's list is drawn as orange arrows from object to
// object, so that the list order and the slab order are visibly different. Built with
// System.Xml.Linq, so the document is well-formed by construction; each slot carries a <title>
// (a tooltip in a browser) and data- attributes that say what it shows.

using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Xml.Linq;
using SimpleCache.Model;
using SimpleCache.Model.Mm;

namespace SimpleCache.Cli
{
    /// <summary>SVG pictures of slab maps.</summary>
    public static class SlabSvg
    {
        /// <summary>The colours of the pictures (the screenshot test looks for them).</summary>
        public const string InUse = "#2e7d32", CpuFree = "#29b6f6", SlabFree = "#bdbdbd", ListArrow = "#ef6c00";

        private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
        private const int Cell = 22, Gap = 3, PerRow = 32, Left = 190, RowGap = 12, Top = 70, ArrowRoom = 40;

        /// <summary>The picture of <paramref name="cache"/>'s slabs, as an &lt;svg&gt; element.</summary>
        public static XElement Draw(ModelKernel kernel, SlabCache cache)
        {
            CacheMap map = cache.Map();
            ModuleObjects objects = ModuleObjects.For(cache);
            var body = new List<XElement>();
            var centre = new Dictionary<nint, (double X, double Y)>();
            int y = Top;

            body.Add(Text(8, 20, $"{cache.Name}: {map.Layout.ObjectSize}-byte objects in {map.Layout.Size}-byte slots, " +
                $"{map.Layout.ObjectsPerSlab} per slab; {map.Allocated} of {map.Slots} slots in use", 15, "bold"));
            body.AddRange(Legend(8, 40, objects.HasList));

            var groups = new List<(string Title, IEnumerable<SlabView> Slabs)>();
            for (int cpu = 0; cpu < map.Cpus && !cache.IsDebug; cpu++)
            {
                int c = cpu;
                groups.Add(($"CPU {cpu} slab", map.Slabs.Where(s => s.Cpu == c && s.Place == SlabPlace.CpuSlab)));
                groups.Add(($"CPU {cpu} partial", map.Slabs.Where(s => s.Cpu == c && s.Place == SlabPlace.CpuPartial)));
            }
            groups.Add(("node partial", map.Slabs.Where(s => s.Place == SlabPlace.NodePartial)));
            groups.Add(("node full", map.Slabs.Where(s => s.Place == SlabPlace.NodeFull)));
            groups.Add(("full (no list)", map.Slabs.Where(s => s.Place == SlabPlace.Full)));

            foreach (var (title, slabs) in groups)
                foreach (SlabView slab in slabs)
                {
                    if (objects.HasList)
                        y += ArrowRoom;   // room above the slots for the list's arrows
                    var g = new XElement(Svg + "g", new XAttribute("class", "slab"),
                        new XAttribute("data-place", slab.Place.ToString()), new XAttribute("data-page", SlabMapView.Pfn(kernel, slab.Address)));
                    g.Add(Text(8, y + 15, title, 13, "bold"));
                    g.Add(Text(8, y + 31, $"page {SlabMapView.Pfn(kernel, slab.Address)}, {slab.Allocated}/{slab.Slots.Count} in use", 11, null));
                    foreach (SlotView slot in slab.Slots)
                    {
                        double x = Left + slot.Index % PerRow * (Cell + Gap);
                        double top = y + slot.Index / PerRow * (Cell + Gap);
                        string fill = !slot.Free ? InUse : slot.OnCpuFreelist ? CpuFree : SlabFree;
                        string state = !slot.Free ? "in-use" : slot.OnCpuFreelist ? "cpu-free" : "slab-free";
                        string label = !slot.Free
                            ? objects.CanDescribe ? objects.Describe(slot.Address) : "in use"
                            : $"free, next allocation no. {NextRank(slab, slot)}";
                        var rect = new XElement(Svg + "rect", A("x", x), A("y", top), A("width", Cell), A("height", Cell),
                            new XAttribute("fill", fill), new XAttribute("shape-rendering", "crispEdges"),
                            new XAttribute("class", "slot " + state), new XAttribute("data-slot", slot.Index),
                            new XElement(Svg + "title", $"slot {slot.Index}: {label}"));
                        g.Add(rect);
                        string inside = !slot.Free
                            ? objects.CanDescribe ? objects.Describe(slot.Address).Split(' ')[0] : ""
                            : NextRank(slab, slot).ToString(CultureInfo.InvariantCulture);
                        if (inside.Length > 0 && inside.Length <= 3)
                            g.Add(new XElement(Svg + "text", A("x", x + Cell / 2.0), A("y", top + Cell / 2.0 + 4),
                                new XAttribute("text-anchor", "middle"), new XAttribute("font-family", "sans-serif"),
                                new XAttribute("font-size", 10), new XAttribute("fill", slot.Free ? "#37474f" : "#ffffff"), inside));
                        centre[slot.Address] = (x + Cell / 2.0, top + Cell / 2.0);
                    }
                    body.Add(g);
                    int rows = (slab.Slots.Count + PerRow - 1) / PerRow;
                    y += System.Math.Max(rows * (Cell + Gap), 36) + RowGap;
                }
            if (map.Slabs.Count == 0)
            {
                body.Add(Text(8, y + 15, "no slabs: the cache is empty", 13, null));
                y += 36;
            }

            if (objects.HasList)
            {
                // The module's list: an arrow from each object to the next, bowed so that arrows
                // between neighbours stay visible.
                var order = objects.ListOrder(map);
                var arrows = new XElement(Svg + "g", new XAttribute("class", "list"), new XAttribute("data-length", order.Count));
                for (int i = 0; i + 1 < order.Count; i++)
                {
                    var (x1, y1) = centre[order[i].Address];
                    var (x2, y2) = centre[order[i + 1].Address];
                    double bow = System.Math.Clamp(System.Math.Abs(x2 - x1) / 6, 12, ArrowRoom - 4);
                    double cx = (x1 + x2) / 2, cy = System.Math.Min(y1, y2) - bow;
                    arrows.Add(new XElement(Svg + "path",
                        new XAttribute("d", F($"M {x1} {y1 - 6} Q {cx} {cy} {x2} {y2 - 8}")),
                        new XAttribute("fill", "none"), new XAttribute("stroke", ListArrow), new XAttribute("stroke-width", 2),
                        new XAttribute("marker-end", "url(#arrow)"), new XAttribute("class", "link"),
                        new XElement(Svg + "title", $"list: {objects.Describe(order[i].Address)} -> {objects.Describe(order[i + 1].Address)}")));
                }
                body.Add(arrows);
            }

            int width = Left + PerRow * (Cell + Gap) + 20;
            var defs = new XElement(Svg + "defs",
                new XElement(Svg + "marker", new XAttribute("id", "arrow"), new XAttribute("viewBox", "0 0 10 10"),
                    new XAttribute("refX", 9), new XAttribute("refY", 5), new XAttribute("markerWidth", 7), new XAttribute("markerHeight", 7),
                    new XAttribute("orient", "auto-start-reverse"),
                    new XElement(Svg + "path", new XAttribute("d", "M 0 0 L 10 5 L 0 10 z"), new XAttribute("fill", ListArrow))));
            return new XElement(Svg + "svg", new XAttribute("width", width), new XAttribute("height", y + 10),
                new XAttribute("viewBox", $"0 0 {width} {y + 10}"), new XAttribute("data-cache", cache.Name),
                new XAttribute("role", "img"), defs, body);
        }

        /// <summary>The picture as a standalone .svg file's text.</summary>
        public static string Document(XElement svg) => "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + svg + "\n";

        /// <summary>One slot of a cache as a bar of its regions, each as wide as its bytes, with offsets.</summary>
        public static XElement DrawLayout(KernelVersion version, string name, SlabLayout l)
        {
            const int Width = 900, BarTop = 50, BarHeight = 40;
            var body = new List<XElement> { Text(8, 20, $"{name}: one slot of {l.Size} bytes (s->size)", 15, "bold") };
            double scale = (Width - 20) / (double)l.Size;
            int labelRow = 0;
            foreach (LayoutRegion r in ObjectLayout.Regions(version, l))
            {
                string colour = r.Name switch
                {
                    "Object" => InUse,
                    "Free pointer" => CpuFree,
                    _ when r.Name.Contains("Redzone", System.StringComparison.Ordinal) => "#e53935",
                    _ when r.Name.StartsWith("Tracking", System.StringComparison.Ordinal) => "#fdd835",
                    _ => SlabFree,
                };
                double x = 10 + r.Start * scale, w = r.Length * scale;
                body.Add(new XElement(Svg + "rect", A("x", x), A("y", BarTop), A("width", w), A("height", BarHeight),
                    new XAttribute("fill", colour), new XAttribute("stroke", "#ffffff"), new XAttribute("class", "region"),
                    new XAttribute("data-region", r.Name), new XElement(Svg + "title", $"{r.Name} ({r.Field}): bytes {r.Start}-{r.End - 1}, {r.Meaning}")));
                body.Add(Text(x + 2, BarTop + BarHeight + 14, r.Start.ToString(CultureInfo.InvariantCulture), 10, null));
                // Labels take turns on three rows, so that narrow regions' names do not collide.
                body.Add(Text(x + 2, BarTop + BarHeight + 32 + labelRow * 16, $"{r.Name} ({r.Length})", 12, null));
                labelRow = (labelRow + 1) % 3;
            }
            body.Add(Text(Width - 10, BarTop + BarHeight + 14, l.Size.ToString(CultureInfo.InvariantCulture), 10, null));
            int height = BarTop + BarHeight + 32 + 3 * 16;
            return new XElement(Svg + "svg", new XAttribute("width", Width + 20), new XAttribute("height", height),
                new XAttribute("viewBox", $"0 0 {Width + 20} {height}"), new XAttribute("data-cache", name), new XAttribute("role", "img"), body);
        }

        // 1 for the next object to be allocated from this slab, 2 for the one after, ...
        private static int NextRank(SlabView slab, SlotView slot) =>
            slot.OnCpuFreelist ? slot.FreelistPosition + 1
                : slab.Slots.Count(s => s.Free && s.OnCpuFreelist) + slot.FreelistPosition + 1;

        private static IEnumerable<XElement> Legend(int x, int y, bool list)
        {
            var items = new List<(string Colour, string Text)> { (InUse, "in use (simple_cache: its id)"),
                (CpuFree, "free, on the CPU's freelist"), (SlabFree, "free, on the slab's freelist (numbers: allocation order)") };
            foreach (var (colour, text) in items)
            {
                yield return new XElement(Svg + "rect", A("x", x), A("y", y - 11), A("width", 14), A("height", 14), new XAttribute("fill", colour));
                yield return Text(x + 19, y, text, 12, null);
                x += 26 + text.Length * 6;
            }
            if (list)
            {
                yield return new XElement(Svg + "path", new XAttribute("d", F($"M {x} {y - 4} L {x + 24} {y - 4}")),
                    new XAttribute("stroke", ListArrow), new XAttribute("stroke-width", 2), new XAttribute("marker-end", "url(#arrow)"));
                yield return Text(x + 30, y, "the module's list, head to tail", 12, null);
            }
        }

        private static XElement Text(double x, double y, string text, int size, string weight)
        {
            var e = new XElement(Svg + "text", A("x", x), A("y", y), new XAttribute("font-family", "sans-serif"),
                new XAttribute("font-size", size), text);
            if (weight != null)
                e.Add(new XAttribute("font-weight", weight));
            return e;
        }

        private static XAttribute A(string name, double value) => new(name, value.ToString("0.##", CultureInfo.InvariantCulture));

        private static string F(System.FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
    }
}
