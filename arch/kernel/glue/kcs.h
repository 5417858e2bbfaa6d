/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The binary contract between the C# kernel API (include/linux, arch/kernel/bindings) and
 * this glue. The flag bits are the C# API's own (include/linux/Flags.cs); the glue maps them to
 * the kernel's, whose values change with the kernel version and configuration.
 * tests/host/abi.sh checks that the two files agree, and that every entry point named in
 * include/linux/ModuleEntry.cs is declared below.
 */
#ifndef KCS_H
#define KCS_H

/* enum Gfp (include/linux/Flags.cs) */
#define KCS_GFP_KERNEL		0x01
#define KCS_GFP_ATOMIC		0x02
#define KCS_GFP_NOWAIT		0x04
#define KCS_GFP_ZERO		0x100
#define KCS_GFP_NOWARN		0x200
/* Every GFP bit above: kcs.c refuses a call with any other bit set. */
#define KCS_KNOWN_GFP_FLAGS	(KCS_GFP_KERNEL | KCS_GFP_ATOMIC | KCS_GFP_NOWAIT | KCS_GFP_ZERO | \
				 KCS_GFP_NOWARN)

/* enum SlabFlags (include/linux/Flags.cs) */
#define KCS_SLAB_CONSISTENCY_CHECKS	0x01
#define KCS_SLAB_RED_ZONE		0x02
#define KCS_SLAB_POISON			0x04
#define KCS_SLAB_STORE_USER		0x08
#define KCS_SLAB_HWCACHE_ALIGN		0x10
#define KCS_SLAB_PANIC			0x20
#define KCS_SLAB_TYPESAFE_BY_RCU	0x40
#define KCS_SLAB_ACCOUNT		0x80
#define KCS_SLAB_RECLAIM_ACCOUNT	0x100
#define KCS_SLAB_NO_MERGE		0x200
/* Every slab flag above: kcs.c refuses a cache with any other bit set. */
#define KCS_KNOWN_SLAB_FLAGS	(KCS_SLAB_CONSISTENCY_CHECKS | KCS_SLAB_RED_ZONE | KCS_SLAB_POISON | \
				 KCS_SLAB_STORE_USER | KCS_SLAB_HWCACHE_ALIGN | KCS_SLAB_PANIC | \
				 KCS_SLAB_TYPESAFE_BY_RCU | KCS_SLAB_ACCOUNT | KCS_SLAB_RECLAIM_ACCOUNT | \
				 KCS_SLAB_NO_MERGE)

/*
 * Entry trampolines (entry.S): each calls one C# entry point (class ModuleEntry in
 * include/linux/Module.cs) directly, on x86-64 after realigning the stack to 16 bytes.
 */
struct seq_file;
int kcs_enter_module_init(void);
void kcs_enter_module_exit(void);
void kcs_enter_slab_ctor(void *obj);
int kcs_enter_proc_open(int writable);
int kcs_enter_proc_show(struct seq_file *m);
long kcs_enter_proc_write(const char __user *buf, size_t len);
void kcs_enter_proc_release(int writable);
int kcs_enter_proc_single_show(struct seq_file *m);

/*
 * The C# entry points themselves (include/linux/ModuleEntry.cs names them); those a module may
 * lack are weak. entry.S calls them; kcs.c only compares addresses (KCS_WEAK_ADDR).
 */
extern int kcs_module_init(void);
extern void kcs_module_exit(void);
extern void kcs_slab_ctor(void *obj) __attribute__((weak));
extern int kcs_proc_open(int writable) __attribute__((weak));
extern int kcs_proc_show(struct seq_file *m) __attribute__((weak));
extern long kcs_proc_write(const char __user *buf, size_t len) __attribute__((weak));
extern void kcs_proc_release(int writable) __attribute__((weak));
extern int kcs_proc_single_show(struct seq_file *m) __attribute__((weak));

/*
 * The wrappers the C# bindings call (arch/kernel/bindings/Bindings.cs, one DllImport each).
 * Callers run inside a kernel_fpu_begin() section: a wrapper whose kernel function may sleep, or
 * take a lock that sleeps on PREEMPT_RT, leaves it around that call (KCS_OUTSIDE_FPU in kcs.c).
 * check-fpu-sections.sh checks this on every build, in the object kbuild compiled.
 */
struct kmem_cache;
void kcs_fail_fast(void);
void kcs_printk(int level, const char *text, int len);
void kcs_warn(const char *text, int len);
int kcs_format_pk(const void *p, char *text, int size);
struct list_head;
bool kcs_list_add_valid_or_report(struct list_head *new, struct list_head *prev, struct list_head *next);
bool kcs_list_del_entry_valid_or_report(struct list_head *entry);
struct kmem_cache *kcs_kmem_cache_create(const char *name, int len, u32 size, u32 align,
					 u32 flags, void *ctor);
void *kcs_kmem_cache_alloc(struct kmem_cache *s, u32 flags);
void kcs_kmem_cache_free(struct kmem_cache *s, void *obj);
void kcs_kmem_cache_destroy(struct kmem_cache *s);
int kcs_kmem_cache_shrink(struct kmem_cache *s);
void *kcs_kmalloc(size_t size, u32 flags);
void kcs_kfree(void *p);
void *kcs_slab_address(const void *obj);
size_t kcs_slab_size(const void *obj);
void *kcs_param_arg(const char *name, int len);
u64 kcs_jiffies(void);
u32 kcs_hz(void);
void *kcs_proc_create(const char *name, int len, u16 mode);
void *kcs_proc_create_single(const char *name, int len, u16 mode);
void kcs_proc_remove(void *pde);
void kcs_seq_write(struct seq_file *m, const char *data, int len);
unsigned long kcs_copy_from_user(void *to, const void __user *from, unsigned long n);
void *kcs_raw_spin_lock_create(void);
void kcs_raw_spin_lock_destroy(void *lock);
void kcs_raw_spin_lock(void *lock);
void kcs_raw_spin_unlock(void *lock);
int kcs_atomic_cmpxchg(int *v, int old, int new);
void kcs_atomic_set_release(int *v, int i);

#if defined(CONFIG_ARM64)
extern void *kcs_addr_slab_ctor;
extern void *kcs_addr_proc_show;
extern void *kcs_addr_proc_single_show;
#endif

/* Expected by NativeAOT code. */
extern u32 RhpTrapThreads;
extern u64 __security_cookie;

#endif /* KCS_H */
