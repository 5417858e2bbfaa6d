// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// failslab: fault injection for slab allocations (mm/failslab.c over lib/fault-inject.c's
// should_fail_ex(), Linux 6.1-6.12). The knobs are those of /sys/kernel/debug/failslab/, with
// the same defaults, and fail-nth is per thread like /proc/self/task/<tid>/fail-nth.

using System;
using System.Threading;
using SimpleCache.Model.Kernel;

namespace SimpleCache.Model.Mm
{
    /// <summary>The failslab fault attribute and should_failslab().</summary>
    public sealed class Failslab
    {
        private readonly object _lock = new();
        private ulong _count;
        private Random _random = new();

        private volatile int _probability;

        /// <summary><c>probability</c>: percent of eligible calls that fail (0 disables, unless fail-nth is set).</summary>
        public int Probability { get => _probability; set => _probability = value; }
        /// <summary><c>interval</c>: only every interval-th eligible call may fail (default 1).</summary>
        public ulong Interval { get; set; } = 1;
        /// <summary><c>times</c>: failures left; -1 for no limit (default 1).</summary>
        public int Times { get; set; } = 1;
        /// <summary><c>space</c>: bytes of allocations that pass before failures start (default 0).</summary>
        public int Space { get; set; }
        /// <summary><c>verbose</c>: 0 silent, 1 one line, 2 the line and a stack (default 2).</summary>
        public int Verbose { get; set; } = 2;
        /// <summary><c>ignore-gfp-wait</c>: never fail allocations that may sleep (default true).</summary>
        public bool IgnoreGfpWait { get; set; } = true;
        /// <summary><c>cache-filter</c>: only fail caches marked for it (slub_debug A or /sys/kernel/slab/&lt;cache&gt;/failslab).</summary>
        public bool CacheFilter { get; set; }
        /// <summary>Failures injected so far.</summary>
        public long Injected { get; private set; }

        /// <summary>Seeds the random source, for repeatable runs.</summary>
        public void Seed(int seed)
        {
            lock (_lock)
                _random = new Random(seed);
        }

        /// <summary>
        /// <c>/proc/self/task/&lt;tid&gt;/fail-nth</c> for the calling thread: the Nth eligible call
        /// from now fails (1 = the next one), whatever the other knobs say. 0 turns it off.
        /// </summary>
        public int FailNth
        {
            get
            {
                ModelTask task = ModelTask.Current;
                return task.FailNthOwner == this ? task.FailNth : 0;
            }
            set
            {
                ModelTask task = ModelTask.Current;
                task.FailNthOwner = this;
                task.FailNth = value;
            }
        }

        /// <summary>Raised with the report lines whenever a failure is injected.</summary>
        public event Action<string> Report;

        /// <summary><c>should_failslab(s, gfpflags)</c>.</summary>
        public bool ShouldFail(SlabCache cache, bool mayWait)
        {
            ModelTask task = ModelTask.Current;
            int nth = task.FailNth;
            if (nth > 0 && task.FailNthOwner == this)
            {
                task.FailNth = nth - 1;
                if (nth == 1)
                    return Fail(cache);
                return false;
            }
            // The common case, read without the lock: allocation fast paths must not contend here.
            if (_probability == 0)
                return false;
            lock (_lock)
            {
                if (Probability == 0)
                    return false;
                if (IgnoreGfpWait && mayWait)
                    return false;
                if (CacheFilter && (cache.Layout.Flags & CacheFlags.FailSlab) == 0 && !cache.FailslabMarked)
                    return false;
                if (Times == 0)
                    return false;
                if (Space > cache.Layout.ObjectSize)
                {
                    Space -= (int)cache.Layout.ObjectSize;
                    return false;
                }
                if (Interval > 1 && ++_count % Interval != 0)
                    return false;
                if (Probability <= _random.Next(100))
                    return false;
                return Fail(cache);
            }
        }

        private bool Fail(SlabCache cache)
        {
            lock (_lock)
            {
                if (Times > 0)
                    Times--;
                Injected++;
                if (Verbose > 0)
                    Report?.Invoke($"FAULT_INJECTION: forcing a failure.\nname failslab, interval {Interval}, probability {Probability}, space {Space}, times {Times}");
            }
            return true;
        }
    }
}
