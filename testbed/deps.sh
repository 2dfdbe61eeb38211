#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the build and the test bed need, when missing;
# more packages may be named on the command line (make bench: gnuplot-nox).
set -eo pipefail

pkgs=(make gcc libc6-dev perl rsync cpio xz-utils kmod libkmod-dev busybox-static
      qemu-system-x86 linux-image-amd64 linux-headers-amd64 linux-source-6.1
      linux-image-6.12-amd64 linux-headers-6.12-amd64 linux-source-6.12
      sparse bc flex bison libelf-dev libssl-dev dwarves pkgconf groff-base
      dpkg-dev debhelper dh-dkms lintian mmdebstrap e2fsprogs qemu-utils "$@")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update && apt-get install -y ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "memalloc: missing packages; as root run: $cmd" >&2
	exit 1
fi
echo "# installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 && apt-get install -y -q "${missing[@]}" >&2
