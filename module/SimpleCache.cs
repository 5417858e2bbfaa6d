// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple_cache: a SLAB cache of small objects tracked on a kernel linked list.
//
// This is the module itself, the C# counterpart of the brief's simple_cache.c. It is compiled
// twice without change: by NativeAOT into a freestanding object that kbuild links into
// simple_cache.ko (arch/kernel), and by ordinary .NET against the user-space kernel model
// (arch/model). It is written in the subset of C# that needs no runtime: structs, pointers and
// static methods; no classes, no allocation on a GC heap, no exceptions, no static constructors.
//
// On load (insmod):                       On unload (rmmod):
//   1. create the slab cache                1. walk the list
//   2. allocate objects from it             2. unlink each object
//   3. initialise them (the constructor     3. free it back to the cache
//      already ran when the slab was made)  4. destroy the cache
//   4. insert them into the list
//   5. log what happened
//
//   CACHE: created object 1 alpha           CACHE: freeing object 1
//   CACHE: created object 2 beta            CACHE: freeing object 2
//                                           CACHE: cache destroyed
//
// Parameters (declared in simple_cache.modinfo.c, shown by modinfo):
//   names=alpha,beta   the objects to create, comma-separated, each 1..31 printable bytes
//   fail_nth=N         make the Nth allocation of this module fail (1 = the cache itself,
//                      2 = the first object, ...), to exercise every error path on kernels
//                      built without failslab

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kernel;

namespace SimpleCache
{
    /// <summary>
    /// <c>struct cache_obj</c>, laid out exactly as the C struct on x86-64: 64 bytes, the list
    /// node at offset 48. The explicit offsets make the layout a fact rather than a hope, and
    /// <see cref="ListOffset"/> stands in for offsetof(struct cache_obj, list).
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    public unsafe struct CacheObj
    {
        /// <summary>Bytes in <see cref="Name"/>, including the terminating NUL.</summary>
        public const int NameSize = 32;

        /// <summary><c>offsetof(struct cache_obj, list)</c>.</summary>
        public const int ListOffset = 48;

        /// <summary><c>int id</c>: unique identifier; -1 while the object is free (set by the constructor).</summary>
        [FieldOffset(0)] public int Id;

        /// <summary><c>char name[32]</c>: NUL-terminated object name.</summary>
        [FieldOffset(4)] public fixed byte Name[NameSize];

        /// <summary><c>unsigned long created</c>: jiffies when the object was created.</summary>
        [FieldOffset(40)] public ulong Created;

        /// <summary><c>struct list_head list</c>: this object's link in the module's list.</summary>
        [FieldOffset(ListOffset)] public ListHead List;

        /// <summary><c>list_entry(node, struct cache_obj, list)</c>.</summary>
        public static CacheObj* FromList(ListHead* node) => (CacheObj*)Kernel.List.ContainerOf(node, ListOffset);
    }

    /// <summary>The module: its state, its entry points and its cleanup.</summary>
    public static unsafe class SimpleCacheModule
    {
        // static struct kmem_cache *cachep; static LIST_HEAD(objects); and the fault-injection
        // counter. Plain unmanaged statics with no initialiser: they live in the module's .bss.
        private static KmemCache* s_cache;
#pragma warning disable CS0649 // written through its address (INIT_LIST_HEAD), which the compiler does not see
        private static ListHead s_objects;
#pragma warning restore CS0649
        private static int s_allocations;
        private static int s_failNth;

        /// <summary>The head of the module's object list.</summary>
        private static ListHead* Objects => (ListHead*)Unsafe.AsPointer(ref s_objects);

        /// <summary>
        /// The slab constructor, <c>cache_ctor()</c> in the brief. SLUB runs it once for every
        /// object of a slab when it populates that slab, not on each kmem_cache_alloc(): whatever
        /// it sets up must hold again when an object is freed (see <see cref="FreeObject"/>).
        /// </summary>
        [UnmanagedCallersOnly(EntryPoint = ModuleEntry.SlabCtor)]
        public static void CacheCtor(void* p)
        {
            CacheObj* c = (CacheObj*)p;
            c->Id = -1;
            c->Created = Jiffies.Now();
            Kernel.List.Init(&c->List);
        }

        /// <summary><c>module_init(simple_cache_init)</c>: 0, or a negative errno and nothing left behind.</summary>
        [UnmanagedCallersOnly(EntryPoint = ModuleEntry.Init)]
        public static int Init()
        {
            Kernel.List.Init(Objects);
            s_cache = null;
            s_allocations = 0;
            s_failNth = ModuleParam.Int("fail_nth"u8);

            byte* names = ModuleParam.Charp("names"u8);
            if (names == null)
            {
                // u8 literals are NUL-terminated in the compiled image, like C strings.
                fixed (byte* defaults = "alpha,beta"u8)
                    return Load(defaults);
            }
            return Load(names);
        }

        /// <summary><c>module_exit(simple_cache_exit)</c>: frees everything <see cref="Init"/> made.</summary>
        [UnmanagedCallersOnly(EntryPoint = ModuleEntry.Exit)]
        public static void Exit() => DestroyAll();

        private static int Load(byte* names)
        {
            // Validate every name before touching anything: a bad parameter costs nothing.
            int err = ValidateNames(names);
            if (err != 0)
                return err;

            if (FaultInjected())
                s_cache = null;
            else
                s_cache = Slab.KmemCacheCreate("simple_cache"u8, (uint)sizeof(CacheObj), 0, SlabFlags.HwcacheAlign, &CacheCtor);
            if (s_cache == null)
            {
                Printk.PrErr("CACHE: kmem_cache_create failed\n"u8);
                return -Errno.ENOMEM;
            }

            int id = 0;
            byte* name = names;
            while (true)
            {
                int length = NameLength(name);
                id++;
                CacheObj* obj = FaultInjected() ? null : (CacheObj*)Slab.KmemCacheAlloc(s_cache, Gfp.Kernel);
                if (obj == null)
                {
                    // Always check: dereferencing a failed allocation is a kernel crash. Then undo
                    // everything done so far, so a failed insmod leaves nothing behind.
                    Printk.PrErr("CACHE: allocation of object %d failed, undoing\n"u8, id);
                    DestroyAll();
                    return -Errno.ENOMEM;
                }

                // The constructor ran when the slab was populated; set what belongs to this use.
                obj->Id = id;
                for (int i = 0; i < length; i++)
                    obj->Name[i] = name[i];
                obj->Name[length] = 0;
                obj->Created = Jiffies.Now();
                Kernel.List.AddTail(&obj->List, Objects);
                Printk.PrInfo("CACHE: created object %d %s\n"u8, obj->Id, obj->Name);

                if (name[length] == 0)
                    break;
                name += length + 1;
            }
            return 0;
        }

        /// <summary>
        /// The brief's destroy_all(): walk the list with list_for_each_entry_safe (the next entry
        /// is read before the current one is freed), free every object, destroy the cache.
        /// </summary>
        private static void DestroyAll()
        {
            ListHead* head = Objects;
            for (ListHead* pos = head->Next, next = pos->Next; pos != head; pos = next, next = pos->Next)
            {
                CacheObj* obj = CacheObj.FromList(pos);
                Printk.PrInfo("CACHE: freeing object %d\n"u8, obj->Id);
                FreeObject(obj);
            }

            if (s_cache != null)
            {
                Slab.KmemCacheDestroy(s_cache);
                s_cache = null;
                Printk.PrInfo("CACHE: cache destroyed\n"u8);
            }
        }

        /// <summary>
        /// Unlinks an object and frees it back to the cache in its constructed state: list_del_init
        /// (not list_del, whose poisoned pointers would break the constructor's INIT_LIST_HEAD)
        /// and id -1, so the next kmem_cache_alloc that reuses it finds what the constructor left.
        /// </summary>
        private static void FreeObject(CacheObj* obj)
        {
            Kernel.List.DelInit(&obj->List);
            obj->Id = -1;
            Slab.KmemCacheFree(s_cache, obj);
        }

        /// <summary>Checks the comma-separated name list: 0, or -EINVAL with a message.</summary>
        private static int ValidateNames(byte* names)
        {
            byte* name = names;
            int index = 1;
            while (true)
            {
                int length = NameLength(name);
                if (length == 0)
                {
                    Printk.PrErr("CACHE: object name %d is empty\n"u8, index);
                    return -Errno.EINVAL;
                }
                if (length > CacheObj.NameSize - 1)
                {
                    Printk.PrErr("CACHE: object name %d is %d bytes, longer than the %d that fit in name[32]\n"u8,
                        index, length, CacheObj.NameSize - 1);
                    return -Errno.EINVAL;
                }
                for (int i = 0; i < length; i++)
                {
                    if (name[i] <= (byte)' ' || name[i] >= 0x7f)
                    {
                        Printk.PrErr("CACHE: object name %d has a byte that is not printable (0x%02x)\n"u8, index, (int)name[i]);
                        return -Errno.EINVAL;
                    }
                }
                if (name[length] == 0)
                    return 0;
                name += length + 1;
                index++;
            }
        }

        /// <summary>The length of the name at <paramref name="name"/>, up to a comma or the end.</summary>
        private static int NameLength(byte* name)
        {
            int n = 0;
            while (name[n] != 0 && name[n] != (byte)',')
                n++;
            return n;
        }

        /// <summary>
        /// Counts one allocation and reports whether the fail_nth parameter says this one must fail.
        /// </summary>
        private static bool FaultInjected()
        {
            s_allocations++;
            if (s_allocations != s_failNth)
                return false;
            Printk.PrWarn("CACHE: fault injection: failing allocation %d\n"u8, s_allocations);
            return true;
        }
    }
}
