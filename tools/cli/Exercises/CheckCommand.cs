// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache check N: an exercise's checks in the model of 6.1 and of 6.12, in seconds.
//   check N                      builds exercises/NN-*/SimpleCache.cs and runs its checks
//   check N --source FILE        the same for another source (a solution, an attempt)
//   check N --script             prints the exercise's script (make check runs it in the VM)
//   check N --transcript FILE    checks a transcript of that script (the VM's)
//   check --list                 lists the exercises
//
// The learner's module runs in a child process (simple-cache run --module): a bug that would
// oops the kernel, such as a NULL pointer dereference, can bring the model's process down with
// it, as it can bring down a VM. The checks then read what the session printed up to there.

using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace SimpleCache.Cli.Exercises
{
    /// <summary>The check command.</summary>
    public static class CheckCommand
    {
        /// <summary>The command, for the CLI's root.</summary>
        public static Command Build()
        {
            var number = new Argument<int?>("N") { Description = "The exercise's number (check --list shows them)", Arity = ArgumentArity.ZeroOrOne };
            var source = new Option<string>("--source") { Description = "Check this C# file instead of exercises/NN-*/SimpleCache.cs" };
            var script = new Option<bool>("--script") { Description = "Print the exercise's commands, as the VM runs them" };
            var transcript = new Option<string>("--transcript") { Description = "Check this transcript of the script (from a VM: make check EX=N) instead of running it" };
            var kernel = new Option<string>("--kernel") { Description = "The model's kernel: 6.1, 6.12 or both (default)", DefaultValueFactory = _ => "both" };
            kernel.AcceptOnlyFromAmong("6.1", "6.12", "both");
            var list = new Option<bool>("--list") { Description = "List the exercises" };
            var command = new Command("check", "Check an exercise (exercises/): build it, run its script in the model of 6.1 and 6.12, and say what is wrong")
            {
                number, source, script, transcript, kernel, list,
            };
            command.SetAction(r =>
            {
                if (r.GetValue(list))
                {
                    foreach (Exercise e in Exercise.All)
                        Console.WriteLine($"{e.Number}  {e.Slug,-20} {e.Title}{(e.SlubDebug != null ? $" (slub_debug={e.SlubDebug})" : "")}");
                    return 0;
                }
                if (r.GetValue(number) is not int n || Exercise.Find(n) is not Exercise exercise)
                {
                    Console.Error.WriteLine($"simple-cache check: which exercise? 1 to {Exercise.All.Length} (check --list)");
                    return 2;
                }
                if (r.GetValue(script))
                {
                    // The first lines are comments, which the guest skips: what the VM boots with.
                    Console.WriteLine($"# exercise {exercise.Number}: {exercise.Title}");
                    Console.WriteLine($"# boot: slab_nomerge{(exercise.SlubDebug != null ? " slub_debug=" + exercise.SlubDebug : "")}");
                    Console.WriteLine($"# cpus: {exercise.Cpus}");
                    foreach (string line in exercise.Script)
                        Console.WriteLine(line);
                    return 0;
                }
                if (r.GetValue(transcript) is string file)
                {
                    if (!File.Exists(file))
                    {
                        Console.Error.WriteLine($"simple-cache check: no such transcript: {file}");
                        return 2;
                    }
                    return Report(exercise, r.GetValue(kernel) == "both" ? "a real kernel" : $"Linux {r.GetValue(kernel)} (a VM)", exercise.Check(Transcript.Parse(File.ReadAllText(file)))) ? 0 : 1;
                }
                string root = Root();
                if (root == null)
                {
                    Console.Error.WriteLine("simple-cache check: run it inside the simple_cache repository (no exercises/ folder here or above)");
                    return 2;
                }
                string path = r.GetValue(source) ?? Path.Combine(root, "exercises", exercise.Slug, "SimpleCache.cs");
                if (!File.Exists(path))
                {
                    Console.Error.WriteLine($"simple-cache check: no such file: {path}");
                    return 2;
                }
                string[] versions = r.GetValue(kernel) == "both" ? ["6.1", "6.12"] : [r.GetValue(kernel)];
                bool passed = true;
                foreach (string version in versions)
                {
                    Result result = Check(root, exercise, path, version);
                    if (result.BuildErrors.Count > 0)
                    {
                        Console.WriteLine($"exercise {exercise.Number} ({exercise.Title}): {Path.GetRelativePath(Environment.CurrentDirectory, path)} does not build:");
                        foreach (string error in result.BuildErrors)
                            Console.WriteLine("  " + error);
                        return 1;
                    }
                    passed &= Report(exercise, $"the model of {version}", result.Failures);
                }
                return passed ? 0 : 1;
            });
            return command;
        }

        /// <summary>A check's outcome: build errors, or the failures of the run (none: passed).</summary>
        public sealed record Result(IReadOnlyList<string> BuildErrors, IReadOnlyList<string> Failures, string Transcript);

        /// <summary>Builds <paramref name="source"/> and runs exercise's script in the model of <paramref name="version"/> (6.1 or 6.12).</summary>
        public static Result Check(string root, Exercise exercise, string source, string version)
        {
            ExerciseBuild.Result build = ExerciseBuild.Build(root, source);
            if (build.Image == null)
                return new Result(build.Errors, [], null);
            string transcript = RunIsolated(exercise, build.Image.Assembly.Location, version);
            return new Result([], exercise.Check(Transcript.Parse(transcript)), transcript);
        }

        // simple-cache run --module DLL in a child process; its transcript, and a last step saying
        // how it ended if it did not end by itself.
        private static string RunIsolated(Exercise exercise, string dll, string version)
        {
            string cli = typeof(CheckCommand).Assembly.Location;
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is string host && File.Exists(host) ? host : "dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string arg in new[] { cli, "run", "--module", dll, "--kernel", version, "--cpus", exercise.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-color", "--manual-clock" }
                .Concat(exercise.SlubDebug != null ? ["--slub-debug", exercise.SlubDebug] : []).Append("-"))
                start.ArgumentList.Add(arg);
            using var child = Process.Start(start)!;
            var stderr = child.StandardError.ReadToEndAsync();
            child.StandardInput.Write(string.Join("\n", exercise.Script) + "\n");
            child.StandardInput.Close();
            var stdout = child.StandardOutput.ReadToEndAsync();
            if (!child.WaitForExit(120_000))
            {
                child.Kill(entireProcessTree: true);
                return stdout.Result + "\n\n$ (the model stopped)\nthe session did not end within 2 minutes: the module hangs (an endless loop?)\n";
            }
            string output = stdout.Result;
            if (child.ExitCode is 0 or 1 or 2 || output.Contains("\n$ echo phase: ", StringComparison.Ordinal) && LastIsComplete(output, exercise))
                return output;
            // The process died: an exception crossed into the model's kernel from module code.
            Match exception = Regex.Match(stderr.Result, @"Unhandled exception\. ([\w.]+): ");
            string why = exception.Success ? exception.Groups[1].Value : $"exit status {child.ExitCode}";
            string where = Regex.Match(stderr.Result, @"at SimpleCache\.SimpleCacheModule\.(\w+)").Groups[1].Value;
            string what = why == "System.NullReferenceException" ? "a NULL pointer dereference" : why;
            string last = Regex.Matches(output, @"^\$ (.*)$", RegexOptions.Multiline).LastOrDefault()?.Groups[1].Value ?? "(the start)";
            return output + $"\n\n$ (the model stopped)\n`{last}` crashed the kernel: {what}{(where.Length > 0 ? $" in {where}()" : "")}\n";
        }

        // Whether the output ran to the script's last command.
        private static bool LastIsComplete(string output, Exercise exercise) =>
            output.Contains("\n$ " + exercise.Script[^1] + "\n", StringComparison.Ordinal) || output.EndsWith("\n$ " + exercise.Script[^1], StringComparison.Ordinal);

        // PASS, or FAIL and one line per failure.
        private static bool Report(Exercise exercise, string where, IReadOnlyList<string> failures)
        {
            if (failures.Count == 0)
            {
                Console.WriteLine($"PASS exercise {exercise.Number} ({exercise.Title}) in {where}");
                return true;
            }
            Console.WriteLine($"FAIL exercise {exercise.Number} ({exercise.Title}) in {where}:");
            foreach (string failure in failures)
                Console.WriteLine($"  - {failure}");
            return false;
        }

        /// <summary>The repository's root: the folder with exercises/ and include/linux/, from here up.</summary>
        public static string Root()
        {
            for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir != null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "exercises")) && Directory.Exists(Path.Combine(dir.FullName, "include", "linux")))
                    return dir.FullName;
            return null;
        }
    }
}
