#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The memalloc test command: static gates, then the selftests in a guest of
# each kernel: Debian's stock 6.1 and 6.12, and a debug build of each
# series; then the install test: the Debian packages installed, used and
# removed on Debian 12 and 13, each booted with its own kernel.
# Usage: check.sh [static] [stock] [stock-6.12] [debug] [debug-6.12]
#                 [install-debian12] [install-debian13] (default: all of them).
# install-debian12 and install-debian13 build the packages, boot a Debian
# system (bookworm, trixie: testbed/rootfs.sh makes it with mmdebstrap once a
# month, in /var/cache/memalloc) in QEMU and run testbed/install-run.sh in it
# at boot: apt-get install offline, DKMS's build for the running kernel, the
# modules-load.d entry, udev's root:memalloc 0660, a group member's
# allocation and program built with pkg-config, an outsider's EACCES, then
# removal with the module in use and purge with it unused, leaving nothing.
# The guests run MEMALLOC_JOBS at a time (default 2), each printed whole.
# MEMALLOC_TESTS="memalloc_ops_test ..." runs only those selftest programs.
# MEMALLOC_FUZZ_SECONDS runs the fuzzer that long (default 20 s on the stock
# kernel, 120 s on the debug one); MEMALLOC_FUZZ_SEED, _OPS and _THREADS are
# passed on to it. MEMALLOC_GUEST_TIMEOUT overrides a guest's time limit.
# Ends with "N passed, N failed, N skipped"; exits non-zero on any failure.
set -o pipefail
. "$(dirname "$0")/common.sh"

deps || exit 1
src=$(src_dir) || exit 1
work=$TOP/build
mkdir -p "$work"
pass=0 fail=0 skip=0

result() { # ok|fail|skip NAME [DETAIL]
	case $1 in
	ok) pass=$((pass + 1)); echo "ok - $2" ;;
	skip) skip=$((skip + 1)); echo "ok - $2 # SKIP ${3:-}" ;;
	*) fail=$((fail + 1)); echo "not ok - $2${3:+ # $3}" ;;
	esac
}

gate() { # NAME COMMAND...: passes when COMMAND succeeds and prints nothing
	local name=$1 out
	shift
	if out=$("$@" 2>&1) && [ -z "$out" ]; then
		result ok "static: $name"
	else
		echo "$out" | sed 's/^/# /' | head -n 60
		result fail "static: $name"
	fi
}

quiet_make() { # make, printing only what is not the usual noise
	local out rc
	out=$(make -s "$@" 2>&1)
	rc=$?
	echo "$out" | grep -v -e '^Skipping BTF' -e '^$' || true
	return $rc
}

run_static() {
	local b=$work/static series rel s f ksrc=()
	for f in "$TOP"/module/*.[ch] "$TOP"/selftests/importer/*.[ch]; do
		case $f in *.mod.c) ;; *) ksrc+=("$f") ;; esac
	done
	for series in $SERIES; do
		rel=$(release_of "$series")
		s=$(src_dir "$series") || return 1
		rm -rf "$b" && mkdir -p "$b" && cp -a "$TOP/Kbuild" "$TOP/VERSION" "$TOP/module" "$TOP/uapi" "$b/"
		gate "$series: sparse W=1 C=2 -Werror" quiet_make -C "/lib/modules/$rel/build" \
			M="$b" W=1 C=2 KCFLAGS=-Werror
		mkdir -p "$b/selftests" && cp -a "$TOP/selftests/importer" "$b/selftests/"
		gate "$series: importer: sparse W=1 C=2 -Werror" quiet_make \
			-C "/lib/modules/$rel/build" M="$b/selftests/importer" W=1 C=2 KCFLAGS=-Werror
		# An out-of-tree module builds for several releases: LINUX_VERSION_CODE
		# (in module/compat.h only) is how it tells them apart.
		gate "$series: checkpatch --strict" sh -c "'$s/scripts/checkpatch.pl' --no-tree \
			--strict --quiet --show-types \
			--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,LINUX_VERSION_CODE \
			-f ${ksrc[*]} '$TOP/uapi/linux/memalloc.h'"
		gate "$series: kernel-doc" "$s/scripts/kernel-doc" -none "${ksrc[@]}" \
			"$TOP/uapi/linux/memalloc.h"
	done
	gate "uapi header alone, C90" gcc -std=c90 -pedantic-errors -Wall -Wextra -Werror \
		-fsyntax-only -I"$TOP/uapi" -x c "$TOP/uapi/linux/memalloc.h"
	gate "library -Wall -Wextra -Werror" make -s -C "$TOP/libmemalloc"
	gate "tool and example -Wall -Wextra -Werror" sh -c "make -s -C '$TOP/tools' &&
		make -s -C '$TOP/examples' LIBMEMALLOC=tree"
	gate "man pages: groff -ww" make -s -C "$TOP/man" check
	gate "make install DESTDIR= PREFIX=, then build against it" check_install "$b/destdir"
	gate "one release: VERSION and what names it agree" check_versions
	gate "Debian packages build, lintian finds no error or warning" check_packages
}

# check_packages: dpkg-buildpackage turns a copy of the tree's files into
# the packages, in the work directory; lintian checks them.
check_packages() {
	local d=$work/packages out rc
	build_packages "$d" || return 1
	out=$(lintian --fail-on error,warning "$d"/*.changes 2>&1)
	rc=$?
	echo "$out" | grep -v '^running with root privileges is not recommended!$'
	return $rc
}

# check_versions: VERSION holds the release (MAJOR.MINOR.PATCH); dkms.conf
# and the Debian changelog's latest entry name it, the man pages its
# MAJOR.MINOR. Prints each disagreement.
check_versions() {
	local v f d
	v=$(cat "$TOP/VERSION") || return 1
	if ! [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
		echo "VERSION: '$v' is not MAJOR.MINOR.PATCH"
		return 1
	fi
	d=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")
	[ "$d" = "$v" ] || echo "dkms.conf: PACKAGE_VERSION '$d', VERSION $v"
	d=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version) || return 1
	[ "${d%-*}" = "$v" ] || echo "debian/changelog: version $d, VERSION $v"
	for f in "$TOP"/man/man[0-9]/*.[0-9]; do
		grep -q "^\.TH .* \"libmemalloc ${v%.*}\" " "$f" ||
			echo "${f#"$TOP"/}: .TH does not name libmemalloc ${v%.*}"
	done
}

# check_install DIR: install into DIR with PREFIX=/usr, then build the
# example against what was installed, found through pkg-config.
check_install() {
	local d=$1 f
	rm -rf "$d"
	make -s -C "$TOP" install DESTDIR="$d" PREFIX=/usr >/dev/null || return 1
	for f in lib/libmemalloc.so.1 lib/libmemalloc.so lib/libmemalloc.a \
		lib/pkgconfig/libmemalloc.pc include/memalloc.h include/memalloc/version.h \
		include/memalloc/linux-memalloc.h \
		include/l4re/c/mem_alloc.h include/l4re/c/dataspace.h \
		include/l4re/c/util/cap_alloc.h bin/memalloc share/man/man1/memalloc.1 \
		share/man/man3/memalloc_ds_map.3 share/man/man3/l4re_ma_alloc.3 \
		share/man/man4/memalloc.4 share/man/man7/memalloc.7; do
		[ -e "$d/usr/$f" ] || { echo "not installed: /usr/$f"; return 1; }
	done
	PKG_CONFIG_LIBDIR=$d/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$d \
		PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 \
		make -s -C "$TOP/examples" l4re_example -B \
		>/dev/null || return 1
	rm -f "$TOP/examples/l4re_example"
}

# build_payload NAME KDIR STRESS_SECONDS FUZZ_SECONDS: the module and the
# selftests' dma-buf importer built against KDIR, and the selftests.
build_payload() {
	local name=$1 kdir=$2 b=$work/$1 ko
	rm -rf "$b" && mkdir -p "$b/payload/selftests/memalloc"
	ko=$(build_importer "$kdir" "$b/importer") || return 1
	cp "$ko" "$b/payload/"
	ko=$(build_module "$kdir" "$b/src") || return 1
	cp "$ko" "$b/payload/"
	# Also installed where modprobe and libkmod look, for the library.
	local rel mods
	rel=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	mods=$b/payload/modroot/lib/modules/$rel
	mkdir -p "$mods/extra"
	cp "$ko" "$mods/extra/"
	touch "$mods/modules.order" "$mods/modules.builtin" "$mods/modules.builtin.modinfo"
	depmod -b "$b/payload/modroot" "$rel" || return 1
	make -s -C "$TOP/libmemalloc" >/dev/null &&
	make -s -C "$TOP/selftests" KSRC="$src" install \
		INSTALL_PATH="$b/payload/selftests/memalloc" >/dev/null || return 1
	local ksft=$src/tools/testing/selftests
	cp -a "$ksft/run_kselftest.sh" "$b/payload/selftests/"
	mkdir -p "$b/payload/selftests/kselftest"
	cp -a "$ksft"/kselftest/{runner.sh,prefix.pl,module.sh} "$b/payload/selftests/kselftest/"
	make -s -C "$TOP/selftests" KSRC="$src" COLLECTION=memalloc emit_tests \
		>"$b/payload/selftests/kselftest-list.txt"
	# The runner's limit for each program must cover the fuzzer's run.
	local settings=$b/payload/selftests/memalloc/settings limit=$(($4 + 300))
	[ -f "$settings" ] && [ "$limit" -gt "$(sed -n 's/^timeout=//p' "$settings")" ] &&
		sed -i "s/^timeout=.*/timeout=$limit/" "$settings"
	cp "$TOP/testbed/guest-run.sh" "$b/payload/run"
	{
		echo "export MEMALLOC_STRESS_SECONDS=$3"
		echo "export MEMALLOC_FUZZ_SECONDS=$4"
		local v
		for v in MEMALLOC_FUZZ_SEED MEMALLOC_FUZZ_OPS MEMALLOC_FUZZ_THREADS; do
			[ -n "${!v:-}" ] && echo "export $v='${!v}'"
		done
		echo "export MEMALLOC_TESTS='${MEMALLOC_TESTS:-}'"
	} >"$b/payload/env"
}

# parse_results NAME RESULTS_LOG: count the KTAP results of every selftest.
parse_results() {
	local name=$1 log=$2 line in_prog=0 totals=0 running= said=
	while IFS= read -r line; do
		case $line in
		"# #  RUN "*)
			running=$(echo "$line" | sed -E 's/^# #  RUN +//; s/ \.\.\.$//')
			said= ;;
		"# # "*.c:[0-9]*) said="$said${line#\# \# }"$'\n' ;;
		"# ok "*|"# not ok "*)
			local t=${line#\# } st=ok
			[ "${t#not ok}" != "$t" ] && st=fail
			t=$(echo "$t" | sed -E 's/^(not )?ok [0-9]+ //')
			case $t in
			"# SKIP"*) result skip "$name: $running" "${t#\# SKIP }" ;;
			*"# SKIP"*) result skip "$name: ${t%% \# SKIP*}" "${t#*\# SKIP }" ;;
			*) result $st "$name: $t"
			   # What a failed test said, under its line: a summary
			   # that shows only the failures still tells why.
			   [ $st = fail ] && printf '%s' "$said" | tail -n 8 | sed 's/^/#   /' ;;
			esac ;;
		"# # Totals:"*) totals=1 ;;
		"# selftests: "*) in_prog=1 totals=0 ;;
		"not ok "*"selftests: "*)
			[ $in_prog = 1 ] && [ $totals = 0 ] &&
				result fail "$name: ${line#*selftests: }" "no results"
			in_prog=0 ;;
		"ok "*"selftests: "*) in_prog=0 ;;
		esac
	done <"$log"
}

REPORTS='WARNING:|BUG:|Oops|KASAN|UBSAN|INFO: possible|INFO: task .* blocked|list_(add|del) corruption|general protection fault|Kernel panic|Bad page state|kernel BUG|unable to handle|bad p[4gmu]d'

run_kernel() { # NAME KDIR IMAGE RELEASE APPEND TIMEOUT STRESS_SECONDS FUZZ_SECONDS
	local name=$1 kdir=$2 image=$3 release=$4 b=$work/$1
	local p0=$pass f0=$fail s0=$skip start=$SECONDS
	echo "# ---- $name kernel: $image"
	run_guest "$@"
	echo "# $name: $((pass - p0)) passed, $((fail - f0)) failed, $((skip - s0)) skipped, $((SECONDS - start)) s"
}

run_guest() {
	local name=$1 kdir=$2 image=$3 release=$4 b=$work/$1 mem=4G
	if ! build_payload "$name" "$kdir" "$7" "$8"; then
		result fail "$name: build module and selftests"
		return
	fi
	# Room for several 1 GiB blocks where the kernel maps them.
	case $name in *6.12*) mem=8G ;; esac
	# The fuzzer's run comes on top of the rest.
	GUEST_MEM=$mem GUEST_APPEND=$5 GUEST_TIMEOUT=${MEMALLOC_GUEST_TIMEOUT:-$(($6 + $8))} \
		"$TOP/testbed/guest.sh" "$image" "$b/payload" "$b" $release
	local rc=$? log=$b/results.log con=$b/console.log
	sed 's/^/  /' "$log"
	grep -q '^@@ insmod ok' "$log" && result ok "$name: insmod memalloc.ko" ||
		result fail "$name: insmod memalloc.ko"
	parse_results "$name" "$log"
	grep -q '^@@ rmmod ok' "$log" && result ok "$name: rmmod after the tests" ||
		result fail "$name: rmmod after the tests"
	if [ $rc = 0 ] && grep -q '^@@ done' "$log"; then
		result ok "$name: guest ran to the end"
	else
		tail -n 30 "$con" | sed 's/^/# /'
		result fail "$name: guest ran to the end" "exit $rc$([ $rc = 124 ] && echo ', time limit')"
	fi
	if grep -q '^@@ kmemleak begin' "$log"; then
		if sed -n '/^@@ kmemleak begin/,/^@@ kmemleak end/p' "$log" | grep -q 'unreferenced object'; then
			result fail "$name: kmemleak finds no leak"
		else
			result ok "$name: kmemleak finds no leak"
		fi
	fi
	# Reports from the guest kernel's own boot, before the payload began
	# (and so before memalloc was loaded), are shown but not memalloc's.
	local scan=$b/console.payload
	sed -n '/memalloc-testbed: payload begins/,$p' "$con" >"$scan"
	[ -s "$scan" ] || cp "$con" "$scan"
	if ! cmp -s "$scan" "$con" &&
		sed '/memalloc-testbed: payload begins/,$d' "$con" | grep -Eq "$REPORTS"; then
		echo "# a report in the guest kernel's boot, before the payload began:"
		sed '/memalloc-testbed: payload begins/,$d' "$con" | grep -E -A 8 "$REPORTS" |
			head -n 20 | sed 's/^/#   /'
	fi
	if grep -Eq "$REPORTS" "$scan"; then
		grep -E -A 40 "$REPORTS" "$scan" | head -n 120 | sed 's/^/# /'
		result fail "$name: kernel log has no report"
	else
		result ok "$name: kernel log has no report"
	fi
}

# stock_kernel NAME RELEASE: a guest of Debian's kernel RELEASE.
stock_kernel() {
	if [ -z "$2" ] || [ ! -r "/boot/vmlinuz-$2" ]; then
		result fail "$1: Debian's kernel is installed" "no /boot/vmlinuz-$2"
		return
	fi
	run_kernel "$1" "/lib/modules/$2/build" "/boot/vmlinuz-$2" "$2" "" 1200 15 \
		"${MEMALLOC_FUZZ_SECONDS:-20}"
}

# debug_kernel NAME SERIES [APPEND]: a guest of the debug kernel of SERIES,
# APPEND added to its command line.
debug_kernel() {
	local dk
	if dk=$("$TOP/testbed/debug-kernel.sh" debug "$2"); then
		run_kernel "$1" "$dk" "$dk/arch/x86/boot/bzImage" "" \
			"cma=128M brd.rd_nr=2 brd.rd_size=65536${3:+ $3}" 2400 60 \
			"${MEMALLOC_FUZZ_SECONDS:-120}"
	else
		result fail "$1: build the debug kernel"
	fi
}

# install_system NAME SUITE: the packages, built once per run, installed,
# used and removed as on a real system: a Debian system of SUITE
# (testbed/rootfs.sh builds it once) booted with its own kernel in QEMU, on a
# copy-on-write overlay, runs testbed/install-run.sh at boot from a second
# disk that carries the packages; its "ok -" and "not ok -" lines count here.
install_debs= install_debs_log=
build_install_packages() {
	if install_debs_log=$(build_packages "$work/install-packages" 2>&1); then
		install_debs=$work/install-packages
	fi
}
install_system() {
	local name=$1 suite=$2 b=$work/$1 sys rc line accel_args
	local p0=$pass f0=$fail s0=$skip start=$SECONDS
	echo "# ---- $name: Debian $suite with its own kernel"
	[ -n "$install_debs$install_debs_log" ] || build_install_packages
	if [ -z "$install_debs" ]; then
		echo "$install_debs_log" | sed 's/^/# /'
		result fail "$name: build the packages"
		return
	fi
	if ! sys=$("$TOP/testbed/rootfs.sh" "$suite"); then
		result fail "$name: build the Debian $suite system"
		return
	fi
	rm -rf "$b" && mkdir -p "$b/payload/debs"
	cp "$install_debs"/*.deb "$b/payload/debs/" && rm -f "$b/payload/debs/"*-dbgsym_*.deb
	cp "$TOP/testbed/install-run.sh" "$b/payload/run"
	echo "VERSION=$(cat "$TOP/VERSION")" >"$b/payload/env"
	mkfs.ext4 -q -L MEMALLOC-TEST -d "$b/payload" "$b/payload.img" 32M >/dev/null &&
	qemu-img create -q -f qcow2 -F raw -b "$sys/rootfs.img" "$b/overlay.qcow2" || {
		result fail "$name: make the guest's disks"
		return
	}
	case ${MEMALLOC_ACCEL:-$("$TOP/testbed/accel.sh")} in
	kvm) accel_args=(-accel kvm -cpu host) ;;
	*) accel_args=(-accel tcg -cpu max) ;;
	esac
	note "booting $(basename "$sys") with ${accel_args[1]}"
	timeout --kill-after=10 "${MEMALLOC_GUEST_TIMEOUT:-2400}" \
		qemu-system-x86_64 "${accel_args[@]}" -nodefaults -display none \
		-m 2G -smp 2 -no-reboot \
		-kernel "$sys/vmlinuz" -initrd "$sys/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 panic=-1" \
		-drive "file=$b/overlay.qcow2,format=qcow2,if=virtio" \
		-drive "file=$b/payload.img,format=raw,if=virtio,readonly=on" \
		-serial "file:$b/console.log" -serial "file:$b/results.log" \
		</dev/null >"$b/qemu.log" 2>&1
	rc=$?
	sed -i 's/\r$//' "$b/console.log" "$b/results.log" 2>/dev/null
	while IFS= read -r line; do
		case $line in
		"ok - "*" # SKIP"*) line=${line#ok - }
			result skip "$name: ${line%% # SKIP*}" "${line#* # SKIP }" ;;
		"ok - "*) result ok "$name: ${line#ok - }" ;;
		"not ok - "*" # "*) line=${line#not ok - }
			result fail "$name: ${line%% # *}" "${line#* # }" ;;
		"not ok - "*) result fail "$name: ${line#not ok - }" ;;
		"@@ done") ;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done <"$b/results.log"
	if [ $rc = 0 ] && grep -q '^@@ done' "$b/results.log"; then
		result ok "$name: guest ran to the end"
		rm -f "$b/overlay.qcow2"
	else
		tail -n 30 "$b/console.log" | sed 's/^/# /'
		result fail "$name: guest ran to the end" "exit $rc$([ $rc = 124 ] && echo ', time limit')"
	fi
	local scan=$b/console.payload
	sed -n '/memalloc-testbed: payload begins/,$p' "$b/console.log" >"$scan"
	if grep -Eq "$REPORTS" "$scan"; then
		grep -E -A 40 "$REPORTS" "$scan" | head -n 120 | sed 's/^/# /'
		result fail "$name: kernel log has no report"
	else
		result ok "$name: kernel log has no report"
	fi
	echo "# $name: $((pass - p0)) passed, $((fail - f0)) failed, $((skip - s0)) skipped, $((SECONDS - start)) s"
}

run_target() { # TARGET
	case $1 in
	stock) stock_kernel stock "$STOCK_RELEASE" ;;
	stock-6.12) stock_kernel stock-6.12 "$STOCK612_RELEASE" ;;
	# The pool's zero guarantee is proven with init_on_alloc and
	# init_on_free off (6.1), where the page allocator zeroes nothing of
	# itself and freed pages keep what was written, and with init_on_free
	# on (6.12), where freed pages are zeroed at once.
	debug) debug_kernel debug 6.1 "init_on_alloc=0 init_on_free=0" ;;
	debug-6.12) debug_kernel debug-6.12 6.12 init_on_free=1 ;;
	install-debian12) install_system install-debian12 bookworm ;;
	install-debian13) install_system install-debian13 trixie ;;
	esac
}

# run_lane N: the guests dealt to lane N, one after another, each in a
# subshell whose output and counts go to files in the work directory.
run_lane() {
	local i=0 t
	for t in $guests; do
		if [ $((i % jobs)) = "$1" ]; then
			(
				pass=0 fail=0 skip=0
				run_target "$t"
				echo "$pass $fail $skip" >"$work/$t.counts"
			) >"$work/$t.out" 2>&1
		fi
		i=$((i + 1))
	done
}

# The longest first, so that the lanes end close together.
targets=${*:-static debug-6.12 debug stock-6.12 stock install-debian13 install-debian12}
guests=
for t in $targets; do
	case $t in
	static | stock | stock-6.12 | debug | debug-6.12 | install-debian12 | install-debian13) ;;
	*) die "unknown target $t" ;;
	esac
done
start=$SECONDS
for t in $targets; do
	case $t in
	static) run_static ;;
	*) guests="$guests $t" ;;
	esac
done
# Guests run MEMALLOC_JOBS at a time (2): without KVM each keeps about one
# core busy, and their waits overlap. Output comes whole, in target order.
jobs=${MEMALLOC_JOBS:-2}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
# What the lanes share is built before them: the library and the selftests
# (in the tree), and the packages.
if [ -n "$guests" ] && ! { make -s -C "$TOP/libmemalloc" >/dev/null &&
	make -s -C "$TOP/selftests" KSRC="$src" >/dev/null; }; then
	result fail "build the library and the selftests"
	guests=
fi
case " $guests " in *" install-"*) build_install_packages ;; esac
for t in $guests; do
	rm -f "$work/$t.out" "$work/$t.counts"
done
for ((n = 0; n < jobs; n++)); do
	run_lane $n &
done
wait
for t in $guests; do
	cat "$work/$t.out" 2>/dev/null
	if read -r p f s 2>/dev/null <"$work/$t.counts"; then
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	else
		result fail "$t: ran to the end"
	fi
done
echo "# $((SECONDS - start)) s"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
