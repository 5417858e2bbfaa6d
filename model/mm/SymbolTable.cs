// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The model's stand-in for kallsyms and the stack depot (lib/stackdepot.c): SLAB_STORE_USER
// tracking (slub_debug=U) stores the caller's address and a stack handle in each object's track,
// and the reports print them with %pS ("kmem_cache_alloc+0x1f/0x40"). The model has no machine
// addresses for C# methods, so it stores tokens into a table of method names and keeps each
// saved stack as text. Used by SlubDebug.cs.
//
// A saved stack is the module's frames, from the first caller outside the allocator, then the
// kernel's frames of the system call that entered the module, as the VMs print them (below the
// module's frames the host's own .NET frames would mean nothing to a learner). The model knows
// that bottom for insmod (finit_module), from tests/vm/bugs.sh's runs on Debian's kernels:
//   6.1:  do_one_initcall, do_init_module, __do_sys_finit_module, do_syscall_64,
//         entry_SYSCALL_64_after_hwframe
//   6.12: do_one_initcall, do_init_module, init_module_from_file, idempotent_init_module,
//         __x64_sys_finit_module, do_syscall_64, entry_SYSCALL_64_after_hwframe
// For other entries (a write to /proc, rmmod) a trace ends with the module's frames.

using System;
using System.Diagnostics;
using System.Text;

namespace SimpleCache.Model.Mm
{
    /// <summary>
    /// Names for the "addresses" that tracking stores (the kernel stores return addresses and
    /// prints them with %pS): the model stores an index into a table of C# methods, and keeps
    /// the stack of each tracked call, as the stack depot does.
    /// </summary>
    public sealed class SymbolTable
    {
        private readonly object _lock = new();
        private readonly System.Collections.Generic.List<string> _names = new() { null };
        private readonly System.Collections.Generic.Dictionary<string, int> _index = new();
        private readonly System.Collections.Generic.List<string> _stacks = new() { null };

        /// <summary>A token for the first caller outside the allocator and the kernel API bindings.</summary>
        public long CallerAddress()
        {
            StackFrame frame = FirstOutsideFrame(new StackTrace(1, false));
            string name = frame?.GetMethod() is { } m ? $"{m.DeclaringType?.Name}.{m.Name}+0x0/0x0" : "unknown";
            lock (_lock)
            {
                if (!_index.TryGetValue(name, out int i))
                {
                    i = _names.Count;
                    _names.Add(name);
                    _index[name] = i;
                }
                return 0x1000L + i;
            }
        }

        /// <summary>The name of a token from <see cref="CallerAddress"/>.</summary>
        public string Name(ulong address)
        {
            lock (_lock)
            {
                long i = (long)address - 0x1000;
                return i > 0 && i < _names.Count ? _names[(int)i] : $"0x{address:x}";
            }
        }

        private static readonly string[] s_initModule61 =
            ["do_one_initcall", "do_init_module", "__do_sys_finit_module", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"];
        private static readonly string[] s_initModule612 =
            ["do_one_initcall", "do_init_module", "init_module_from_file", "idempotent_init_module", "__x64_sys_finit_module",
             "do_syscall_64", "entry_SYSCALL_64_after_hwframe"];

        /// <summary>
        /// <c>stack_depot_save()</c>: keeps the current stack, returns its handle. With
        /// <paramref name="isModuleCode"/> (whether a method is a loaded module's), the stack is
        /// the module's frames, then the kernel's frames of <paramref name="entry"/> on
        /// <paramref name="version"/>; without module frames (host code calling the allocator),
        /// every frame from the first caller outside the allocator.
        /// </summary>
        public uint SaveStack(Func<System.Reflection.MethodBase, bool> isModuleCode = null, Kernel.KernelEntry entry = Kernel.KernelEntry.None,
            KernelVersion version = KernelVersion.V6_12)
        {
            var trace = new StackTrace(1, false);
            var sb = new StringBuilder();
            bool outside = false, inModule = false;
            foreach (StackFrame f in trace.GetFrames())
            {
                var m = f.GetMethod();
                if (m == null)
                    continue;
                outside |= IsOutside(m);
                if (!outside)
                    continue;
                bool module = isModuleCode?.Invoke(m) == true;
                if (inModule && !module)
                    break;   // below the module: the host's frames, not the kernel's
                inModule |= module;
                if (sb.Length > 0)
                    sb.Append('\n');
                sb.Append($" {m.DeclaringType?.Name}.{m.Name}+0x0/0x0");
                if (sb.Length > 600)
                    break;
            }
            if (inModule && entry == Kernel.KernelEntry.InitModule)
                foreach (string frame in version == KernelVersion.V6_1 ? s_initModule61 : s_initModule612)
                    sb.Append($"\n {frame}+0x0/0x0");
            lock (_lock)
            {
                _stacks.Add(sb.ToString());
                return (uint)(_stacks.Count - 1);
            }
        }

        /// <summary><c>stack_depot_print()</c>'s text for a handle, or null.</summary>
        public string Stack(uint handle)
        {
            lock (_lock)
                return handle > 0 && handle < _stacks.Count ? _stacks[(int)handle] : null;
        }

        private static StackFrame FirstOutsideFrame(StackTrace trace)
        {
            foreach (StackFrame f in trace.GetFrames())
                if (f.GetMethod() is { } m && IsOutside(m))
                    return f;
            return null;
        }

        private static bool IsOutside(System.Reflection.MethodBase m)
        {
            string ns = m.DeclaringType?.Namespace ?? "";
            string type = m.DeclaringType?.Name ?? "";
            return !ns.StartsWith("SimpleCache.Model", StringComparison.Ordinal) && !(ns == "Kernel" && type == "Slab");
        }
    }
}
