// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// A module's .modinfo: what MODULE_LICENSE(), MODULE_AUTHOR(), MODULE_DESCRIPTION(),
// module_param() and MODULE_PARM_DESC() put there. The model reads them from the module's
// <name>.modinfo.c, the very file kbuild compiles into the .ko (embedded in the module's
// assembly), as modinfo reads them from the .ko's .modinfo section.

using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace SimpleCache.Model.Kernel
{
    /// <summary>A module parameter as module_param() declares it.</summary>
    /// <param name="Name">The parameter's name.</param>
    /// <param name="Type">Its type: charp, int, uint, bool...</param>
    /// <param name="Perm">Its sysfs permissions.</param>
    /// <param name="Description">MODULE_PARM_DESC's text.</param>
    public sealed record ModuleParamInfo(string Name, string Type, int Perm, string Description);

    /// <summary>What a module's .modinfo section says (read from its <c>.modinfo.c</c>).</summary>
    public sealed partial class ModInfo
    {
        /// <summary>MODULE_LICENSE.</summary>
        public string License { get; private set; }
        /// <summary>MODULE_AUTHOR.</summary>
        public string Author { get; private set; }
        /// <summary>MODULE_DESCRIPTION.</summary>
        public string Description { get; private set; }
        /// <summary>module_param declarations, in order.</summary>
        public IReadOnlyList<ModuleParamInfo> Params { get; private set; } = [];

        /// <summary>Reads the MODULE_* and module_param lines of a modinfo C file.</summary>
        public static ModInfo Parse(string source)
        {
            var info = new ModInfo();
            var descriptions = new Dictionary<string, string>();
            foreach (Match m in ParamDescRegex().Matches(source))
                descriptions[m.Groups[1].Value] = Unescape(m.Groups[2].Value);
            var parameters = new List<ModuleParamInfo>();
            foreach (Match m in ParamRegex().Matches(source))
            {
                string name = m.Groups[1].Value;
                parameters.Add(new ModuleParamInfo(name, m.Groups[2].Value, Convert.ToInt32(m.Groups[3].Value, 8),
                    descriptions.GetValueOrDefault(name)));
            }
            info.Params = parameters;
            info.License = Macro(source, "MODULE_LICENSE");
            info.Author = Macro(source, "MODULE_AUTHOR");
            info.Description = Macro(source, "MODULE_DESCRIPTION");
            return info;
        }

        private static string Macro(string source, string macro)
        {
            Match m = Regex.Match(source, macro + @"\(\s*""((?:[^""\\]|\\.)*)""\s*\)");
            return m.Success ? Unescape(m.Groups[1].Value) : null;
        }

        private static string Unescape(string s) => s.Replace("\\\"", "\"").Replace("\\\\", "\\");

        [GeneratedRegex(@"module_param\(\s*(\w+)\s*,\s*(\w+)\s*,\s*(0[0-7]*)\s*\)")]
        private static partial Regex ParamRegex();

        [GeneratedRegex(@"MODULE_PARM_DESC\(\s*(\w+)\s*,\s*""((?:[^""\\]|\\.)*)""\s*\)")]
        private static partial Regex ParamDescRegex();
    }
}
