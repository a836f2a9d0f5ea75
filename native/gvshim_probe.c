/*
 * gvshim-probe: the live half of `gvshim doctor`.
 *
 * Exec'd by gvshim_child inside a freshly created and mapped user namespace (so no Java
 * runs there), it tries, one by one, what runsc is about to do in that namespace and
 * reports each step on stdout as one line "STEP ERRNO [VALUE]": ERRNO 0 is success, -1
 * means the step was not tried because one it depends on failed.
 *
 *   unshare-mnt unshare-pid unshare-net unshare-ipc unshare-uts   namespaces of the sandbox
 *   mount-private  mount-tmpfs  mount-proc  mount-sysfs            in a child that is pid 1
 *   pivot-root  umount-old                                         of the new pid namespace
 *   ptrace                                                         attach to its own child
 *   nest N                                                         user-namespace levels left
 *
 * Namespaces are created with clone(CLONE_NEW*), never unshare(2): runsc (Go's
 * SysProcAttr.Cloneflags) uses clone only, and a seccomp profile may allow one and not the
 * other (docker/seccomp-gvshim.json allows clone with namespace flags, not unshare). The step
 * names keep their historical "unshare-" prefix: they are the report's protocol.
 *
 * Usage: gvshim-probe DIR   (DIR: an empty directory, covered by a tmpfs in the private
 * mount namespace only).  Nothing here changes anything outside the throwaway namespaces.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOT_RUN -1
#define MAX_NEST 40

static void report(const char *step, int err)
{
	char line[96];
	int n = snprintf(line, sizeof line, "%s %d\n", step, err);
	if (write(1, line, (size_t)n) < 0)
		_exit(3);
}

static int try(const char *step, int ok)
{
	int err = ok ? 0 : errno;
	report(step, err);
	return err;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* fork(2) with namespace flags: the raw clone syscall, no stack given, so the child continues
 * here on a copy of the parent's stack. Safe in this single-threaded program. */
static pid_t clone_fork(unsigned long flags)
{
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0UL);
}

static int reap(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
		;
	return st;
}

/* Can a child be cloned into a new namespace of this type? (the child exits at once) */
static int try_clone(const char *step, unsigned long flag)
{
	pid_t pid = clone_fork(flag);
	if (pid == 0)
		_exit(0);
	int err = pid < 0 ? errno : 0;
	if (pid > 0)
		reap(pid);
	report(step, err);
	return err;
}

/* One level of nesting: clone a child into a new user namespace, which maps 0 to 0 (unmapped
 * ids cannot create a namespace below) and goes one level deeper; the deepest reports. */
static void nest_level(int levels)
{
	int err = 0;
	if (levels < MAX_NEST) {
		pid_t pid;
		for (int tries = 0;; tries++) {
			pid = clone_fork(CLONE_NEWUSER);
			if (pid >= 0 || errno != ENOSPC || tries >= 40)
				break;
			/* A namespace whose last process just exited (the failed run's, an earlier probe's)
			 * is returned to the count by a kernel work item: put_user_ns() schedules
			 * free_user_ns(). Give it the grace LiveProbe.measureWide gives the side-by-side
			 * count, or depth and count are measured against different counts (run's explanation
			 * and doctor's then differ: USERNS_NESTING against USERNS_LIMIT). */
			struct timespec pause = {0, 5 * 1000 * 1000};
			nanosleep(&pause, NULL);
		}
		if (pid == 0) {
			if (write_file("/proc/self/setgroups", "deny") != 0 || write_file("/proc/self/uid_map", "0 0 1") != 0 ||
			    write_file("/proc/self/gid_map", "0 0 1") != 0) {
				char line[64];
				int n = snprintf(line, sizeof line, "nest %d %d\n", errno, levels + 1);
				if (write(1, line, (size_t)n) < 0)
					_exit(3);
				_exit(0);
			}
			nest_level(levels + 1);
			_exit(0);
		}
		if (pid > 0) {
			reap(pid);
			return;
		}
		err = errno;
	}
	char line[64];
	int n = snprintf(line, sizeof line, "nest %d %d\n", err, levels);
	if (write(1, line, (size_t)n) < 0)
		_exit(3);
}

/* How many more user namespaces can be nested below this one. */
static void nest(void)
{
	nest_level(0);
}

static void ptrace_own_child(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		report("ptrace", errno);
		return;
	}
	if (pid == 0) {
		for (;;)
			pause();
	}
	int err = 0, st;
	if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0) {
		err = errno;
	} else {
		while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
			;
		ptrace(PTRACE_DETACH, pid, 0, 0);
	}
	report("ptrace", err);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
		;
}

/* pid 1 of the new pid namespace (when unshare-pid worked): mounts, pivot_root, ptrace. */
static int sandbox_side(const char *dir, int mnt, int pid_ns, int net)
{
	char proc[4096], sys[4096], old[4096];
	snprintf(proc, sizeof proc, "%s/proc", dir);
	snprintf(sys, sizeof sys, "%s/sys", dir);
	snprintf(old, sizeof old, "%s/old", dir);

	int priv = mnt == 0 ? try("mount-private", mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0) : NOT_RUN;
	if (priv == NOT_RUN)
		report("mount-private", NOT_RUN);
	int tmpfs = priv == 0 ? try("mount-tmpfs", mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755") == 0)
			      : NOT_RUN;
	if (tmpfs == NOT_RUN)
		report("mount-tmpfs", NOT_RUN);
	if (tmpfs == 0) {
		mkdir(proc, 0755);
		mkdir(sys, 0755);
		mkdir(old, 0755);
	}
	if (tmpfs == 0 && pid_ns == 0)
		try("mount-proc", mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0);
	else
		report("mount-proc", NOT_RUN);
	if (tmpfs == 0 && net == 0)
		try("mount-sysfs", mount("sysfs", sys, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0);
	else
		report("mount-sysfs", NOT_RUN);
	if (tmpfs == 0) {
		int err = syscall(SYS_pivot_root, dir, old) == 0 ? 0 : errno;
		report("pivot-root", err);
		/* runsc detaches the old root right after pivot_root (umount2 MNT_DETACH) */
		if (err == 0 && chdir("/") == 0)
			try("umount-old", umount2("/old", MNT_DETACH) == 0);
		else
			report("umount-old", NOT_RUN);
	} else {
		report("pivot-root", NOT_RUN);
		report("umount-old", NOT_RUN);
	}
	ptrace_own_child();
	nest();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] != '/') {
		static const char usage[] = "usage: gvshim-probe DIR (run by gvshim doctor in a new user namespace)\n";
		if (write(2, usage, sizeof usage - 1) < 0)
			return 2;
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	int mnt = try_clone("unshare-mnt", CLONE_NEWNS);
	int pid_ns = try_clone("unshare-pid", CLONE_NEWPID);
	int net = try_clone("unshare-net", CLONE_NEWNET);
	int ipc = try_clone("unshare-ipc", CLONE_NEWIPC);
	int uts = try_clone("unshare-uts", CLONE_NEWUTS);

	/* The sandbox side in every namespace that could be created, as runsc's sandbox is. */
	unsigned long flags = (mnt == 0 ? CLONE_NEWNS : 0) | (pid_ns == 0 ? CLONE_NEWPID : 0) |
			      (net == 0 ? CLONE_NEWNET : 0) | (ipc == 0 ? CLONE_NEWIPC : 0) | (uts == 0 ? CLONE_NEWUTS : 0);
	pid_t child = clone_fork(flags);
	if (child < 0) {
		report("fork", errno);
		return 1;
	}
	if (child == 0)
		_exit(sandbox_side(argv[1], mnt, pid_ns, net));
	int st = reap(child);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
