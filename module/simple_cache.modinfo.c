// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * simple_cache's module information: what modinfo shows and what insmod accepts. Declarations
 * only; the module's code is SimpleCache.cs next to this file, which reads these parameters by
 * name (ModuleParam.Charp("names"), ModuleParam.Int("fail_nth"), ModuleParam.Int("last_id"),
 * ModuleParam.Int("selfcheck")).
 */
#include <linux/module.h>
#include <linux/moduleparam.h>

static char *names;
module_param(names, charp, 0444);
MODULE_PARM_DESC(names, "Comma-separated names of the objects to create at load, each 1 to 31 printable bytes (default: alpha,beta)");

static int fail_nth;
module_param(fail_nth, int, 0444);
MODULE_PARM_DESC(fail_nth, "Fault injection: make the Nth allocation of the module fail (1 = the cache, 2 = the first object, ...; 0 = none)");

static int last_id;
module_param(last_id, int, 0444);
MODULE_PARM_DESC(last_id, "Testing: start counting ids after this one (0 = start at 1); near 2147483647 it lets a test reach ENOSPC");

static int selfcheck;
module_param(selfcheck, int, 0444);
MODULE_PARM_DESC(selfcheck, "Testing: 1 enables the /proc command \"check N\", which takes N free objects from the cache, checks that each is in the constructor's state, and gives them back");

MODULE_LICENSE("Dual MIT/GPL");
MODULE_AUTHOR("simple_cache developers");
MODULE_DESCRIPTION("A SLAB cache with linked-list object tracking, written in C#");
