// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// What kmod's tools print: lsmod's table, modinfo's fields, and the error lines of insmod,
// rmmod and modinfo (kmod 30, Debian 12), with the errno wording of kmod's mod_strerror(). The
// loading itself is in ModuleLoader.cs.

using System;
using System.Text;
using Errno = global::Kernel.Errno;

namespace SimpleCache.Model.Kernel
{
    /// <summary>kmod's output: lsmod, modinfo, and the error lines of insmod and rmmod.</summary>
    public static class Kmod
    {
        /// <summary>lsmod's output (kmod): "Module  Size  Used by", then one line per module, newest first.</summary>
        public static string Lsmod(ModuleHost modules)
        {
            var sb = new StringBuilder("Module                  Size  Used by\n");
            foreach (LoadedModule m in modules.Loaded)
                sb.Append($"{m.Name,-19} {m.Image.Size,8}  {m.ShownRefCount}\n");
            return sb.ToString();
        }

        /// <summary>modinfo's output (kmod) for a module file.</summary>
        public static string Modinfo(ModuleImage image, string filename)
        {
            var sb = new StringBuilder();
            void Line(string key, string value) => sb.Append($"{key + ":",-16}{value}\n");
            Line("filename", filename);
            if (image.Info.Description != null) Line("description", image.Info.Description);
            if (image.Info.Author != null) Line("author", image.Info.Author);
            if (image.Info.License != null) Line("license", image.Info.License);
            Line("depends", "");
            Line("name", image.Name);
            foreach (ModuleParamInfo p in image.Info.Params)
                Line("parm", $"{p.Name}:{p.Description} ({p.Type})");
            return sb.ToString();
        }

        /// <summary>insmod's line when the module file does not exist.</summary>
        public static string InsmodNoFile(string file) => $"insmod: ERROR: could not load module {file}: No such file or directory";

        /// <summary>insmod's line when init_module() fails with <paramref name="errno"/>.</summary>
        public static string InsmodFailed(string file, int errno) => $"insmod: ERROR: could not insert module {file}: {ModStrError(errno)}";

        /// <summary>rmmod's line when delete_module() fails with <paramref name="errno"/>.</summary>
        public static string RmmodFailed(string name, int errno) => -errno == Errno.ENOENT
            ? $"rmmod: ERROR: Module {name} is not currently loaded"
            : $"rmmod: ERROR: Module {name} is in use";

        /// <summary>modinfo's line when the module file does not exist.</summary>
        public static string ModinfoNoFile(string file) => $"modinfo: ERROR: Module {file} not found.";

        /// <summary>
        /// kmod's mod_strerror(): insmod words a few errnos its own way (EINVAL is "Invalid
        /// parameters", ENOENT "Unknown symbol in module"), the rest as strerror() does.
        /// </summary>
        public static string ModStrError(int errno) => Math.Abs(errno) switch
        {
            8 => "Invalid module format",               // ENOEXEC
            Errno.ENOENT => "Unknown symbol in module",
            3 => "Module has wrong symbol version",     // ESRCH
            Errno.EINVAL => "Invalid parameters",
            _ => Fs.Procfs.StrError(errno),
        };
    }
}
