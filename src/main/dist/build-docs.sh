#!/bin/bash
# The installation's man pages and bash completion, generated from the built gvshim itself so they
# never lag behind its verbs and options: one page per verb (help2man from `gvshim VERB --help`),
# gvshim(1) for the whole command line, and `gvshim completion bash`.
# Usage: build-docs.sh GVSHIM_HOME
set -euo pipefail
home=$1
if ! command -v help2man >/dev/null; then
	echo "build-docs.sh: help2man is missing: the man pages are made from each verb's --help. Fix: apt-get install help2man" >&2
	exit 1
fi
export GVSHIM_SERVER=off # a build starts no server
g="$home/bin/gvshim"
man="$home/share/man/man1"
completions="$home/share/bash-completion/completions"
rm -rf "$man" "$completions"
mkdir -p "$man" "$completions"
"$g" completion bash >"$completions/gvshim"

version=$("$g" --version | sed -n '1s/^gvshim version //p')
# each verb's one-line summary, from --help's command list, unwrapped
summaries=$(JAVA_TOOL_OPTIONS=-Dpicocli.usage.width=400 "$g" --help 2>/dev/null | sed -n 's/^    \([a-z]\+\)  \+\(.*\)$/\1\t\2/p')
verbs=$(printf '%s\n' "$summaries" | cut -f1 | awk '!seen[$0]++')
[ -n "$verbs" ] || { echo "build-docs.sh: no verbs in \`gvshim --help\`" >&2; exit 1; }

wrappers=$(mktemp -d)
trap 'rm -rf "$wrappers"' EXIT
help2man --no-info --section=1 --version-string="$version" \
	--name="run commands in a rootless gVisor (runsc) sandbox" --output="$man/gvshim.1" "$g"
for verb in $verbs; do
	[ "$verb" = help ] && continue # gvshim(1) is its page
	summary=$(printf '%s\n' "$summaries" | awk -F'\t' -v v="$verb" '$1 == v { print $2; exit }')
	# help2man names the page after the program: gvshim-VERB, a wrapper that runs `gvshim VERB`
	printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$g" "$verb" >"$wrappers/gvshim-$verb"
	chmod +x "$wrappers/gvshim-$verb"
	help2man --no-info --section=1 --version-string="$version" --name="${summary%.}" \
		--output="$man/gvshim-$verb.1" "$wrappers/gvshim-$verb"
done
gzip -9nf "$man"/*.1
echo "build-docs.sh: $(ls "$man" | wc -l) man pages in $man, bash completion in $completions/gvshim"
