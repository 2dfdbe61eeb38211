# SPDX-License-Identifier: GPL-2.0
#
# memalloc: make builds the module (against KDIR, when there is one), the
# library and the tool, as any user and inside this tree only; make
# selftests builds the selftests (KSRC); make check runs the whole test bed
# (as root: it installs what it lacks); make demo shows it; make soak runs
# the fuzzer alone for an hour on the debug kernel.

KDIR ?= $(wildcard /lib/modules/$(shell uname -r)/build)
PREFIX ?= /usr/local

# Without a kernel build tree the module is skipped, with a note: the
# library and the tool need none.
all: $(if $(KDIR),module,module-skipped) lib tool

module:
ifeq ($(KDIR),)
	@echo "memalloc: no kernel build tree at /lib/modules/$$(uname -r)/build." >&2
	@echo "Set KDIR to one, e.g. make KDIR=/lib/modules/6.1.0-57-amd64/build" >&2
	@echo "(Debian: apt-get install linux-headers-amd64)." >&2
	@exit 1
endif
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

module-skipped:
	@echo "memalloc: module SKIPPED: no kernel build tree at /lib/modules/$$(uname -r)/build" >&2
	@echo "  (Debian: apt-get install linux-headers-$$(uname -r); or make KDIR=<tree>)." >&2
	@echo "  Building the library and the tool only." >&2

lib:
	$(MAKE) -C libmemalloc

tool: lib
	$(MAKE) -C tools

# The selftests take the kselftest harness and lib.mk from a kernel source
# tree: KSRC. make check finds its own (testbed/src-dir.sh, as root, extracts
# Debian's linux-source-6.1 into /var/cache/memalloc and prints where).
selftests: $(if $(KSRC),lib)
ifeq ($(KSRC),)
	@echo "memalloc: make selftests needs KSRC, a kernel source tree (its" >&2
	@echo "tools/testing/selftests has the kselftest harness and lib.mk), e.g." >&2
	@echo "  make selftests KSRC=/path/to/linux-6.1" >&2
	@echo "On Debian, as root, testbed/src-dir.sh installs and extracts linux-source-6.1" >&2
	@echo "and prints the tree's path (with its UAPI headers beside it, as KSRC-uapi):" >&2
	@echo "  make selftests KSRC=\$$(testbed/src-dir.sh)" >&2
	@exit 1
endif
	$(MAKE) -C selftests KSRC=$(KSRC)

check:
	testbed/check.sh

# The sequence fuzzer alone in the debug guest: SOAK_SECONDS (3600), SOAK_SEED.
soak:
	testbed/soak.sh

demo:
	testbed/demo.sh

# Benchmarks against the peers in guests; results in bench/results/ and
# bench/RESULTS.md.
bench:
	testbed/bench.sh

load: module tool
	tools/memalloc load module/memalloc.ko

unload: tool
	tools/memalloc unload

# After make load, on a machine that can load modules.
demo-here: tool
	tools/demo.sh

modules_install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

# The library (.so, .a, headers with the UAPI one, .pc), the tool and the
# man pages, under $(DESTDIR)$(PREFIX).
install: lib tool
	$(MAKE) -C libmemalloc install PREFIX=$(PREFIX)
	$(MAKE) -C tools install PREFIX=$(PREFIX)
	$(MAKE) -C man install PREFIX=$(PREFIX)

# What the packages ship for the system, for a module installed by hand:
# the udev rule that gives /dev/memalloc to the group memalloc (0660), the
# sysusers.d entry that makes the group, the modules-load.d entry that
# loads the module at boot. Then, as root: systemd-sysusers memalloc.conf.
install-system:
	install -D -m 644 system/udev/60-memalloc.rules \
		$(DESTDIR)/usr/lib/udev/rules.d/60-memalloc.rules
	install -D -m 644 system/sysusers.d/memalloc.conf \
		$(DESTDIR)/usr/lib/sysusers.d/memalloc.conf
	install -D -m 644 system/modules-load.d/memalloc.conf \
		$(DESTDIR)/usr/lib/modules-load.d/memalloc.conf

examples: lib
	$(MAKE) -C examples LIBMEMALLOC=tree

# Only what the module's build leaves (the DKMS build cleans with it too).
clean-module:
	$(if $(KDIR),$(MAKE) -C $(KDIR) M=$(CURDIR) clean)

clean: clean-module
	$(MAKE) -C libmemalloc clean
	$(MAKE) -C tools clean
	$(MAKE) -C examples clean
	$(MAKE) -C bench clean
	rm -f selftests/*_test selftests/l4re_example selftests/memalloc
	rm -rf build

.PHONY: all module module-skipped clean-module lib tool selftests check soak demo bench load unload demo-here \
	modules_install install install-system examples clean
