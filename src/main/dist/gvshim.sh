#!/bin/sh
# gvshim @VERSION@ launcher. Finds its installation from its own path (following symlinks,
# so /usr/local/bin/gvshim -> .../bin/gvshim works), needs no environment variables, and
# starts the bundled jlink runtime with the AOT cache trained at build time.
p=$0
while [ -h "$p" ]; do
	l=$(readlink -- "$p")
	case $l in /*) p=$l ;; *) p=${p%/*}/$l ;; esac
done
case $p in */*) d=${p%/*} ;; *) d=. ;; esac
# Canonical, because the AOT cache is only used when the class path matches the training run's.
home=$(cd -P -- "$d/.." && pwd) || exit 125
if [ -n "${GVSHIM_AOT_TRAIN:-}" ]; then
	aot=-XX:AOTCacheOutput=$home/lib/gvshim.aot
elif [ -r "$home/lib/gvshim.aot" ]; then
	aot=-XX:AOTCache=$home/lib/gvshim.aot
else
	aot=-Xshare:auto
fi
exec "$home/runtime/bin/java" @JVM_OPTIONS@ -Xlog:disable -Xlog:all=error:stderr "$aot" \
	-Dgvshim.home="$home" -Dgvshim.launcher="$home/bin/gvshim" \
	-cp "@CLASSPATH@" dev.gvshim.Main "$@"
