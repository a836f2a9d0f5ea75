#!/bin/bash
# Start-up benchmark: `gvshim run` side by side with bare runsc, on the same busybox bundle,
# as the same non-root user, in one hyperfine run per round, printing the ratios.
#
#   bench/run.sh               as root: uses (and creates) the user gvshim-bench
#   BENCH_USER=me bench/run.sh as root, benchmark as an existing user with subordinate ids
#   ROUNDS=5 RUNS=40 bench/run.sh
#   POOL=0 bench/run.sh        without the warm-pool rows; API_RUNS=500: the Java API pool row's runs
#
# Needs: a built target/gvshim (mvn -B package), runsc, uidmap, busybox-static, hyperfine (and time).
# Timings on a shared VM drift by 10-20 % within minutes; compare ratios from one round,
# and look at the spread across rounds before believing a change of a few percent.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-3}
runs=${RUNS:-30}
user=${BENCH_USER:-gvshim-bench}

die() { echo "bench: $*" >&2; exit 1; }
for tool in hyperfine runsc unshare newuidmap; do
	command -v "$tool" >/dev/null || die "$tool is missing (apt-get install hyperfine runsc uidmap util-linux)"
done
[ -x "$here/target/gvshim/bin/gvshim" ] || die "build first: mvn -B package -DskipTests"

if [ "$(id -u)" = 0 ]; then
	id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
	grep -q "^$user:" /etc/subuid || usermod --add-subuids 400000-465535 --add-subgids 400000-465535 "$user"
	as_user() { setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --init-groups --reset-env "$@"; }
else
	user=$(id -un)
	as_user() { "$@"; }
fi
grep -q "^$user:\|^$(id -u "$user"):" /etc/subuid || die "$user has no /etc/subuid range (usermod --add-subuids ...)"

# Everything the user runs lives where it can reach it (the checkout may be under /root).
work=$(mktemp -d /tmp/gvshim-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cp -r "$here/target/gvshim" "$work/gvshim"
# oci-bundles/echo runs /bin/echo hello: the time measured is start-up and tear-down.
cp -r "$here/oci-bundles/echo" "$work/bundle"
"$here/oci-bundles/build-rootfs.sh" "$work/bundle"
mkdir -p "$work/r1" "$work/r2"
chown -R "$(id -u "$user"):$(id -g "$user")" "$work"
chmod -R a+rX "$work/gvshim"
G=$work/gvshim/bin/gvshim
B=$work/bundle

as_user "$G" run --bundle "$B" >/dev/null || die "gvshim run --bundle fails; see: $G run --bundle $B"

unshare_cmd="unshare --user --map-root-user --map-auto runsc --ignore-cgroups --network=none --root=$work/r1 run --bundle $B u1"
rootless_cmd="runsc --rootless --network=none --root=$work/r2 run --bundle $B r1"
gvshim_cmd="env GVSHIM_SERVER=off $G run --bundle $B"
gvshim_cmd2="env GVSHIM_SERVER=off $G run --rootfs $B/rootfs -- /bin/echo hello"
# the warm path (issue 17): the same call served by the user's gvshim server, started by the warm-up
warm_cmd="env GVSHIM_SERVER=on $G run --bundle $B"

echo "bench: $rounds round(s) of $runs runs as $user ($(nproc) CPUs, $(uname -r), $(runsc --version | head -1))"
ratios=()
for round in $(seq "$rounds"); do
	csv=$work/round$round.csv
	as_user hyperfine -N --warmup 5 --runs "$runs" --export-csv "$csv" --style basic \
		-n unshare "$unshare_cmd" -n rootless "$rootless_cmd" -n "gvshim-bundle" "$gvshim_cmd" -n "gvshim-cmd" "$gvshim_cmd2" \
		-n "gvshim-warm" "$warm_cmd" \
		>"$work/round$round.log" 2>&1 || { cat "$work/round$round.log"; die "hyperfine failed"; }
	line=$(awk -F, 'NR > 1 { mean[$1] = $2 * 1000 }
		END { printf "round %d: unshare+runsc %.1f ms, runsc --rootless %.1f ms, gvshim run --bundle %.1f ms (%.2fx unshare, %.2fx rootless), gvshim run -- CMD %.1f ms (%.2fx unshare), warm server %.1f ms (%.2fx unshare)",
			'"$round"', mean["unshare"], mean["rootless"], mean["gvshim-bundle"], mean["gvshim-bundle"] / mean["unshare"],
			mean["gvshim-bundle"] / mean["rootless"], mean["gvshim-cmd"], mean["gvshim-cmd"] / mean["unshare"],
			mean["gvshim-warm"], mean["gvshim-warm"] / mean["unshare"] }' "$csv")
	echo "$line"
	ratios+=("$(awk -F, 'NR > 1 { m[$1] = $2 } END { printf "%.3f", m["gvshim-bundle"] / m["unshare"] }' "$csv")")
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
echo "bench: gvshim run / unshare+runsc, median of $rounds round(s): ${median}x (target <= 1.5)"

# The floor under any design like gvshim's on this JDK: a JVM that only starts (same runtime,
# flags and kind of AOT cache), and one that also links the two downcall handles gvshim needs
# (bench/floor/Floor.java). Whatever gvshim does beyond that is its own overhead.
jdk=$(awk '{ print $1; exit }' "$work/gvshim/runtime/.built-from")
if [ -x "$jdk/bin/javac" ]; then
	mkdir -p "$work/floor"
	"$jdk/bin/javac" -d "$work/floor" "$here/bench/floor/Floor.java"
	(cd "$work/floor" && "$jdk/bin/jar" cf floor.jar Floor.class)
	java=$work/gvshim/runtime/bin/java
	# the one-shot launcher's JVM options (bin/gvshim is the native client; $heap is the server's only)
	read -r -a jvm_opts <<<"$(sed -n 's/^exec "$home\/runtime\/bin\/java" \(.*\) "$aot".*/\1/p' "$work/gvshim/libexec/gvshim-jvm" |
		sed 's/ \$heap//')"
	"$java" "${jvm_opts[@]}" -XX:AOTCacheOutput="$work/floor/floor.aot" -cp "$work/floor/floor.jar" Floor >/dev/null 2>&1
	chmod -R a+rX "$work/floor"
	floor_cmd="$java ${jvm_opts[*]} -XX:AOTCache=$work/floor/floor.aot -cp $work/floor/floor.jar Floor"
	as_user hyperfine -N --warmup 5 --runs "$runs" --export-csv "$work/floor.csv" --style basic \
		-n jvm "$floor_cmd jvm" -n floor "$floor_cmd" -n unshare "$unshare_cmd" -n gvshim "$gvshim_cmd" \
		>"$work/floor.log" 2>&1 || { cat "$work/floor.log"; die "hyperfine failed (floor)"; }
	awk -F, 'NR > 1 { m[$1] = $2 * 1000 }
		END { printf "bench: floor: JVM start %.1f ms, + linking the two FFM handles %.1f ms = %.2fx of unshare+runsc (%.1f ms) before any gvshim work; gvshim run --bundle adds %.1f ms in all (%.2fx)\n",
			m["jvm"], m["floor"] - m["jvm"], m["floor"] / m["unshare"], m["unshare"], m["gvshim"] - m["unshare"], m["gvshim"] / m["unshare"] }' "$work/floor.csv"
else
	echo "bench: floor skipped: no javac in $jdk (the JDK that built target/gvshim)"
fi

# What stays resident while the command runs: the JVM has exec'd gvshim-waiter (same pid;
# setpriv execs too, so $! is that pid).
if [ "$(id -u)" = 0 ]; then
	setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --init-groups --reset-env "$G" run --bundle "$B" -- /bin/sleep 2 >/dev/null &
else
	"$G" run --bundle "$B" -- /bin/sleep 2 >/dev/null &
fi
pid=$!
sleep 1
waiter_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
comm=$(cat "/proc/$pid/comm")
wait "$pid" || true
server=$(as_user env GVSHIM_SERVER=on "$G" server status 2>/dev/null | awk '/^rss/ { sub(/^rss /, ""); print }')
as_user env GVSHIM_SERVER=on "$G" server stop >/dev/null 2>&1 || true
jvm=""
if [ -x /usr/bin/time ]; then
	jvm_kb=$( { as_user /usr/bin/time -f '%M' "$G" run --bundle "$B" >/dev/null; } 2>&1 | tail -1)
	jvm=" (the same process peaked at ${jvm_kb} kB while it was the JVM)"
fi
echo "bench: resident while the command runs: $comm, ${waiter_kb} kB$jvm"
[ -n "$server" ] && echo "bench: the user's gvshim server after the warm rows: $server"

# The warm pool (issue 18): `gvshim run --pool` in a ready sandbox of the user's server (runsc exec
# into a sandbox booted ahead), against unshare+runsc run on the same bundle in one hyperfine run.
# Before each timed run the pool is back at its min ready (--prepare, not timed): this is the
# latency of a warm pool, not its refill rate, which the sustained row measures.
if [ "${POOL:-1}" = 1 ]; then
	as_user env GVSHIM_SERVER=off "$G" server stop >/dev/null 2>&1 || true
	as_user env GVSHIM_SERVER=on "$G" server start --idle-timeout 0 --pool "bench:min=4,max=8,bundle=$B" >/dev/null ||
		die "gvshim server start --pool failed"
	printf '#!/bin/sh\n# waits until the pool has its min ready again\ni=0\nwhile [ $i -lt 300 ]; do\n\tenv GVSHIM_SERVER=on %s server status | grep -q "pool bench: ready [4-8]," && exit 0\n\tsleep 0.05; i=$((i+1))\ndone\nexit 1\n' "$G" >"$work/ready.sh"
	chmod 755 "$work/ready.sh"
	as_user "$work/ready.sh" || die "the pool did not fill: $(as_user env GVSHIM_SERVER=on "$G" server status | grep pool)"
	pool_cmd="env GVSHIM_SERVER=on $G run --pool bench --bundle $B"
	as_user hyperfine -N --warmup 3 --runs "$runs" --prepare "$work/ready.sh" --export-csv "$work/pool.csv" --style basic \
		-n unshare "$unshare_cmd" -n pool "$pool_cmd" >"$work/pool.log" 2>&1 || { cat "$work/pool.log"; die "hyperfine failed (pool)"; }
	awk -F, 'NR > 1 { m[$1] = $2 * 1000; lo[$1] = $7 * 1000; hi[$1] = $8 * 1000 }
		END { printf "bench: pool: gvshim run --pool %.1f ms (min %.1f, max %.1f) against unshare+runsc run %.1f ms: %.2fx (target <= 0.4)\n",
			m["pool"], lo["pool"], hi["pool"], m["unshare"], m["pool"] / m["unshare"] }' "$work/pool.csv"
	as_user "$work/ready.sh" || true
	echo "bench: pool: $(as_user env GVSHIM_SERVER=on "$G" server status | grep -o 'rss per ready sandbox [0-9.]* MB') (runsc run, gofer and sandbox together; shared pages counted in each)"
	# the Java API through the same warm pool (SandboxBuilder.pool, issue 18: target p50 <= 35 ms):
	# bench/api/PoolLatency.java in one JVM of the user, API_RUNS (200) timed runs of /bin/true after 20
	# warm-up ones, each from a pool back at its min ready (ready.sh, not timed), as the row above
	if [ -x "$jdk/bin/javac" ]; then
		mkdir -p "$work/api"
		"$jdk/bin/javac" -cp "$work/gvshim/lib/*" -d "$work/api" "$here/bench/api/PoolLatency.java"
		chmod -R a+rX "$work/api"
		(cd "$work" && as_user "$jdk/bin/java" --enable-native-access=ALL-UNNAMED -cp "$work/gvshim/lib/*:$work/api" PoolLatency \
			bench "$B" "${API_RUNS:-200}" 20 "$work/ready.sh") | sed 's/^/bench: pool: /' || die "the API pool row failed"
	else
		echo "bench: pool: the API row skipped: no javac in $jdk (the JDK that built target/gvshim)"
	fi
	# sustained: 8 callers at once, from a pool of 4 ready and max 8, until 80 runs are done
	t0=$(date +%s.%N)
	as_user sh -c "seq 80 | xargs -P 8 -I{} env GVSHIM_SERVER=on $G run --pool bench --bundle $B >/dev/null"
	t1=$(date +%s.%N)
	echo "bench: pool: sustained $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f runs/s (80 runs, 8 callers at once, max 8: %.1f s)", 80 / (b - a), b - a }')"
	as_user env GVSHIM_SERVER=on "$G" server status | grep '^pool' | sed 's/^/bench: pool: status: /'
	as_user env GVSHIM_SERVER=off "$G" server stop >/dev/null 2>&1 || true
fi
