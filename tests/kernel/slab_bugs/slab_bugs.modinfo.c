// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * slab_bugs's module information, for the C# port (SlabBugs.cs) in the model: the same
 * parameters as ../slab_bugs.c declares.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>

static char *bug;
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "destroy_live, double_free, double_free_live, double_free_live_head, overflow, use_after_free, list_del_twice");

static char *cache;
module_param(cache, charp, 0444);
MODULE_PARM_DESC(cache, "ctor or plain");

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("Commits one classic slab bug on demand, for the model's ground truth");
