// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Compiler-facing attributes, intrinsics and runtime helpers of the freestanding core library.
// ILC resolves several of these by name; each is here because a build without it failed with
// "Expected type/method ... not found". The Rhp* symbols are the runtime's GC-transition hooks:
// with no GC in a kernel module they are no-ops.

#pragma warning disable CS0169, CS0649, IDE0051, IDE0060

namespace System.Runtime
{
    internal sealed class RuntimeExportAttribute : Attribute
    {
        public RuntimeExportAttribute(string entry) { }
    }

    internal sealed class RuntimeImportAttribute : Attribute
    {
        public RuntimeImportAttribute(string lib) { }
        public RuntimeImportAttribute(string lib, string entry) { }
    }

    /// <summary>The compiler's type descriptor; only its size and first fields matter here.</summary>
    internal unsafe struct MethodTable
    {
        internal ushort _usComponentSize;
        private ushort _usFlags;
        internal uint _uBaseSize;
        internal MethodTable* _relatedType;
        private ushort _usNumVtableSlots;
        private ushort _usNumInterfaces;
        private uint _uHashCode;
    }

    /// <summary>Cast helpers ILC expects to find; casting objects never happens in kernel code.</summary>
    internal static unsafe class TypeCast
    {
        [RuntimeExport("RhTypeCast_IsInstanceOfClass")]
        private static object IsInstanceOfClass(MethodTable* pTargetType, object obj) { Environment.FailFast(); return null; }
        [RuntimeExport("RhTypeCast_CheckCastClass")]
        private static object CheckCastClass(MethodTable* pTargetType, object obj) { Environment.FailFast(); return null; }
        [RuntimeExport("RhTypeCast_IsInstanceOfAny")]
        private static object IsInstanceOfAny(MethodTable* pTargetType, object obj) { Environment.FailFast(); return null; }
        [RuntimeExport("RhTypeCast_CheckCastAny")]
        private static object CheckCastAny(MethodTable* pTargetType, object obj) { Environment.FailFast(); return null; }
        [RuntimeExport("RhTypeCast_IsInstanceOfInterface")]
        private static object IsInstanceOfInterface(MethodTable* pTargetType, object obj) { Environment.FailFast(); return null; }
        [RuntimeExport("RhTypeCast_CheckCastInterface")]
        private static object CheckCastInterface(MethodTable* pTargetType, object obj) { Environment.FailFast(); return null; }
        private static object CheckCastClassSpecial(MethodTable* pTargetType, object obj) { Environment.FailFast(); return null; }
        private static bool IsInstanceOfException(MethodTable* pTargetType, object obj) { Environment.FailFast(); return false; }
        private static object IsInstanceOfClassSpecial(MethodTable* pTargetType, object obj) { Environment.FailFast(); return null; }
        private static void StelemRef_Helper(ref object element, MethodTable* elementType, object obj) => Environment.FailFast();
        [RuntimeExport("RhTypeCast_StelemRef")]
        private static void StelemRef(object array, nint index, object obj) => Environment.FailFast();
        [RuntimeExport("RhTypeCast_LdelemaRef")]
        private static ref object LdelemaRef(object array, nint index, MethodTable* elementType) { Environment.FailFast(); return ref *(object*)null; }
    }

    /// <summary>Boxing helpers ILC expects to find; boxing needs a GC heap, so they stop.</summary>
    internal static unsafe class RuntimeExports
    {
        [RuntimeExport("RhBox")]
        private static object RhBox(MethodTable* pEEType, ref byte data) { Environment.FailFast(); return null; }
        [RuntimeExport("RhBoxAny")]
        private static object RhBoxAny(ref byte data, MethodTable* pEEType) { Environment.FailFast(); return null; }
        [RuntimeExport("RhUnbox")]
        private static void RhUnbox(object obj, ref byte data, MethodTable* pUnboxToEEType) => Environment.FailFast();
        [RuntimeExport("RhUnboxAny")]
        private static void RhUnboxAny(object o, ref byte data, MethodTable* pUnboxToEEType) => Environment.FailFast();
        [RuntimeExport("RhUnbox2")]
        private static ref byte RhUnbox2(MethodTable* pUnboxToEEType, object obj) { Environment.FailFast(); return ref *(byte*)null; }
        [RuntimeExport("RhUnboxNullable")]
        private static void RhUnboxNullable(ref byte data, MethodTable* pUnboxToEEType, object obj) => Environment.FailFast();
    }
}

namespace System.Runtime.CompilerServices
{
    internal sealed class IntrinsicAttribute : Attribute { }

    public enum MethodImplOptions
    {
        Unmanaged = 0x0004, NoInlining = 0x0008, ForwardRef = 0x0010, Synchronized = 0x0020,
        NoOptimization = 0x0040, PreserveSig = 0x0080, AggressiveInlining = 0x0100,
        AggressiveOptimization = 0x0200, InternalCall = 0x1000,
    }

    public sealed class MethodImplAttribute : Attribute
    {
        public MethodImplAttribute(MethodImplOptions methodImplOptions) { }
    }

    public sealed class IndexerNameAttribute : Attribute { public IndexerNameAttribute(string indexerName) { } }
    public sealed class ExtensionAttribute : Attribute { }
    public sealed class IsReadOnlyAttribute : Attribute { }
    public sealed class IsByRefLikeAttribute : Attribute { }
    public sealed class IsUnmanagedAttribute : Attribute { }
    public sealed class IsExternalInit { }
    public sealed class ScopedRefAttribute : Attribute { }
    public sealed class RequiresLocationAttribute : Attribute { }
    public sealed class UnscopedRefAttribute : Attribute { }
    public sealed class FixedBufferAttribute : Attribute { public FixedBufferAttribute(Type elementType, int length) { } }
    public sealed class CompilerGeneratedAttribute : Attribute { }
    public sealed class RefSafetyRulesAttribute : Attribute { public RefSafetyRulesAttribute(int version) { } }
    public sealed class NullableAttribute : Attribute { public NullableAttribute(byte b) { } public NullableAttribute(byte[] b) { } }
    public sealed class NullableContextAttribute : Attribute { public NullableContextAttribute(byte b) { } }
    public sealed class InlineArrayAttribute : Attribute { public InlineArrayAttribute(int length) { } }
    public sealed class SkipLocalsInitAttribute : Attribute { }

    public class CallConvCdecl { }
    public class CallConvFastcall { }
    public class CallConvStdcall { }
    public class CallConvSuppressGCTransition { }
    public class CallConvThiscall { }
    public class CallConvMemberFunction { }

    public static class RuntimeFeature
    {
        public const string PortablePdb = nameof(PortablePdb);
        public const string DefaultImplementationsOfInterfaces = nameof(DefaultImplementationsOfInterfaces);
        public const string UnmanagedSignatureCallingConvention = nameof(UnmanagedSignatureCallingConvention);
        public const string CovariantReturnsOfClasses = nameof(CovariantReturnsOfClasses);
        public const string ByRefFields = nameof(ByRefFields);
        public const string VirtualStaticsInInterfaces = nameof(VirtualStaticsInInterfaces);
        public const string NumericIntPtr = nameof(NumericIntPtr);
    }

    public static class RuntimeHelpers
    {
        public static unsafe int OffsetToStringData => sizeof(IntPtr) + sizeof(int);
    }

    /// <summary>Unsafe intrinsics: ILC supplies the bodies (see its UnsafeIntrinsics).</summary>
    public static unsafe class Unsafe
    {
        [Intrinsic] public static extern ref T Add<T>(ref T source, int elementOffset);
        [Intrinsic] public static extern ref T Add<T>(ref T source, nint elementOffset);
        [Intrinsic] public static extern ref TTo As<TFrom, TTo>(ref TFrom source);
        [Intrinsic] public static extern void* AsPointer<T>(ref T value);
        [Intrinsic] public static extern ref T AsRef<T>(void* source);
        [Intrinsic] public static extern nint ByteOffset<T>(ref readonly T origin, ref readonly T target);
        [Intrinsic] public static extern int SizeOf<T>();
    }
}

namespace System.Runtime.InteropServices
{
    public enum CharSet { None = 1, Ansi = 2, Unicode = 3, Auto = 4 }
    public enum CallingConvention { Winapi = 1, Cdecl = 2, StdCall = 3, ThisCall = 4, FastCall = 5 }
    public enum LayoutKind { Sequential = 0, Explicit = 2, Auto = 3 }
    public enum UnmanagedType { }

    public sealed class DllImportAttribute : Attribute
    {
        public string EntryPoint;
        public CharSet CharSet;
        public bool ExactSpelling;
        public CallingConvention CallingConvention;
        public DllImportAttribute(string dllName) { }
    }

    public sealed class UnmanagedCallersOnlyAttribute : Attribute
    {
        public string EntryPoint;
        public Type[] CallConvs;
    }

    public sealed class StructLayoutAttribute : Attribute
    {
        public int Size;
        public int Pack;
        public StructLayoutAttribute(LayoutKind layoutKind) { }
    }

    public sealed class FieldOffsetAttribute : Attribute { public FieldOffsetAttribute(int offset) { } }
    public sealed class InAttribute : Attribute { }
    public sealed class OutAttribute : Attribute { }
    public sealed class SuppressGCTransitionAttribute : Attribute { }
    public unsafe interface IDynamicInterfaceCastable
    {
        internal static nint GetDynamicInterfaceImplementation(object instance, Runtime.MethodTable* interfaceType, ushort slot) { Environment.FailFast(); return 0; }
    }
}

namespace Internal.Runtime.CompilerHelpers
{
    using System;
    using System.Runtime;

    /// <summary>Where compiler-inserted checks land; each one stops the module with a kernel BUG.</summary>
    internal static class ThrowHelpers
    {
        private static void ThrowIndexOutOfRangeException() => Environment.FailFast();
        private static void ThrowDivideByZeroException() => Environment.FailFast();
        private static void ThrowOverflowException() => Environment.FailFast();
        private static void ThrowNullReferenceException() => Environment.FailFast();
        private static void ThrowPlatformNotSupportedException() => Environment.FailFast();
        private static void ThrowTypeLoadException() => Environment.FailFast();
        private static void ThrowArgumentException() => Environment.FailFast();
        private static void ThrowArgumentOutOfRangeException() => Environment.FailFast();
        private static void ThrowInvalidProgramException() => Environment.FailFast();
        private static void ThrowFeatureBodyRemoved() => Environment.FailFast();
    }

    /// <summary>The class ILC looks for; it also holds the no-op GC-transition hooks.</summary>
    internal static class StartupCodeHelpers
    {
        [RuntimeExport("RhpReversePInvoke")] private static void RhpReversePInvoke(nint frame) { }
        [RuntimeExport("RhpReversePInvokeReturn")] private static void RhpReversePInvokeReturn(nint frame) { }
        [RuntimeExport("RhpPInvoke")] private static void RhpPInvoke(nint frame) { }
        [RuntimeExport("RhpPInvokeReturn")] private static void RhpPInvokeReturn(nint frame) { }
        [RuntimeExport("RhpGcPoll")] private static void RhpGcPoll() { }
        [RuntimeExport("RhpFallbackFailFast")] private static void RhpFallbackFailFast() => Environment.FailFast();
    }
}

namespace System.Reflection
{
    public sealed class DefaultMemberAttribute : Attribute { public DefaultMemberAttribute(string memberName) { } }
}
