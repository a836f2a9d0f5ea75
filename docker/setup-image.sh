#!/bin/sh
# Prepares a Debian image for gvshim, as root at build time (the Dockerfiles RUN it):
#   setup-image.sh [EXTRA_PACKAGE...]
# - runsc and uidmap from Debian;
# - newuidmap/newgidmap with file capabilities instead of the setuid bit: a setuid-root helper
#   writes the map as euid 0, which the kernel only allows with CAP_SYS_ADMIN (not in Docker's
#   default set); cap_setuid/cap_setgid keep the caller's uid and need no extra privilege
#   (docker-lab.md §1.4, measured);
# - the non-root user `app` (uid 1000) with 65536 subordinate uids and gids, so gvshim can use
#   mode full (root and 1..65536 mapped in the sandbox), not just mode single.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends runsc uidmap libcap2-bin "$@"
for tool in newuidmap:cap_setuid newgidmap:cap_setgid; do
	path=$(command -v "${tool%%:*}")
	chmod u-s "$path"
	setcap "${tool#*:}=ep" "$path"
done
# setcap was needed only here.
apt-get purge -y libcap2-bin
apt-get clean
rm -rf /var/lib/apt/lists/*
if ! id -u app >/dev/null 2>&1; then
	useradd --create-home --uid 1000 --shell /bin/sh app
fi
grep -q '^app:' /etc/subuid 2>/dev/null || echo 'app:100000:65536' >>/etc/subuid
grep -q '^app:' /etc/subgid 2>/dev/null || echo 'app:100000:65536' >>/etc/subgid
