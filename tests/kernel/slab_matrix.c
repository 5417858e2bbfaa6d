// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * slab_matrix: a test module that creates a matrix of slab caches, so that the VM harness can
 * read the geometry the real kernel gives each one (/sys/kernel/slab/<cache>/ and
 * /proc/slabinfo) and compare it with the model's (simple-cache check-geometry).
 *
 * Each cache is named kcsm_s<size>_a<align>_f<flags>_c<ctor>, with <flags> in the C# API's own
 * bits (include/linux/Flags.cs), so the name alone says how the cache was made. Boot with
 * slab_nomerge, or caches without a constructor or debug flags would be merged into others.
 */
#include <linux/module.h>
#include <linux/slab.h>

#define F_RED_ZONE	0x02
#define F_POISON	0x04
#define F_STORE_USER	0x08
#define F_HWCACHE_ALIGN	0x10
#define F_RCU		0x40

static const unsigned int sizes[] = {
	8, 16, 24, 32, 40, 48, 56, 64, 72, 96, 100, 128, 136, 192, 200, 256, 264, 320, 400, 500,
	512, 640, 700, 1000, 1024, 1100, 1500, 2048, 2100, 3000, 4096, 5000, 8192,
	/* 6.1 and 6.12 choose different orders from 10928 to 12280 bytes (2 CPUs): both edges */
	10920, 10928, 12000, 12280, 12288,
	/* above slub_max_order (order 3): one object per slab, then the fallback to MAX_ORDER;
	 * 4 MiB fills an order-10 slab, and with a red zone or a track it fits no slab at all */
	16384, 20000, 32768, 40000, 65536, 100000, 262144, 1048576, 4194304,
};
static const unsigned int aligns[] = { 0, 32 };
static const unsigned int flag_sets[] = {
	0, F_HWCACHE_ALIGN, F_RCU, F_RED_ZONE | F_POISON | F_STORE_USER,
	F_HWCACHE_ALIGN | F_RED_ZONE | F_POISON | F_STORE_USER, F_POISON, F_RED_ZONE,
};

#define MAX_CACHES (ARRAY_SIZE(sizes) * ARRAY_SIZE(aligns) * ARRAY_SIZE(flag_sets) * 2)
static struct kmem_cache *caches[MAX_CACHES];
static char names[MAX_CACHES][48];
static unsigned int nr_caches, nr_refused;

static void matrix_ctor(void *obj)
{
	memset(obj, 0, 8);
}

static slab_flags_t kernel_flags(unsigned int f)
{
	slab_flags_t k = 0;

	if (f & F_RED_ZONE)
		k |= SLAB_RED_ZONE;
	if (f & F_POISON)
		k |= SLAB_POISON;
	if (f & F_STORE_USER)
		k |= SLAB_STORE_USER;
	if (f & F_HWCACHE_ALIGN)
		k |= SLAB_HWCACHE_ALIGN;
	if (f & F_RCU)
		k |= SLAB_TYPESAFE_BY_RCU;
	return k;
}

static void destroy_all(void)
{
	while (nr_caches)
		kmem_cache_destroy(caches[--nr_caches]);
}

static int __init slab_matrix_init(void)
{
	unsigned int s, a, f, c;

	for (s = 0; s < ARRAY_SIZE(sizes); s++)
		for (a = 0; a < ARRAY_SIZE(aligns); a++)
			for (f = 0; f < ARRAY_SIZE(flag_sets); f++)
				for (c = 0; c < 2; c++) {
					char *name = names[nr_caches];

					snprintf(name, sizeof(names[0]), "kcsm_s%u_a%u_f%u_c%u",
						 sizes[s], aligns[a], flag_sets[f], c);
					caches[nr_caches] = kmem_cache_create(name, sizes[s], aligns[a],
						kernel_flags(flag_sets[f]), c ? matrix_ctor : NULL);
					/* A cache no slab can hold is refused (calculate_sizes() fails,
					 * kmem_cache_create() warns and returns NULL): the model must
					 * refuse the same ones. */
					if (!caches[nr_caches]) {
						pr_info("slab_matrix: refused %s\n", name);
						nr_refused++;
						continue;
					}
					nr_caches++;
				}
	pr_info("slab_matrix: %u caches, %u refused\n", nr_caches, nr_refused);
	return 0;
}

static void __exit slab_matrix_exit(void)
{
	destroy_all();
}

module_init(slab_matrix_init);
module_exit(slab_matrix_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("Creates a matrix of slab caches for the geometry comparison with the model");
