# SPDX-License-Identifier: GPL-2.0
# Shared settings for the test bed scripts; sourced, not run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${MEMALLOC_CACHE:-/var/cache/memalloc}

die() { echo "testbed: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }

# The kernel series memalloc is built and tested for: Debian 12's own, and
# the LTS that Debian 13 ships (and Debian 12's security suite carries).
SERIES="6.1 6.12"

# release_of SERIES - the newest Debian kernel of SERIES whose headers are
# installed, e.g. 6.1.0-57-amd64 or 6.12.117+deb12-amd64.
release_of() {
	ls -d /usr/src/linux-headers-"$1".*-amd64 2>/dev/null |
		sed 's,.*/linux-headers-,,' | sort -V | tail -n 1
}

# stock_release - set STOCK_RELEASE (unless the caller gave one) to the
# newest Debian 6.1 kernel whose headers are installed, and STOCK612_RELEASE
# to the newest 6.12 one; deps() asks again once deps.sh has installed them.
STOCK_GIVEN=${STOCK_RELEASE:-}
stock_release() {
	STOCK_RELEASE=${STOCK_GIVEN:-$(release_of 6.1)}
	STOCK612_RELEASE=$(release_of 6.12)
}

# deps [PACKAGE...] - install what is missing, then learn STOCK_RELEASE.
deps() {
	"$TOP/testbed/deps.sh" "$@" || return 1
	stock_release
	[ -n "$STOCK_RELEASE" ] || die "no linux-headers-*-amd64 in /usr/src"
}

stock_release

# src_dir [SERIES] - extract Debian's linux-source-SERIES (6.1 unless
# given) once, keyed by its package version.
src_dir() {
	local series=${1:-6.1} ver dir tarball
	tarball=/usr/src/linux-source-$series.tar.xz
	ver=$(dpkg-query -W -f='${Version}' "linux-source-$series" 2>/dev/null) ||
		die "linux-source-$series is not installed (run: testbed/deps.sh)"
	dir=$CACHE/linux-source-$ver
	if [ ! -e "$dir/.extracted" ]; then
		note "extracting $tarball to $dir"
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		tar -xJf "$tarball" -C "$dir.tmp" --strip-components=1 ||
			die "cannot extract $tarball"
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
	cp -a "$TOP/Kbuild" "$TOP/VERSION" "$TOP/module" "$TOP/uapi" "$dir/"
	make -s -C "$kdir" M="$dir" >"$dir/build.log" 2>&1 ||
		{ cat "$dir/build.log" >&2; return 1; }
	echo "$dir/module/memalloc.ko"
}

# build_importer KDIR DIR: build the selftests' dma-buf importer
# (selftests/importer, with the module's compat.h) against KDIR in DIR;
# print its path.
build_importer() {
	local kdir=$1 dir=$2
	rm -rf "$dir" && mkdir -p "$dir/selftests" "$dir/module"
	cp -a "$TOP/selftests/importer" "$dir/selftests/"
	cp -a "$TOP/module/compat.h" "$dir/module/"
	make -s -C "$kdir" M="$dir/selftests/importer" >"$dir/build.log" 2>&1 ||
		{ cat "$dir/build.log" >&2; return 1; }
	echo "$dir/selftests/importer/memalloc_importer.ko"
}

# build_packages DIR: dpkg-buildpackage turns a copy of the tree's files (as
# git tracks them, as they are now) into the Debian packages, in DIR; its
# log is DIR/build.log.
build_packages() {
	local d=$1
	rm -rf "$d" && mkdir -p "$d/src"
	(cd "$TOP" && git ls-files -z | tar --null -T - -c) | tar -x -C "$d/src" || return 1
	if ! (cd "$d/src" && dpkg-buildpackage -us -uc -b) >"$d/build.log" 2>&1; then
		tail -n 30 "$d/build.log"
		return 1
	fi
}
