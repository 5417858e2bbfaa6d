// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Tasks: the model's struct task_struct. A task is what the kernel calls `current`: the process
// (or thread) on whose behalf kernel code runs. It carries what the kernel keeps per task and the
// model needs: its pid and comm (in WARNINGs and oopses), the CPU it runs on (sched_setaffinity),
// its fail-nth (/proc/self/task/<tid>/fail-nth), the user memory copy_from_user() may read, and
// the spinlocks it holds (the spinlock part of preempt_count).
//
// Each OS thread of the host is one task (a long-lived process that makes many system calls); the
// shell gives each command a task of its own (ModelTask.Spawn), as sh forks one per command.
//
// Module code runs on the task's own worker thread (RunInKernel), not on the caller's thread.
// That is what lets an oops kill the task as the kernel does (die() -> make_task_dead() ->
// do_exit()): the module's entry points are [UnmanagedCallersOnly], so no .NET exception may
// unwind through them. An oops instead parks the worker for good, in the middle of the module's
// code, with whatever locks it holds (a real dead task keeps them too), and the caller, waiting
// in a managed frame, sees the task killed: TaskKilledException, which the shell turns into
// "Segmentation fault" and exit status 139. The kernel itself goes on.

using System;
using System.Collections.Generic;
using System.Threading;

namespace SimpleCache.Model.Kernel
{
    /// <summary>How a task entered module code: what its kernel stack has below the module's frames.</summary>
    public enum KernelEntry
    {
        /// <summary>Not through a system call the model knows (host code calling the model).</summary>
        None,
        /// <summary>finit_module(2): insmod running the module's init.</summary>
        InitModule,
    }

    /// <summary>
    /// Thrown to the caller of a system call whose task an oops killed (<c>make_task_dead(SIGSEGV)</c>):
    /// the process is dead, its system call never returns.
    /// </summary>
    public sealed class TaskKilledException(ModelTask task, int signal, string reason)
        : Exception($"{task.Comm}[{task.Pid}] killed by signal {signal}: {reason}")
    {
        /// <summary>The task that died.</summary>
        public ModelTask Task { get; } = task;
        /// <summary>The signal that killed it (11, SIGSEGV, after an oops).</summary>
        public int Signal { get; } = signal;
        /// <summary>The shell's exit status of a process killed by <see cref="Signal"/>: 128 + signal.</summary>
        public int ExitStatus => 128 + Signal;
    }

    /// <summary>A task (<c>struct task_struct</c>): a process or thread of the model.</summary>
    public sealed class ModelTask
    {
        [ThreadStatic] private static ModelTask t_current;
        [ThreadStatic] private static Worker t_worker;
        private static int s_lastPid = 999;   // pids of processes started after boot

        private readonly object _workerLock = new();
        private Worker _worker;

        /// <summary>A new task named <paramref name="comm"/> (the kernel keeps 15 bytes of it).</summary>
        public ModelTask(string comm)
        {
            Pid = Interlocked.Increment(ref s_lastPid);
            Comm = comm.Length > 15 ? comm[..15] : comm;
        }

        /// <summary>The task of the calling thread (<c>current</c>); a thread whose task died gets a new one.</summary>
        public static ModelTask Current
        {
            get
            {
                ModelTask task = t_current;
                if (task == null || (task.Dead && t_worker == null))
                    t_current = task = new ModelTask(Thread.CurrentThread.Name ?? "dotnet");
                return task;
            }
        }

        /// <summary>The process id (<c>task_pid_nr()</c>).</summary>
        public int Pid { get; }
        /// <summary>The command name (<c>comm</c>).</summary>
        public string Comm { get; }
        /// <summary>Whether an oops killed it.</summary>
        public bool Dead { get; private set; }

        // The CPU it runs on, in the allocator that chose it (SlabAllocator.CurrentCpu).
        internal int Cpu;
        internal object CpuOwner;
        // fail-nth, for the Failslab it was set on (Failslab.FailNth).
        internal int FailNth;
        internal object FailNthOwner;
        // User memory the kernel may read: buffers pinned for a system call (UserSpace).
        internal List<(nint Start, nint Length)> Mapped;
        // Raw spinlocks held (Spinlock.cs).
        internal int SpinlocksHeld;
        // In a system call: module code runs for it, or an oops stopped it there for good.
        internal volatile bool InSyscall;
        // Which system call entered the module (the bottom of a stack depot trace).
        internal KernelEntry Entry;

        /// <summary>Whether the calling thread is running kernel code for a task (a module call).</summary>
        public static bool InKernel => t_worker != null;

        /// <summary>
        /// Starts a process: the calling thread runs as a new task named <paramref name="comm"/>,
        /// on its parent's CPU, until the returned scope ends (the process exits).
        /// </summary>
        public static Scope Spawn(string comm)
        {
            ModelTask parent = Current;
            var child = new ModelTask(comm) { Cpu = parent.Cpu, CpuOwner = parent.CpuOwner };
            t_current = child;
            return new Scope(parent, child);
        }

        /// <summary>A running process; disposing it is its exit.</summary>
        public readonly struct Scope : IDisposable
        {
            private readonly ModelTask _parent, _task;
            internal Scope(ModelTask parent, ModelTask task) { _parent = parent; _task = task; }
            /// <summary>The process's task.</summary>
            public ModelTask Task => _task;
            /// <summary><c>do_exit()</c>: the task ends and its parent runs on.</summary>
            public void Dispose()
            {
                _task?.StopWorker();
                t_current = _parent;
            }
        }

        /// <summary>
        /// Runs <paramref name="code"/> (which calls module code) in kernel mode for this task: on
        /// its worker thread, with the caller's execution context (the current model kernel and
        /// module), and returns its result. If an oops kills the task on the way, the worker never
        /// comes back and this throws <see cref="TaskKilledException"/> instead.
        /// </summary>
        public int RunInKernel(Func<int> code)
        {
            if (t_worker != null)
                return code();   // already in the kernel (a module calling back into a module)
            Worker worker;
            ExecutionContext context = ExecutionContext.Capture();
            InSyscall = true;
            lock (_workerLock)
            {
                worker = _worker ??= new Worker(this);
                worker.Submit(code, context);   // under the lock: an idle worker cannot leave now
            }
            int result = worker.Wait();   // a killed task stays in its system call: it never returns
            InSyscall = false;
            return result;
        }

        /// <summary>
        /// The end of a task that oopsed (<c>make_task_dead()</c>): on a task's worker, tells the
        /// waiting caller <paramref name="outcome"/> and parks the worker for good (never returns).
        /// On any other thread (host code calling the model directly, with no module frames to
        /// unwind through) it throws <paramref name="outcome"/>.
        /// </summary>
        public static void Die(Exception outcome)
        {
            Worker worker = t_worker;
            if (worker == null)
                throw outcome;
            ModelTask task = worker.Task;
            task.Dead = true;
            lock (task._workerLock)
                if (task._worker == worker)
                    task._worker = null;
            worker.Kill(outcome);
            Thread.Sleep(Timeout.Infinite);
        }

        private void StopWorker()
        {
            Worker worker;
            lock (_workerLock)
            {
                worker = _worker;
                _worker = null;
            }
            worker?.Stop();
        }

        // The thread that runs a task's kernel code. It waits for work; after a second with none
        // it ends (the next call makes a new one), so idle tasks cost no thread.
        private sealed class Worker
        {
            private enum State { Idle, Pending, Running, Done, Killed, Stopped }

            private readonly object _sync = new();
            private State _state;
            private Func<int> _code;
            private ExecutionContext _context;
            private int _result;
            private Exception _failure;

            internal Worker(ModelTask task)
            {
                Task = task;
                var thread = new Thread(Loop, 4 << 20) { IsBackground = true, Name = $"{task.Comm}[{task.Pid}]" };
                thread.Start();
            }

            internal ModelTask Task { get; }

            internal void Submit(Func<int> code, ExecutionContext context)
            {
                lock (_sync)
                {
                    if (_state != State.Idle)
                        throw new InvalidOperationException($"{Task.Comm}[{Task.Pid}] is already in the kernel on another thread");
                    _code = code;
                    _context = context;
                    _state = State.Pending;
                    Monitor.PulseAll(_sync);
                }
            }

            internal int Wait()
            {
                lock (_sync)
                {
                    while (_state is State.Pending or State.Running)
                        Monitor.Wait(_sync);
                    Exception failure = _failure;
                    bool killed = _state == State.Killed;
                    _failure = null;
                    _code = null;
                    _context = null;
                    if (!killed)
                        _state = State.Idle;
                    if (failure != null)
                        throw failure;
                    return _result;
                }
            }

            // The module function a NULL pointer dereference happened in (the innermost frame of a
            // module's code: an assembly that embeds a <module>.modinfo.c), or null if it happened
            // in the model itself, which is a bug of the model and stays an exception.
            private static string ModuleFunction(Exception e)
            {
                foreach (var frame in new System.Diagnostics.StackTrace(e, false).GetFrames())
                {
                    var method = frame.GetMethod();
                    var assembly = method?.DeclaringType?.Assembly;
                    if (assembly != null && !assembly.IsDynamic &&
                        System.Array.Exists(assembly.GetManifestResourceNames(), n => n.EndsWith(".modinfo.c", StringComparison.Ordinal)))
                        return method.Name;
                }
                return null;
            }

            internal void Kill(Exception outcome)
            {
                lock (_sync)
                {
                    _failure = outcome;
                    _state = State.Killed;
                    Monitor.PulseAll(_sync);
                }
            }

            internal void Stop()
            {
                lock (_sync)
                {
                    if (_state == State.Idle)
                        _state = State.Stopped;
                    Monitor.PulseAll(_sync);
                }
            }

            private void Loop()
            {
                t_current = Task;
                t_worker = this;
                while (true)
                {
                    Func<int> code;
                    ExecutionContext context;
                    lock (_sync)
                    {
                        while (_state != State.Pending)
                        {
                            if (_state == State.Stopped || (!Monitor.Wait(_sync, 1000) && _state == State.Idle && Detach()))
                                return;
                        }
                        _state = State.Running;
                        code = _code;
                        context = _context;
                    }
                    int result = 0;
                    Exception failure = null;
                    try
                    {
                        if (context == null)
                            result = code();
                        else
                            ExecutionContext.Run(context, _ => result = code(), null);
                    }
                    catch (NullReferenceException e) when (ModuleFunction(e) is string function)
                    {
                        // Module code dereferenced NULL: in the kernel, a page fault oops that
                        // kills the task; here the same, and this worker parks for good.
                        ModelKernel.Current.NullPointerOops(function);
                    }
                    catch (Exception e)
                    {
                        failure = e;
                    }
                    lock (_sync)
                    {
                        _result = result;
                        _failure = failure;
                        _state = State.Done;
                        Monitor.PulseAll(_sync);
                    }
                }
            }

            // Idle for a second: leave the task, unless a call is being handed over right now
            // (the caller takes the task's worker lock first, then this worker's).
            private bool Detach()
            {
                Monitor.Exit(_sync);
                try
                {
                    lock (Task._workerLock)
                        lock (_sync)
                        {
                            if (_state != State.Idle)
                                return false;
                            _state = State.Stopped;
                            if (Task._worker == this)
                                Task._worker = null;
                            return true;
                        }
                }
                finally
                {
                    Monitor.Enter(_sync);
                }
            }
        }
    }
}
