// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// What the maps know of the objects in a cache: for simple_cache, each object is a struct
// cache_obj (module/SimpleCache.cs), so a slot in use shows its id and name, and the objects'
// list nodes give the module's list order, found as a debugger finds it, by following each
// node's next pointer from the object whose prev is not an object (that prev is the list head,
// in the module's data). Other caches' objects are shown as slots only.

using System.Collections.Generic;
using System.Linq;
using System.Text;
using SimpleCache.Model.Mm;

namespace SimpleCache.Cli
{
    /// <summary>How to read the objects of one cache.</summary>
    internal sealed unsafe class ModuleObjects
    {
        private readonly bool _cacheObj;

        private ModuleObjects(bool cacheObj) => _cacheObj = cacheObj;

        /// <summary>The reader for <paramref name="cache"/>'s objects.</summary>
        public static ModuleObjects For(SlabCache cache) =>
            new(cache.Name == "simple_cache" && cache.Layout.ObjectSize == (uint)sizeof(global::SimpleCache.CacheObj));

        /// <summary>Whether an object in use can be named.</summary>
        public bool CanDescribe => _cacheObj;

        /// <summary>Whether the objects are linked on a list the map can follow.</summary>
        public bool HasList => _cacheObj;

        /// <summary>"1 alpha": the id and name of the object at <paramref name="address"/>.</summary>
        public string Describe(nint address)
        {
            var obj = (global::SimpleCache.CacheObj*)address;
            var name = new StringBuilder();
            for (int i = 0; i < global::SimpleCache.CacheObj.NameSize && obj->Name[i] != 0; i++)
                name.Append(obj->Name[i] is >= 0x20 and < 0x7f ? (char)obj->Name[i] : '?');
            return $"{obj->Id} {name}";
        }

        /// <summary>
        /// The objects in use in list order, head to tail, each with its slot and slab. Stops at
        /// a node that is not an object of the map (the head), and after as many steps as there
        /// are objects (a list that loops is shown up to there).
        /// </summary>
        public List<(nint Address, int Index, nint Slab)> ListOrder(CacheMap map)
        {
            var byNode = new Dictionary<nint, (nint Address, int Index, nint Slab)>();
            foreach (SlabView slab in map.Slabs)
                foreach (SlotView slot in slab.Slots.Where(s => !s.Free))
                    byNode[slot.Address + global::SimpleCache.CacheObj.ListOffset] = (slot.Address, slot.Index, slab.Address);
            var order = new List<(nint, int, nint)>();
            nint first = byNode.Keys.FirstOrDefault(n => !byNode.ContainsKey((nint)((Kernel.ListHead*)n)->Prev));
            for (nint node = first; node != 0 && byNode.TryGetValue(node, out var o) && order.Count < byNode.Count;
                 node = (nint)((Kernel.ListHead*)node)->Next)
                order.Add(o);
            return order;
        }
    }
}
