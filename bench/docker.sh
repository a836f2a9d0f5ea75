#!/bin/bash
# Docker benchmark: `docker run --rm IMAGE true` with gvshim as the runtime, side by side with
# bare runsc (--network=none, the only network mode in which runsc 2022-12 starts here) and
# runc, in one hyperfine run, plus the bare latency of `gvshim state` against `runsc state`
# on running containers. Prints the ratios; the targets: docker run <= 1.3x runsc cold, <= 1.15x
# with the server warm (issue 17), and state <= 1.2x runsc warm.
#
#   bench/docker.sh                 as root (registers runtimes in /etc/docker/daemon.json,
#                                   restored on exit; starts dockerd when it is not running)
#   RUNS=30 ROUNDS=3 bench/docker.sh
#
# Rows: gvshim (its default network: gVisor's netstack in Docker's bridge namespace, what users
# get), gvshim-none (--network=none, like for like with runsc-none: what gvshim itself adds),
# gvshim-warm (the same, every runtime call served by root's warm gvshim server: issue 17),
# runsc-none, runc. The cold rows run with "server": "off" in /etc/gvshim/config.json (what
# dockerd's calls of bin/gvshim read; restored on exit), the warm row with GVSHIM_SERVER=on.
# Needs a built target/gvshim (mvn -B package), docker.io, runsc, busybox-static, hyperfine.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-20}
rounds=${ROUNDS:-2}
image=gvshim-bench/busybox:latest
G=$here/target/gvshim/bin/gvshim
daemon_json=/etc/docker/daemon.json
gvshim_config=/etc/gvshim/config.json

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root: the benchmark registers Docker runtimes and restarts none of yours"
for tool in docker dockerd hyperfine runsc runc; do
	command -v "$tool" >/dev/null || die "$tool is missing (apt-get install docker.io runsc runc hyperfine)"
done
[ -x "$G" ] || die "build first: mvn -B package -DskipTests"
runsc=$(command -v runsc)

work=$(mktemp -d /tmp/gvshim-bench-docker.XXXXXX)
# bare runsc (the runsc rows) chowns the stdio dockerd gives it, the host's /dev/null included, to the
# sandbox's user (gvshim never passes it on: DockerRuntimeIT); put it back as it was at the end
devnull=$(stat -c '%u:%g %a' /dev/null)
started_dockerd=""
containers=()
cleanup() {
	set +e
	chown "${devnull% *}" /dev/null && chmod "${devnull#* }" /dev/null
	for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1; done
	GVSHIM_SERVER=on "$G" server stop >/dev/null 2>&1
	if [ -f "$work/gvshim-config.saved" ]; then
		cp "$work/gvshim-config.saved" "$gvshim_config"
	elif [ -f "$work/gvshim-config.absent" ]; then
		rm -f "$gvshim_config"
		[ -f "$work/gvshim-config.dir-made" ] && rmdir /etc/gvshim
	fi
	if [ -f "$work/daemon.json.saved" ]; then
		cp "$work/daemon.json.saved" "$daemon_json"
	elif [ -f "$work/daemon.json.absent" ]; then
		rm -f "$daemon_json"
	fi
	# gvshim install's own backups of the file just put back
	for b in /etc/docker/daemon.json.gvshim-backup-*; do
		[ -e "$b" ] && ! grep -qxF "$b" "$work/backups" && rm -f "$b"
	done
	if [ -n "$started_dockerd" ]; then
		kill "$started_dockerd" 2>/dev/null
	else
		pkill -HUP -x dockerd 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
ls -d /etc/docker/daemon.json.gvshim-backup-* >"$work/backups" 2>/dev/null || true

if ! docker version >/dev/null 2>&1; then
	dockerd >"$work/dockerd.log" 2>&1 &
	started_dockerd=$!
	for _ in $(seq 120); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
	docker version >/dev/null 2>&1 || { cat "$work/dockerd.log"; die "dockerd did not start"; }
fi

if ! docker image inspect "$image" >/dev/null 2>&1; then
	mkdir -p "$work/image"
	"$here/oci-bundles/build-rootfs.sh" "$work/image" >/dev/null
	tar -C "$work/image/rootfs" -c . | docker import - "$image" >/dev/null
fi

if [ -f "$daemon_json" ]; then cp "$daemon_json" "$work/daemon.json.saved"; else touch "$work/daemon.json.absent"; fi
# dockerd's calls get no GVSHIM_SERVER from its environment: the config file decides for them (cold rows:
# off, whatever bin/gvshim's default is); the warm row's runtime is a script that sets it, with
# --network=none in it rather than in runtimeArgs, so that dockerd does not wrap it in a script of its
# own: one /bin/sh before the runtime, as runsc-none has (dockerd's wrapper of its runtimeArgs)
if [ -f "$gvshim_config" ]; then cp "$gvshim_config" "$work/gvshim-config.saved"; else touch "$work/gvshim-config.absent"; fi
[ -d /etc/gvshim ] || { mkdir /etc/gvshim && touch "$work/gvshim-config.dir-made"; }
if [ -f "$work/gvshim-config.saved" ] && command -v python3 >/dev/null; then
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["server"]="off"; json.dump(c,open(sys.argv[1],"w"))' "$gvshim_config"
else
	echo '{"server": "off"}' >"$gvshim_config"
fi
GVSHIM_SERVER=on "$G" server stop >/dev/null 2>&1 || true # another build's or an earlier one's context: start afresh
printf '#!/bin/sh
GVSHIM_SERVER=on exec %s --network=none "$@"
' "$G" >"$work/gvshim-warm"
chmod 755 "$work" "$work/gvshim-warm"
"$G" install --docker --name gvshim-bench --path "$G" >/dev/null
"$G" install --docker --name gvshim-bench-none --path "$G" --runtime-arg=--network=none >/dev/null
"$G" install --docker --name gvshim-bench-warm --path "$work/gvshim-warm" >/dev/null
# runsc itself, registered the same way (the runtimeArgs entry is what users write by hand)
"$G" install --docker --name runsc-bench --path "$runsc" --runtime-arg=--network=none >/dev/null
pkill -HUP -x dockerd
for _ in $(seq 40); do
	docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q runsc-bench && break
	sleep 0.25
done
docker info --format '{{json .Runtimes}}' | grep -q runsc-bench || die "dockerd did not pick up the runtimes"

for rt in gvshim-bench gvshim-bench-none gvshim-bench-warm runsc-bench runc; do
	out=$(docker run --rm --runtime="$rt" "$image" echo ok 2>&1) || die "docker run --runtime=$rt fails: $out"
done

echo "bench: docker run --rm $image true, $rounds round(s) of $runs runs ($(nproc) CPUs, $(uname -r)," \
	"$(runsc --version | head -1), $(docker version --format 'dockerd {{.Server.Version}}'))"
for round in $(seq "$rounds"); do
	csv=$work/run$round.csv
	hyperfine -N --warmup 3 --runs "$runs" --export-csv "$csv" --style basic \
		-n gvshim "docker run --rm --runtime=gvshim-bench $image true" \
		-n gvshim-none "docker run --rm --runtime=gvshim-bench-none $image true" \
		-n gvshim-warm "docker run --rm --runtime=gvshim-bench-warm $image true" \
		-n runsc-none "docker run --rm --runtime=runsc-bench $image true" \
		-n runc "docker run --rm --runtime=runc $image true" >"$work/run$round.log" 2>&1 ||
		{ cat "$work/run$round.log"; die "hyperfine failed"; }
	# median (hyperfine's csv: command,mean,stddev,median,user,system,min,max) and mean of each row
	awk -F, 'NR > 1 { m[$1] = $2 * 1000; d[$1] = $4 * 1000; lo[$1] = $7 * 1000; hi[$1] = $8 * 1000 }
		END { printf "round %d (load %s): runsc-none %.0f ms, gvshim-none %.0f ms (%.2fx runsc), gvshim-warm %.0f ms (%.2fx runsc; medians %.0f/%.0f ms: %.2fx; min %.0f/%.0f), gvshim (sandbox network) %.0f ms (%.2fx runsc), runc %.0f ms\n",
			'"$round"', "'"$(cut -d' ' -f1 /proc/loadavg)"'", m["runsc-none"], m["gvshim-none"], m["gvshim-none"] / m["runsc-none"],
			m["gvshim-warm"], m["gvshim-warm"] / m["runsc-none"], d["gvshim-warm"], d["runsc-none"], d["gvshim-warm"] / d["runsc-none"],
			lo["gvshim-warm"], lo["runsc-none"], m["gvshim"], m["gvshim"] / m["runsc-none"], m["runc"] }' "$csv"
done

# Bare verb latency: state of a running container, each runtime on its own (every row through env(1),
# runsc's too, so that all pay its exec alike).
g_id=$(docker run -d --runtime=gvshim-bench "$image" sleep 600)
containers+=("$g_id")
r_id=$(docker run -d --runtime=runsc-bench "$image" sleep 600)
containers+=("$r_id")
# dockerd 20.10 passes the same --root to every runtime (docker-lab.md, part 2)
g_root=/var/run/docker/runtime-runc/moby
r_root=$g_root
"$G" --root "$g_root" state "$g_id" >/dev/null || die "gvshim state fails"
runsc --root "$r_root" state "$r_id" >/dev/null || die "runsc state fails"
# The floor of a runtime that is a JVM per call: a call that finds nothing to do (delete --force
# of an unknown id: start, parse, answer, exit). A docker run --rm makes four runtime calls
# (create, start, delete, delete --force), so 4x this is what any such design adds at least.
hyperfine -N --warmup 5 --runs $((runs * 2)) --export-csv "$work/state.csv" --style basic \
	-n gvshim "env GVSHIM_SERVER=off $G --root $g_root state $g_id" -n runsc "env GVSHIM_SERVER=on runsc --root $r_root state $r_id" \
	-n gvshim-warm "env GVSHIM_SERVER=on $G --root $g_root state $g_id" \
	-n noop "env GVSHIM_SERVER=off $G --root $work/empty-root delete --force no-such-container" >"$work/state.log" 2>&1 ||
	{ cat "$work/state.log"; die "hyperfine failed (state)"; }
# root's gvshim server, started by the warm row's warm-up (issue 17): its memory, then stopped
GVSHIM_SERVER=on "$G" server status | awk '/^rss/ { print "state: root'"'"'s gvshim server after the warm row: " substr($0, 5) }'
GVSHIM_SERVER=on "$G" server stop >/dev/null 2>&1 || true
awk -F, 'NR > 1 { m[$1] = $2 * 1000; d[$1] = $4 * 1000 }
	END { printf "state: runsc %.1f ms, gvshim %.1f ms (%.2fx, +%.1f ms per call), gvshim with a warm server %.1f ms (%.2fx; medians %.1f/%.1f ms: %.2fx)\n",
		m["runsc"], m["gvshim"], m["gvshim"] / m["runsc"], m["gvshim"] - m["runsc"], m["gvshim-warm"], m["gvshim-warm"] / m["runsc"],
		d["gvshim-warm"], d["runsc"], d["gvshim-warm"] / d["runsc"];
		printf "floor: a gvshim call with nothing to do %.1f ms; four per docker run = %.0f ms\n", m["noop"], 4 * m["noop"] }' \
	"$work/state.csv"
runsc_mean=$(awk -F, 'NR > 1 && $1 == "runsc-none" { print $2 * 1000 }' "$work/run$rounds.csv")
noop_mean=$(awk -F, 'NR > 1 && $1 == "noop" { print $2 * 1000 }' "$work/state.csv")
awk -v r="$runsc_mean" -v n="$noop_mean" 'BEGIN { printf "floor: runsc-none + 4 empty gvshim calls = %.2fx runsc-none (last round): the lowest ratio a JVM-per-call runtime reaches here\n", (r + 4 * n) / r }'
