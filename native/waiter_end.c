/*
 * The end of a gvshim-waiter run (see gvshim_waiter.c): what is left behind (runsc's helpers,
 * its state, the run directory) and, when runsc died, why (a signal, the OOM killer).
 */
#define _GNU_SOURCE
#include "waiter.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------- cleanup ---------- */

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void remove_tree(const char *dir)
{
	if (dir && *dir)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* gvshim run --memory/--cpus: the cgroups gvshim made for the sandbox (RUN_DIR/cgroups, one per
 * line, deepest first), removed once runsc and its children are gone; rmdir(2) of a cgroup with
 * processes left fails with EBUSY, and it stays. A line "return PROCS" names the cgroup.procs
 * this process goes back to first: with a gvshim server, the client that forked runsc (this
 * process, before it became the waiter) was moved into the sandbox's cgroups so that runsc was
 * born there. */
static long long read_counter(const char *path, const char *key);
static long long limit_oom_kills;
static char limit_cgroup[512];

void remove_cgroups(const char *run_dir)
{
	if (!run_dir)
		return;
	char path[4200];
	snprintf(path, sizeof path, "%s/cgroups", run_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[16384];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	char pid[24];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "return ", 7) == 0) {
			int p = open(line + 7, O_WRONLY | O_CLOEXEC);
			if (p >= 0) {
				if (write(p, pid, strlen(pid)) < 0) {
					/* stays in the sandbox's cgroup: its rmdir fails, the cgroup is left */
				}
				close(p);
			}
		} else if (strncmp(line, "/sys/fs/cgroup/", 15) == 0 && strstr(line, "/gvshim-") && !strstr(line, "/../")) {
			/* the memory cgroup's OOM kills, read before it goes (v1: memory.oom_control, v2: memory.events) */
			char file[4300];
			for (int v = 0; v < 2; v++) {
				snprintf(file, sizeof file, "%s/%s", line, v ? "memory.events" : "memory.oom_control");
				long long n = read_counter(file, "oom_kill");
				if (n > 0 && limit_oom_kills <= 0) {
					limit_oom_kills = n;
					snprintf(limit_cgroup, sizeof limit_cgroup, "%s", line);
				}
			}
			rmdir(line);
		}
	}
}

bool dir_has_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	struct dirent *e;
	bool any = false;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			any = true;
			break;
		}
	closedir(d);
	return any;
}

bool run_dir_destroyed(const char *dir)
{
	if (!dir || !*dir)
		return false;
	struct stat st;
	if (stat(dir, &st) != 0)
		return errno == ENOENT;
	char mark[4096];
	if (snprintf(mark, sizeof mark, "%s/destroyed", dir) >= (int)sizeof mark)
		return false;
	return access(mark, F_OK) == 0;
}

bool log_has_error(const char *log)
{
	if (!log)
		return false;
	int fd = open(log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	/* its first and its last 64 KiB: a pooled sandbox's log has the boot's lines (many with
	 * --debug) before the error of the runsc exec that failed */
	static char b[65536];
	bool found = false;
	struct stat st;
	off_t tail = fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof b - 1 ? st.st_size - (off_t)(sizeof b - 1) : 0;
	off_t at[2] = {0, tail};
	for (int i = 0; i < (tail > 0 ? 2 : 1) && !found; i++) {
		ssize_t n = pread(fd, b, sizeof b - 1, at[i]);
		if (n > 0) {
			b[n] = 0;
			found = strstr(b, "\"level\":\"error\"") != NULL;
		}
	}
	close(fd);
	return found;
}

bool reap_all(double seconds)
{
	double end = now() + seconds;
	for (;;) {
		pid_t p = waitpid(-1, NULL, WNOHANG);
		if (p > 0)
			continue;
		if (p < 0 && errno == ECHILD)
			return true;
		if (now() >= end)
			return false;
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

void kill_remaining_children(void)
{
	DIR *d = opendir("/proc");
	if (!d)
		return;
	pid_t self = getpid();
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[300], stat[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, stat, sizeof stat - 1);
		close(fd);
		if (n <= 0)
			continue;
		stat[n] = 0;
		char *rp = strrchr(stat, ')');
		int ppid;
		char state;
		if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == self)
			kill(atoi(e->d_name), SIGKILL);
	}
	closedir(d);
}

/* ---------- why the sandbox died ---------- */

/* "KEY N" from a file of such lines (memory.events, memory.oom_control, /proc/vmstat); -1 if absent. */
static long long read_counter(const char *path, const char *key)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	static char b[32768];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof b - 1 && (n = read(fd, b + len, sizeof b - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	b[len] = 0;
	size_t kl = strlen(key);
	for (char *l = b; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && l[kl] == ' ')
			return atoll(l + kl + 1);
	return -1;
}

/*
 * The kernel's count of OOM kills, taken when the waiter starts and again when runsc died:
 * the OOM killer sends SIGKILL, so a killed runsc or sandbox is told apart from `kill -9` by
 * the count going up. That of this process's memory cgroup (runsc and its sandbox are in it
 * or below it) when it can be read: memory.events (cgroup v2) or memory.oom_control (v1,
 * Linux 4.13+); and the host's, /proc/vmstat's oom_kill (Linux 4.13+). Both are readable
 * without privileges.
 */
void count_oom_kills(struct oom_count *c)
{
	c->cgroup = -1;
	c->cgroup_path[0] = 0;
	c->host = read_counter("/proc/vmstat", "oom_kill");
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return;
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		char *path = c2 + 1;
		path[strcspn(path, "\n")] = 0;
		const char *controllers = c1 + 1;
		char file[1200];
		bool v1 = false;
		for (const char *t = controllers; *t; t += strcspn(t, ",") + (t[strcspn(t, ",")] == ',')) /* "cpu,memory" */
			if (strncmp(t, "memory", 6) == 0 && (t[6] == ',' || t[6] == 0))
				v1 = true;
		if (v1)
			snprintf(file, sizeof file, "/sys/fs/cgroup/memory%s/memory.oom_control", path);
		else if (*controllers == 0 && c->cgroup < 0)
			snprintf(file, sizeof file, "/sys/fs/cgroup%s/memory.events", path);
		else
			continue;
		long long n = read_counter(file, "oom_kill");
		if (n >= 0) {
			c->cgroup = n;
			snprintf(c->cgroup_path, sizeof c->cgroup_path, "%s", path);
			if (v1)
				break; /* a hybrid host's v2 hierarchy has no memory controller */
		}
	}
	fclose(f);
}

/* Whether runsc's last "Exiting with status: W" (runsc/cli/main.go logs the raw wait status, in
 * decimal) is a death by a signal. The sandbox process exits *normally* with 128+N when the
 * command died by signal N (runsc boot's own exit, the same main.go); only a sandbox process that
 * was itself killed gives runsc run a signaled status. No such line (a runsc that does not log
 * it): assume killed, as before this check. */
static bool killed_status(const char *log)
{
	const char *key = "Exiting with status: ";
	const char *last = NULL;
	for (const char *p = strstr(log, key); p; p = strstr(p + 1, key))
		last = p;
	if (!last)
		return true;
	char *end;
	unsigned long w = strtoul(last + strlen(key), &end, 10);
	if (end == last + strlen(key))
		return true;
	return WIFSIGNALED((int)w);
}

/* runsc run said that the sandbox process died under it: it then waits for that process and
 * exits with 128+N of the signal that killed it, which is indistinguishable from the command's
 * own death by that signal otherwise. The warning is in runsc's debug log of `run`; runsc also
 * says it when the sandbox process merely ended before answering its Wait (the command died,
 * and the sandbox with it, in a race with runsc's Wait RPC): the status tells the two apart. */
bool sandbox_process_died(const char *run_dir)
{
	if (!run_dir)
		return false;
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/debug", run_dir);
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool died = false;
	struct dirent *e;
	while (!died && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 8 || strcmp(e->d_name + len - 8, ".run.txt") != 0)
			continue;
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		static char b[65536];
		off_t size = lseek(fd, 0, SEEK_END);
		ssize_t n = pread(fd, b, sizeof b - 1, size > (off_t)sizeof b - 1 ? size - (off_t)(sizeof b - 1) : 0);
		close(fd);
		if (n > 0) {
			b[n] = 0;
			died = strstr(b, "Will try waiting on the sandbox process instead") != NULL && killed_status(b);
		}
	}
	closedir(d);
	return died;
}

void say_sandbox_died(const char *what, int sig, const struct oom_count *before)
{
	struct oom_count after;
	count_oom_kills(&after);
	const char *abbrev = sigabbrev_np(sig);
	char why[1400], signame[32];
	snprintf(signame, sizeof signame, "SIG%s", abbrev ? abbrev : "?");
	const char *fix;
	if (sig == SIGKILL && limit_oom_kills > 0) {
		snprintf(why, sizeof why, "it reached its --memory limit: the kernel's OOM killer killed %lld process%s of the"
			 " cgroup gvshim made for it (%s)", limit_oom_kills, limit_oom_kills == 1 ? "" : "es", limit_cgroup);
		fix = "raise --memory, or make the command use less";
	} else if (sig == SIGKILL && before->cgroup >= 0 && after.cgroup > before->cgroup) {
		long long k = after.cgroup - before->cgroup;
		snprintf(why, sizeof why, "the kernel's OOM killer killed %lld process%s of its memory cgroup (%s) meanwhile", k,
			 k == 1 ? "" : "es", before->cgroup_path);
		fix = "give the sandbox more memory (raise that cgroup's memory limit) or make the command use less";
	} else if (sig == SIGKILL && before->host >= 0 && after.host > before->host) {
		long long k = after.host - before->host;
		snprintf(why, sizeof why, "the kernel's OOM killer killed %lld process%s on this host meanwhile (oom_kill in /proc/vmstat)",
			 k, k == 1 ? "" : "es");
		fix = "free memory on the host, or make the command use less";
	} else if (sig != SIGKILL || before->host >= 0 || before->cgroup >= 0) {
		snprintf(why, sizeof why, "%s%s sent it %s (kill, a supervisor or service manager)",
			 sig == SIGKILL ? "not the OOM killer (its count " : "",
			 sig == SIGKILL ? (before->cgroup >= 0 ? "in the memory cgroup did not change): something else"
							       : "in /proc/vmstat did not change): something else")
					: "something",
			 signame);
		fix = "find out what stopped it, then run the command again";
	} else {
		snprintf(why, sizeof why, "whether the OOM killer did cannot be told here (no oom_kill counter is readable)");
		fix = "look for \"Out of memory\" in the kernel log (dmesg), then run the command again";
	}
	fprintf(stderr, "gvshim: the sandbox died [%s killed by %s]: %s. Fix: %s [SANDBOX_DIED]\n", what, signame, why, fix);
}
