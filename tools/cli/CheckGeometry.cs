// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache check-geometry --kernel V --cpus N [--tag T] FILE|-
//
// Reads the "GEOM" and "SLABINFO" lines that tests/vm/guest/geometry.sh prints in the VM (what
// the real kernel made of each cache of tests/kernel/slab_matrix.c) and compares each figure
// with the model's SlabGeometry. One PASS or FAIL line per cache; exit 1 if any differs.

using System;
using System.CommandLine;
using System.Collections.Generic;
using System.IO;
using System.Text.RegularExpressions;
using SimpleCache.Model.Mm;

namespace SimpleCache.Cli
{
    internal static partial class CheckGeometry
    {
        public static Command BuildCommand(Option<string> kernel)
        {
            var cpus = new Option<int>("--cpus") { Description = "CPUs the VM had", Required = true };
            var tag = new Option<string>("--tag") { Description = "A label for the PASS and FAIL lines (default: the kernel)" };
            var file = new Argument<string>("FILE") { Description = "The VM's GEOM and SLABINFO lines (- reads stdin)" };
            var command = new Command("check-geometry", "Compare the geometry a VM measured (tests/vm/guest/geometry.sh) with the model's.")
            {
                kernel, cpus, tag, file,
            };
            command.SetAction(r => Run(Program.ParseVersion(r.GetValue(kernel)), r.GetValue(cpus), r.GetValue(tag), r.GetValue(file)));
            return command;
        }

        public static int Run(KernelVersion? version, int cpus, string tag, string file)
        {
            tag ??= version == KernelVersion.V6_1 ? "6.1" : "6.12";

            var lines = new List<string>(file == "-" ? Program.ReadAll(Console.In) : File.ReadLines(file));
            // SLABINFO lines: the cache's /proc/slabinfo row; objsize, objperslab and pagesperslab are columns 4 to 6.
            var slabinfo = new Dictionary<string, string[]>();
            foreach (string line in lines)
            {
                string[] w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (w.Length >= 7 && w[0] == "SLABINFO")
                    slabinfo[w[1]] = w[4..7];
            }
            int passed = 0, failed = 0;
            foreach (string line in lines)
            {
                string[] g = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (g.Length < 7 || g[0] != "GEOM")
                    continue;
                if (!slabinfo.TryGetValue(g[1], out string[] info))
                {
                    Console.WriteLine($"FAIL [{tag}] geometry of {g[1]}: no line in /proc/slabinfo (merged into another cache?)");
                    failed++;
                    continue;
                }
                string[] w = [.. g[..7], .. info];
                Match m = NameRegex().Match(w[1]);
                if (!m.Success)
                {
                    Console.WriteLine($"FAIL [{tag}] geometry: cannot read the cache name '{w[1]}'");
                    failed++;
                    continue;
                }
                uint size = uint.Parse(m.Groups[1].Value), align = uint.Parse(m.Groups[2].Value);
                var flags = (CacheFlags)uint.Parse(m.Groups[3].Value);
                bool ctor = m.Groups[4].Value == "1";
                SlabLayout l = SlabGeometry.Calculate(version.Value, size, align, flags, ctor, cpus);
                long[] real = Array.ConvertAll(w[2..10], long.Parse);
                long[] model = l == null ? new long[8]
                    : [l.ObjectSize, l.Size, l.ObjectsPerSlab, l.Order, l.Align, l.Size, l.ObjectsPerSlab, l.PagesPerSlab];
                string[] names = ["object_size", "slab_size", "objs_per_slab", "order", "align", "objsize", "objperslab", "pagesperslab"];
                var diffs = new List<string>();
                for (int i = 0; i < names.Length; i++)
                    if (real[i] != model[i])
                        diffs.Add($"{names[i]} kernel {real[i]} model {model[i]}");
                if (diffs.Count == 0)
                {
                    Console.WriteLine($"PASS [{tag}] geometry of {w[1]}: {l.Size}-byte slots, {l.ObjectsPerSlab} per order-{l.Order} slab, align {l.Align}");
                    passed++;
                }
                else
                {
                    Console.WriteLine($"FAIL [{tag}] geometry of {w[1]}: {string.Join("; ", diffs)}");
                    failed++;
                }
            }
            if (passed + failed == 0)
            {
                Console.WriteLine($"FAIL [{tag}] geometry: no GEOM lines to check");
                return 1;
            }
            return failed == 0 ? 0 : 1;
        }


        [GeneratedRegex(@"^kcsm_s(\d+)_a(\d+)_f(\d+)_c([01])$")]
        private static partial Regex NameRegex();
    }
}
