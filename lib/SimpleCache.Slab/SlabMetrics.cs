// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The caches' figures through System.Diagnostics.Metrics (meter "SimpleCache.Slab"), one
// measurement per live cache, tagged with its name: what /proc/slabinfo and /sys/kernel/slab
// show for the kernel's caches. dotnet-counters monitor --counters SimpleCache.Slab shows them.

using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace SimpleCache.Slab
{
    internal static class SlabMetrics
    {
        public const string MeterName = "SimpleCache.Slab";
        private static readonly Meter s_meter = new(MeterName, "0.1.0");
        private static readonly List<SlabCache> s_caches = new();

        static SlabMetrics()
        {
            s_meter.CreateObservableGauge("simplecache.slab.bytes", () => Observe(c => c.Bytes), "By", "memory the cache holds in slabs");
            s_meter.CreateObservableGauge("simplecache.slab.slabs", () => Observe(c => c.Slabs), "{slab}", "slabs the cache holds");
            s_meter.CreateObservableCounter("simplecache.slab.slabs_made", () => Observe(c => c.SlabsMade), "{slab}", "slabs made (each constructs all its objects)");
            s_meter.CreateObservableCounter("simplecache.slab.constructor_calls", () => Observe(c => c.ConstructorCalls), "{call}", "constructor runs");
            s_meter.CreateObservableCounter("simplecache.slab.remote_frees", () => Observe(c => c.RemoteFrees), "{object}", "frees through __slab_free(): to a slab neither the freeing thread's nor on its partial list");
            s_meter.CreateObservableCounter("simplecache.slab.debug_reports", () => Observe(c => c.Reports), "{report}", "corruption a debug cache (slub_debug) found");
        }

        public static void Register(SlabCache cache)
        {
            lock (s_caches)
                s_caches.Add(cache);
        }

        public static void Unregister(SlabCache cache)
        {
            lock (s_caches)
                s_caches.Remove(cache);
        }

        private static IEnumerable<Measurement<long>> Observe(System.Func<SlabCache, long> figure)
        {
            SlabCache[] caches;
            lock (s_caches)
                caches = s_caches.ToArray();
            foreach (SlabCache c in caches)
                yield return new Measurement<long>(figure(c), new KeyValuePair<string, object>("cache", c.Name));
        }
    }
}
