// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The freestanding-subset analyzer (analyzers/FreestandingAnalyzer.cs), with the Roslyn analyzer
// test package: for each rule, code that breaks it gets the diagnostic at the offending span
// ({|ID:...|} marks it), and the freestanding way of writing the same thing gets none. Files
// outside the freestanding folders (no kcs_freestanding in their .editorconfig) are not checked.

using System.Threading.Tasks;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using SimpleCache.Analyzers;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class AnalyzerTests
    {
        private static Task Verify(string code, bool freestanding = true)
        {
            var test = new CSharpAnalyzerTest<FreestandingAnalyzer, DefaultVerifier>
            {
                TestCode = code,
                ReferenceAssemblies = ReferenceAssemblies.Net.Net80,
            };
            test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n[*.cs]\n" + (freestanding ? "kcs_freestanding = true\n" : "")));
            test.SolutionTransforms.Add((solution, project) => solution.WithProjectCompilationOptions(project,
                ((Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions)solution.GetProject(project).CompilationOptions).WithAllowUnsafe(true)));
            return test.RunAsync();
        }

        [Fact]
        public Task KCS0001_AnArrayIsAGcAllocation() => Verify("""
            static class M { static int F() { int[] a = {|KCS0001:new int[4]|}; return a.Length; } }
            """);

        [Fact]
        public Task KCS0001_StackallocIsNot() => Verify("""
            static class M { static int F() { System.Span<int> a = stackalloc int[4]; return a.Length; } }
            """);

        [Fact]
        public Task KCS0001_AClassInstanceABoxAndAStringBuiltAtRunTimeAre() => Verify("""
            class C { }
            static class M
            {
                static object F(int i, string s) { var c = {|KCS0001:new C()|}; object o = {|KCS0001:i|}; string t = {|KCS0001:s + s|}; return {|KCS0001:$"{s}!"|}; }
            }
            """);

        [Fact]
        public Task KCS0001_AStructAndAU8LiteralAreNot() => Verify("""
            struct S { public int X; }
            static class M { static int F() { var s = new S(); System.ReadOnlySpan<byte> f = "CACHE: %d\n"u8; return s.X + f.Length; } }
            """);

        [Fact]
        public Task KCS0002_ThrowAndTryAreExceptions() => Verify("""
            static class M
            {
                static int F(int x) { {|KCS0002:try { x++; } finally { }|} return x; }
                static int G(int x) { if (x < 0) {|KCS0002:throw null;|} return x; }
            }
            """);

        [Fact]
        public Task KCS0002_ReturningAnErrnoIsNot() => Verify("""
            static class M { const int EINVAL = 22; static int F(int x) { if (x < 0) return -EINVAL; return x; } }
            """);

        [Fact]
        public Task KCS0003_VirtualAndInterfaceCallsAreDispatched() => Verify("""
            interface I { int G(); }
            class B { public virtual int H() => 1; }
            static class M { static int F(I i, B b) => {|KCS0003:i.G()|} + {|KCS0003:b.H()|}; }
            """);

        [Fact]
        public Task KCS0003_StaticCallsAreNot() => Verify("""
            static class M { static int G() => 1; static int F() => G(); }
            """);

        [Fact]
        public Task KCS0004_ALambdaAndACapturingLocalFunctionAreClosures() => Verify("""
            static class M
            {
                static int F(int x)
                {
                    System.Func<int> f = {|KCS0001:{|KCS0004:() => x|}|};
                    {|KCS0004:int L() => x;|}
                    return L();
                }
            }
            """);

        [Fact]
        public Task KCS0004_AStaticLocalFunctionAndAFunctionPointerAreNot() => Verify("""
            unsafe static class M
            {
                static int G(int x) => x;
                static int F(int x) { static int L(int y) => y; delegate*<int, int> g = &G; return L(x) + g(x); }
            }
            """);

        [Fact]
        public Task KCS0005_StaticConstructorsAndInitialisersNeedARuntime() => Verify("""
            static class M
            {
                static int s_count {|KCS0005:= 5|};
                static {|KCS0005:M|}() { }
            }
            """);

        [Fact]
        public Task KCS0005_ConstantsAndZeroedStaticsDoNot() => Verify("""
            static class M { const int Max = 5; static int s_count; static int F() => s_count + Max; }
            """);

        [Fact]
        public Task KCS0006_LinqIsNotForTheKernel() => Verify("""
            using System.Linq;
            static class M { static int F(System.Collections.Generic.IEnumerable<int> e) => {|KCS0006:e.Count()|}; }
            """);

        [Fact]
        public Task KCS0006_ALoopIsFine() => Verify("""
            static class M { static int F(System.ReadOnlySpan<int> e) { int n = 0; for (int i = 0; i < e.Length; i++) n += e[i]; return n; } }
            """);

        [Fact]
        public Task KCS0007_ForeachOverAnInterfaceEnumerator() => Verify("""
            static class M { static int F(System.Collections.Generic.IEnumerable<int> e) { int n = 0; foreach (int i in {|KCS0007:e|}) n += i; return n; } }
            """);

        [Fact]
        public Task KCS0007_ForeachOverASpanIsFine() => Verify("""
            static class M { static int F(System.ReadOnlySpan<int> e) { int n = 0; foreach (int i in e) n += i; return n; } }
            """);

        [Fact]
        public Task FilesOutsideTheFreestandingFoldersAreNotChecked() => Verify("""
            static class M { static int F() { int[] a = new int[4]; return a.Length; } }
            """, freestanding: false);
    }
}
