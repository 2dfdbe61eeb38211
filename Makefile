# SPDX-License-Identifier: GPL-2.0
#
# memalloc: make builds the module (against KDIR), the library, the tool and
# the selftests; make check runs the whole test bed; make demo shows it;
# make soak runs the fuzzer alone for an hour on the debug kernel.

KDIR ?= $(wildcard /lib/modules/$(shell uname -r)/build)
PREFIX ?= /usr/local

all: module lib tool selftests

module:
ifeq ($(KDIR),)
	@echo "memalloc: no kernel build tree at /lib/modules/$$(uname -r)/build." >&2
	@echo "Set KDIR to one, e.g. make KDIR=/lib/modules/6.1.0-56-amd64/build" >&2
	@echo "(Debian: apt-get install linux-headers-amd64)." >&2
	@exit 1
endif
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

lib:
	$(MAKE) -C libmemalloc

tool: lib
	$(MAKE) -C tools

# The kselftest harness comes from Debian's linux-source-6.1 (KSRC), which
# the test bed extracts once into its cache.
selftests: lib
	$(MAKE) -C selftests KSRC="$${KSRC:-$$(testbed/src-dir.sh)}"

check:
	testbed/check.sh

# The sequence fuzzer alone in the debug guest: SOAK_SECONDS (3600), SOAK_SEED.
soak:
	testbed/soak.sh

demo:
	testbed/demo.sh

# Benchmarks against the peers in guests; results in bench/results/.
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

examples: lib
	$(MAKE) -C examples LIBMEMALLOC=tree

clean:
	$(if $(KDIR),$(MAKE) -C $(KDIR) M=$(CURDIR) clean)
	$(MAKE) -C libmemalloc clean
	$(MAKE) -C tools clean
	$(MAKE) -C examples clean
	$(MAKE) -C bench clean
	rm -f selftests/*_test selftests/l4re_example selftests/memalloc
	rm -rf build

.PHONY: all module lib tool selftests check soak demo bench load unload demo-here \
	modules_install install examples clean
