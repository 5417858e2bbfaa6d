// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/linux/moduleparam.h and jiffies.h as seen from C#: the partial declarations each
// backend implements. The module's entry points (module_init and friends) are in ModuleEntry.cs.

namespace Kernel
{
    /// <summary>
    /// Module parameters (include/linux/moduleparam.h). Each one is declared with module_param()
    /// in the module's <c>.modinfo.c</c> next to its C# source, which is where modinfo reads its
    /// description; C# reads the value given to insmod by name.
    /// </summary>
    public static unsafe partial class ModuleParam
    {
        /// <summary>A <c>charp</c> parameter's value (NUL-terminated), or null when insmod did not set it.</summary>
        public static partial byte* Charp(System.ReadOnlySpan<byte> name);

        /// <summary>An <c>int</c> parameter's value (0 when insmod did not set it).</summary>
        public static partial int Int(System.ReadOnlySpan<byte> name);
    }

    /// <summary><c>jiffies</c> (include/linux/jiffies.h): the tick counter.</summary>
    public static partial class Jiffies
    {
        /// <summary>The current value of <c>jiffies</c>.</summary>
        public static partial ulong Now();

        /// <summary><c>HZ</c>: ticks per second of this kernel.</summary>
        public static partial uint Hz();
    }
}
