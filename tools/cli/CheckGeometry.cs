// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache check-geometry --kernel V --cpus N [--tag T] FILE|-
//
// Reads the "GEOM" and "SLABINFO" lines that tests/vm/guest/geometry.sh prints in the VM (what
// the real kernel made of each cache of tests/kernel/slab_matrix.c) and compares each figure
// with the model's SlabGeometry, and each cache the kernel refused (REFUSED, REFUSAL) with the
// model's refusal. One PASS or FAIL line per cache; exit 1 if any differs. tests/model's
// GeometryRecordTests judge the VMs' recorded lines (tests/model/data/geometry/) the same way.

using System;
using System.CommandLine;
using System.Collections.Generic;
using System.IO;
using System.Text.RegularExpressions;
using SimpleCache.Model.Mm;

namespace SimpleCache.Cli
{
    public static partial class CheckGeometry
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
            List<Verdict> verdicts = Judge(version.Value, cpus, lines);
            foreach (Verdict v in verdicts)
                Console.WriteLine($"{(v.Pass ? "PASS" : "FAIL")} [{tag}] geometry of {v.Cache}: {v.Text}");
            if (verdicts.Count == 0)
            {
                Console.WriteLine($"FAIL [{tag}] geometry: no GEOM lines to check");
                return 1;
            }
            return verdicts.TrueForAll(v => v.Pass) ? 0 : 1;
        }

        /// <summary>One cache's verdict: whether the model agrees with the kernel, and in what.</summary>
        public readonly record struct Verdict(string Cache, bool Pass, string Text);

        /// <summary>
        /// Judges every cache the lines describe: a GEOM line (with its SLABINFO row) for each
        /// cache the kernel made, a REFUSED line (with the kernel's REFUSAL warning) for each it
        /// refused. The model must make the same geometry, or refuse the same caches with the
        /// same words.
        /// </summary>
        public static List<Verdict> Judge(KernelVersion version, int cpus, IEnumerable<string> lines)
        {
            var slabinfo = new Dictionary<string, string[]>();   // objsize, objperslab, pagesperslab: columns 4 to 6
            var refusals = new Dictionary<string, string>();
            var geometry = new List<string[]>();
            var refused = new List<string>();
            foreach (string line in lines)
            {
                string[] w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (w.Length >= 7 && w[0] == "SLABINFO")
                    slabinfo[w[1]] = w[4..7];
                else if (w.Length >= 7 && w[0] == "GEOM")
                    geometry.Add(w);
                else if (w.Length == 2 && w[0] == "REFUSED")
                    refused.Add(w[1]);
                else if (w.Length >= 2 && w[0] == "REFUSAL" && RefusalRegex().Match(line) is { Success: true } r)
                    refusals[r.Groups[1].Value] = line["REFUSAL ".Length..];
            }
            var verdicts = new List<Verdict>();
            foreach (string[] g in geometry)
            {
                if (!slabinfo.TryGetValue(g[1], out string[] info))
                {
                    verdicts.Add(new(g[1], false, "no line in /proc/slabinfo (merged into another cache?)"));
                    continue;
                }
                if (Parse(g[1]) is not var (size, align, flags, ctor))
                {
                    verdicts.Add(new(g[1], false, "cannot read the cache name"));
                    continue;
                }
                SlabLayout l = SlabGeometry.Calculate(version, size, align, flags, ctor, cpus);
                long[] real = Array.ConvertAll([.. g[2..7], .. info], long.Parse);
                long[] model = l == null ? new long[8]
                    : [l.ObjectSize, l.Size, l.ObjectsPerSlab, l.Order, l.Align, l.Size, l.ObjectsPerSlab, l.PagesPerSlab];
                string[] names = ["object_size", "slab_size", "objs_per_slab", "order", "align", "objsize", "objperslab", "pagesperslab"];
                var diffs = new List<string>();
                if (l == null)
                    diffs.Add("the kernel made it, the model refuses it");
                else
                    for (int i = 0; i < names.Length; i++)
                        if (real[i] != model[i])
                            diffs.Add($"{names[i]} kernel {real[i]} model {model[i]}");
                verdicts.Add(diffs.Count == 0
                    ? new(g[1], true, $"{l.Size}-byte slots, {l.ObjectsPerSlab} per order-{l.Order} slab, align {l.Align}")
                    : new(g[1], false, string.Join("; ", diffs)));
            }
            foreach (string name in refused)
            {
                if (Parse(name) is not var (size, align, flags, ctor))
                {
                    verdicts.Add(new(name, false, "cannot read the cache name"));
                    continue;
                }
                SlabLayout l = SlabGeometry.Calculate(version, size, align, flags, ctor, cpus);
                string expected = SlabAllocator.CreateFailure(version, name, -22);
                if (l != null)
                    verdicts.Add(new(name, false, $"the kernel refused it, the model makes {l.Size}-byte slots of order {l.Order}"));
                else if (!refusals.TryGetValue(name, out string said))
                    verdicts.Add(new(name, false, "refused, but the kernel's warning is missing"));
                else if (said != expected)
                    verdicts.Add(new(name, false, $"the kernel says \"{said}\", the model \"{expected}\""));
                else
                    verdicts.Add(new(name, true, $"refused by both: {said}"));
            }
            return verdicts;
        }

        private static (uint Size, uint Align, CacheFlags Flags, bool Ctor)? Parse(string name)
        {
            Match m = NameRegex().Match(name);
            if (!m.Success)
                return null;
            return (uint.Parse(m.Groups[1].Value), uint.Parse(m.Groups[2].Value), (CacheFlags)uint.Parse(m.Groups[3].Value), m.Groups[4].Value == "1");
        }

        [GeneratedRegex(@"^REFUSAL \S+\((kcsm_[^)]*)\) failed with error -?\d+$")]
        private static partial Regex RefusalRegex();

        [GeneratedRegex(@"^kcsm_s(\d+)_a(\d+)_f(\d+)_c([01])$")]
        private static partial Regex NameRegex();
    }
}
