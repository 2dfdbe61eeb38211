#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make soak: the sequence fuzzer alone, for a long run in a guest of the
# debug kernel (KASAN, lockdep, kmemleak), built and booted as check.sh
# does (it runs check.sh). SOAK_SECONDS bounds the run (3600), SOAK_SEED
# seeds it (default: random), SOAK_KERNEL picks the guest: debug (6.1),
# debug-6.12, stock or stock-6.12, as check.sh names them.
# Reports the operations run, the seed, and whether the kernel log had a
# report (KASAN, lockdep, WARNING, BUG, ...) or kmemleak a leak; ends with a
# summary line and exits non-zero on any failure.
set -o pipefail
. "$(dirname "$0")/common.sh"

secs=${SOAK_SECONDS:-3600}
seed=${SOAK_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}
kernel=${SOAK_KERNEL:-debug}
case $secs in '' | *[!0-9]*) die "SOAK_SECONDS is not a number of seconds: $secs" ;; esac
case $seed in '' | *[!0-9]*) die "SOAK_SEED is not a number: $seed" ;; esac
case $kernel in
debug | debug-6.12 | stock | stock-6.12) ;;
*) die "SOAK_KERNEL is debug, debug-6.12, stock or stock-6.12, not $kernel" ;;
esac

mkdir -p "$TOP/build"
out=$TOP/build/soak-$kernel.log
note "soak: memalloc_fuzz_test for $secs s on the $kernel kernel, seed $seed"
# Booting, loading, the run's teardown and kmemleak's scans fit in 30 minutes.
MEMALLOC_TESTS=memalloc_fuzz_test MEMALLOC_FUZZ_SECONDS=$secs MEMALLOC_FUZZ_SEED=$seed \
	MEMALLOC_GUEST_TIMEOUT=$((secs + 1800)) "$TOP/testbed/check.sh" "$kernel" |
	tee "$out"
rc=$?

res=$TOP/build/$kernel/results.log
ops=$(sed -n 's/.* \([0-9][0-9]*\) operations, seed [0-9][0-9]*$/\1/p' "$res" 2>/dev/null |
	tail -n 1)
ran=$(sed -n 's/.* ran \([0-9][0-9]*\) s$/\1/p' "$res" 2>/dev/null | tail -n 1)
verdict() { # PATTERN: passed, FAILED, or none, from check.sh's result line
	local line
	line=$(grep -E "^(not )?ok - $kernel: $1" "$out" | tail -n 1)
	case $line in
	"ok - "*"# SKIP"*) echo skipped ;;
	"ok - "*) echo passed ;;
	"not ok - "*) echo FAILED ;;
	*) echo none ;;
	esac
}
fuzz=$(verdict 'fuzz\.random_programs')
klog=$(verdict 'kernel log has no report')
leak=$(verdict 'kmemleak finds no leak')
end=$(verdict 'guest ran to the end')

[ "$klog" = FAILED ] && note "kernel reports: $TOP/build/$kernel/console.log"
if [ "$fuzz" != passed ]; then
	# The fuzzer's verdict: seed, thread, operation and the call's result.
	grep -o "seed $seed, thread .*" "$res" 2>/dev/null | sed 's/^/# /'
	note "fuzzer output: $res"
fi
case $klog in passed) klog="no report" ;; FAILED) klog=REPORT ;; *) klog="not judged" ;; esac
case $leak in passed) leak="no leak" ;; FAILED) leak=LEAK ;; *) leak="not in this kernel" ;; esac
[ "$rc" = 0 ] && [ "$fuzz" = passed ] && status=ok || status=FAILED
echo "soak $status: ${ops:-no} operations in ${ran:-?} of $secs s on the $kernel kernel," \
	"seed $seed; fuzzer $fuzz, kernel log: $klog, kmemleak: $leak, guest ran to the end: $end"
[ "$status" = ok ]
