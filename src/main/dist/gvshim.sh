#!/bin/sh
# gvshim @VERSION@ one-shot JVM launcher, installed as libexec/gvshim-jvm: bin/gvshim (the native
# client, native/gvshim_client.c) execs it when no server serves the call, and to start a server.
# Finds its installation from its own path (following symlinks), needs no environment
# variables, and starts the bundled jlink runtime with the AOT cache trained at build time.
p=$0
while [ -h "$p" ]; do
	l=$(readlink -- "$p")
	case $l in /*) p=$l ;; *) p=${p%/*}/$l ;; esac
done
case $p in */*) d=${p%/*} ;; *) d=. ;; esac
# Canonical, because the AOT cache is only used when the class path matches the training run's.
home=$(cd -P -- "$d/.." && pwd) || exit 125
# Two caches: the AOT cache loads every class it holds at start-up, so the runtime verbs (a
# docker run makes four calls, each a JVM start) get one trained on them alone, ~8 ms smaller
# per call. dockerd and containerd always put a global option first (--root ...).
cache=gvshim
case ${1-} in
-h | --help | -help | -v | --version | -version) ;;
-*) cache=runtime ;;
esac
main=dev.gvshim.Main
cp="@CLASSPATH@"
# The long-lived server (bin/gvshim starts it as `server run`): a bounded heap that SerialGC gives
# back after the idle full GC (the server's), so that an idle server's RSS is its live data; and
# HotSpot's own C1 thresholds again (the last option wins): the one-shot's raised ones keep a JVM
# of one call from compiling what it runs once, but left a server's per-call code (picocli's
# parsing, the request, the state's JSON) interpreted for its first ~2000 calls (measured: warm
# `state` 1.38x runsc with them, 1.2x without; C1 only, as before: C2 bought no latency, only RSS).
heap=
[ "${1-}" = server ] && heap="-Xms8m -Xmx128m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:Tier3InvocationThreshold=200 -XX:Tier3MinInvocationThreshold=100 -XX:Tier3CompileThreshold=2000 -XX:Tier3BackEdgeThreshold=60000"
if [ -n "${GVSHIM_AOT_TRAIN:-}" ]; then
	# build-runtime.sh's training runs (GVSHIM_AOT_TRAIN=gvshim|runtime, or trace: no cache written):
	# the training classes, which are not installed, come after the installation's on the class path,
	# so that the installation's is a prefix of the training's, as the AOT cache requires.
	main=dev.gvshim.train.Train
	cp=$cp:${GVSHIM_AOT_TRAIN_JAR:?}
	[ "$GVSHIM_AOT_TRAIN" = runtime ] && cache=runtime
	aot=-XX:AOTCacheOutput=$home/lib/$cache.aot
	[ "$GVSHIM_AOT_TRAIN" = trace ] && aot=-Xshare:auto
elif [ -r "$home/lib/$cache.aot" ]; then
	aot=-XX:AOTCache=$home/lib/$cache.aot
else
	aot=-Xshare:auto
fi
# shellcheck disable=SC2086 # $heap: several options or none
exec "$home/runtime/bin/java" @JVM_OPTIONS@ $heap -Xlog:disable -Xlog:all=error:stderr "$aot" \
	-Dgvshim.home="$home" -Dgvshim.launcher="$home/bin/gvshim" \
	-cp "$cp" "$main" "$@"
