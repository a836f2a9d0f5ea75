#!/bin/bash
# gvshim quick start, on a fresh Debian 12 machine, as root:
#   1. installs what it needs from apt (runsc, uidmap, busybox-static) if missing;
#   2. builds gvshim (mvn -B package: target/gvshim, a self-contained installation);
#   3. creates the non-root user gvshim-demo with subordinate ids (/etc/subuid, /etc/subgid);
#   4. as that user, runs the example bundle oci-bundles/hello and a few commands under gVisor.
# Re-running it is cheap: nothing is reinstalled or rebuilt needlessly (Maven aside).
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
	echo "quickstart: run it as root (it installs packages and creates the user gvshim-demo): sudo $0" >&2
	exit 1
fi

missing=()
for pkg in runsc uidmap busybox-static maven gcc make help2man; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

say "building gvshim (mvn -B package; the build finds a JDK >= 22 itself)"
mvn -B -q package -DskipTests

user=gvshim-demo
if ! id -u "$user" >/dev/null 2>&1; then
	say "creating the user $user"
	useradd --create-home --shell /bin/sh "$user"
fi
if ! grep -q "^$user:" /etc/subuid || ! grep -q "^$user:" /etc/subgid; then
	# the first free 65536 ids above every range already handed out
	start=$(awk -F: 'BEGIN { m = 100000 } { if ($2 + $3 > m) m = $2 + $3 } END { print m }' /etc/subuid /etc/subgid 2>/dev/null)
	range=$start-$((start + 65535))
	say "giving $user the subordinate ids $range"
	grep -q "^$user:" /etc/subuid || usermod --add-subuids "$range" "$user"
	grep -q "^$user:" /etc/subgid || usermod --add-subgids "$range" "$user"
fi

# What the user runs must be reachable by it: the checkout may sit under /root.
demo=$(mktemp -d /tmp/gvshim-quickstart.XXXXXX)
trap 'rm -rf "$demo"' EXIT
cp -r target/gvshim "$demo/gvshim"
cp -r oci-bundles/hello "$demo/hello"
oci-bundles/build-rootfs.sh "$demo/hello"
chmod -R a+rX "$demo"
chmod 755 "$demo"
gvshim=$demo/gvshim/bin/gvshim
as_user() {
	setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --init-groups --reset-env \
		env -C "$demo" "$@"
}

say "as $user (uid $(id -u "$user")): gvshim doctor (the verdict and what it is based on)"
as_user "$gvshim" doctor | sed -n '1,2p'

say "as $user (uid $(id -u "$user")): gvshim run --verbose --bundle hello"
as_user "$gvshim" run --verbose --bundle hello

say "as $user: any command, in the bundle's root file system: its exit code is the command's"
set +e
as_user "$gvshim" run --rootfs hello/rootfs -- /bin/sh -c 'echo "kernel: $(uname -sr), network: $(ls /sys/class/net 2>/dev/null || ip -o link | cut -d: -f2)"; exit 3'
echo "exit code: $? (the command's own)"

say "as $user: stdin passes through"
printf 'one\ntwo\nthree\n' | as_user "$gvshim" run --rootfs hello/rootfs -- /bin/wc -l

say "as $user: a command that does not exist: one line saying so, exit 127"
as_user "$gvshim" run --rootfs hello/rootfs -- /bin/no-such-command
echo "exit code: $?"
set -e

say "done: gvshim is in target/gvshim (bin/gvshim works from anywhere); tests: mvn -B verify"
