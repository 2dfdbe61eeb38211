#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Turn bench/results/<kernel>.csv into bench/results/table.txt (printed too),
# bench/results/ratios.png, and the generated part of bench/RESULTS.md
# (between its markers; the notes outside them are kept).
# Usage: bench-report.sh ACCEL KERNEL...
set -eo pipefail
. "$(dirname "$0")/common.sh"

accel=$1
shift
results=$TOP/bench/results
table=$results/table.txt
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
{
	echo "memalloc benchmarks, $(date -u +%Y-%m-%d): guests of 4 GiB and 2 vCPUs"
	echo "under $accel on $(nproc) cores of $cpu."
	echo "Median of 5 runs [min-max]; ratio = memalloc / baseline, same boot."
	for k in "$@"; do
		echo
		case $k in
		perf) echo "kernel: perf (testbed/perf.config, cma=320M)" ;;
		perf-noinit) echo "kernel: perf-noinit (the same, booted with init_on_alloc=0)" ;;
		*) echo "kernel: stock (Debian $STOCK_RELEASE)" ;;
		esac
		awk -F, 'function size(b) {
				if (b >= 1073741824) return b / 1073741824 "G";
				if (b >= 1048576) return b / 1048576 "M";
				return b / 1024 "K" }
			function num(v, u) {
				if (u == "success" || v == "") return v
				if (u == "s") {
					if (v < 1e-3) return sprintf("%.1fus", v * 1e6);
					if (v < 1) return sprintf("%.2fms", v * 1e3);
					return sprintf("%.2fs", v) }
				return sprintf("%.4g", v) }
			NR > 1 {
				base = $5 == "-" ? "" : $5
				line = sprintf("%-22s %5s %-11s %-18s %-7s %10s", $2, size($3),
					$4, base, $6, num($7, $6))
				if ($8 != "")
					line = line sprintf(" [%s-%s]", num($8, $6), num($9, $6))
				if ($13 != "")
					line = line sprintf("  vs %s  ratio %.2f", num($10, $6), $13)
				if ($14 != "")
					line = line sprintf("  target %s: %s", $14, $15 == "yes" ? "met" : "MISSED")
				print line
			}' "$results/$k.csv"
	done
} >"$table"
cat "$table"

# The plot: every ratio, on a log scale, 1.0 marked; a panel per kernel.
plots=()
for k in "$@"; do
	awk -F, 'NR > 1 && $13 != "" && $6 != "faults" {
		s = $3 >= 1073741824 ? $3 / 1073741824 "G" : $3 >= 1048576 ? $3 / 1048576 "M" : $3 / 1024 "K"
		printf "\"%s %s %s/%s\" %s\n", substr($2, 1, 1), s, $4, $5, $13 }' \
		"$results/$k.csv" >"$results/ratios-$k.dat"
	plots+=("set title \"$k kernel: memalloc / baseline, median of 5 in one boot (times: below 1 is faster; rates: above 1 is more)\"
plot \"$results/ratios-$k.dat\" using 0:2:xtic(1) with boxes notitle")
done
{
	echo "set terminal pngcairo size 1800,$((720 * $#)) noenhanced font \",9\""
	echo "set output \"$results/ratios.png\""
	echo "set multiplot layout $#,1"
	echo "set logscale y"
	echo "set style fill solid 0.6"
	echo "set boxwidth 0.7"
	echo "set xtics rotate by 60 right"
	echo "set grid ytics"
	echo "set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb \"red\" front"
	printf '%s\n' "${plots[@]}"
	echo "unset multiplot"
} | gnuplot
for k in "$@"; do rm -f "$results/ratios-$k.dat"; done

# bench/RESULTS.md: the part between its markers is this run's; the notes
# around it are written by hand and kept. Made with the markers if absent.
out=$TOP/bench/RESULTS.md
begin='<!-- make bench writes from here to the end marker; edit outside it -->'
end='<!-- end of what make bench writes -->'
part=$(mktemp)
kernels=
for k in "$@"; do
	case $k in
	stock) kernels="$kernels, stock (Debian $STOCK_RELEASE)" ;;
	*) kernels="$kernels, $k" ;;
	esac
done
{
	echo "$begin"
	echo
	echo "Written by \`make bench\` on $(date -u +%Y-%m-%d), on the kernels ${kernels#, }."
	echo
	sed 's/^/    /; s/^ *$//' "$table"
	echo
	echo "Plot: [results/ratios.png](results/ratios.png); the figures: results/KERNEL.csv."
	echo
	echo "$end"
} >"$part"
if [ -f "$out" ] && grep -qxF "$begin" "$out" && grep -qxF "$end" "$out"; then
	awk -v part="$part" -v b="$begin" -v e="$end" '
		$0 == b { while ((getline l < part) > 0) print l; skip = 1; next }
		$0 == e { skip = 0; next }
		!skip' "$out" >"$out.new"
else
	{
		echo "# memalloc benchmark results"
		echo
		echo "\`make bench\` (testbed/bench.sh) writes this file; see CONTRIBUTING.md."
		echo
		cat "$part"
	} >"$out.new"
fi
mv "$out.new" "$out"
rm -f "$part"
