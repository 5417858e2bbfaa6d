// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache run --html FILE: one self-contained HTML page of a whole session. For each step:
// the command, what it printed, the kernel log lines it caused, and a picture (SlabSvg) of each
// cache that a module created (kmalloc caches are left out) as it is after the step. No script,
// no external file: the page opens anywhere, and prints.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using SimpleCache.Model;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;

namespace SimpleCache.Cli
{
    /// <summary>Collects a session's steps and writes them as one HTML page.</summary>
    public sealed class HtmlReport
    {
        private readonly ModelKernel _kernel;
        private readonly string _title;
        private readonly StringBuilder _steps = new();
        private readonly List<string> _log = new();
        private int _count;

        /// <summary>A report of a session on <paramref name="kernel"/>; it listens to the kernel log from now on.</summary>
        public HtmlReport(ModelKernel kernel, string title)
        {
            _kernel = kernel;
            _title = title;
            kernel.Log.Logged += record =>
            {
                lock (_log)
                    _log.Add(record.Render());
            };
        }

        /// <summary>Records one step: the command, its output and status, the log lines since the last step, the caches now.</summary>
        public void Step(string command, string output, int status)
        {
            string[] log;
            lock (_log)
            {
                log = _log.ToArray();
                _log.Clear();
            }
            _count++;
            var s = _steps;
            s.Append($"<section class=\"step\" id=\"step-{_count}\">\n");
            s.Append($"<h2><span class=\"n\">{_count}</span> <code>$ {H(command)}</code>{(status != 0 ? $" <span class=\"status\">exit {status}</span>" : "")}</h2>\n");
            if (output.Trim().Length > 0)
                s.Append($"<pre class=\"output\">{H(output.TrimEnd('\n'))}</pre>\n");
            // The kernel log, folded when it is long.
            if (log.Length > 0)
                s.Append($"<details class=\"log\"{(log.Length <= 12 ? " open" : "")}><summary>kernel log ({log.Length} line{(log.Length == 1 ? "" : "s")})</summary>" +
                    $"<pre>{H(string.Join("\n", log))}</pre></details>\n");
            var caches = _kernel.Slab.Caches.Where(c => !c.Name.StartsWith("kmalloc-", StringComparison.Ordinal)).ToList();
            if (caches.Count == 0)
                s.Append("<p class=\"none\">No module cache exists (kmalloc caches are not drawn).</p>\n");
            foreach (SlabCache cache in caches)
                s.Append($"<figure>{SlabSvg.Draw(_kernel, cache)}</figure>\n");
            s.Append("</section>\n");
        }

        /// <summary>The whole page.</summary>
        public string Page() =>
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
            $"<title>{H(_title)}</title>\n<style>\n{Css}</style>\n</head>\n<body>\n" +
            $"<h1>{H(_title)}</h1>\n<p class=\"intro\">Each step shows the command, what it printed, the kernel log lines it caused, " +
            "and every cache a module created, slab by slab, as SLUB holds them after the step. Green slots hold objects " +
            "(simple_cache's show their id), blue ones are free on the CPU's lockless freelist, grey ones free on the slab's " +
            "own freelist; the numbers in free slots are the order in which the next allocations take them. The orange arrows " +
            "are the module's list, head to tail: its order is not the slab's.</p>\n" +
            _steps + "</body>\n</html>\n";

        private const string Css = """
            body { font-family: sans-serif; margin: 24px; color: #212121; max-width: 1100px; }
            h1 { font-size: 22px; }
            h2 { font-size: 16px; margin: 0 0 8px 0; }
            .n { display: inline-block; min-width: 24px; color: #757575; }
            .status { color: #c62828; font-weight: normal; }
            .step { border-top: 1px solid #e0e0e0; padding: 14px 0; }
            pre { background: #f5f5f5; padding: 8px; overflow-x: auto; font-size: 12px; margin: 4px 0; }
            .log pre { background: #fff8e1; }
            summary { font-size: 12px; color: #757575; cursor: pointer; }
            figure { margin: 8px 0; }
            .none, .intro { color: #616161; font-size: 13px; }

            """;

        private static string H(string text) => WebUtility.HtmlEncode(text);
    }

    /// <summary>A writer that passes text on and keeps a copy of what came since the last <see cref="Take"/>.</summary>
    internal sealed class TeeWriter : TextWriter
    {
        private readonly TextWriter _to;
        private readonly StringBuilder _copy = new();

        public TeeWriter(TextWriter to) => _to = to;

        public override Encoding Encoding => _to.Encoding;

        public override void Write(char value)
        {
            _to.Write(value);
            _copy.Append(value);
        }

        public override void Write(string value)
        {
            _to.Write(value);
            _copy.Append(value);
        }

        /// <summary>The text written since the last call.</summary>
        public string Take()
        {
            string text = _copy.ToString();
            _copy.Clear();
            return text;
        }
    }
}
