// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// run --follow's slabtop: while a script runs, slabtop follows it. In a terminal, the top of
// slabtop (its summary and the biggest caches) stays at the bottom of the screen and is redrawn
// after each command, as slabtop's own refresh would; the commands' output and the kernel's
// messages scroll above it. Piped, there is no screen to redraw: after each command, the rows
// of slabtop that changed are printed, "  slabtop | " first, so a log shows each cache's growth.

using System.Collections.Generic;
using System.IO;
using System.Linq;
using SimpleCache.Model;

namespace SimpleCache.Cli
{
    internal sealed class SlabtopFollow
    {
        private const int Rows = 8;
        private readonly ModelKernel _kernel;
        private readonly TextWriter _out;
        private readonly bool _terminal;
        private readonly Dictionary<string, string> _shown = new();
        private int _footer;

        public SlabtopFollow(ModelKernel kernel, TextWriter output, bool terminal)
        {
            _kernel = kernel;
            _out = output;
            _terminal = terminal;
        }

        /// <summary>Before a command: in a terminal, take the footer away (cursor up, clear to the end).</summary>
        public void BeforeStep()
        {
            if (_terminal && _footer > 0)
                _out.Write($"\u001b[{_footer}F\u001b[J");
            _footer = 0;
        }

        /// <summary>After a command: draw the footer, or print the rows that changed.</summary>
        public void AfterStep()
        {
            string[] top = Slabtop.Render(_kernel.Slab.SlabinfoText(), 'o', out _).TrimEnd('\n').Split('\n');
            // Lines 0-4 are the summary, 5 is empty, 6 the headings, then one row per cache.
            string[] rows = top.Skip(7).ToArray();
            if (_terminal)
            {
                var footer = new List<string> { "", "---- slabtop (model, refreshed after each command) ----" };
                footer.AddRange(top.Take(5));
                footer.Add(top[6].TrimEnd());
                footer.AddRange(rows.Take(Rows).Select(r => r.TrimEnd()));
                foreach (string line in footer)
                    _out.WriteLine(line);
                _footer = footer.Count;
                return;
            }
            foreach (string row in rows)
            {
                string name = row.Split(' ', System.StringSplitOptions.RemoveEmptyEntries)[^1];   // the last column; names have no spaces
                if (_shown.TryGetValue(name, out string before) && before == row)
                    continue;
                if (!_shown.ContainsKey(name) && row.TrimStart().StartsWith("0 ", System.StringComparison.Ordinal))
                {
                    _shown[name] = row;   // an empty cache appearing is not news
                    continue;
                }
                _shown[name] = row;
                _out.WriteLine($"  slabtop | {row.TrimEnd()}");
            }
        }
    }
}
