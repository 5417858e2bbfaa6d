// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache: the user-space model from the command line (System.CommandLine: --help on every
// command, and tab completion through dotnet-suggest).
//
//   simple-cache run [SCRIPT|-]        a session in a model kernel: the brief's by default, or the
//                                      commands of SCRIPT (one per line; - = stdin)
//   simple-cache shell                 the same, typed at a prompt
//   simple-cache slabs [CACHE]         the slab map of a cache after a script (default: insmod)
//   simple-cache layout [CACHE]        one slot's bytes, region by region
//   simple-cache slabtop               procps's slabtop -o of the model's /proc/slabinfo
//   simple-cache geometry SIZE         what the kernel would do with a cache of SIZE-byte objects
//   simple-cache check-geometry FILE   compare geometry measured in a VM with the model's
//                                      (tests/vm/geometry.sh feeds it)

using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using SimpleCache.Model;
using SimpleCache.Model.Kernel;
using SimpleCache.Model.Mm;

namespace SimpleCache.Cli
{
    internal static class Program
    {
        // The model kernel's options, shared by the commands that boot one.
        private static readonly Option<string> s_kernel = new("--kernel")
        {
            Description = "The kernel the model follows",
            DefaultValueFactory = _ => "6.12",
        };

        private static readonly Option<int> s_cpus = new("--cpus")
        {
            Description = "CPUs of the model machine",
            DefaultValueFactory = _ => 2,
        };

        private static readonly Option<string> s_arch = new("--arch")
        {
            Description = "Whose build of that kernel: x86_64 (Debian's amd64) or arm64",
            DefaultValueFactory = _ => "x86_64",
        };

        private static readonly Option<string> s_slubDebug = new("--slub-debug")
        {
            Description = "The slub_debug= boot option, e.g. FZPU or FZPU,simple_cache",
        };

        private static readonly Option<bool> s_manualClock = new("--manual-clock")
        {
            Description = "Keep the clock still (timestamps 0.000000), for output that repeats",
        };

        private static readonly Option<bool> s_noColour = new("--no-color")
        {
            Description = "Plain text even in a terminal (also: NO_COLOR=1; piped output is always plain)",
        };

        private static readonly Option<int?> s_seed = new("--seed")
        {
            Description = "Seed the model's randomness (the shuffled freelists), for a session that repeats exactly",
        };

        static Program()
        {
            s_kernel.AcceptOnlyFromAmong("6.1", "6.12");
            s_arch.AcceptOnlyFromAmong("x86_64", "arm64");
            s_cpus.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() < 1)
                    r.AddError("--cpus takes a number of at least 1");
            });
        }

        private static int Main(string[] args) => BuildCommand().Parse(args).Invoke();

        /// <summary>The command line: every command, its options and its action.</summary>
        internal static RootCommand BuildCommand()
        {
            var root = new RootCommand("simple_cache's user-space model of the Linux 6.1 and 6.12 slab allocator: " +
                "run the module, look inside its cache, check a cache's geometry.");

            var script = new Argument<string>("SCRIPT")
            {
                Description = "Commands, one per line (- reads stdin); without it, the brief's session (make demo's steps)",
                Arity = ArgumentArity.ZeroOrOne,
            };
            var follow = new Option<bool>("--follow")
            {
                Description = "Print each kernel message as it is logged, as dmesg -w in another terminal would, and follow the caches with " +
                    "slabtop: in a terminal its top stays at the bottom, refreshed after each command; piped, the rows that changed are printed",
            };
            var html = new Option<string>("--html")
            {
                Description = "Also write the session as one self-contained HTML page: each step's command, output, kernel log and a picture of the caches",
            };
            var module = new Option<string>("--module")
            {
                Description = "Use this model build of a module as simple_cache.ko (simple-cache check builds an exercise's)",
                Hidden = true,
            };
            var run = new Command("run", "Run a session in a model kernel (the commands are those of the shell: help lists them).")
            {
                script, follow, html, module, s_kernel, s_cpus, s_arch, s_slubDebug, s_seed, s_manualClock, s_noColour,
            };
            run.SetAction(r => Run(Options(r), r.GetValue(script), r.GetValue(follow), Colour(r), r.GetValue(html), r.GetValue(module)));
            root.Subcommands.Add(run);

            var shell = new Command("shell", "Type commands at a prompt in a model kernel (help lists them).")
            {
                s_kernel, s_cpus, s_arch, s_slubDebug, s_seed, s_manualClock, s_noColour,
            };
            shell.SetAction(r => Shell(Options(r), Colour(r)));
            root.Subcommands.Add(shell);

            var cacheArg = new Argument<string>("CACHE")
            {
                Description = "A cache's name, as in /proc/slabinfo",
                DefaultValueFactory = _ => "simple_cache",
            };
            var before = new Option<string>("--script")
            {
                Description = "Commands to run first, one per line (- reads stdin); default: insmod simple_cache.ko",
            };
            var slabs = new Command("slabs", "Show every slab of a cache as SLUB holds it: each CPU's slab and partial slabs, " +
                "the node's partial list, full slabs; each slot in use or free, the freelist order, and simple_cache's objects by id and name.")
            {
                cacheArg, before, s_kernel, s_cpus, s_arch, s_slubDebug, s_seed, s_noColour,
            };
            var svg = new Option<string>("--svg") { Description = "Also write the picture to this SVG file" };
            slabs.Options.Add(svg);
            slabs.SetAction(r => AfterScript(r, r.GetValue(before), $"slabs {r.GetValue(cacheArg)}", r.GetValue(svg),
                (kernel, cache) => SlabSvg.Draw(kernel, cache)));
            root.Subcommands.Add(slabs);

            var layout = new Command("layout", "Show one slot of a cache byte by byte: the object, the free pointer and, " +
                "under slub_debug, the red zones, tracking data and padding, named as mm/slub.c names them.")
            {
                cacheArg, before, s_kernel, s_cpus, s_arch, s_slubDebug, s_seed, s_noColour,
            };
            layout.Options.Add(svg);
            layout.SetAction(r => AfterScript(r, r.GetValue(before), $"layout {r.GetValue(cacheArg)}", r.GetValue(svg),
                (kernel, cache) => SlabSvg.DrawLayout(kernel.Options.Version, cache.Name, cache.Layout)));
            root.Subcommands.Add(layout);

            var sort = new Option<string>("--sort", "-s")
            {
                Description = "Sort by: " + string.Join(", ", Slabtop.SortKeys.Select(k => $"{k.Key} ({k.Meaning})")),
                DefaultValueFactory = _ => "o",
            };
            sort.AcceptOnlyFromAmong(Slabtop.SortKeys.Select(k => k.Key.ToString()).ToArray());
            var slabtop = new Command("slabtop", "procps's slabtop -o of the model's /proc/slabinfo, after a script (default: insmod simple_cache.ko).")
            {
                sort, before, s_kernel, s_cpus, s_arch, s_slubDebug, s_seed, s_noColour,
            };
            slabtop.SetAction(r => AfterScript(r, r.GetValue(before), $"slabtop -s {r.GetValue(sort)}"));
            root.Subcommands.Add(slabtop);

            var tour = new Command("tour", "A guided tour of the brief's learning outcomes in a model kernel: for each, the module's C# lines, " +
                "the kernel function that acts, a picture and a question. In a terminal it waits for Enter after each step.")
            {
                s_kernel, s_cpus, s_arch,
            };
            tour.SetAction(r => Tour.Run(Console.Out, Options(r), pause: !Console.IsInputRedirected && !Console.IsOutputRedirected, Console.In));
            root.Subcommands.Add(tour);

            root.Subcommands.Add(Exercises.CheckCommand.Build());
            root.Subcommands.Add(Geometry.BuildCommand(s_kernel));
            root.Subcommands.Add(CheckGeometry.BuildCommand(s_kernel));
            return root;
        }

        internal static KernelVersion ParseVersion(string v) => v == "6.1" ? KernelVersion.V6_1 : KernelVersion.V6_12;

        internal static KernelArch ParseArch(string a) => a switch
        {
            "x86_64" or "amd64" => KernelArch.X86_64,
            "arm64" or "aarch64" => KernelArch.Arm64,
            _ => throw new ArgumentException($"--arch {a}: x86_64 or arm64"),
        };

        private static KernelOptions Options(ParseResult r) => new()
        {
            Version = ParseVersion(r.GetValue(s_kernel)),
            Cpus = r.GetValue(s_cpus),
            Arch = ParseArch(r.GetValue(s_arch)),
            SlubDebug = r.GetValue(s_slubDebug),
            ManualClock = r.GetValue(s_manualClock),
            RandomSeed = r.GetValue(s_seed),
        };

        // Colour only for a terminal, and not when asked not to (--no-color, NO_COLOR).
        private static bool Colour(ParseResult r) =>
            !Console.IsOutputRedirected && !r.GetValue(s_noColour) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

        private static int Run(KernelOptions options, string script, bool follow, bool colour, string html, string module = null)
        {
            IEnumerable<string> lines = ScriptLines(script, Session.BriefScript);
            if (lines == null)
                return 2;
            ModuleImage image = null;
            if (module != null)
            {
                if (!File.Exists(module))
                {
                    Console.Error.WriteLine($"simple-cache: no such module: {module}");
                    return 2;
                }
                image = ModuleImage.FromAssembly(new System.Runtime.Loader.AssemblyLoadContext(module).LoadFromAssemblyPath(Path.GetFullPath(module)));
            }
            using var kernel = new ModelKernel(options).Enter();
            SlabtopFollow slabtop = null;
            if (follow)
            {
                // As if dmesg -w and slabtop ran in other terminals: every record as it is logged,
                // and slabtop's figures after each command.
                kernel.Log.Logged += record => Console.WriteLine($"  dmesg -w | {record.Render()}");
                slabtop = new SlabtopFollow(kernel, Console.Out, terminal: !Console.IsOutputRedirected);
            }
            HtmlReport report = html == null ? null : new HtmlReport(kernel,
                $"simple_cache in the model: {(options.Version == KernelVersion.V6_1 ? "Linux 6.1" : "Linux 6.12")}, " +
                $"{options.Cpus} CPU{(options.Cpus == 1 ? "" : "s")}{(options.SlubDebug != null ? ", slub_debug=" + options.SlubDebug : "")}");
            var tee = new TeeWriter(Console.Out);
            var session = new Session(kernel, tee, image) { Colour = colour };
            int last = 0;
            report?.Step("(boot)", "", 0);
            foreach (string raw in lines)
            {
                string line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#'))
                    continue;
                slabtop?.BeforeStep();
                Console.WriteLine();
                Console.WriteLine($"$ {line}");
                Console.Out.Flush();
                last = session.Execute(line, echo: false);
                string output = tee.Take();
                report?.Step(line, SlabMapView.StripEscapes(output), last);
                slabtop?.AfterStep();
            }
            if (report == null)
                return last;
            try
            {
                File.WriteAllText(html, report.Page());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"simple-cache: cannot write {html}: {e.Message}");
                return 1;
            }
            return last;
        }

        private static int Shell(KernelOptions options, bool colour)
        {
            using var kernel = new ModelKernel(options).Enter();
            var session = new Session(kernel, Console.Out) { Colour = colour };
            Console.WriteLine($"simple_cache model kernel ({(options.Version == KernelVersion.V6_1 ? "6.1" : "6.12")}, {options.Cpus} CPUs). Type help, or exit.");
            while (true)
            {
                Console.Write("# ");
                string line = Console.ReadLine();
                if (line == null || line.Trim() is "exit" or "quit")
                    return 0;
                session.Execute(line, echo: false);
            }
        }

        // slabs, layout, slabtop: a script's commands (silently; a failing one is shown), then one
        // command whose output is the answer.
        private static int AfterScript(ParseResult r, string script, string command, string svgFile = null,
            Func<ModelKernel, SlabCache, System.Xml.Linq.XElement> picture = null)
        {
            IEnumerable<string> lines = ScriptLines(script, ["insmod simple_cache.ko"]);
            if (lines == null)
                return 2;
            using var kernel = new ModelKernel(Options(r) with { ManualClock = true }).Enter();
            var quiet = new StringWriter();
            var setup = new Session(kernel, quiet);
            foreach (string line in lines)
                if (setup.Execute(line, echo: true) != 0)
                {
                    Console.Error.Write(quiet.ToString());
                    Console.Error.WriteLine($"simple-cache: the script's command failed: {line.Trim()}");
                    return 1;
                }
            int status = new Session(kernel, Console.Out) { Colour = Colour(r) }.Execute(command, echo: false);
            if (status != 0 || svgFile == null)
                return status;
            try
            {
                File.WriteAllText(svgFile, SlabSvg.Document(picture(kernel, kernel.Slab.Find(command.Split(' ')[1]))));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"simple-cache: cannot write {svgFile}: {e.Message}");
                return 1;
            }
            return 0;
        }

        /// <summary>
        /// The commands of <paramref name="script"/> (a file, or - for stdin), or
        /// <paramref name="fallback"/> without one; null, saying so, if the file does not exist.
        /// </summary>
        private static IEnumerable<string> ScriptLines(string script, IEnumerable<string> fallback)
        {
            IEnumerable<string> lines = script switch
            {
                null => fallback,
                "-" => ReadAll(Console.In),
                _ when File.Exists(script) => File.ReadAllLines(script),
                _ => null,
            };
            if (lines == null)
                Console.Error.WriteLine($"simple-cache: no such script: {script}");
            return lines;
        }

        /// <summary>The lines of a reader, as they come.</summary>
        internal static IEnumerable<string> ReadAll(TextReader reader)
        {
            string line;
            while ((line = reader.ReadLine()) != null)
                yield return line;
        }
    }
}
