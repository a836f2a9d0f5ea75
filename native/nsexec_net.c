/*
 * --slirp4netns PATH --net-log FILE (gvshim run --network sandbox): a network namespace of runsc's
 * own, connected to the outside by slirp4netns, a user-mode network (TCP/IP in a user process
 * that makes ordinary sockets on the host), so that gVisor's netstack reaches the outside
 * without root.
 *
 * Why here, in the process that becomes runsc, and in this order:
 *  - runsc --network=sandbox takes over the interfaces of the sandbox's network namespace when it
 *    boots (runsc/sandbox/network.go, createInterfacesAndRoutesFromNS: their addresses, routes
 *    and an AF_PACKET socket per link); with only lo there the sandbox has loopback only. The
 *    spec names /proc/self/ns/net, so the sandbox joins runsc's, which must already hold tap0.
 *  - slirp4netns must stay in the caller's network namespace (it connects from there) and be
 *    given a process in the new one (it setns(2)s into /proc/PID/ns/net to create tap0, sends
 *    the tap descriptor back to its parent half, and then serves it from outside). So it is
 *    forked before unshare(CLONE_NEWNET) and told our pid, which keeps across execve(runsc).
 *  - This process is root of the user namespace gvshim cloned (full mode), which owns the new
 *    network namespace: slirp4netns, its child, has CAP_NET_ADMIN there. /dev/net/tun must be
 *    openable by the caller (gvshim checks first: udev's default is 0666).
 *  - It must never outlive the sandbox: PR_SET_PDEATHSIG(SIGKILL) is set in the child before the
 *    exec, and its parent thread is this one, which becomes runsc run's main thread (Go never
 *    ends a process's main thread before the process), so it dies with runsc run, which dies with
 *    gvshim's waiter (the waiter is a subreaper and reaps it). The exec waits until it is ready
 *    (--ready-fd), so the tap device exists before runsc looks.
 *  - --disable-host-loopback: 10.0.2.2 (slirp's gateway) does not reach the host's 127.0.0.1, so
 *    the host's local-only services stay out of the sandbox's reach.
 *  - Its stdout and stderr go to FILE (the run directory), never to the command's stdio: it
 *    prints its progress, and holding our stdout pipe would keep the command's output open.
 */
#define _GNU_SOURCE
#include "nsexec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* How long slirp4netns may take to create tap0 (it takes ~10 ms). */
#define READY_TIMEOUT_MS 10000

static void child(int go, int ready, pid_t target)
{
	/* SIGKILL when the thread that forked us (this process's, then runsc run's main thread) ends */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != target)
		_exit(127);
	char b;
	if (read(go, &b, 1) != 1) /* EOF: the parent failed to make the namespace */
		_exit(127);
	int null = open("/dev/null", O_RDONLY);
	int log = open(prep.net_log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 || dup2(ready, 3) < 0)
		_exit(127);
	/* only 0-3: not runsc's stdio pipes (the command's output would stay open), nor anything else */
	syscall(SYS_close_range, 4U, ~0U, 0U);
	char pid[16], fd[24];
	snprintf(pid, sizeof pid, "%d", (int)target);
	snprintf(fd, sizeof fd, "--ready-fd=3");
	char *argv[] = {"slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", fd, pid, "tap0", NULL};
	execv(prep.slirp4netns, argv);
	dprintf(2, "gvshim-nsexec: execve %s: %s\n", prep.slirp4netns, strerror(errno));
	_exit(127);
}

int start_network(void)
{
	int go[2], ready[2];
	if (pipe2(go, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0)
		return fail(STEP_NET_PIPE, errno);
	pid_t self = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return fail(STEP_NET_FORK, errno);
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		child(go[0], ready[1], self);
	}
	close(go[0]);
	close(ready[1]);
	if (unshare(CLONE_NEWNET) != 0) {
		int e = errno;
		close(go[1]); /* the child exits at EOF */
		waitpid(pid, NULL, 0);
		return fail(STEP_NET_UNSHARE, e);
	}
	if (write(go[1], "g", 1) != 1)
		return fail(STEP_NET_FORK, errno);
	close(go[1]);
	/* slirp4netns writes "1" once tap0 is configured; EOF: it exited (why: FILE) */
	struct pollfd p = {.fd = ready[0], .events = POLLIN};
	int n;
	while ((n = poll(&p, 1, READY_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	char b = 0;
	if (n == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return fail(STEP_NET_READY, ETIMEDOUT);
	}
	if (n < 0 || read(ready[0], &b, 1) != 1 || b != '1') {
		int st = 0;
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		/* the child's status in the errno field: 127 = it could not exec slirp4netns (ENOENT) */
		return fail(STEP_NET_READY, WIFEXITED(st) && WEXITSTATUS(st) == 127 ? ENOENT : ECHILD);
	}
	close(ready[0]);
	return 0;
}
