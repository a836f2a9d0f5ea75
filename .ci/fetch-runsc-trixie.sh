#!/bin/sh
# fetch-runsc-trixie.sh TARGET_DIR
#
# Puts Debian 13 (trixie)'s runsc package, fetched by package name from Debian's archive, into
# TARGET_DIR (dpkg-deb -x: TARGET_DIR/usr/bin/runsc) on a Debian 12 machine, so that CI can run
# gvshim's integration tests against it as well as against the installed runsc.
# The last line on stdout is the path of the runsc binary; progress goes to stderr.
#
# It leaves the system's apt state alone: the sources list, the package lists, apt's binary
# caches and the download directory are all in a temporary directory (removed on exit), and
# apt's update hooks (PackageKit, appstreamcli refresh) are cleared for these calls. It reads
# /etc/apt (mirror URI, proxies, the archive keyring) and needs no root: run as root, the
# downloads go through apt's _apt sandbox user as usual.
#
# Idempotent: TARGET_DIR/.runsc-deb records the package version it holds; when the archive's
# candidate is the same version the files are left as they are. A newer candidate replaces them.
#
# Environment:
#   RUNSC_SUITE    suite to take runsc from (default trixie)
#   RUNSC_VERSION  exact package version to require (default: the suite's candidate); the
#                  script fails if the archive no longer has it (Debian keeps only the current one)
#   DEBIAN_MIRROR  archive URI (default: the URI of the system's Debian sources, else deb.debian.org)
#   DEBIAN_KEYRING keyring the suite is signed with (default: the system's debian-archive-keyring)
set -eu

usage() { echo "usage: $0 TARGET_DIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
case $1 in -h|--help) usage ;; esac
target=$1
suite=${RUNSC_SUITE:-trixie}
arch=$(dpkg --print-architecture)
log() { echo "fetch-runsc: $*" >&2; }

# The mirror the system's own Debian sources use: the first URIs of a deb822 stanza (or the URI of
# a one-line "deb" entry) whose suites are plain Debian ones, not debian-security.
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list.d/debian.sources ]; then
	mirror=$(awk '
		/^[ \t]*$/ { if (uri != "" && !sec) { print uri; exit } uri = ""; sec = 0; next }
		tolower($1) == "uris:" { uri = $2 }
		tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i ~ /-security$/) sec = 1 }
		END { if (uri != "" && !sec) print uri }' /etc/apt/sources.list.d/debian.sources | head -n 1)
fi
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list ]; then
	mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($(i + 1) !~ /-security$/) print $i; break } }' \
		/etc/apt/sources.list | head -n 1)
fi
mirror=${mirror:-http://deb.debian.org/debian}
keyring=${DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
[ -r "$keyring" ] || { log "cannot read the Debian archive keyring $keyring: apt-get install debian-archive-keyring, or set DEBIAN_KEYRING"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fetch-runsc.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/sources.list.d" "$work/preferences.d" "$work/deb"
echo "deb [signed-by=$keyring] $mirror $suite main" > "$work/sources.list"
# apt.conf.d still applies (proxies, Check-Valid-Until, ...), minus the hooks that would touch
# system state after an update; -c is read after apt.conf.d, so #clear wins.
cat > "$work/apt.conf" <<'EOF'
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
EOF
if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then
	# apt downloads as _apt (apt.conf(5), APT::Sandbox::User): it must reach the download dir
	chmod 755 "$work"
	chown _apt "$work/deb"
fi
set -- -c "$work/apt.conf" \
	-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts="$work/sources.list.d" \
	-o Dir::Etc::Preferences="$work/preferences" -o Dir::Etc::PreferencesParts="$work/preferences.d" \
	-o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" \
	-o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache="" \
	-o Acquire::Languages=none -o APT::Architectures="$arch"

t0=$(date +%s%N)
log "apt-get update: $mirror $suite main ($arch)"
if ! out=$(apt-get -q "$@" update 2>&1); then
	echo "$out" >&2
	log "apt-get update of $suite from $mirror failed"
	exit 1
fi
# a source apt could not fetch is only a warning for apt-get update
if printf '%s\n' "$out" | grep -E '^(W|E):' >&2; then
	log "apt-get update of $suite from $mirror did not complete"
	exit 1
fi
t1=$(date +%s%N)

candidate=$(apt-cache "$@" policy runsc | awk '$1 == "Candidate:" { print $2 }')
if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
	log "$suite has no runsc package for $arch at $mirror"
	exit 1
fi
want=${RUNSC_VERSION:-$candidate}
if [ -f "$target/.runsc-deb" ] && [ "$(cat "$target/.runsc-deb")" = "runsc $want $arch" ] && [ -x "$target/usr/bin/runsc" ]; then
	log "$target already holds runsc $want (apt-get update $(( (t1 - t0) / 1000000 )) ms)"
	echo "$target/usr/bin/runsc"
	exit 0
fi

(cd "$work/deb" && apt-get -q "$@" download "runsc=$want" >&2) || {
	log "cannot download runsc $want from $suite (available: $candidate)"
	exit 1
}
deb=$(ls "$work"/deb/runsc_*.deb)
t2=$(date +%s%N)
mkdir -p "$target"
rm -f "$target/.runsc-deb"
dpkg-deb -x "$deb" "$target"
echo "runsc $want $arch" > "$target/.runsc-deb"
t3=$(date +%s%N)
log "runsc $want from $suite in $target/usr/bin/runsc (update $(( (t1 - t0) / 1000000 )) ms, download $(( (t2 - t1) / 1000000 )) ms, extract $(( (t3 - t2) / 1000000 )) ms)"
echo "$target/usr/bin/runsc"
