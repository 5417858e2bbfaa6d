// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// What `slabs` and `layout` print: a cache's slabs as SLUB holds them (SlabCache.Map) and one
// slot's bytes (ObjectLayout.Regions), as text with Spectre.Console markup: coloured in a
// terminal, plain when piped (the caller picks, see Render).
//
//   simple_cache: 64-byte objects in 128-byte slots, 32 per slab (order 0: 4096 bytes), 2 CPUs
//     CPU 0 slab  page 37, frozen, 3 of 32 in use
//       slots  ###.............................   # in use, . free
//       in use slot 0: 1 alpha, slot 1: 2 beta, slot 2: 3 gamma
//       next   slot 3, 4, 5, ... (29 free, CPU freelist first)
//     CPU 1: no slab, no partial slabs
//     node partial list: empty
//     full slabs on no list: none
//     the module's list, head to tail: 1 alpha (slot 0 of page 37) -> 2 beta ...

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using SimpleCache.Model;
using SimpleCache.Model.Mm;
using Spectre.Console;

namespace SimpleCache.Cli
{
    /// <summary>Text pictures of a cache: its slabs and its slot layout.</summary>
    public static unsafe class SlabMapView
    {
        // Colours of a slot's state, the same in the text map, the SVG and the HTML page.
        internal const string InUseColour = "green";
        internal const string FreeColour = "grey";
        internal const string CpuFreeColour = "deepskyblue1";

        private static readonly System.Text.RegularExpressions.Regex s_escape = new(@"\u001b\[[0-9;?]*[A-Za-z]");

        /// <summary>
        /// Renders markup to text: with ANSI colours when <paramref name="colour"/>, else plain
        /// (markup stripped). Lines are never wrapped.
        /// </summary>
        public static string Render(Action<IAnsiConsole> draw, bool colour)
        {
            var text = new StringWriter();
            IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = colour ? AnsiSupport.Yes : AnsiSupport.No,
                ColorSystem = colour ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
                Out = new AnsiConsoleOutput(text),
                Interactive = InteractionSupport.No,
            });
            console.Profile.Width = 100_000;
            draw(console);
            // Tables pad every cell to its column's width: no line keeps trailing blanks. Plain
            // text is plain: no escape sequence gets through, whatever the console decided.
            string rendered = colour ? text.ToString() : StripEscapes(text.ToString());
            return string.Concat(rendered.Split('\n').Select((line, i) => (i == 0 ? "" : "\n") + line.TrimEnd(' ')));
        }

        /// <summary><paramref name="text"/> without terminal escape sequences.</summary>
        public static string StripEscapes(string text) => s_escape.Replace(text, "");

        /// <summary>The map of one cache, as `slabs CACHE` prints it.</summary>
        public static void Map(IAnsiConsole o, ModelKernel kernel, SlabCache cache)
        {
            CacheMap map = cache.Map();
            SlabLayout l = map.Layout;
            var objects = ModuleObjects.For(cache);
            o.MarkupLine($"[bold]{Esc(map.Name)}[/]: {l.ObjectSize}-byte objects in {l.Size}-byte slots, {l.ObjectsPerSlab} per slab " +
                $"(order {l.Order}: {l.SlabBytes} bytes), {map.Cpus} CPU{(map.Cpus == 1 ? "" : "s")}" +
                (cache.IsDebug ? ", slub_debug: no CPU slabs" : ""));
            o.MarkupLine($"  {map.Allocated} of {map.Slots} slots in use, in {map.Slabs.Count} slab{(map.Slabs.Count == 1 ? "" : "s")}");

            if (!cache.IsDebug)
                for (int cpu = 0; cpu < map.Cpus; cpu++)
                {
                    var mine = map.Slabs.Where(s => s.Cpu == cpu).ToList();
                    if (mine.Count == 0)
                        o.MarkupLine($"  CPU {cpu}: no slab, no partial slabs");
                    foreach (SlabView s in mine)
                        Slab(o, kernel, s, s.Place == SlabPlace.CpuSlab ? $"CPU {cpu} slab" : $"CPU {cpu} partial", objects);
                }
            Group(o, kernel, map, SlabPlace.NodePartial, "node partial list", objects);
            if (map.Slabs.Any(s => s.Place == SlabPlace.NodeFull) || (l.Flags & CacheFlags.StoreUser) != 0)
                Group(o, kernel, map, SlabPlace.NodeFull, "node full list", objects);
            Group(o, kernel, map, SlabPlace.Full, "full slabs on no list", objects);

            if (objects.HasList)
            {
                // Head to tail, four objects a line, at most 64 of them.
                var order = objects.ListOrder(map);
                if (order.Count == 0)
                    o.MarkupLine("  the module's list: empty");
                else
                {
                    o.MarkupLine($"  the module's list, head to tail ({order.Count} object{(order.Count == 1 ? "" : "s")}; not the slab's order):");
                    var items = order.Take(64).Select(x => $"{Esc(objects.Describe(x.Address))} (slot {x.Index} of page {Pfn(kernel, x.Slab)})").ToList();
                    for (int i = 0; i < items.Count; i += 4)
                        o.MarkupLine("    " + (i == 0 ? "" : "-> ") + string.Join(" -> ", items.Skip(i).Take(4)) +
                            (i + 4 >= items.Count && order.Count > items.Count ? $" -> ... (+{order.Count - items.Count})" : ""));
                }
            }
        }

        private static void Group(IAnsiConsole o, ModelKernel kernel, CacheMap map, SlabPlace place, string title, ModuleObjects objects)
        {
            var slabs = map.Slabs.Where(s => s.Place == place).ToList();
            if (slabs.Count == 0)
            {
                o.MarkupLine($"  {title}: {(place == SlabPlace.Full ? "none" : "empty")}");
                return;
            }
            o.MarkupLine($"  {title}: {slabs.Count} slab{(slabs.Count == 1 ? "" : "s")}");
            foreach (SlabView s in slabs)
                Slab(o, kernel, s, "  slab", objects);
        }

        // One slab: its header, its slots as a row of cells, who is in them, and the freelist.
        private static void Slab(IAnsiConsole o, ModelKernel kernel, SlabView s, string title, ModuleObjects objects)
        {
            o.MarkupLine($"  {title}  page {Pfn(kernel, s.Address)}{(s.Frozen ? ", frozen" : "")}, {s.Allocated} of {s.Slots.Count} in use");
            const int PerRow = 64;
            for (int row = 0; row * PerRow < s.Slots.Count; row++)
            {
                var cells = new StringBuilder();
                foreach (SlotView slot in s.Slots.Skip(row * PerRow).Take(PerRow))
                    cells.Append(!slot.Free ? $"[{InUseColour}]#[/]" : slot.OnCpuFreelist ? $"[{CpuFreeColour}].[/]" : $"[{FreeColour}].[/]");
                o.MarkupLine($"    {(row == 0 ? "slots " : "      ")} {cells}{(row == 0 ? "   # in use, . free" : "")}");
            }
            var inUse = s.Slots.Where(x => !x.Free).ToList();
            if (inUse.Count > 0 && objects.CanDescribe)
                o.MarkupLine("    in use slot " + Shorten(inUse.Select(x => $"{x.Index}: {Esc(objects.Describe(x.Address))}"), 8, ", slot "));
            var free = s.Slots.Where(x => x.Free).OrderBy(x => x.OnCpuFreelist ? 0 : 1).ThenBy(x => x.FreelistPosition).ToList();
            if (free.Count > 0)
            {
                string which = free.Any(x => x.OnCpuFreelist)
                    ? free.Any(x => !x.OnCpuFreelist) ? ", the CPU's freelist, then the slab's" : ", from the CPU's freelist"
                    : "";
                o.MarkupLine($"    next   slot {Shorten(free.Select(x => x.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)), 12, ", ")} " +
                    $"({free.Count} free{which})");
            }
        }

        private static string Shorten(IEnumerable<string> items, int max, string separator)
        {
            var list = items.ToList();
            return string.Join(separator, list.Take(max)) + (list.Count > max ? $", ... (+{list.Count - max})" : "");
        }

        /// <summary>A slab's first page frame, counted from the start of the model's memory (deterministic, unlike addresses).</summary>
        internal static long Pfn(ModelKernel kernel, nint address) => ((byte*)address - kernel.Pages.Base) / PageAllocator.PageSize;

        /// <summary>One slot's bytes, region by region, as `layout CACHE` prints them.</summary>
        public static void Layout(IAnsiConsole o, KernelVersion version, string name, SlabLayout l)
        {
            o.MarkupLine($"[bold]{Esc(name)}[/]: one slot of {l.Size} bytes (s->size), {l.ObjectsPerSlab} slots per {l.SlabBytes}-byte slab" +
                $", {l.SlabBytes - l.ObjectsPerSlab * l.Size} bytes left over");
            var table = new Table().Border(TableBorder.Simple);
            table.AddColumn("offset");
            table.AddColumn(new TableColumn("bytes").RightAligned());
            table.AddColumn("region (mm/slub.c)");
            table.AddColumn("kernel field");
            table.AddColumn("what it is for");
            foreach (LayoutRegion r in ObjectLayout.Regions(version, l))
            {
                string colour = r.Name switch
                {
                    "Object" => InUseColour,
                    "Free pointer" => CpuFreeColour,
                    _ when r.Name.Contains("Redzone", StringComparison.Ordinal) => "red",
                    _ when r.Name.StartsWith("Tracking", StringComparison.Ordinal) => "yellow",
                    _ => FreeColour,
                };
                table.AddRow($"{r.Start,4}-{r.End - 1,-4}", r.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    $"[{colour}]{Esc(r.Name)}[/]", Esc(r.Field), Esc(r.Meaning));
            }
            o.Write(table);
        }

        internal static string Esc(string text) => Markup.Escape(text);
    }
}
