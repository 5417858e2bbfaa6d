// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache: the user-space model from the command line.
//
//   simple-cache run [options] [SCRIPT|-]   a session in a model kernel: the brief's by default,
//                                           or the commands of SCRIPT (one per line; - = stdin);
//                                           --follow prints each kernel message as it is logged
//   simple-cache shell [options]            the same, typed at a prompt
//   simple-cache geometry SIZE [options]    what the kernel would do with a cache of SIZE-byte objects
//   simple-cache check-geometry ...         compare geometry measured in a VM with the model's
//                                           (tests/vm/geometry.sh feeds it)
//
// Options: --kernel 6.1|6.12  --cpus N  --slub-debug OPTS  --manual-clock  --follow

using System;
using System.Collections.Generic;
using System.IO;
using SimpleCache.Model;
using SimpleCache.Model.Mm;

namespace SimpleCache.Cli
{
    internal static class Program
    {
        private static readonly string Usage = """
            usage: simple-cache run [--kernel 6.1|6.12] [--cpus N] [--slub-debug OPTS] [--manual-clock] [--follow] [SCRIPT|-]
                   simple-cache shell [same options]
                   simple-cache geometry SIZE [--align N] [--hwcache-align] [--ctor] [--rcu] [--debug OPTS]
                                              [--cpus N] [--kernel 6.1|6.12]
                   simple-cache check-geometry --kernel 6.1|6.12 --cpus N [--tag TEXT] FILE|-

            Session commands (run, shell; also: help):
            """ + "\n" + Session.Help;

        private static int Main(string[] args)
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            {
                Console.Write(Usage);
                return args.Length == 0 ? 2 : 0;
            }
            try
            {
                return args[0] switch
                {
                    "run" => Run(args[1..], interactive: false),
                    "shell" => Run(args[1..], interactive: true),
                    "geometry" => Geometry.Run(args[1..]),
                    "check-geometry" => CheckGeometry.Run(args[1..]),
                    _ => Fail($"unknown command '{args[0]}'"),
                };
            }
            catch (ArgumentException e)
            {
                return Fail(e.Message);
            }
        }

        internal static int Fail(string message)
        {
            Console.Error.WriteLine($"simple-cache: {message}");
            Console.Error.Write(Usage);
            return 2;
        }

        internal static KernelVersion ParseVersion(string v) => v switch
        {
            "6.1" => KernelVersion.V6_1,
            "6.12" => KernelVersion.V6_12,
            _ => throw new ArgumentException($"--kernel takes 6.1 or 6.12, not '{v}'"),
        };

        internal static int ParseInt(string option, string value, int min)
        {
            if (!int.TryParse(value, out int n) || n < min)
                throw new ArgumentException($"{option} takes a number of at least {min}, not '{value}'");
            return n;
        }

        private static int Run(string[] args, bool interactive)
        {
            var options = new KernelOptions();
            string script = null;
            bool follow = false;
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--kernel": options = options with { Version = ParseVersion(Next()) }; break;
                    case "--cpus": options = options with { Cpus = ParseInt("--cpus", Next(), 1) }; break;
                    case "--slub-debug": options = options with { SlubDebug = Next() }; break;
                    case "--manual-clock": options = options with { ManualClock = true }; break;
                    case "--follow": follow = true; break;
                    default:
                        if (args[i].StartsWith("--", StringComparison.Ordinal) || script != null)
                            throw new ArgumentException($"unexpected argument '{args[i]}'");
                        script = args[i];
                        break;
                }
            }

            using var kernel = new ModelKernel(options).Enter();
            if (follow)   // as if dmesg -w ran in another terminal: every record as it is logged
                kernel.Log.Logged += record => Console.WriteLine($"  dmesg -w | {record.Render()}");
            var session = new Session(kernel, Console.Out);
            if (interactive)
            {
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

            IEnumerable<string> lines = script switch
            {
                null => Session.BriefScript,
                "-" => ReadAll(Console.In),
                _ => File.Exists(script) ? File.ReadAllLines(script) : throw new ArgumentException($"no such script: {script}"),
            };
            int status = 0;
            foreach (string line in lines)
                status = session.Execute(line, echo: true);
            return status;
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
