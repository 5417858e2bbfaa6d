// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// include/linux/spinlock.h and atomic.h as seen from C#: the locks and atomics that keep a
// module's data consistent while several processes use it. Partial declarations: each backend
// implements them.
//
// Why a raw spinlock, and no other lock. C# code in the kernel runs between kernel_fpu_begin()
// and kernel_fpu_end() (RyuJIT's code uses SSE registers), that is with preemption disabled:
// it must never sleep, so its lock must be one that never sleeps either.
//  - A mutex sleeps when contended: never inside C#.
//  - spinlock_t spins on ordinary kernels, but on PREEMPT_RT kernels (Debian's
//    linux-image-*-rt-amd64) spin_lock() becomes rt_spin_lock(), an rt_mutex that sleeps.
//  - raw_spinlock_t spins on every kernel, RT included. It is what the kernel itself uses where
//    sleeping is impossible (the scheduler, interrupt controllers), and what this API offers.
// The price, on RT: a raw spinlock keeps preemption off while held, so hold it for as few
// instructions as possible, and never across a call that may sleep or take a sleeping lock
// (allocation, freeing, copy_from_user: the API marks them "May sleep").
// arch/kernel/glue/check-fpu-sections.sh fails the build if the glue takes a sleeping lock, or
// calls anything that may sleep, inside a C# section.

namespace Kernel
{
    /// <summary><c>raw_spinlock_t</c>: opaque (its size depends on the kernel's configuration).</summary>
    public struct RawSpinlockT
    {
    }

    /// <summary>Spinlocks (include/linux/spinlock.h) and atomics (include/linux/atomic.h).</summary>
    public static unsafe partial class Sync
    {
        /// <summary>
        /// A new, unlocked raw spinlock (<c>kmalloc(sizeof(raw_spinlock_t))</c> +
        /// <c>raw_spin_lock_init()</c>), or null if memory ran out. May sleep.
        /// </summary>
        public static partial RawSpinlockT* RawSpinLockCreate();

        /// <summary>Frees a lock made by <see cref="RawSpinLockCreate"/> (<c>kfree()</c>). May sleep on PREEMPT_RT.</summary>
        public static partial void RawSpinLockDestroy(RawSpinlockT* lockp);

        /// <summary>
        /// <c>raw_spin_lock(lock)</c>: busy-waits for the lock, on every kernel (PREEMPT_RT
        /// included). Nothing that may sleep until <see cref="RawSpinUnlock"/>.
        /// </summary>
        public static partial void RawSpinLock(RawSpinlockT* lockp);

        /// <summary><c>raw_spin_unlock(lock)</c>.</summary>
        public static partial void RawSpinUnlock(RawSpinlockT* lockp);

        /// <summary><c>atomic_cmpxchg(v, old, new)</c>: sets *v to <paramref name="value"/> if it was <paramref name="expected"/>; returns what *v was.</summary>
        public static partial int AtomicCmpxchg(int* v, int expected, int value);

        /// <summary><c>atomic_set(v, i)</c> with release ordering (<c>atomic_set_release</c>).</summary>
        public static partial void AtomicSetRelease(int* v, int value);
    }
}
