// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// simple-cache-ctl's commands on any IRegistry: the real /proc/simple_cache in a VM
// (tools/ctl, through system calls) or the model's (the CLI's shell, tools/cli/ModelRegistry.cs).
// One dispatch, so that a script saying `simple-cache-ctl battery` prints the same in both.

using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace SimpleCache.Registry
{
    /// <summary>The registry commands of simple-cache-ctl (all but map, which reads the kernel's own files).</summary>
    public static class CtlCommands
    {
        /// <summary>The usage line.</summary>
        public const string Usage = "usage: simple-cache-ctl [--file PATH] list | add NAME | del ID | rename ID NAME | clear | write TEXT | write-unreadable N | map [VIEW SYSFS-DIR] | " +
            "battery | sequence | ids-run-out | constructed | stress [OPS] [WRITERS] [SEED] [READERS]";

        /// <summary>Runs one command; its exit status (an errno on a failed write, 1 if a check failed, 2 for bad usage).</summary>
        public static int Run(IRegistry registry, string[] args, TextWriter stdout, TextWriter stderr)
        {
            void Report(bool ok, string what) => stdout.WriteLine($"{(ok ? "PASS" : "FAIL")} registry: {what}");
            int Tally(string checks, (int Passed, int Failed) result)
            {
                stdout.WriteLine($"{checks}: {result.Passed} passed, {result.Failed} failed");
                return result.Failed == 0 ? 0 : 1;
            }
            // A failed call: the errno's text and name, and the errno as the exit status.
            int Fail(string what, long ret)
            {
                int errno = (int)-ret;
                stderr.WriteLine($"simple-cache-ctl: {what}: {Marshal.GetPInvokeErrorMessage(errno)} ({RegistryChecks.Describe(ret)[1..]})");
                return errno;
            }
            int Write(string command)
            {
                long ret = registry.Write(Encoding.Latin1.GetBytes(command));
                return ret < 0 ? Fail(command.TrimEnd('\n'), ret) : 0;
            }
            switch (args)
            {
                case ["list"]:
                    string text = registry.Read();
                    if (text == null)
                        return Fail("list", -Marshal.GetLastPInvokeError());   // the failed open's or read's errno
                    stdout.Write(text);
                    return 0;
                case ["add", var name]: return Write($"add {name}\n");
                case ["del", var id]: return Write($"del {id}\n");
                case ["rename", var id, var name]: return Write($"rename {id} {name}\n");
                case ["clear"]: return Write("clear\n");
                case ["write", var raw]: return Write(Unescape(raw));
                case ["write-unreadable", var n]:
                {
                    // write(fd, an address the kernel cannot read, n): the module must answer -EFAULT.
                    long ret = registry.WriteUnreadable(int.Parse(n));
                    return ret < 0 ? Fail($"write-unreadable {n}", ret) : 0;
                }
                case ["battery"]: return Tally("battery", RegistryChecks.RunBattery(registry, Report));
                case ["sequence"]: return Tally("sequence", RegistryChecks.RunSequence(registry, Report));
                case ["ids-run-out"]: return Tally("ids-run-out", RegistryChecks.RunIdsRunOut(registry, Report));
                case ["constructed"]: return Tally("constructed", RegistryChecks.RunConstructedState(registry, Report));
                case ["stress", .. var rest]:
                {
                    int ops = rest.Length > 0 ? int.Parse(rest[0]) : 10000;
                    int writers = rest.Length > 1 ? int.Parse(rest[1]) : 2;
                    int seed = rest.Length > 2 ? int.Parse(rest[2]) : 1;
                    int readers = rest.Length > 3 ? int.Parse(rest[3]) : 2;
                    return Tally("stress", RegistryChecks.RunConcurrent(registry, writers, ops, seed, Report, readers));
                }
                default:
                    stderr.WriteLine(Usage);
                    return 2;
            }
        }

        /// <summary>C escapes: \n \t \0 \xHH.</summary>
        public static string Unescape(string s)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < s.Length; i++)
            {
                if (s[i] != '\\' || i + 1 == s.Length)
                {
                    sb.Append(s[i]);
                    continue;
                }
                char c = s[++i];
                if (c == 'x' && i + 2 < s.Length)
                {
                    sb.Append((char)Convert.ToByte(s.Substring(i + 1, 2), 16));
                    i += 2;
                }
                else
                    sb.Append(c switch { 'n' => '\n', 't' => '\t', '0' => '\0', _ => c });
            }
            return sb.ToString();
        }
    }
}
