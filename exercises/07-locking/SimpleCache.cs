// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// EXERCISE 7: locking. This is the module, module/SimpleCache.cs, with its locking taken out:
// the TODO(7) comment below says what to put back. Check your work in the model, in seconds:
//     simple-cache check 7        (or: dotnet run --project tools/cli -- check 7)
// and then in real 6.1 and 6.12 kernels, in a VM:
//     make check EX=7
// The goal, the kernel facts you need and hints: exercises/07-locking/README.md.
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
// Once loaded, /proc/simple_cache is a live registry of the objects: read it to list them,
// write "add NAME", "del ID", "rename ID NAME" or "clear" to change them (see ProcWrite).
// /proc/simple_cache_map (mode 0400: root only) shows where the kernel put each object: its
// slab, as %pK prints addresses, and its offset in that slab (see MapShow).
//
// Parameters (declared in simple_cache.modinfo.c, shown by modinfo):
//   names=alpha,beta   the objects to create, comma-separated, each 1..31 printable bytes
//   fail_nth=N         make the Nth allocation of this module fail (1 = the cache itself,
//                      2 = the first object, ..., then the registry's lock, its proc file and
//                      the map's, then each object added through /proc), to exercise every error path on
//                      kernels built without failslab
//   last_id=N          testing: the first object gets id N + 1 (default 0); near int.MaxValue
//                      it lets a test run the ids out and see -ENOSPC
//   selfcheck=1        testing: enables the /proc command "check N", which takes N free objects
//                      from the cache and checks that each is in the constructor's state (see
//                      SelfCheck): the constructor's contract, checked in the real kernel

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
        // static struct kmem_cache *cachep; static LIST_HEAD(objects); the registry's lock (a raw
        // spinlock: see "Locking" below), proc entry and counters; the fault-injection counter. Plain unmanaged statics with no
        // initialiser: they live in the module's .bss and start zeroed at every load.
        private static KmemCache* s_cache;
#pragma warning disable CS0649 // written through their addresses, which the compiler does not see
        private static ListHead s_objects;
        private static int s_writerOpen;
#pragma warning restore CS0649
        private static RawSpinlockT* s_lock;
        private static ProcDirEntry* s_proc;
        private static ProcDirEntry* s_mapProc;
        private static int s_count;
        private static int s_lastId;
        private static int s_allocations;
        private static int s_failNth;
        private static int s_selfcheck;

        /// <summary>The head of the module's object list.</summary>
        private static ListHead* Objects => (ListHead*)Unsafe.AsPointer(ref s_objects);

        /// <summary>Set while a process holds /proc/simple_cache open for writing.</summary>
        private static int* WriterOpen => (int*)Unsafe.AsPointer(ref s_writerOpen);

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
            s_failNth = ModuleParam.Int("fail_nth"u8);
            int lastId = ModuleParam.Int("last_id"u8);
            if (lastId < 0)
            {
                Printk.PrErr("CACHE: last_id must not be negative\n"u8);
                return -Errno.EINVAL;
            }
            s_lastId = lastId;
            s_selfcheck = ModuleParam.Int("selfcheck"u8);

            byte* names = ModuleParam.Charp("names"u8);
            if (names == null)
            {
                // u8 literals are NUL-terminated in the compiled image, like C strings.
                fixed (byte* defaults = "alpha,beta"u8)
                    return Load(defaults);
            }
            return Load(names);
        }

        /// <summary><c>module_exit(simple_cache_exit)</c>: frees everything <see cref="Init"/> and the registry made.</summary>
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

            byte* name = names;
            while (true)
            {
                int length = NameLength(name);
                if (s_lastId == int.MaxValue)
                {
                    // Only reachable with the last_id test parameter: no id is left to give.
                    Printk.PrErr("CACHE: no id left for the next object (the last id is %d), undoing\n"u8, s_lastId);
                    DestroyAll();
                    return -Errno.ENOSPC;
                }
                CacheObj* obj = AllocObject();
                if (obj == null)
                {
                    // Always check: dereferencing a failed allocation is a kernel crash. Then undo
                    // everything done so far, so a failed insmod leaves nothing behind.
                    Printk.PrErr("CACHE: allocation of object %d failed, undoing\n"u8, s_lastId + 1);
                    DestroyAll();
                    return -Errno.ENOMEM;
                }
                // No lock yet: nothing else can see the list before /proc/simple_cache exists.
                AddObject(obj, name, length);
                Printk.PrInfo("CACHE: created object %d %s\n"u8, obj->Id, obj->Name);

                if (name[length] == 0)
                    break;
                name += length + 1;
            }

            // The registry: its lock, then its file, which makes the list reachable from user space.
            s_lock = FaultInjected() ? null : Sync.RawSpinLockCreate();
            if (s_lock == null)
            {
                Printk.PrErr("CACHE: cannot allocate the registry's lock, undoing\n"u8);
                DestroyAll();
                return -Errno.ENOMEM;
            }
            s_proc = FaultInjected() ? null : Proc.Create("simple_cache"u8, Stat.S_IRUSR | Stat.S_IWUSR | Stat.S_IRGRP | Stat.S_IROTH);   // 0644
            if (s_proc == null)
            {
                Printk.PrErr("CACHE: cannot create /proc/simple_cache, undoing\n"u8);
                DestroyAll();
                return -Errno.ENOMEM;
            }
            // The map: read-only, and root's alone (0400), since it shows kernel addresses.
            s_mapProc = FaultInjected() ? null : Proc.CreateSingle("simple_cache_map"u8, Stat.S_IRUSR);   // 0400
            if (s_mapProc == null)
            {
                Printk.PrErr("CACHE: cannot create /proc/simple_cache_map, undoing\n"u8);
                DestroyAll();
                return -Errno.ENOMEM;
            }
            return 0;
        }

        /// <summary>
        /// The brief's destroy_all(): remove the proc file first (proc_remove waits for every
        /// call in progress, and no new one can start), then walk the list with
        /// list_for_each_entry_safe (the next entry is read before the current one is freed),
        /// free every object, destroy the cache and the lock.
        /// </summary>
        private static void DestroyAll()
        {
            if (s_mapProc != null)
            {
                Proc.Remove(s_mapProc);
                s_mapProc = null;
            }
            if (s_proc != null)
            {
                Proc.Remove(s_proc);
                s_proc = null;
            }

            foreach (CacheObj* obj in Kernel.List.ForEachEntrySafe<CacheObj>(Objects, CacheObj.ListOffset))
            {
                Printk.PrInfo("CACHE: freeing object %d\n"u8, obj->Id);
                FreeObject(obj);
            }
            s_count = 0;

            if (s_cache != null)
            {
                Slab.KmemCacheDestroy(s_cache);
                s_cache = null;
                Printk.PrInfo("CACHE: cache destroyed\n"u8);
            }
            if (s_lock != null)
            {
                Sync.RawSpinLockDestroy(s_lock);
                s_lock = null;
            }
        }

        /// <summary>An object from the cache, or null (fault injection included).</summary>
        private static CacheObj* AllocObject() =>
            FaultInjected() ? null : (CacheObj*)Slab.KmemCacheAlloc(s_cache, Gfp.Kernel);

        /// <summary>
        /// Gives a new object its id, name and creation time and links it at the tail of the
        /// list. The constructor ran when the slab was populated; this sets what belongs to this
        /// use. Called with the lock held once the registry is live.
        /// </summary>
        private static void AddObject(CacheObj* obj, byte* name, int length)
        {
            obj->Id = ++s_lastId;
            SetName(obj, name, length);
            obj->Created = Jiffies.Now();
            Kernel.List.AddTail(&obj->List, Objects);
            s_count++;
        }

        private static void SetName(CacheObj* obj, byte* name, int length)
        {
            for (int i = 0; i < length; i++)
                obj->Name[i] = name[i];
            obj->Name[length] = 0;
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

        // ------------------------------------------------------------------ /proc/simple_cache
        //
        // Reading lists the objects; writing one command changes them:
        //   add NAME          a new object; its id is one more than the last id ever given
        //   del ID            free the object with that id
        //   rename ID NAME    give an object another name
        //   clear             free every object
        // Words are separated by spaces or tabs; one trailing newline is allowed (echo adds it).
        // A failed command changes nothing and returns the error to the writer:
        //   -EINVAL  unknown command, missing or extra words, an empty name, a name longer than
        //            31 bytes or with a byte that is not printable, a malformed id (not a
        //            decimal number from 1 to 2147483647), a NUL byte in the command, a write of
        //            more than a page
        //   -ENOENT  no object has that id (ids are never reused while the module is loaded)
        //   -EFAULT  the kernel cannot read the writer's buffer (copy_from_user failed)
        //   -ENOMEM  an allocation failed (fail_nth counts these too)
        //   -ENOSPC  ids ran out (after 2^31 - 1 objects)
        //   -EBUSY   (on open) another process has the file open for writing
        //
        // Locking. The C# part of the module runs between kernel_fpu_begin() and
        // kernel_fpu_end(), that is with preemption disabled: it must never sleep, and neither may
        // its lock. So the list is protected by a raw spinlock (raw_spinlock_t), the one kernel
        // lock that never sleeps on any kernel: spinlock_t would do on an ordinary kernel, but on
        // PREEMPT_RT spin_lock() is rt_spin_lock(), a sleeping rt_mutex, and a mutex sleeps
        // everywhere (include/linux/Sync.cs says more). A raw spinlock keeps preemption off while
        // it is held, which on RT delays the real-time tasks, so it is held only for the few
        // instructions that look at or change the list; everything that may sleep happens
        // outside it: copy_from_user (page faults) and the allocation of a new object before the
        // lock is taken, kmem_cache_free (whose own locks sleep on RT) after it is released.
        // Readers print the whole list from seq_file's show callback under the lock, so a read
        // always sees one consistent list. Writers are also serialised one level up: only one
        // process may have the file open for writing at a time (the exclusive-open pattern, an
        // atomic flag set in open and cleared in release).

        // TODO(7): nothing here takes the registry's lock, s_lock, any more. Readers (ProcShow,
        // MapShow) and the writer (Add, Del, Rename, Clear) run at the same time on different
        // CPUs. Find every place that reads or changes the list, s_count or s_lastId once the
        // registry is live, and hold s_lock there (Sync.RawSpinLock / Sync.RawSpinUnlock): as
        // briefly as possible, never across anything that may sleep (see "Locking" above), and
        // released on every path out, error paths included.

        /// <summary>proc_ops.proc_open: readers always get in; a second writer gets -EBUSY.</summary>
        [UnmanagedCallersOnly(EntryPoint = ModuleEntry.ProcOpen)]
        public static int ProcOpen(int writable)
        {
            if (writable != 0 && Sync.AtomicCmpxchg(WriterOpen, 0, 1) != 0)
                return -Errno.EBUSY;
            return 0;
        }

        /// <summary>proc_ops.proc_release: the writer is gone.</summary>
        [UnmanagedCallersOnly(EntryPoint = ModuleEntry.ProcRelease)]
        public static void ProcRelease(int writable)
        {
            if (writable != 0)
                Sync.AtomicSetRelease(WriterOpen, 0);
        }

        /// <summary>seq_file show: the whole registry, printed under the lock.</summary>
        [UnmanagedCallersOnly(EntryPoint = ModuleEntry.ProcShow)]
        public static int ProcShow(SeqFile* m)
        {
            uint hz = Jiffies.Hz();
            ulong now = Jiffies.Now();
            Proc.SeqPrintf(m, "objects: %d, last id: %d, cache: simple_cache, HZ: %u\n"u8, s_count, s_lastId, hz);
            Proc.SeqPrintf(m, "id     name                            created      age_ms\n"u8);
            foreach (CacheObj* obj in Kernel.List.ForEachEntry<CacheObj>(Objects, CacheObj.ListOffset))
            {
                Proc.SeqPrintf(m, "%-6d %-31s %-12lu %lu\n"u8, obj->Id, obj->Name, obj->Created, (now - obj->Created) * 1000 / hz);
            }
            return 0;
        }

        /// <summary>
        /// The show of /proc/simple_cache_map: for each object in list order, its id and name, the
        /// slab the kernel put it in (the address of the slab's first byte, printed with %pK, so
        /// /proc/sys/kernel/kptr_restrict decides what a reader sees: hashed with 0, the address
        /// for root with 1, zeros with 2) and its byte offset in that slab. Objects with the
        /// same slab value share a slab. The slot index is the offset divided by the slot size,
        /// /sys/kernel/slab/simple_cache/slab_size: struct kmem_cache, which holds that size,
        /// is private to mm/ in 6.12, so the module cannot divide for itself.
        /// </summary>
        [UnmanagedCallersOnly(EntryPoint = ModuleEntry.ProcSingleShow)]
        public static int MapShow(SeqFile* m)
        {
            Proc.SeqPrintf(m, "objects: %d, cache: simple_cache (slab: the slab's address as %%pK prints it; offset: bytes into the slab)\n"u8, s_count);
            Proc.SeqPrintf(m, "id     name                            slab             offset\n"u8);
            foreach (CacheObj* obj in Kernel.List.ForEachEntry<CacheObj>(Objects, CacheObj.ListOffset))
            {
                byte* slab = (byte*)Slab.SlabAddress(obj);
                Proc.SeqPrintf(m, "%-6d %-31s %pK %ld\n"u8, obj->Id, obj->Name, (PrintkArg)(void*)slab, (long)((byte*)obj - slab));
            }
            return 0;
        }

        /// <summary>proc_ops.proc_write: one command per write; the byte count, or a negative errno.</summary>
        [UnmanagedCallersOnly(EntryPoint = ModuleEntry.ProcWrite)]
        public static long ProcWrite(byte* user, nuint length)
        {
            if (length == 0)
                return 0;
            if (length > Uaccess.PageSize)
                return -Errno.EINVAL;
            // memdup_user_nul(): a kernel copy of the command, NUL-terminated.
            byte* buf = (byte*)Slab.Kmalloc(length + 1, Gfp.Kernel);
            if (buf == null)
                return -Errno.ENOMEM;
            long ret = Uaccess.CopyFromUser(buf, user, length) != 0 ? -Errno.EFAULT : Command(buf, (int)length);
            Slab.Kfree(buf);
            return ret == 0 ? (long)length : ret;
        }

        /// <summary>Parses and runs one command; 0 or a negative errno, with nothing changed on error.</summary>
        private static int Command(byte* buf, int length)
        {
            if (length > 0 && buf[length - 1] == (byte)'\n')
                length--;
            for (int i = 0; i < length; i++)
                if (buf[i] == 0)
                    return -Errno.EINVAL;

            // Split into at most 4 words (one more than any command takes, to notice extras).
            byte** word = stackalloc byte*[4];
            int* size = stackalloc int[4];
            int words = 0;
            for (int i = 0; i < length;)
            {
                while (i < length && (buf[i] == (byte)' ' || buf[i] == (byte)'\t'))
                    i++;
                if (i == length)
                    break;
                if (words == 4)
                    return -Errno.EINVAL;
                word[words] = buf + i;
                while (i < length && buf[i] != (byte)' ' && buf[i] != (byte)'\t')
                    i++;
                size[words] = (int)(buf + i - word[words]);
                words++;
            }
            if (words == 0)
                return -Errno.EINVAL;

            if (Is(word[0], size[0], "add"u8))
                return words == 2 ? Add(word[1], size[1]) : -Errno.EINVAL;
            if (Is(word[0], size[0], "del"u8))
                return words == 2 ? Del(word[1], size[1]) : -Errno.EINVAL;
            if (Is(word[0], size[0], "rename"u8))
                return words == 3 ? Rename(word[1], size[1], word[2], size[2]) : -Errno.EINVAL;
            if (Is(word[0], size[0], "clear"u8))
                return words == 1 ? Clear() : -Errno.EINVAL;
            if (s_selfcheck != 0 && Is(word[0], size[0], "check"u8))
                return words == 2 ? SelfCheck(word[1], size[1]) : -Errno.EINVAL;
            return -Errno.EINVAL;
        }

        private static int Add(byte* name, int length)
        {
            if (!ValidName(name, length))
                return -Errno.EINVAL;
            CacheObj* obj = AllocObject();   // may sleep: before the lock
            if (obj == null)
                return -Errno.ENOMEM;
            if (s_lastId == int.MaxValue)
            {
                FreeObject(obj);
                return -Errno.ENOSPC;
            }
            AddObject(obj, name, length);
            int id = obj->Id;
            Printk.PrInfo("CACHE: created object %d %s\n"u8, id, obj->Name);
            return 0;
        }

        private static int Del(byte* text, int length)
        {
            int id = ParseId(text, length);
            if (id <= 0)
                return -Errno.EINVAL;
            CacheObj* obj = Find(id);
            if (obj != null)
            {
                Kernel.List.DelInit(&obj->List);
                s_count--;
            }
            if (obj == null)
                return -Errno.ENOENT;
            Printk.PrInfo("CACHE: freeing object %d\n"u8, id);
            FreeObject(obj);
            return 0;
        }

        private static int Rename(byte* text, int length, byte* name, int nameLength)
        {
            int id = ParseId(text, length);
            if (id <= 0 || !ValidName(name, nameLength))
                return -Errno.EINVAL;
            CacheObj* obj = Find(id);
            if (obj != null)
                SetName(obj, name, nameLength);
            if (obj == null)
                return -Errno.ENOENT;
            Printk.PrInfo("CACHE: renamed object %d\n"u8, id);
            return 0;
        }

        private static int Clear()
        {
            // Move every object to a private list under the lock, free them after it.
            ListHead doomed;
            Kernel.List.Init(&doomed);
            while (!Kernel.List.Empty(Objects))
                Kernel.List.MoveTail(Objects->Next, &doomed);
            int count = s_count;
            s_count = 0;
            foreach (CacheObj* obj in Kernel.List.ForEachEntrySafe<CacheObj>(&doomed, CacheObj.ListOffset))
            {
                Printk.PrInfo("CACHE: freeing object %d\n"u8, obj->Id);
                FreeObject(obj);
            }
            Printk.PrInfo("CACHE: cleared %d objects\n"u8, count);
            return 0;
        }

        /// <summary>The most objects one "check N" takes.</summary>
        private const int SelfCheckMax = 4096;

        /// <summary>
        /// "check N" (only with selfcheck=1): takes N objects from the cache with
        /// kmem_cache_alloc, as an add would, and checks that each is as the constructor left it
        /// (id -1, its list node pointing to itself); then frees them all back untouched. SLUB
        /// hands out the most recently freed objects first, so after a del or a clear the first
        /// objects taken are the ones the module freed: a free that skips list_del_init or the
        /// id reset is caught here, in the real kernel, where no walk of a cache's free objects
        /// exists. 0 if every object was in the constructor's state, -EUCLEAN if not, -EINVAL
        /// for an N that is not 1 to 4096, -ENOMEM if the cache could not give N objects.
        /// </summary>
        private static int SelfCheck(byte* text, int length)
        {
            int n = ParseId(text, length);
            if (n <= 0 || n > SelfCheckMax)
                return -Errno.EINVAL;
            CacheObj** taken = (CacheObj**)Slab.Kmalloc((nuint)n * (nuint)sizeof(CacheObj*), Gfp.Kernel);
            if (taken == null)
                return -Errno.ENOMEM;
            int got = 0, bad = 0;
            while (got < n)
            {
                CacheObj* obj = (CacheObj*)Slab.KmemCacheAlloc(s_cache, Gfp.Kernel);
                if (obj == null)
                    break;
                taken[got++] = obj;
                bool selfLinked = obj->List.Next == &obj->List && obj->List.Prev == &obj->List;
                if (obj->Id != -1 || !selfLinked)
                {
                    if (bad == 0)
                    {
                        fixed (byte* empty = "empty"u8, linked = "not empty"u8)
                            Printk.PrErr("CACHE: self-check: a free object has id %d and a list node that is %s, not the constructor's -1 and empty\n"u8,
                                obj->Id, selfLinked ? empty : linked);
                    }
                    bad++;
                }
            }
            for (int i = 0; i < got; i++)
                Slab.KmemCacheFree(s_cache, taken[i]);
            Slab.Kfree(taken);
            if (got < n)
                return -Errno.ENOMEM;
            Printk.PrInfo("CACHE: self-check: %d free objects, %d in the constructor's state\n"u8, n, n - bad);
            return bad == 0 ? 0 : -Errno.EUCLEAN;
        }

        /// <summary>The object with this id, or null. Called with the lock held.</summary>
        private static CacheObj* Find(int id)
        {
            foreach (CacheObj* obj in Kernel.List.ForEachEntry<CacheObj>(Objects, CacheObj.ListOffset))
                if (obj->Id == id)
                    return obj;
            return null;
        }

        /// <summary>
        /// A decimal number from 1 to 2147483647 (int.MaxValue, the last id there can be) in at
        /// most 10 digits, leading zeros allowed ("007" is 7): the id; anything else: -1.
        /// </summary>
        private static int ParseId(byte* text, int length)
        {
            if (length < 1 || length > 10)
                return -1;
            long id = 0;
            for (int i = 0; i < length; i++)
            {
                if (text[i] < (byte)'0' || text[i] > (byte)'9')
                    return -1;
                id = id * 10 + (text[i] - (byte)'0');
            }
            return id == 0 || id > int.MaxValue ? -1 : (int)id;
        }

        private static bool Is(byte* word, int length, System.ReadOnlySpan<byte> keyword)
        {
            if (length != keyword.Length)
                return false;
            for (int i = 0; i < length; i++)
                if (word[i] != keyword[i])
                    return false;
            return true;
        }

        /// <summary>A name fits <c>name[32]</c> with its NUL and every byte is printable, not a space.</summary>
        private static bool ValidName(byte* name, int length)
        {
            if (length < 1 || length > CacheObj.NameSize - 1)
                return false;
            for (int i = 0; i < length; i++)
                if (name[i] <= (byte)' ' || name[i] >= 0x7f)
                    return false;
            return true;
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
            int n = ++s_allocations;
            if (n != s_failNth)
                return false;
            Printk.PrWarn("CACHE: fault injection: failing allocation %d\n"u8, n);
            return true;
        }
    }
}
