#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: boot the benchmark kernel (testbed/perf.config: CMA, dma-buf
# heaps) and Debian's stock kernel, each in a guest of 4 GiB and 2 vCPUs,
# run bench/memalloc_bench there, and write what it measured under
# bench/results/: a CSV per kernel, a table (also on the terminal and in
# bench/RESULTS.md) and a PNG plot of the ratios. Usage:
#   bench.sh [perf] [perf-noinit] [stock]
# BENCH_CASES="7" runs only those cases of bench/memalloc_bench.c.
# perf-noinit is the benchmark kernel booted with init_on_alloc=0, which
# Debian's kernels turn on: the page allocator then zeroes no page itself.
set -eo pipefail
. "$(dirname "$0")/common.sh"

deps gnuplot-nox || exit 1
results=$TOP/bench/results
mkdir -p "$results"
make -s -C "$TOP/bench" >/dev/null

# bench_kernel NAME KDIR IMAGE APPEND
bench_kernel() {
	local name=$1 kdir=$2 image=$3 append=$4 b=$TOP/build/bench-$1 ko
	rm -rf "$b" && mkdir -p "$b/payload"
	ko=$(build_module "$kdir" "$b/src")
	cp "$ko" "$TOP/bench/memalloc_bench" "$b/payload/"
	cat >"$b/payload/run" <<RUN
insmod /opt/memalloc/memalloc.ko || echo "@@ insmod failed"
echo 200 >/proc/sys/vm/nr_hugepages
echo "@@ csv begin"
/opt/memalloc/memalloc_bench $name ${BENCH_CASES:-}
echo "@@ csv end"
RUN
	# -mem-prealloc: the host backs all guest memory before the first
	# run, so no subject pays for the host's first touch of its pages.
	GUEST_APPEND=$append GUEST_QEMU=-mem-prealloc GUEST_TIMEOUT=3600 \
		"$TOP/testbed/guest.sh" "$image" \
		"$b/payload" "$b" || die "the $name guest did not finish; see $b/console.log"
	sed -n '/^@@ csv begin/,/^@@ csv end/p' "$b/results.log" | grep -v '^@@' \
		>"$results/$name.csv"
	[ "$(wc -l <"$results/$name.csv")" -gt 1 ] ||
		die "no results from the $name guest; see $b/results.log"
}

kernels=${*:-perf perf-noinit stock}
for k in $kernels; do
	case $k in
	perf)
		dk=$("$TOP/testbed/debug-kernel.sh" perf)
		bench_kernel perf "$dk" "$dk/arch/x86/boot/bzImage" "cma=320M" ;;
	perf-noinit)
		dk=$("$TOP/testbed/debug-kernel.sh" perf)
		bench_kernel perf-noinit "$dk" "$dk/arch/x86/boot/bzImage" \
			"cma=320M init_on_alloc=0" ;;
	stock)
		bench_kernel stock "/lib/modules/$STOCK_RELEASE/build" \
			"/boot/vmlinuz-$STOCK_RELEASE" "" ;;
	*) die "unknown kernel $k" ;;
	esac
done

accel=${MEMALLOC_ACCEL:-$("$TOP/testbed/accel.sh")}
"$TOP/testbed/bench-report.sh" "$accel" $kernels
