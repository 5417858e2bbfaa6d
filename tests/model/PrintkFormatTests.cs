// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/linux/Printk.cs formats in C# what the kernel's lib/vsprintf.c would. The oracle here is
// C's own snprintf() (glibc), which agrees with vsprintf for the subset the API offers: %d %i %u
// %x %X %c %s %% with '-' and '0', a width, a string precision, and hh, h, l, ll, z. CsCheck
// generates formats and arguments; a failure prints the format, the arguments and the seed.
// Where the kernel and C differ (a NULL string, %px), the kernel's behaviour is asserted by hand.

using System;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using CsCheck;
using Kernel;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public unsafe class PrintkFormatTests
    {
        // x86-64 SysV: integer and pointer arguments of a variadic call travel in the same
        // registers as a fixed signature's, so a fixed P/Invoke signature calls snprintf().
        [DllImport("libc", EntryPoint = "snprintf")]
        private static extern int CSnprintf(byte* buffer, nuint size, byte* format, long a, long b, long c, long d);

        private static string C(string format, long[] args)
        {
            byte* buffer = stackalloc byte[TextBuffer.Capacity + 1];
            byte[] f = Encoding.ASCII.GetBytes(format + "\0");
            fixed (byte* fp = f)
                CSnprintf(buffer, TextBuffer.Capacity + 1, fp, args[0], args[1], args[2], args[3]);
            return Marshal.PtrToStringAnsi((nint)buffer);
        }

        private static string CSharp(string format, PrintkArg[] args)
        {
            TextBuffer line = default;
            Printk.Format(ref line, Encoding.ASCII.GetBytes(format), args[0], args[1], args[2], args[3]);
            return Encoding.ASCII.GetString(line.Bytes, line.Length);
        }

        /// <summary>One conversion: its text, and its argument for both sides.</summary>
        private sealed record Spec(string Text, long Integer, string String);

        private static readonly Gen<string> Flags = Gen.OneOf("", "-", "0", "-0", "0-");
        private static readonly Gen<string> Width = Gen.OneOf(Gen.Const(""), Gen.Int[0, 30].Select(w => w.ToString()));
        private static readonly Gen<long> Integers = Gen.OneOf(Gen.Long, Gen.Int.Select(i => (long)i), Gen.Long[-1000, 1000],
            Gen.OneOf(0L, -1L, long.MinValue, long.MaxValue, int.MinValue, int.MaxValue, uint.MaxValue, 255L, 65535L));
        private static readonly Gen<string> Printable = Gen.Char['!', '~'].Array[0, 40].Select(c => new string(c));

        private static readonly Gen<Spec> Conversion = Gen.OneOf(
            Gen.Select(Flags, Width, Gen.OneOf("", "hh", "h", "l", "ll", "z"), Gen.OneOf("d", "i", "u", "x", "X"), Integers,
                (f, w, q, c, v) => new Spec($"%{f}{w}{q}{c}", v, null)),
            Gen.Select(Gen.OneOf("", "-"), Width, Gen.OneOf(Gen.Const(""), Gen.Int[0, 45].Select(p => "." + p)), Printable,
                (f, w, p, text) => new Spec($"%{f}{w}{p}s", 0, text)),
            Gen.Select(Gen.OneOf("", "-"), Width, Gen.Int[0x21, 0x7e], (f, w, ch) => new Spec($"%{f}{w}c", ch, null)));

        private static readonly Gen<(string Format, Spec[] Specs)> Formats =
            Gen.Select(Conversion.Array[0, 4], Printable.Select(t => t.Replace("%", "%%")).Array[5],
                (specs, texts) => (texts[0] + string.Concat(specs.Select((sp, k) => sp.Text + texts[k + 1])), specs));

        [Fact]
        public void FormatsAsCsSnprintfDoes() =>
            Formats.Sample(t =>
            {
                var strings = t.Specs.Select(sp => sp.String == null ? 0 : Marshal.StringToHGlobalAnsi(sp.String)).ToArray();
                try
                {
                    long[] c = new long[4];
                    var cs = new PrintkArg[4];
                    for (int k = 0; k < t.Specs.Length; k++)
                    {
                        c[k] = strings[k] != 0 ? strings[k] : t.Specs[k].Integer;
                        cs[k] = strings[k] != 0 ? (PrintkArg)(byte*)strings[k] : (PrintkArg)t.Specs[k].Integer;
                    }
                    string expected = C(t.Format, c), actual = CSharp(t.Format, cs);
                    if (expected != actual)
                        throw new Exception($"format \"{t.Format}\" with ({string.Join(", ", t.Specs.Select(sp => sp.String != null ? $"\"{sp.String}\"" : sp.Integer.ToString()))}): C prints \"{expected}\", Printk.Format \"{actual}\"");
                }
                finally
                {
                    foreach (nint p in strings)
                        if (p != 0)
                            Marshal.FreeHGlobal(p);
                }
            }, iter: 20000, print: t => t.Format);

        [Theory]
        // Where vsprintf differs from C, or where the cases matter to the module:
        [InlineData("%s", "(null)")]          // string(): a NULL pointer prints "(null)"
        [InlineData("[%8s]", "[  (null)]")]
        [InlineData("%u", "4294967295")]      // -1 as an int
        [InlineData("%lu", "18446744073709551615")]
        [InlineData("%x", "ffffffff")]
        [InlineData("%hhx", "ff")]
        [InlineData("%05c", "    A")]          // a char is padded with spaces, never zeros
        [InlineData("a%qb", "a")]             // an unsupported conversion ends the output (FORMAT_TYPE_INVALID)
        [InlineData("a%5qb", "a")]
        [InlineData("100%%", "100%")]
        [InlineData("%", "")]                 // a lone '%' at the end prints nothing
        // A format that ends inside a conversion prints nothing for it (vsnprintf sees the NUL).
        [InlineData("a%-", "a")]
        [InlineData("a%5", "a")]
        [InlineData("a%.", "a")]
        [InlineData("a%.3", "a")]
        [InlineData("a%h", "a")]
        [InlineData("a%hh", "a")]
        [InlineData("a%l", "a")]
        public void KernelCases(string format, string expected)
        {
            PrintkArg arg = format.Contains('s') ? (PrintkArg)(byte*)null : format.Contains('c') ? (PrintkArg)(int)'A' : (PrintkArg)(-1);
            Assert.Equal(expected, CSharp(format, [arg, default, default, default]));
        }

        [Fact]
        public void ANulInTheFormatEndsIt() => Assert.Equal("ab", CSharp("ab\0cd%d", [1, default, default, default]));

        [Fact]
        public void PercentSTakesAnyPointerAndChecksItAsCheckPointerMsgDoes()
        {
            byte* text = stackalloc byte[] { (byte)'h', (byte)'i', 0 };
            Assert.Equal("hi", CSharp("%s", [(PrintkArg)text, default, default, default]));
            Assert.Equal("hi", CSharp("%s", [(PrintkArg)(void*)text, default, default, default]));   // a void* too
            Assert.Equal("(null)", CSharp("%s", [0, default, default, default]));
            Assert.Equal("(efault)", CSharp("%s", [5, default, default, default]));                 // in the first page
            Assert.Equal("(efault)", CSharp("%s", [(PrintkArg)(void*)(nint)(-12), default, default, default]));   // ERR_PTR(-ENOMEM)
        }

        [Fact]
        public void PxIsFollowedByTheRestOfTheFormat()
        {
            Assert.Equal("0000000000000000|", CSharp("%px|", [(PrintkArg)(void*)0, default, default, default]));
            Assert.Equal("000000000000abcd|", CSharp("%p|", [(PrintkArg)(void*)0xabcd, default, default, default]));   // the model prints %p as %px
        }

        [Fact]
        public void PxPrintsTheRawAddressIn16HexDigits()
        {
            Assert.Equal("0000000000001234", CSharp("%px", [(PrintkArg)(void*)0x1234, default, default, default]));
            Assert.Equal("ffff888012345678", CSharp("%px", [(PrintkArg)(void*)unchecked((nint)0xffff888012345678), default, default, default]));
        }

        [Fact]
        public void ALineLongerThanTheBufferIsCutAtItsCapacity()
        {
            string format = new string('a', TextBuffer.Capacity - 2) + "%d";
            Assert.Equal(new string('a', TextBuffer.Capacity - 2) + "12", CSharp(format, [12345, default, default, default]));
            Assert.Equal(TextBuffer.Capacity, CSharp(format + "%s", [12345, (PrintkArg)(byte*)null, default, default]).Length);
        }

        [Fact]
        public void ARecordLosesOneTrailingNewlineAndASecondLeavesAnEmptyLine()
        {
            using var k = K.Boot();
            Printk.PrInfo("one\n"u8);
            Printk.PrInfo("two"u8);
            Printk.PrInfo("three\n\n"u8);
            Assert.Equal(["one", "two", "three", ""], K.AllLines(k).TakeLast(4));
        }

        [Fact]
        public void FormatsBeyondTheFourthArgumentGetAnEmptyOne() =>
            Assert.Equal("1 2 3 4 0 (null)", CSharp("%d %d %d %d %d %s", [1, 2, 3, 4]));
    }
}
