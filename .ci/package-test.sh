#!/bin/bash
# The package test (issue 21): target/gvshim_*.deb installed with apt-get in a fresh container of a
# Debian release, used by a new non-root user (`gvshim run -- /bin/echo ok`, `gvshim doctor`), then
# purged: no file of the package and no process may remain. Called by PackageIT (the IT suite,
# under its lock), as root with dockerd running:
#   .ci/package-test.sh RELEASE [DEB]      RELEASE: bookworm (Debian 12) or trixie (Debian 13)
# Exit 0: passed; 1: failed; 3: cannot run here (the reason on stderr), e.g. no base image and
# debootstrap cannot reach Debian's archive.
#
# The container stands for a fresh machine: a Debian minbase made by debootstrap and imported
# (no container registry is reachable; Debian's archive is: apt-get resolves the Depends), run
# --privileged, i.e. with a machine's view of /proc and a machine's root: Docker's default
# capability set lacks CAP_SYS_ADMIN, without which the setuid newuidmap of Debian's uidmap cannot
# write a map (docker/setup-image.sh), and its seccomp profile forbids user namespaces. Where the
# host's capability bounding set is incomplete (this VM lacks CAP_SYS_RESOURCE), runc refuses every
# privileged container ("unable to apply caps"): then the closest equivalent, as
# docker/ci/run-in-privileged-container.sh does.
set -euo pipefail
release=${1:?usage: package-test.sh RELEASE [DEB]}
here=$(cd "$(dirname "$0")/.." && pwd)
deb=${2:-$(ls "$here"/target/gvshim_*_amd64.deb 2>/dev/null | head -1)}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${GVSHIM_IMAGE_CACHE:-/var/cache/gvshim-images}
image=gvshim-base:$release
say() { printf 'package test %s: %s\n' "$release" "$*" >&2; }
[ -n "$deb" ] && [ -f "$deb" ] || { say "no target/gvshim_*_amd64.deb: run mvn -B package first"; exit 3; }

# The base image, as docker/build-images.sh makes bookworm's (same cache, same name).
if ! docker image inspect "$image" >/dev/null 2>&1; then
	tarball=$cache/$release-minbase.tar
	if [ ! -s "$tarball" ]; then
		command -v debootstrap >/dev/null || { say "debootstrap is missing (apt-get install debootstrap)"; exit 3; }
		mkdir -p "$cache"
		dir=$(mktemp -d "$cache/rootfs.XXXXXX")
		chmod 755 "$dir"
		trap 'rm -rf "$dir"' EXIT
		say "debootstrap --variant=minbase $release from $mirror"
		if ! debootstrap --variant=minbase "$release" "$dir" "$mirror" >"$cache/debootstrap-$release.log" 2>&1; then
			say "debootstrap failed (see $cache/debootstrap-$release.log): $(tail -1 "$cache/debootstrap-$release.log")"
			exit 3
		fi
		chroot "$dir" apt-get clean
		rm -rf "$dir"/var/lib/apt/lists/*
		tar --numeric-owner --xattrs -C "$dir" -cf "$tarball.tmp" .
		mv "$tarball.tmp" "$tarball"
		rm -rf "$dir"
		trap - EXIT
	fi
	docker import --change 'CMD ["/bin/bash"]' "$tarball" "$image" >/dev/null
fi

# In the container: install, use as a new user, purge, and check that nothing is left.
test_script='
set -eu
export DEBIAN_FRONTEND=noninteractive
step() { printf "== %s\n" "$*"; }
failed=
step "apt-get install ./gvshim.deb"
apt-get update -qq >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
apt-get install -y -qq --no-install-recommends /pkg/gvshim.deb >>/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
test "$(readlink -f /usr/bin/gvshim)" = /opt/gvshim/bin/gvshim
test -s /usr/share/man/man1/gvshim.1.gz && test -s /usr/share/man/man1/gvshim-run.1.gz || { echo "no man pages"; exit 1; }
grep -q "complete -F" /usr/share/bash-completion/completions/gvshim || { echo "no bash completion"; exit 1; }
GVSHIM_SERVER=off gvshim version
test ! -e /etc/docker/daemon.json || { echo "the package wrote /etc/docker/daemon.json"; exit 1; }
dpkg-query -W -f="installed: \${Package} \${Version}, \${Installed-Size} KiB\n" gvshim
dpkg-query -W -f="runsc: \${Version}\n" runsc
# run and doctor: a failure is reported, and the purge is still checked
step "as the new user u: gvshim run -- /bin/echo ok"
useradd --create-home --shell /bin/sh u
grep "^u:" /etc/subuid /etc/subgid || echo "(useradd gave u no subordinate ids)"
out=$(su u -c "cd && gvshim run -- /bin/echo ok" 2>&1) || true
echo "$out"
[ "$out" = ok ] || failed="$failed run"
step "as u: gvshim doctor"
su u -c "cd && gvshim doctor" || failed="$failed doctor"
step "apt-get purge gvshim"
dpkg-query -L gvshim >/tmp/files
apt-get purge -y -qq gvshim >>/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
left=0
while read -r f; do
	if [ -e "$f" ] && [ ! -d "$f" ] || [ -L "$f" ]; then echo "left behind: $f"; left=1; fi
done </tmp/files
for d in /opt/gvshim /usr/share/gvshim /usr/share/doc/gvshim; do
	if [ -e "$d" ]; then echo "left behind: $d"; left=1; fi
done
if dpkg-query -W gvshim >/dev/null 2>&1; then echo "dpkg still knows gvshim"; left=1; fi
for p in /proc/[0-9]*; do # no procps in a minbase
	case $(readlink "$p/exe" 2>/dev/null) in /opt/gvshim/*) echo "left running: ${p#/proc/} $(tr "\0" " " <"$p/cmdline")"; left=1 ;; esac
done
if [ "$left" = 0 ]; then echo "purged: nothing left"; else failed="$failed purge"; fi
if [ -n "$failed" ]; then echo "package test: failed:$failed"; exit 1; fi
echo "package test: ok"
'
if grep -q '^CapBnd:.*000001ffffffffff$\|^CapBnd:.*000003ffffffffff$' /proc/self/status; then
	flags=(--privileged)
else
	flags=(--cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt apparmor=unconfined
		--security-opt systempaths=unconfined)
fi
say "docker run ${flags[*]} $image (apt-get install, run, doctor, purge)"
set +e
docker run --rm "${flags[@]}" --name "gvshim-pkgtest-$release-$$" -v "$deb:/pkg/gvshim.deb:ro" "$image" \
	/bin/sh -c "$test_script"
status=$?
set -e
if [ "$status" = 0 ]; then
	say "passed"
else
	say "FAILED (exit $status)"
	exit 1
fi
