// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The exercises (exercises/NN-slug/): each is the module with a part to write, a script of
// commands that exercises that part, and checks of the script's transcript. The same script runs
// in the model (simple-cache check N) and in a real kernel (make check EX=N, which boots 6.1
// and 6.12 and runs it in the guest); the same checks then read either transcript. A failure
// says what is wrong in the learner's terms, not in the checker's.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace SimpleCache.Cli.Exercises
{
    /// <summary>One exercise: its script, the kernel it needs, and its checks.</summary>
    public sealed class Exercise
    {
        /// <summary>1, 2, ...</summary>
        public required int Number { get; init; }
        /// <summary>Its folder under exercises/: "01-constructor".</summary>
        public required string Slug { get; init; }
        /// <summary>What the learner writes.</summary>
        public required string Title { get; init; }
        /// <summary>slub_debug= for the boot (null: none).</summary>
        public string SlubDebug { get; init; }
        /// <summary>CPUs of the model and of the VM (1 unless the exercise needs two running at once).</summary>
        public int Cpus { get; init; } = 1;
        /// <summary>The commands, one per line ("echo phase: NAME" starts a phase; "echo status $?" follows a command whose status counts).</summary>
        public required string[] Script { get; init; }
        /// <summary>Adds a failure for everything wrong in a transcript of the script.</summary>
        public required Action<Transcript, List<string>> Verify { get; init; }

        /// <summary>Every failure the transcript shows, the shared checks first; empty if it passes.</summary>
        public List<string> Check(Transcript t)
        {
            var failures = new List<string>();
            if (Verdicts.Crash(t) is string crash)
                failures.Add(crash);
            failures.AddRange(Verdicts.SlubReports(t));
            Verify(t, failures);
            failures.AddRange(Verdicts.Leaks(t));
            return failures.Distinct().ToList();
        }

        // Exercise 5 loads 40 objects: o1 to o40.
        private static readonly string s_insmod40 = $"insmod simple_cache.ko names={string.Join(",", Enumerable.Range(1, 40).Select(i => $"o{i}"))}";

        /// <summary>The exercises, in order.</summary>
        public static readonly Exercise[] All =
        [
            new()
            {
                Number = 1, Slug = "01-constructor", Title = "the constructor",
                Script =
                [
                    "echo phase: load", "insmod simple_cache.ko selfcheck=1", "echo status $?", "dmesg -c -t",
                    // Fresh objects: the first slab's, straight from the constructor.
                    "echo phase: fresh", "echo check 64 > /proc/simple_cache", "echo status $?", "dmesg -c -t",
                    // Reused objects: freed by del, taken again by the self-check first.
                    "echo phase: reuse", "echo add gamma > /proc/simple_cache", "echo del 3 > /proc/simple_cache",
                    "echo del 1 > /proc/simple_cache", "echo check 64 > /proc/simple_cache", "echo status $?", "dmesg -c -t",
                    "echo phase: unload", "rmmod simple_cache", "echo status $?", "dmesg -c -t",
                ],
                Verify = (t, failures) =>
                {
                    if (Loaded(t, "load", "insmod simple_cache.ko selfcheck=1", failures) is null)
                        return;
                    foreach (string phase in new[] { "fresh", "reuse" })
                    {
                        if (Verdicts.Need(t, phase, failures) is not Phase p)
                            return;
                        ConstructedState(p, "echo check 64 > /proc/simple_cache", 64, phase == "fresh" ? "one of the first slab's" : "after two dels", failures);
                    }
                    Unloaded(t, failures);
                },
            },
            new()
            {
                Number = 2, Slug = "02-allocate", Title = "allocate, check, initialise and add to the list",
                Script =
                [
                    "echo phase: load", "insmod simple_cache.ko names=alpha,beta,gamma", "echo status $?", "dmesg -c -t",
                    "echo phase: list", "cat /proc/simple_cache",
                    "echo phase: unload", "rmmod simple_cache", "echo status $?", "dmesg -c -t",
                    // The second object's allocation fails (1 is the cache, 2 the first object).
                    "echo phase: nomem", "insmod simple_cache.ko names=alpha,beta,gamma fail_nth=3", "echo status $?", "dmesg -c -t",
                    "grep -c '^simple_cache ' /proc/slabinfo",
                ],
                Verify = (t, failures) =>
                {
                    if (Loaded(t, "load", "insmod simple_cache.ko names=alpha,beta,gamma", failures) is not Phase load)
                        return;
                    string[] expected = ["created object 1 alpha", "created object 2 beta", "created object 3 gamma"];
                    var created = load.Cache.Where(l => l.StartsWith("created object", StringComparison.Ordinal)).ToList();
                    if (!created.SequenceEqual(expected))
                        failures.Add($"insmod names=alpha,beta,gamma should log `{string.Join("`, `", expected)}`; the log says `{string.Join("`, `", created)}`: " +
                            "give each object the next id (++s_lastId), copy its name (SetName) and log it");
                    if (Verdicts.Need(t, "list", failures) is not Phase list)
                        return;
                    var rows = Rows(list.Output("cat /proc/simple_cache"));
                    string names = string.Join(", ", rows.Select(r => r.Name));
                    if (rows.Count == 0)
                        failures.Add("/proc/simple_cache lists no object: link each new object into the module's list (Kernel.List.AddTail(&obj->List, Objects))");
                    else if (names == "gamma, beta, alpha")
                        failures.Add("/proc/simple_cache lists the objects newest first (gamma, beta, alpha): Kernel.List.Add puts an object at the head; the brief's list keeps them in creation order, at the tail (Kernel.List.AddTail)");
                    else if (names != "alpha, beta, gamma" || rows.Select(r => r.Id).SequenceEqual([1, 2, 3]) == false)
                        failures.Add($"/proc/simple_cache should list 1 alpha, 2 beta, 3 gamma; it lists {string.Join(", ", rows.Select(r => $"{r.Id} {r.Name}"))}");
                    Match count = Regex.Match(list.Output("cat /proc/simple_cache") ?? "", @"^objects: (-?\d+)", RegexOptions.Multiline);
                    if (count.Success && count.Groups[1].Value != "3")
                        failures.Add($"/proc/simple_cache counts {count.Groups[1].Value} objects, not 3: count each object you add (s_count++)");
                    Unloaded(t, failures);
                    if (Verdicts.Need(t, "nomem", failures) is not Phase nomem)
                        return;
                    int? status = nomem.Status("insmod simple_cache.ko names=alpha,beta,gamma fail_nth=3");
                    if (status is 137 or 139)
                    {
                        failures.Add("insmod fail_nth=3 (the second object's allocation fails) crashed the kernel: kmem_cache_alloc returns NULL when it fails; check for it before using the object");
                        return;
                    }
                    else if (status == 0)
                        failures.Add("insmod fail_nth=3 (the second object's allocation fails) succeeded: a failed allocation must fail the load with -ENOMEM");
                    else if (!nomem.Cache.Contains("allocation of object 2 failed, undoing"))
                        failures.Add("insmod fail_nth=3 failed without logging `CACHE: allocation of object 2 failed, undoing`");
                    if (nomem.Output("grep -c '^simple_cache ' /proc/slabinfo") is string left && left != "0")
                        failures.Add("after insmod fail_nth=3 failed, the cache simple_cache is still in /proc/slabinfo: undo everything on failure (DestroyAll)");
                },
            },
            new()
            {
                Number = 3, Slug = "03-free", Title = "walk and free safely", SlubDebug = "FZPU",
                Script =
                [
                    "echo phase: load", "insmod simple_cache.ko names=alpha,beta,gamma,delta selfcheck=1", "echo status $?", "dmesg -c -t",
                    "echo phase: del", "echo del 2 > /proc/simple_cache", "echo status $?", "cat /proc/simple_cache", "dmesg -c -t",
                    // The self-check takes the most recently freed object first: object 2's slot.
                    "echo phase: reuse", "echo check 8 > /proc/simple_cache", "echo status $?", "dmesg -c -t",
                    "echo phase: clear", "echo add epsilon > /proc/simple_cache", "echo clear > /proc/simple_cache", "echo status $?",
                    "echo check 8 > /proc/simple_cache", "echo status $?", "echo add zeta > /proc/simple_cache", "echo add eta > /proc/simple_cache", "dmesg -c -t",
                    "echo phase: unload", "rmmod simple_cache", "echo status $?", "dmesg -c -t",
                ],
                Verify = (t, failures) =>
                {
                    if (Loaded(t, "load", "insmod simple_cache.ko names=alpha,beta,gamma,delta selfcheck=1", failures) is null)
                        return;
                    if (Verdicts.Need(t, "del", failures) is not Phase del)
                        return;
                    var rows = Rows(del.Output("cat /proc/simple_cache"));
                    if (rows.Any(r => r.Id == 2))
                        failures.Add("after `del 2`, object 2 is still on the list: unlink it (Kernel.List.DelInit) before you free it");
                    UseAfterFree(t, failures);
                    if (Verdicts.Need(t, "reuse", failures) is Phase reuse)
                        ConstructedState(reuse, "echo check 8 > /proc/simple_cache", 8, "object 2, freed by del", failures);
                    if (Verdicts.Need(t, "clear", failures) is Phase clear)
                        ConstructedState(clear, "echo check 8 > /proc/simple_cache", 8, "the objects freed by clear", failures);
                    if (Verdicts.Need(t, "clear", failures) is Phase cleared && !cleared.Cache.Contains("cleared 4 objects"))
                        failures.Add("`clear` should log `CACHE: cleared 4 objects` (1, 3, 4 and 5)");
                    Unloaded(t, failures, ["freeing object 6", "freeing object 7"]);
                },
            },
            new()
            {
                Number = 4, Slug = "04-undo", Title = "undo a partial failure",
                Script = [.. Enumerable.Range(1, 6).SelectMany(n => new[]
                {
                    $"echo phase: fail {n}", $"insmod simple_cache.ko names=alpha,beta fail_nth={n}", "echo status $?", "dmesg -c -t",
                    "grep -c '^simple_cache ' /proc/slabinfo", "ls /proc | grep -c simple_cache",
                }).Concat(
                [
                    "echo phase: load", "insmod simple_cache.ko names=alpha,beta", "echo status $?", "dmesg -c -t",
                    "echo phase: unload", "rmmod simple_cache", "echo status $?", "dmesg -c -t",
                ])],
                Verify = (t, failures) =>
                {
                    string[] what = ["the cache", "object 1 (alpha)", "object 2 (beta)", "the registry's lock", "/proc/simple_cache", "/proc/simple_cache_map"];
                    // The first load that leaves something behind is the one to fix: what it left
                    // makes the loads after it fail too (a second cache named simple_cache cannot be made).
                    for (int n = 1, before = failures.Count; n <= 6 && failures.Count == before; n++)
                    {
                        if (Verdicts.Need(t, $"fail {n}", failures) is not Phase p)
                            return;
                        string step = $"insmod fail_nth={n} (the allocation of {what[n - 1]} fails)";
                        int? status = p.Status($"insmod simple_cache.ko names=alpha,beta fail_nth={n}");
                        if (status == 0)
                        {
                            failures.Add($"{step} succeeded: a failed allocation must fail the load (-ENOMEM)");
                            return;
                        }
                        var created = p.Cache.Select(l => Regex.Match(l, @"^created object (\d+) (.*)$")).Where(m => m.Success).ToList();
                        var freed = p.Cache.Select(l => Regex.Match(l, @"^freeing object (\d+)$")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet();
                        foreach (Match c in created.Where(c => !freed.Contains(c.Groups[1].Value)))
                            failures.Add($"{step} left object {c.Groups[1].Value} ({c.Groups[2].Value}) allocated: free what was made before the failure");
                        if (p.Output("grep -c '^simple_cache ' /proc/slabinfo") is string caches && caches != "0")
                            failures.Add($"{step} left the cache simple_cache in /proc/slabinfo: destroy it (Slab.KmemCacheDestroy) when a later step fails");
                        if (p.Output("ls /proc | grep -c simple_cache") is string files && files != "0")
                            failures.Add($"{step} left {files} file(s) named simple_cache* in /proc: remove what was created (Proc.Remove) when a later step fails");
                    }
                    if (failures.Count == 0 && Loaded(t, "load", "insmod simple_cache.ko names=alpha,beta", failures) is not null)
                        Unloaded(t, failures);
                },
            },
            new()
            {
                Number = 5, Slug = "05-kmalloc", Title = "kmalloc against kmem_cache",
                Script =
                [
                    "echo phase: load", s_insmod40,
                    "echo status $?", "dmesg -c -t",
                    // Where the objects are: each one's slab and offset (root may read the map).
                    "echo phase: map", "cat /proc/simple_cache_map", "grep '^simple_cache ' /proc/slabinfo",
                    "echo phase: churn", "echo del 5 > /proc/simple_cache", "echo status $?", "echo add p1 > /proc/simple_cache",
                    "echo status $?", "dmesg -c -t",
                    "echo phase: unload", "rmmod simple_cache", "echo status $?", "dmesg -c -t",
                ],
                Verify = (t, failures) =>
                {
                    if (Loaded(t, "load", s_insmod40, failures) is null)
                        return;
                    if (Verdicts.Need(t, "map", failures) is not Phase map)
                        return;
                    // The slot size: the greatest common divisor of the objects' offsets in their slabs.
                    var offsets = (map.Output("cat /proc/simple_cache_map") ?? "").Split('\n')
                        .Select(l => Regex.Match(l, @"^\d+\s+\S+\s+\S+\s+(\d+)$")).Where(m => m.Success)
                        .Select(m => long.Parse(m.Groups[1].Value)).ToList();
                    long slot = offsets.Aggregate(0L, (g, o) => o == 0 ? g : Gcd(g, o));
                    Match row = Regex.Match(map.Output("grep '^simple_cache ' /proc/slabinfo") ?? "", @"^simple_cache\s+(\d+)");
                    if (offsets.Count != 40)
                        failures.Add($"/proc/simple_cache_map lists {offsets.Count} objects, not the 40 loaded");
                    else if (row.Success && row.Groups[1].Value != "0")
                        failures.Add($"/proc/slabinfo shows {row.Groups[1].Value} active objects in the module's cache, simple_cache: the objects still come from kmem_cache_alloc; take them from kmalloc (Slab.Kmalloc)");
                    else if (slot != 64)
                        failures.Add($"the objects sit in {slot}-byte slots (their offsets in /proc/simple_cache_map): a 64-byte struct belongs in kmalloc-64; " +
                            "kmalloc rounds a request up to its size class, so ask for sizeof(CacheObj)");
                    if (t.Log.FirstOrDefault(l => l.Contains("Wrong slab cache", StringComparison.Ordinal)) is string wrong)
                        failures.Add($"the kernel warns: {wrong}: an object from kmalloc goes back with kfree (Slab.Kfree), not kmem_cache_free");
                    if (Verdicts.Need(t, "churn", failures) is Phase churn && (churn.Status("echo del 5 > /proc/simple_cache") != 0 || churn.Status("echo add p1 > /proc/simple_cache") != 0))
                        failures.Add("`del 5` or `add p1` failed after the change");
                    Unloaded(t, failures);
                },
            },
            new()
            {
                Number = 6, Slug = "06-errors", Title = "the registry's errors", SlubDebug = "FZPU",
                Script =
                [
                    // fail_nth=7: allocations 1 to 6 are the load's, so the first add fails (-ENOMEM).
                    "echo phase: load", "insmod simple_cache.ko fail_nth=7", "echo status $?", "dmesg -c -t",
                    "echo phase: battery", "simple-cache-ctl battery", "echo status $?",
                    "echo phase: sequence", "simple-cache-ctl sequence", "echo status $?",
                    "echo phase: unload", "rmmod simple_cache", "echo status $?", "dmesg -c -t",
                ],
                Verify = (t, failures) =>
                {
                    if (Loaded(t, "load", "insmod simple_cache.ko fail_nth=7", failures) is null)
                        return;
                    foreach (string checks in new[] { "battery", "sequence" })
                    {
                        if (Verdicts.Need(t, checks, failures) is not Phase p)
                            return;
                        string output = p.Output($"simple-cache-ctl {checks}") ?? "";
                        // The checks' own words say what went wrong: "del of an id past the last one: -ENOENT (got 6 bytes)".
                        foreach (Match m in Regex.Matches(output, @"^FAIL registry: (.*)$", RegexOptions.Multiline))
                            failures.Add($"the registry {checks}: {m.Groups[1].Value}");
                        if (!Regex.IsMatch(output, $@"^{checks}: \d+ passed, \d+ failed$", RegexOptions.Multiline))
                            failures.Add($"simple-cache-ctl {checks} did not finish");
                    }
                    Unloaded(t, failures);
                },
            },
            new()
            {
                Number = 7, Slug = "07-locking", Title = "locking", Cpus = 2,
                Script =
                [
                    "echo phase: load", "insmod simple_cache.ko", "echo status $?", "dmesg -c -t",
                    // Two writers (one at a time: the second gets EBUSY and retries) and two readers,
                    // on two CPUs; every read must be one consistent registry.
                    "echo phase: stress", "simple-cache-ctl stress 6000 2 7 4", "echo status $?", "dmesg -c -t",
                    "echo phase: unload", "rmmod simple_cache", "echo status $?", "dmesg -c -t",
                ],
                Verify = (t, failures) =>
                {
                    if (Loaded(t, "load", "insmod simple_cache.ko", failures) is null)
                        return;
                    if (Verdicts.Need(t, "stress", failures) is not Phase p)
                        return;
                    string output = p.Output("simple-cache-ctl stress 6000 2 7 4") ?? "";
                    foreach (Match m in Regex.Matches(output, @"^FAIL registry: (.*)$", RegexOptions.Multiline).Take(5))
                        failures.Add($"with writers and readers at once: {m.Groups[1].Value}");
                    if (!Regex.IsMatch(output, @"^stress: \d+ passed, \d+ failed$", RegexOptions.Multiline))
                        failures.Add("simple-cache-ctl stress did not finish");
                    Unloaded(t, failures);
                },
            },
            new()
            {
                Number = 8, Slug = "08-find-the-bugs", Title = "find and fix the bugs", SlubDebug = "FZPU",
                Script =
                [
                    "echo phase: load", "insmod simple_cache.ko names=alpha,beta,gamma", "echo status $?", "dmesg -c -t",
                    "echo phase: del", "echo del 2 > /proc/simple_cache", "echo status $?", "cat /proc/simple_cache", "dmesg -c -t",
                    // A write from a buffer the kernel cannot read, then a good one (which reuses the copy's slot).
                    "echo phase: efault", "simple-cache-ctl write-unreadable 12", "echo status $?",
                    "echo add delta > /proc/simple_cache", "echo status $?", "cat /proc/simple_cache", "dmesg -c -t",
                    "echo phase: unload", "rmmod simple_cache", "echo status $?", "dmesg -c -t",
                ],
                Verify = (t, failures) =>
                {
                    if (Loaded(t, "load", "insmod simple_cache.ko names=alpha,beta,gamma", failures) is null)
                        return;
                    if (Verdicts.Need(t, "del", failures) is not Phase del)
                        return;
                    if (Rows(del.Output("cat /proc/simple_cache")).Any(r => r.Id == 2))
                        failures.Add("after `del 2`, object 2 is still on the list");
                    UseAfterFree(t, failures);
                    if (Verdicts.Need(t, "efault", failures) is not Phase efault)
                        return;
                    if (efault.Status("simple-cache-ctl write-unreadable 12") is int status && status != 14)
                        failures.Add($"a write from a buffer the kernel cannot read should fail with EFAULT (14); it ended with status {status}");
                    if (efault.Status("echo add delta > /proc/simple_cache") != 0 || !Rows(efault.Output("cat /proc/simple_cache")).Any(r => r.Name == "delta"))
                        failures.Add("`echo add delta > /proc/simple_cache` after the failed write did not add delta");
                    Unloaded(t, failures, ["freeing object 1", "freeing object 3", "freeing object 4"]);
                },
            },
        ];

        /// <summary>The exercise numbered <paramref name="number"/>, or null.</summary>
        public static Exercise Find(int number) => All.FirstOrDefault(e => e.Number == number);

        // The load phase, if insmod succeeded; a failure with the module's own words if not.
        private static Phase Loaded(Transcript t, string phase, string insmod, List<string> failures)
        {
            if (Verdicts.Need(t, phase, failures) is not Phase p)
                return null;
            int? status = p.Status(insmod);
            if (status == 0)
                return p;
            if (status is not (137 or 139))
                failures.Add($"`{insmod}` failed (exit status {status?.ToString() ?? "unknown"}); the kernel log says: " +
                    (p.Log.Any() ? string.Join(" | ", p.Log) : "nothing"));
            return null;
        }

        // rmmod succeeded, freed the objects it should have (in order), and destroyed the cache.
        private static void Unloaded(Transcript t, List<string> failures, string[] frees = null)
        {
            if (Verdicts.Need(t, "unload", failures) is not Phase p)
                return;
            if (p.Status("rmmod simple_cache") is int status && status != 0 && status is not (137 or 139))
                failures.Add($"rmmod simple_cache failed (exit status {status})");
            var lines = p.Cache.ToList();
            if (frees != null && !lines.Where(l => l.StartsWith("freeing object", StringComparison.Ordinal)).SequenceEqual(frees))
                failures.Add($"rmmod should log `{string.Join("`, `", frees)}` (the list in order); the log says `{string.Join("`, `", lines.Where(l => l.StartsWith("freeing", StringComparison.Ordinal)))}`");
            if (!lines.Contains("cache destroyed"))
                failures.Add("rmmod did not log `CACHE: cache destroyed`: destroy the cache last (Slab.KmemCacheDestroy), once every object is freed");
        }

        // The module's self-check (selfcheck=1, "check N"): N free objects in the constructor's state.
        private static void ConstructedState(Phase p, string check, int n, string which, List<string> failures)
        {
            foreach (string line in p.Cache)
            {
                Match bad = Regex.Match(line, @"^self-check: a free object has id (-?\d+) and a list node that is (empty|not empty)");
                if (!bad.Success)
                    continue;
                if (bad.Groups[1].Value != "-1")
                    failures.Add($"a free object ({which}) has id {bad.Groups[1].Value}, not -1: the constructor's state is id -1 " +
                        "(set c->Id = -1 in the constructor, and again when an object is freed), so that a free object is never taken for a live one");
                if (bad.Groups[2].Value == "not empty")
                    failures.Add($"a free object's list node ({which}) is not empty: the constructor's state is a node that points to itself " +
                        "(Kernel.List.Init(&c->List) in the constructor; Kernel.List.DelInit, not Del, when an object leaves the list)");
            }
            if (p.Status(check) is int status && status != 0 && !p.Cache.Any(l => l.StartsWith("self-check: a free object", StringComparison.Ordinal)))
                failures.Add($"`{check}` failed (exit status {status}); the kernel log says: {string.Join(" | ", p.Log)}");
            else if (p.Status(check) == 0 && !p.Cache.Contains($"self-check: {n} free objects, {n} in the constructor's state"))
                failures.Add($"`{check}` did not log `CACHE: self-check: {n} free objects, {n} in the constructor's state`");
        }

        // A freed object read after kmem_cache_free: the constructor's state (id -1) shows in the log.
        private static void UseAfterFree(Transcript t, List<string> failures)
        {
            if (t.Log.Any(l => l == "CACHE: freeing object -1"))
                failures.Add("the log says `CACHE: freeing object -1`: the object was read after it was freed (a use after free; freeing restored the constructor's id -1). " +
                    "Log what you need before FreeObject, and read nothing of an object after it");
        }

        private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

        // The rows of /proc/simple_cache: id and name.
        private static List<(int Id, string Name)> Rows(string text) =>
            (text ?? "").Split('\n').Select(l => Regex.Match(l, @"^(-?\d+)\s+(\S+)\s+\d+\s+\d+$")).Where(m => m.Success)
                .Select(m => (int.Parse(m.Groups[1].Value), m.Groups[2].Value)).ToList();
    }
}
