/*
 * The child side of clone(2), entered from Java through FFM:
 *     clone(gvshim_child, stack_top, flags, &spawn)
 *
 * Nothing here may allocate, take locks or touch JVM state: the child is either a
 * copy-on-write image of a multi-threaded JVM (CLONE_NEWUSER child) or shares its memory
 * (CLONE_VM|CLONE_VFORK helper spawns, where the parent thread is suspended until execve).
 * Only raw, async-signal-safe system calls follow, then execve.
 */
#define _GNU_SOURCE
#include "gvshim.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

__attribute__((visibility("default"))) int gvshim_abi_version(void) { return GVSHIM_ABI_VERSION; }

__attribute__((visibility("default"))) long gvshim_spawn_size(void) { return (long)sizeof(struct gvshim_spawn); }

static void report(const struct gvshim_spawn *s, int step, int err)
{
	if (s->status_fd >= 0) {
		int32_t msg[2] = {step, err};
		ssize_t n;
		do {
			n = write(s->status_fd, msg, sizeof msg);
		} while (n < 0 && errno == EINTR);
	}
	_exit(127);
}

/* Handlers installed by the JVM are meaningless here; SIG_IGN survives execve on purpose
 * (a command started under nohup keeps ignoring SIGHUP). */
static int reset_signals(void)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, NULL, &old) != 0)
			continue; /* reserved by glibc (32, 33): nothing to reset */
		if (old.sa_handler != SIG_IGN && old.sa_handler != SIG_DFL)
			sigaction(sig, &dfl, NULL);
	}
	sigset_t none;
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL);
}

static int cloexec_from(int first)
{
	if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	/* Kernels before 5.11: mark what a JVM can plausibly have open. */
	for (int fd = first; fd < 65536; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

__attribute__((visibility("default"))) int gvshim_child(void *arg)
{
	const struct gvshim_spawn *s = arg;

	if (s->flags & GVSHIM_PDEATHSIG) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
			report(s, GVSHIM_STEP_PDEATHSIG, errno);
		/* The parent may have died before prctl took effect (prctl(2), PR_SET_PDEATHSIG). */
		if (getppid() != s->parent_pid)
			report(s, GVSHIM_STEP_PARENT_GONE, ESRCH);
	}

	if (s->sync_fd >= 0) {
		char go;
		/* A fork-like child inherits both ends: drop the parent's, or EOF never comes. */
		if (s->sync_peer >= 0)
			close(s->sync_peer);
		ssize_t n;
		do {
			n = read(s->sync_fd, &go, 1);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			report(s, GVSHIM_STEP_SYNC, errno);
		if (n == 0)
			_exit(126); /* the parent gave up (closed the pipe): never exec */
		close(s->sync_fd);
	}

	if (s->flags & GVSHIM_SETUID) {
		gid_t g = (gid_t)s->gid;
		if (setgroups(1, &g) != 0 || setresgid(g, g, g) != 0 || setresuid((uid_t)s->uid, (uid_t)s->uid, (uid_t)s->uid) != 0)
			report(s, GVSHIM_STEP_SETUID, errno);
	}

	if ((s->flags & GVSHIM_SETPGID) && setpgid(0, 0) != 0)
		report(s, GVSHIM_STEP_SETPGID, errno);

	for (int i = 0; i < 3; i++) {
		int fd = s->stdio[i];
		if (fd < 0)
			continue;
		if (fd == i) {
			if (fcntl(fd, F_SETFD, 0) != 0)
				report(s, GVSHIM_STEP_STDIO, errno);
		} else if (dup2(fd, i) < 0) {
			report(s, GVSHIM_STEP_STDIO, errno);
		}
	}

	/* The JVM's descriptors (jars, sockets, epoll fds...) must not leak into runsc. */
	if (cloexec_from(3) != 0)
		report(s, GVSHIM_STEP_CLOEXEC, errno);

	if (reset_signals() != 0)
		report(s, GVSHIM_STEP_SIGNALS, errno);

	execve(s->path, s->argv, s->envp);
	report(s, GVSHIM_STEP_EXEC, errno);
	return 127;
}
