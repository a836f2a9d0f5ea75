/*
 * gvshim-hook: OCI hooks as runsc runs them, made to look as runc runs them.
 *
 *     gvshim-hook --started FIFO
 *     gvshim-hook --oci-state KIND ID BUNDLE ANNOTATIONS -- PATH ARGV0 [ARG...]
 *
 * --started: the poststart hook of `gvshim run`'s spec. runsc runs poststart hooks after the
 * container's process has started (runtime-spec config.md, "poststart"). This one writes one
 * byte to FIFO, the run directory's `started` fifo, which gvshim-waiter reads: until then
 * everything on stderr is runsc's (held back, and explained if runsc fails); from then on it is
 * the command's. It runs inside runsc's start sequence and never blocks it (O_NONBLOCK: with no
 * reader, open fails with ENXIO and nothing is written). It exits 0 whatever happens to the fifo
 * (the waiter may be gone); only a wrong command line exits 2, which runsc logs as a warning: a
 * poststart hook's failure does not stop the container (runtime-spec config.md).
 *
 * --oci-state: gvshim wraps each of a spec's own prestart, createRuntime, poststart and poststop
 * hooks in this (runsc/HookWrap.java). runsc gives a hook on stdin the state it knows
 * (runsc/container/hook.go: json.Marshal of specs.State, container.go State()): its own id for
 * the container, which gvshim prefixes (ContainerIds.runscIdFor), the annotations of the spec
 * runsc reads (gvshim's rewrite), and "pid": -1 once the sandbox is gone. This rewrites it into
 * runc's (libcontainer currentOCIState): "ociVersion", "id" (ID, the caller's), "status" (runsc's),
 * "pid" unless the container is stopped (omitempty: runc gives no pid then), "bundle" (BUNDLE, the
 * caller's: runsc reads gvshim's copy of the spec when gvshim changed it; "-": runsc's), "annotations" (ANNOTATIONS, the caller's spec's as a JSON object; empty: none; "-": runsc's), in
 * that order, compact, as Go's encoding/json writes them. The new state goes on stdin as a memfd
 * (memfd_create(2)), then PATH is exec'd in place with ARGV0 ARG...: runsc gave this process the
 * hook's env and enforces the hook's timeout on its pid, so both stay the hook's.
 *
 * Before exec it writes one line on stdout, "gvshim-hook: running the KIND hook PATH": runsc
 * shows a hook's stdout only in the error of a failed hook, where it names gvshim-hook as the
 * hook, and gvshim reads that line to name the hook that failed (diagnose/HookCauses.java). A
 * failure of its own: one line on stderr naming the hook and why, exit 1 (runsc then fails the
 * create for a prestart or createRuntime hook, as runc fails on a hook's error).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hook_state.h"

static int started(const char *fifo)
{
	int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "S", 1);
		close(fd);
	}
	return 0;
}

static const char *kind, *path;

static int fail(const char *why, int err)
{
	fprintf(stderr, "gvshim-hook: cannot run the %s hook %s: %s%s%s\n", kind, path, why, err ? ": " : "",
		err ? strerror(err) : "");
	return 1;
}

static int write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The new stdin: a memfd, or an unlinked file in /tmp where memfd_create is missing (before Linux 3.17). */
static int state_fd(void)
{
	int fd = memfd_create("oci-state", 0);
	if (fd < 0 && errno == ENOSYS) {
		char tmp[] = "/tmp/gvshim-oci-state.XXXXXX";
		fd = mkstemp(tmp);
		if (fd >= 0) {
			unlink(tmp);
		}
	}
	return fd;
}

/* --timeout N: the hook's own timeout, kept by gvshim-hook instead of runsc (see main). */
static unsigned timeout;
static volatile sig_atomic_t expired;

static void on_alarm(int sig)
{
	(void)sig;
	expired = 1;
}

/*
 * Runs the hook as a child in a process group of its own and waits for it, at most `timeout`
 * seconds (alarm(2)); past that, the group is killed (SIGKILL) and one line says so on stderr,
 * which runsc puts in its error and gvshim reads (diagnose/HookCauses.java). Otherwise this
 * process ends as the hook did: its exit status, or the signal that killed it.
 */
static int run_with_timeout(char **hook_argv)
{
	pid_t child = fork();
	if (child < 0) {
		return fail("fork", errno);
	}
	if (child == 0) {
		setpgid(0, 0);
		execv(path, hook_argv);
		fprintf(stderr, "gvshim-hook: cannot run the %s hook %s: execve: %s\n", kind, path, strerror(errno));
		_exit(127);
	}
	setpgid(child, child); /* also here: no window in which a kill of the group misses it */
	struct sigaction sa = {.sa_handler = on_alarm};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: waitpid returns EINTR */
	alarm(timeout);
	int status;
	for (;;) {
		pid_t w = waitpid(child, &status, 0);
		if (w == child) {
			break;
		}
		if (w < 0 && errno == EINTR && expired) {
			kill(-child, SIGKILL);
			kill(child, SIGKILL);
			while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
			}
			fprintf(stderr, "gvshim-hook: the %s hook %s ran past its timeout of %u s: killed\n", kind, path, timeout);
			return 1;
		}
		if (w < 0 && errno != EINTR) {
			return fail("waitpid", errno);
		}
	}
	alarm(0);
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		raise(WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

static int oci_state(int argc, char **argv)
{
	kind = argv[2];
	path = argv[7];
	const char *id = argv[3], *bundle = argv[4], *annotations = argv[5];
	size_t cap = 1 << 16, n = 0;
	char *in = malloc(cap);
	for (;;) {
		if (in == NULL) {
			return fail("out of memory for the container's state", ENOMEM);
		}
		if (n == cap) {
			if (cap >= HOOK_STATE_MAX) {
				return fail("the container's state on stdin is over 16 MiB", 0);
			}
			cap *= 2;
			in = realloc(in, cap);
			continue;
		}
		ssize_t r = read(0, in + n, cap - n);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			return fail("cannot read the container's state on stdin", errno);
		}
		if (r == 0) {
			break;
		}
		n += (size_t)r;
	}
	size_t outcap = n + (strlen(id) + strlen(bundle)) * 6 + strlen(annotations) + 128;
	char *out = malloc(outcap);
	if (out == NULL) {
		return fail("out of memory for the container's state", ENOMEM);
	}
	const char *why = NULL;
	long len = hook_state(in, n, id, bundle, annotations, out, outcap, &why);
	if (len < 0) {
		return fail(why, 0);
	}
	int fd = state_fd();
	if (fd < 0) {
		return fail("cannot make a file for the container's state (memfd_create)", errno);
	}
	if (write_all(fd, out, (size_t)len) < 0 || lseek(fd, 0, SEEK_SET) < 0 || dup2(fd, 0) < 0) {
		return fail("cannot give the hook the container's state", errno);
	}
	if (fd != 0) {
		close(fd);
	}
	printf("gvshim-hook: running the %s hook %s\n", kind, path);
	fflush(stdout);
	if (timeout > 0) {
		return run_with_timeout(argv + 8);
	}
	execv(path, argv + 8);
	(void)argc;
	return fail("execve", errno);
}

int main(int argc, char **argv)
{
	/*
	 * --timeout N before --oci-state: the hook's timeout, which gvshim takes out of runsc's spec.
	 * runsc 2022-12 (runsc/container/hook.go executeHook) kills a hook past its timeout and then
	 * calls cmd.Wait a second time while its own goroutine is in the first: each Wait reads the
	 * output copiers' results from one channel, and when the goroutine's Wait takes them all,
	 * runsc's create waits forever (measured: 2 hangs in ~30 creates, goroutine dump at
	 * hook.go:105, os/exec Wait in chanrecv; the sandbox and gofer stay).
	 */
	if (argc >= 11 && strcmp(argv[1], "--timeout") == 0) {
		char *end;
		unsigned long t = strtoul(argv[2], &end, 10);
		if (*end == '\0' && t > 0 && t < 1000000) {
			timeout = (unsigned)t;
			argv[2] = argv[0];
			return main(argc - 2, argv + 2);
		}
	}
	if (argc == 3 && strcmp(argv[1], "--started") == 0) {
		return started(argv[2]);
	}
	if (argc >= 9 && strcmp(argv[1], "--oci-state") == 0 && strcmp(argv[6], "--") == 0) {
		return oci_state(argc, argv);
	}
	static const char usage[] = "usage: gvshim-hook --started FIFO (an OCI poststart hook of gvshim run)\n"
				    "       gvshim-hook [--timeout N] --oci-state KIND ID BUNDLE ANNOTATIONS -- PATH ARGV0 [ARG...]"
				    " (a spec's hook, given runc's state)\n";
	(void)!write(2, usage, sizeof usage - 1);
	return 2;
}
