// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The freestanding core library: just enough of System.* for the C# compiler and NativeAOT's ILC
// to compile kernel code with no .NET runtime behind it. This assembly is its own system module
// (IlcSystemModule), so nothing here may allocate on a GC heap, throw, or rely on a static
// constructor: there is no GC, no exception dispatch and no startup code in a kernel module.
//
// The layout of the types below is a contract with the compiler (see zerosharp and bflat's
// zerolib for the same technique). Members exist only because the compiler or ILC asks for them.

#pragma warning disable CS0169, CS0649, CA1823, IDE0051

namespace System
{
    /// <summary>The root of the type system. Its only field is the compiler's MethodTable pointer.</summary>
    public class Object
    {
        internal unsafe Runtime.MethodTable* m_pMethodTable;
    }

    /// <summary>Base of all structs.</summary>
    public abstract class ValueType { }

    /// <summary>Base of all enums.</summary>
    public abstract class Enum : ValueType { }

    /// <summary>The void type.</summary>
    public struct Void { }

    // Primitive types: their layout is special-cased by the compiler.
    public struct Boolean { }
    public struct Char { }
    public struct SByte { }
    public struct Byte { }
    public struct Int16 { }
    public struct UInt16 { }
    public struct Int32 { public const int MaxValue = 0x7fffffff; public const int MinValue = unchecked((int)0x80000000); }
    public struct UInt32 { public const uint MaxValue = 0xffffffff; }
    public struct Int64 { public const long MaxValue = 0x7fffffffffffffffL; public const long MinValue = unchecked((long)0x8000000000000000L); }
    public struct UInt64 { public const ulong MaxValue = 0xffffffffffffffffUL; }
    public struct IntPtr { }
    public struct UIntPtr { }
    public struct Single { }
    public struct Double { }

    /// <summary>Strings exist only as frozen literals; the module uses UTF-8 literals instead.</summary>
    public sealed class String
    {
        private readonly int _length;
        private char _firstChar;
        public int Length => _length;
    }

    /// <summary>Arrays cannot be allocated here (no GC heap); the type must exist for the compiler.</summary>
    public abstract class Array
    {
        private readonly int _length;
        public int Length => _length;
    }

    internal class Array<T> : Array { }

    public abstract class Delegate
    {
        internal object m_firstParameter;
        internal object m_helperObject;
        internal nint m_extraFunctionPointerOrData;
        internal IntPtr m_functionPointer;
    }

    public abstract class MulticastDelegate : Delegate { }

    public struct RuntimeTypeHandle { }
    public struct RuntimeMethodHandle { }
    public struct RuntimeFieldHandle { }

    public class Type { }
    public class RuntimeType : Type { }

    public abstract class Attribute { }

    public enum AttributeTargets
    {
        Assembly = 0x1, Module = 0x2, Class = 0x4, Struct = 0x8, Enum = 0x10, Constructor = 0x20,
        Method = 0x40, Property = 0x80, Field = 0x100, Event = 0x200, Interface = 0x400,
        Parameter = 0x800, Delegate = 0x1000, ReturnValue = 0x2000, GenericParameter = 0x4000, All = 0x7fff,
    }

    public sealed class AttributeUsageAttribute : Attribute
    {
        public AttributeUsageAttribute(AttributeTargets validOn) { }
        public bool AllowMultiple { get; set; }
        public bool Inherited { get; set; }
    }

    public sealed class FlagsAttribute : Attribute { }
    public sealed class ParamArrayAttribute : Attribute { }
    public sealed class ObsoleteAttribute : Attribute { public ObsoleteAttribute(string message) { } }

    public struct Nullable<T> where T : struct
    {
        private readonly bool _hasValue;
        private T _value;
        public Nullable(T value) { _hasValue = true; _value = value; }
        public readonly bool HasValue => _hasValue;
        public readonly T Value { get { if (!_hasValue) Environment.FailFast(); return _value; } }
    }

    /// <summary>A read-only view of contiguous memory: what a C# UTF-8 literal ("..."u8) becomes.</summary>
    public readonly ref struct ReadOnlySpan<T>
    {
        private readonly ref T _reference;
        private readonly int _length;

        public unsafe ReadOnlySpan(void* pointer, int length)
        {
            _reference = ref Runtime.CompilerServices.Unsafe.AsRef<T>(pointer);
            _length = length;
        }

        /// <summary>Arrays cannot exist without a GC heap; the constructor is here for the compiler only.</summary>
        public ReadOnlySpan(T[] array)
        {
            Environment.FailFast();
            this = default;
        }

        /// <summary>As <see cref="ReadOnlySpan{T}(T[])"/>: for the compiler only.</summary>
        public ReadOnlySpan(T[] array, int start, int length)
        {
            Environment.FailFast();
            this = default;
        }

        public int Length => _length;
        public bool IsEmpty => _length == 0;

        public ref readonly T this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_length)
                    Environment.FailFast();
                return ref Runtime.CompilerServices.Unsafe.Add(ref _reference, (nint)(uint)index);
            }
        }

        public ReadOnlySpan<T> Slice(int start, int length)
        {
            if ((ulong)(uint)start + (uint)length > (uint)_length)
                Environment.FailFast();
            unsafe
            {
                return new ReadOnlySpan<T>(Runtime.CompilerServices.Unsafe.AsPointer(ref Runtime.CompilerServices.Unsafe.Add(ref _reference, (nint)(uint)start)), length);
            }
        }

        public ref readonly T GetPinnableReference() => ref _reference;

        public static implicit operator ReadOnlySpan<T>(Span<T> span) => span.AsReadOnly();
    }

    /// <summary>A writable view of contiguous memory.</summary>
    public readonly ref struct Span<T>
    {
        private readonly ref T _reference;
        private readonly int _length;

        public unsafe Span(void* pointer, int length)
        {
            _reference = ref Runtime.CompilerServices.Unsafe.AsRef<T>(pointer);
            _length = length;
        }

        public int Length => _length;

        public ref T this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_length)
                    Environment.FailFast();
                return ref Runtime.CompilerServices.Unsafe.Add(ref _reference, (nint)(uint)index);
            }
        }

        public ref T GetPinnableReference() => ref _reference;

        internal unsafe ReadOnlySpan<T> AsReadOnly() => new ReadOnlySpan<T>(Runtime.CompilerServices.Unsafe.AsPointer(ref _reference), _length);
    }

    /// <summary>Fail-fast: there are no exceptions in the kernel, so every runtime check ends here.</summary>
    public static class Environment
    {
        [Runtime.InteropServices.DllImport("*", EntryPoint = "kcs_fail_fast"), Runtime.InteropServices.SuppressGCTransition]
        private static extern void KcsFailFast();

        /// <summary>Stops with a kernel BUG (an oops of the current task); never returns.</summary>
        public static void FailFast() => KcsFailFast();
    }

    /// <summary>Compiler helpers for checked arithmetic and division (ILC looks them up by name).</summary>
    public static class Math
    {
        internal static int DivInt32(int dividend, int divisor) { if (divisor == 0 || (divisor == -1 && dividend == int.MinValue)) Environment.FailFast(); return dividend / divisor; }
        internal static uint DivUInt32(uint dividend, uint divisor) { if (divisor == 0) Environment.FailFast(); return dividend / divisor; }
        internal static long DivInt64(long dividend, long divisor) { if (divisor == 0 || (divisor == -1 && dividend == long.MinValue)) Environment.FailFast(); return dividend / divisor; }
        internal static ulong DivUInt64(ulong dividend, ulong divisor) { if (divisor == 0) Environment.FailFast(); return dividend / divisor; }
        internal static int ModInt32(int dividend, int divisor) { if (divisor == 0 || (divisor == -1 && dividend == int.MinValue)) Environment.FailFast(); return dividend % divisor; }
        internal static uint ModUInt32(uint dividend, uint divisor) { if (divisor == 0) Environment.FailFast(); return dividend % divisor; }
        internal static long ModInt64(long dividend, long divisor) { if (divisor == 0 || (divisor == -1 && dividend == long.MinValue)) Environment.FailFast(); return dividend % divisor; }
        internal static ulong ModUInt64(ulong dividend, ulong divisor) { if (divisor == 0) Environment.FailFast(); return dividend % divisor; }
        internal static int ConvertToInt32Checked(double value) { Environment.FailFast(); return 0; }
        internal static uint ConvertToUInt32Checked(double value) { Environment.FailFast(); return 0; }
        internal static long ConvertToInt64Checked(double value) { Environment.FailFast(); return 0; }
        internal static ulong ConvertToUInt64Checked(double value) { Environment.FailFast(); return 0; }
    }

    internal static class SpanHelpers
    {
        internal static void ClearWithoutReferences(ref byte dest, nuint len) => Fill(ref dest, 0, len);

        internal static void Fill(ref byte dest, byte value, nuint len)
        {
            for (nuint i = 0; i < len; i++)
                Runtime.CompilerServices.Unsafe.Add(ref dest, (nint)i) = value;
        }

        internal static void Memmove(ref byte dest, ref byte src, nuint len)
        {
            if ((nuint)(nint)Runtime.CompilerServices.Unsafe.ByteOffset(ref src, ref dest) >= len)
                for (nuint i = 0; i < len; i++)
                    Runtime.CompilerServices.Unsafe.Add(ref dest, (nint)i) = Runtime.CompilerServices.Unsafe.Add(ref src, (nint)i);
            else
                for (nuint i = len; i > 0; i--)
                    Runtime.CompilerServices.Unsafe.Add(ref dest, (nint)(i - 1)) = Runtime.CompilerServices.Unsafe.Add(ref src, (nint)(i - 1));
        }
    }

    internal static class Buffer
    {
        internal static void BulkMoveWithWriteBarrier(ref byte destination, ref byte source, nuint byteCount)
            => SpanHelpers.Memmove(ref destination, ref source, byteCount);
    }
}
