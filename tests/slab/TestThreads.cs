// SPDX-License-Identifier: MIT OR GPL-2.0-only

using System;
using System.Threading;

namespace SimpleCache.Slab.Tests
{
    internal static class TestThreads
    {
        // Runs the action on a thread that then ends, and lets its ThreadCache be finalized: its
        // slabs go to the cache's partial list, as a CPU that goes offline flushes its own
        // (slub_cpu_dead()). An exception on that thread is rethrown here.
        public static void RunAndForget(Action action)
        {
            Exception error = null;
            var t = new Thread(() =>
            {
                try
                {
                    action();
                }
                catch (Exception e)
                {
                    error = e;
                }
            });
            t.Start();
            t.Join();
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            if (error != null)
                throw new Exception("on the other thread", error);
        }
    }
}
