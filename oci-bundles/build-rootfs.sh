#!/bin/sh
# Builds the root file system of an example bundle from Debian packages: a statically
# linked busybox (package busybox-static) and its applets, nothing else. Idempotent.
#   oci-bundles/build-rootfs.sh oci-bundles/hello
set -eu
bundle=${1:?usage: build-rootfs.sh BUNDLE_DIR}
busybox=${BUSYBOX:-/bin/busybox}
if ! "$busybox" true 2>/dev/null; then
	echo "build-rootfs.sh: no BusyBox at $busybox: apt-get install busybox-static" >&2
	exit 1
fi
if LC_ALL=C ldd "$busybox" >/dev/null 2>&1; then # ldd fails on static executables
	echo "build-rootfs.sh: $busybox is dynamically linked: apt-get install busybox-static" >&2
	exit 1
fi
rootfs=$bundle/rootfs
if [ -x "$rootfs/bin/busybox" ] && cmp -s "$busybox" "$rootfs/bin/busybox"; then
	exit 0
fi
rm -rf "$rootfs"
mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/dev" "$rootfs/sys" "$rootfs/tmp" "$rootfs/etc" "$rootfs/mnt" "$rootfs/work"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
chmod -R a+rX "$rootfs"
