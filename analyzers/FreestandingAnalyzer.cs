// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The freestanding subset of C#, checked where a learner writes it. The kernel build of a
// module (arch/kernel) compiles C# with NativeAOT into an object with no .NET runtime: no GC
// heap, no exceptions, no type system at run time, no static constructors. Code that needs any
// of these compiles, then fails late, as an undefined symbol in the object check after kbuild
// (RhpNewArrayFast), or as a baffling compiler error from the module's own tiny core library
// ("Predefined type 'System.Exception' is not defined"). This analyzer reports each such
// construct at its own line, with its own ID, and says what to write instead:
//
//   KCS0001  an allocation on the GC heap: a class instance, an array, a delegate, boxing, a
//            string built at run time (concatenation, interpolation)
//   KCS0002  exceptions: throw, try/catch/finally
//   KCS0003  a virtual or interface call (dispatch through a method table)
//   KCS0004  a lambda, an anonymous method or a local function that captures (a closure)
//   KCS0005  a static constructor, or a static field initialiser that needs one
//   KCS0006  LINQ
//   KCS0007  foreach over a collection whose enumerator is a class or an interface
//
// It checks the files whose .editorconfig sets kcs_freestanding = true: module/,
// include/linux/ and exercises/ (the kernel glue's own corelib and bindings are exempt: they are
// the runtime's stand-ins). The model build compiles the same files, so a learner sees the
// diagnostics there too, before any kernel build.

using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace SimpleCache.Analyzers
{
    /// <summary>Reports what the kernel build of a C# module cannot have.</summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class FreestandingAnalyzer : DiagnosticAnalyzer
    {
        private const string Category = "KernelCSharp";

        /// <summary>KCS0001: GC allocation.</summary>
        public static readonly DiagnosticDescriptor GcAllocation = new(
            "KCS0001", "No GC heap in the kernel", "{0} allocates on the GC heap, which a kernel module does not have: {1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>KCS0002: exceptions.</summary>
        public static readonly DiagnosticDescriptor Exceptions = new(
            "KCS0002", "No exceptions in the kernel", "{0}: the kernel build has no exceptions; return a negative errno (return -Errno.EINVAL;) and let the caller check it",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>KCS0003: virtual and interface calls.</summary>
        public static readonly DiagnosticDescriptor VirtualCall = new(
            "KCS0003", "No virtual or interface calls in the kernel", "'{0}' is called through a method table ({1} call), which needs the .NET runtime's type system: call a static method instead",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>KCS0004: lambdas and closures.</summary>
        public static readonly DiagnosticDescriptor Closure = new(
            "KCS0004", "No lambdas or closures in the kernel", "{0} needs a delegate or a closure object on the GC heap: write a static method and pass a function pointer (&Method, delegate* unmanaged<...>)",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>KCS0005: static constructors.</summary>
        public static readonly DiagnosticDescriptor StaticConstructor = new(
            "KCS0005", "No static constructors in the kernel", "{0} needs a static constructor, which nothing runs in a kernel module: use a const, or set the field in the module's Init (static fields start zeroed, like a C module's .bss)",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>KCS0006: LINQ.</summary>
        public static readonly DiagnosticDescriptor Linq = new(
            "KCS0006", "No LINQ in the kernel", "LINQ ('{0}') allocates enumerators and delegates and calls them through interfaces: write the loop",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>KCS0007: foreach over interfaces.</summary>
        public static readonly DiagnosticDescriptor Foreach = new(
            "KCS0007", "No foreach over IEnumerable in the kernel", "foreach over '{0}' uses an enumerator object and interface calls: loop with an index over a span, or use a struct enumerator such as Kernel.List.ForEachEntry",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <inheritdoc />
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
            ImmutableArray.Create(GcAllocation, Exceptions, VirtualCall, Closure, StaticConstructor, Linq, Foreach);

        /// <inheritdoc />
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterOperationAction(Operation,
                OperationKind.ObjectCreation, OperationKind.ArrayCreation, OperationKind.DelegateCreation,
                OperationKind.Conversion, OperationKind.Binary, OperationKind.InterpolatedString, OperationKind.Throw,
                OperationKind.Try, OperationKind.Invocation, OperationKind.AnonymousFunction, OperationKind.LocalFunction,
                OperationKind.Loop, OperationKind.CompoundAssignment);
            context.RegisterSyntaxNodeAction(StaticMembers, SyntaxKind.ConstructorDeclaration, SyntaxKind.FieldDeclaration,
                SyntaxKind.PropertyDeclaration);
            context.RegisterSyntaxNodeAction(Query, SyntaxKind.QueryExpression);
        }

        // Only files marked freestanding (.editorconfig: kcs_freestanding = true).
        private static bool Checked(AnalyzerOptions options, SyntaxTree tree) =>
            options.AnalyzerConfigOptionsProvider.GetOptions(tree).TryGetValue("kcs_freestanding", out string value) &&
            value.Trim() == "true";

        private static void Operation(OperationAnalysisContext c)
        {
            IOperation op = c.Operation;
            // Attributes are metadata, not code that runs.
            if (!Checked(c.Options, op.Syntax.SyntaxTree) || op.Syntax.FirstAncestorOrSelf<AttributeSyntax>() != null)
                return;
            switch (op)
            {
                case IObjectCreationOperation create when create.Type is { IsReferenceType: true } type:
                    Report(c, GcAllocation, op, $"'new {type.Name}(...)'",
                        type.TypeKind == TypeKind.Delegate
                            ? "pass a function pointer (&Method, delegate* unmanaged<...>) to a static method"
                            : $"make {type.Name} a struct, or take its memory from Slab.Kmalloc or a kmem_cache");
                    break;
                case IArrayCreationOperation:
                    Report(c, GcAllocation, op, $"'{Short(op)}'",
                        "use stackalloc for a small buffer that lives only in this call, or Slab.Kmalloc/Slab.Kfree for memory that outlives it");
                    break;
                case IDelegateCreationOperation:
                    Report(c, GcAllocation, op, "creating a delegate",
                        "pass a function pointer (&Method, delegate* unmanaged<...>) to a static method");
                    break;
                case IConversionOperation conv when conv.GetConversion().IsBoxing:
                    Report(c, GcAllocation, op, $"boxing {conv.Operand.Type?.Name} into {conv.Type?.Name}",
                        "pass the value itself, or a pointer to it");
                    break;
                case IBinaryOperation bin when bin.OperatorKind == BinaryOperatorKind.Add &&
                                               bin.Type?.SpecialType == SpecialType.System_String && !bin.ConstantValue.HasValue:
                    Report(c, GcAllocation, op, "joining strings at run time",
                        "print the parts with Printk or Proc.SeqPrintf and a u8 format (\"CACHE: %s %d\\n\"u8)");
                    break;
                case ICompoundAssignmentOperation compound when compound.Type?.SpecialType == SpecialType.System_String:
                    Report(c, GcAllocation, op, "appending to a string",
                        "print the parts with Printk or Proc.SeqPrintf and a u8 format (\"CACHE: %s %d\\n\"u8)");
                    break;
                case IInterpolatedStringOperation when !op.ConstantValue.HasValue:
                    Report(c, GcAllocation, op, "an interpolated string",
                        "print with Printk or Proc.SeqPrintf and a u8 format (\"CACHE: created object %d %s\\n\"u8)");
                    break;
                case IThrowOperation:
                    Report(c, Exceptions, op, "'throw'");
                    break;
                case ITryOperation:
                    Report(c, Exceptions, op, "'try'");
                    break;
                case IInvocationOperation call:
                    Invocation(c, call);
                    break;
                case IAnonymousFunctionOperation:
                    Report(c, Closure, op, "a lambda or anonymous method");
                    break;
                case ILocalFunctionOperation local when !local.Symbol.IsStatic && Captures(c, local):
                    Report(c, Closure, op, $"the local function '{local.Symbol.Name}', which captures variables,");
                    break;
                case IForEachLoopOperation loop:
                    ForEachLoop(c, loop);
                    break;
            }
        }

        private static void Invocation(OperationAnalysisContext c, IInvocationOperation call)
        {
            IMethodSymbol m = call.TargetMethod;
            string type = m.ContainingType?.ToDisplayString() ?? "";
            if (type == "System.Linq.Enumerable" || type == "System.Linq.Queryable")
            {
                Report(c, Linq, call, m.Name);
                return;
            }
            bool viaInterface = m.ContainingType?.TypeKind == TypeKind.Interface && !m.IsStatic;
            bool virtualDispatch = call.IsVirtual && (m.IsVirtual || m.IsAbstract || m.IsOverride);
            if (viaInterface || virtualDispatch)
                Report(c, VirtualCall, call, $"{m.ContainingType?.Name}.{m.Name}", viaInterface ? "an interface" : "a virtual");
        }

        private static void ForEachLoop(OperationAnalysisContext c, IForEachLoopOperation loop)
        {
            if (loop.Syntax is not CommonForEachStatementSyntax syntax)
                return;
            ForEachStatementInfo info = c.Operation.SemanticModel.GetForEachStatementInfo(syntax);
            ITypeSymbol enumerator = info.GetEnumeratorMethod?.ReturnType;
            ITypeSymbol collection = loop.Collection is IConversionOperation conv ? conv.Operand.Type : loop.Collection.Type;
            bool spanLike = collection is IArrayTypeSymbol || enumerator is { IsValueType: true };
            if (!spanLike)
                Report(c, Foreach, loop.Collection, collection?.ToDisplayString() ?? "the collection");
        }

        // Whether a non-static local function uses a variable or parameter of its container.
        private static bool Captures(OperationAnalysisContext c, ILocalFunctionOperation local)
        {
            DataFlowAnalysis flow = c.Operation.SemanticModel.AnalyzeDataFlow(local.Syntax);
            return flow != null && flow.Succeeded && flow.CapturedInside.Any(s => !SymbolEqualityComparer.Default.Equals(s.ContainingSymbol, local.Symbol));
        }

        private static void StaticMembers(SyntaxNodeAnalysisContext c)
        {
            if (!Checked(c.Options, c.Node.SyntaxTree))
                return;
            switch (c.Node)
            {
                case ConstructorDeclarationSyntax ctor when ctor.Modifiers.Any(SyntaxKind.StaticKeyword):
                    c.ReportDiagnostic(Diagnostic.Create(StaticConstructor, ctor.Identifier.GetLocation(), $"'static {ctor.Identifier.Text}()'"));
                    break;
                case FieldDeclarationSyntax field when field.Modifiers.Any(SyntaxKind.StaticKeyword) && !field.Modifiers.Any(SyntaxKind.ConstKeyword):
                    foreach (VariableDeclaratorSyntax v in field.Declaration.Variables)
                        if (v.Initializer != null)
                            c.ReportDiagnostic(Diagnostic.Create(StaticConstructor, v.Initializer.GetLocation(), $"the initialiser of static field '{v.Identifier.Text}'"));
                    break;
                case PropertyDeclarationSyntax property when property.Modifiers.Any(SyntaxKind.StaticKeyword) && property.Initializer != null:
                    c.ReportDiagnostic(Diagnostic.Create(StaticConstructor, property.Initializer.GetLocation(), $"the initialiser of static property '{property.Identifier.Text}'"));
                    break;
            }
        }

        private static void Query(SyntaxNodeAnalysisContext c)
        {
            if (Checked(c.Options, c.Node.SyntaxTree))
                c.ReportDiagnostic(Diagnostic.Create(Linq, c.Node.GetLocation(), "a query expression"));
        }

        private static void Report(OperationAnalysisContext c, DiagnosticDescriptor rule, IOperation op, params object[] args) =>
            c.ReportDiagnostic(Diagnostic.Create(rule, op.Syntax.GetLocation(), args));

        private static string Short(IOperation op)
        {
            string text = op.Syntax.ToString();
            return text.Length <= 40 ? text : text.Substring(0, 37) + "...";
        }
    }
}
