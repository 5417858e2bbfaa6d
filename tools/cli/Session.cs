// SPDX-License-Identifier: MIT OR GPL-2.0-only
extern alias slab_bugs;
//
// A shell session in a model kernel: the commands a learner types on a real machine (insmod,
// rmmod, lsmod, modinfo, dmesg, cat, echo > file), with kmod's and util-linux's output, and a
// "| grep PATTERN" filter. Module files are found by name: simple_cache.ko is the model build of
// module/SimpleCache.cs, slab_bugs.ko that of tests/kernel/slab_bugs/SlabBugs.cs (the classic slab
// bugs on demand: what does the kernel do when I double free?).

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using SimpleCache.Model;
using SimpleCache.Model.Fs;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;
using SimpleCache.Registry;

namespace SimpleCache.Cli
{
    /// <summary>Runs shell-like commands against a model kernel.</summary>
    public sealed class Session
    {
        /// <summary>
        /// The commands <see cref="Run(List{string}, TextWriter)"/> understands, each with its
        /// usage: what <c>help</c> prints, what the CLI's usage shows, and what a command given
        /// the wrong words answers. Keep it in step with the cases of that switch.
        /// </summary>
        public static readonly (string Name, string Usage)[] Commands =
        [
            ("insmod", "insmod FILE [ARGS]"),
            ("rmmod", "rmmod NAME"),
            ("lsmod", "lsmod"),
            ("modinfo", "modinfo FILE"),
            ("dmesg", "dmesg [-c|-C] [-t] [-x] [-r]"),
            ("cat", "cat FILE"),
            ("ls", "ls DIR"),
            ("grep", "grep [-E] [-c] [-v] PATTERN FILE"),
            ("echo", "echo TEXT [> FILE]"),
            ("taskset", "taskset -c CPU COMMAND"),
            ("for", "for i in $(seq A [STEP] B); do COMMAND; done"),
            ("slabs", "slabs [CACHE]"),
            ("layout", "layout [CACHE]"),
            ("slabtop", "slabtop [-o] [-s a|b|c|l|v|n|o|p|s|u]"),
            ("simple-cache-ctl", "simple-cache-ctl list|add|del|rename|clear|write|battery|sequence|stress ..."),
        ];

        /// <summary>The help text: every command's usage, then the files there are.</summary>
        public static string Help
        {
            get
            {
                // The usages, comma-separated, wrapped before 100 columns.
                var text = new System.Text.StringBuilder();
                int column = 0;
                foreach (string item in Commands.Select(c => c.Usage + ",").Append("and COMMAND | grep ..."))
                {
                    if (column > 0 && column + 1 + item.Length > 100)
                    {
                        text.Append('\n');
                        column = 0;
                    }
                    else if (column > 0)
                    {
                        text.Append(' ');
                        column++;
                    }
                    text.Append(item);
                    column += item.Length;
                }
                return text + "\n" +
                    "Files: /proc/slabinfo, /proc/modules, /proc/simple_cache, /sys/kernel/slab/<cache>/...,\n" +
                    "/sys/kernel/debug/failslab/..., /sys/module/<module>/parameters/...\n";
            }
        }

        /// <summary>The brief's walk-through, as <c>make demo</c> runs it in the VM.</summary>
        public static readonly string[] BriefScript =
        [
            "modinfo simple_cache.ko",
            "insmod simple_cache.ko",
            "lsmod | grep -E '^(Module|simple_cache)'",
            "dmesg | grep CACHE",
            "grep -E '^(# name|simple_cache)' /proc/slabinfo",
            "rmmod simple_cache",
            "dmesg | grep CACHE",
        ];

        private readonly ModelKernel _kernel;
        private readonly TextWriter _out;

        /// <summary>Whether slabs, layout and slabtop colour their output (a terminal: yes; piped: no).</summary>
        public bool Colour { get; init; }
        private readonly Dictionary<string, ModuleImage> _files = new();

        /// <summary>
        /// A session on <paramref name="kernel"/>, writing to <paramref name="output"/>;
        /// simple_cache.ko is <paramref name="simpleCache"/> if given (an exercise's build), the
        /// model build of module/SimpleCache.cs if not.
        /// </summary>
        public Session(ModelKernel kernel, TextWriter output, ModuleImage simpleCache = null)
        {
            _kernel = kernel;
            _out = output;
            simpleCache ??= ModuleImage.FromAssembly(typeof(SimpleCache.SimpleCacheModule).Assembly);
            _files[simpleCache.Name + ".ko"] = simpleCache;
            // The bug demo (tests/kernel/slab_bugs): insmod slab_bugs.ko bug=double_free cache=plain.
            ModuleImage slabBugs = ModuleImage.FromAssembly(typeof(slab_bugs::SimpleCache.Bugs.SlabBugsModule).Assembly);
            _files[slabBugs.Name + ".ko"] = slabBugs;
        }

        /// <summary>Runs one command line; returns its exit status.</summary>
        public int Execute(string line, bool echo)
        {
            line = line.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                return 0;
            if (echo)
            {
                _out.WriteLine();
                _out.WriteLine($"$ {line}");
            }
            line = line.Replace("$?", _lastStatus.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return _lastStatus = ExecuteLine(line);
        }

        private int _lastStatus;   // $?

        private int ExecuteLine(string line)
        {
            // for VAR in $(seq FIRST [STEP] LAST); do COMMAND; done: COMMAND once per number, with
            // $VAR replaced (the one loop the scenarios need, in sh's own words).
            Match loop = Regex.Match(line, @"^for ([A-Za-z_]\w*) in \$\(seq (\d+)(?: (\d+))? (\d+)\); do (.+); done$");
            if (loop.Success)
            {
                int loopStatus = 0;
                long first = long.Parse(loop.Groups[2].Value), last = long.Parse(loop.Groups[4].Value);
                long step = loop.Groups[3].Success ? long.Parse(loop.Groups[3].Value) : 1;
                for (long i = first; step > 0 && i <= last; i += step)
                    loopStatus = Execute(loop.Groups[5].Value.Replace("$" + loop.Groups[1].Value, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), echo: false);
                return loopStatus;
            }
            if (line == "for" || line.StartsWith("for ", StringComparison.Ordinal))
            {
                _out.WriteLine("sh: only loops of the form 'for VAR in $(seq A [STEP] B); do COMMAND; done' run here");
                return 2;
            }
            string filter = null;
            int bar = line.IndexOf(" | ", StringComparison.Ordinal);
            if (bar >= 0)
            {
                filter = line[(bar + 3)..].Trim();
                line = line[..bar].Trim();
            }
            var output = new StringWriter();
            int status;
            List<string> words = Words(line);
            // Each command is a process of its own, as sh forks one (echo > FILE too: sh -c), named
            // as the program it runs (taskset execs its command: the process is that command's).
            using (ModelTask.Spawn(ProcessName(words)))
            {
                try
                {
                    status = Run(words, output);
                }
                catch (TaskKilledException e)
                {
                    // An oops killed the process: sh reports the signal, $? is 128 + the signal.
                    output.WriteLine(e.Signal == 11 ? "Segmentation fault" : e.Signal == 9 ? "Killed" : $"Killed by signal {e.Signal}");
                    status = e.ExitStatus;
                }
                catch (KernelPanicException e)
                {
                    output.WriteLine($"(the model kernel panicked: {e.Message})");
                    status = 1;
                }
            }
            string text = output.ToString();
            if (filter != null)
                (text, status) = Filter(text, filter, status);
            _out.Write(text);
            return status;
        }

        private static string ProcessName(List<string> words) => words switch
        {
            ["taskset", "-c", _, .. var command] when command.Count > 0 => ProcessName(command),
            [] or ["echo" or "for", ..] => "sh",
            _ => words[0],
        };

        private int Run(List<string> w, TextWriter o)
        {
            switch (w)
            {
                case []:
                    return 0;
                case ["help"]:
                    o.Write(Help);
                    return 0;
                case ["insmod", var file, .. var rest]:
                    if (!_files.TryGetValue(Path.GetFileName(file), out ModuleImage image))
                    {
                        o.WriteLine(Kmod.InsmodNoFile(file));
                        return 1;
                    }
                    int err = _kernel.Modules.Insmod(image, string.Join(' ', rest.Select(Quote)));
                    if (err != 0)
                    {
                        o.WriteLine(Kmod.InsmodFailed(file, err));
                        return 1;
                    }
                    return 0;
                case ["rmmod", var name]:
                    name = Path.GetFileNameWithoutExtension(name);
                    int rc = _kernel.Modules.Rmmod(name);
                    if (rc != 0)
                        o.WriteLine(Kmod.RmmodFailed(name, rc));
                    return rc == 0 ? 0 : 1;
                case ["lsmod"]:
                    o.Write(Kmod.Lsmod(_kernel.Modules));
                    return 0;
                case ["taskset", "-c", var list, .. var command] when command.Count > 0:
                    // Runs the command on one CPU, as busybox's taskset -c does with a new process.
                    if (!int.TryParse(list, out int cpu) || cpu < 0 || cpu >= _kernel.Options.Cpus)
                    {
                        o.WriteLine("taskset: can't set pid 0's affinity: Invalid argument");
                        return 1;
                    }
                    int previous = _kernel.Slab.CurrentCpu();
                    _kernel.Slab.MigrateTo(cpu);
                    try
                    {
                        return Run(command, o);
                    }
                    finally
                    {
                        _kernel.Slab.MigrateTo(previous);
                    }
                case ["taskset", ..]:
                    o.WriteLine("taskset: usage: taskset -c CPU COMMAND [ARGS]");
                    return 1;
                case ["modinfo", var file]:
                    if (!_files.TryGetValue(Path.GetFileName(file), out ModuleImage info))
                    {
                        o.WriteLine(Kmod.ModinfoNoFile(file));
                        return 1;
                    }
                    o.Write(Kmod.Modinfo(info, "/" + Path.GetFileName(file)));
                    return 0;
                case ["dmesg", .. var flags]:
                    return Dmesg(flags, o);
                case ["cat", var path]:
                    return Cat(path, o);
                case ["grep", .. var args] when args.Count >= 2:
                    string content = Read(args[^1], o, "grep");
                    if (content == null)
                        return 2;
                    (string matched, int status) = Filter(content, "grep " + string.Join(' ', args.SkipLast(1).Select(Quote)), 0);
                    o.Write(matched);
                    return status;
                case ["ls", var dir]:
                    return Cat(dir, o);
                case ["slabs"]:
                    return Slabs("simple_cache", o);
                case ["slabs", var cacheName]:
                    return Slabs(cacheName, o);
                case ["layout"]:
                    return Layout("simple_cache", o);
                case ["layout", var cacheName]:
                    return Layout(cacheName, o);
                case ["slabtop", .. var args] when SlabtopSort(args) is char sort:
                    string top = Slabtop.Render(_kernel.Slab.SlabinfoText(), sort, out string topError);
                    o.Write(top ?? $"slabtop: {topError}\n");
                    return top == null ? 1 : 0;
                case ["simple-cache-ctl" or "/simple-cache-ctl", "map", ..]:
                    o.WriteLine("simple-cache-ctl: map reads the real kernel's /proc/simple_cache_map; in the model, slabs simple_cache shows the same");
                    return 2;
                case ["simple-cache-ctl" or "/simple-cache-ctl", .. var ctl]:
                    // tools/ctl's commands on the model's /proc/simple_cache (tests/registry/CtlCommands.cs).
                    return CtlCommands.Run(new ModelRegistry(_kernel), [.. ctl], o, o);
                case ["echo", .. var words]:
                    int gt = words.IndexOf(">");
                    if (gt < 0)
                    {
                        o.WriteLine(string.Join(' ', words));
                        return 0;
                    }
                    if (gt != words.Count - 2)
                    {
                        o.WriteLine("sh: echo: usage: echo VALUE > FILE");
                        return 2;
                    }
                    int werr = _kernel.Fs.Write(words[^1], string.Join(' ', words.Take(gt)));
                    if (werr != 0)
                    {
                        o.WriteLine($"sh: write error: {Procfs.StrError(werr)}");
                        return 1;
                    }
                    return 0;
                default:
                    string usage = Commands.FirstOrDefault(c => c.Name == w[0]).Usage;
                    if (usage != null)
                    {
                        o.WriteLine($"sh: {w[0]}: usage: {usage}");
                        return 2;
                    }
                    o.WriteLine($"sh: {w[0]}: not found (try help)");
                    return 127;
            }
        }

        // slabtop's options here: -o (once; the shell's slabtop always runs once) and -s KEY;
        // null (a usage error) for anything else.
        private static char? SlabtopSort(List<string> args)
        {
            char sort = 'o';
            for (int i = 0; i < args.Count; i++)
            {
                switch (args[i])
                {
                    case "-o" or "--once":
                        break;
                    case "-s" or "--sort" when i + 1 < args.Count && args[i + 1].Length > 0:
                        sort = args[++i][0];
                        break;
                    case var a when a.StartsWith("-s", StringComparison.Ordinal) && a.Length > 2:
                        sort = a[2];
                        break;
                    case var a when a.StartsWith("--sort=", StringComparison.Ordinal) && a.Length > 7:
                        sort = a[7];
                        break;
                    default:
                        return null;
                }
            }
            return sort;
        }

        private SlabCache FindCache(string name, TextWriter o, string tool)
        {
            SlabCache cache = _kernel.Slab.Find(name);
            if (cache == null)
                o.WriteLine($"{tool}: no cache named '{name}' (the caches are the rows of /proc/slabinfo{(name == "simple_cache" ? "; insmod simple_cache.ko makes this one" : "")})");
            return cache;
        }

        private int Slabs(string name, TextWriter o)
        {
            SlabCache cache = FindCache(name, o, "slabs");
            if (cache == null)
                return 1;
            o.Write(SlabMapView.Render(console => SlabMapView.Map(console, _kernel, cache), Colour));
            return 0;
        }

        private int Layout(string name, TextWriter o)
        {
            SlabCache cache = FindCache(name, o, "layout");
            if (cache == null)
                return 1;
            o.Write(SlabMapView.Render(console => SlabMapView.Layout(console, _kernel.Options.Version, cache.Name, cache.Layout), Colour));
            return 0;
        }

        // util-linux 2.38's dmesg (Debian 12), for the options this shell knows: -c (read and
        // clear), -C (clear), -t (no timestamps), -x (decode facility and level, "kern  :info  : "),
        // -r (raw: the syslog priority "<6>" and the timestamp). Its table of mutually exclusive
        // options (dmesg.c's excl[]) makes -r refuse -c, -C and -t.
        private static readonly string[] s_levelNames = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];

        private int Dmesg(List<string> args, TextWriter o)
        {
            var flags = new HashSet<char>();
            foreach (string arg in args)
            {
                string letters = arg switch
                {
                    "--read-clear" => "c", "--clear" => "C", "--notime" => "t", "--decode" => "x", "--raw" => "r",
                    _ when arg.Length > 1 && arg[0] == '-' && arg[1] != '-' => arg[1..],
                    _ => null,
                };
                if (letters == null || letters.Any(c => "cCtxr".IndexOf(c) < 0))
                {
                    o.WriteLine($"dmesg: unrecognized option '{arg}' (this shell knows -c, -C, -t, -x, -r)");
                    return 1;
                }
                flags.UnionWith(letters);
            }
            if (flags.Contains('r') && (flags.Contains('c') || flags.Contains('C')))
            {
                o.WriteLine("dmesg: mutually exclusive arguments: --clear --console-off --console-on --read-clear --console-level --raw");
                return 1;
            }
            if (flags.Contains('r') && flags.Contains('t'))
            {
                o.WriteLine("dmesg: mutually exclusive arguments: --raw --notime");
                return 1;
            }
            IReadOnlyList<LogRecord> records = flags.Contains('C') ? [] : flags.Contains('c') ? _kernel.Log.ReadClear() : _kernel.Log.Read();
            if (flags.Contains('C'))
                _kernel.Log.Clear();
            foreach (LogRecord r in records)
            {
                // pr_err("...\n\n"): the kernel keeps the second newline inside the record, and dmesg
                // prints it as it is, an empty line without prefix or timestamp (6.1 and 6.12,
                // util-linux 2.38); the model's log stores that line as an empty record.
                if (r.Text.Length == 0)
                {
                    o.WriteLine();
                    continue;
                }
                // The kernel's records are facility 0, "kern"; the priority is facility * 8 + level.
                string prefix = flags.Contains('r') ? $"<{(int)r.Level}>"
                    : flags.Contains('x') ? $"{"kern",-6}:{s_levelNames[(int)r.Level],-6}: " : "";
                o.WriteLine(prefix + (flags.Contains('t') ? r.Text : r.Render()));
            }
            return 0;
        }

        private int Cat(string path, TextWriter o)
        {
            string text = Read(path, o, "cat");
            if (text == null)
                return 1;
            o.Write(text);
            return 0;
        }

        private string Read(string path, TextWriter o, string tool)
        {
            string text = _kernel.Fs.Read(path, out int err);
            if (text == null)
                o.WriteLine($"{tool}: {path}: {Procfs.StrError(err)}");
            return text;
        }

        // "grep [-E] [-c] [-v] PATTERN" as a filter; exit 1 when nothing matches, as grep does.
        private static (string Text, int Status) Filter(string text, string filter, int status)
        {
            List<string> w = Words(filter);
            if (w.Count == 0 || w[0] != "grep")
                return ($"sh: only '| grep' is supported here, not '| {filter}'\n", 2);
            bool count = w.Contains("-c"), invert = w.Contains("-v");
            string pattern = w.Last(x => !x.StartsWith('-') || x == w[^1]);
            if (pattern == "grep")
                return ("grep: no pattern\n", 2);
            var regex = new Regex(pattern);
            var lines = text.Split('\n').SkipLast(text.EndsWith('\n') ? 1 : 0).Where(l => regex.IsMatch(l) != invert).ToList();
            string result = count ? $"{lines.Count}\n" : string.Concat(lines.Select(l => l + "\n"));
            return (result, lines.Count > 0 ? 0 : 1);
        }

        private static string Quote(string word) => word.Contains(' ') ? $"\"{word}\"" : word;

        // Shell words: spaces separate, single or double quotes keep them.
        private static List<string> Words(string line)
        {
            var words = new List<string>();
            var current = new System.Text.StringBuilder();
            char quote = '\0';
            bool any = false;
            foreach (char c in line)
            {
                if (quote != '\0')
                {
                    if (c == quote)
                        quote = '\0';
                    else
                        current.Append(c);
                }
                else if (c is '\'' or '"')
                {
                    quote = c;
                    any = true;
                }
                else if (char.IsWhiteSpace(c))
                {
                    if (any || current.Length > 0)
                        words.Add(current.ToString());
                    current.Clear();
                    any = false;
                }
                else
                    current.Append(c);
            }
            if (any || current.Length > 0)
                words.Add(current.ToString());
            return words;
        }
    }
}
