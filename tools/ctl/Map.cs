// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache-ctl map: where the running kernel put simple_cache's objects, drawn from the
// module's root-only view (/proc/simple_cache_map: each object's slab, as %pK prints it, and
// its offset in the slab) and the cache's own figures in /sys/kernel/slab/simple_cache/
// (slab_size, objs_per_slab, order, slabs). The slot index is the offset divided by slab_size
// (a left red zone under slub_debug adds less than one slot to the offset). The same picture
// as `simple-cache slabs` draws from the model, from the real kernel's side: it sees only the
// module's objects, so a free slot and a slot that is not the module's look the same.
//
// It checks what it reads and exits 1, saying why, if the view and sysfs disagree: an offset
// that is not at a slot, a slot past objs_per_slab, two objects in one slot, more slabs than the
// cache has, or a row count that is not the view's own object count.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace SimpleCache.Ctl
{
    internal static class Map
    {
        public static int Run(string view, string sysfs)
        {
            string text;
            long slabSize, perSlab, order, slabs;
            try
            {
                text = File.ReadAllText(view);
                slabSize = Number(sysfs, "slab_size");
                perSlab = Number(sysfs, "objs_per_slab");
                order = Number(sysfs, "order");
                slabs = Number(sysfs, "slabs");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                Console.Error.WriteLine($"simple-cache-ctl map: {e.Message}");
                return e is UnauthorizedAccessException ? 13 : 2;
            }

            string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var problems = new List<string>();
            int declared = lines.Length > 0 && lines[0].StartsWith("objects: ", StringComparison.Ordinal)
                ? int.Parse(lines[0]["objects: ".Length..].Split(',')[0], CultureInfo.InvariantCulture) : -1;
            var rows = new List<(int Id, string Name, string Slab, long Offset)>();
            foreach (string line in lines.Skip(2))
            {
                string[] w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (w.Length != 4 || !int.TryParse(w[0], out int id) || !long.TryParse(w[3], out long offset))
                {
                    problems.Add($"cannot read the line '{line}'");
                    continue;
                }
                rows.Add((id, w[1], w[2], offset));
            }
            if (rows.Count != declared)
                problems.Add($"the view lists {rows.Count} objects but says it has {declared}");

            var bySlab = rows.GroupBy(r => r.Slab).ToList();
            bool restricted = rows.Count > 0 && rows.All(r => r.Slab.Trim('0').Length == 0);
            Console.WriteLine($"simple_cache in the running kernel: {rows.Count} objects; {slabSize}-byte slots (slab_size), " +
                $"{perSlab} per slab (objs_per_slab), order {order}; the cache has {slabs} slab{(slabs == 1 ? "" : "s")} (slabs)");
            if (restricted)
                Console.WriteLine("  every slab reads 0000000000000000: /proc/sys/kernel/kptr_restrict is 2 (or you lack CAP_SYSLOG " +
                    "with 1), so %pK hides the addresses and the objects cannot be grouped by slab");
            else
            {
                if (bySlab.Count > slabs)
                    problems.Add($"the objects are in {bySlab.Count} slabs, but the cache has {slabs}");
                foreach (var slab in bySlab)
                {
                    var cells = new char[perSlab];
                    Array.Fill(cells, '.');
                    var who = new List<string>();
                    foreach (var r in slab.OrderBy(r => r.Offset))
                    {
                        long index = r.Offset / slabSize;
                        if (index >= perSlab || r.Offset < 0)
                            problems.Add($"object {r.Id} is at offset {r.Offset}, past the slab's {perSlab} slots of {slabSize} bytes");
                        else if (cells[index] == '#')
                            problems.Add($"object {r.Id} is in slot {index}, which another object holds");
                        else
                        {
                            cells[index] = '#';
                            who.Add($"{index}: {r.Id} {r.Name}");
                        }
                    }
                    if (slab.Select(r => r.Offset % slabSize).Distinct().Count() > 1)
                        problems.Add($"the objects of slab {slab.Key} are not all at the same place in their slots");
                    Console.WriteLine($"  slab {slab.Key}: {slab.Count()} of {perSlab} slots hold the module's objects");
                    for (int row = 0; row * 64 < perSlab; row++)
                        Console.WriteLine($"    {(row == 0 ? "slots" : "     ")}  {new string(cells, row * 64, (int)Math.Min(64, perSlab - row * 64))}" +
                            (row == 0 ? "   # the module's object, . free or another's" : ""));
                    for (int i = 0; i < who.Count; i += 6)
                        Console.WriteLine($"    {(i == 0 ? "slot" : "    ")} {string.Join(", ", who.Skip(i).Take(6))}");
                }
                long empty = slabs - bySlab.Count;
                Console.WriteLine($"  slabs without any of the module's objects: {empty}");
                if (kptrHashed(rows))
                    Console.WriteLine("  (the slab values are hashed: kptr_restrict is 0; as root, echo 1 > /proc/sys/kernel/kptr_restrict shows the addresses)");
                Console.WriteLine("  the slots are not filled in order: Debian's kernels shuffle each new slab's freelist (CONFIG_SLAB_FREELIST_RANDOM)");
            }
            foreach (string p in problems)
                Console.WriteLine($"  PROBLEM: {p}");
            return problems.Count == 0 ? 0 : 1;

            static bool kptrHashed(List<(int Id, string Name, string Slab, long Offset)> r) =>
                r.Count > 0 && r.All(x => x.Slab.StartsWith("00000000", StringComparison.Ordinal));
        }

        private static long Number(string dir, string attribute) =>
            long.Parse(File.ReadAllText(Path.Combine(dir, attribute)).Split(' ', '\n')[0], CultureInfo.InvariantCulture);
    }
}
