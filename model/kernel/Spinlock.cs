// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// raw_spinlock_t in the model: mutual exclusion between tasks, not reentrant, and never a hang.
// A real spinlock that can never be released makes its CPU spin for good (the soft lockup
// watchdog reports it after 20 s and the CPU spins on). The model sees those cases at once and
// reports them as the watchdog would, then kills the spinning task (ModelKernel.SoftLockup):
//   - the task already holds the lock (a recursion: a missing unlock, or a lock taken twice);
//   - the holder has left the kernel with the lock held (a system call returned without the
//     unlock; no code of that task can run in the kernel to release it);
//   - the holder died in an oops while holding it.
// A holder that is running in the kernel on another thread is waited for, as a spinning CPU does.

using System.Threading;

namespace SimpleCache.Model.Kernel
{
    /// <summary>A raw spinlock: <c>raw_spin_lock()</c> and <c>raw_spin_unlock()</c>.</summary>
    public sealed class Spinlock
    {
        private readonly object _sync = new();
        private ModelTask _owner;

        /// <summary>The task holding it, or null.</summary>
        public ModelTask Owner => Volatile.Read(ref _owner);

        /// <summary><c>raw_spin_lock()</c> in <paramref name="kernel"/>, by the current task.</summary>
        public void Lock(ModelKernel kernel)
        {
            ModelTask me = ModelTask.Current;
            string deadlock;
            lock (_sync)
            {
                while (true)
                {
                    if (_owner == null)
                    {
                        _owner = me;
                        me.SpinlocksHeld++;
                        return;
                    }
                    deadlock = _owner == me ? $"{me.Comm}[{me.Pid}] takes a spinlock it already holds"
                        : _owner.Dead ? $"the spinlock is held by {_owner.Comm}[{_owner.Pid}], which died in an oops"
                        : !_owner.InSyscall ? $"the spinlock is held by {_owner.Comm}[{_owner.Pid}], whose system call returned without releasing it"
                        : null;
                    if (deadlock != null)
                        break;
                    Monitor.Wait(_sync, 20);   // the holder is running: wait for its unlock
                }
            }
            kernel.SoftLockup(deadlock);   // outside _sync: a parked task must not keep it
        }

        /// <summary><c>raw_spin_unlock()</c>.</summary>
        public void Unlock()
        {
            lock (_sync)
            {
                if (_owner != null)
                    _owner.SpinlocksHeld--;
                _owner = null;
                Monitor.PulseAll(_sync);
            }
        }
    }
}
