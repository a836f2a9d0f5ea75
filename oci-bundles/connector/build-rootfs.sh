#!/bin/sh
# Builds the connector bundle's root file system from Debian packages: bookworm minbase with
# python3 (debootstrap, as root; ~1 min the first time, then from the cached tarball), and the
# example connector of docker/connector. Idempotent.
#   oci-bundles/connector/build-rootfs.sh oci-bundles/connector
# Environment: DEBIAN_MIRROR, GVSHIM_IMAGE_CACHE (as docker/build-images.sh).
set -eu
bundle=${1:?usage: build-rootfs.sh BUNDLE_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${GVSHIM_IMAGE_CACHE:-/var/cache/gvshim-images}
tarball=$cache/bookworm-python3.tar
rootfs=$bundle/rootfs
if [ ! -s "$tarball" ]; then
	command -v debootstrap >/dev/null || { echo "build-rootfs.sh: debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
	mkdir -p "$cache"
	dir=$(mktemp -d "$cache/rootfs.XXXXXX")
	chmod 755 "$dir" # mktemp's 0700 would become the tarball's "." and the rootfs's mode
	debootstrap --variant=minbase --include=python3 bookworm "$dir" "$mirror" >"$cache/debootstrap-python3.log" 2>&1 ||
		{ echo "build-rootfs.sh: debootstrap failed, see $cache/debootstrap-python3.log" >&2; rm -rf "$dir"; exit 1; }
	chroot "$dir" apt-get clean
	rm -rf "$dir"/var/lib/apt/lists/*
	tar --numeric-owner -C "$dir" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$dir"
fi
if [ ! -x "$rootfs/usr/bin/python3" ]; then
	rm -rf "$rootfs"
	mkdir -p "$rootfs"
	tar --numeric-owner -C "$rootfs" -xf "$tarball"
fi
# The sandbox of a non-root caller runs as that caller: it must be able to enter the rootfs
# (tarballs cached before this line existed carry mktemp's 0700).
chmod 755 "$rootfs"
mkdir -p "$rootfs/app"
cp "$here/docker/connector/main.py" "$rootfs/app/main.py"
chmod -R a+rX "$rootfs/app"
