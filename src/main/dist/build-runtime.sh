#!/bin/sh
# Called by `mvn package` (exec-maven-plugin) after target/gvshim is assembled:
#   1. a jlink runtime image (java.base, with its default CDS archive), rebuilt only when the
#      JDK changes, so the installation runs without any JDK on the machine;
#   2. the JDK 25 AOT cache (JEP 483/515), trained by `gvshim __train`, which runs the hot
#      path of `gvshim run` and `gvshim spec` without starting a sandbox.
set -eu
jdk=$1
home=$2
stamp=$home/runtime/.built-from
want="$jdk $(sed -n 's/^JAVA_RUNTIME_VERSION=//p' "$jdk/release")"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	rm -rf "$home/runtime"
	"$jdk/bin/jlink" --add-modules java.base \
		--strip-debug --no-man-pages --no-header-files --generate-cds-archive \
		--output "$home/runtime"
	echo "$want" >"$stamp"
fi
rm -f "$home/lib/gvshim.aot"
GVSHIM_AOT_TRAIN=1 "$home/bin/gvshim" __train >/dev/null 2>"$home/lib/aot-training.log" || {
	cat "$home/lib/aot-training.log" >&2
	exit 1
}
test -s "$home/lib/gvshim.aot"
