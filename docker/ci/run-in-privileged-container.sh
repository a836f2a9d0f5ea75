#!/bin/bash
# Runs gvshim's integration suite the way a CI runner does: in a fresh privileged Debian 12
# container, as root, from a clean copy of the working tree, through .ci/run (apt-get install,
# then `mvn -B verify`: unit tests, RunIT, DoctorIT, the Docker tests with their own dockerd).
#   docker/ci/run-in-privileged-container.sh [MAVEN_ARGS...]    e.g. -Dit.test=RunIT
# Environment:
#   JAVA_HOME   a JDK >= 22 on the host, copied into the container at the same path;
#               default /usr/lib/jvm/temurin-25-jdk-amd64. Debian 12 packages only JDK 17.
#   BASE        the container image (default: gvshim-base:bookworm from docker/build-images.sh,
#               else debian:bookworm)
#   GVSHIM_CI_DOCKER_FLAGS   instead of --privileged (see below)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
jdk=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$jdk/bin/java" ] || { echo "run-in-privileged-container.sh: no JDK at $jdk: set JAVA_HOME to a JDK >= 22" >&2; exit 1; }
base=${BASE:-}
if [ -z "$base" ]; then
	if docker image inspect gvshim-base:bookworm >/dev/null 2>&1; then base=gvshim-base:bookworm; else base=debian:bookworm; fi
fi
# --privileged gives the container every capability in the host's bounding set. Where that set
# lacks one (some VMs drop CAP_SYS_RESOURCE), runc refuses to start any privileged root
# container ("unable to apply caps"); the closest equivalent then is every capability but the
# missing one, with seccomp, AppArmor and the /proc masks off.
if [ -n "${GVSHIM_CI_DOCKER_FLAGS:-}" ]; then
	read -r -a flags <<<"$GVSHIM_CI_DOCKER_FLAGS"
elif grep -q '^CapBnd:.*000001ffffffffff$\|^CapBnd:.*000003ffffffffff$' /proc/self/status; then
	flags=(--privileged)
else
	flags=(--cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt apparmor=unconfined
		--security-opt systempaths=unconfined -e GVSHIM_CI_REMOUNT_CGROUPS=1)
fi
name=gvshim-ci-$$
# A volume for the inner dockerd's storage: overlay2 cannot stack on the container's own overlay.
docker volume create gvshim-ci-docker >/dev/null
echo "== docker run ${flags[*]} $base: .ci/run $*" >&2
# The working tree (as /src) and the JDK (at its own path) go in through stdin, not bind mounts:
# they then also reach a remote or docker-in-docker daemon (GitLab's dind service).
m2=()
[ -d "${HOME}/.m2" ] && [ -z "${DOCKER_HOST:-}" ] && m2=(-v "${HOME}/.m2:/root/.m2")
{
	(cd "$here" && git ls-files -z --cached --others --exclude-standard | tar --null -T - --transform 's,^,src/,' -c)
	tar -C / -c "${jdk#/}"
} | docker run --rm -i --name "$name" "${flags[@]}" "${m2[@]}" -v gvshim-ci-docker:/var/lib/docker \
	-e JAVA_HOME="$jdk" "$base" \
	bash -c 'tar -x -i -C / && cd /src &&
		# without --privileged the cgroup mounts are read-only: the inner dockerd needs them writable
		if [ -n "${GVSHIM_CI_REMOUNT_CGROUPS:-}" ]; then
			findmnt -rn -o TARGET | grep "^/sys/fs/cgroup" | while read -r m; do mount -o remount,bind,rw "$m"; done
		fi &&
		exec .ci/run "$@"' ci "$@"
