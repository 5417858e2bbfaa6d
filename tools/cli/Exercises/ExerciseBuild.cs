// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// An exercise's module built for the model, in this process: the same compilation as
// arch/model/SimpleCache.Module.Model.csproj (the learner's SimpleCache.cs with the kernel API of
// include/linux/ and the model bindings, MODEL_BACKEND, modinfo.c embedded), done with Roslyn
// rather than MSBuild so that a verdict takes seconds. The freestanding analyzer
// (analyzers/FreestandingAnalyzer.cs) runs on the learner's file as in the kernel build: a
// `new int[4]` or a `try` fails here with the same KCS diagnostic, at its line.

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using SimpleCache.Analyzers;
using SimpleCache.Model.Kernel;

namespace SimpleCache.Cli.Exercises
{
    /// <summary>Compiles a module source for the model.</summary>
    public static class ExerciseBuild
    {
        // include/linux's pure definitions are compiled into the model library (KcsModelShared in
        // the model module's project); the rest is compiled with the module.
        private static readonly string[] s_sharedWithModel = ["Errno.cs", "Flags.cs", "ModuleEntry.cs"];

        // As the kernel build's project: these two warnings are expected of the API's externs.
        private static readonly string[] s_suppressed = ["CS0626", "CS8500"];

        private static readonly Lock s_lock = new();
        private static ImmutableArray<MetadataReference> s_references;

        /// <summary>The result: the module file, or the errors that stopped the build.</summary>
        public sealed record Result(ModuleImage Image, IReadOnlyList<string> Errors);

        /// <summary>
        /// Builds <paramref name="source"/> (a module's C# file) against the kernel API of the
        /// repository at <paramref name="root"/> into a model module. Errors come as the compiler
        /// prints them, with the file and line: "SimpleCache.cs(120,23): error KCS0001: ...".
        /// </summary>
        public static Result Build(string root, string source)
        {
            var parse = new Microsoft.CodeAnalysis.CSharp.CSharpParseOptions(LanguageVersion.Latest, preprocessorSymbols: ["MODEL_BACKEND"]);
            var files = Directory.GetFiles(Path.Combine(root, "include", "linux"), "*.cs")
                .Where(f => !s_sharedWithModel.Contains(Path.GetFileName(f)))
                .Concat(Directory.GetFiles(Path.Combine(root, "arch", "model", "bindings"), "*.cs"))
                .OrderBy(f => f, StringComparer.Ordinal)
                .Append(Path.GetFullPath(source));
            var trees = files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, path: f, encoding: Encoding.UTF8)).ToList();

            var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
                allowUnsafe: true, optimizationLevel: OptimizationLevel.Release, deterministic: true,
                generalDiagnosticOption: ReportDiagnostic.Error,
                specificDiagnosticOptions: s_suppressed.ToDictionary(id => id, _ => ReportDiagnostic.Suppress));
            var compilation = CSharpCompilation.Create("simple_cache", trees, References(), options);

            // The analyzer sees the learner's file as freestanding, as exercises/.editorconfig says.
            string learner = trees[^1].FilePath;
            var analyzerOptions = new AnalyzerOptions([], new FreestandingOptions(learner));
            var withAnalyzers = compilation.WithAnalyzers([new FreestandingAnalyzer()], analyzerOptions);
            var diagnostics = withAnalyzers.GetAllDiagnosticsAsync().GetAwaiter().GetResult()
                .Where(d => d.Severity == DiagnosticSeverity.Error)
                .OrderBy(d => d.Location.SourceTree?.FilePath == learner ? 0 : 1)
                .ThenBy(d => d.Location.GetLineSpan().StartLinePosition.Line)
                .ToList();
            if (diagnostics.Count > 0)
                return new Result(null, diagnostics.Select(d => Describe(d, root)).Distinct().ToList());

            // The module file: build/exercises/model/<hash of the source>/simple_cache.dll (a file,
            // since every insmod loads a fresh copy of it).
            string modinfo = Path.Combine(root, "module", "simple_cache.modinfo.c");
            byte[] text = File.ReadAllBytes(source);
            string hash = Convert.ToHexString(SHA256.HashData(text))[..16].ToLowerInvariant();
            string dir = Path.Combine(root, "build", "exercises", "model", hash);
            Directory.CreateDirectory(dir);
            string dll = Path.Combine(dir, "simple_cache.dll");
            lock (s_lock)
            {
                using var pe = new MemoryStream();
                var emit = compilation.Emit(pe, manifestResources:
                    [new ResourceDescription("simple_cache.modinfo.c", () => File.OpenRead(modinfo), isPublic: true)]);
                if (!emit.Success)
                    return new Result(null, emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => Describe(d, root)).ToList());
                if (!File.Exists(dll) || !File.ReadAllBytes(dll).AsSpan().SequenceEqual(pe.ToArray()))
                    File.WriteAllBytes(dll, pe.ToArray());
            }
            var context = new AssemblyLoadContext($"exercise {hash}");
            return new Result(ModuleImage.FromAssembly(context.LoadFromAssemblyPath(dll)), []);
        }

        /// <summary>"exercises/01-constructor/SimpleCache.cs(120,23): error KCS0001: ...", relative to the repository.</summary>
        private static string Describe(Diagnostic d, string root)
        {
            var span = d.Location.GetLineSpan();
            string file = span.Path;
            if (!string.IsNullOrEmpty(file) && Path.IsPathRooted(file))
                file = Path.GetRelativePath(root, file);
            string where = string.IsNullOrEmpty(file) ? "" :
                $"{file}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): ";
            return $"{where}error {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
        }

        /// <summary>
        /// What the model module's project references: the framework (the running one's
        /// assemblies) and the model library (SimpleCache.Model).
        /// </summary>
        private static ImmutableArray<MetadataReference> References()
        {
            lock (s_lock)
            {
                if (s_references.IsDefault)
                {
                    var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES"))!.Split(Path.PathSeparator)
                        .Where(p => Path.GetFileName(p) is var n && (n.StartsWith("System.", StringComparison.Ordinal) || n is "mscorlib.dll" or "netstandard.dll"))
                        .Append(typeof(SimpleCache.Model.ModelKernel).Assembly.Location);
                    s_references = [.. paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
                }
                return s_references;
            }
        }

        /// <summary>kcs_freestanding = true for the learner's file, as an .editorconfig would say.</summary>
        private sealed class FreestandingOptions(string learner) : AnalyzerConfigOptionsProvider
        {
            private static readonly AnalyzerConfigOptions s_none = new Options(false);
            private static readonly AnalyzerConfigOptions s_freestanding = new Options(true);
            public override AnalyzerConfigOptions GlobalOptions => s_none;
            public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => tree.FilePath == learner ? s_freestanding : s_none;
            public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => s_none;

            private sealed class Options(bool freestanding) : AnalyzerConfigOptions
            {
                public override bool TryGetValue(string key, out string value)
                {
                    value = freestanding && key == "kcs_freestanding" ? "true" : null;
                    return value != null;
                }
            }
        }
    }
}
