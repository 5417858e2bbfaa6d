// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * kcs: the real-kernel glue of the C# kernel API ("kernel C#").
 *
 * It holds no module logic. It provides:
 *  - module_init/module_exit and the proc file's operations, which enter C# through the
 *    trampolines of entry.S (on x86-64 they realign the stack) inside an FPU section:
 *    kernel_fpu_begin()/kernel_fpu_end() on x86-64, kernel_neon_begin()/kernel_neon_end() on
 *    arm64 (RyuJIT code uses SSE or NEON registers even without floating point, and the kernel,
 *    built with -mgeneral-regs-only, does not save them for us);
 *  - thin wrappers for the kernel functions and macros the C# bindings call (one kcs_* function
 *    per binding in arch/kernel/bindings). A wrapper whose kernel function may sleep, or may take
 *    a lock that sleeps on PREEMPT_RT, leaves the FPU section first and re-enters it after
 *    (KCS_OUTSIDE_FPU), since the section disables preemption;
 *  - the few symbols NativeAOT-compiled code expects from its runtime (RhpTrapThreads,
 *    __security_cookie) and the fail-fast that stands in for exceptions.
 * Everything the kernel calls back (init, exit, the slab constructor, proc_ops) is plain C, which then
 * calls C# directly: no indirect branch ever lands in C# code (IBT, retpolines).
 */
#include <linux/bug.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/proc_fs.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#if defined(CONFIG_X86)
#include <asm/fpu/api.h>
#define kcs_fpu_begin()		kernel_fpu_begin()
#define kcs_fpu_end()		kernel_fpu_end()
#elif defined(CONFIG_ARM64)
#include <asm/neon.h>
#define kcs_fpu_begin()		kernel_neon_begin()
#define kcs_fpu_end()		kernel_neon_end()
#else
#error "simple_cache's glue knows x86-64 and arm64"
#endif

#include "kcs.h"

/*
 * The FPU section. kernel_fpu_begin() (x86-64) lets kernel code use the SSE registers that
 * RyuJIT's code needs, and disables preemption until kernel_fpu_end(); kernel_neon_begin() (arm64)
 * does the same for the NEON registers (6.1 disables preemption and softirqs; later kernels
 * differ in how, and the section still may not sleep). Nothing inside may sleep,
 * and on a PREEMPT_RT kernel that includes taking a spinlock_t (rt_spin_lock) and anything that
 * does, such as SLUB's free paths. Two macros, the only places the section is entered or left:
 *
 *  KCS_IN_FPU(stmt)       the kernel called C; run stmt, which calls C#, inside a section.
 *  KCS_OUTSIDE_FPU(stmt)  C# called a wrapper; run stmt, a call that may sleep, outside the
 *                         section, and re-enter it for the C# code that continues after.
 *
 * check-fpu-sections.sh, run by Kbuild on every build, follows these calls through kcs.o and
 * fails the build if a call that may sleep, or a sleeping lock, is reached inside a section.
 */
#define KCS_IN_FPU(stmt)	do { kcs_fpu_begin(); stmt; kcs_fpu_end(); } while (0)
#define KCS_OUTSIDE_FPU(stmt)	do { kcs_fpu_end(); stmt; kcs_fpu_begin(); } while (0)

/*
 * KCS_WEAK_ADDR(name): the address of a C# entry point a module may lack (a weak symbol), to
 * compare. On arm64 it is held in data, where it is a plain 64-bit relocation: an address of a
 * weak symbol taken in code is loaded through the GOT there (R_AARCH64_ADR_GOT_PAGE,
 * R_AARCH64_LD64_GOT_LO12_NC), and the arm64 module loader applies no GOT relocation
 * ("unsupported RELA relocation: 312"). The variables are global, so that the compiler cannot
 * fold a read of them back into the symbol's address. On x86-64 the address is taken in code:
 * held in data, objtool on an IBT kernel would take it for an indirect-call target without
 * ENDBR64 ("data relocation to !ENDBR").
 */
#if defined(CONFIG_ARM64)
void *kcs_addr_slab_ctor = (void *)kcs_slab_ctor;
void *kcs_addr_proc_show = (void *)kcs_proc_show;
void *kcs_addr_proc_single_show = (void *)kcs_proc_single_show;
#define KCS_WEAK_ADDR(name)	READ_ONCE(kcs_addr_##name)
#else
#define KCS_WEAK_ADDR(name)	((void *)kcs_##name)
#endif

/* Polled by NativeAOT code after each call into C; no GC, so never set. */
u32 RhpTrapThreads;
/* The stack-protector cookie of NativeAOT code; set to a random value at load. */
u64 __security_cookie;

/* Stands in for exceptions: a runtime check in C# failed (index out of range, ...). */
void kcs_fail_fast(void)
{
	kcs_fpu_end();
	pr_crit("kcs: a runtime check in C# code failed\n");
	BUG();
}

/* --- printk.h, bug.h ------------------------------------------------------------------- */

void kcs_printk(int level, const char *text, int len)
{
	switch (level) {
	case 0: printk(KERN_EMERG "%.*s\n", len, text); break;
	case 1: printk(KERN_ALERT "%.*s\n", len, text); break;
	case 2: printk(KERN_CRIT "%.*s\n", len, text); break;
	case 3: printk(KERN_ERR "%.*s\n", len, text); break;
	case 4: printk(KERN_WARNING "%.*s\n", len, text); break;
	case 5: printk(KERN_NOTICE "%.*s\n", len, text); break;
	case 6: printk(KERN_INFO "%.*s\n", len, text); break;
	default: printk(KERN_DEBUG "%.*s\n", len, text); break;
	}
}

void kcs_warn(const char *text, int len)
{
	WARN(1, "%.*s\n", len, text);
}

/*
 * %pK, formatted by the kernel itself: lib/vsprintf.c's restricted_pointer() applies
 * /proc/sys/kernel/kptr_restrict and the reader's CAP_SYSLOG. vsprintf neither sleeps nor takes
 * a sleeping lock, so this runs inside the FPU section.
 */
int kcs_format_pk(const void *p, char *text, int size)
{
	return scnprintf(text, size, "%pK", p);
}

/* --- list.h: the reports of lib/list_debug.c ----------------------------------------------- */

/*
 * The C# list (include/linux/List.cs) checks its links inline, as list.h does under
 * CONFIG_DEBUG_LIST, and on a failure calls the kernel's own report, the function a C module's
 * list_add()/list_del() would reach: it prints what is wrong and, with Debian's
 * CONFIG_BUG_ON_DATA_CORRUPTION, BUG()s at its line of lib/list_debug.c. Outside the FPU section,
 * so that the oops does not leave the CPU in kernel FPU mode. 6.6 renamed the functions.
 */
bool kcs_list_add_valid_or_report(struct list_head *new, struct list_head *prev, struct list_head *next)
{
	bool valid;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	KCS_OUTSIDE_FPU(valid = __list_add_valid_or_report(new, prev, next));
#else
	KCS_OUTSIDE_FPU(valid = __list_add_valid(new, prev, next));
#endif
	return valid;
}

bool kcs_list_del_entry_valid_or_report(struct list_head *entry)
{
	bool valid;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	KCS_OUTSIDE_FPU(valid = __list_del_entry_valid_or_report(entry));
#else
	KCS_OUTSIDE_FPU(valid = __list_del_entry_valid(entry));
#endif
	return valid;
}

/* --- slab.h ----------------------------------------------------------------------------- */

static bool kcs_gfp(u32 flags, gfp_t *gfp)
{
	gfp_t g = 0;

	if (flags & ~KCS_KNOWN_GFP_FLAGS)
		return false;
	if (flags & KCS_GFP_KERNEL)
		g |= GFP_KERNEL;
	if (flags & KCS_GFP_ATOMIC)
		g |= GFP_ATOMIC;
	if (flags & KCS_GFP_NOWAIT)
		g |= GFP_NOWAIT;
	if (flags & KCS_GFP_ZERO)
		g |= __GFP_ZERO;
	if (flags & KCS_GFP_NOWARN)
		g |= __GFP_NOWARN;
	*gfp = g;
	return true;
}

static bool kcs_slab_flags(u32 flags, slab_flags_t *out)
{
	slab_flags_t f = 0;

	if (flags & ~KCS_KNOWN_SLAB_FLAGS)
		return false;
	if (flags & KCS_SLAB_CONSISTENCY_CHECKS)
		f |= SLAB_CONSISTENCY_CHECKS;
	if (flags & KCS_SLAB_RED_ZONE)
		f |= SLAB_RED_ZONE;
	if (flags & KCS_SLAB_POISON)
		f |= SLAB_POISON;
	if (flags & KCS_SLAB_STORE_USER)
		f |= SLAB_STORE_USER;
	if (flags & KCS_SLAB_HWCACHE_ALIGN)
		f |= SLAB_HWCACHE_ALIGN;
	if (flags & KCS_SLAB_PANIC)
		f |= SLAB_PANIC;
	if (flags & KCS_SLAB_TYPESAFE_BY_RCU)
		f |= SLAB_TYPESAFE_BY_RCU;
	if (flags & KCS_SLAB_ACCOUNT)
		f |= SLAB_ACCOUNT;
	if (flags & KCS_SLAB_RECLAIM_ACCOUNT)
		f |= SLAB_RECLAIM_ACCOUNT;
#ifdef SLAB_NO_MERGE
	if (flags & KCS_SLAB_NO_MERGE)
		f |= SLAB_NO_MERGE;
#endif
	*out = f;
	return true;
}

/* The kernel calls this C function; it calls the C# constructor directly. */
static void kcs_ctor_thunk(void *obj)
{
	KCS_IN_FPU(kcs_enter_slab_ctor(obj));
}

struct kmem_cache *kcs_kmem_cache_create(const char *name, int len, u32 size, u32 align,
					 u32 flags, void *ctor)
{
	char buf[64];
	slab_flags_t sflags;
	void (*kctor)(void *) = NULL;
	struct kmem_cache *s;

	if (len <= 0 || len >= (int)sizeof(buf) || !kcs_slab_flags(flags, &sflags))
		return NULL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (ctor) {
		/* Only the module's exported constructor can be called without an indirect branch. */
		if (ctor != KCS_WEAK_ADDR(slab_ctor)) {
			pr_err("kcs: %s: the constructor must be the module's ModuleEntry.SlabCtor\n", buf);
			return NULL;
		}
		kctor = kcs_ctor_thunk;
	}
	KCS_OUTSIDE_FPU(s = kmem_cache_create(buf, size, align, sflags, kctor));
	return s;
}

void *kcs_kmem_cache_alloc(struct kmem_cache *s, u32 flags)
{
	gfp_t gfp;
	void *p;

	if (!kcs_gfp(flags, &gfp))
		return NULL;
	KCS_OUTSIDE_FPU(p = kmem_cache_alloc(s, gfp));
	return p;
}

/* Never sleeps on an ordinary kernel; on PREEMPT_RT, SLUB's local_lock and list_lock do. */
void kcs_kmem_cache_free(struct kmem_cache *s, void *obj)
{
	KCS_OUTSIDE_FPU(kmem_cache_free(s, obj));
}

void kcs_kmem_cache_destroy(struct kmem_cache *s)
{
	KCS_OUTSIDE_FPU(kmem_cache_destroy(s));
}

int kcs_kmem_cache_shrink(struct kmem_cache *s)
{
	int ret;

	KCS_OUTSIDE_FPU(ret = kmem_cache_shrink(s));
	return ret;
}

void *kcs_kmalloc(size_t size, u32 flags)
{
	gfp_t gfp;
	void *p;

	if (!kcs_gfp(flags, &gfp))
		return NULL;
	KCS_OUTSIDE_FPU(p = kmalloc(size, gfp));
	return p;
}

/* As kcs_kmem_cache_free: kfree() takes SLUB's locks, which sleep on PREEMPT_RT. */
void kcs_kfree(void *p)
{
	KCS_OUTSIDE_FPU(kfree(p));
}

/* The slab of an object: its folio's first byte (mm/slab.h's slab_address(virt_to_slab()) is private to mm/). */
void *kcs_slab_address(const void *obj)
{
	return folio_address(virt_to_folio(obj));
}

/* The slab's size in bytes: PAGE_SIZE << its order. */
size_t kcs_slab_size(const void *obj)
{
	return folio_size(virt_to_folio(obj));
}

/* --- moduleparam.h, jiffies.h ----------------------------------------------------------- */

/* The address of the variable behind module parameter @name (see module_param()). */
void *kcs_param_arg(const char *name, int len)
{
	unsigned int i;

	for (i = 0; i < THIS_MODULE->num_kp; i++) {
		const struct kernel_param *kp = &THIS_MODULE->kp[i];

		if (strlen(kp->name) == (size_t)len && !memcmp(kp->name, name, len))
			return kp->arg;
	}
	return NULL;
}

u64 kcs_jiffies(void)
{
	return jiffies;
}

u32 kcs_hz(void)
{
	return HZ;
}

/* --- proc_fs.h, seq_file.h ------------------------------------------------------------------ */

/*
 * The proc file's operations: plain C functions the kernel calls (indirectly, through
 * proc_ops), each entering C# through its trampoline inside an FPU section. Reads go through
 * seq_file's single_open, so the C# show callback prints the whole file at once.
 */
static int kcs_seq_show(struct seq_file *m, void *v)
{
	int ret;

	KCS_IN_FPU(ret = kcs_enter_proc_show(m));
	return ret;
}

static int kcs_fops_open(struct inode *inode, struct file *file)
{
	int writable = (file->f_mode & FMODE_WRITE) != 0;
	int ret;

	KCS_IN_FPU(ret = kcs_enter_proc_open(writable));
	if (ret)
		return ret;
	ret = single_open(file, kcs_seq_show, NULL);
	if (ret)
		KCS_IN_FPU(kcs_enter_proc_release(writable));
	return ret;
}

static ssize_t kcs_fops_write(struct file *file, const char __user *buf, size_t len, loff_t *ppos)
{
	long ret;

	KCS_IN_FPU(ret = kcs_enter_proc_write(buf, len));
	return ret;
}

static int kcs_fops_release(struct inode *inode, struct file *file)
{
	int writable = (file->f_mode & FMODE_WRITE) != 0;

	KCS_IN_FPU(kcs_enter_proc_release(writable));
	return single_release(inode, file);
}

static const struct proc_ops kcs_proc_ops = {
	.proc_open = kcs_fops_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_write = kcs_fops_write,
	.proc_release = kcs_fops_release,
};

void *kcs_proc_create(const char *name, int len, u16 mode)
{
	char buf[64];
	struct proc_dir_entry *pde;

	if (len <= 0 || len >= (int)sizeof(buf) || !KCS_WEAK_ADDR(proc_show))
		return NULL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	KCS_OUTSIDE_FPU(pde = proc_create(buf, mode, NULL, &kcs_proc_ops));
	return pde;
}

/*
 * proc_create_single(): a read-only file; every read prints what the C# single show prints, in
 * an FPU section of its own.
 */
static int kcs_single_seq_show(struct seq_file *m, void *v)
{
	int ret;

	KCS_IN_FPU(ret = kcs_enter_proc_single_show(m));
	return ret;
}

void *kcs_proc_create_single(const char *name, int len, u16 mode)
{
	char buf[64];
	struct proc_dir_entry *pde;

	if (len <= 0 || len >= (int)sizeof(buf) || !KCS_WEAK_ADDR(proc_single_show))
		return NULL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	KCS_OUTSIDE_FPU(pde = proc_create_single(buf, mode, NULL, kcs_single_seq_show));
	return pde;
}

void kcs_proc_remove(void *pde)
{
	KCS_OUTSIDE_FPU(proc_remove(pde));
}

void kcs_seq_write(struct seq_file *m, const char *data, int len)
{
	seq_write(m, data, len);
}

/* --- uaccess.h ------------------------------------------------------------------------------ */

/*
 * copy_from_user() is inline and branches (a short copy zeroes the rest); given it in the
 * wrapper, GCC for arm64 duplicates the wrapper's tail, re-entering the FPU section on each
 * branch, which check-fpu-sections.sh (a walk in code order) cannot tell from a nested section.
 * In a helper of its own, the wrapper stays straight-line.
 */
static noinline unsigned long kcs_copy_from_user_outside(void *to, const void __user *from, unsigned long n)
{
	return copy_from_user(to, from, n);
}

unsigned long kcs_copy_from_user(void *to, const void __user *from, unsigned long n)
{
	unsigned long left;

	KCS_OUTSIDE_FPU(left = kcs_copy_from_user_outside(to, from, n));	/* a page fault may sleep */
	return left;
}

/* --- spinlock.h, atomic.h ------------------------------------------------------------------- */

/*
 * The C# API's only lock is raw_spinlock_t: C# runs with preemption disabled (the FPU section),
 * so its lock must never sleep. spinlock_t would spin on an ordinary kernel, but on PREEMPT_RT
 * spin_lock() is rt_spin_lock(), which sleeps; raw_spin_lock() spins on every kernel.
 */
void *kcs_raw_spin_lock_create(void)
{
	raw_spinlock_t *lock;

	KCS_OUTSIDE_FPU(lock = kmalloc(sizeof(*lock), GFP_KERNEL));
	if (lock)
		raw_spin_lock_init(lock);
	return lock;
}

void kcs_raw_spin_lock_destroy(void *lock)
{
	KCS_OUTSIDE_FPU(kfree(lock));
}

void kcs_raw_spin_lock(void *lock)
{
	raw_spin_lock(lock);
}

void kcs_raw_spin_unlock(void *lock)
{
	raw_spin_unlock(lock);
}

int kcs_atomic_cmpxchg(int *v, int old, int new)
{
	return cmpxchg(v, old, new);
}

void kcs_atomic_set_release(int *v, int i)
{
	smp_store_release(v, i);
}

/* --- module.h ----------------------------------------------------------------------------- */

static int __init kcs_init(void)
{
	int ret;

	__security_cookie = get_random_u64();
	KCS_IN_FPU(ret = kcs_enter_module_init());
	return ret;
}

static void __exit kcs_exit(void)
{
	KCS_IN_FPU(kcs_enter_module_exit());
}

module_init(kcs_init);
module_exit(kcs_exit);
