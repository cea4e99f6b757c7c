# SPDX-License-Identifier: GPL-2.0
#
# xtcp: build the module (through kbuild and ./Kbuild), the tools and the
# tests; boot the test VM. Kernel code only runs inside the VM (scripts/vm).
#
#   make            module, tools, selftests and host unit tests
#   make run        compare xtcp with native TCP and AF_UNIX in one VM run
#   make bench      the benchmark matrix into BENCHMARKS.md
#   make check      everything the CI runs (build with W=1, unit, lint, VM)
#   make check-debug  the selftests and the unit tests (as KUnit suites) on
#                   the debug kernel (KASAN, lockdep, kmemleak, ...;
#                   scripts/debug-kernel builds it once)
#   make fuzz       the fuzz and fault campaign (tools/xtcp-fuzz) on the
#                   debug kernel for FUZZ_TIME seconds (default 300)
#   make lint       checkpatch --strict and sparse
#   make dkms       build the module through DKMS (a private tree in build/)
#                   for each test kernel; never installs or loads it
#   make clean      remove build products (keeps the .cache of kernel sources)
#
# KERNELS picks the test kernels (scripts/kernels: 6.1, 6.12 or a release):
# make check runs on each (all of them when unset), make run, make bench and
# make module on the first. make run and make check run scripts/setup first.

SHELL := /bin/bash

# The kernel to build for and boot: the first of KERNELS when set; else the
# running one when its headers and its /boot image are both here, else the
# newest installed Debian kernel.
KERNELS ?=
ifneq ($(strip $(KERNELS)),)
# Not there yet (scripts/setup has not run): kdir-check says so.
KERNEL_LINE := $(shell scripts/kernels $(firstword $(KERNELS)) 2>/dev/null)
KVER := $(or $(word 1,$(KERNEL_LINE)),no-kernel-$(firstword $(KERNELS)))
KDIR := $(or $(word 2,$(KERNEL_LINE)),/lib/modules/$(KVER)/build)
VM_KERNEL := $(or $(word 3,$(KERNEL_LINE)),/boot/vmlinuz-$(KVER))
endif
UNAME_R := $(shell uname -r)
NEWEST_KVER := $(shell ls /boot/vmlinuz-*-amd64 2>/dev/null | \
		 sed 's|.*/vmlinuz-||' | sort -V | tail -n 1)
ifneq ($(wildcard /lib/modules/$(UNAME_R)/build/Makefile),)
ifneq ($(wildcard /boot/vmlinuz-$(UNAME_R)),)
KVER ?= $(UNAME_R)
endif
endif
KVER ?= $(NEWEST_KVER)
KDIR ?= $(firstword $(wildcard /lib/modules/$(KVER)/build \
			       /usr/src/linux-headers-$(KVER)) \
		    /lib/modules/$(KVER)/build)
VM_KERNEL ?= /boot/vmlinuz-$(KVER)

# checkpatch.pl and the kselftest headers come from Debian's 6.1 source
# tarball, extracted once into .cache, whichever kernel the module is for.
KSRC_VER := 6.1
KSRC_TAR ?= /usr/src/linux-source-$(KSRC_VER).tar.xz
KSRC := .cache/linux-source-$(KSRC_VER)
KSRC_STAMP := $(KSRC)/.extracted
KSFT_INC := $(CURDIR)/$(KSRC)/tools/testing/selftests

CC ?= gcc
TOOLS_CFLAGS := -O2 -g -Wall -Wextra -Iinclude/uapi $(TOOLS_EXTRA_CFLAGS)
# Single-file tools are tools/NAME.c; xtcp-perf is built from tools/perf/.
TOOLS := $(sort $(patsubst %.c,%,$(wildcard tools/*.c)) tools/xtcp-perf)
PERF_SRCS := $(wildcard tools/perf/*.c)

LINT_FILES = $(wildcard module/*.[ch] module/lib/*.[ch]) include/uapi/linux/xtcp.h

# Benchmark knobs for `make run`, passed into the VM as XTCP_* variables.
# The benchmark boots without slab debugging (it halves loopback throughput
# under TCG); the tests keep it.
BENCH_TIME ?= 5
BENCH_LEN ?= 131072
BENCH_REPEAT ?= 3
BENCH_VM_APPEND ?= slub_debug=-
VM_TIMEOUT ?= 1200
CHECK_VM_TIMEOUT ?= 2400

KBUILD = $(MAKE) -C $(KDIR) M=$(CURDIR)

# The debug kernel (scripts/debug-kernel, cached outside the repository) and
# the module built against it: a mirror of the sources in build/debug, since
# a module built for one kernel does not load on the other (vermagic).
DEBUG_KERNEL_DIR = $(shell scripts/debug-kernel --print-dir)
DEBUG_KDIR ?= $(DEBUG_KERNEL_DIR)/src
DEBUG_OUT := build/debug
DEBUG_VM_TIMEOUT ?= 3000
DEBUG_SCALE ?= 16
FUZZ_TIME ?= 300
FUZZ_VM_TIMEOUT ?=

.PHONY: all module clean-module tools selftests unit lint checkpatch sparse \
	setup check check-kernels run run-vm bench dkms clean distclean ksrc \
	kdir-check vm-selftest \
	debug-kernel module-debug kunit-debug check-debug fuzz packetdrill

all: module tools selftests packetdrill
	$(MAKE) -C tests/unit

kdir-check:
	@test -f $(KDIR)/Makefile || { \
	  echo "no kernel headers in '$(KDIR)' (run scripts/setup, or set KDIR=)"; \
	  exit 1; }

module: kdir-check
	$(KBUILD) modules

debug-kernel:
	scripts/debug-kernel >/dev/null

# Only the sources are linked into build/debug (never the stock objects).
# -g: the kernel has no debug info, the module does, for reports' lines
# ($(DEBUG_KDIR)/scripts/faddr2line build/debug/xtcp.ko FUNC+OFF/LEN).
module-debug:
	@test -f $(DEBUG_KDIR)/Module.symvers || { \
	  echo "no debug kernel build in '$(DEBUG_KDIR)' (make debug-kernel)"; \
	  exit 1; }
	@mkdir -p $(DEBUG_OUT)
	@find Kbuild dkms.conf module include -name Kbuild -o -name dkms.conf \
	  -o -name '*.[ch]' | \
	  while read -r f; do mkdir -p "$$(dirname "$(DEBUG_OUT)/$$f")"; \
	    ln -sfn "$(CURDIR)/$$f" "$(DEBUG_OUT)/$$f"; done
	$(MAKE) -C $(DEBUG_KDIR) M=$(CURDIR)/$(DEBUG_OUT) KCFLAGS=-g modules

# The unit tests as KUnit suites (tests/kunit) against the debug kernel:
# their sources, tests/unit and module/lib linked flat into KUNIT_OUT.
# scripts/tests/debug-selftest builds a second copy with a failing case
# (KUNIT_KCFLAGS=-DXTCP_KUNIT_SELFTEST).
KUNIT_OUT ?= build/debug-kunit
KUNIT_KCFLAGS ?=
KUNIT_SRCS = tests/kunit/Kbuild tests/kunit/kunit_module.c \
	     tests/unit/harness.h $(wildcard tests/unit/test_*.c) \
	     $(wildcard module/lib/*.[ch])

kunit-debug:
	@test -f $(DEBUG_KDIR)/Module.symvers || { \
	  echo "no debug kernel build in '$(DEBUG_KDIR)' (make debug-kernel)"; \
	  exit 1; }
	@mkdir -p $(KUNIT_OUT)
	@for f in $(KUNIT_SRCS); do ln -sfn "$(CURDIR)/$$f" $(KUNIT_OUT)/; done
	$(MAKE) -C $(DEBUG_KDIR) M=$(CURDIR)/$(KUNIT_OUT) W=1 \
	  KCFLAGS="-g $(KUNIT_KCFLAGS)" modules

# Objects of the module only (kbuild's clean sweeps the whole tree).
clean-module:
	rm -f *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers
	find module \( -name '*.o' -o -name '.*.cmd' \) -delete

tools: $(TOOLS) tools/libxtcp-run.so tools/xtcp-run

# xtcp-run: a launcher and the LD_PRELOAD library it loads.
tools/libxtcp-run.so: tools/run/preload.c include/uapi/linux/xtcp.h
	$(CC) $(TOOLS_CFLAGS) -shared -fPIC -o $@ $< -ldl

tools/xtcp-run: tools/run/xtcp-run.sh
	install -m 755 $< $@

tools/%: tools/%.c tools/tool_util.h include/uapi/linux/xtcp.h
	$(CC) $(TOOLS_CFLAGS) -o $@ $<

tools/xtcp-fuzz: tools/xtcp-fuzz.c tools/tool_util.h include/uapi/linux/xtcp.h
	$(CC) $(TOOLS_CFLAGS) -pthread -o $@ $<

tools/xtcp-perf: $(PERF_SRCS) $(wildcard tools/perf/*.h) include/uapi/linux/xtcp.h
	$(CC) $(TOOLS_CFLAGS) -pthread -o $@ $(PERF_SRCS)

ksrc: $(KSRC_STAMP)

$(KSRC_STAMP): $(wildcard $(KSRC_TAR))
	@test -r $(KSRC_TAR) || { \
	  echo "no $(KSRC_TAR) (run scripts/setup)"; exit 1; }
	rm -rf $(KSRC)
	mkdir -p .cache
	tar -xJf $(KSRC_TAR) -C .cache --wildcards \
	  'linux-source-$(KSRC_VER)/scripts/*' \
	  'linux-source-$(KSRC_VER)/tools/testing/selftests/kselftest*'
	touch $@

selftests: $(KSRC_STAMP)
	$(MAKE) -C selftests KSFT_INC=$(KSFT_INC)

# packetdrill (google/packetdrill, GPL-2.0) for selftests/packetdrill.sh:
# a test tool built from its source beside the repository, never copied
# into it, into .cache/packetdrill. Needs flex and bison (scripts/setup).
# A clone without that source builds everything else: the packetdrill
# cases then report themselves skipped, with the reason.
PACKETDRILL_SRC ?= $(abspath $(CURDIR)/../shared/tools/packetdrill)
PACKETDRILL := .cache/packetdrill/packetdrill

packetdrill: $(PACKETDRILL)

$(PACKETDRILL):
	@test -f $(PACKETDRILL_SRC)/packetdrill.c || { \
	  echo "packetdrill: no source in '$(PACKETDRILL_SRC)' (set" \
	    "PACKETDRILL_SRC): its selftests will be skipped"; \
	  exit 0; }
	rm -rf .cache/packetdrill
	mkdir -p .cache
	cp -r $(PACKETDRILL_SRC) .cache/packetdrill
	cd .cache/packetdrill && ./configure >/dev/null && \
	  $(MAKE) -s packetdrill

unit:
	$(MAKE) -C tests/unit run

# Any ERROR, WARNING or CHECK from checkpatch, any warning from sparse fails.
lint: checkpatch sparse

checkpatch: $(KSRC_STAMP)
	@mkdir -p build/logs
	@echo "  CHECKPATCH $(LINT_FILES)"
	@perl $(KSRC)/scripts/checkpatch.pl --strict --no-tree --terse \
	  --show-types -f $(LINT_FILES) >build/logs/checkpatch.log 2>&1; \
	rc=$$?; cat build/logs/checkpatch.log; \
	if [ $$rc -ne 0 ] || grep -qE '(ERROR|WARNING|CHECK):' build/logs/checkpatch.log; \
	then echo "checkpatch: FAILED"; exit 1; fi; echo "checkpatch: clean"

sparse: kdir-check
	@mkdir -p build/logs
	@command -v sparse >/dev/null || { echo "sparse missing (run scripts/setup)"; exit 1; }
	@set -o pipefail; $(KBUILD) C=2 modules 2>&1 | tee build/logs/sparse.log
	@if grep -E '(warning|error):' build/logs/sparse.log; then \
	  echo "sparse: FAILED (see above)"; exit 1; fi

# Installs what is missing (silent when all is there; root for that run).
setup:
	@scripts/setup

# The README's test command; scripts/check does the work and the counting,
# on each kernel of KERNELS (all test kernels when unset). After setup, in
# a new make: the kernels are only known once setup has run.
check: setup
	@$(MAKE) --no-print-directory check-kernels

check-kernels:
	KDIR=$(KDIR) KERNELS="$(KERNELS)" KSFT_INC=$(KSFT_INC) \
	VM_TIMEOUT=$(CHECK_VM_TIMEOUT) MAKE="$(MAKE)" scripts/check

# The same selftests on the debug kernel, then a kmemleak scan and rmmod.
check-debug:
	DEBUG_VM_TIMEOUT=$(DEBUG_VM_TIMEOUT) DEBUG_SCALE=$(DEBUG_SCALE) \
	KSFT_INC=$(KSFT_INC) MAKE="$(MAKE)" scripts/check-debug

# tools/xtcp-fuzz against the debug build of the module, in the VM.
fuzz:
	FUZZ_TIME=$(FUZZ_TIME) FUZZ_VM_TIMEOUT=$(FUZZ_VM_TIMEOUT) \
	MAKE="$(MAKE)" scripts/fuzz

run: setup
	@$(MAKE) --no-print-directory run-vm

run-vm: module tools
	@echo "run: kernel $(KVER)"
	XTCP_BENCH_TIME=$(BENCH_TIME) XTCP_BENCH_LEN=$(BENCH_LEN) \
	XTCP_BENCH_REPEAT=$(BENCH_REPEAT) scripts/vm --timeout $(VM_TIMEOUT) --kernel $(VM_KERNEL) \
	  $(if $(BENCH_VM_APPEND),--append "$(BENCH_VM_APPEND)") -- scripts/bench

# The benchmark matrix (scripts/bench-matrix in the VM, then
# scripts/bench-report): loopback, veth at MTU 1500 and 9000, netem delay and
# loss; stream, rr, crr and memory per idle connection, on native TCP, xtcp
# and AF_UNIX. Writes BENCHMARKS.md (between its markers) and the chart.
MATRIX_TIME ?= 3
MATRIX_REPEAT ?= 3
MATRIX_VM_TIMEOUT ?= 5400
bench: module tools
	@rm -rf build/vm-out/bench
	XTCP_BENCH_TIME=$(MATRIX_TIME) XTCP_BENCH_REPEAT=$(MATRIX_REPEAT) \
	scripts/vm --timeout $(MATRIX_VM_TIMEOUT) --kernel $(VM_KERNEL) \
	  $(if $(BENCH_VM_APPEND),--append "$(BENCH_VM_APPEND)") \
	  -- scripts/bench-matrix; rc=$$?; \
	scripts/bench-report build/vm-out/bench BENCHMARKS.md \
	  docs/bench-ratios.png "make bench MATRIX_TIME=$(MATRIX_TIME) MATRIX_REPEAT=$(MATRIX_REPEAT)" \
	  || rc=1; exit $$rc

# DKMS (dkms.conf): the sources staged as a DKMS source tree, then added and
# built in a private tree for each test kernel (KERNELS, all when unset).
# Builds only: nothing is installed on the host or loaded. To install on a
# host: dkms add build/dkms/src/xtcp-VERSION, then dkms install xtcp/VERSION.
DKMS_VERSION = $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
DKMS_OUT := build/dkms
dkms:
	@command -v dkms >/dev/null || { echo "dkms missing (run scripts/setup)"; exit 1; }
	rm -rf $(DKMS_OUT)
	mkdir -p $(DKMS_OUT)/src/xtcp-$(DKMS_VERSION) $(DKMS_OUT)/tree $(DKMS_OUT)/install
	cp -r Kbuild dkms.conf module include $(DKMS_OUT)/src/xtcp-$(DKMS_VERSION)/
	find $(DKMS_OUT)/src \( -name '*.o' -o -name '.*.cmd' \) -delete
	set -eo pipefail; trees="--dkmstree $(CURDIR)/$(DKMS_OUT)/tree \
	  --sourcetree $(CURDIR)/$(DKMS_OUT)/src \
	  --installtree $(CURDIR)/$(DKMS_OUT)/install"; \
	kernels=$$(scripts/kernels $(KERNELS)); \
	dkms $$trees add -m xtcp -v $(DKMS_VERSION) </dev/null; \
	echo "$$kernels" | while read -r kver kdir image; do \
	  dkms $$trees build -m xtcp -v $(DKMS_VERSION) -k $$kver \
	    --kernelsourcedir $$kdir </dev/null; \
	  ko=$$(find $(DKMS_OUT)/tree/xtcp/$(DKMS_VERSION)/$$kver -name 'xtcp.ko*' | head -n 1); \
	  test -n "$$ko" || { echo "dkms: no xtcp.ko for $$kver"; exit 1; }; \
	  modinfo -F vermagic $$ko | grep -q "^$$kver " || \
	    { echo "dkms: $$ko is not for $$kver"; exit 1; }; \
	  test "$$(modinfo -F version $$ko)" = "$(DKMS_VERSION)" || \
	    { echo "dkms: $$ko has no version $(DKMS_VERSION)"; exit 1; }; \
	  echo "dkms: $$ko ($$kver, version $(DKMS_VERSION))"; \
	done

# Infrastructure self-test: a WARN in the guest must fail scripts/vm.
vm-selftest: kdir-check
	KDIR=$(KDIR) VM_KERNEL=$(VM_KERNEL) scripts/tests/vm-selftest

clean:
	-test -f $(KDIR)/Makefile && $(KBUILD) clean
	rm -f $(TOOLS)
	-$(MAKE) -C selftests clean
	-$(MAKE) -C tests/unit clean
	rm -rf build
	-test -f scripts/tests/kwarn/Makefile && \
	  $(MAKE) -C $(KDIR) M=$(CURDIR)/scripts/tests/kwarn clean

distclean: clean
	rm -rf .cache
