// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// printk(): the kernel's log. The formatting half (a subset of lib/vsprintf.c) is shared source;
// each backend supplies Emit(), which hands a finished line to the real printk() or to the model's
// ring buffer. Formatting happens in C# on the caller's stack: C# has no varargs that C could
// read, and the kernel glue then only ever prints a plain "%s".

namespace Kernel
{
    /// <summary>One printk argument: an integer, a C string (<c>char *</c>, NUL-terminated) or a pointer.</summary>
    public unsafe struct PrintkArg
    {
        internal long Value;
        internal byte* Pointer;
        internal byte Kind; // 0 none, 1 signed, 2 unsigned, 3 string, 4 pointer

        /// <summary>An <c>int</c> argument (%d, %u, %x).</summary>
        public static implicit operator PrintkArg(int value) => new PrintkArg { Value = value, Kind = 1 };
        /// <summary>A <c>long</c> argument (%ld).</summary>
        public static implicit operator PrintkArg(long value) => new PrintkArg { Value = value, Kind = 1 };
        /// <summary>An <c>unsigned int</c> argument (%u).</summary>
        public static implicit operator PrintkArg(uint value) => new PrintkArg { Value = value, Kind = 2 };
        /// <summary>An <c>unsigned long</c> argument (%lu).</summary>
        public static implicit operator PrintkArg(ulong value) => new PrintkArg { Value = (long)value, Kind = 2 };
        /// <summary>A NUL-terminated string (%s); NULL prints "(null)" as in the kernel.</summary>
        public static implicit operator PrintkArg(byte* value) => new PrintkArg { Pointer = value, Kind = 3 };
        /// <summary>A raw pointer (%px).</summary>
        public static explicit operator PrintkArg(void* value) => new PrintkArg { Pointer = (byte*)value, Kind = 4 };
    }

    /// <summary>
    /// A fixed-size text buffer on the stack, filled by <see cref="Printk.Format"/>. Lines longer
    /// than <see cref="Capacity"/> bytes are truncated, as the kernel truncates at LOG_LINE_MAX.
    /// </summary>
    public unsafe struct TextBuffer
    {
        /// <summary>Bytes the buffer holds.</summary>
        public const int Capacity = 256;

        /// <summary>The bytes written so far (not NUL-terminated: every consumer takes <see cref="Length"/>).</summary>
        public fixed byte Bytes[Capacity];

        /// <summary>How many bytes are used.</summary>
        public int Length;

        /// <summary>Appends one byte, dropping it if the buffer is full.</summary>
        public void Put(byte b)
        {
            if (Length < Capacity)
                Bytes[Length++] = b;
        }
    }

    /// <summary><c>printk()</c> and the <c>pr_*()</c> helpers of include/linux/printk.h.</summary>
    public static unsafe partial class Printk
    {
        /// <summary><c>pr_info(fmt, ...)</c>.</summary>
        public static void PrInfo(System.ReadOnlySpan<byte> format, PrintkArg a = default, PrintkArg b = default, PrintkArg c = default, PrintkArg d = default)
            => Log(LogLevel.Info, format, a, b, c, d);

        /// <summary><c>pr_warn(fmt, ...)</c>.</summary>
        public static void PrWarn(System.ReadOnlySpan<byte> format, PrintkArg a = default, PrintkArg b = default, PrintkArg c = default, PrintkArg d = default)
            => Log(LogLevel.Warning, format, a, b, c, d);

        /// <summary><c>pr_err(fmt, ...)</c>.</summary>
        public static void PrErr(System.ReadOnlySpan<byte> format, PrintkArg a = default, PrintkArg b = default, PrintkArg c = default, PrintkArg d = default)
            => Log(LogLevel.Err, format, a, b, c, d);

        /// <summary><c>printk(KERN_&lt;level&gt; fmt, ...)</c>: formats and logs one message.</summary>
        public static void Log(LogLevel level, System.ReadOnlySpan<byte> format, PrintkArg a = default, PrintkArg b = default, PrintkArg c = default, PrintkArg d = default)
        {
            TextBuffer line = default;
            FormatRecord(ref line, format, a, b, c, d);
            Emit(level, line.Bytes, line.Length);
        }

        /// <summary>
        /// Formats one log record: like <see cref="Format"/>, then drops one trailing newline. The
        /// record is the line: the backends add the one newline printk() takes off again (the
        /// glue prints "%.*s\n"), so a message with two trailing newlines leaves an empty line.
        /// </summary>
        internal static void FormatRecord(ref TextBuffer line, System.ReadOnlySpan<byte> format, PrintkArg a, PrintkArg b, PrintkArg c, PrintkArg d)
        {
            Format(ref line, format, a, b, c, d);
            if (line.Length == 0)
                return;
            if (line.Bytes[line.Length - 1] == (byte)'\n')
                line.Length--;
        }

        /// <summary>
        /// <c>snprintf()</c> (lib/vsprintf.c, subset): appends <paramref name="format"/> to
        /// <paramref name="buffer"/>. Conversions: %d %i %u %x %X %c %s %px %%, with flags '-'
        /// and '0', a field width, a precision for strings (%.5s), and the length modifiers hh,
        /// h, l, ll and z (without one, an integer is an int: %u of -1 is 4294967295).
        /// </summary>
        public static void Format(ref TextBuffer buffer, System.ReadOnlySpan<byte> format, PrintkArg a = default, PrintkArg b = default, PrintkArg c = default, PrintkArg d = default)
        {
            int next = 0;
            int i = 0;
            while (i < format.Length)
            {
                byte ch = format[i++];
                if (ch == 0)
                    break;
                if (ch != (byte)'%')
                {
                    buffer.Put(ch);
                    continue;
                }
                if (i >= format.Length)
                    break;
                if (format[i] == (byte)'%')
                {
                    buffer.Put((byte)'%');
                    i++;
                    continue;
                }

                bool left = false, zero = false;
                while (i < format.Length && (format[i] == (byte)'-' || format[i] == (byte)'0'))
                {
                    if (format[i] == (byte)'-') left = true; else zero = true;
                    i++;
                }
                int width = 0;
                while (i < format.Length && format[i] >= (byte)'0' && format[i] <= (byte)'9')
                    width = width * 10 + (format[i++] - (byte)'0');
                int precision = -1;
                if (i < format.Length && format[i] == (byte)'.')
                {
                    i++;
                    precision = 0;
                    while (i < format.Length && format[i] >= (byte)'0' && format[i] <= (byte)'9')
                        precision = precision * 10 + (format[i++] - (byte)'0');
                }
                // The length modifier sets the argument's width, as lib/vsprintf.c's qualifier
                // does: none is an int (32 bits), h a short, hh a char, l, ll and z 64 bits.
                int bits = 32;
                if (i < format.Length && format[i] == (byte)'h')
                {
                    bits = 16;
                    if (++i < format.Length && format[i] == (byte)'h')
                    {
                        bits = 8;
                        i++;
                    }
                }
                else
                    while (i < format.Length && (format[i] == (byte)'l' || format[i] == (byte)'z'))
                    {
                        bits = 64;
                        i++;
                    }
                if (i >= format.Length)
                    break;
                byte conv = format[i++];

                // Conversions beyond the fourth argument get an empty one (0, or "(null)").
                PrintkArg arg = next == 0 ? a : next == 1 ? b : next == 2 ? c : next == 3 ? d : default;
                next++;

                TextBuffer field = default;
                if (conv == (byte)'s')
                {
                    // string() after check_pointer_msg(): NULL prints "(null)", an address in the
                    // first page or an error pointer "(efault)". An integer argument is taken as
                    // the address it holds, as C's va_arg would.
                    byte* s = arg.Kind >= 3 ? arg.Pointer : (byte*)arg.Value;
                    if (s == null)
                        AppendLiteral(ref field, "(null)"u8);
                    else if ((ulong)s < 4096 || (ulong)s > unchecked((ulong)-4096))
                        AppendLiteral(ref field, "(efault)"u8);
                    else
                        for (int k = 0; s[k] != 0 && (precision < 0 || k < precision); k++)
                            field.Put(s[k]);
                    zero = false;
                }
                else if (conv == (byte)'p' && i < format.Length && format[i] == (byte)'K')
                {
                    // %pK: a kernel pointer as /proc/sys/kernel/kptr_restrict allows (lib/vsprintf.c's
                    // restricted_pointer(): 0 hashed as %p, 1 the address for a reader with
                    // CAP_SYSLOG, 2 zeros). The backend decides, with the kernel's own code where
                    // there is one.
                    i++;
                    TextBuffer text = default;
                    int n = RestrictedPointer(arg.Pointer, text.Bytes, 32);
                    for (int k = 0; k < n; k++)
                        field.Put(text.Bytes[k]);
                    zero = false;
                }
                else if (conv == (byte)'p')
                {
                    // %px: the raw address, 16 hex digits on 64-bit. (Plain %p prints a hashed
                    // value in the kernel; only %px and %pK are offered, so both backends print the same.)
                    if (i < format.Length && format[i] == (byte)'x')
                        i++;
                    for (ulong rest = (ulong)arg.Pointer >> 4, digits = 1; digits < 16; digits++, rest >>= 4)
                        if (rest == 0)
                            field.Put((byte)'0');
                    AppendUnsigned(ref field, (ulong)arg.Pointer, 16, false);
                }
                else if (conv == (byte)'c')
                {
                    field.Put((byte)arg.Value);
                    zero = false;   // a char is padded with spaces, whatever the flags
                }
                else if (conv == (byte)'d' || conv == (byte)'i')
                {
                    long v = bits == 64 ? arg.Value : bits == 32 ? (int)arg.Value : bits == 16 ? (short)arg.Value : (sbyte)arg.Value;
                    if (v < 0)
                    {
                        field.Put((byte)'-');
                        AppendUnsigned(ref field, (ulong)(-(v + 1)) + 1, 10, false);
                    }
                    else
                        AppendUnsigned(ref field, (ulong)v, 10, false);
                }
                else if (conv == (byte)'u' || conv == (byte)'x' || conv == (byte)'X')
                {
                    ulong v = bits == 64 ? (ulong)arg.Value : bits == 32 ? (uint)arg.Value : bits == 16 ? (ushort)arg.Value : (byte)arg.Value;
                    AppendUnsigned(ref field, v, conv == (byte)'u' ? 10u : 16u, conv == (byte)'X');
                }
                else
                    return;   // an unsupported conversion: vsnprintf stops there (FORMAT_TYPE_INVALID; it also WARNs once)

                int pad = width - field.Length;
                int from = 0;
                if (!left && zero && field.Bytes[0] == (byte)'-')   // an empty field's first byte is 0
                {
                    buffer.Put((byte)'-');   // the sign goes before the zeros: -0001
                    from = 1;
                }
                if (!left)
                    for (; pad > 0; pad--)
                        buffer.Put(zero ? (byte)'0' : (byte)' ');
                for (int k = from; k < field.Length; k++)
                    buffer.Put(field.Bytes[k]);
                for (; pad > 0; pad--)
                    buffer.Put((byte)' ');
            }
        }

        private static void AppendLiteral(ref TextBuffer buffer, System.ReadOnlySpan<byte> text)
        {
            for (int k = 0; k < text.Length; k++)
                buffer.Put(text[k]);
        }

        private static void AppendUnsigned(ref TextBuffer buffer, ulong value, uint radix, bool upper)
        {
            byte* digits = stackalloc byte[24];
            int n = 0;
            do
            {
                uint digit = (uint)(value % radix);
                digits[n++] = (byte)(digit < 10 ? '0' + digit : (upper ? 'A' : 'a') + digit - 10);
                value /= radix;
            } while (value != 0);
            while (n > 0)
                buffer.Put(digits[--n]);
        }

        /// <summary>Backend: hands one formatted record (no trailing newline) to the kernel log.</summary>
        private static partial void Emit(LogLevel level, byte* text, int length);

        /// <summary>%pK of <paramref name="p"/> into <paramref name="text"/> (at most <paramref name="size"/> bytes): the bytes written.</summary>
        private static partial int RestrictedPointer(void* p, byte* text, int size);
    }

    /// <summary><c>WARN()</c> and friends (include/asm-generic/bug.h).</summary>
    public static unsafe partial class Bug
    {
        /// <summary><c>WARN(1, fmt, ...)</c>: logs the message and a warning with a backtrace; execution goes on.</summary>
        public static void Warn(System.ReadOnlySpan<byte> format, PrintkArg a = default, PrintkArg b = default, PrintkArg c = default, PrintkArg d = default)
        {
            TextBuffer line = default;
            Printk.FormatRecord(ref line, format, a, b, c, d);
            EmitWarning(line.Bytes, line.Length);
        }

        /// <summary>Backend: the kernel's WARN with the given message (a "WARNING: ... at ..." report).</summary>
        private static partial void EmitWarning(byte* text, int length);
    }
}
