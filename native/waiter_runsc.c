/*
 * gvshim-waiter's runsc calls of its own: `runsc kill` for a signal or the --timeout, `runsc
 * delete --force` for what is left (gvshim_waiter.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include "waiter.h"

/* ---------- child processes of our own (runsc kill / delete) ---------- */

pid_t spawn_runsc(const char *verb, const char *a1, const char *a2)
{
	return spawn_runsc3(verb, a1, a2, NULL);
}

pid_t spawn_runsc3(const char *verb, const char *a1, const char *a2, const char *a3)
{
	const char *argv[MAX_GLOBALS + 8];
	int n = 0;
	argv[n++] = opt.runsc;
	for (int i = 0; i < opt.nglobals; i++)
		argv[n++] = opt.globals[i];
	argv[n++] = verb;
	if (a1)
		argv[n++] = a1;
	if (a2)
		argv[n++] = a2;
	if (a3)
		argv[n++] = a3;
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			if (!opt.debug) {
				dup2(null, 1);
				dup2(null, 2);
			}
		}
		signal(SIGPIPE, SIG_DFL);
		execv(opt.runsc, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* The sandbox-internal pid runsc exec wrote, as "--pid=N"; false while it has not written it yet. */
static bool exec_pid(char *flag, size_t size)
{
	char buf[24] = "";
	int fd = open(opt.signal_pid_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
	if (pid <= 0)
		return false;
	snprintf(flag, size, "--pid=%ld", pid);
	return true;
}

bool exec_started(void)
{
	char pid[40];
	return opt.signal_pid_file && exec_pid(pid, sizeof pid);
}

int exec_pid_watch(void)
{
	char path[4096];
	snprintf(path, sizeof path, "%s", opt.signal_pid_file);
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd >= 0 && inotify_add_watch(fd, dirname(path), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void runsc_kill(int sig)
{
	char num[16], pid[40];
	snprintf(num, sizeof num, "%d", sig);
	pid_t p;
	if (opt.signal_pid_file) {
		/* before runsc exec wrote the pid the command has not started: runsc exec itself takes it */
		if (!exec_pid(pid, sizeof pid)) {
			kill(opt.child, sig == SIGKILL ? SIGKILL : SIGTERM);
			return;
		}
		p = spawn_runsc3("kill", pid, opt.id, num);
	} else
		p = spawn_runsc("kill", opt.id, num);
	if (p < 0 && opt.debug)
		fprintf(stderr, "gvshim: fork for runsc kill: %s\n", strerror(errno));
}

