/*
 * gvshim-nsexec: prepares the namespaces one runsc call runs in, then execs it.
 *
 *     gvshim-nsexec [--userns PATH] [--hide-proc-net] --error-file FILE -- PROGRAM [ARG...]
 *
 * --userns PATH     setns(2) into the user namespace at PATH (a rootless container's holder,
 *                   /proc/PID/ns/user), then become 0:0 in it: runsc runs as that namespace's
 *                   root, which --rootless cannot do for `create`.
 * --hide-proc-net   a private mount namespace with an empty tmpfs over /proc/sys/net: runsc
 *                   2022-12's `start` takes /proc/sys/net/core/rmem_default for "this is the
 *                   root network namespace" and refuses the sandbox network, but every network
 *                   namespace has that file on current kernels. gvshim makes the real check
 *                   (the sandbox's namespace is not the host's) before it calls this.
 * --error-file FILE on failure, "STEP ERRNO\n" is written there and the exit status is 125, so
 *                   the caller can name the call and errno even when stderr is the container's.
 *
 * The runtime verbs start this with the JDK's process API: every runsc call of a runtime verb
 * happens in a short-lived JVM, where linking FFM downcalls would cost more than runsc's own
 * `state` takes. It is static and does nothing else, so the extra exec costs ~1 ms.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* Step names as gvshim's Java side reports them (dev.gvshim.runtime.NsExec). */
#define STEP_USAGE "usage"
#define STEP_OPEN_USERNS "open(userns)"
#define STEP_SETNS "setns(CLONE_NEWUSER)"
#define STEP_SETID "setresuid(0)"
#define STEP_UNSHARE "unshare(CLONE_NEWNS)"
#define STEP_PRIVATE "mount(/, MS_REC|MS_PRIVATE)"
#define STEP_TMPFS "mount(tmpfs, /proc/sys/net)"
#define STEP_EXEC "execve"

static const char *error_file;

static int fail(const char *step, int err)
{
	if (error_file != NULL) {
		int fd = open(error_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dprintf(fd, "%s %d\n", step, err);
			close(fd);
		}
	}
	fprintf(stderr, "gvshim-nsexec: %s: %s\n", step, strerror(err));
	return 125;
}

int main(int argc, char **argv)
{
	const char *userns = NULL;
	int hide_proc_net = 0;
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--userns") == 0 && i + 1 < argc) {
			userns = argv[++i];
		} else if (strcmp(argv[i], "--hide-proc-net") == 0) {
			hide_proc_net = 1;
		} else if (strcmp(argv[i], "--error-file") == 0 && i + 1 < argc) {
			error_file = argv[++i];
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			return fail(STEP_USAGE, EINVAL);
		}
	}
	if (i >= argc)
		return fail(STEP_USAGE, EINVAL);

	if (userns != NULL) {
		int fd = open(userns, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail(STEP_OPEN_USERNS, errno);
		if (setns(fd, CLONE_NEWUSER) != 0)
			return fail(STEP_SETNS, errno);
		close(fd);
		/* Joining grants the namespace's capabilities, not its root ids. */
		if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)
			return fail(STEP_SETID, errno);
	}

	if (hide_proc_net) {
		if (unshare(CLONE_NEWNS) != 0)
			return fail(STEP_UNSHARE, errno);
		/* Nothing of ours may propagate back to the host's mount namespace. */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
			return fail(STEP_PRIVATE, errno);
		/* No /proc/sys/net at all (a kernel without networking): nothing to misread. */
		if (mount("none", "/proc/sys/net", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=555") != 0 &&
		    errno != ENOENT)
			return fail(STEP_TMPFS, errno);
	}

	execv(argv[i], &argv[i]);
	return fail(STEP_EXEC, errno);
}
