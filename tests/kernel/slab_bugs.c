// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * slab_bugs: a test module that commits one classic slab bug in its init function, so that the
 * VM harness can record what the real kernel (SLUB, with and without slub_debug) makes of it,
 * as the ground truth the model is compared with. Selected by two module parameters:
 *
 *   cache=ctor   a cache like simple_cache's: a 64-byte struct with a list_head, SLAB_HWCACHE_ALIGN
 *                and a constructor (id = -1, name zeroed, list initialised)
 *   cache=plain  kmem_cache_create("bug_plain", 64, 0, 0, NULL), a list_head at offset 0
 *
 *   bug=destroy_live            alloc A and B, free B, kmem_cache_destroy with A live
 *   bug=double_free             alloc A, free A, free A
 *   bug=double_free_live        alloc A and B, free A, free B, free A (not at the freelist head),
 *                               then alloc 3 objects and say whether two are the same pointer
 *   bug=double_free_live_head   alloc A and B, free A, free A (B stays live)
 *   bug=overflow                alloc A, write one byte at A + kmem_cache_size(), free A
 *   bug=use_after_free          alloc A, free A, write 8 bytes of 0x41 at A + 16, alloc, free
 *   bug=list_del_twice          alloc A, list_add A's list_head, list_del it twice
 *   bug=pad_overwrite           alloc A, write 0x41 at the slab's last byte (the padding after
 *                               its last object with cache=plain; with cache=ctor the slots fill
 *                               the slab and the byte is the last object's), free A
 *   bug=freeptr_corrupt         alloc A and B, free A, write 8 x 0x41 at A + 72 (where
 *                               slub_debug=FZPU keeps A's free pointer: after the 64-byte object
 *                               and its 8-byte red zone), alloc C, free C, free B
 *   bug=invalid_free            alloc A, free A + 8 (inside A, not an object's start), free A
 *   bug=kmalloc_redzone         p = kmalloc(50) (a kmalloc-64 object), write 0x41 at p + 50, kfree
 *
 * pad_overwrite, freeptr_corrupt and invalid_free are for slub_debug=FZPU: without it nothing
 * checks the padding, and a corrupt free pointer or a free of A + 8 corrupts the freelist for good.
 *
 * Init prints "bug: start <bug> <cache>", commits the bug, cleans up what it can and prints
 * "bug: done". A bug the kernel answers with BUG() kills insmod before that. Boot with
 * slab_nomerge, or the plain cache would be merged into a kmalloc cache.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/jiffies.h>
#include <linux/string.h>
#include <linux/mm.h>

struct bug_obj {
	int id;
	char name[32];
	unsigned long created;
	struct list_head list;
};

static char *bug = "double_free";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "destroy_live, double_free, double_free_live, double_free_live_head, overflow, use_after_free, list_del_twice, pad_overwrite, freeptr_corrupt, invalid_free, kmalloc_redzone");
static char *cache = "ctor";
module_param(cache, charp, 0444);
MODULE_PARM_DESC(cache, "ctor or plain");

static struct kmem_cache *bug_cache;	/* what module exit destroys, if init left it */
static const char *bug_cache_name;
static bool bug_cache_ctor;
static LIST_HEAD(bug_head);

static void bug_ctor(void *p)
{
	struct bug_obj *o = p;

	o->id = -1;
	memset(o->name, 0, sizeof(o->name));
	INIT_LIST_HEAD(&o->list);
}

static struct list_head *obj_list(void *obj)
{
	if (bug_cache_ctor)
		return &((struct bug_obj *)obj)->list;
	return obj;	/* plain: a list_head at offset 0 of the 64 bytes */
}

static void *alloc_one(const char *what)
{
	void *p = kmem_cache_alloc(bug_cache, GFP_KERNEL);

	pr_info("bug: alloc %s = %px\n", what, p);
	return p;
}

static void free_one(const char *what, void *p)
{
	pr_info("bug: free %s = %px\n", what, p);
	kmem_cache_free(bug_cache, p);
}

static void destroy_cache(void)
{
	pr_info("bug: kmem_cache_destroy %s\n", bug_cache_name);
	kmem_cache_destroy(bug_cache);
	bug_cache = NULL;
}

static int __init slab_bugs_init(void)
{
	void *a, *b, *x[3];
	int i, ids[3], same;

	pr_info("bug: start %s %s\n", bug, cache);
	if (!strcmp(cache, "ctor")) {
		bug_cache_name = "bug_ctor";
		bug_cache_ctor = true;
		bug_cache = kmem_cache_create("bug_ctor", sizeof(struct bug_obj), 0,
					      SLAB_HWCACHE_ALIGN, bug_ctor);
	} else if (!strcmp(cache, "plain")) {
		bug_cache_name = "bug_plain";
		bug_cache = kmem_cache_create("bug_plain", 64, 0, 0, NULL);
	} else {
		pr_err("bug: unknown cache %s\n", cache);
		return -EINVAL;
	}
	if (!bug_cache) {
		pr_err("bug: kmem_cache_create failed\n");
		return -ENOMEM;
	}
	pr_info("bug: cache %s object_size %u\n", bug_cache_name, kmem_cache_size(bug_cache));

	if (!strcmp(bug, "destroy_live")) {
		a = alloc_one("A");
		b = alloc_one("B");
		free_one("B", b);
		destroy_cache();	/* A is live: the cache cannot go; A is leaked with it */
	} else if (!strcmp(bug, "double_free")) {
		a = alloc_one("A");
		free_one("A", a);
		free_one("A again", a);
		destroy_cache();
	} else if (!strcmp(bug, "double_free_live")) {
		a = alloc_one("A");
		b = alloc_one("B");
		free_one("A", a);
		free_one("B", b);
		free_one("A again", a);
		for (i = 0; i < 3; i++) {
			x[i] = kmem_cache_alloc(bug_cache, GFP_KERNEL);
			ids[i] = x[i] == a ? 1 : x[i] == b ? 2 : 0;
		}
		same = x[0] == x[1] || x[0] == x[2] || x[1] == x[2];
		pr_info("bug: alloc %d %d %d same=%d\n", ids[0], ids[1], ids[2], same);
		pr_info("bug: allocated %px %px %px (1 = A, 2 = B, 0 = another)\n", x[0], x[1], x[2]);
		if (same) {
			/* The freelist is a cycle (or worse): freeing or destroying would loop or crash. */
			pr_info("bug: freelist corrupt, cache and objects left as they are\n");
			bug_cache = NULL;
		} else {
			for (i = 0; i < 3; i++)
				free_one("x", x[i]);
			destroy_cache();
		}
	} else if (!strcmp(bug, "double_free_live_head")) {
		a = alloc_one("A");
		b = alloc_one("B");
		free_one("A", a);
		free_one("A again", a);
		free_one("B", b);
		destroy_cache();
	} else if (!strcmp(bug, "overflow")) {
		unsigned int size = kmem_cache_size(bug_cache);

		a = alloc_one("A");
		pr_info("bug: write 0x41 at A + %u\n", size);
		((volatile char *)a)[size] = 0x41;
		free_one("A", a);
		destroy_cache();
	} else if (!strcmp(bug, "use_after_free")) {
		a = alloc_one("A");
		free_one("A", a);
		pr_info("bug: write 8 x 0x41 at A + 16 after the free\n");
		for (i = 16; i < 24; i++)
			((volatile char *)a)[i] = 0x41;
		b = alloc_one("C");
		free_one("C", b);
		destroy_cache();
	} else if (!strcmp(bug, "list_del_twice")) {
		a = alloc_one("A");
		list_add(obj_list(a), &bug_head);
		pr_info("bug: list_del once\n");
		list_del(obj_list(a));
		pr_info("bug: list_del twice\n");
		list_del(obj_list(a));
		free_one("A", a);
		destroy_cache();
	} else if (!strcmp(bug, "pad_overwrite")) {
		char *slab;
		size_t size;

		a = alloc_one("A");
		slab = folio_address(virt_to_folio(a));
		size = folio_size(virt_to_folio(a));
		pr_info("bug: write 0x41 at the slab's last byte, slab + %lu\n", (unsigned long)(size - 1));
		((volatile char *)slab)[size - 1] = 0x41;
		free_one("A", a);
		destroy_cache();
	} else if (!strcmp(bug, "freeptr_corrupt")) {
		a = alloc_one("A");
		b = alloc_one("B");
		free_one("A", a);
		pr_info("bug: write 8 x 0x41 at A + 72, A's free pointer under slub_debug\n");
		for (i = 72; i < 80; i++)
			((volatile char *)a)[i] = 0x41;
		x[0] = alloc_one("C");
		if (x[0])
			free_one("C", x[0]);
		free_one("B", b);
		destroy_cache();
	} else if (!strcmp(bug, "invalid_free")) {
		a = alloc_one("A");
		free_one("A + 8", (char *)a + 8);
		free_one("A", a);
		destroy_cache();
	} else if (!strcmp(bug, "kmalloc_redzone")) {
		char *p = kmalloc(50, GFP_KERNEL);

		pr_info("bug: kmalloc 50 = %px\n", p);
		if (p) {
			pr_info("bug: write 0x41 at p + 50\n");
			((volatile char *)p)[50] = 0x41;
			pr_info("bug: kfree p\n");
			kfree(p);
		}
		destroy_cache();
	} else {
		pr_err("bug: unknown bug %s\n", bug);
		destroy_cache();
		return -EINVAL;
	}
	pr_info("bug: done\n");
	return 0;
}

static void __exit slab_bugs_exit(void)
{
	if (bug_cache)
		destroy_cache();
	pr_info("bug: exit\n");
}

module_init(slab_bugs_init);
module_exit(slab_bugs_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("Commits one classic slab bug on demand, for the model's ground truth");
