#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (once) a guest kernel from Debian's linux-source-SERIES and a config
# fragment; print its build directory, which is also the KDIR to build the
# module against. Usage: debug-kernel.sh [FRAGMENT] [SERIES], by default
# testbed/debug.config and 6.1. Cached under $CACHE, keyed by the source
# package version and the fragment's hash.
set -eo pipefail
. "$(dirname "$0")/common.sh"

series=${2:-6.1}
src=$(src_dir "$series")
ver=$(basename "$src" | sed 's/^linux-source-//')
frag=$TOP/testbed/${1:-debug}.config
hash=$(sha256sum "$frag" | cut -c1-12)
out=$CACHE/kernel-$(basename "$frag" .config)-$ver-$hash

# One build at a time of each kernel: a second caller waits for the first.
mkdir -p "$CACHE"
exec 9>"$out.lock"
flock 9
if [ -e "$out/.built" ]; then
	echo "$out"
	exit 0
fi
note "building guest kernel in $out (about 15 minutes on 2 cores)"
mkdir -p "$out"
log=$out/build.log
{
	make -C "$src" O="$out" tinyconfig
	(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" .config "$frag")
	make -C "$src" O="$out" olddefconfig
	make -C "$src" O="$out" -j"$(nproc)" bzImage modules
	make -C "$src" O="$out" modules_prepare
} >"$log" 2>&1 || { tail -n 40 "$log" >&2; die "kernel build failed, see $log"; }
# Every line of the fragment must have survived olddefconfig.
missing=$(grep -E '^CONFIG_' "$frag" | while read -r line; do
	opt=${line%%=*}
	case $line in
	*=n) ! grep -q "^$opt=" "$out/.config" || echo "$line" ;;
	*) grep -qx "$line" "$out/.config" || echo "$line" ;;
	esac
done)
[ -z "$missing" ] || note "fragment options not in the final config: $missing"
touch "$out/.built"
# Builds of this series from an older fragment or source are of no more use.
for old in "$CACHE/kernel-$(basename "$frag" .config)-$series."[0-9]*; do
	case $old in "$out"|"$out.lock"|*.lock) ;; *) rm -rf "$old" ;; esac
done
echo "$out"
