// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// The exercises' checkers read transcripts (tools/cli/Exercises): these cases pin how they read
// one, whichever kernel wrote it. tests/host/exercises.sh and tests/vm/exercises.sh run the
// checkers end to end on real builds.

using System.Linq;
using SimpleCache.Cli.Exercises;
using Xunit;

namespace SimpleCache.Model.Tests
{
    public class ExerciseCheckTests
    {
        private const string Leaky = """

            $ echo phase: load
            phase: load

            $ insmod simple_cache.ko
            
            $ echo status $?
            status 0

            $ dmesg -c -t
            CACHE: created object 1 alpha
            CACHE: created object 2 beta

            $ echo phase: unload
            phase: unload

            $ rmmod simple_cache

            $ echo status $?
            status 0

            $ dmesg -c -t
            CACHE: freeing object 1
            BUG simple_cache (Tainted: G           OE     ): Objects remaining in simple_cache on __kmem_cache_shutdown()
            Object 0x000000001150c36e @offset=128
            kmem_cache_destroy simple_cache: Slab cache still has objects when called from DestroyAll+0x0/0x0 [simple_cache]
            CACHE: cache destroyed
            """;

        [Fact]
        public void ATranscriptSplitsIntoStepsAndPhases()
        {
            Transcript t = Transcript.Parse(Leaky);
            Assert.Equal(8, t.Steps.Count);
            Assert.Equal("insmod simple_cache.ko", t["load"].Steps[0].Command);
            Assert.Equal(0, t["load"].Status("insmod simple_cache.ko"));
            Assert.Equal(["created object 1 alpha", "created object 2 beta"], t["load"].Cache);
            Assert.Null(t["nomem"]);
            Assert.Null(t["load"].Status("rmmod simple_cache"));
        }

        [Fact]
        public void ALeakIsNamedWhenTheKernelsCountAndTheLogAgree()
        {
            var leaks = Verdicts.Leaks(Transcript.Parse(Leaky)).ToList();
            Assert.Equal(["object 2 (beta) was never freed: the module left 1 object in simple_cache when it destroyed the cache"], leaks);
        }

        [Fact]
        public void ALeakTheLogHidesIsCountedFromTheKernelsReport()
        {
            // The module logged freeing object 2 but did not free it.
            string lying = Leaky.Replace("CACHE: freeing object 1", "CACHE: freeing object 1\nCACHE: freeing object 2");
            var leaks = Verdicts.Leaks(Transcript.Parse(lying)).ToList();
            Assert.Single(leaks);
            Assert.StartsWith("the module left 1 object in simple_cache when it destroyed the cache", leaks[0]);
        }

        [Fact]
        public void NoLeakWithoutTheKernelsReport()
        {
            string clean = string.Join("\n", Leaky.Split('\n').Where(l => !l.Contains("BUG ") && !l.StartsWith("Object ") && !l.StartsWith("kmem_cache_destroy")));
            Assert.Empty(Verdicts.Leaks(Transcript.Parse(clean)));
        }

        [Fact]
        public void AKilledCommandIsACrashWithTheOopsLine()
        {
            string text = Leaky.Replace("$ rmmod simple_cache\n", "$ rmmod simple_cache\nKilled\n")
                .Replace("CACHE: freeing object 1\n", "CACHE: freeing object 1\nBUG: kernel NULL pointer dereference, address: 0000000000000030\n");
            Assert.Equal("`rmmod simple_cache` crashed the kernel: BUG: kernel NULL pointer dereference, address: 0000000000000030",
                Verdicts.Crash(Transcript.Parse(text)));
            Assert.Null(Verdicts.Crash(Transcript.Parse(Leaky)));
        }

        [Fact]
        public void SlubDebugReportsOnAnyCacheButTheLeakAreFailures()
        {
            string text = Leaky.Replace("CACHE: cache destroyed", "CACHE: cache destroyed\nBUG kmalloc-16 (Tainted: G    B      OE     ): Object already free");
            Assert.Equal(["slub_debug found a bug in kmalloc-16: Object already free"], Verdicts.SlubReports(Transcript.Parse(text)));
        }

        [Fact]
        public void EveryExerciseHasAFolderAScriptAndPhasesItsChecksRead()
        {
            Assert.Equal(Enumerable.Range(1, 8), Exercise.All.Select(e => e.Number));
            foreach (Exercise e in Exercise.All)
            {
                Assert.Matches(@"^0\d-[a-z-]+$", e.Slug);
                Assert.StartsWith("echo phase: ", e.Script[0]);
                // An empty transcript fails every exercise: the checks stop where the session stopped.
                Assert.NotEmpty(e.Check(Transcript.Parse("")));
            }
        }
    }
}
