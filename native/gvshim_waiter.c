/*
 * gvshim-waiter: what `gvshim run` becomes once runsc is running.
 *
 * The JVM plans the sandbox, clones the user-namespace child, maps its ids, releases it
 * into runsc and then execve()s this program in its own process (same pid), so runsc stays
 * our child and nothing of the JVM stays resident while the command runs.  This program:
 *   - relays stdin/stdout/stderr between the caller and runsc's pipes (runsc never sees the
 *     caller's files: runsc chowns its stdio and gVisor writes regular files at offset 0),
 *     or a pty received over the console socket when the caller is on a terminal;
 *   - holds back stderr until the command has started (the OCI poststart hook writes to the
 *     `started` fifo), so runsc's own error text is never mistaken for the command's;
 *   - forwards SIGHUP/INT/QUIT/TERM/USR1/USR2 to the command with `runsc kill`, because
 *     `runsc run` does not forward signals (a signal to runsc kills the sandbox instead);
 *   - enforces --timeout (TERM, then KILL after --kill-after), exit 124 like timeout(1);
 *   - reaps everything (it is a child subreaper), removes the per-run directory, and exits
 *     with the command's status (128+N when killed by signal N);
 *   - when runsc itself failed, execs `gvshim __explain` so Java turns the failure into one
 *     line with the failed step, errno and fix.
 *
 * Also an OCI hook: `gvshim-waiter --hook-started FIFO` writes one byte to FIFO.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"

#define EXIT_GVSHIM 125  /* gvshim itself failed (docker/podman convention) */
#define EXIT_TIMEOUT 124 /* timeout(1) convention */
#define HOLD_LIMIT (1 << 20)
#define MAX_GLOBALS 16

/* ---------- options ---------- */

static struct {
	pid_t child;
	const char *runsc;
	const char *globals[MAX_GLOBALS]; /* runsc global flags for kill/delete (--root=...) */
	int nglobals;
	const char *id;
	const char *run_dir;
	const char *log;     /* runsc --log file: a "level":"error" line marks runsc's own failure */
	const char *explain; /* gvshim launcher, exec'd as `explain __explain ...` on failure */
	int stdin_fd, stdout_fd, stderr_fd, started_fd, console_fd;
	double timeout, kill_after;
	bool keep, debug;
} opt = {.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .started_fd = -1, .console_fd = -1, .kill_after = 2};

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("gvshim: waiter: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	_exit(EXIT_GVSHIM);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------- signals: a self-pipe, because PID 1 (gvshim as a container entrypoint)
 * never receives signals whose disposition is SIG_DFL, so signalfd alone is not enough */

static int sigpipe_fds[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	(void)!write(sigpipe_fds[1], &b, 1);
	errno = saved;
}

static const int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

static void setup_signals(void)
{
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
		die("pipe2: %s", strerror(errno));
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: blocking writes return */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
		sigaction(forwarded[i], &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* EPIPE on the caller's stdout is handled, not fatal */
	sigset_t none; /* the JVM thread that exec'd us had some signals blocked */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The child may have exited before we were exec'd (its SIGCHLD went to the JVM):
	 * queue one reaping pass. */
	on_signal(SIGCHLD);
}

/* ---------- child processes of our own (runsc kill / delete) ---------- */

static pid_t spawn_runsc(const char *verb, const char *a1, const char *a2)
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

static void runsc_kill(int sig)
{
	char num[16];
	snprintf(num, sizeof num, "%d", sig);
	if (spawn_runsc("kill", opt.id, num) < 0 && opt.debug)
		fprintf(stderr, "gvshim: fork for runsc kill: %s\n", strerror(errno));
}

/* ---------- byte relays ---------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8192;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			die("out of memory buffering stderr");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* ---------- terminal mode ---------- */

static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void)
{
	if (termios_saved) {
		tcsetattr(0, TCSADRAIN, &saved_termios);
		termios_saved = false;
	}
}

static void copy_winsize(int master)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

static int receive_master(int listener)
{
	int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return -1;
	char data[64];
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
	int master = -1;
	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) >= 0) {
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				memcpy(&master, CMSG_DATA(c), sizeof master);
	}
	close(conn);
	if (master >= 0) {
		fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
		copy_winsize(master);
		if (isatty(0) && tcgetattr(0, &saved_termios) == 0) {
			struct termios raw = saved_termios;
			cfmakeraw(&raw);
			if (tcsetattr(0, TCSADRAIN, &raw) == 0)
				termios_saved = true;
		}
	}
	return master;
}

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

static void remove_tree(const char *dir)
{
	if (dir && *dir)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static bool dir_has_entries(const char *dir)
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

static bool log_has_error(void)
{
	if (!opt.log)
		return false;
	int fd = open(opt.log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char b[65536];
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n <= 0)
		return false;
	b[n] = 0;
	return strstr(b, "\"level\":\"error\"") != NULL;
}

/* Waits for every remaining child (we are a subreaper, so orphaned runsc helpers land
 * here) for up to `seconds`; returns true when none is left. */
static bool reap_all(double seconds)
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

static void kill_remaining_children(void)
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
struct oom_count {
	long long cgroup, host;
	char cgroup_path[512];
};

static void count_oom_kills(struct oom_count *c)
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

/* runsc run said that the sandbox process died under it: it then waits for that process and
 * exits with 128+N of the signal that killed it, which is indistinguishable from the command's
 * own death by that signal otherwise. The warning is in runsc's debug log of `run`. */
static bool sandbox_process_died(void)
{
	if (!opt.run_dir)
		return false;
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/debug", opt.run_dir);
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
			died = strstr(b, "Will try waiting on the sandbox process instead") != NULL;
		}
	}
	closedir(d);
	return died;
}

/* One line: what died (runsc or its sandbox process), by which signal, and whether the OOM killer did it. */
static void say_sandbox_died(const char *what, int sig, const struct oom_count *before)
{
	struct oom_count after;
	count_oom_kills(&after);
	const char *abbrev = sigabbrev_np(sig);
	char why[1024], signame[32];
	snprintf(signame, sizeof signame, "SIG%s", abbrev ? abbrev : "?");
	const char *fix;
	if (sig == SIGKILL && before->cgroup >= 0 && after.cgroup > before->cgroup) {
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

/* ---------- hook mode ---------- */

static int hook_started(const char *fifo)
{
	/* Runs inside runsc's start sequence: never fail it, never block it. */
	int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "S", 1);
		close(fd);
	}
	return 0;
}

/* ---------- holder mode ---------- */

/*
 * `gvshim-waiter --hold`: the process that keeps a rootless container's user namespace (and
 * its id mappings) alive between runtime calls; gvshim enters it with setns before each runsc
 * call and SIGKILLs it at delete. It holds nothing else: no descriptors, no terminal.
 */
static _Noreturn void hold(void)
{
	syscall(SYS_close_range, 3U, ~0U, 0);
	setsid();
	prctl(PR_SET_NAME, "gvshim-holder", 0, 0, 0);
	for (;;)
		pause();
}

/* ---------- main loop ---------- */

static void close_other_fds(void)
{
	int keep[] = {opt.stdin_fd, opt.stdout_fd, opt.stderr_fd, opt.started_fd, opt.console_fd};
	/* insertion sort of the descriptors to keep, then close the gaps between them */
	int k[5], n = 0;
	for (int i = 0; i < 5; i++)
		if (keep[i] > 2) {
			int j = n++;
			while (j > 0 && k[j - 1] > keep[i]) {
				k[j] = k[j - 1];
				j--;
			}
			k[j] = keep[i];
		}
	unsigned lo = 3;
	for (int i = 0; i < n; i++) {
		if ((unsigned)k[i] > lo)
			syscall(SYS_close_range, lo, (unsigned)k[i] - 1, 0);
		lo = (unsigned)k[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
}

static void usage(void)
{
	die("usage: gvshim-waiter --child PID --runsc PATH --id ID [--runsc-global ARG]... [--run-dir DIR] [--log FILE] "
	    "[--stdin-fd N] [--stdout-fd N] [--stderr-fd N] [--started-fd N] [--console-fd N] [--timeout S] "
	    "[--kill-after S] [--explain PROG] [--keep] [--debug] | --hook-started FIFO | --hold");
}

static int parse_fd(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < -1 || v > 1 << 20)
		usage();
	return (int)v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"child", required_argument, 0, 'c'},       {"runsc", required_argument, 0, 'r'},
		{"runsc-global", required_argument, 0, 'g'}, {"id", required_argument, 0, 'i'},
		{"run-dir", required_argument, 0, 'd'},     {"log", required_argument, 0, 'l'},
		{"stdin-fd", required_argument, 0, '0'},    {"stdout-fd", required_argument, 0, '1'},
		{"stderr-fd", required_argument, 0, '2'},   {"started-fd", required_argument, 0, 's'},
		{"console-fd", required_argument, 0, 't'},  {"timeout", required_argument, 0, 'T'},
		{"kill-after", required_argument, 0, 'K'},  {"explain", required_argument, 0, 'e'},
		{"keep", no_argument, 0, 'k'},              {"debug", no_argument, 0, 'D'},
		{"hook-started", required_argument, 0, 'H'}, {"hold", no_argument, 0, 'O'},
		{0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': return hook_started(optarg);
		case 'O': hold();
		case 'c': opt.child = (pid_t)atoi(optarg); break;
		case 'r': opt.runsc = optarg; break;
		case 'g':
			if (opt.nglobals == MAX_GLOBALS)
				usage();
			opt.globals[opt.nglobals++] = optarg;
			break;
		case 'i': opt.id = optarg; break;
		case 'd': opt.run_dir = optarg; break;
		case 'l': opt.log = optarg; break;
		case '0': opt.stdin_fd = parse_fd(optarg); break;
		case '1': opt.stdout_fd = parse_fd(optarg); break;
		case '2': opt.stderr_fd = parse_fd(optarg); break;
		case 's': opt.started_fd = parse_fd(optarg); break;
		case 't': opt.console_fd = parse_fd(optarg); break;
		case 'T': opt.timeout = atof(optarg); break;
		case 'K': opt.kill_after = atof(optarg); break;
		case 'e': opt.explain = optarg; break;
		case 'k': opt.keep = true; break;
		case 'D': opt.debug = opt.keep = true; break;
		default: usage();
		}
	}
	if (opt.child <= 0 || !opt.runsc || !opt.id)
		usage();

	const char *trace_env = getenv("GVSHIM_TRACE");
	bool trace = trace_env != NULL && *trace_env != 0; /* GVSHIM_TRACE= (empty) is off */
	if (trace)
		fprintf(stderr, "gvshim: trace waiter started at monotonic %.0f us\n", now() * 1e6);
	close_other_fds();
	setup_signals();
	/* runsc's sandbox and gofer are runsc's children; if runsc dies they come to us. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	struct oom_count oom_before;
	count_oom_kills(&oom_before);

	int in_src = 0;                       /* caller's stdin, relayed to in_dst */
	int in_dst = opt.stdin_fd;            /* runsc's stdin pipe (or the pty master) */
	int out_fd = opt.stdout_fd, err_fd = opt.stderr_fd;
	int master = -1;
	bool started = opt.started_fd < 0, in_eof = false;
	/* The caller's stdout and stderr: a write that fails (a full disk, >/dev/full, a closed
	 * descriptor) is recorded there, the pipe it came from is closed so that the command gets
	 * EPIPE, and gvshim's exit status and one line say that output was lost (see the end). */
	struct relay_sink out_sink = {.fd = 1, .name = "stdout"}, err_sink = {.fd = 2, .name = "stderr"};
	struct buf held = {0}, pending_in = {0};
	size_t pending_off = 0;
	if (in_dst >= 0)
		fcntl(in_dst, F_SETFL, fcntl(in_dst, F_GETFL) | O_NONBLOCK);
	if (out_fd >= 0)
		fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
	if (err_fd >= 0)
		fcntl(err_fd, F_SETFL, fcntl(err_fd, F_GETFL) | O_NONBLOCK);

	int status = 0, stop_signal = 0, interrupts = 0;
	bool exited = false, timed_out = false;
	double t0 = now();
	double deadline = opt.timeout > 0 ? t0 + opt.timeout : 0; /* next escalation time */
	int escalation = 0; /* 0 = none yet, 1 = TERM sent, 2 = KILL sent, 3 = runsc killed */
	double drain_until = 0;
	char b[65536];

	for (;;) {
		if (exited && out_fd < 0 && err_fd < 0 && master < 0)
			break;
		if (exited && now() >= drain_until)
			break;

		struct pollfd p[7];
		int n = 0, i_sig, i_in = -1, i_indst = -1, i_out = -1, i_err = -1, i_started = -1, i_console = -1, i_master = -1;
		p[i_sig = n++] = (struct pollfd){sigpipe_fds[0], POLLIN, 0};
		bool want_in = !exited && !in_eof && (in_dst >= 0 || master >= 0) && pending_in.len == pending_off;
		if (want_in)
			p[i_in = n++] = (struct pollfd){in_src, POLLIN, 0};
		int dst = master >= 0 ? master : in_dst;
		if (dst >= 0 && pending_in.len > pending_off)
			p[i_indst = n++] = (struct pollfd){dst, POLLOUT, 0};
		if (out_fd >= 0)
			p[i_out = n++] = (struct pollfd){out_fd, POLLIN, 0};
		if (err_fd >= 0)
			p[i_err = n++] = (struct pollfd){err_fd, POLLIN, 0};
		if (opt.started_fd >= 0)
			p[i_started = n++] = (struct pollfd){opt.started_fd, POLLIN, 0};
		if (opt.console_fd >= 0)
			p[i_console = n++] = (struct pollfd){opt.console_fd, POLLIN, 0};
		if (master >= 0)
			p[i_master = n++] = (struct pollfd){master, POLLIN, 0};

		int wait_ms = -1;
		double wake = exited ? drain_until : deadline;
		if (wake > 0) {
			double d = wake - now();
			wait_ms = d <= 0 ? 0 : (int)(d * 1000) + 1;
		}
		int r = poll(p, (nfds_t)n, wait_ms);
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));

		/* timeout escalation: TERM, then KILL, then kill runsc itself */
		if (!exited && deadline > 0 && now() >= deadline) {
			if (escalation == 0 && opt.timeout > 0 && !timed_out) {
				timed_out = true;
				fprintf(stderr, "gvshim: timeout: the command was still running after %gs; stopping it\n", opt.timeout);
			}
			escalation++;
			if (escalation == 1 && started)
				runsc_kill(SIGTERM);
			else if (escalation <= 2 && started)
				runsc_kill(SIGKILL), escalation = 2;
			else
				kill(opt.child, SIGKILL), escalation = 3;
			deadline = now() + (escalation == 1 ? opt.kill_after : 2);
		}

		if (r <= 0)
			continue;

		if (p[i_sig].revents & POLLIN) {
			unsigned char sigs[64];
			ssize_t k = read(sigpipe_fds[0], sigs, sizeof sigs);
			for (ssize_t j = 0; j < k; j++) {
				int sig = sigs[j];
				if (sig == SIGCHLD) {
					int st;
					pid_t w;
					while ((w = waitpid(-1, &st, WNOHANG)) > 0)
						if (w == opt.child && !exited) {
							if (trace)
								fprintf(stderr, "gvshim: trace runsc exited at monotonic %.0f us\n", now() * 1e6);
							exited = true;
							status = st;
							drain_until = now() + 2;
							close_fd(&in_dst);
						}
				} else if (sig == SIGWINCH) {
					if (master >= 0)
						copy_winsize(master);
				} else if (!exited) {
					if (!started) {
						/* nothing runs yet: stop runsc; its sandbox dies with it (PDEATHSIG) */
						stop_signal = sig;
						kill(opt.child, SIGKILL);
					} else if ((sig == SIGINT || sig == SIGTERM) && ++interrupts >= 3) {
						stop_signal = sig;
						kill(opt.child, SIGKILL);
					} else {
						runsc_kill(sig == SIGINT || sig == SIGTERM ? (interrupts == 2 ? SIGKILL : sig) : sig);
					}
				}
			}
		}

		if (i_started >= 0 && p[i_started].revents) {
			char s;
			if (read(opt.started_fd, &s, 1) == 1 || (p[i_started].revents & POLLHUP)) {
				started = true;
				close_fd(&opt.started_fd);
				if (held.len && !relay_put(&err_sink, held.p, held.len))
					relay_drop(&err_sink, &err_fd);
				held.len = 0;
			}
		}

		if (i_console >= 0 && (p[i_console].revents & POLLIN)) {
			master = receive_master(opt.console_fd);
			close_fd(&opt.console_fd);
		}

		if (i_in >= 0 && p[i_in].revents) {
			ssize_t k = read(in_src, b, sizeof b);
			if (k > 0) {
				pending_in.len = pending_off = 0;
				buf_add(&pending_in, b, (size_t)k);
			} else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
				in_eof = true;
				if (master < 0)
					close_fd(&in_dst); /* EOF reaches the command */
			}
		}

		if (i_indst >= 0 && p[i_indst].revents) {
			ssize_t w = write(dst, pending_in.p + pending_off, pending_in.len - pending_off);
			if (w > 0)
				pending_off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				/* the command closed its stdin: stop reading ours */
				in_eof = true;
				pending_in.len = pending_off = 0;
				if (master < 0)
					close_fd(&in_dst);
			}
		}

		if (i_out >= 0 && p[i_out].revents) {
			ssize_t k = read(out_fd, b, sizeof b);
			if (k > 0) {
				/* the caller's reader went away or its file is full: the command sees EPIPE */
				if (!relay_put(&out_sink, b, (size_t)k))
					relay_drop(&out_sink, &out_fd);
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(&out_fd);
			}
		}

		if (i_err >= 0 && p[i_err].revents) {
			ssize_t k = read(err_fd, b, sizeof b);
			if (k > 0) {
				if (started) {
					if (!relay_put(&err_sink, b, (size_t)k))
						relay_drop(&err_sink, &err_fd);
				} else {
					buf_add(&held, b, (size_t)k);
					if (held.len > HOLD_LIMIT) { /* never hold unbounded output */
						if (!relay_put(&err_sink, held.p, held.len))
							relay_drop(&err_sink, &err_fd);
						held.len = 0;
					}
				}
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(&err_fd);
			}
		}

		if (i_master >= 0 && p[i_master].revents) {
			ssize_t k = read(master, b, sizeof b);
			if (k > 0) {
				/* closing the master hangs the terminal up: the command gets EIO or SIGHUP */
				if (!relay_put(&out_sink, b, (size_t)k))
					relay_drop(&out_sink, &master);
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR))
				close_fd(&master); /* EIO: the terminal's last user is gone */
		}
	}
	restore_terminal();
	if (trace)
		fprintf(stderr, "gvshim: trace relay done at monotonic %.0f us (runsc %s)\n", now() * 1e6, exited ? "exited" : "running");

	/* wait for runsc if the drain loop ended before its SIGCHLD was processed */
	while (!exited) {
		int st;
		pid_t w = waitpid(opt.child, &st, 0);
		if (w == opt.child) {
			exited = true;
			status = st;
		} else if (w < 0 && errno != EINTR)
			break;
	}

	bool runsc_failed = WIFEXITED(status) && WEXITSTATUS(status) == 128 && log_has_error();
	if (!runsc_failed && held.len && started)
		relay_put(&err_sink, held.p, held.len);

	/* leftovers: a killed runsc leaves its state files and maybe a dying sandbox */
	char runsc_root[4096] = "";
	if (opt.run_dir)
		snprintf(runsc_root, sizeof runsc_root, "%s/runsc", opt.run_dir);
	if (!reap_all(WIFSIGNALED(status) ? 1.0 : 0.2) || (runsc_root[0] && dir_has_entries(runsc_root))) {
		pid_t d = spawn_runsc("delete", "--force", opt.id);
		if (d > 0) {
			double end = now() + 5;
			while (now() < end && waitpid(d, NULL, WNOHANG) == 0) {
				struct timespec ts = {0, 5 * 1000 * 1000};
				nanosleep(&ts, NULL);
			}
		}
		if (!reap_all(1.0)) {
			kill_remaining_children();
			reap_all(1.0);
		}
	}

	if (runsc_failed && opt.explain) {
		if (opt.run_dir && held.len) {
			char path[4200];
			snprintf(path, sizeof path, "%s/runsc.stderr", opt.run_dir);
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (fd >= 0) {
				relay_write_all(fd, held.p, held.len, NULL);
				close(fd);
			}
		}
		char code[16];
		snprintf(code, sizeof code, "%d", WEXITSTATUS(status));
		const char *args[] = {opt.explain, "__explain", "--run-dir", opt.run_dir ? opt.run_dir : "", "--status", code,
				      opt.keep ? "--keep" : NULL, NULL};
		execv(opt.explain, (char *const *)args);
		fprintf(stderr, "gvshim: runsc failed (exit %s) and `%s __explain` could not run: %s\n", code, opt.explain,
			strerror(errno));
		return EXIT_GVSHIM;
	}
	if (runsc_failed && held.len)
		relay_put(&err_sink, held.p, held.len);

	/* runsc killed by a signal we did not send (kill -9, the OOM killer): say so. runsc run
	 * itself reports a sandbox process killed under it as 128+N, like the command's death. */
	bool runsc_killed = WIFSIGNALED(status) && escalation < 3 && !stop_signal;
	if (runsc_killed) {
		char what[64];
		snprintf(what, sizeof what, "runsc (pid %d)", (int)opt.child);
		say_sandbox_died(what, WTERMSIG(status), &oom_before);
	} else if (!timed_out && !stop_signal && WIFEXITED(status) && WEXITSTATUS(status) > 128 &&
		   WEXITSTATUS(status) < 128 + NSIG && sandbox_process_died()) {
		say_sandbox_died("its sandbox process", WEXITSTATUS(status) - 128, &oom_before);
	}

	if (opt.keep)
		fprintf(stderr, "gvshim: kept the run directory %s\n", opt.run_dir ? opt.run_dir : "");
	else
		remove_tree(opt.run_dir);

	if (trace)
		fprintf(stderr, "gvshim: trace waiter exiting at monotonic %.0f us\n", now() * 1e6);
	int code = timed_out ? EXIT_TIMEOUT
		   : stop_signal ? 128 + stop_signal
		   : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
					  : WEXITSTATUS(status);
	/* Output lost (a full disk, >/dev/full, a closed stdout): never a silent success. The
	 * command's own status when it failed, else 125; the line where stderr can take it. */
	if (relay_lost(&out_sink) || relay_lost(&err_sink)) {
		char line[1024];
		if (relay_lost(&out_sink) && !err_sink.err)
			fprintf(stderr, "%s\n", relay_describe(&out_sink, "the command's", line, sizeof line));
		if (code == 0)
			code = EXIT_GVSHIM;
	}
	return code;
}
