#!/bin/bash
# Builds gvshim's images on a machine with no container registry: the Debian base from Debian
# packages (debootstrap, then docker import), then gvshim:latest and gvshim-connector:latest.
# Where a registry is reachable, pass BASE=debian:bookworm-slim to skip the debootstrap step.
#   docker/build-images.sh            # as root (debootstrap needs it), dockerd running
# Environment: BASE (base image; default: the imported gvshim-base:bookworm), DEBIAN_MIRROR,
# GVSHIM_IMAGE_CACHE (where the debootstrap tarball is kept), GVSHIM_TAG (default latest).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tag=${GVSHIM_TAG:-latest}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${GVSHIM_IMAGE_CACHE:-/var/cache/gvshim-images}
imported=gvshim-base:bookworm
base=${BASE:-$imported}
step() { printf '== %s\n' "$*" >&2; }

# The legacy builder: it uses local images as FROM without asking a registry, and needs no
# buildx plugin (Debian's docker.io client has none).
export DOCKER_BUILDKIT=0

# 1. The base image: Debian bookworm minbase, as debian:bookworm-slim would be. Cached twice:
# the image itself, and the tarball (a second machine with the same cache directory skips
# debootstrap, the slow part: ~40 s).
if [ "$base" = "$imported" ] && ! docker image inspect "$imported" >/dev/null 2>&1; then
	tarball=$cache/bookworm-minbase.tar
	if [ ! -s "$tarball" ]; then
		command -v debootstrap >/dev/null || { echo "build-images.sh: debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
		step "debootstrap --variant=minbase bookworm from $mirror"
		mkdir -p "$cache"
		dir=$(mktemp -d "$cache/rootfs.XXXXXX")
		chmod 755 "$dir" # else the tarball's "." (the image's /) carries mktemp's 0700
		trap 'rm -rf "$dir"' EXIT
		debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
			{ echo "build-images.sh: debootstrap failed, see $cache/debootstrap.log" >&2; exit 1; }
		# What debian:bookworm-slim also drops: apt's downloaded packages and lists.
		chroot "$dir" apt-get clean
		rm -rf "$dir"/var/lib/apt/lists/*
		tar --numeric-owner --xattrs -C "$dir" -cf "$tarball.tmp" .
		mv "$tarball.tmp" "$tarball"
		rm -rf "$dir"
		trap - EXIT
	fi
	step "docker import $tarball as $imported"
	docker import --change 'CMD ["/bin/bash"]' "$tarball" "$imported" >/dev/null
fi

# 2. gvshim itself: the self-contained installation (its own jlink runtime, no JDK in the image).
if [ ! -x "$here/target/gvshim/bin/gvshim" ]; then
	step "mvn -B package -DskipTests (target/gvshim is missing)"
	(cd "$here" && mvn -B -q package -DskipTests)
fi

# 3. The images. A small build context, not the repository: target/ holds more than gvshim.
ctx=$(mktemp -d /tmp/gvshim-build-context.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp -a "$here/target/gvshim" "$ctx/gvshim"
cp -a "$here/docker/connector" "$ctx/connector"
cp -a "$here/docker/setup-image.sh" "$ctx/setup-image.sh"
step "docker build gvshim:$tag FROM $base"
docker build -q -f "$here/docker/Dockerfile" --build-arg BASE="$base" -t "gvshim:$tag" "$ctx" >/dev/null
step "docker build gvshim-connector:$tag FROM gvshim:$tag"
docker build -q -f "$here/docker/Dockerfile.connector" --build-arg BASE="$base" --build-arg GVSHIM="gvshim:$tag" -t "gvshim-connector:$tag" "$ctx" >/dev/null
step "built gvshim:$tag and gvshim-connector:$tag"
