// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The shell's pictures of a cache: slabs, layout and slabtop, as a learner types them. (The CLI
// itself, its help, colour and .NET tool package, and slabtop against procps's own slabtop, are
// tested by tests/host/cli.sh.)

using System.IO;
using System.Linq;
using SimpleCache.Cli;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class CliTests
    {
        private static (Session Session, StringWriter Output) Shell(ModelKernel k)
        {
            var output = new StringWriter();
            return (new Session(k, output), output);
        }

        private static string Run(Session session, StringWriter output, string command, int status = 0)
        {
            output.GetStringBuilder().Clear();
            Assert.Equal(status, session.Execute(command, echo: false));
            return output.ToString();
        }

        [Fact]
        public void SlabsShowsEachObjectInItsSlotAndTheListInItsOwnOrder()
        {
            using var k = K.Boot(cpus: 2);
            var (session, output) = Shell(k);
            Assert.Contains("slabs: no cache named 'simple_cache' (the caches are the rows of /proc/slabinfo; insmod simple_cache.ko makes this one)",
                Run(session, output, "slabs", 1));
            Run(session, output, "taskset -c 1 insmod simple_cache.ko");
            Run(session, output, "taskset -c 1 echo add gamma > /proc/simple_cache");
            Run(session, output, "taskset -c 1 echo del 1 > /proc/simple_cache");
            string map = Run(session, output, "slabs");
            Assert.Contains("simple_cache: 64-byte objects in 128-byte slots, 32 per slab (order 0: 4096 bytes), 2 CPUs\n", map);
            Assert.Contains("  2 of 32 slots in use, in 1 slab\n", map);
            Assert.Contains("  CPU 0: no slab, no partial slabs\n", map);
            Assert.Matches(@"\n  CPU 1 slab  page \d+, frozen, 2 of 32 in use\n", map);
            // The slots as cells: two in use, the rest free.
            string cells = map.Split('\n').Single(l => l.StartsWith("    slots ")).Split(' ', System.StringSplitOptions.RemoveEmptyEntries)[1];
            Assert.Equal((32, 2), (cells.Length, cells.Count(c => c == '#')));
            // Each object in use is named in its slot, and the list runs 2 beta -> 3 gamma.
            var slots = System.Text.RegularExpressions.Regex.Matches(map, @"slot (\d+): (\d+ \w+)").ToDictionary(m => m.Groups[2].Value, m => int.Parse(m.Groups[1].Value));
            Assert.Equal(["2 beta", "3 gamma"], slots.Keys.Order());
            Assert.Equal('#', cells[slots["2 beta"]]);
            Assert.Equal('#', cells[slots["3 gamma"]]);
            Assert.Matches($@"the module's list, head to tail \(2 objects; not the slab's order\):\n    2 beta \(slot {slots["2 beta"]} of page \d+\) -> 3 gamma \(slot {slots["3 gamma"]} of page \d+\)\n", map);
            // The freed alpha's slot is first on the CPU's freelist: the next object goes there.
            Assert.Matches(@"\n    next   slot \d+, ", map);
            int next = int.Parse(System.Text.RegularExpressions.Regex.Match(map, @"next   slot (\d+)").Groups[1].Value);
            Run(session, output, "taskset -c 1 echo add delta > /proc/simple_cache");
            Assert.Contains($"slot {next}: 4 delta", Run(session, output, "slabs simple_cache"));
            // Plain text unless the session colours it.
            Assert.False(map.Contains('\u001b'), map.Replace("\u001b", "ESC"));
            var colourOutput = new StringWriter();
            Assert.Equal(0, new Session(k, colourOutput) { Colour = true }.Execute("slabs", echo: false));
            Assert.Contains("\u001b[", colourOutput.ToString());
        }

        [Fact]
        public void LayoutNamesEveryRegionOfTheSlot()
        {
            using var k = K.Boot(slubDebug: "FZPU");
            var (session, output) = Shell(k);
            Run(session, output, "insmod simple_cache.ko");
            string layout = Run(session, output, "layout simple_cache");
            Assert.Contains("simple_cache: one slot of 256 bytes (s->size), 16 slots per 4096-byte slab, 0 bytes left over\n", layout);
            string[] regions = ["Left Redzone", "Object", "Right Redzone", "Free pointer", "Tracking data (alloc)", "Tracking data (free)", "Object padding"];
            int at = 0;
            foreach (string region in regions)
            {
                at = layout.IndexOf(region, at, System.StringComparison.Ordinal);
                Assert.True(at >= 0, $"{region} missing or out of order in:\n{layout}");
            }
            Assert.Contains("slabs: no cache named 'kmalloc-3'", Run(session, output, "slabs kmalloc-3", 1));
            Assert.Contains("layout: no cache named 'nosuch'", Run(session, output, "layout nosuch", 1));
        }

        [Fact]
        public void SlabtopComputesProcpsFiguresAndSorts()
        {
            const string slabinfo = "slabinfo - version: 2.1\n" +
                "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n" +
                "simple_cache          36     64    128   32    1 : tunables    0    0    0 : slabdata      2      2      0\n" +
                "kmalloc-8k             0      0   8192    4    8 : tunables    0    0    0 : slabdata      0      0      0\n" +
                "kmalloc-8            512    512      8  512    1 : tunables    0    0    0 : slabdata      1      1      0\n";
            string top = Slabtop.Render(slabinfo, 'o', out string error);
            Assert.Null(error);
            // 36 + 512 of 64 + 512 objects; 3 slabs; 2 caches of 3 hold objects; 36*128 + 512*8 bytes
            // active of 64*128 + 512*8; average (64*128 + 512*8) / 576 = 21 bytes.
            Assert.Equal(
                " Active / Total Objects (% used)    : 548 / 576 (95.1%)\n" +
                " Active / Total Slabs (% used)      : 3 / 3 (100.0%)\n" +
                " Active / Total Caches (% used)     : 2 / 3 (66.7%)\n" +
                " Active / Total Size (% used)       : 8.50K / 12.00K (70.8%)\n" +
                " Minimum / Average / Maximum Object : 0.01K / 0.02K / 8.00K\n\n" +
                "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME                   \n" +
                "   512    512 100%    0.01K      1      512         4K kmalloc-8              \n" +
                "    64     36  56%    0.12K      2       32         8K simple_cache           \n" +
                "     0      0   0%    8.00K      0        4         0K kmalloc-8k             \n", top);
            string byName = Slabtop.Render(slabinfo, 'n', out _);
            Assert.Equal(["kmalloc-8", "kmalloc-8k", "simple_cache"], byName.Split('\n').Skip(7).Where(l => l.Length > 0).Select(l => l.Split(' ', System.StringSplitOptions.RemoveEmptyEntries)[^1]));
            string bySize = Slabtop.Render(slabinfo, 's', out _);
            Assert.Equal(["kmalloc-8k", "simple_cache", "kmalloc-8"], bySize.Split('\n').Skip(7).Where(l => l.Length > 0).Select(l => l.Split(' ', System.StringSplitOptions.RemoveEmptyEntries)[^1]));
            Assert.Null(Slabtop.Render("slabinfo - version: 1.1\n", 'o', out error));
            Assert.Contains("Numerical result out of range", error);
        }

        [Fact]
        public void SlabtopInTheShellReadsTheModelsSlabinfo()
        {
            using var k = K.Boot();
            var (session, output) = Shell(k);
            Run(session, output, "insmod simple_cache.ko");
            string top = Run(session, output, "slabtop -o -s a");
            Assert.Equal(Slabtop.Render(k.Slab.SlabinfoText(), 'a', out _), top);
            Assert.Matches(@"\n +32 +32 100%    0\.12K +1 +32 +4K simple_cache +\n", top);
            Assert.Contains("sh: slabtop: usage: slabtop [-o] [-s a|b|c|l|v|n|o|p|s|u]", Run(session, output, "slabtop -d 1", 2));
        }
    }
}
