#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Turn $BENCH_RESULTS/<kernel>.csv (bench/results unless given) into
# table.txt there (printed too), a plot <kernel>.png per kernel, and the
# generated part of $BENCH_MD (bench/RESULTS.md unless given; between its
# markers, the notes outside them are kept): per kernel, a summary of
# memalloc against the best peer of each job with the targets, the plot,
# and every row. Usage: bench-report.sh ACCEL KERNEL...
set -eo pipefail
. "$(dirname "$0")/common.sh"

accel=$1
shift
results=${BENCH_RESULTS:-$TOP/bench/results}
out=${BENCH_MD:-$TOP/bench/RESULTS.md}
table=$results/table.txt
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
day=$(date -u +%Y-%m-%d)

describe() { # KERNEL: how it was booted
	case $1 in
	perf) echo "perf: testbed/perf.config (Debian's linux-source-6.1 with CMA, dma-buf heaps, udmabuf), cma=320M, guest of 4 GiB" ;;
	perf-noinit) echo "perf-noinit: the same, booted with init_on_alloc=0, guest of 4 GiB" ;;
	perf-nomemcg) echo "perf-nomemcg: the same, booted with cgroup_disable=memory, guest of 4 GiB" ;;
	stock) echo "stock: Debian $STOCK_RELEASE, guest of 4 GiB" ;;
	stock-6.12) echo "stock-6.12: Debian $STOCK612_RELEASE, guest of 8 GiB, hugepagesz=1G hugepages=2" ;;
	*) echo "$1" ;;
	esac
}

# report MODE CSV: the rows of one kernel's CSV as MODE says: text (every
# row, for table.txt), full (every row, a markdown table), summary (the
# best peer of each job and its targets, a markdown table), plot (the
# summary's ratios, for gnuplot).
#
# The summary: rows that carry a job, grouped by case, size and subject;
# of each group the row whose baseline did best (the least time, the most
# operations per second; the memset floor is no peer), and every row of
# it with a target.
report() {
	awk -F, -v mode="$1" '
	function size(b) {
		if (b >= 1073741824) return b / 1073741824 "G"
		if (b >= 1048576) return b / 1048576 "M"
		return b / 1024 "K" }
	function num(v, u) {
		if (v == "" || u == "success" || u == "errno") return v
		if (u == "s") {
			if (v < 1e-3) return sprintf("%.1fus", v * 1e6)
			if (v < 1) return sprintf("%.2fms", v * 1e3)
			return sprintf("%.2fs", v) }
		if (u == "ops/s") return sprintf("%.0f/s", v)
		return sprintf("%.4g", v) }
	function met(m) { return m == "yes" ? "met" : m == "no" ? "MISSED" : "" }
	function better(i, j) {	# whether row i has a better baseline than row j
		if (unit[i] == "ops/s") return bp50[i] > bp50[j]
		return bp50[i] < bp50[j] }
	NR == 1 { next }
	{
		n++
		kase[n] = $2; sz[n] = size($3); subj[n] = $4; base[n] = $5; unit[n] = $6
		cnt[n] = $7; p50[n] = $8; p90[n] = $9; p99[n] = $10; lo[n] = $11; hi[n] = $12
		bn[n] = $13; bp50[n] = $14; bp99[n] = $16; ratio[n] = $19; r99[n] = $20
		target[n] = $21; m[n] = $22; job[n] = $23
		if (job[n] != "") {
			g = kase[n] SUBSEP sz[n] SUBSEP subj[n]
			if (!(g in best)) { order[++groups] = g; best[g] = n }
			else if (base[best[g]] == "memset" || (base[n] != "memset" && better(n, best[g])))
				best[g] = n
			members[g] = members[g] " " n
		}
	}
	function val(i) {
		if (unit[i] == "success") return p50[i] "/" cnt[i]
		return num(p50[i], unit[i]) }
	function tail(i) {	# p99, where there is a distribution
		if (unit[i] == "success" || unit[i] == "errno") return ""
		return num(p99[i], unit[i]) }
	function bval(i) {
		if (unit[i] == "success") return bp50[i] == "" ? "" : bp50[i] "/" bn[i]
		return num(bp50[i], unit[i]) }
	function text(i,   line) {
		line = sprintf("%-26s %5s %-22s %-18s %-7s n=%-4s %10s", kase[i], sz[i], subj[i],
			base[i] == "-" ? "" : base[i], unit[i], cnt[i], val(i))
		if (unit[i] != "success" && unit[i] != "errno")
			line = line sprintf(" p99 %9s [%s-%s]", num(p99[i], unit[i]),
				num(lo[i], unit[i]), num(hi[i], unit[i]))
		if (ratio[i] != "")
			line = line sprintf("  vs %s p99 %s  ratio %.2f (p99 %.2f)",
				num(bp50[i], unit[i]), num(bp99[i], unit[i]), ratio[i], r99[i])
		else if (unit[i] == "success" && bp50[i] != "")
			line = line "  vs " bval(i)
		if (target[i] != "")
			line = line sprintf("  target %s: %s", target[i], met(m[i]))
		print line }
	function full(i) {
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			kase[i], sz[i], subj[i], base[i], unit[i], cnt[i], val(i),
			tail(i), tail(i) == "" ? "" : num(lo[i], unit[i]) "-" num(hi[i], unit[i]),
			bval(i), num(bp99[i], unit[i]),
			ratio[i] == "" ? "" : sprintf("%.2f", ratio[i]),
			r99[i] == "" ? "" : sprintf("%.2f", r99[i]), target[i], met(m[i]) }
	function summary(i) {
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			job[i], sz[i], subj[i], val(i), tail(i),
			base[i] == "-" ? "(none)" : base[i], bval(i), num(bp99[i], unit[i]),
			ratio[i] == "" ? "" : sprintf("%.2f", ratio[i]),
			r99[i] == "" ? "" : sprintf("%.2f", r99[i]), target[i], met(m[i]) }
	function plot(i) {
		if (ratio[i] == "") return
		printf "\"%s %s %s/%s\" %s %s\n", kase[i], sz[i], subj[i], base[i], ratio[i], r99[i] }
	function picked(g, f,   k, list, i) {	# the summary rows of group g, to f
		k = split(members[g], list, " ")
		for (i = 1; i <= k; i++)
			if (list[i] == best[g] || target[list[i]] != "")
				if (f == "plot") plot(list[i]); else summary(list[i]) }
	END {
		if (mode == "text") for (i = 1; i <= n; i++) text(i)
		if (mode == "full") {
			print "| case | size | subject | baseline | unit | n | p50 | p99 | min-max | base p50 | base p99 | ratio | ratio p99 | target | |"
			print "|---|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|"
			for (i = 1; i <= n; i++) full(i)
		}
		if (mode == "summary") {
			print "| job | size | memalloc | p50 | p99 | against | p50 | p99 | ratio | ratio p99 | target | |"
			print "|---|---|---|--:|--:|---|--:|--:|--:|--:|---|---|"
		}
		if (mode == "summary" || mode == "plot")
			for (j = 1; j <= groups; j++) picked(order[j], mode)
	}' "$2"
}

method="Each subject, memalloc's or a peer's, runs one operation in turn, round
after round, in one boot; p50 and p99 are nearest-rank percentiles of
the per-operation times (n samples; of 30 or fewer, p99 is the largest),
ratio is memalloc's p50 over the baseline's, ratio p99 the same of the
p99s. Rates (ops/s) are per run, and their p99 is the rate 99% of runs
reached. The pool of zeroed chunks: pool-warm means it was full (and its
thread idle) before each operation; pool-drained that it was emptied
before each one (pool_size set to 0 and back), so the allocation finds no
chunk, pays the look-up and queues the refill, which runs beside it;
pool-off that pool_size was 0. Every other subject runs with the pool
warm. The setup of each state is outside the timed part. Cases: 1 the
allocation alone (its free not timed), 2 allocate + map + touch every
page + unmap + free, 3 first touch of 64 MiB, 4 mappings of 1 GiB, 5
contiguous blocks out of fragmented memory (each attempt frees its block
before the next, so the first attempt meets the fragmentation, the
others memory as the earlier ones left it), 6 processes allocating and
freeing 1 MiB side by side, 7 a contiguous request that cannot be met,
8 the pinned cycle of case 2 in its parts (allocation, mmap, touch,
munmap with the free) against the system heap's, with the pool off, warm,
and warm with its refill waited for after the allocation (against warm
too); and the heap, pool off and pool warm after the CPU was idle 5 ms,
against the heap after idle (the waits between operations spin: under
emulation an operation that begins on a CPU just idle takes up to three
times as long); its subjects take turns in an order shuffled each round.
The short table of each kernel shows, of each job, memalloc against its best
peer (the least time, or the most operations per second; the memset
floor is no peer), and every row that has a target."

{
	echo "memalloc benchmarks, $day: guests of 2 vCPUs under $accel on $(nproc) cores of $cpu."
	echo "$method"
	for k in "$@"; do
		echo
		echo "kernel $(describe "$k")"
		report text "$results/$k.csv"
	done
} >"$table"
cat "$table"

# A plot per kernel: the summary's ratios, p50 and p99, on a log scale,
# 1.0 marked.
for k in "$@"; do
	dat=$results/$k.dat
	report plot "$results/$k.csv" >"$dat"
	rows=$(wc -l <"$dat")
	[ "$rows" -gt 0 ] || { rm -f "$dat"; continue; }
	{
		width=$((300 + 50 * rows))
		[ "$width" -ge 1000 ] || width=1000
		echo "set terminal pngcairo size $width,900 noenhanced font \",9\""
		echo "set output \"$results/$k.png\""
		echo "set title \"$k, $day: memalloc / best peer or target, p50 and p99 (times: below 1 is faster; rates: above 1 is more)\""
		echo "set logscale y"
		echo "set style data histograms"
		echo "set style histogram clustered gap 1"
		echo "set style fill solid 0.6"
		echo "set bmargin 30"
		echo "set lmargin 24"
		echo "set xtics rotate by 60 right"
		echo "set grid ytics"
		echo "set key top left"
		echo "set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb \"red\" front"
		echo "plot \"$dat\" using 2:xtic(1) title \"p50\", \"\" using 3 title \"p99\""
	} | gnuplot
	rm -f "$dat"
done

# $out: the part between its markers is this run's; the notes around it
# are written by hand and kept. Made with the markers if absent.
begin='<!-- make bench writes from here to the end marker; edit outside it -->'
end='<!-- end of what make bench writes -->'
rel=$(realpath -m --relative-to="$(dirname "$out")" "$results")
part=$(mktemp)
{
	echo "$begin"
	echo
	echo "Written by \`make bench\` on $day: guests of 2 vCPUs under $accel on"
	echo "$(nproc) cores of $cpu."
	echo
	echo "$method"
	for k in "$@"; do
		echo
		echo "### $(describe "$k")"
		echo
		report summary "$results/$k.csv"
		echo
		[ -f "$results/$k.png" ] && echo "![$k: memalloc / best peer]($rel/$k.png)" && echo
		echo "Every row ($rel/$k.csv; what the benchmark noted: $rel/$k.notes):"
		echo
		report full "$results/$k.csv"
	done
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
