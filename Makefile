# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# simple_cache: a SLAB-cache kernel module written in C#.
#
#   make                 build simple_cache.ko for the running kernel
#   make KDIR=<dir>      build it for the kernel whose headers (kbuild tree) are in <dir>
#   make ARCH=arm64      build it for Debian's arm64 kernels on this machine (the newest arm64 headers
#                        that make deps-arm64 fetched; KDIR=<dir> for another); make demo ARCH=arm64
#                        boots it in an arm64 VM
#   make deps-arm64      fetch Debian's arm64 6.1 and 6.12 kernels and headers into build/arm64/
#   make demo            build, boot a throwaway VM, load the module and show what it does
#                        (ARCH=arm64: in Debian's arm64 kernel, on qemu-system-aarch64)
#   make test            run every test (the VM tests on 6.1, 6.12 and 6.12-rt included, and the
#                        module's on arm64 6.1 and 6.12)
#   make test-model      only the model's and the slab library's tests (no VM, no root, about a minute)
#   make model           run the brief in the user-space model (no VM, no root): simple-cache run
#   make check EX=N      exercise N's checks in real 6.1 and 6.12 kernels, in VMs (SRC=file: another source);
#                        simple-cache check N runs them in the model in seconds (exercises/README.md)
#   make tour            the guided tour of the brief's learning outcomes, in the model (docs/tour.md)
#   make bench           benchmarks: the slab library, the model, malloc, GC new (BenchmarkDotNet, ~6 min)
#   make mutation        mutation testing with Stryker.NET (MUTATION_PARTS=module include model-mm-slub
#                        model-mm-debug model-mm-rest slab-geometry slab-core slab-library;
#                        each part's report in build/mutation/<part>/reports/), then the hand-written
#                        mutants of the glue and the VM checks (part glue); takes hours
#   make soak            the property tests, 500 runs each (SOAK_ITER=N)
#   make screenshots     the README's pictures (docs/screenshot-*.png), by headless Chromium
#   make sign            sign simple_cache.ko (Secure Boot): KEY=... CERT=... (default ~/kernel_keys/MOK.*)
#   make deps            install what the build and the tests need (Debian packages, as root)
#   make clean           remove everything built
#
# The C# module (module/SimpleCache.cs) is compiled once by NativeAOT into a freestanding object
# (build/csharp/simple_cache.o); kbuild then links it with the C glue for each kernel, in
# build/kernel/<kernel release>/.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# ARCH=arm64: NativeAOT's linux-arm64 compiler makes the C# object, and kbuild links it with the
# cross compiler (kbuild reads ARCH and CROSS_COMPILE from here). Anything else: x86-64.
ifeq ($(ARCH),arm64)
KCS_RID := linux-arm64
KCS_ARCH := -arm64
CROSS_COMPILE ?= aarch64-linux-gnu-
export CROSS_COMPILE
KDIR ?= $(lastword $(sort $(wildcard $(ROOT)/build/arm64/root/usr/src/linux-headers-*-arm64)))
else
KCS_RID := linux-x64
KCS_ARCH :=
KDIR ?= /lib/modules/$(shell uname -r)/build
endif
KEY ?= $(HOME)/kernel_keys/MOK.key
CERT ?= $(HOME)/kernel_keys/MOK.crt
DOTNET ?= dotnet

# MODULE_SRC: the module's C# source; an exercise's (with VARIANT, a name for its build) is built
# apart, into build/csharp$(VARIANT)/ and build/kernel$(VARIANT)/<release>/ (make check does this).
MODULE_SRC ?= $(ROOT)/module/SimpleCache.cs
override MODULE_SRC := $(abspath $(MODULE_SRC))
VARIANT ?=
CSHARP_OBJ := $(ROOT)/build/csharp$(VARIANT)$(KCS_ARCH)/simple_cache.o
CSHARP_SRC := $(MODULE_SRC) $(wildcard $(ROOT)/include/linux/*.cs $(ROOT)/arch/kernel/corelib/*.cs \
                         $(ROOT)/arch/kernel/bindings/*.cs $(ROOT)/analyzers/*.cs $(ROOT)/analyzers/*.csproj) \
                         $(ROOT)/arch/kernel/SimpleCache.Kernel.csproj $(ROOT)/Directory.Build.props \
                         $(ROOT)/module/.editorconfig $(ROOT)/include/linux/.editorconfig
GLUE_SRC := $(wildcard $(ROOT)/arch/kernel/glue/*) $(ROOT)/module/simple_cache.modinfo.c

.PHONY: check all module csharp demo test test-model deps deps-arm64 sign clean check-kdir model bench mutation soak screenshots tour

all: module

# --- the C# object -------------------------------------------------------------------------------

csharp: $(CSHARP_OBJ)

$(CSHARP_OBJ): $(CSHARP_SRC)
	@echo "  DOTNET  NativeAOT: $(patsubst $(ROOT)/%,%,$(MODULE_SRC)) -> $(patsubst $(ROOT)/%,%,$@)"
	@command -v $(DOTNET) >/dev/null || { echo "error: the .NET SDK ('dotnet') is not on PATH; run 'make deps' or install .NET 10" >&2; exit 1; }
	@mkdir -p $(ROOT)/build
	@$(DOTNET) publish $(ROOT)/arch/kernel/SimpleCache.Kernel.csproj -c Release --nologo -v quiet -r $(KCS_RID) \
		-p:IlcGenerateMapFile=false -p:ModuleSource=$(MODULE_SRC) -p:KcsVariant=$(VARIANT)$(KCS_ARCH) > $(ROOT)/build/dotnet-publish$(VARIANT)$(KCS_ARCH).log 2>&1 || \
		{ grep -E ': (error|warning) ' $(ROOT)/build/dotnet-publish$(VARIANT)$(KCS_ARCH).log | sort -u >&2 || cat $(ROOT)/build/dotnet-publish$(VARIANT)$(KCS_ARCH).log >&2; exit 1; }
	@mkdir -p $(dir $@)
	@cp $(ROOT)/build/dotnet/obj/SimpleCache.Kernel$(VARIANT)$(KCS_ARCH)/Release/net10.0/$(KCS_RID)/native/simple_cache.o $@

# --- the kernel module ---------------------------------------------------------------------------

check-kdir:
	@if [ ! -f "$(KDIR)/Makefile" ] || [ ! -f "$(KDIR)/include/generated/utsrelease.h" ]; then \
		echo "error: no kernel headers at $(KDIR)" >&2; \
		if [ "$(ARCH)" = arm64 ]; then echo "  For arm64: make deps-arm64 fetches Debian's arm64 6.1 and 6.12 headers into build/arm64/root" >&2; exit 2; fi; \
		echo "  simple_cache.ko is built against the headers (kbuild tree) of the kernel it will load into." >&2; \
		if [ "$(KDIR)" = "/lib/modules/$$(uname -r)/build" ]; then \
			echo "  The running kernel is $$(uname -r) and has none installed here (in a container, that is usual)." >&2; \
			echo "  On Debian: apt-get install linux-headers-$$(uname -r)" >&2; \
		fi; \
		echo "  Or build for another kernel: make KDIR=/usr/src/linux-headers-<release>" >&2; \
		echo "  (make demo and make test need no headers for the running kernel: they use Debian's 6.1 and 6.12 in a VM.)" >&2; \
		exit 2; \
	fi

module: check-kdir $(CSHARP_OBJ)
	@set -e; rel=$$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h); \
	out=$(ROOT)/build/kernel$(VARIANT)/$$rel; \
	mkdir -p $$out; \
	for f in $(GLUE_SRC); do cmp -s $$f $$out/$$(basename $$f) || cp $$f $$out/; done; \
	cmp -s $(CSHARP_OBJ) $$out/csharp.o || cp $(CSHARP_OBJ) $$out/csharp.o; \
	echo "  KBUILD  simple_cache.ko for $$rel"; \
	$(MAKE) -C $(KDIR) M=$$out modules 2>&1 | $(ROOT)/tools/kbuild-filter.awk; \
	if [ -z "$(VARIANT)" ] && [ -z "$(KCS_ARCH)" ]; then cp $$out/simple_cache.ko $(ROOT)/simple_cache.ko; fi; \
	echo "  DONE    $${out#$(ROOT)/}/simple_cache.ko ($$rel, $$(stat -c %s $$out/simple_cache.ko) bytes)"

# --- signing (Secure Boot) -----------------------------------------------------------------------

sign: check-kdir
	@test -f $(ROOT)/simple_cache.ko || { echo "error: no simple_cache.ko; run make first" >&2; exit 1; }
	@test -r "$(KEY)" && test -r "$(CERT)" || { echo "error: need a signing key and certificate: make sign KEY=<key> CERT=<cert> (now $(KEY), $(CERT))" >&2; exit 1; }
	$(KDIR)/scripts/sign-file sha256 "$(KEY)" "$(CERT)" $(ROOT)/simple_cache.ko
	@echo "  SIGNED  simple_cache.ko: $$(modinfo -F signer $(ROOT)/simple_cache.ko)"

# --- the quick start -----------------------------------------------------------------------------

deps:
	@$(ROOT)/tools/install-deps.sh

deps-arm64: deps
	@$(ROOT)/tools/install-deps-arm64.sh

demo: deps $(if $(filter arm64,$(ARCH)),deps-arm64)
	@VM_ARCH=$(if $(filter arm64,$(ARCH)),arm64,x86_64) $(ROOT)/tools/vm/demo.sh

test: deps deps-arm64
	@$(ROOT)/tools/run-tests.sh

test-model:
	@$(DOTNET) test $(ROOT)/tests/model/SimpleCache.Model.Tests.csproj -c Release --nologo -v quiet
	@$(DOTNET) test $(ROOT)/tests/slab/SimpleCache.Slab.Tests.csproj -c Release --nologo -v quiet

# The property tests with many more runs: SOAK_ITER runs of each (default 500, about 7 minutes here). A failure
# prints the CsCheck seed that replays it (CsCheck_Seed=...).
soak:
	@SOAK=1 $(DOTNET) test $(ROOT)/tests/model/SimpleCache.Model.Tests.csproj -c Release --nologo -v quiet \
		--filter "Category=Property" --logger "console;verbosity=normal"

model:
	@$(DOTNET) run -c Release --project $(ROOT)/tools/cli -- run

tour:
	@$(DOTNET) run -c Release --project $(ROOT)/tools/cli -- tour

screenshots:
	@$(ROOT)/tools/screenshots.sh

# An exercise in the VM: its source built for Debian's 6.1 and 6.12 kernels, each booted in
# parallel, the exercise's script run in the guest and its transcript checked by the model's checker.
check: deps
	@test -n "$(EX)" || { echo "usage: make check EX=N [SRC=file.cs]   (exercises: simple-cache check --list)" >&2; exit 2; }
	@$(DOTNET) build $(ROOT)/tools/cli -c Release --nologo -v quiet > $(ROOT)/build/cli-build.log 2>&1 || { cat $(ROOT)/build/cli-build.log >&2; exit 1; }
	@set -e; src=$${SRC:-$$(ls $(ROOT)/exercises/$$(printf %02d $(EX))-*/SimpleCache.cs 2>/dev/null | head -n 1 || true)}; \
	test -f "$$src" || { if [ -n "$(SRC)" ]; then echo "make check: no such file: $(SRC)" >&2; \
		else echo "make check: there is no exercise $(EX) (simple-cache check --list)" >&2; fi; exit 2; }; \
	. $(ROOT)/tools/vm/vm.sh; kernels=$$(vm_kernels | grep -v -- -rt- | sort -u); vm_build_ctl; mkdir -p $(ROOT)/build/vm; \
	if [ "$$(realpath $$src)" != $(ROOT)/module/SimpleCache.cs ]; then \
		$(MAKE) -s csharp MODULE_SRC=$$src VARIANT=-ex$(EX) || exit 1; fi; \
	for rel in $$kernels; do $(ROOT)/tests/vm/exercise.sh $$rel $(EX) $(SRC) > $(ROOT)/build/vm/check-$$rel.out 2>&1 & done; \
	status=0; wait || status=1; for rel in $$kernels; do cat $(ROOT)/build/vm/check-$$rel.out; \
	grep -q '^PASS ' $(ROOT)/build/vm/check-$$rel.out || status=1; done; exit $$status

bench:
	@$(DOTNET) run -c Release --project $(ROOT)/tools/bench

# Stryker.NET (a dotnet tool pinned in .config/dotnet-tools.json) mutates one part at a time and
# runs the model's tests against each mutant (the library's own tests, tests/slab, for part
# slab-library); tests/mutation/<part>.json says what it mutates. The slab code the two share
# (lib/SimpleCache.Slab/SlubSlab.cs, struct slab, and SlubCpu.cs, the per-CPU layer) is mutated
# twice: against the model's tests (slab-core) and against the library's (in slab-library).
MUTATION_PARTS ?= module include model-mm-slub model-mm-debug model-mm-rest slab-geometry slab-core slab-library glue
mutation:
	@cd $(ROOT) && $(DOTNET) tool restore >/dev/null
	@set -e; for part in $(MUTATION_PARTS); do \
		if [ $$part = glue ]; then \
			echo "== the hand-written mutants of the C glue and the VM checks (tests/mutation/glue-mutants.txt)"; \
			$(ROOT)/tests/mutation/glue-mutants.sh; continue; \
		fi; \
		echo "== mutation testing of $$part (tests/mutation/$$part.json)"; \
		tests=model; [ $$part = slab-library ] && tests=slab; \
		cd $(ROOT)/tests/$$tests && $(DOTNET) tool run dotnet-stryker -- --config-file ../mutation/$$part.json \
			--output $(ROOT)/build/mutation/$$part | tr '\r' '\n' | grep --line-buffered -E '^\[|Killed|Survived|Timeout|score'; \
	done

clean:
	rm -rf $(ROOT)/build $(ROOT)/simple_cache.ko
