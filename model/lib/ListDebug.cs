// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// lib/list_debug.c of Linux 6.1 (__list_add_valid, __list_del_entry_valid) and 6.12
// (__list_add_valid_or_report, __list_del_entry_valid_or_report): the same checks and messages
// in both, at different lines. Each check is CHECK_DATA_CORRUPTION() (include/linux/bug.h):
// with CONFIG_BUG_ON_DATA_CORRUPTION (Debian's setting) pr_err() of the message, then BUG() at
// the line where the CHECK_DATA_CORRUPTION( of that check begins (GCC's __LINE__ of a macro
// call that spans lines; the 6.1 VM's "kernel BUG at lib/list_debug.c:53!" for a second list_del
// is line 53 of Debian's 6.1.192 source); without it, a WARN and false. The function in the
// oops's RIP line is the one the VMs show: 6.1's GCC moved the reports into a cold part
// ("__list_del_entry_valid.cold"), 6.12's did not ("__list_del_entry_valid_or_report"); list_add's
// names are taken to follow suit (no scenario reaches them in the VM).

namespace SimpleCache.Model.Lib
{
    /// <summary>The list corruption reports of lib/list_debug.c, for the C# list.h port.</summary>
    public static unsafe class ListDebug
    {
        // The source lines of the checks: prev NULL, next NULL, next->prev, prev->next, double add.
        private static readonly int[] s_addLines61 = [23, 25, 27, 30, 33], s_addLines612 = [25, 27, 29, 32, 35];
        // next NULL, prev NULL, next POISON1, prev POISON2, prev->next, next->prev.
        private static readonly int[] s_delLines61 = [49, 51, 53, 56, 59, 62], s_delLines612 = [52, 54, 56, 59, 62, 65];

        private const ulong Poison1 = 0xdead000000000100UL, Poison2 = 0xdead000000000122UL;

        // struct list_head { next; prev; }
        private static void** Next(void** node) => (void**)node[0];
        private static void** Prev(void** node) => (void**)node[1];

        /// <summary>The report for list_add(new, prev, next): true if the links are sound after all.</summary>
        public static bool AddValidOrReport(ModelKernel kernel, void** entry, void** prev, void** next)
        {
            bool v61 = kernel.Options.Version == Mm.KernelVersion.V6_1;
            int[] line = v61 ? s_addLines61 : s_addLines612;
            string function = v61 ? "__list_add_valid.cold" : "__list_add_valid_or_report";
            return !(Check(kernel, prev == null, "list_add corruption. prev is NULL.", line[0], function)
                || Check(kernel, next == null, "list_add corruption. next is NULL.", line[1], function)
                || Check(kernel, Prev(next) != prev, $"list_add corruption. next->prev should be prev ({P(prev)}), but was {P(Prev(next))}. (next={P(next)}).", line[2], function)
                || Check(kernel, Next(prev) != next, $"list_add corruption. prev->next should be next ({P(next)}), but was {P(Next(prev))}. (prev={P(prev)}).", line[3], function)
                || Check(kernel, entry == prev || entry == next, $"list_add double add: new={P(entry)}, prev={P(prev)}, next={P(next)}.", line[4], function));
        }

        /// <summary>The report for list_del(entry): true if the links are sound after all.</summary>
        public static bool DelEntryValidOrReport(ModelKernel kernel, void** entry)
        {
            bool v61 = kernel.Options.Version == Mm.KernelVersion.V6_1;
            int[] line = v61 ? s_delLines61 : s_delLines612;
            string function = v61 ? "__list_del_entry_valid.cold" : "__list_del_entry_valid_or_report";
            void** prev = Prev(entry), next = Next(entry);
            return !(Check(kernel, next == null, $"list_del corruption, {P(entry)}->next is NULL", line[0], function)
                || Check(kernel, prev == null, $"list_del corruption, {P(entry)}->prev is NULL", line[1], function)
                || Check(kernel, (ulong)next == Poison1, $"list_del corruption, {P(entry)}->next is LIST_POISON1 ({Poison1:x16})", line[2], function)
                || Check(kernel, (ulong)prev == Poison2, $"list_del corruption, {P(entry)}->prev is LIST_POISON2 ({Poison2:x16})", line[3], function)
                || Check(kernel, Next(prev) != entry, $"list_del corruption. prev->next should be {P(entry)}, but was {P(Next(prev))}. (prev={P(prev)})", line[4], function)
                || Check(kernel, Prev(next) != entry, $"list_del corruption. next->prev should be {P(entry)}, but was {P(Prev(next))}. (next={P(next)})", line[5], function));
        }

        // %px
        private static string P(void* p) => ((ulong)p).ToString("x16");

        // CHECK_DATA_CORRUPTION(condition, fmt, ...): whether the data is corrupt, after the report.
        private static bool Check(ModelKernel kernel, bool corruption, string message, int line, string function)
        {
            if (!corruption)
                return false;
            if (kernel.Options.BugOnDataCorruption)
            {
                kernel.Printk(global::Kernel.LogLevel.Err, message);
                kernel.Bug("lib/list_debug.c", line, function);
            }
            kernel.Warn(message, $"lib/list_debug.c:{line} {function}+0x0/0x0");
            return true;
        }
    }
}
