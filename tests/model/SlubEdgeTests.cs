// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Edges of model/mm/Slub.cs that Stryker's run of the part model-mm-slub found unreached or
// unasserted (docs/mutation.md): cpu_partial by slot size and its store, a free to the wrong
// cache, and __GFP_ZERO on the slab path. Expected values are the kernel's (source cited).

using System;
using System.Linq;
using SimpleCache.Model.Mm;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public unsafe class SlubEdgeTests
    {
        [Theory]
        // set_cpu_partial() (mm/slub.c, 6.1 and 6.12): s->size >= PAGE_SIZE: 6, >= 1024: 24,
        // >= 256: 52, else 120; nr_slabs = DIV_ROUND_UP(nr_objects * 2, oo_objects(s->oo)).
        [InlineData(64u, 120u)]
        [InlineData(248u, 120u)]   // s->size is the slot: 255 bytes would round up to 256
        [InlineData(256u, 52u)]
        [InlineData(1016u, 52u)]
        [InlineData(1024u, 24u)]
        [InlineData(4088u, 24u)]
        [InlineData(4096u, 6u)]
        public void CpuPartialFollowsTheSlotSize(uint size, uint objects)
        {
            using var k = K.Boot();
            SlabCache s = k.Slab.Create($"cp{size}", size, 0, CacheFlags.None, 0);
            Assert.Equal(objects, s.CpuPartial);
            // The slab count is the kernel's formula over the cache's own objects per slab.
            uint perSlab = s.Layout.ObjectsPerSlab;
            Assert.Equal((objects * 2 + perSlab - 1) / perSlab, s.CpuPartialSlabs);
        }

        [Fact]
        public void ADebugCacheHasNoCpuPartialAndRefusesOne()
        {
            // kmem_cache_has_cpu_partial() is false for a debug cache: cpu_partial 0, and
            // cpu_partial_store() of a non-zero value gives -EINVAL; 0 is accepted.
            using var k = K.Boot(slubDebug: "F");
            SlabCache s = k.Slab.Create("dbg", 64, 0, CacheFlags.None, 0);
            Assert.Equal(0u, s.CpuPartial);
            Assert.Equal(-global::Kernel.Errno.EINVAL, s.StoreCpuPartial(8));
            Assert.Equal(0, s.StoreCpuPartial(0));
        }

        [Fact]
        public void StoringCpuPartialSetsItAndFlushesTheCpus()
        {
            using var k = K.Boot();
            SlabCache s = k.Slab.Create("store", 64, 0, CacheFlags.None, 0);
            var objects = Enumerable.Range(0, 100).Select(_ => (nint)s.Alloc()).ToList();
            Assert.True(s.CpuSlabs > 0);
            Assert.Equal(0, s.StoreCpuPartial(10));
            Assert.Equal(10u, s.CpuPartial);
            Assert.Equal(1u, s.CpuPartialSlabs);   // DIV_ROUND_UP(20, 64)
            Assert.Equal(0, s.CpuSlabs);           // flush_all(): no CPU keeps a slab
            foreach (nint o in objects)
                s.Free((void*)o);
        }

        [Theory]
        [InlineData(KernelVersion.V6_1, "mm/slab.h:665 kmem_cache_free")]
        [InlineData(KernelVersion.V6_12, "mm/slub.c:4770 kmem_cache_free")]
        public void AFreeToTheWrongCacheWarnsAndFreesNothing(KernelVersion v, string location)
        {
            // cache_from_obj(): WARN_ONCE(cachep && cachep != s, "%s: Wrong slab cache. %s but
            // object is from %s\n", __func__, s->name, cachep->name), and the free does not happen.
            using var k = K.Boot(v);
            SlabCache a = k.Slab.Create("cache_a", 64, 0, CacheFlags.None, 0);
            SlabCache b = k.Slab.Create("cache_b", 64, 0, CacheFlags.None, 0);
            void* p = a.Alloc();
            b.Free(p);
            string[] lines = K.AllLines(k);
            Assert.Contains("kmem_cache_free: Wrong slab cache. cache_b but object is from cache_a", lines);
            Assert.Contains(lines, l => l.StartsWith("WARNING: CPU: ") && l.Contains($" at {location}"));
            Assert.Equal(1, a.ObjectsInUse());
            Assert.Equal(0, b.ObjectsInUse());
            a.Free(p);
            Assert.Equal(0, a.ObjectsInUse());
        }

        [Fact]
        public void GfpZeroClearsAReusedObject()
        {
            using var k = K.Boot();
            SlabCache s = k.Slab.Create("zeroed", 64, 0, CacheFlags.None, 0);
            byte* p = (byte*)s.Alloc();
            new Span<byte>(p, 64).Fill(0xab);
            s.Free(p);
            byte* q = (byte*)s.Alloc(zero: true);
            Assert.True(p == q);   // the CPU freelist gives the object just freed back first
            Assert.True(new Span<byte>(q, 64).IndexOfAnyExcept((byte)0) < 0);
            s.Free(q);
        }
    }
}
