#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: boot the benchmark kernel (testbed/perf.config: Debian's 6.1
# source with CMA, dma-buf heaps, udmabuf) and Debian's stock 6.12 kernel
# in guests of 2 vCPUs, run bench/memalloc_bench there, and write what it
# measured under bench/results/: a CSV per kernel, the notes it printed, a
# table (also on the terminal), a PNG plot per kernel, and the generated
# part of bench/RESULTS.md. Usage:
#   bench.sh [perf] [stock-6.12] [perf-noinit] [perf-nomemcg] [stock]
# (by default perf and stock-6.12). perf-noinit is the benchmark kernel
# booted with init_on_alloc=0, which Debian's kernels turn on: the page
# allocator then zeroes no page itself; perf-nomemcg is it booted with
# cgroup_disable=memory, so that no page is charged to a memory cgroup
# (memalloc charges every page, the 6.1 system heap none); stock is
# Debian's 6.1 kernel.
# Environment:
#   BENCH_CASES="15" runs only those cases of bench/memalloc_bench.c.
#   BENCH_QUICK=1 takes a few samples of each, to see that everything runs:
#     its figures mean nothing, and it writes to build/bench-quick/ (results/
#     and RESULTS.md) unless BENCH_RESULTS and BENCH_MD say where.
#   BENCH_RESULTS, BENCH_MD: where the results and RESULTS.md go.
#   BENCH_TIMEOUT: a guest's time limit in seconds (7200).
#   BENCH_MODULE_ARGS: parameters for insmod, e.g. "pool_size=0".
set -eo pipefail
. "$(dirname "$0")/common.sh"

deps gnuplot-nox || exit 1
if [ -n "${BENCH_QUICK:-}" ] && [ "$BENCH_QUICK" != 0 ]; then
	quick=1
	: "${BENCH_RESULTS:=$TOP/build/bench-quick/results}"
	: "${BENCH_MD:=$TOP/build/bench-quick/RESULTS.md}"
else
	quick=
fi
export BENCH_RESULTS=${BENCH_RESULTS:-$TOP/bench/results}
export BENCH_MD=${BENCH_MD:-$TOP/bench/RESULTS.md}
results=$BENCH_RESULTS
mkdir -p "$results"
make -s -C "$TOP/bench" >/dev/null

# bench_kernel NAME KDIR IMAGE MEMORY APPEND
bench_kernel() {
	local name=$1 kdir=$2 image=$3 mem=$4 append=$5 b=$TOP/build/bench-$1 ko prealloc
	[ -r "$image" ] || die "no kernel image $image for $name"
	rm -rf "$b" && mkdir -p "$b/payload"
	ko=$(build_module "$kdir" "$b/src")
	cp "$ko" "$TOP/bench/memalloc_bench" "$b/payload/"
	cat >"$b/payload/run" <<RUN
insmod /opt/memalloc/memalloc.ko ${BENCH_MODULE_ARGS:-} || echo "@@ insmod failed"
# The pool's statistics are in debugfs.
[ -e /sys/kernel/debug/memalloc ] || mount -t debugfs none /sys/kernel/debug
# 2 MiB hugetlb pages for the peers (1 GiB ones come from the command line).
echo 200 >/proc/sys/vm/nr_hugepages
# udmabuf refuses buffers over 64 MiB unless told.
[ -w /sys/module/udmabuf/parameters/size_limit_mb ] &&
	echo 1024 >/sys/module/udmabuf/parameters/size_limit_mb
# The CSV on stdout; notes on stderr, as they come, marked.
echo "@@ csv begin"
{ BENCH_QUICK=$quick /opt/memalloc/memalloc_bench $name ${BENCH_CASES:-} 2>&1 1>&3 |
	sed 's/^/@@ note: /'; } 3>&1
echo "@@ csv end"
RUN
	# -mem-prealloc: the host backs all guest memory before the first
	# run, so no subject pays for the host's first touch of its pages. A
	# quick run spares the host that memory.
	prealloc=-mem-prealloc
	[ -z "$quick" ] || prealloc=
	GUEST_MEM=$mem GUEST_APPEND=$append GUEST_QEMU=$prealloc GUEST_TIMEOUT=${BENCH_TIMEOUT:-7200} \
		"$TOP/testbed/guest.sh" "$image" \
		"$b/payload" "$b" || die "the $name guest did not finish; see $b/console.log"
	sed -n '/^@@ csv begin/,/^@@ csv end/p' "$b/results.log" | grep -v '^@@' \
		>"$results/$name.csv"
	sed -n 's/^@@ note: //p' "$b/results.log" >"$results/$name.notes"
	[ "$(wc -l <"$results/$name.csv")" -gt 1 ] ||
		die "no results from the $name guest; see $b/results.log"
	sed "s/^/# $name: /" "$results/$name.notes" >&2
}

kernels=${*:-perf stock-6.12}
for k in $kernels; do
	case $k in
	perf)
		dk=$("$TOP/testbed/debug-kernel.sh" perf)
		bench_kernel perf "$dk" "$dk/arch/x86/boot/bzImage" 4G "cma=320M" ;;
	perf-noinit)
		dk=$("$TOP/testbed/debug-kernel.sh" perf)
		bench_kernel perf-noinit "$dk" "$dk/arch/x86/boot/bzImage" 4G \
			"cma=320M init_on_alloc=0" ;;
	perf-nomemcg)
		dk=$("$TOP/testbed/debug-kernel.sh" perf)
		bench_kernel perf-nomemcg "$dk" "$dk/arch/x86/boot/bzImage" 4G \
			"cma=320M cgroup_disable=memory" ;;
	stock)
		bench_kernel stock "/lib/modules/$STOCK_RELEASE/build" \
			"/boot/vmlinuz-$STOCK_RELEASE" 4G "" ;;
	stock-6.12)
		# 8 GiB, two 1 GiB hugetlb pages reserved at boot for the peer of
		# 1 GiB mappings, and room left for a 1 GiB contiguous dataspace.
		[ -n "$STOCK612_RELEASE" ] || die "no linux-headers-6.12.*-amd64 in /usr/src"
		bench_kernel stock-6.12 "/lib/modules/$STOCK612_RELEASE/build" \
			"/boot/vmlinuz-$STOCK612_RELEASE" 8G "hugepagesz=1G hugepages=2" ;;
	*) die "unknown kernel $k" ;;
	esac
done

accel=${MEMALLOC_ACCEL:-$("$TOP/testbed/accel.sh")}
"$TOP/testbed/bench-report.sh" "$accel" $kernels
