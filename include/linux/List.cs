// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/linux/list.h, ported to C#: the kernel's circular, doubly linked list with a sentinel
// head. A ListHead is embedded in the object it links (struct cache_obj has one); ContainerOf
// walks back from the embedded node to the object, as container_of() does.
//
// Shared source: both backends compile this file. The checks are those of list.h under
// CONFIG_DEBUG_LIST (on in Debian's 6.1 and 6.12); a failed one goes to the kernel's own report
// (lib/list_debug.c, in the real kernel the very function a C module's list_del() calls), which
// with Debian's CONFIG_BUG_ON_DATA_CORRUPTION prints the corruption and BUG()s: the task dies.
// list_del() poisons the removed entry with LIST_POISON1/2 (include/linux/poison.h).

namespace Kernel
{
    /// <summary>
    /// <c>struct list_head</c>: two pointers, next and prev. An empty list is a head that points
    /// at itself in both directions; there are no NULL links anywhere in a live list.
    /// </summary>
    public unsafe struct ListHead
    {
        /// <summary><c>list_head.next</c>.</summary>
        public ListHead* Next;

        /// <summary><c>list_head.prev</c>.</summary>
        public ListHead* Prev;
    }

    /// <summary>The operations of <c>include/linux/list.h</c> and their <c>lib/list_debug.c</c> checks.</summary>
    public static unsafe partial class List
    {
        /// <summary><c>LIST_POISON1</c> on x86-64: <c>0x100 + POISON_POINTER_DELTA</c> (0xdead000000000000).</summary>
        public static ListHead* Poison1 => (ListHead*)0xdead000000000100UL;

        /// <summary><c>LIST_POISON2</c> on x86-64: <c>0x122 + POISON_POINTER_DELTA</c>.</summary>
        public static ListHead* Poison2 => (ListHead*)0xdead000000000122UL;

        /// <summary><c>INIT_LIST_HEAD(list)</c>: makes <paramref name="list"/> an empty list (or an unlinked entry).</summary>
        public static void Init(ListHead* list)
        {
            list->Next = list;
            list->Prev = list;
        }

        /// <summary><c>list_add(new, head)</c>: inserts <paramref name="entry"/> right after <paramref name="head"/> (a stack).</summary>
        /// <returns>false if the list was corrupt and nothing was changed (the debug check fired).</returns>
        public static bool Add(ListHead* entry, ListHead* head) => Insert(entry, head, head->Next);

        /// <summary><c>list_add_tail(new, head)</c>: inserts <paramref name="entry"/> right before <paramref name="head"/> (a queue).</summary>
        /// <returns>false if the list was corrupt and nothing was changed (the debug check fired).</returns>
        public static bool AddTail(ListHead* entry, ListHead* head) => Insert(entry, head->Prev, head);

        /// <summary>
        /// <c>list_del(entry)</c>: unlinks <paramref name="entry"/> and poisons its pointers, so a
        /// second list_del or a walk through a stale entry faults on a recognisable address.
        /// </summary>
        /// <returns>false if the entry or its neighbours were corrupt and nothing was changed.</returns>
        public static bool Del(ListHead* entry)
        {
            if (!DelEntryValid(entry))
                return false;
            Link(entry->Prev, entry->Next);
            entry->Next = Poison1;
            entry->Prev = Poison2;
            return true;
        }

        /// <summary><c>list_del_init(entry)</c>: unlinks <paramref name="entry"/> and leaves it as an empty list.</summary>
        /// <returns>false if the entry or its neighbours were corrupt and nothing was changed.</returns>
        public static bool DelInit(ListHead* entry)
        {
            if (!DelEntryValid(entry))
                return false;
            Link(entry->Prev, entry->Next);
            Init(entry);
            return true;
        }

        /// <summary><c>list_move_tail(list, head)</c>: moves <paramref name="entry"/> to the end of another list.</summary>
        public static bool MoveTail(ListHead* entry, ListHead* head) => DelInit(entry) && AddTail(entry, head);

        /// <summary><c>list_empty(head)</c>: whether the list has no entries.</summary>
        public static bool Empty(ListHead* head) => head->Next == head;

        /// <summary><c>list_is_singular(head)</c>: whether the list has exactly one entry.</summary>
        public static bool IsSingular(ListHead* head) => !Empty(head) && head->Next == head->Prev;

        /// <summary><c>list_is_last(entry, head)</c>: whether <paramref name="entry"/> is the last entry.</summary>
        public static bool IsLast(ListHead* entry, ListHead* head) => entry->Next == head;

        /// <summary><c>list_count_nodes(head)</c> (6.3+): counts the entries by walking the list.</summary>
        public static int Count(ListHead* head)
        {
            int n = 0;
            for (ListHead* p = head->Next; p != head; p = p->Next)
                n++;
            return n;
        }

        /// <summary>
        /// <c>list_for_each_entry(pos, head, member)</c>: visits every object on the list, in
        /// order. <paramref name="offset"/> is <c>offsetof(T, member)</c>, the embedded node's
        /// place in the object. As in C, the body must not unlink the object it is visiting (the
        /// walk reads <c>pos-&gt;next</c> after the body): use <see cref="ForEachEntrySafe{T}"/>
        /// for that.
        /// <code>foreach (CacheObj* obj in List.ForEachEntry&lt;CacheObj&gt;(head, CacheObj.ListOffset))</code>
        /// </summary>
        public static ListWalk<T> ForEachEntry<T>(ListHead* head, int offset) where T : unmanaged =>
            new ListWalk<T>(head, offset, safe: false);

        /// <summary>
        /// <c>list_for_each_entry_safe(pos, n, head, member)</c>: visits every object on the list
        /// and may unlink and free the one it is visiting, because the next node is read before
        /// the body runs (the C macro's <c>n</c>). Unlinking any other object is still unsafe.
        /// </summary>
        public static ListWalk<T> ForEachEntrySafe<T>(ListHead* head, int offset) where T : unmanaged =>
            new ListWalk<T>(head, offset, safe: true);

        /// <summary>
        /// <c>container_of(ptr, type, member)</c>: the address of the object that embeds
        /// <paramref name="node"/> at byte offset <paramref name="offset"/>. C computes the offset
        /// with offsetof(); C# code passes a constant checked against the struct layout by tests.
        /// </summary>
        public static void* ContainerOf(ListHead* node, int offset) => (byte*)node - offset;

        private static bool Insert(ListHead* entry, ListHead* prev, ListHead* next)
        {
            if (!AddValid(entry, prev, next))
                return false;
            next->Prev = entry;
            entry->Next = next;
            entry->Prev = prev;
            prev->Next = entry;
            return true;
        }

        private static void Link(ListHead* prev, ListHead* next)
        {
            next->Prev = prev;
            prev->Next = next;
        }

        // __list_add_valid() of list.h under CONFIG_DEBUG_LIST (on in Debian's kernels): the
        // checks inline, and on a failure the kernel's own report, which says what is wrong.
        private static bool AddValid(ListHead* entry, ListHead* prev, ListHead* next) =>
            (prev != null && next != null && next->Prev == prev && prev->Next == next && entry != prev && entry != next)
            || AddValidOrReport(entry, prev, next);

        // __list_del_entry_valid(), the same for list_del().
        private static bool DelEntryValid(ListHead* entry)
        {
            ListHead* prev = entry->Prev;
            ListHead* next = entry->Next;
            return (next != null && prev != null && next != Poison1 && prev != Poison2 && prev->Next == entry && next->Prev == entry)
                || DelEntryValidOrReport(entry);
        }

        /// <summary>
        /// Backend: lib/list_debug.c's <c>__list_add_valid_or_report()</c> (6.12;
        /// <c>__list_add_valid()</c> in 6.1): each check again, the first failure reported with
        /// CHECK_DATA_CORRUPTION(). Debian builds with CONFIG_BUG_ON_DATA_CORRUPTION, so the
        /// report ends in BUG() and the calling task dies; otherwise it WARNs and returns false,
        /// and the operation is refused.
        /// </summary>
        private static partial bool AddValidOrReport(ListHead* entry, ListHead* prev, ListHead* next);

        /// <summary>Backend: <c>__list_del_entry_valid_or_report()</c> (6.12; <c>__list_del_entry_valid()</c> in 6.1), as above.</summary>
        private static partial bool DelEntryValidOrReport(ListHead* entry);
    }

    /// <summary>
    /// The walk behind <see cref="List.ForEachEntry{T}"/> and <see cref="List.ForEachEntrySafe{T}"/>:
    /// an enumerator that foreach uses directly (a ref struct on the stack: no allocation, no
    /// interface, no indirect call, so it compiles into the freestanding kernel object as a plain
    /// loop). <c>Current</c> is <c>list_entry(pos, T, member)</c>.
    /// </summary>
    public unsafe ref struct ListWalk<T> where T : unmanaged
    {
        private readonly ListHead* _head;
        private readonly int _offset;
        private readonly bool _safe;
        private ListHead* _pos;
        private ListHead* _next;

        internal ListWalk(ListHead* head, int offset, bool safe)
        {
            _head = head;
            _offset = offset;
            _safe = safe;
            _pos = head;
            _next = head->Next;
        }

        /// <summary>The walk itself, for foreach.</summary>
        public readonly ListWalk<T> GetEnumerator() => this;

        /// <summary>The object being visited: <c>list_entry(pos, T, member)</c>.</summary>
        public readonly T* Current => (T*)List.ContainerOf(_pos, _offset);

        /// <summary>
        /// Steps to the next node: <c>pos = pos-&gt;next</c> (read now, after the body), or for the
        /// safe walk <c>pos = n, n = pos-&gt;next</c> (read before the body).
        /// </summary>
        public bool MoveNext()
        {
            _pos = _safe ? _next : _pos->Next;
            if (_pos == _head)
                return false;
            _next = _pos->Next;
            return true;
        }
    }
}
