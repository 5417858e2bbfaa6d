// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// slabtop -o, as procps-ng 4.0.2 (Debian 12) prints it, from the text of /proc/slabinfo: the
// same parse (library/slabinfo.c, parse_slabinfo20()), the same figures (cache size = slabs *
// pages per slab * page size; use = (unsigned)(100 * (float)active / total)), the same summary
// and row formats (src/slabtop.c: print_summary(), print_headings(), print_details()) and the
// same sort keys (set_sort_stuff(): a b c l v n o p s u, descending except n; ties keep the
// file's order, as glibc's qsort_r, a merge sort, does). tests/host/slabtop.sh runs the real
// slabtop on the model's /proc/slabinfo and compares.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace SimpleCache.Cli
{
    /// <summary>procps's slabtop, once.</summary>
    public static class Slabtop
    {
        /// <summary>The sort keys and what they sort by (slabtop --help's words).</summary>
        public static readonly (char Key, string Meaning)[] SortKeys =
        [
            ('a', "number of active objects"),
            ('b', "objects per slab"),
            ('c', "cache size"),
            ('l', "number of slabs"),
            ('v', "(non display) number of active slabs"),
            ('n', "name"),
            ('o', "number of objects (the default)"),
            ('p', "(non display) pages per slab"),
            ('s', "object size"),
            ('u', "cache utilization"),
        ];

        private sealed record Row(string Name, uint Active, uint Objs, uint ObjSize, uint PerSlab, uint Pages, uint ActiveSlabs, uint Slabs)
        {
            public ulong CacheSize => (ulong)Slabs * Pages * 4096;
            public uint Use => Objs == 0 ? 0 : (uint)(100 * ((float)Active / Objs));
        }

        /// <summary>
        /// slabtop -o -s <paramref name="sort"/> of <paramref name="slabinfo"/>; null with
        /// <paramref name="error"/> set if the text is not /proc/slabinfo version 2.x.
        /// </summary>
        public static string Render(string slabinfo, char sort, out string error)
        {
            error = null;
            string[] lines = slabinfo.Split('\n');
            if (lines.Length == 0 || !lines[0].StartsWith("slabinfo - version: 2.", StringComparison.Ordinal))
            {
                error = "Unable to create slabinfo structure: Numerical result out of range";
                return null;
            }
            var rows = new List<Row>();
            foreach (string line in lines.Skip(1))
            {
                if (line.Length == 0 || line[0] == '#')
                    continue;
                string[] w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (w.Length < 16 || w[6] != ":" || w[7] != "tunables" || w[11] != ":" || w[12] != "slabdata")
                {
                    error = "Unable to create slabinfo structure: Numerical result out of range";
                    return null;
                }
                uint U(int i) => uint.Parse(w[i], CultureInfo.InvariantCulture);
                rows.Add(new Row(w[0], U(1), U(2), U(3), U(4), U(5), U(13), U(14)));
            }

            Func<Row, IComparable> key = char.ToLowerInvariant(sort) switch
            {
                'n' => r => r.Name,
                'a' => r => r.Active,
                's' => r => r.ObjSize,
                'b' => r => r.PerSlab,
                'p' => r => r.Pages,
                'l' => r => r.Slabs,
                'v' => r => r.ActiveSlabs,
                'c' => r => r.CacheSize,
                'u' => r => r.Use,
                _ => r => r.Objs,
            };
            // OrderBy is stable, as glibc's merge sort is. Names compare as strcoll() in the C
            // locale does: byte by byte.
            IEnumerable<Row> sorted = char.ToLowerInvariant(sort) == 'n'
                ? rows.OrderBy(r => r.Name, StringComparer.Ordinal)
                : rows.OrderByDescending(key);

            var o = new StringBuilder();
            ulong objs = 0, active = 0, slabs = 0, activeSlabs = 0, totalSize = 0, activeSize = 0;
            uint caches = 0, activeCaches = 0, min = int.MaxValue, max = 0;
            foreach (Row r in rows)
            {
                objs += r.Objs;
                active += r.Active;
                slabs += r.Slabs;
                activeSlabs += r.ActiveSlabs;
                totalSize += (ulong)r.Objs * r.ObjSize;
                activeSize += (ulong)r.Active * r.ObjSize;
                caches++;
                if (r.Objs != 0)
                    activeCaches++;
                min = Math.Min(min, r.ObjSize);
                max = Math.Max(max, r.ObjSize);
            }
            // The summary's counters are unsigned int in procps; the model's totals fit.
            uint avg = objs == 0 ? 0 : (uint)(totalSize / objs);
            o.Append(C($" {"Active / Total Objects (% used)",-35}: {(uint)active} / {(uint)objs} ({Pct(active, objs)}%)\n"));
            o.Append(C($" {"Active / Total Slabs (% used)",-35}: {(uint)activeSlabs} / {(uint)slabs} ({Pct(activeSlabs, slabs)}%)\n"));
            o.Append(C($" {"Active / Total Caches (% used)",-35}: {activeCaches} / {caches} ({Pct(activeCaches, caches)}%)\n"));
            o.Append(C($" {"Active / Total Size (% used)",-35}: {activeSize / 1024.0:F2}K / {totalSize / 1024.0:F2}K ({Pct(activeSize, totalSize)}%)\n"));
            o.Append(C($" {"Minimum / Average / Maximum Object",-35}: {min / 1024.0:F2}K / {avg / 1024.0:F2}K / {max / 1024.0:F2}K\n\n"));
            o.Append(C($"{"  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME",-78}\n"));
            foreach (Row r in sorted)
                o.Append(C($"{r.Objs,6} {r.Active,6} {r.Use,3}% {r.ObjSize / 1024.0,7:F2}K {r.Slabs,6} {r.PerSlab,8} {r.CacheSize / 1024,9}K {r.Name,-23}\n"));
            return o.ToString();
        }

        // printf's "%.1f" of 100.0 * a / b: a double division (nan when b is 0, as in C).
        private static string Pct(ulong a, ulong b) => b == 0 ? "-nan" : (100.0 * a / b).ToString("F1", CultureInfo.InvariantCulture);

        private static string C(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
    }
}
