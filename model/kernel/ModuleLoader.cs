// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// Module loading: kernel/module/main.c's load_module() and delete_module(), and kernel/params.c's
// parsing of insmod arguments. The module information is read in ModInfo.cs; what kmod's tools
// print is in Kmod.cs.
//
// A model module is a .NET assembly built from a C# module source with the model backend
// (arch/model). Its entry points are the same [UnmanagedCallersOnly] methods the real kernel's
// glue calls (include/linux/ModuleEntry.cs), and its module information comes from the same
// <name>.modinfo.c that kbuild compiles, embedded in the assembly.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using Errno = global::Kernel.Errno;
using LogLevel = global::Kernel.LogLevel;
using ModuleEntry = global::Kernel.ModuleEntry;

namespace SimpleCache.Model.Kernel
{
    /// <summary>A module file: an assembly with the module's entry points and modinfo.</summary>
    public sealed unsafe class ModuleImage
    {
        private ModuleImage(string name, Assembly assembly, ModInfo info, nint init, nint exit, long size)
        {
            Name = name;
            Assembly = assembly;
            Info = info;
            Init = init;
            Exit = exit;
            Size = size;
        }

        // The MutantControl classes of Stryker.NET in the module's assembly, if any (see ShareInstrumentation).
        private Type[] _mutantControls;

        /// <summary>The module's name (KBUILD_MODNAME).</summary>
        public string Name { get; }
        /// <summary>The assembly it was built into.</summary>
        public Assembly Assembly { get; }
        /// <summary>Its module information.</summary>
        public ModInfo Info { get; }
        /// <summary>The module_init function (<c>int (*)(void)</c>).</summary>
        public nint Init { get; }
        /// <summary>The module_exit function (<c>void (*)(void)</c>), or 0.</summary>
        public nint Exit { get; }
        /// <summary>The size lsmod shows: the assembly's size rounded up to whole pages.</summary>
        public long Size { get; }

        /// <summary>
        /// Finds a module in an assembly: the entry points by their symbol names, the modinfo
        /// in the embedded resource named <c>&lt;module&gt;.modinfo.c</c>.
        /// </summary>
        public static ModuleImage FromAssembly(Assembly assembly)
        {
            string resource = assembly.GetManifestResourceNames().FirstOrDefault(n => n.EndsWith(".modinfo.c", StringComparison.Ordinal))
                ?? throw new ArgumentException($"{assembly.GetName().Name} embeds no <module>.modinfo.c: not a module");
            string name = resource[..^".modinfo.c".Length];
            string source;
            using (var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!))
                source = reader.ReadToEnd();
            nint init = EntryPoint(assembly, ModuleEntry.Init);
            if (init == 0)
                throw new ArgumentException($"module {name} has no init entry point ({ModuleEntry.Init})");
            long size = 4096;
            if (!string.IsNullOrEmpty(assembly.Location) && File.Exists(assembly.Location))
                size = (new FileInfo(assembly.Location).Length + 4095) / 4096 * 4096;
            return new ModuleImage(name, assembly, ModInfo.Parse(source), init, EntryPoint(assembly, ModuleEntry.Exit), size);
        }

        /// <summary>
        /// Loads a fresh copy of the module's code, as every insmod does in the kernel: its
        /// static fields start zeroed (.bss) and belong to this load alone, so two model kernels
        /// can load the same module side by side. The copy lives in its own AssemblyLoadContext;
        /// the kernel API it depends on (SimpleCache.Model) is shared with the host.
        /// </summary>
        internal (Assembly Assembly, nint Init, nint Exit) Instantiate()
        {
            if (string.IsNullOrEmpty(Assembly.Location))
                return (Assembly, Init, Exit);   // no file to load again (single-file host): share the one copy
            var context = new System.Runtime.Loader.AssemblyLoadContext($"module {Name}");
            Assembly copy = context.LoadFromAssemblyPath(Assembly.Location);
            ShareInstrumentation(copy);
            return (copy, EntryPoint(copy, ModuleEntry.Init), EntryPoint(copy, ModuleEntry.Exit));
        }

        /// <summary>
        /// Mutation testing (make mutation): Stryker.NET compiles every mutant into the module's
        /// assembly behind a switch, a static class named MutantControl, and flips the switch in
        /// the copy the test host loaded. A fresh copy would start with the switch off, and its
        /// coverage would go unseen, so it takes the loaded copy's MutantControl statics (the
        /// active mutant and the coverage lists, shared). Nothing happens without Stryker.
        /// </summary>
        private void ShareInstrumentation(Assembly copy)
        {
            // Looked up once per module image, not on every insmod.
            _mutantControls ??= Assembly.GetTypes().Where(t => t.Name == "MutantControl").ToArray();
            foreach (Type control in _mutantControls)
            {
                if (copy.GetType(control.FullName!) is not Type target)
                    continue;
                foreach (FieldInfo field in control.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
                    if (!field.IsLiteral && !field.IsInitOnly && target.GetField(field.Name, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic) is FieldInfo to)
                        to.SetValue(null, field.GetValue(null));
            }
        }

        /// <summary>The native entry of the [UnmanagedCallersOnly] method exported as <paramref name="symbol"/>, or 0.</summary>
        public static nint EntryPoint(Assembly assembly, string symbol)
        {
            foreach (Type type in assembly.GetTypes())
                foreach (MethodInfo method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
                {
                    var attribute = method.GetCustomAttribute<UnmanagedCallersOnlyAttribute>();
                    if (attribute?.EntryPoint == symbol)
                        return method.MethodHandle.GetFunctionPointer();
                }
            return 0;
        }
    }

    /// <summary><c>enum module_state</c>, the states a loaded module is seen in.</summary>
    public enum ModuleState
    {
        /// <summary>MODULE_STATE_LIVE: normal state.</summary>
        Live,
        /// <summary>MODULE_STATE_COMING: init is running.</summary>
        Coming,
        /// <summary>MODULE_STATE_GOING: exit is running.</summary>
        Going,
    }

    /// <summary>A loaded module (<c>struct module</c>) with its parameter storage.</summary>
    public sealed unsafe class LoadedModule
    {
        private readonly Dictionary<string, nint> _paramArgs = new();
        private readonly List<nint> _allocations = new();

        internal LoadedModule(ModuleImage image)
        {
            Image = image;
            (Code, Init, Exit) = image.Instantiate();
        }

        /// <summary>This load's copy of the module's code.</summary>
        public Assembly Code { get; }
        internal nint Init { get; }
        internal nint Exit { get; }

        /// <summary>The module file.</summary>
        public ModuleImage Image { get; }
        /// <summary>The module's name.</summary>
        public string Name => Image.Name;
        /// <summary>Other modules using this one (lsmod's "Used by").</summary>
        public int RefCount { get; internal set; }
        /// <summary>MODULE_STATE_LIVE once init has returned 0.</summary>
        public bool Live => State == ModuleState.Live;
        /// <summary>
        /// Its state: coming while init runs, live once init returned 0, going while exit runs. A
        /// module whose init or exit oopsed stays coming or going for good, as in the kernel.
        /// </summary>
        public ModuleState State { get; internal set; } = ModuleState.Coming;

        /// <summary>
        /// The use count /proc/modules and lsmod show: 1 while init runs (as the 6.1 and 6.12 VMs
        /// show a module whose init oopsed: "slab_bugs 28672 1 - Loading ... (OE+)"), so that
        /// kmod's rmmod refuses it as in use.
        /// </summary>
        public int ShownRefCount => State == ModuleState.Coming ? RefCount + 1 : RefCount;

        /// <summary>module_flags()'s state mark after the taint letters: '+' coming, '-' going.</summary>
        public string StateFlag => State switch { ModuleState.Coming => "+", ModuleState.Going => "-", _ => "" };

        /// <summary>The state as /proc/modules shows it (module_flags() in kernel/module/procfs.c).</summary>
        public string StateName => State switch { ModuleState.Live => "Live", ModuleState.Coming => "Loading", _ => "Unloading" };

        /// <summary>
        /// The address of the variable behind parameter <paramref name="name"/> (kernel_param.arg):
        /// a <c>char *</c> for charp, an <c>int</c> for int, or null if there is no such parameter.
        /// </summary>
        public void* ParamArg(string name) => (void*)_paramArgs.GetValueOrDefault(name);

        /// <summary>The value a parameter has now, as /sys/module/&lt;m&gt;/parameters/&lt;p&gt; shows it.</summary>
        public string ParamValue(string name)
        {
            var info = Image.Info.Params.FirstOrDefault(p => p.Name == name);
            void* arg = ParamArg(name);
            if (info == null || arg == null)
                return null;
            return info.Type switch
            {
                "charp" => *(byte**)arg == null ? "(null)" : Marshal.PtrToStringUTF8((nint)(*(byte**)arg)),
                "bool" => *(bool*)arg ? "Y" : "N",
                "uint" => (*(uint*)arg).ToString(CultureInfo.InvariantCulture),
                _ => (*(int*)arg).ToString(CultureInfo.InvariantCulture),
            };
        }

        internal void AllocateParams()
        {
            foreach (ModuleParamInfo p in Image.Info.Params)
            {
                nint arg = (nint)NativeMemory.AllocZeroed(8);
                _paramArgs[p.Name] = arg;
                _allocations.Add(arg);
            }
        }

        // param_set_charp / param_set_int / param_set_bool (kernel/params.c)
        internal int SetParam(ModuleParamInfo p, string value)
        {
            void* arg = ParamArg(p.Name);
            switch (p.Type)
            {
                case "charp":
                    if (Encoding.UTF8.GetByteCount(value) > 1024)
                        return -Errno.ENOSPC;
                    byte* copy = (byte*)Marshal.StringToCoTaskMemUTF8(value);
                    _allocations.Add((nint)copy);
                    *(byte**)arg = copy;
                    return 0;
                case "int":
                case "uint":
                    if (!Kstrtoll(value, out long v) || (p.Type == "int" ? v < int.MinValue || v > int.MaxValue : v < 0 || v > uint.MaxValue))
                        return -Errno.EINVAL;
                    *(int*)arg = unchecked((int)v);
                    return 0;
                case "bool":
                    switch (value)
                    {
                        case "" or "1" or "y" or "Y": *(bool*)arg = true; return 0;
                        case "0" or "n" or "N": *(bool*)arg = false; return 0;
                        default: return -Errno.EINVAL;
                    }
                default:
                    return -Errno.EINVAL;
            }
        }

        /// <summary><c>kstrtoll(s, 0, &amp;v)</c>: decimal, 0x hex or 0 octal, an optional sign and trailing newline.</summary>
        public static bool Kstrtoll(string s, out long value)
        {
            value = 0;
            s = s.EndsWith('\n') ? s[..^1] : s;
            bool negative = s.StartsWith('-');
            if (negative || s.StartsWith('+'))
                s = s[1..];
            int radix = 10;
            if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && s.Length > 2) { radix = 16; s = s[2..]; }
            else if (s.Length > 1 && s[0] == '0') { radix = 8; s = s[1..]; }
            if (s.Length == 0)
                return false;
            try
            {
                ulong u = Convert.ToUInt64(s, radix);
                if (u > (negative ? 1UL << 63 : long.MaxValue))
                    return false;
                value = negative ? unchecked(-(long)u) : (long)u;
                return s.All(Uri.IsHexDigit);
            }
            catch (FormatException) { return false; }
            catch (OverflowException) { return false; }
            catch (ArgumentException) { return false; }
        }

        internal void FreeParams()
        {
            foreach (nint p in _allocations)
            {
                if (_paramArgs.ContainsValue(p))
                    NativeMemory.Free((void*)p);
                else
                    Marshal.FreeCoTaskMem(p);
            }
            _allocations.Clear();
            _paramArgs.Clear();
        }
    }

    /// <summary>The kernel's module list and the insmod/rmmod/lsmod/modinfo commands.</summary>
    public sealed unsafe class ModuleHost
    {
        private static readonly AsyncLocal<LoadedModule> s_current = new();
        private readonly ModelKernel _kernel;
        private readonly object _mutex = new();   // module_mutex
        private readonly List<LoadedModule> _modules = new();

        internal ModuleHost(ModelKernel kernel) => _kernel = kernel;

        /// <summary>The module whose code is running in this flow (set around init, exit and callbacks).</summary>
        public static LoadedModule Current => s_current.Value;

        /// <summary>Loaded modules, newest first (the order of /proc/modules and lsmod).</summary>
        public IReadOnlyList<LoadedModule> Loaded
        {
            get { lock (_mutex) return _modules.AsEnumerable().Reverse().ToList(); }
        }

        /// <summary>Finds a loaded module by name.</summary>
        public LoadedModule Find(string name)
        {
            lock (_mutex)
                return _modules.FirstOrDefault(m => m.Name == name);
        }

        /// <summary>
        /// <c>insmod module args</c>: loads the module, parses its parameters and runs its init.
        /// </summary>
        /// <returns>0, or the negative errno that init_module() would return.</returns>
        public int Insmod(ModuleImage image, string args = "")
        {
            var module = new LoadedModule(image);
            // load_module(): under module_mutex, the module joins the list, coming.
            lock (_mutex)
            {
                if (_modules.Any(m => m.Name == image.Name))
                    return -Errno.EEXIST;
                module.AllocateParams();
                int err = ParseArgs(module, args ?? "");
                if (err != 0)
                {
                    module.FreeParams();
                    return err;
                }

                // The first out-of-tree, unsigned module taints the kernel, and says so.
                if (!_kernel.Taint.Contains('O'))
                {
                    _kernel.Printk(LogLevel.Warning, $"{image.Name}: loading out-of-tree module taints kernel.");
                    _kernel.AddTaint('O');
                }
                if (!_kernel.Taint.Contains('E'))
                {
                    _kernel.Printk(LogLevel.Notice, $"{image.Name}: module verification failed: signature and/or required key missing - tainting kernel");
                    _kernel.AddTaint('E');
                }
                _modules.Add(module);
            }

            // do_init_module(): init runs without module_mutex. If it oopses, the task is killed
            // here (TaskKilledException) and the module stays in the list, coming, for good.
            int ret = Call(module, () => ((delegate* unmanaged<int>)module.Init)(), KernelEntry.InitModule);
            if (ret > 0)
            {
                _kernel.Printk(LogLevel.Warning, $"do_init_module: '{image.Name}'->init suspiciously returned {ret}, it should follow 0/-E convention");
                ret = 0;
            }
            lock (_mutex)
            {
                if (ret < 0)
                {
                    _modules.Remove(module);
                    module.FreeParams();
                    return ret;
                }
                module.State = ModuleState.Live;
            }
            return 0;
        }

        /// <summary><c>rmmod name</c>: runs the module's exit and unloads it.</summary>
        /// <returns>
        /// 0, -ENOENT if it is not loaded, -EBUSY if it is in use, has no exit, or is not live
        /// (its init is running, or an oops stopped its init or exit half way).
        /// </returns>
        public int Rmmod(string name)
        {
            LoadedModule module;
            lock (_mutex)
            {
                module = _modules.FirstOrDefault(m => m.Name == name);
                if (module == null)
                    return -Errno.ENOENT;
                if (module.RefCount > 0 || module.Exit == 0 || !module.Live)
                    return -Errno.EBUSY;
                module.State = ModuleState.Going;
            }
            // delete_module() runs exit without module_mutex; an oops there leaves it going.
            Call(module, () => { ((delegate* unmanaged<void>)module.Exit)(); return 0; });
            lock (_mutex)
            {
                _modules.Remove(module);
                module.FreeParams();
                // delete_module() keeps the name and taints of the last module unloaded for oops
                // reports (kernel/module/main.c, 6.1 and 6.12: last_unloaded_module).
                LastUnloaded = $"{module.Name}(OE)";
            }
            return 0;
        }

        /// <summary>
        /// <c>last_unloaded_module</c>: "name(taints)" of the last module rmmod unloaded, or null;
        /// print_modules() ends "Modules linked in:" with " [last unloaded: ...]".
        /// </summary>
        public string LastUnloaded { get; private set; }

        /// <summary>
        /// Runs module code with this kernel and module as the current ones, in kernel mode for
        /// the calling task (<see cref="ModelTask.RunInKernel"/>): an oops in it kills the task,
        /// and this throws <see cref="TaskKilledException"/>.
        /// </summary>
        public int Call(LoadedModule module, Func<int> code, KernelEntry entry = KernelEntry.None)
        {
            LoadedModule previousModule = s_current.Value;
            ModelTask task = ModelTask.Current;
            KernelEntry previousEntry = task.Entry;
            _kernel.Enter();
            s_current.Value = module;
            task.Entry = entry;
            try
            {
                return task.RunInKernel(code);
            }
            finally
            {
                s_current.Value = previousModule;
                task.Entry = previousEntry;
            }
        }

        // parse_args() over the module's parameters (kernel/params.c): "name=value" words,
        // double quotes to keep spaces; unknown names are warned about and ignored.
        private int ParseArgs(LoadedModule module, string args)
        {
            foreach (string word in SplitArgs(args))
            {
                int eq = word.IndexOf('=');
                string name = eq < 0 ? word : word[..eq];
                string value = eq < 0 ? null : word[(eq + 1)..];
                string canonical = name.Replace('-', '_');
                ModuleParamInfo p = module.Image.Info.Params.FirstOrDefault(x => x.Name == canonical);
                if (p == null)
                {
                    _kernel.Printk(LogLevel.Warning, $"{module.Name}: unknown parameter '{name}' ignored");
                    continue;
                }
                if (value == null && p.Type != "bool")
                {
                    _kernel.Printk(LogLevel.Err, $"{module.Name}: `' invalid for parameter `{name}'");
                    return -Errno.EINVAL;
                }
                int err = module.SetParam(p, value ?? "");
                if (err == -Errno.ENOSPC)
                {
                    _kernel.Printk(LogLevel.Err, $"{module.Name}: string parameter too long");
                    _kernel.Printk(LogLevel.Err, $"{module.Name}: `{value}' too large for parameter `{name}'");
                    return err;
                }
                if (err != 0)
                {
                    _kernel.Printk(LogLevel.Err, $"{module.Name}: `{value}' invalid for parameter `{name}'");
                    return err;
                }
            }
            return 0;
        }

        /// <summary>Splits an insmod argument string the way the kernel's next_arg() does.</summary>
        public static IEnumerable<string> SplitArgs(string args)
        {
            var word = new StringBuilder();
            bool quoted = false, any = false;
            foreach (char c in args)
            {
                if (c == '"')
                {
                    quoted = !quoted;
                    any = true;
                    continue;
                }
                if (char.IsWhiteSpace(c) && !quoted)
                {
                    if (any)
                        yield return word.ToString();
                    word.Clear();
                    any = false;
                    continue;
                }
                word.Append(c);
                any = true;
            }
            if (any)
                yield return word.ToString();
        }
    }
}
