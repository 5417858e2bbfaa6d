// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/linux/List.cs (the list.h port shared by both backends): the operations, list_del's
// poisoning, and lib/list_debug.c's checks with their messages: with Debian's
// CONFIG_BUG_ON_DATA_CORRUPTION a BUG at each version's line, without it a WARN and a refusal.

using System.Linq;
using Kernel;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public unsafe class ListTests
    {
        [Fact]
        public void AddTailQueuesAndAddStacks()
        {
            ListHead head, a, b, c;
            List.Init(&head);
            Assert.True(List.Empty(&head));
            Assert.True(List.AddTail(&a, &head));
            Assert.True(List.AddTail(&b, &head));
            Assert.True(List.Add(&c, &head));
            Assert.True(head.Next == &c && c.Next == &a && a.Next == &b && b.Next == &head);
            Assert.True(head.Prev == &b && b.Prev == &a && a.Prev == &c && c.Prev == &head);
            Assert.Equal(3, List.Count(&head));
            Assert.True(List.IsLast(&b, &head));
        }

        [Fact]
        public void DelPoisonsAndDelInitReinitialises()
        {
            ListHead head, a, b;
            List.Init(&head);
            List.AddTail(&a, &head);
            List.AddTail(&b, &head);
            Assert.True(List.Del(&a));
            Assert.True(a.Next == List.Poison1 && a.Prev == List.Poison2);
            Assert.Equal(0xdead000000000100UL, (ulong)a.Next);
            Assert.Equal(0xdead000000000122UL, (ulong)a.Prev);
            Assert.True(List.IsSingular(&head));
            Assert.True(List.DelInit(&b));
            Assert.True(b.Next == &b && b.Prev == &b);
            Assert.True(List.Empty(&head));
        }

        [Fact]
        public void AnEmptyListIsNotSingular()
        {
            ListHead head, a, b;
            List.Init(&head);
            Assert.False(List.IsSingular(&head));   // next == prev (both head), but no entry
            List.AddTail(&a, &head);
            Assert.True(List.IsSingular(&head));
            List.AddTail(&b, &head);
            Assert.False(List.IsSingular(&head));
        }

        [Fact]
        public void DelInitOfACorruptEntryChangesNothing()
        {
            using var k = K.Boot(bugOnDataCorruption: false);
            ListHead head, a, b;
            List.Init(&head);
            List.AddTail(&a, &head);
            List.AddTail(&b, &head);
            b.Prev = &head;   // b's prev no longer points at a
            Assert.False(List.DelInit(&a));
            Assert.True(a.Next == &b && a.Prev == &head && head.Next == &a);
            Assert.Contains(K.AllLines(k), l => l.StartsWith("list_del corruption. next->prev should be "));
        }

        [Fact]
        public void AnAddBesideOneNullNeighbourIsRefused()
        {
            using var k = K.Boot(bugOnDataCorruption: false);
            ListHead head, a;
            List.Init(&head);
            head.Prev = null;   // only one side is NULL
            Assert.False(List.AddTail(&a, &head));
            Assert.True(head.Next == &head);
            Assert.Contains(K.AllLines(k), l => l == "list_add corruption. prev is NULL.");
        }

        [Fact]
        public void TheUnsafeWalkSeesAnEntryAddedAfterTheCurrentOneAndTheSafeWalkDoesNot()
        {
            // list_for_each_entry reads pos->next after the body; _safe read it before.
            const int offset = 0;
            ListHead head, a, b, added1, added2;
            List.Init(&head);
            List.AddTail(&a, &head);
            List.AddTail(&b, &head);
            int seen = 0;
            foreach (ListHead* node in List.ForEachEntry<ListHead>(&head, offset))
            {
                seen++;
                if (node == &a)
                    List.Add(&added1, &a);
            }
            Assert.Equal(3, seen);   // a, added1, b
            List.Del(&added1);
            seen = 0;
            foreach (ListHead* node in List.ForEachEntrySafe<ListHead>(&head, offset))
            {
                seen++;
                if (node == &a)
                    List.Add(&added2, &a);
            }
            Assert.Equal(2, seen);   // a, b: the next node was read before added2 came
        }

        [Fact]
        public void ASecondListDelIsRefusedWithTheDebugListMessage()
        {
            using var k = K.Boot(bugOnDataCorruption: false);
            ListHead head, a;
            List.Init(&head);
            List.AddTail(&a, &head);
            Assert.True(List.Del(&a));
            Assert.False(List.Del(&a));
            string[] lines = K.AllLines(k);
            Assert.Contains($"list_del corruption, {(ulong)&a:x16}->next is LIST_POISON1 (dead000000000100)", lines);
            Assert.Contains(lines, l => l.StartsWith("WARNING: CPU: ") && l.Contains(" at lib/list_debug.c:56 __list_del_entry_valid_or_report"));
            Assert.True(List.Empty(&head));
        }

        [Theory]
        [InlineData(KernelVersion.V6_1, 53, "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI")]
        [InlineData(KernelVersion.V6_12, 56, "Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI")]
        public void ASecondListDelBugsAtEachVersionsLineAndKillsTheTask(KernelVersion version, int line, string header)
        {
            // Debian's CONFIG_BUG_ON_DATA_CORRUPTION: the message at KERN_ERR, then BUG() in
            // lib/list_debug.c (6.1's line as its VM prints it; 6.12's from its source), an oops,
            // and the task is killed. On a host thread (no module frames) the kill is an exception.
            using var k = K.Boot(version);
            ListHead head, a;
            ListHead* pa = &a;
            List.Init(&head);
            List.AddTail(&a, &head);
            Assert.True(List.Del(&a));
            var killed = Assert.Throws<SimpleCache.Model.Kernel.TaskKilledException>(() => List.Del(pa));
            Assert.Equal(139, killed.ExitStatus);
            var records = k.Log.Read();
            string[] lines = records.Select(r => r.Text).ToArray();
            int at = System.Array.IndexOf(lines, $"list_del corruption, {(ulong)pa:x16}->next is LIST_POISON1 (dead000000000100)");
            Assert.True(at >= 0, string.Join('\n', lines));
            Assert.Equal(LogLevel.Err, records[at].Level);
            Assert.Equal("------------[ cut here ]------------", lines[at + 1]);
            Assert.Equal($"kernel BUG at lib/list_debug.c:{line}!", lines[at + 2]);
            Assert.Equal(LogLevel.Crit, records[at + 2].Level);
            Assert.Equal(header, lines[at + 3]);
            Assert.Contains("D", k.Taint);
        }

        [Fact]
        public void ADoubleAddIsRefused()
        {
            using var k = K.Boot(bugOnDataCorruption: false);
            ListHead head, a;
            List.Init(&head);
            Assert.True(List.AddTail(&a, &head));
            Assert.False(List.AddTail(&a, &head));
            ulong addr = (ulong)&a;
            Assert.Contains(K.AllLines(k), l => l.StartsWith("list_add double add: new=") && l.Contains($"{addr:x16}"));
            Assert.Equal(1, List.Count(&head));
        }

        [Fact]
        public void ACorruptNeighbourIsDetected()
        {
            using var k = K.Boot(bugOnDataCorruption: false);
            ListHead head, a, b, stray, x;
            List.Init(&head);
            List.AddTail(&a, &head);
            List.AddTail(&b, &head);
            b.Prev = &stray;   // b no longer points back at a
            Assert.False(List.Del(&a));
            string expected = $"list_del corruption. next->prev should be {(ulong)&a:x16}, but was {(ulong)&stray:x16}.";
            Assert.Contains(K.AllLines(k), l => l.StartsWith(expected));
            Assert.False(List.Add(&x, &a));
            Assert.Contains(K.AllLines(k), l => l.StartsWith("list_add corruption. next->prev should be prev"));
        }

        [Fact]
        public void ContainerOfWalksBackToTheObject()
        {
            global::SimpleCache.CacheObj obj = default;
            Assert.Equal(64, sizeof(global::SimpleCache.CacheObj));
            Assert.Equal(global::SimpleCache.CacheObj.ListOffset, (int)((byte*)&obj.List - (byte*)&obj));
            Assert.True(global::SimpleCache.CacheObj.FromList(&obj.List) == &obj);
            Assert.Equal(40, (int)((byte*)&obj.Created - (byte*)&obj));
            Assert.Equal(4, (int)((byte*)obj.Name - (byte*)&obj));
        }

        [Fact]
        public void PrintkFormatsLikeVsprintf()
        {
            using var k = K.Boot();
            byte* name = stackalloc byte[] { (byte)'a', (byte)'b', 0 };
            Printk.PrInfo("%d|%5d|%-4d|%05d\n"u8, -42, 7, 3, 42);
            Assert.Equal("-42|    7|3   |00042", K.AllLines(k).Last());
            Printk.PrInfo("%u|%x|%X|%lu\n"u8, 4000000000u, 255, 255, ulong.MaxValue);
            Assert.Equal("4000000000|ff|FF|18446744073709551615", K.AllLines(k).Last());
            Printk.PrInfo("%s|%.1s|%c|%%|%d\n"u8, name, name, (int)'z');
            Assert.Equal("ab|a|z|%|0", K.AllLines(k).Last());
            Printk.PrInfo("%d %d %d %d %d %s\n"u8, 1, 2, 3, 4);
            Assert.Equal("1 2 3 4 0 (null)", K.AllLines(k).Last());
            Printk.PrErr("%s %px\n"u8, (byte*)null, (PrintkArg)(void*)0x1234);
            Assert.Equal("(null) 0000000000001234", K.AllLines(k).Last());
            Assert.Equal(LogLevel.Err, k.Log.Read().Last().Level);
        }
    }
}
