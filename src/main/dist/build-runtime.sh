#!/bin/sh
# Called by `mvn package` (antrun) after target/gvshim is assembled:
#   1. a jlink runtime image (java.base only), so the installation runs without a JDK;
#   2. java.lang.invoke classes pre-generated for gvshim's own hot path (below);
#   3. the JDK 25 AOT caches (JEP 483/515): lib/gvshim.aot, trained by dev.gvshim.train.Train
#      (src/train/java, built into $3, which is not installed), which runs the hot path of
#      `gvshim run` and `gvshim spec` up to the hand-over, and lib/runtime.aot, trained by
#      `Train runtime` on the runtime verbs alone (the launcher picks it for calls that start
#      with a global option, as dockerd's do). The launcher runs the training class when
#      GVSHIM_AOT_TRAIN is set, with $3 after the installation's class path: a production run's
#      class path is then a prefix of the training's, which the AOT cache accepts.
#
# Why step 2: linking the FFM downcall handles spins ~45 LambdaForm and BoundMethodHandle
# species classes (invokeStatic LJ4_J, Species_LLJ, ...) that neither the JDK's default list
# nor the AOT cache covers; each costs about a millisecond of interpreted bytecode generation.
# The forms are traced from a real training run (MethodHandle.TRACE_RESOLVE) and generated into
# the runtime's holder classes by jlink's --generate-jli-classes. The AOT cache regenerates
# those holders from lib/classlist when it is created, so the same lines go there too.
# Measured: the FFM link thread went from ~35 to ~22 ms, `gvshim run` by ~15 ms.
#
# The runtime is trimmed (issue 21: the installation was 128 MB, 83 of them the runtime): java.base
# only (jdeps: gvshim needs nothing else; jackson-databind's references to java.sql and java.desktop
# are for types gvshim never uses, probed at run time), no debug attributes, man pages or headers,
# lib/modules compressed (zip-6: the classes a call loads come from the AOT cache, not from the
# image, so its start-up does not change; docs/performance.md has the measurement), the shared
# libraries' symbol tables stripped (strip(1) --strip-unneeded: only the dynamic symbols the JVM
# and JNI need stay; a crash report names libjvm.so+offset instead of a function), and no default
# CDS archives (jlink's --generate-cds-archive: 28 MB): every call runs with an AOT cache, which is
# a complete archive on its own (JEP 483), so those would only serve a JVM started without one.
#
# The runtime is rebuilt only when the JDK, this recipe or the traced list changes.
set -eu
jdk=$1
home=$2
GVSHIM_AOT_TRAIN_JAR=$3
export GVSHIM_AOT_TRAIN_JAR
runtime=$home/runtime
stamp=$runtime/.built-from
recipe=trim-1 # change it when link() changes, so that an existing target/ is relinked
jdk_id="$jdk $(sed -n 's/^JAVA_RUNTIME_VERSION=//p' "$jdk/release") $recipe"

link() { # $1: the jli list, or empty for the JDK's default
	rm -rf "$runtime"
	"$jdk/bin/jlink" --add-modules java.base --strip-debug --no-man-pages --no-header-files --compress=zip-6 \
		${1:+--generate-jli-classes=@$1} --output "$runtime"
	find "$runtime" -name '*.so' -exec strip --strip-unneeded {} +
}

if [ ! -f "$stamp" ] || [ "$(head -1 "$stamp")" != "$jdk_id" ]; then
	link ""
	echo "$jdk_id" >"$stamp"
fi

# Trace the forms the hot path resolves (the training run without recording an AOT cache).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f "$home/lib/gvshim.aot" "$home/lib/runtime.aot"
GVSHIM_AOT_TRAIN=trace JDK_JAVA_OPTIONS=-Djava.lang.invoke.MethodHandle.TRACE_RESOLVE=true "$home/bin/gvshim" \
	>"$tmp/trace" 2>"$tmp/trace.err" || {
	cat "$tmp/trace.err" >&2
	exit 1
}
grep -E '^\[(LF|SPECIES)_RESOLVE\] ' "$tmp/trace" | sed -E 's/ \([a-z]+\)$//' | sort -u >"$tmp/ours"
{
	sed -n 's/^@lambda-form-invoker //p' "$jdk/lib/classlist"
	cat "$tmp/ours"
} | sort -u >"$tmp/jli"
if ! cmp -s "$tmp/jli" "$runtime/.jli-classes"; then
	link "$tmp/jli"
	sed 's/^/@lambda-form-invoker /' "$tmp/ours" >>"$runtime/lib/classlist"
	cp "$tmp/jli" "$runtime/.jli-classes"
	echo "$jdk_id" >"$stamp"
fi

GVSHIM_AOT_TRAIN=gvshim "$home/bin/gvshim" >/dev/null 2>"$home/lib/aot-training.log" || {
	cat "$home/lib/aot-training.log" >&2
	exit 1
}
GVSHIM_AOT_TRAIN=runtime "$home/bin/gvshim" runtime >/dev/null 2>"$home/lib/aot-training-runtime.log" || {
	cat "$home/lib/aot-training-runtime.log" >&2
	exit 1
}
test -s "$home/lib/gvshim.aot"
test -s "$home/lib/runtime.aot"
