/*
 * gvshim-nsexec: runs one runsc call of a runtime verb: gives runsc stdio of its own and relays
 * it, prepares the namespaces runsc runs in, then execs it.
 *
 *     gvshim-nsexec [--relay wait|detach|terminal] [--log FILE [--log-format json|text] --id ID]
 *                   [--userns PATH] [--hide-proc-net] [--nodev-file FILE [--own-mountns]]
 *                   [--runsc-log FILE] [--argv0 NAME] --error-file FILE -- PROGRAM [ARG...]
 *
 * --relay MODE      runsc never gets the caller's stdin, stdout or stderr: without --rootless it
 *                   fchown(2)s every stdio file it is given to the sandbox's user (runsc/sandbox/
 *                   sandbox.go, configureStdios: the host's /dev/null under Docker, a root
 *                   terminal, the caller's files), and gVisor writes a regular file it is given at
 *                   offset 0. runsc gets pipes; this process keeps the caller's descriptors and
 *                   copies between them with read(2)/write(2) (relay.c), while runsc is its child:
 *
 *                       gvshim (JVM) -- gvshim-nsexec: relay -- runsc -- sandbox, gofer
 *
 *                   The namespace options below are applied in the relay's child just before it
 *                   execs runsc: the relay itself stays in the caller's namespaces.
 *                   A caller's stdin that is /dev/null or closed becomes an empty pipe (EOF), with
 *                   nothing to relay; a stdout and stderr that are one open file (2>&1, a terminal)
 *                   become one pipe, so the container's order of writes is kept. When runsc exits,
 *                   the container may still hold the pipes (create: for its whole life):
 *                     detach    what is left is relayed by a forked copy of this process, which
 *                               ends by itself when the container's stdio closes (it never holds
 *                               the caller's descriptors beyond that: Docker waits for them), and
 *                               nsexec exits with runsc's status at once. That copy stays in the
 *                               caller's process tree (containerd's shim, a subreaper, reaps it)
 *                               and is named by no pid file: nothing waits for it instead of the
 *                               container.
 *                     wait      (run, exec, restore in the foreground) relaying goes on until the
 *                               pipes close, for up to a second after runsc's exit (a background
 *                               process of the container may keep them, as with runc), then as
 *                               with detach.
 *                     terminal  (run, exec in the foreground with process.terminal and no
 *                               --console-socket: runsc would use the caller's terminal as the
 *                               container's) runsc gets a new pty as stdin, stdout and stderr; the
 *                               caller's terminal is put in raw mode and relayed to it, as runc
 *                               does for `runc run` with a terminal.
 *                   Output that cannot be written (a full disk, >/dev/full, a closed descriptor)
 *                   makes the container's writes fail with EPIPE, and adds an error line to --log;
 *                   in the foreground modes also one line on stderr (when stderr works), and the
 *                   exit status is runsc's, or 125 where that is 0.
 * --log FILE        the runtime's --log, for that line (--log-format json or text, --id: the container)
 * --userns PATH     setns(2) into the user namespace at PATH (a rootless container's holder,
 *                   /proc/PID/ns/user), then become 0:0 in it: runsc runs as that namespace's
 *                   root, which --rootless cannot do for `create`.
 * --hide-proc-net   a private mount namespace with an empty tmpfs over /proc/sys/net: runsc
 *                   2022-12's `start` takes /proc/sys/net/core/rmem_default for "this is the
 *                   root network namespace" and refuses the sandbox network, but every network
 *                   namespace has that file on current kernels. gvshim makes the real check
 *                   (the sandbox's namespace is not the host's) before it calls this.
 * --nodev-file FILE triples of NUL-terminated strings SRC, DST, MODE (no file: nothing to do): in a
 *                   private mount namespace, the mount tree at SRC is bound recursively at DST
 *                   (an empty directory or file gvshim made) and every mount of the copy is
 *                   remounted nodev, keeping its other flags, and read-only too if MODE is "ro".
 *                   The spec runsc gets names DST instead of SRC.
 *                   Why: runsc's gofer opens a character-device node it finds in the root file
 *                   system or a bind mount on the host and hands the descriptor to the sandbox
 *                   (runsc/fsgofer/lisafs.go, until gVisor's --character-device-policy of
 *                   2026-08), and runsc applies no device cgroup rules (runsc/cgroup/cgroup.go:
 *                   "devices" is a no-op), so an image could write to the host's /dev/kmsg
 *                   through a node of its own. On a nodev mount the kernel refuses to open any
 *                   device node (may_open_dev, fs/namei.c): what runc's device rules achieve.
 *                   ("ro": runsc's gofer remounts a read-only root with MS_REMOUNT|MS_BIND|
 *                   MS_RDONLY, which clears nodev, so gvshim makes the copy read-only itself and
 *                   tells runsc the root is not.) Only mount(2), which runsc needs anyway: no
 *                   open_tree/mount_setattr, which container seccomp profiles do not allow and
 *                   kernels before 5.12 lack. The copies exist only in this namespace, which
 *                   runsc's sandbox and gofer inherit: nothing to clean up.
 * --own-mountns     the caller cloned this process into a mount namespace of its own (gvshim
 *                   run: CLONE_NEWNS with CLONE_NEWUSER, where container profiles deny unshare):
 *                   make it private, do not unshare.
 * --error-file FILE on failure, "STEP ERRNO\n" is written there and the exit status is 125, so
 *                   the caller can name the call and errno even when stderr is the container's.
 * --argv0 NAME      exec PROGRAM with NAME as its argv[0] (gvshim run: "runsc", as it exec'd runsc
 *                   itself before this program was in between; ps and pgrep show the same).
 * --runsc-log FILE  on failure, also append an error line to runsc's --log as runsc would
 *                   ({"level":"error","msg":"gvshim-nsexec: STEP: ERROR"}) and exit 128, runsc's
 *                   status for its own failures: for `gvshim run`, whose waiter explains those.
 *
 * The runtime verbs start this with the JDK's process API: every runsc call of a runtime verb
 * happens in a short-lived JVM, where linking FFM downcalls would cost more than runsc's own
 * `state` takes. It is static and small, so the extra exec costs ~1 ms.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define EXIT_FAILED 125     /* this program's own failure; also "output was lost" (see the header) */
#define GRACE_MS 1000       /* wait mode: how long the pipes may stay open after runsc's exit */

/* Step names as gvshim's Java side reports them (dev.gvshim.runtime.NsExec). */
#define STEP_USAGE "usage"
#define STEP_OPEN_USERNS "open(userns)"
#define STEP_SETNS "setns(CLONE_NEWUSER)"
#define STEP_SETID "setresuid(0)"
#define STEP_UNSHARE "unshare(CLONE_NEWNS)"
#define STEP_PRIVATE "mount(/, MS_REC|MS_PRIVATE)"
#define STEP_TMPFS "mount(tmpfs, /proc/sys/net)"
#define STEP_NODEV_FILE "read(nodev-file)"
#define STEP_BIND "mount(MS_BIND|MS_REC)"
#define STEP_MOUNTINFO "open(/proc/self/mountinfo)"
#define STEP_REMOUNT "mount(MS_REMOUNT|MS_BIND|MS_NODEV)"
#define STEP_EXEC "execve"
#define STEP_PIPE "pipe2(stdio)"
#define STEP_PTY "posix_openpt(terminal)"
#define STEP_SIGNALFD "signalfd"
#define STEP_FORK "fork"

enum relay_mode { RELAY_NONE, RELAY_WAIT, RELAY_DETACH, RELAY_TERMINAL };

static const char *error_file;
static const char *runsc_log;

static struct {
	enum relay_mode mode;
	const char *log, *log_format, *id;
} opt;

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
	if (runsc_log != NULL) {
		int fd = open(runsc_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			/* step and strerror hold no character JSON would need escaped */
			dprintf(fd, "{\"level\":\"error\",\"msg\":\"gvshim-nsexec: %s: errno %d: %s\"}\n", step, err,
				strerror(err));
			close(fd);
		}
		return 128;
	}
	return EXIT_FAILED;
}

/* ---------- the runsc side: namespaces, then exec ---------- */

/* The whole of FILE, NUL-terminated; NULL with errno set on failure (ENOENT: no file). */
static char *read_all(const char *file, size_t *len)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size > (1 << 20)) {
		int e = errno ? errno : EFBIG;
		close(fd);
		errno = e;
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t n = 0;
	while (buf != NULL && n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		n += (size_t)r;
	}
	close(fd);
	if (buf == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* mountinfo(5) escapes space, tab, newline and backslash as \ooo: undone in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/*
 * A nodev (and read-only, if ro) copy of the mount tree at src, mounted at dst (see
 * --nodev-file): a recursive bind, then every mount at or below dst remounted with MS_NODEV and
 * the lockable flags it has (statvfs(3): a remount may not clear a flag a less privileged
 * namespace inherited locked; atime flags, left out, are kept by the kernel).
 */
static int nodev_bind(const char *src, const char *dst, int ro)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0)
		return fail(STEP_BIND, errno);
	char top[4096];
	if (realpath(dst, top) == NULL)
		return fail(STEP_BIND, errno);
	size_t tl = strlen(top);
	FILE *mi = fopen("/proc/self/mountinfo", "re");
	if (mi == NULL)
		return fail(STEP_MOUNTINFO, errno);
	char line[8192];
	while (fgets(line, sizeof line, mi) != NULL) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
		char *save = NULL, *mp = NULL;
		char *f = strtok_r(line, " ", &save);
		for (int n = 0; f != NULL && n < 4; n++)
			f = strtok_r(NULL, " ", &save);
		mp = f;
		if (mp == NULL)
			continue;
		unescape(mp);
		if (strncmp(mp, top, tl) != 0 || (mp[tl] != '\0' && mp[tl] != '/' && strcmp(top, "/") != 0))
			continue;
		struct statvfs sv;
		if (statvfs(mp, &sv) != 0)
			continue; /* covered by a later mount at the same place: unreachable anyway */
		unsigned long flags = MS_REMOUNT | MS_BIND | MS_NODEV;
		if (sv.f_flag & ST_RDONLY)
			flags |= MS_RDONLY;
		if (sv.f_flag & ST_NOSUID)
			flags |= MS_NOSUID;
		if (sv.f_flag & ST_NOEXEC)
			flags |= MS_NOEXEC;
		if (ro && strcmp(mp, top) == 0)
			flags |= MS_RDONLY;
		if (mount(NULL, mp, NULL, flags, NULL) != 0) {
			int e = errno;
			fclose(mi);
			return fail(STEP_REMOUNT, e);
		}
	}
	fclose(mi);
	return 0;
}

/* What the runsc side does before the exec (see the header). */
static struct {
	const char *userns;
	const char *nodev_file;
	const char *argv0;
	bool hide_proc_net;
	bool own_mountns;
} prep;

/*
 * In the process that becomes runsc: with --relay, the forked child, so the mount namespace
 * the nodev copies and the /proc/sys/net tmpfs live in is runsc's alone, while the relay keeps
 * the caller's namespaces and descriptors.
 */
static int prepare_and_exec(char **argv)
{
	if (prep.userns != NULL) {
		int fd = open(prep.userns, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail(STEP_OPEN_USERNS, errno);
		if (setns(fd, CLONE_NEWUSER) != 0)
			return fail(STEP_SETNS, errno);
		close(fd);
		/* Joining grants the namespace's capabilities, not its root ids. */
		if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)
			return fail(STEP_SETID, errno);
	}

	char *pairs = NULL;
	size_t pairs_len = 0;
	if (prep.nodev_file != NULL) {
		pairs = read_all(prep.nodev_file, &pairs_len);
		if (pairs == NULL && errno != ENOENT)
			return fail(STEP_NODEV_FILE, errno);
	}

	if (prep.hide_proc_net || pairs_len > 0) {
		if (!prep.own_mountns && unshare(CLONE_NEWNS) != 0)
			return fail(STEP_UNSHARE, errno);
		/* Nothing of ours may propagate back to the host's mount namespace. */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
			return fail(STEP_PRIVATE, errno);
	}
	for (size_t at = 0; at < pairs_len;) {
		const char *field[3];
		for (int f = 0; f < 3; f++) {
			if (at >= pairs_len)
				return fail(STEP_NODEV_FILE, EINVAL);
			field[f] = pairs + at;
			at += strlen(field[f]) + 1;
		}
		int rc = nodev_bind(field[0], field[1], strcmp(field[2], "ro") == 0);
		if (rc != 0)
			return rc;
	}
	free(pairs);
	if (prep.hide_proc_net) {
		/* No /proc/sys/net at all (a kernel without networking): nothing to misread. */
		if (mount("none", "/proc/sys/net", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=555") != 0 &&
		    errno != ENOENT)
			return fail(STEP_TMPFS, errno);
	}

	const char *path = argv[0];
	if (prep.argv0 != NULL)
		argv[0] = (char *)prep.argv0;
	execv(path, argv);
	return fail(STEP_EXEC, errno);
}

/* ---------- the relay side ---------- */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

struct relay {
	int in_src;  /* the caller's stdin (0) while it is relayed; -1 once done */
	int in_dst;  /* our (non-blocking) write end of runsc's stdin pipe, or the pty master; -1 once closed */
	int out_src; /* read end of runsc's stdout pipe (stdout+stderr when merged), or the pty master */
	int err_src; /* read end of runsc's stderr pipe; -1 when merged */
	bool merged; /* the caller's stdout and stderr are one open file: one pipe for both */
	char in_buf[65536];
	size_t in_len, in_off;
	struct relay_sink out, err;
	struct termios saved; /* the caller's terminal before raw mode (terminal mode) */
	bool raw;
};

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Whether fds a and b are the same open file description (kcmp(2), KCMP_FILE). */
static bool same_file(int a, int b)
{
	pid_t self = getpid();
	return syscall(SYS_kcmp, self, self, KCMP_FILE, a, b) == 0;
}

static void restore_terminal(struct relay *r)
{
	if (r->raw) {
		tcsetattr(0, TCSADRAIN, &r->saved);
		r->raw = false;
	}
}

static void copy_winsize(int master)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

/*
 * Makes runsc's stdio (child[0..2], O_CLOEXEC, dup2'd onto 0-2 in the child) and the relay's
 * ends. Returns 0 or fail()'s status.
 */
static int setup_stdio(struct relay *r, int child[3])
{
	bool closed[3];
	for (int i = 0; i < 3; i++)
		closed[i] = fcntl(i, F_GETFD) < 0 && errno == EBADF;
	/* A closed 0-2 would be reused by pipe2 below; hold it with a placeholder of our own
	 * (never runsc's: runsc's 0-2 are replaced) and treat it as closed. */
	for (int i = 0; i < 3; i++)
		if (closed[i]) {
			int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (fd >= 0 && fd != i) {
				dup3(fd, i, O_CLOEXEC);
				close(fd);
			}
		}
	r->out = (struct relay_sink){.fd = closed[1] ? -1 : 1, .name = "stdout"};
	r->err = (struct relay_sink){.fd = closed[2] ? -1 : 2, .name = "stderr"};
	r->in_src = r->in_dst = r->out_src = r->err_src = -1;

	if (opt.mode == RELAY_TERMINAL) {
		int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
			return fail(STEP_PTY, errno);
		const char *name = ptsname(master);
		int slave = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
		if (slave < 0)
			return fail(STEP_PTY, errno);
		child[0] = child[1] = child[2] = slave;
		fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
		copy_winsize(master);
		r->out_src = master; /* output: master -> caller's stdout */
		r->in_dst = master;  /* input: caller's stdin -> master */
		r->in_src = closed[0] ? -1 : 0;
		/* Raw: keystrokes (^C, ^Z) reach the container's terminal, not this one's line discipline. */
		if (!closed[0] && isatty(0) && tcgetattr(0, &r->saved) == 0) {
			struct termios raw = r->saved;
			cfmakeraw(&raw);
			if (tcsetattr(0, TCSADRAIN, &raw) == 0)
				r->raw = true;
		}
		return 0;
	}

	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return fail(STEP_PIPE, errno);
	child[0] = p[0];
	if (closed[0] || relay_is_devnull(0)) {
		close(p[1]); /* no input: runsc reads EOF, as from /dev/null */
	} else {
		r->in_src = 0;
		r->in_dst = p[1];
		fcntl(p[1], F_SETFL, O_NONBLOCK);
	}
	if (pipe2(p, O_CLOEXEC) != 0)
		return fail(STEP_PIPE, errno);
	child[1] = p[1];
	r->out_src = p[0];
	r->merged = !closed[1] && !closed[2] && same_file(1, 2);
	if (r->merged) {
		child[2] = p[1];
	} else {
		if (pipe2(p, O_CLOEXEC) != 0)
			return fail(STEP_PIPE, errno);
		child[2] = p[1];
		r->err_src = p[0];
	}
	fcntl(r->out_src, F_SETFL, O_NONBLOCK);
	if (r->err_src >= 0)
		fcntl(r->err_src, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Whether stderr can still carry gvshim's own line. */
static bool stderr_works(const struct relay *r)
{
	return r->err.fd >= 0 && !r->err.err && !(r->merged && r->out.err);
}

/* Appends one error line to the runtime's --log (runc's and runsc's format: the shim reads the last). */
static void log_error(const char *msg)
{
	if (!opt.log)
		return;
	char ts[64], line[2048];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof ts - n, ".%09ldZ", now.tv_nsec);
	char esc[1600];
	size_t j = 0;
	for (const char *c = msg; *c && j + 7 < sizeof esc; c++) {
		if (*c == '"' || *c == '\\')
			esc[j++] = '\\', esc[j++] = *c;
		else if ((unsigned char)*c < 0x20)
			j += (size_t)snprintf(esc + j, sizeof esc - j, "\\u%04x", *c);
		else
			esc[j++] = *c;
	}
	esc[j] = 0;
	if (opt.log_format && strcmp(opt.log_format, "text") == 0)
		snprintf(line, sizeof line, "time=\"%s\" level=error msg=\"%s\"\n", ts, esc);
	else
		snprintf(line, sizeof line, "{\"level\":\"error\",\"msg\":\"%s\",\"time\":\"%s\"}\n", esc, ts);
	int fd = open(opt.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		relay_write_all(fd, line, strlen(line), NULL);
		close(fd);
	}
}

/* Reports each loss once: --log always, stderr when `say` and stderr works. Returns whether any was lost. */
static bool report_losses(struct relay *r, bool say)
{
	bool any = false;
	char whose[300], line[1024];
	if (opt.id)
		snprintf(whose, sizeof whose, "container %s's", opt.id);
	else
		snprintf(whose, sizeof whose, "the container's");
	struct relay_sink *sinks[] = {&r->out, &r->err};
	for (int i = 0; i < 2; i++) {
		struct relay_sink *s = sinks[i];
		if (!relay_lost(s))
			continue;
		any = true;
		if (s->reported)
			continue;
		s->reported = true;
		relay_describe(s, whose, line, sizeof line);
		log_error(line);
		if (say && stderr_works(r))
			fprintf(stderr, "%s\n", line);
	}
	return any;
}

static bool relay_open(const struct relay *r)
{
	return r->out_src >= 0 || r->err_src >= 0 || (r->in_dst >= 0 && r->in_dst != r->out_src);
}

/* Stops relaying input: the container's stdin end was closed, or ours reached EOF. */
static void end_input(struct relay *r)
{
	r->in_src = -1;
	r->in_len = r->in_off = 0;
	if (r->in_dst != r->out_src) /* a pty master stays open for output */
		close_fd(&r->in_dst);
	else
		r->in_dst = -1;
}

/*
 * One round of relaying: waits up to timeout_ms (-1: no limit) for the signalfd (sfd >= 0)
 * or any relay descriptor, and moves what is ready. Returns poll's result (0: nothing was ready).
 */
static int relay_round(struct relay *r, int sfd, int timeout_ms, bool *sigchld)
{
	struct pollfd p[5];
	int n = 0, i_sig = -1, i_in = -1, i_dst = -1, i_out = -1, i_err = -1;
	if (sfd >= 0)
		p[i_sig = n++] = (struct pollfd){sfd, POLLIN, 0};
	bool pending = r->in_len > r->in_off;
	if (r->in_src >= 0 && r->in_dst >= 0 && !pending)
		p[i_in = n++] = (struct pollfd){r->in_src, POLLIN, 0};
	/* Always polled while open: POLLERR says the container's end of its stdin has closed. */
	if (r->in_dst >= 0 && r->in_dst != r->out_src)
		p[i_dst = n++] = (struct pollfd){r->in_dst, pending ? POLLOUT : 0, 0};
	else if (r->in_dst >= 0 && pending)
		p[i_dst = n++] = (struct pollfd){r->in_dst, POLLOUT, 0};
	if (r->out_src >= 0)
		p[i_out = n++] = (struct pollfd){r->out_src, POLLIN, 0};
	if (r->err_src >= 0)
		p[i_err = n++] = (struct pollfd){r->err_src, POLLIN, 0};
	int ready = poll(p, (nfds_t)n, timeout_ms);
	if (ready <= 0)
		return ready < 0 && errno == EINTR ? 1 : ready;

	if (i_sig >= 0 && (p[i_sig].revents & POLLIN)) {
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
			if (si.ssi_signo == SIGCHLD)
				*sigchld = true;
			else if (si.ssi_signo == SIGWINCH && opt.mode == RELAY_TERMINAL && r->out_src >= 0)
				copy_winsize(r->out_src);
		}
	}

	char b[65536];
	if (i_out >= 0 && p[i_out].revents) {
		ssize_t k = read(r->out_src, b, sizeof b);
		if (k > 0) {
			if (!relay_put(&r->out, b, (size_t)k)) {
				if (r->in_dst == r->out_src)
					r->in_dst = -1, r->in_src = -1;
				relay_drop(&r->out, &r->out_src); /* EPIPE for the container (EIO/SIGHUP for a pty) */
			}
		} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* EOF; or EIO from a pty master: the terminal's last user is gone */
			if (r->in_dst == r->out_src)
				r->in_dst = -1, r->in_src = -1;
			close_fd(&r->out_src);
		}
	}
	if (i_err >= 0 && p[i_err].revents) {
		ssize_t k = read(r->err_src, b, sizeof b);
		if (k > 0) {
			if (!relay_put(&r->err, b, (size_t)k))
				relay_drop(&r->err, &r->err_src);
		} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
			close_fd(&r->err_src);
		}
	}
	if (i_dst >= 0 && r->in_dst >= 0 && p[i_dst].revents) {
		if (p[i_dst].revents & (POLLERR | POLLHUP) && r->in_dst != r->out_src) {
			end_input(r); /* nobody reads the container's stdin any more */
		} else if (p[i_dst].revents & POLLOUT) {
			ssize_t w = write(r->in_dst, r->in_buf + r->in_off, r->in_len - r->in_off);
			if (w > 0)
				r->in_off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				end_input(r);
		}
	}
	if (i_in >= 0 && r->in_src >= 0 && p[i_in].revents) {
		/* The caller's stdin is read only after poll says so, never made non-blocking. In the
		 * background (a detached relay), a terminal read fails with EIO (SIGTTIN is ignored):
		 * the input ends there. */
		ssize_t k = read(r->in_src, r->in_buf, sizeof r->in_buf);
		if (k > 0) {
			r->in_len = (size_t)k;
			r->in_off = 0;
		} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
			end_input(r); /* EOF reaches the container */
		}
	}
	return ready;
}

/* The relay after runsc's exit, in a forked copy: until the container's stdio closes. */
static _Noreturn void relay_in_background(struct relay *r)
{
	bool ignored;
	while (relay_open(r))
		relay_round(r, -1, -1, &ignored);
	report_losses(r, false);
	_exit(0);
}

static int exit_code(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static int run_relayed(char **argv)
{
	static struct relay r;
	int child[3] = {-1, -1, -1};
	int rc = setup_stdio(&r, child);
	if (rc != 0)
		return rc;

	/* This process outlives runsc's output: terminal-generated SIGINT/SIGQUIT (which reach runsc
	 * too), SIGPIPE (a write error is handled) and background terminal I/O must not stop it.
	 * runsc gets the caller's dispositions back. SIGCHLD (and SIGWINCH) arrive on a signalfd. */
	static const int ignored[] = {SIGINT, SIGQUIT, SIGPIPE, SIGTTIN, SIGTTOU};
	struct sigaction old[sizeof ignored / sizeof *ignored], old_chld;
	struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL};
	for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
		sigaction(ignored[i], &ign, &old[i]);
	sigaction(SIGCHLD, &dfl, &old_chld); /* SIG_IGN would reap runsc before we can */
	sigset_t block, old_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGWINCH);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	int sfd = signalfd(-1, &block, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		restore_terminal(&r);
		return fail(STEP_SIGNALFD, errno);
	}

	pid_t pid = fork();
	if (pid < 0) {
		restore_terminal(&r);
		return fail(STEP_FORK, errno);
	}
	if (pid == 0) {
		for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
			sigaction(ignored[i], &old[i], NULL);
		sigaction(SIGCHLD, &old_chld, NULL);
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		for (int i = 0; i < 3; i++)
			if (dup2(child[i], i) < 0)
				_exit(fail(STEP_PIPE, errno));
		/* runsc gets 0-2 only: ours are O_CLOEXEC, and so becomes anything inherited (the JDK
		 * starts us with 0-2 only, another caller may not). */
		syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
		_exit(prepare_and_exec(argv));
	}
	for (int i = 0; i < 3; i++)
		if (child[i] >= 0 && (i == 0 || child[i] != child[i - 1]))
			close(child[i]);

	int status = 0;
	bool exited = false;
	long long deadline = 0;
	for (;;) {
		if (exited && !relay_open(&r))
			break;
		int timeout = -1;
		if (exited) {
			long long left = deadline - now_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		bool sigchld = false;
		relay_round(&r, exited ? -1 : sfd, timeout, &sigchld);
		if (sigchld && !exited) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				exited = true;
				deadline = now_ms() + (opt.mode == RELAY_DETACH ? 0 : GRACE_MS);
			}
		}
		if (exited && now_ms() >= deadline && relay_open(&r)) {
			/* The container still holds its stdio: a copy of this process relays the rest. */
			report_losses(&r, opt.mode != RELAY_DETACH);
			restore_terminal(&r);
			close(sfd);
			pid_t bg = fork();
			if (bg == 0)
				relay_in_background(&r);
			break;
		}
	}
	restore_terminal(&r);
	int code = exit_code(status);
	if (report_losses(&r, opt.mode != RELAY_DETACH) && opt.mode != RELAY_DETACH && code == 0)
		code = EXIT_FAILED;
	return code;
}

int main(int argc, char **argv)
{
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--userns") == 0 && i + 1 < argc) {
			prep.userns = argv[++i];
		} else if (strcmp(argv[i], "--hide-proc-net") == 0) {
			prep.hide_proc_net = true;
		} else if (strcmp(argv[i], "--own-mountns") == 0) {
			prep.own_mountns = true;
		} else if (strcmp(argv[i], "--nodev-file") == 0 && i + 1 < argc) {
			prep.nodev_file = argv[++i];
		} else if (strcmp(argv[i], "--argv0") == 0 && i + 1 < argc) {
			prep.argv0 = argv[++i];
		} else if (strcmp(argv[i], "--runsc-log") == 0 && i + 1 < argc) {
			runsc_log = argv[++i];
		} else if (strcmp(argv[i], "--error-file") == 0 && i + 1 < argc) {
			error_file = argv[++i];
		} else if (strcmp(argv[i], "--relay") == 0 && i + 1 < argc) {
			const char *m = argv[++i];
			opt.mode = strcmp(m, "wait") == 0 ? RELAY_WAIT
				   : strcmp(m, "detach") == 0 ? RELAY_DETACH
				   : strcmp(m, "terminal") == 0 ? RELAY_TERMINAL
								: RELAY_NONE;
			if (opt.mode == RELAY_NONE)
				return fail(STEP_USAGE, EINVAL);
		} else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
			opt.log = argv[++i];
		} else if (strcmp(argv[i], "--log-format") == 0 && i + 1 < argc) {
			opt.log_format = argv[++i];
		} else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc) {
			opt.id = argv[++i];
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			return fail(STEP_USAGE, EINVAL);
		}
	}
	if (i >= argc)
		return fail(STEP_USAGE, EINVAL);
	if (opt.mode == RELAY_NONE)
		return prepare_and_exec(&argv[i]);
	return run_relayed(&argv[i]);
}
