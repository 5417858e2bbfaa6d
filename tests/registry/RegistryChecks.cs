// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The registry checks of /proc/simple_cache, written once and run against both backends: in
// the VM by simple-cache-ctl's battery and stress commands (tools/ctl compiles this file in; they
// go through the real open/write/read/close system calls) and in the model by tests/model
// (through the model's ProcFile). Each side implements IRegistry.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;

namespace SimpleCache.Registry
{
    /// <summary>What a process can do with /proc/simple_cache.</summary>
    public interface IRegistry
    {
        /// <summary>open for writing, write these bytes in one write(), close: bytes written or a negative errno (of the open or the write).</summary>
        long Write(ReadOnlySpan<byte> bytes);

        /// <summary>open for writing, write(fd, address the kernel cannot read, length), close.</summary>
        long WriteUnreadable(int length);

        /// <summary>open for writing, write a buffer whose first <paramref name="readable"/> bytes are readable and the rest not.</summary>
        long WritePartlyReadable(int readable, int length);

        /// <summary>The whole file as read() returns it, or null if it cannot be opened.</summary>
        string Read();

        /// <summary>Opens for writing and keeps it open until disposed; the open's negative errno (0 on success) in <paramref name="error"/>.</summary>
        IDisposable OpenForWriting(out int error);
    }

    /// <summary>One row of the registry.</summary>
    public readonly record struct Entry(int Id, string Name);

    /// <summary>Reads and checks what the registry file says.</summary>
    public static class RegistryText
    {
        /// <summary>
        /// The rows of a read, checked for consistency: the header's count equals the rows, ids
        /// are unique and ascending (objects are appended with ever larger ids). Null if not.
        /// </summary>
        public static List<Entry> Parse(string text, out string problem)
        {
            problem = null;
            var rows = new List<Entry>();
            if (text == null)
            {
                problem = "the file cannot be read";
                return null;
            }
            string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length < 2 || !lines[0].StartsWith("objects: ", StringComparison.Ordinal))
            {
                problem = $"unexpected header: {lines.FirstOrDefault()}";
                return null;
            }
            int count = int.Parse(lines[0]["objects: ".Length..lines[0].IndexOf(',')]);
            foreach (string line in lines.Skip(2))
            {
                string[] w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (w.Length != 4 || !int.TryParse(w[0], out int id))
                {
                    problem = $"malformed row: {line}";
                    return null;
                }
                if (rows.Count > 0 && rows[^1].Id >= id)
                {
                    problem = $"ids out of order: {rows[^1].Id} then {id}";
                    return null;
                }
                rows.Add(new Entry(id, w[1]));
            }
            if (rows.Count != count)
            {
                problem = $"the header says {count} objects, the list has {rows.Count}";
                return null;
            }
            return rows;
        }

        /// <summary>The "last id" of the header line, or -1.</summary>
        public static int LastId(string text)
        {
            const string key = "last id: ";
            int at = text?.IndexOf(key, StringComparison.Ordinal) ?? -1;
            if (at < 0)
                return -1;
            int end = text.IndexOf(',', at);
            return end > at && int.TryParse(text.AsSpan(at + key.Length, end - at - key.Length), out int id) ? id : -1;
        }

        /// <summary>The registry without the age column, which changes by itself: what a failed command must leave as it was.</summary>
        public static string Snapshot(string text) => text == null ? null
            : string.Join("\n", text.Split('\n').Select(l => l.StartsWith("objects: ", StringComparison.Ordinal) || l.StartsWith("id ", StringComparison.Ordinal)
                ? l : string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(3))));
    }

    /// <summary>The bad-input battery and the concurrency test.</summary>
    public static class RegistryChecks
    {
        /// <summary>errno values, as user space sees them.</summary>
        public const int ENOENT = 2, ENOMEM = 12, EFAULT = 14, EBUSY = 16, EINVAL = 22, ENOSPC = 28;

        private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

        /// <summary>
        /// The bad inputs: each with what it does and the errno the writer must get. The first
        /// needs the module loaded with fail_nth set to fail the first object added through
        /// /proc (fail_nth=7 for the default names: the cache, 2 objects, the lock, the two files).
        /// </summary>
        public static IEnumerable<(string What, Func<IRegistry, long> Act, int Errno)> BadInputs()
        {
            (string, Func<IRegistry, long>, int) W(string what, byte[] bytes, int errno) => (what, r => r.Write(bytes), errno);
            string n32 = new string('n', 32), n40 = new string('x', 40), n31 = new string('y', 31);

            yield return W("add when the allocation fails (fail_nth)", B("add delta\n"), ENOMEM);
            yield return W("a lone newline", B("\n"), EINVAL);
            yield return W("only spaces", B("   "), EINVAL);
            yield return W("a tab and a newline", B("\t\n"), EINVAL);
            yield return W("an unknown command", B("foo\n"), EINVAL);
            yield return W("a command in capitals", B("ADD gamma\n"), EINVAL);
            yield return W("delete instead of del", B("delete 1\n"), EINVAL);
            yield return W("check without selfcheck=1 (a test-only command)", B("check 1\n"), EINVAL);
            yield return W("add without a name", B("add\n"), EINVAL);
            yield return W("add with a trailing space and no name", B("add \n"), EINVAL);
            yield return W("add with two names", B("add a b\n"), EINVAL);
            yield return W("add with a 32-byte name", B($"add {n32}\n"), EINVAL);
            yield return W("add with a 40-byte name", B($"add {n40}\n"), EINVAL);
            yield return W("add with a control byte in the name", B("add a\u0001b\n"), EINVAL);
            yield return W("add with DEL (0x7f) in the name", B("add a\u007f\n"), EINVAL);
            yield return W("add with a non-ASCII name", B("add caf\u00e9\n"), EINVAL);
            yield return W("add with a NUL in the name", B("add a\0b\n"), EINVAL);
            yield return W("add with a NUL after the command", B("add\0gamma\n"), EINVAL);
            yield return W("a lone NUL byte", B("\0"), EINVAL);
            yield return W("del without an id", B("del\n"), EINVAL);
            yield return W("del with two ids", B("del 1 2\n"), EINVAL);
            yield return W("del with a word for an id", B("del abc\n"), EINVAL);
            yield return W("del with a negative id", B("del -1\n"), EINVAL);
            yield return W("del with a plus sign", B("del +1\n"), EINVAL);
            yield return W("del 0", B("del 0\n"), EINVAL);
            yield return W("del with a suffix on the id", B("del 1x\n"), EINVAL);
            yield return W("del with a hex id", B("del 0x1\n"), EINVAL);
            yield return W("del with an id past the last one there can be (2^31)", B("del 2147483648\n"), EINVAL);
            yield return W("del with an 11-digit id", B("del 10000000000\n"), EINVAL);
            yield return W("del with a 10-digit id nobody has", B("del 1234567890\n"), ENOENT);
            yield return W("del with a 20-digit id", B("del 99999999999999999999\n"), EINVAL);
            yield return W("del with a byte 0xff for an id", B("del \u00ff\n"), EINVAL);
            yield return W("del of an id that does not exist", B("del 999\n"), ENOENT);
            yield return W("del of an id past the last one", B("del 3\n"), ENOENT);
            yield return W("rename without arguments", B("rename\n"), EINVAL);
            yield return W("rename without a name", B("rename 1\n"), EINVAL);
            yield return W("rename with two names", B("rename 1 a b\n"), EINVAL);
            yield return W("rename with a malformed id", B("rename x newname\n"), EINVAL);
            yield return W("rename with a 32-byte name", B($"rename 1 {n32}\n"), EINVAL);
            yield return W("rename of id 0", B("rename 0 a\n"), EINVAL);
            yield return W("rename of an id that does not exist", B("rename 999 zeta\n"), ENOENT);
            yield return W("clear with an argument", B("clear now\n"), EINVAL);
            yield return W("clear followed by a NUL", B("clear\0"), EINVAL);
            yield return W("two commands in one write", B("add x\nadd y\n"), EINVAL);
            yield return W($"a command of 4097 bytes", B("add " + new string('z', 4092) + "\n"), EINVAL);
            yield return W("a write of 8192 bytes", new byte[8192], EINVAL);
            yield return ("a write from an address the kernel cannot read", r => r.WriteUnreadable(10), EFAULT);
            yield return ("a write whose buffer is readable only in part", r => r.WritePartlyReadable(4, 12), EFAULT);
            yield return ("a second writer while one holds the file open", r =>
            {
                using IDisposable holder = r.OpenForWriting(out int first);
                if (first != 0)
                    return first;
                using IDisposable second = r.OpenForWriting(out int error);
                return error;
            }, EBUSY);
            yield return W($"a 31-byte name with a space inside", B($"add {n31[..15]} {n31[..15]}\n"), EINVAL);
        }

        /// <summary>
        /// Runs the battery: each bad input must fail with its errno and leave the registry as it
        /// was. Then a good command must still work. Reports one line per check.
        /// </summary>
        public static (int Passed, int Failed) RunBattery(IRegistry r, Action<bool, string> report)
        {
            var tally = new Tally(report);
            var Check = tally.Check;

            string before = RegistryText.Snapshot(r.Read());
            Check(RegistryText.Parse(r.Read(), out string problem) != null, $"the registry reads consistently before the battery{(problem == null ? "" : ": " + problem)}");
            foreach (var (what, act, errno) in BadInputs())
            {
                long ret = act(r);
                string after = RegistryText.Snapshot(r.Read());
                Check(ret == -errno, $"{what}: {Describe(-errno)} (got {Describe(ret)})");
                Check(after == before, $"{what}: the registry is unchanged");
                before = after;
            }
            Check(r.Write(B("add omega\n")) == "add omega\n".Length, "a good command still works after the battery");
            List<Entry> rows = RegistryText.Parse(r.Read(), out problem);
            Check(rows != null && rows.Count(e => e.Name == "omega") == 1, $"the good command's object is there{(problem == null ? "" : ": " + problem)}");
            return (tally.Passed, tally.Failed);
        }

        /// <summary>
        /// A scripted run of good and bad commands beside live objects, checking after every
        /// command the errno and the exact registry: every row's id and name, the header's count
        /// and last id. It starts from whatever the registry holds and keeps its own account of
        /// what must be there (ids are never reused, so the last id only grows).
        /// </summary>
        public static (int Passed, int Failed) RunSequence(IRegistry r, Action<bool, string> report)
        {
            var tally = new Tally(report);
            var Check = tally.Check;
            string text = r.Read();
            List<Entry> expected = RegistryText.Parse(text, out string problem);
            int lastId = RegistryText.LastId(text);
            Check(expected != null && lastId >= 0, $"the registry reads consistently before the sequence{(problem == null ? "" : ": " + problem)}");
            expected ??= new List<Entry>();

            // Step writes the command with the newline echo adds; StepRaw writes it as it is.
            void Step(string command, int errno, Action change) => StepRaw(command + "\n", errno, change);
            void StepRaw(string raw, int errno, Action change)
            {
                string command = raw.Length > 40 ? $"{raw[..20].TrimEnd()}... ({raw.Length} bytes)" : raw.TrimEnd('\n');
                long ret = r.Write(B(raw));
                Check(ret == (errno == 0 ? raw.Length : -errno), $"sequence: '{command}': {(errno == 0 ? "succeeds" : Describe(-errno))} (got {Describe(ret)})");
                if (ret == raw.Length)
                    change?.Invoke();
                string now = r.Read();
                List<Entry> rows = RegistryText.Parse(now, out string why);
                string want = string.Join(", ", expected.Select(e => $"{e.Id} {e.Name}"));
                command = command.Length > 60 ? command[..57] + "..." : command;
                string got = rows == null ? $"unreadable ({why})" : string.Join(", ", rows.Select(e => $"{e.Id} {e.Name}"));
                Check(rows != null && got == want && RegistryText.LastId(now) == lastId,
                    $"sequence: after '{command}' the registry is exactly [{want}], last id {lastId} (got [{got}], last id {RegistryText.LastId(now)})");
            }
            int Add(string name) { expected.Add(new Entry(++lastId, name)); return lastId; }
            void Del(int id) => expected.RemoveAll(e => e.Id == id);
            void Rename(int id, string name)
            {
                int i = expected.FindIndex(e => e.Id == id);
                expected[i] = expected[i] with { Name = name };
            }

            int x = lastId + 1, y = lastId + 2, z = lastId + 3;
            Step("add seq-x", 0, () => Add("seq-x"));
            Step("add seq-y", 0, () => Add("seq-y"));
            Step("add seq-z", 0, () => Add("seq-z"));
            Step($"del {y}", 0, () => Del(y));
            Step($"del {y}", ENOENT, null);                       // just deleted, neighbours alive
            Step($"rename {y} seq-q", ENOENT, null);
            Step($"rename {x} seq-x2", 0, () => Rename(x, "seq-x2"));
            Step($"rename {z} seq-x2", 0, () => Rename(z, "seq-x2"));   // names may repeat
            Step($"del {x}", 0, () => Del(x));
            Step($"rename {x} seq-gone", ENOENT, null);
            Step("add seq-w", 0, () => Add("seq-w"));             // a new id, never y again
            Step($"del 0{z}", 0, () => Del(z));                   // leading zeros are allowed
            Step("del seq-w", EINVAL, null);
            Step("add seq w", EINVAL, null);
            Step("clear", 0, () => expected.Clear());
            Step($"del {lastId}", ENOENT, null);
            Step("add seq-after-clear", 0, () => Add("seq-after-clear"));
            // Edges of the parser: no newline, a trailing space, the longest name, the largest
            // write, and ids that only look small once they overflow an int or a long.
            StepRaw("add seq-no-newline", 0, () => Add("seq-no-newline"));
            Step("add seq-trailing-space ", 0, () => Add("seq-trailing-space"));
            string n31 = "seq-" + new string('l', 27);
            Step($"add {n31}", 0, () => Add(n31));
            int renamed = lastId;
            Step($"rename {renamed} {n31[..30]}m", 0, () => Rename(renamed, n31[..30] + "m"));
            StepRaw("add seq-page" + new string(' ', 4096 - "add seq-page".Length - 1) + "\n", 0, () => Add("seq-page"));
            int first = expected[0].Id;
            Step($"del {first + 4294967296L}", EINVAL, null);             // (int) of it is the first id
            Step($"del {first + 18446744073709551616m}", EINVAL, null);   // so is a long's wrap-around
            Step("add a b c d", EINVAL, null);                            // five words
            return (tally.Passed, tally.Failed);
        }

        /// <summary>
        /// Ids run out: with the module loaded with last_id=2147483645 (alpha and beta get the
        /// last two ids there are), an add must fail with ENOSPC and change nothing, a del must
        /// still work, and an add after it must still fail: ids are never reused.
        /// </summary>
        public static (int Passed, int Failed) RunIdsRunOut(IRegistry r, Action<bool, string> report)
        {
            var tally = new Tally(report);
            var Check = tally.Check;
            string before = r.Read();
            List<Entry> rows = RegistryText.Parse(before, out _);
            Check(rows != null && RegistryText.LastId(before) == int.MaxValue && rows.Select(e => e.Id).SequenceEqual([int.MaxValue - 1, int.MaxValue]),
                $"loaded with last_id=2147483645, the objects have the last two ids (2147483646, 2147483647)");
            long ret = r.Write(B("add omega\n"));
            Check(ret == -ENOSPC, $"add when the ids have run out: -ENOSPC (got {Describe(ret)})");
            Check(RegistryText.Snapshot(r.Read()) == RegistryText.Snapshot(before), "add when the ids have run out: the registry is unchanged");
            ret = r.Write(B($"del {int.MaxValue}\n"));
            Check(ret == $"del {int.MaxValue}\n".Length, $"del of the object with the last id there is, 2147483647, works (got {Describe(ret)})");
            ret = r.Write(B("add omega\n"));
            Check(ret == -ENOSPC, $"add after that del: still -ENOSPC, ids are never reused (got {Describe(ret)})");
            rows = RegistryText.Parse(r.Read(), out _);
            Check(rows != null && rows.Select(e => e.Id).SequenceEqual([int.MaxValue - 1]), "only the object with id 2147483646 is left");
            return (tally.Passed, tally.Failed);
        }

        /// <summary>
        /// The constructor's contract in the kernel that runs the module: loaded with
        /// selfcheck=1 last_id=2147483600 (47 ids left), "check N" takes N free objects from the
        /// cache and fails with -EUCLEAN unless each is as the constructor left it. It runs after
        /// the load, after dels, after renames, after an add that got its object and then had to
        /// give it back (ENOSPC), and after a clear. The check changes nothing in the registry,
        /// and bad counts get -EINVAL.
        /// </summary>
        public static (int Passed, int Failed) RunConstructedState(IRegistry r, Action<bool, string> report)
        {
            var tally = new Tally(report);
            var Check = tally.Check;
            void Write(string command, long expected, string what)
            {
                long ret = r.Write(B(command + "\n"));
                Check(ret == expected, $"{what}: {Describe(expected)} (got {Describe(ret)})");
            }
            void SelfCheck(int n, string after)
            {
                string before = RegistryText.Snapshot(r.Read());
                Write($"check {n}", $"check {n}\n".Length, $"after {after}, {n} free objects are in the constructor's state");
                Check(RegistryText.Snapshot(r.Read()) == before, $"check {n} after {after} leaves the registry as it was");
            }

            List<Entry> rows = RegistryText.Parse(r.Read(), out string problem);
            Check(rows != null && rows.Select(e => e.Id).SequenceEqual([2147483601, 2147483602]),
                $"loaded with last_id=2147483600: alpha and beta are 2147483601 and 2147483602{(problem == null ? "" : ": " + problem)}");
            SelfCheck(64, "the load");

            int added = 0;
            for (int i = 1; i <= 40; i++)
                if (r.Write(B($"add c{i}\n")) == $"add c{i}\n".Length)
                    added++;
            Check(added == 40, $"40 adds work ({added} did)");
            rows = RegistryText.Parse(r.Read(), out _) ?? [];
            foreach (Entry e in rows.Where((_, i) => i % 4 == 1))
                r.Write(B($"del {e.Id}\n"));
            Check(RegistryText.Parse(r.Read(), out _)?.Count == 42 - 11, "every fourth object deleted: 31 left");
            SelfCheck(11, "11 dels");
            SelfCheck(64, "11 dels (more objects than were freed)");

            rows = RegistryText.Parse(r.Read(), out _) ?? [];
            foreach (Entry e in rows.Take(5))
                r.Write(B($"rename {e.Id} r{e.Id % 1000}\n"));
            SelfCheck(64, "5 renames");

            for (int i = 0; i < 5; i++)
                Write($"add last{i}", $"add last{i}\n".Length, $"add {i + 1} of the 5 ids left");
            Write("add one-too-many", -ENOSPC, "an add with no id left (its object was allocated, then freed back)");
            SelfCheck(1, "the add that gave its object back");

            Write("clear", "clear\n".Length, "clear");
            SelfCheck(64, "the clear");

            Write("check 0", -EINVAL, "check 0");
            Write("check 4097", -EINVAL, "check 4097 (more than 4096)");
            Write("check x", -EINVAL, "check with a word for a count");
            Write("check", -EINVAL, "check without a count");
            Write("check 1 2", -EINVAL, "check with two counts");
            return (tally.Passed, tally.Failed);
        }

        /// <summary>
        /// Two (or more) writers at once, each doing random adds and dels through open/write/close
        /// (retrying on EBUSY), and reading the file to find the ids of its own objects, while
        /// <paramref name="readers"/> more threads read the file all along (each once every 20
        /// operations of the writers). Every read must be one
        /// consistent list (the header's count equals the rows, ids ascend) and no reader may see
        /// the last id go backwards. At the end the registry must hold exactly the objects each
        /// writer still believes it has.
        /// </summary>
        public static (int Passed, int Failed) RunConcurrent(IRegistry r, int writers, int operations, int seed, Action<bool, string> report, int readers = 2)
        {
            var tally = new Tally(report);
            var Check = tally.Check;

            var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var remaining = new HashSet<string>[writers];
            const int ReadEvery = 20;
            long busy = 0, reads = 0, readerReads = 0, opsDone = 0;
            int writersDone = 0;
            var readerThreads = new Thread[readers];
            for (int i = 0; i < readers; i++)
            {
                int reader = i;
                readerThreads[i] = new Thread(() =>
                {
                    // Paced by the writers' progress: one read every ReadEvery operations, spread
                    // over the whole run (reading flat out would only slow an emulated VM down).
                    int lastId = 0;
                    long next = ReadEvery * (reader + 1) / readers;
                    while (Volatile.Read(ref writersDone) < writers && errors.IsEmpty)
                    {
                        if (Interlocked.Read(ref opsDone) < next)
                        {
                            Thread.Sleep(1);
                            continue;
                        }
                        next += ReadEvery;
                        string text = r.Read();
                        Interlocked.Increment(ref readerReads);
                        if (RegistryText.Parse(text, out string problem) == null)
                        {
                            errors.Enqueue($"reader {reader}: inconsistent read: {problem}");
                            break;
                        }
                        int id = RegistryText.LastId(text);
                        if (id < lastId)
                        {
                            errors.Enqueue($"reader {reader}: the last id went back from {lastId} to {id}");
                            break;
                        }
                        lastId = id;
                    }
                });
                readerThreads[i].Start();
            }
            var threads = new Thread[writers];
            for (int w = 0; w < writers; w++)
            {
                int writer = w;
                remaining[w] = new HashSet<string>();
                threads[w] = new Thread(() =>
                {
                    var rng = new Random(seed * 31 + writer);
                    var mine = new List<string>();
                    int next = 0;
                    for (int op = 0; op < operations / writers && errors.IsEmpty; op++)
                    {
                        // Adds win while a writer holds fewer than 100 objects, dels after: the
                        // registry grows to a few hundred objects over several slabs and stays
                        // there (each del reads the whole list, and an emulated VM pays for it).
                        bool add = mine.Count == 0 || rng.Next(100) < (mine.Count < 100 ? 55 : 45);
                        string name;
                        byte[] command;
                        int index = -1;
                        if (add)
                        {
                            name = $"w{writer}-{next++}";
                            command = Encoding.ASCII.GetBytes($"add {name}\n");
                        }
                        else
                        {
                            index = rng.Next(mine.Count);
                            name = mine[index];
                            Interlocked.Increment(ref reads);
                            List<Entry> rows = RegistryText.Parse(r.Read(), out string problem);
                            if (rows == null) { errors.Enqueue($"writer {writer}: inconsistent read: {problem}"); break; }
                            Entry[] found = rows.Where(e => e.Name == name).ToArray();
                            if (found.Length != 1) { errors.Enqueue($"writer {writer}: {name} appears {found.Length} times"); break; }
                            command = Encoding.ASCII.GetBytes($"del {found[0].Id}\n");
                        }
                        long ret;
                        while ((ret = r.Write(command)) == -EBUSY)
                        {
                            Interlocked.Increment(ref busy);
                            Thread.Yield();
                        }
                        if (ret != command.Length) { errors.Enqueue($"writer {writer}: '{Encoding.ASCII.GetString(command).Trim()}' returned {Describe(ret)}"); break; }
                        if (add) mine.Add(name); else mine.RemoveAt(index);
                        Interlocked.Increment(ref opsDone);
                    }
                    remaining[writer].UnionWith(mine);
                    Interlocked.Increment(ref writersDone);
                });
                threads[w].Start();
            }
            foreach (Thread t in threads)
                t.Join();
            foreach (Thread t in readerThreads)
                t.Join();

            Check(errors.IsEmpty, $"{operations} random adds and dels from {writers} writers at once, {readers} readers reading all along, succeed ({busy} EBUSY retries, {reads} writer reads, {readerReads} reader reads, each one consistent) {string.Join("; ", errors.Take(3))}");
            Check(readers == 0 || readerReads >= (long)readers * (operations / ReadEvery) / 2, $"the readers read while the writers wrote ({readerReads} reads, one per reader every {ReadEvery} operations)");
            List<Entry> final = RegistryText.Parse(r.Read(), out string finalProblem);
            var expected = remaining.SelectMany(s => s).OrderBy(s => s).ToList();
            Check(final != null, $"the final list is consistent{(finalProblem == null ? "" : ": " + finalProblem)}");
            Check(final != null && final.Select(e => e.Name).Where(n => n.StartsWith('w')).OrderBy(s => s).SequenceEqual(expected),
                $"the final list holds exactly the {expected.Count} objects the writers kept");
            Check(final != null && final.Select(e => e.Id).Distinct().Count() == final.Count, "every id in the final list is unique");
            Check(r.Write(B("clear\n")) == "clear\n".Length && RegistryText.Parse(r.Read(), out _)?.Count == 0, "clear empties the registry");
            return (tally.Passed, tally.Failed);
        }

        /// <summary>Counts checks and reports each one.</summary>
        private sealed class Tally(Action<bool, string> report)
        {
            public int Passed, Failed;

            public void Check(bool ok, string what)
            {
                report(ok, what);
                if (ok) Passed++; else Failed++;
            }
        }

        /// <summary>"-EINVAL" for a negative errno, "N bytes" otherwise.</summary>
        public static string Describe(long ret) => ret >= 0 ? $"{ret} bytes" : (-ret) switch
        {
            ENOENT => "-ENOENT",
            ENOSPC => "-ENOSPC",
            ENOMEM => "-ENOMEM",
            EFAULT => "-EFAULT",
            EBUSY => "-EBUSY",
            EINVAL => "-EINVAL",
            var e => $"-{e}",
        };
    }
}
