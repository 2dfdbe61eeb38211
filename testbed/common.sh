# SPDX-License-Identifier: GPL-2.0
# Shared settings for the test bed scripts; sourced, not run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${MEMALLOC_CACHE:-/var/cache/memalloc}
SRC_TARBALL=/usr/src/linux-source-6.1.tar.xz

die() { echo "testbed: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }

# stock_release - set STOCK_RELEASE (unless the caller gave one) to the
# newest Debian 6.1 kernel whose headers are installed; deps() asks again
# once deps.sh has installed them.
STOCK_GIVEN=${STOCK_RELEASE:-}
stock_release() {
	STOCK_RELEASE=${STOCK_GIVEN:-$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null |
		sed 's,.*/linux-headers-,,' | sort -V | tail -n 1)}
}

# deps [PACKAGE...] - install what is missing, then learn STOCK_RELEASE.
deps() {
	"$TOP/testbed/deps.sh" "$@" || return 1
	stock_release
	[ -n "$STOCK_RELEASE" ] || die "no linux-headers-*-amd64 in /usr/src"
}

stock_release

# src_dir - extract Debian's linux-source once, keyed by its package version.
src_dir() {
	local ver dir
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
		die "linux-source-6.1 is not installed (run: testbed/deps.sh)"
	dir=$CACHE/linux-source-$ver
	if [ ! -e "$dir/.extracted" ]; then
		note "extracting $SRC_TARBALL to $dir"
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		tar -xJf "$SRC_TARBALL" -C "$dir.tmp" --strip-components=1 ||
			die "cannot extract $SRC_TARBALL"
		rm -rf "$dir" && mv "$dir.tmp" "$dir" && touch "$dir/.extracted"
	fi
	# Its sanitized UAPI headers, as kselftests use them, in $dir-uapi/include
	# (built out of tree: the source tree must stay clean for O= builds).
	if [ ! -e "$dir-uapi/.installed" ]; then
		make -s -C "$dir" O="$dir-uapi/build" INSTALL_HDR_PATH="$dir-uapi" \
			headers_install >&2 || die "cannot install the UAPI headers of $dir"
		touch "$dir-uapi/.installed"
	fi
	echo "$dir"
}

# build_module KDIR DIR: build memalloc.ko against KDIR in DIR (a copy of the
# sources, so that builds for several kernels do not meet); print its path.
build_module() {
	local kdir=$1 dir=$2
	rm -rf "$dir" && mkdir -p "$dir"
	cp -a "$TOP/Kbuild" "$TOP/module" "$TOP/uapi" "$dir/"
	make -s -C "$kdir" M="$dir" >"$dir/build.log" 2>&1 ||
		{ cat "$dir/build.log" >&2; return 1; }
	echo "$dir/module/memalloc.ko"
}
