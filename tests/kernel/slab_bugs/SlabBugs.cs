// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// slab_bugs in C#: the test module ../slab_bugs.c, ported line for line to the C# kernel API, so
// that the same classic slab bugs run in the model (`insmod slab_bugs.ko bug=double_free
// cache=plain` in the shell or a script) and can be compared with what the real kernels do with
// the C module (tests/vm/bugs.sh). Same parameters, same log lines, same order of operations:
//
//   cache=ctor   a cache like simple_cache's: a 64-byte struct with a list_head, SLAB_HWCACHE_ALIGN
//                and a constructor (id = -1, name zeroed, list initialised)
//   cache=plain  a 64-byte cache with no flags and no constructor, a list_head at offset 0
//
//   bug=destroy_live            alloc A and B, free B, kmem_cache_destroy with A live
//   bug=double_free             alloc A, free A, free A
//   bug=double_free_live        alloc A and B, free A, free B, free A (not at the freelist head),
//                               then alloc 3 objects and say whether two are the same pointer
//   bug=double_free_live_head   alloc A and B, free A, free A (B stays live)
//   bug=overflow                alloc A, write one byte at A + 64, free A
//   bug=use_after_free          alloc A, free A, write 8 bytes of 0x41 at A + 16, alloc, free
//   bug=list_del_twice          alloc A, list_add A's list_head, list_del it twice
//   bug=pad_overwrite           alloc A, write 0x41 at the slab's last byte (the padding after
//                               its last object with cache=plain), free A
//   bug=freeptr_corrupt         alloc A and B, free A, write 8 x 0x41 at A + 72 (A's free pointer
//                               under slub_debug=FZPU), alloc C, free C, free B
//   bug=invalid_free            alloc A, free A + 8, free A
//   bug=kmalloc_redzone         p = kmalloc(50), write 0x41 at p + 50, kfree(p)
//
// Written in the freestanding subset, like module/SimpleCache.cs.
//
// The functions the kernel's reports name are called as in C (alloc_one, free_one, destroy_cache,
// slab_bugs_init, slab_bugs_exit, bug_ctor): slub_debug's "Allocated in alloc_one+0x1b/0x3a
// [slab_bugs]" and kmem_cache_destroy's "... when called from destroy_cache+0x24/0x32
// [slab_bugs]" print them with %pS, and the model prints the C# method's name there. They are
// kept out of line (NoInlining) for the same reason: the 6.1 build of slab_bugs.c does not
// inline them (the 6.12 build inlines them into slab_bugs_init; tests/vm/bugs.sh allows for that).

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kernel;

namespace SimpleCache.Bugs
{
    /// <summary><c>struct bug_obj</c>: simple_cache's object layout, the list node at offset 48.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    public unsafe struct BugObj
    {
        /// <summary><c>offsetof(struct bug_obj, list)</c>.</summary>
        public const int ListOffset = 48;
        [FieldOffset(0)] public int Id;
        [FieldOffset(4)] public fixed byte Name[32];
        [FieldOffset(40)] public ulong Created;
        [FieldOffset(48)] public ListHead List;
    }

    /// <summary>The module.</summary>
    public static unsafe class SlabBugsModule
    {
        private const uint ObjectSize = 64;   // kmem_cache_size() of both caches

        private static KmemCache* s_cache;     // what module exit destroys, if init left it
        private static bool s_ctor;
#pragma warning disable CS0649   // written through Head (List.Init), as C's LIST_HEAD() sets it up
        private static ListHead s_head;
#pragma warning restore CS0649

        private static ListHead* Head => (ListHead*)Unsafe.AsPointer(ref s_head);

        /// <summary>bug_ctor().</summary>
        [UnmanagedCallersOnly(EntryPoint = ModuleEntry.SlabCtor)]
        public static void bug_ctor(void* p)
        {
            BugObj* o = (BugObj*)p;
            o->Id = -1;
            for (int i = 0; i < 32; i++)
                o->Name[i] = 0;
            Kernel.List.Init(&o->List);
        }

        private static ListHead* ObjList(void* obj) => s_ctor ? &((BugObj*)obj)->List : (ListHead*)obj;

        private static byte* CacheName => s_ctor ? Str("bug_ctor"u8) : Str("bug_plain"u8);

        // u8 literals are NUL-terminated in the compiled image, like C strings.
        private static byte* Str(System.ReadOnlySpan<byte> s) => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(s));

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void* alloc_one(System.ReadOnlySpan<byte> what)
        {
            void* p = Slab.KmemCacheAlloc(s_cache, Gfp.Kernel);
            Printk.PrInfo("bug: alloc %s = %px\n"u8, Str(what), (byte*)p);
            return p;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void free_one(System.ReadOnlySpan<byte> what, void* p)
        {
            Printk.PrInfo("bug: free %s = %px\n"u8, Str(what), (byte*)p);
            Slab.KmemCacheFree(s_cache, p);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void destroy_cache()
        {
            Printk.PrInfo("bug: kmem_cache_destroy %s\n"u8, CacheName);
            Slab.KmemCacheDestroy(s_cache);
            s_cache = null;
        }

        private static bool Is(byte* value, System.ReadOnlySpan<byte> word)
        {
            int i = 0;
            for (; i < word.Length && word[i] != 0; i++)
                if (value[i] != word[i])
                    return false;
            return value[i] == 0;
        }

        /// <summary>slab_bugs_init().</summary>
        [UnmanagedCallersOnly(EntryPoint = ModuleEntry.Init)]
        public static int slab_bugs_init()
        {
            Kernel.List.Init(Head);
            byte* bug = ModuleParam.Charp("bug"u8);
            byte* cache = ModuleParam.Charp("cache"u8);
            if (bug == null)
                bug = Str("double_free"u8);
            if (cache == null)
                cache = Str("ctor"u8);
            Printk.PrInfo("bug: start %s %s\n"u8, bug, cache);
            if (Is(cache, "ctor"u8))
            {
                s_ctor = true;
                s_cache = Slab.KmemCacheCreate("bug_ctor"u8, (uint)sizeof(BugObj), 0, SlabFlags.HwcacheAlign, &bug_ctor);
            }
            else if (Is(cache, "plain"u8))
                s_cache = Slab.KmemCacheCreate("bug_plain"u8, 64, 0, 0, null);
            else
            {
                Printk.PrErr("bug: unknown cache %s\n"u8, cache);
                return -Errno.EINVAL;
            }
            if (s_cache == null)
            {
                Printk.PrErr("bug: kmem_cache_create failed\n"u8);
                return -Errno.ENOMEM;
            }
            Printk.PrInfo("bug: cache %s object_size %u\n"u8, CacheName, ObjectSize);

            void* a, b;
            if (Is(bug, "destroy_live"u8))
            {
                a = alloc_one("A"u8);
                b = alloc_one("B"u8);
                free_one("B"u8, b);
                destroy_cache();   // A is live: the cache cannot go; A is leaked with it
            }
            else if (Is(bug, "double_free"u8))
            {
                a = alloc_one("A"u8);
                free_one("A"u8, a);
                free_one("A again"u8, a);
                destroy_cache();
            }
            else if (Is(bug, "double_free_live"u8))
            {
                a = alloc_one("A"u8);
                b = alloc_one("B"u8);
                free_one("A"u8, a);
                free_one("B"u8, b);
                free_one("A again"u8, a);
                void* x0 = Slab.KmemCacheAlloc(s_cache, Gfp.Kernel);
                void* x1 = Slab.KmemCacheAlloc(s_cache, Gfp.Kernel);
                void* x2 = Slab.KmemCacheAlloc(s_cache, Gfp.Kernel);
                int same = x0 == x1 || x0 == x2 || x1 == x2 ? 1 : 0;
                Printk.PrInfo("bug: alloc %d %d %d same=%d\n"u8, Which(x0, a, b), Which(x1, a, b), Which(x2, a, b), same);
                Printk.PrInfo("bug: allocated %px %px %px (1 = A, 2 = B, 0 = another)\n"u8, (byte*)x0, (byte*)x1, (byte*)x2);
                if (same != 0)
                {
                    // The freelist is a cycle (or worse): freeing or destroying would loop or crash.
                    Printk.PrInfo("bug: freelist corrupt, cache and objects left as they are\n"u8);
                    s_cache = null;
                }
                else
                {
                    free_one("x"u8, x0);
                    free_one("x"u8, x1);
                    free_one("x"u8, x2);
                    destroy_cache();
                }
            }
            else if (Is(bug, "double_free_live_head"u8))
            {
                a = alloc_one("A"u8);
                b = alloc_one("B"u8);
                free_one("A"u8, a);
                free_one("A again"u8, a);
                free_one("B"u8, b);
                destroy_cache();
            }
            else if (Is(bug, "overflow"u8))
            {
                a = alloc_one("A"u8);
                Printk.PrInfo("bug: write 0x41 at A + %u\n"u8, ObjectSize);
                ((byte*)a)[ObjectSize] = 0x41;
                free_one("A"u8, a);
                destroy_cache();
            }
            else if (Is(bug, "use_after_free"u8))
            {
                a = alloc_one("A"u8);
                free_one("A"u8, a);
                Printk.PrInfo("bug: write 8 x 0x41 at A + 16 after the free\n"u8);
                for (int i = 16; i < 24; i++)
                    ((byte*)a)[i] = 0x41;
                b = alloc_one("C"u8);
                free_one("C"u8, b);
                destroy_cache();
            }
            else if (Is(bug, "list_del_twice"u8))
            {
                a = alloc_one("A"u8);
                Kernel.List.Add(ObjList(a), Head);
                Printk.PrInfo("bug: list_del once\n"u8);
                Kernel.List.Del(ObjList(a));
                Printk.PrInfo("bug: list_del twice\n"u8);
                Kernel.List.Del(ObjList(a));
                free_one("A"u8, a);
                destroy_cache();
            }
            else if (Is(bug, "pad_overwrite"u8))
            {
                a = alloc_one("A"u8);
                byte* slab = (byte*)Slab.SlabAddress(a);
                nuint size = Slab.SlabSize(a);
                Printk.PrInfo("bug: write 0x41 at the slab's last byte, slab + %lu\n"u8, (ulong)(size - 1));
                slab[size - 1] = 0x41;
                free_one("A"u8, a);
                destroy_cache();
            }
            else if (Is(bug, "freeptr_corrupt"u8))
            {
                a = alloc_one("A"u8);
                b = alloc_one("B"u8);
                free_one("A"u8, a);
                Printk.PrInfo("bug: write 8 x 0x41 at A + 72, A's free pointer under slub_debug\n"u8);
                for (int i = 72; i < 80; i++)
                    ((byte*)a)[i] = 0x41;
                void* c = alloc_one("C"u8);
                if (c != null)
                    free_one("C"u8, c);
                free_one("B"u8, b);
                destroy_cache();
            }
            else if (Is(bug, "invalid_free"u8))
            {
                a = alloc_one("A"u8);
                free_one("A + 8"u8, (byte*)a + 8);
                free_one("A"u8, a);
                destroy_cache();
            }
            else if (Is(bug, "kmalloc_redzone"u8))
            {
                byte* p = (byte*)Slab.Kmalloc(50, Gfp.Kernel);
                Printk.PrInfo("bug: kmalloc 50 = %px\n"u8, p);
                if (p != null)
                {
                    Printk.PrInfo("bug: write 0x41 at p + 50\n"u8);
                    p[50] = 0x41;
                    Printk.PrInfo("bug: kfree p\n"u8);
                    Slab.Kfree(p);
                }
                destroy_cache();
            }
            else
            {
                Printk.PrErr("bug: unknown bug %s\n"u8, bug);
                destroy_cache();
                return -Errno.EINVAL;
            }
            Printk.PrInfo("bug: done\n"u8);
            return 0;
        }

        private static int Which(void* x, void* a, void* b) => x == a ? 1 : x == b ? 2 : 0;

        /// <summary>slab_bugs_exit().</summary>
        [UnmanagedCallersOnly(EntryPoint = ModuleEntry.Exit)]
        public static void slab_bugs_exit()
        {
            if (s_cache != null)
                destroy_cache();
            Printk.PrInfo("bug: exit\n"u8);
        }
    }
}
