/*
 * bin/gvshim: the native client of the gvshim server (issue 17; notes/server-design.md).
 *
 * Each call goes to the caller's long-lived server over an AF_UNIX socket, and the client does
 * what the server answers; it holds no policy:
 *
 *   client                                   server (one JVM per euid, user namespace and build)
 *   connect DIR/NAME.sock      ----------->  SO_PEERCRED: its own euid?
 *   R argv env cwd umask + fds 0,1,2,cwd
 *                              <-----------  A accepted (from here on the server acts)
 *                              <-----------  S spawn path argv env cwd stdio[3] + fds
 *   posix_spawn, waitpid       ----------->  E id status    (runsc stays the caller's descendant)
 *                              <-----------  X exec path argv env targets[] + fds
 *                              <-----------  Q status  /  C cold
 *
 * The server writes the call's output itself, on the stdout/stderr it received. The cold path
 * (libexec/gvshim-jvm, the one-shot JVM launcher) runs the call when the server is off
 * (GVSHIM_SERVER=off, the config file's "server": "off", or this process is PID 1: a container's
 * entrypoint keeps no JVM resident), when no server answers and none may be started, when the
 * server answers COLD, or when it goes away before it accepted the call (nothing was done).
 * A server that goes away after it accepted: one line, exit 125 ([SERVER_DIED]), and for a runc
 * verb the same as a JSON error line in --log.
 *
 * No server yet (GVSHIM_SERVER=auto or on): the client starts one (socketpair, fork, setsid,
 * fork, exec: the server is nobody's child, so no subreaper of the caller's reaps it or waits for
 * it) and has its own call served over the socketpair: no connect race, no polling. Two first
 * calls at once: the server that cannot take NAME.lock serves its one call and exits.
 */
#define _GNU_SOURCE
#include "gvshim_wire.h"
#include "client_forward.h"

#include <dirent.h>
#include <sched.h>
#include <sys/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_GVSHIM 125
/* The mode when neither the environment nor the config file says (issue 17: auto; CI runs every
 * integration test with it and with off). */
#ifndef GVSHIM_SERVER_DEFAULT
#define GVSHIM_SERVER_DEFAULT "auto"
#endif

extern char **environ;

/* /tmp and root's runtime root; a test build (-DGVSHIM_CLIENT_TEST, not installed) takes them from
 * GVSHIM_CLIENT_TMP and GVSHIM_CLIENT_RUN, so that ClientTest needs no host directory */
static const char *tmp_dir = "/tmp";
static const char *run_dir = "/run/gvshim";

static char home[PATH_MAX];
static char build_id[129];
static char **call_argv;
static int call_argc;
static int trace;
static struct timespec t0;

static void mark(const char *what)
{
	if (!trace)
		return;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "gvshim-client: trace %.2f ms %s\n",
		(double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6, what);
}

/* ---------- the cold path ---------- */

/* Today's path: the one-shot JVM, through the launcher script (which knows the JVM options, the
 * class path and which AOT cache to use). Never returns. */
static void cold(const char *why)
{
	mark(why);
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/libexec/gvshim-jvm", home);
	char **argv = calloc((size_t)call_argc + 1, sizeof *argv);
	if (!argv)
		_exit(EXIT_GVSHIM);
	argv[0] = path;
	for (int i = 1; i < call_argc; i++)
		argv[i] = call_argv[i];
	execv(path, argv);
	fprintf(stderr, "gvshim: cannot execute %s: %s. Fix: reinstall gvshim [INSTALL_BROKEN]\n", path, strerror(errno));
	_exit(EXIT_GVSHIM);
}

/* ---------- the installation ---------- */

static int find_home(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return 0;
	exe[n] = 0;
	for (int i = 0; i < 2; i++) { /* HOME/bin/gvshim -> HOME */
		char *s = strrchr(exe, '/');
		if (!s || s == exe)
			return 0;
		*s = 0;
	}
	snprintf(home, sizeof home, "%s", exe);
	return 1;
}

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	return buf[0] != 0;
}

/* ---------- the mode: GVSHIM_SERVER, then the config file ---------- */

/* The value of the top-level KEY of a JSON object (the runtime config file, which RuntimeConfig
 * checks with Jackson): a scanner that tracks nesting and strings. A string value without
 * escapes, or a run of digits; NULL when absent or anything else. */
static const char *config_value(const char *text, const char *key, char *out, size_t size)
{
	int depth = 0;
	size_t klen = strlen(key);
	const char *p = text;
	while (*p) {
		if (*p == '{' || *p == '[') {
			depth++;
			p++;
		} else if (*p == '}' || *p == ']') {
			depth--;
			p++;
		} else if (*p == '"') {
			const char *s = ++p;
			while (*p && *p != '"')
				p += (*p == '\\' && p[1]) ? 2 : 1;
			size_t len = (size_t)(p - s);
			if (*p)
				p++;
			if (depth != 1 || len != klen || strncmp(s, key, klen) != 0)
				continue;
			while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
				p++;
			if (*p != ':')
				continue; /* a value that reads like the key, not the key */
			p++;
			while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
				p++;
			const char *v = p;
			if (*p == '"') {
				v = ++p;
				while (*p && *p != '"' && *p != '\\')
					p++;
				if (*p != '"')
					return NULL;
			} else {
				while (*p >= '0' && *p <= '9')
					p++;
			}
			if (p == v && *v != '"' && v[-1] != '"')
				return NULL;
			if ((size_t)(p - v) >= size)
				return NULL;
			memcpy(out, v, (size_t)(p - v));
			out[p - v] = 0;
			return out;
		} else {
			p++;
		}
	}
	return NULL;
}

/* The runtime config file (GVSHIM_CONFIG, else /etc/gvshim/config.json), read once; "" if none. */
static const char *config_text(void)
{
	static char text[1 << 16];
	static int read_once;
	if (!read_once) {
		read_once = 1;
		const char *file = getenv("GVSHIM_CONFIG");
		if (!file || !*file)
			file = "/etc/gvshim/config.json";
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, text, sizeof text - 1);
			close(fd);
			text[n > 0 ? n : 0] = 0;
		}
	}
	return text;
}

static const char *mode(void)
{
	const char *m = getenv("GVSHIM_SERVER");
	if (m && *m)
		return m;
	static char value[16];
	if (config_value(config_text(), "server", value, sizeof value))
		return value;
	return GVSHIM_SERVER_DEFAULT;
}

/* A new server's idle timeout in seconds: GVSHIM_SERVER_IDLE_TIMEOUT, else the config file's
 * "serverIdleTimeout", else 600 (the server checks it). */
static const char *idle_timeout(void)
{
	const char *v = getenv("GVSHIM_SERVER_IDLE_TIMEOUT");
	if (v && *v)
		return v;
	static char value[24];
	if (config_value(config_text(), "serverIdleTimeout", value, sizeof value) && value[0])
		return value;
	return "600";
}

/* ---------- where the server lives: ServerDir's rule, read-only ---------- */

static int own_dir(const char *path, uid_t uid)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid;
}

/* What this euid is in the parent user namespace, or -1 in the initial one (StateDir's -outerN). */
static long outer_uid(uid_t uid)
{
	FILE *f = fopen("/proc/self/uid_map", "re");
	if (!f)
		return -1;
	unsigned long in, out, count;
	long r = -1;
	int lines = 0, initial = 0;
	while (fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3) {
		lines++;
		if (in == 0 && out == 0 && count == 4294967295UL)
			initial = 1;
		if (uid >= in && uid - in < count)
			r = (long)(out + (uid - in));
	}
	fclose(f);
	return initial && lines == 1 ? -1 : r;
}

/* The server directory ServerDir.find would name, into out; 0 when there is none yet (a server
 * started now creates it with Java's rules: StateDir.prepareDefault). Entries that are not the
 * euid's own directory are skipped, as StateDir skips them. The directory finally used is checked
 * again on its O_PATH descriptor (owner, 0700), and the server's credentials on the socket. */
static int server_dir(char *out, size_t size)
{
	const char *tmp = tmp_dir;
	uid_t uid = geteuid();
	long outer = outer_uid(uid);
	if (uid == 0 && outer < 0) {
		snprintf(out, size, "%s/server", run_dir);
		return 1;
	}
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	if (xdg && xdg[0] == '/' && lstat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid &&
	    (st.st_mode & 077) == 0) {
		snprintf(out, size, "%s/gvshim/server", xdg);
		return 1;
	}
	char base[64];
	if (outer < 0)
		snprintf(base, sizeof base, "gvshim-%u", (unsigned)uid);
	else
		snprintf(base, sizeof base, "gvshim-%u-outer%ld", (unsigned)uid, outer);
	snprintf(out, size, "%s/%s", tmp, base);
	if (own_dir(out, uid)) {
		strncat(out, "/server", size - strlen(out) - 1);
		return 1;
	}
	DIR *d = opendir(tmp);
	if (!d)
		return 0;
	char best[256] = "";
	size_t bl = strlen(base);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, base, bl) != 0 || e->d_name[bl] != '.' || strlen(e->d_name) >= sizeof best)
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s", tmp, e->d_name);
		if (own_dir(p, uid) && (!best[0] || strcmp(e->d_name, best) < 0))
			snprintf(best, sizeof best, "%s", e->d_name);
	}
	closedir(d);
	if (!best[0])
		return 0;
	snprintf(out, size, "%s/%s/server", tmp, best);
	return 1;
}

/* ServerDir.name: "s-" + the first 16 characters of the build id + "-" + FNV-1a-64 of home + "-"
 * + the inode of this process's user namespace (a server serves only its own namespace). */
static void server_name(char *out, size_t size)
{
	struct stat ns;
	if (stat("/proc/self/ns/user", &ns) != 0)
		ns.st_ino = 0;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)home; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, size, "s-%.16s-%016llx-%llu", build_id, (unsigned long long)h, (unsigned long long)ns.st_ino);
}

/* ---------- talking to a server ---------- */

/* connect(2) through /proc/self/fd/DIRFD/NAME: no 108-byte sun_path limit (unix(7)), and the
 * directory is the one whose owner and mode were checked on its descriptor. */
static int connect_at(int dirfd, const char *name)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/%s", dirfd, name);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	int r;
	do
		r = connect(s, (struct sockaddr *)&a, sizeof a);
	while (r != 0 && errno == EINTR);
	if (r != 0) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	/* a socket of another uid is never talked to (the directory should make that impossible) */
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid()) {
		close(s);
		errno = EACCES;
		return -1;
	}
	return s;
}

/* Starts a server whose first call comes over a socketpair; returns the client's end, or -1. */
static int start_server(void)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		return -1;
	char jvm[PATH_MAX + 32];
	snprintf(jvm, sizeof jvm, "%s/libexec/gvshim-jvm", home);
	char *argv[] = {jvm, "server", "run", "--first-fd", "3", "--idle-timeout", (char *)idle_timeout(), NULL};
	/* the server's own environment, never the caller's JVM options or preloads; a fixed locale:
	 * the JVM takes the encoding of every file name (sun.jnu.encoding) from the one it starts in */
	static char path_env[PATH_MAX + 8], home_env[PATH_MAX + 8], xdg_env[PATH_MAX + 24];
	const char *v;
	int k = 0;
	char *envp[6];
	snprintf(path_env, sizeof path_env, "PATH=%s", (v = getenv("PATH")) ? v : "/usr/local/bin:/usr/bin:/bin");
	envp[k++] = path_env;
	if ((v = getenv("HOME"))) {
		snprintf(home_env, sizeof home_env, "HOME=%s", v);
		envp[k++] = home_env;
	}
	if ((v = getenv("XDG_RUNTIME_DIR"))) { /* the server finds the same state directory as its callers */
		snprintf(xdg_env, sizeof xdg_env, "XDG_RUNTIME_DIR=%s", v);
		envp[k++] = xdg_env;
	}
	envp[k++] = "LC_ALL=C.UTF-8";
	envp[k] = NULL;
	pid_t p = fork();
	if (p < 0) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (p == 0) {
		if (setsid() < 0 || fork() != 0)
			_exit(0);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(sp[1], 3) != 3 || dup2(null, 0) != 0 || dup2(null, 1) != 1 || dup2(null, 2) != 2)
			_exit(127);
		syscall(SYS_close_range, 4U, ~0U, 0U);
		umask(077);
		if (chdir("/") != 0)
			_exit(127);
		execve(jvm, argv, envp);
		_exit(127);
	}
	close(sp[1]);
	int st;
	while (waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	mark("server started");
	return sp[0];
}

/* ---------- the server died after it accepted the call ---------- */

/* runc's global --log FILE and --log-format before the verb: the failure goes there too, as the
 * last error line containerd's shim reads back (RuntimeLog's format). */
static void log_runtime_error(const char *msg)
{
	const char *file = NULL, *format = "json";
	for (int i = 1; i < call_argc && call_argv[i][0] == '-'; i++) {
		const char *a = call_argv[i];
		if (strcmp(a, "--log") == 0 && i + 1 < call_argc)
			file = call_argv[++i];
		else if (strncmp(a, "--log=", 6) == 0)
			file = a + 6;
		else if (strcmp(a, "--log-format") == 0 && i + 1 < call_argc)
			format = call_argv[++i];
		else if (strncmp(a, "--log-format=", 13) == 0)
			format = a + 13;
		else if (strcmp(a, "--root") == 0 || strcmp(a, "--criu") == 0 || strcmp(a, "--rootless") == 0)
			i++; /* the other global options with a value */
	}
	if (!file || !*file)
		return;
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	char when[64];
	time_t now = time(NULL);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	/* the message quoted as JSON (and logrus's text format) quote strings: \ and " escaped, controls dropped */
	char quoted[2 * PATH_MAX + 512];
	size_t k = 0;
	for (const char *c = msg; *c && k + 2 < sizeof quoted; c++) {
		if (*c == '"' || *c == '\\')
			quoted[k++] = '\\';
		if ((unsigned char)*c >= 0x20)
			quoted[k++] = *c;
	}
	quoted[k] = 0;
	if (strcmp(format, "text") == 0)
		dprintf(fd, "time=\"%s\" level=error msg=\"%s\"\n", when, quoted);
	else
		dprintf(fd, "{\"level\":\"error\",\"msg\":\"%s\",\"time\":\"%s\"}\n", quoted, when);
	close(fd);
}

static pid_t running_child = -1;
static int api; /* served by the Java API's JVM (`gvshim __sandbox`), not by a server */

/* After ACCEPTED the server acted for the call: its death is the caller's failure, in the one-line
 * form of Failure.oneLine (what: why. Fix: ... [ID]), naming the log that says why. */
static void server_died(const char *how)
{
	if (running_child > 0)
		kill(running_child, SIGKILL); /* runsc of a `gvshim run` not yet handed to its waiter */
	mark(how);
	char dir[PATH_MAX], msg[PATH_MAX + 256];
	if (!server_dir(dir, sizeof dir))
		snprintf(dir, sizeof dir, "the server directory");
	if (api)
		snprintf(msg, sizeof msg, "the JVM that started this sandbox went away before it ran: %s. Fix: see that "
			 "JVM's own output; start the sandbox again [SERVER_DIED]", how);
	else
		snprintf(msg, sizeof msg, "the gvshim server died during the call: %s. Fix: run the command again (a new "
			 "server starts); why it died is in %s/server.log [SERVER_DIED]", how, dir);
	fprintf(stderr, "gvshim: %s\n", msg);
	log_runtime_error(msg);
	_exit(EXIT_GVSHIM);
}

/* ---------- what the server asks for ---------- */

static void do_spawn(int sock, struct wire_frame *f)
{
	int32_t id = wire_in_i32(f);
	char *path = wire_in_str(f);
	char **argv = wire_in_strs(f);
	char **envp = wire_in_strs(f);
	char *dir = wire_in_str(f);
	int32_t flags = wire_in_i32(f);
	sigset_t forward;
	forwarded_signals(&forward);
	sigaddset(&forward, SIGCHLD);
	if (flags & WIRE_SPAWN_FORWARD_SIGNALS)
		sigprocmask(SIG_BLOCK, &forward, NULL); /* before the spawn: none is lost, none kills us */
	int32_t code[3];
	for (int i = 0; i < 3; i++)
		code[i] = wire_in_i32(f);
	int err = 0;
	if (f->bad || !argv[0])
		err = EPROTO;
	for (int i = 0; i < 3 && !err; i++)
		if (code[i] >= f->nfds || code[i] < WIRE_STDIO_NULL)
			err = EPROTO;
	pid_t pid = -1;
	if (!err) {
		posix_spawn_file_actions_t fa;
		posix_spawnattr_t at;
		posix_spawn_file_actions_init(&fa);
		posix_spawnattr_init(&at);
		/* default dispositions and an empty mask, as a one-shot JVM's children get them */
		sigset_t all, none;
		sigfillset(&all);
		sigemptyset(&none);
		posix_spawnattr_setsigdefault(&at, &all);
		posix_spawnattr_setsigmask(&at, &none);
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
		for (int i = 0; i < 3; i++) {
			if (code[i] >= 0)
				posix_spawn_file_actions_adddup2(&fa, f->fds[code[i]], i);
			else if (code[i] == WIRE_STDIO_NULL)
				posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
		}
		if (dir[0])
			posix_spawn_file_actions_addchdir_np(&fa, dir);
		err = posix_spawn(&pid, path, &fa, &at, argv, envp);
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&at);
	}
	if (flags & WIRE_SPAWN_FORWARD_SIGNALS) {
		sigset_t chld;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
	}
	for (int i = 0; i < f->nfds; i++)
		close(f->fds[i]); /* the server keeps its ends: ours must not hold a pipe open */
	f->nfds = 0;
	struct wire_out o = {0};
	wire_out_i32(&o, id);
	if (err) {
		wire_out_i32(&o, WIRE_EXITED_NOT_STARTED);
		wire_out_i32(&o, err);
	} else {
		running_child = pid;
		int st = 0;
		if (flags & WIRE_SPAWN_FORWARD_SIGNALS)
			wait_forwarding(pid, &forward, &st);
		else
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
		running_child = -1;
		wire_out_i32(&o, WIRE_EXITED_WAITED);
		wire_out_i32(&o, st);
	}
	if (!wire_send(sock, WIRE_EXITED, &o, NULL, 0))
		server_died("the connection broke while a program it asked for ran");
	wire_out_free(&o);
}

/* USERNS_SPAWN (gvshim run): fork PATH into the user and mount namespaces the server made and
 * mapped (setns(2) on the nsfs descriptors it sent), as this process's child: it is runsc, which
 * the waiter this process becomes next (EXEC) waits for, as the one-shot JVM's clone child was
 * waited for. PDEATHSIG: it dies with the waiter. A CLOEXEC status pipe says which step failed. */
static void do_userns_spawn(int sock, struct wire_frame *f)
{
	char *path = wire_in_str(f);
	char **argv = wire_in_strs(f);
	char **envp = wire_in_strs(f);
	(void)wire_in_i32(f); /* flags: none yet */
	int32_t user = wire_in_i32(f), mnt = wire_in_i32(f);
	int32_t code[3];
	for (int i = 0; i < 3; i++)
		code[i] = wire_in_i32(f);
	int32_t report[2] = {0, 0}; /* step, errno */
	pid_t pid = -1;
	int st[2];
	int bad = f->bad || !argv[0] || user < 0 || user >= f->nfds || mnt < 0 || mnt >= f->nfds;
	for (int i = 0; i < 3; i++)
		bad |= code[i] < 0 || code[i] >= f->nfds;
	pid_t parent = getpid();
	if (bad) {
		report[0] = WIRE_STEP_FORK;
		report[1] = EPROTO;
	} else if (pipe2(st, O_CLOEXEC) != 0) {
		report[0] = WIRE_STEP_FORK;
		report[1] = errno;
	} else if ((pid = fork()) == 0) {
		int step = 0;
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent)
			step = WIRE_STEP_PDEATHSIG;
		else if (setns(f->fds[user], CLONE_NEWUSER) != 0)
			step = WIRE_STEP_SETNS_USER;
		else if (setns(f->fds[mnt], CLONE_NEWNS) != 0)
			step = WIRE_STEP_SETNS_MNT;
		else if (setpgid(0, 0) != 0)
			step = WIRE_STEP_SETPGID;
		else {
			/* above 2 first, so that placing one does not overwrite another still to be placed */
			int moved[3];
			for (int i = 0; i < 3 && !step; i++)
				if ((moved[i] = fcntl(f->fds[code[i]], F_DUPFD_CLOEXEC, 3)) < 0)
					step = WIRE_STEP_DUP2;
			for (int i = 0; i < 3 && !step; i++)
				if (dup2(moved[i], i) != i)
					step = WIRE_STEP_DUP2;
			if (!step) {
				sigset_t none;
				sigemptyset(&none);
				sigprocmask(SIG_SETMASK, &none, NULL);
				execve(path, argv, envp);
				step = WIRE_STEP_EXEC;
			}
		}
		int32_t msg[2] = {step, errno};
		(void)!write(st[1], msg, sizeof msg);
		_exit(127);
	} else if (pid < 0) {
		report[0] = WIRE_STEP_FORK;
		report[1] = errno;
		close(st[0]);
		close(st[1]);
	} else {
		close(st[1]);
		ssize_t n;
		do
			n = read(st[0], report, sizeof report);
		while (n < 0 && errno == EINTR);
		close(st[0]);
		if (n > 0) { /* it failed before exec: reap it */
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			pid = -1;
		}
	}
	for (int i = 0; i < f->nfds; i++)
		close(f->fds[i]);
	f->nfds = 0;
	if (pid > 0)
		running_child = pid; /* killed if the server dies before the hand-over */
	struct wire_out o = {0};
	wire_out_i32(&o, pid > 0 ? pid : 0);
	wire_out_i32(&o, report[0]);
	wire_out_i32(&o, report[1]);
	if (!wire_send(sock, WIRE_SPAWNED, &o, NULL, 0))
		server_died("the connection broke while runsc started");
	wire_out_free(&o);
}

/* EXEC: become PATH, the received descriptors on the given numbers (the hand-over of gvshim run). */
static void do_exec(int sock, struct wire_frame *f)
{
	char *path = wire_in_str(f);
	char **argv = wire_in_strs(f);
	char **envp = wire_in_strs(f);
	char *dir = wire_in_str(f);
	int32_t n = wire_in_i32(f);
	int targets[WIRE_MAX_FDS];
	int high = 2;
	for (int32_t i = 0; i < n && i < WIRE_MAX_FDS; i++) {
		targets[i] = wire_in_i32(f);
		if (targets[i] > high)
			high = targets[i];
	}
	int sock_target = wire_in_i32(f);
	if (sock_target > high)
		high = sock_target;
	if (f->bad || n != f->nfds || !argv[0]) {
		errno = EPROTO;
		server_died("it sent a malformed message");
	}
	/* first above every target, so that no dup2 below closes a descriptor still to be placed */
	int moved[WIRE_MAX_FDS];
	for (int i = 0; i < f->nfds; i++) {
		moved[i] = fcntl(f->fds[i], F_DUPFD_CLOEXEC, high + 1);
		close(f->fds[i]);
	}
	int s2 = fcntl(sock, F_DUPFD_CLOEXEC, high + 1);
	close(sock);
	for (int i = 0; i < f->nfds; i++)
		dup2(moved[i], targets[i]); /* dup2 clears close-on-exec on the target */
	if (sock_target >= 0)
		dup2(s2, sock_target);
	if (dir[0] && chdir(dir) != 0) {
		fprintf(stderr, "gvshim: cannot enter the working directory %s: %s [SERVER_DIED]\n", dir, strerror(errno));
		_exit(EXIT_GVSHIM);
	}
	mark("exec");
	execve(path, argv, envp);
	int e = errno;
	struct wire_out o = {0};
	wire_out_i32(&o, 0);
	wire_out_i32(&o, WIRE_EXITED_NOT_STARTED);
	wire_out_i32(&o, e);
	wire_send(s2, WIRE_EXITED, &o, NULL, 0);
	if (running_child > 0)
		kill(running_child, SIGKILL); /* runsc without its waiter */
	fprintf(stderr, "gvshim: cannot execute %s: %s. Fix: reinstall gvshim [INSTALL_BROKEN]\n", path, strerror(e));
	_exit(EXIT_GVSHIM);
}

/* CONNECT (only from the Java API's JVM, `__sandbox`): connect to the user's gvshim server at DIR/NAME
 * and give the JVM the connected socket. The connection is made here so that the server's SO_PEERCRED
 * (unix(7): the credentials of the process that called connect) names this process, the one that forks
 * runsc exec and becomes gvshim-waiter: the server's taker, whose end frees the pooled sandbox. */
static void do_connect(int sock, struct wire_frame *f)
{
	char *dir = wire_in_str(f);
	char *name = wire_in_str(f);
	int s = -1, e = 0;
	if (f->bad || !api) {
		e = EPROTO;
	} else {
		int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		struct stat st;
		if (dirfd < 0)
			e = errno;
		else if (fstat(dirfd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
			e = EACCES; /* only the caller's own 0700 directory, as main() checks it */
		else if ((s = connect_at(dirfd, name)) < 0)
			e = errno;
		if (dirfd >= 0)
			close(dirfd);
	}
	struct wire_out o = {0};
	wire_out_i32(&o, e);
	int sent = wire_send(sock, WIRE_CONNECT, &o, s >= 0 ? &s : NULL, s >= 0 ? 1 : 0);
	wire_out_free(&o);
	if (s >= 0)
		close(s); /* the JVM's copy is the one that talks; this process's would keep the server's call open */
	if (!sent)
		server_died(strerror(errno));
}

/* Serves this call over sock; returns only to go cold: 1 when the server answered COLD (or the
 * call cannot be sent), 0 when it went away before it accepted the call (nothing was done). */
static int serve(int sock)
{
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		cwd[0] = 0;
	int fds[4] = {0, 1, 2, open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)};
	for (int i = 0; i < 4; i++)
		if (fds[i] < 0 || fcntl(fds[i], F_GETFD) < 0) {
			close(sock);
			if (fds[3] >= 0)
				close(fds[3]);
			return 1; /* a closed stdio or an unreachable cwd: what a one-shot JVM does with it */
		}
	mode_t um = umask(0);
	umask(um);
	struct wire_out o = {0};
	wire_out_i32(&o, WIRE_PROTOCOL);
	wire_out_str(&o, build_id);
	wire_out_str(&o, home);
	wire_out_i32(&o, (int32_t)um);
	wire_out_str(&o, cwd);
	wire_out_strs(&o, call_argv);
	wire_out_strs(&o, environ);
	int sent = wire_send(sock, WIRE_REQUEST, &o, fds, 4);
	wire_out_free(&o);
	close(fds[3]);
	if (!sent) {
		close(sock);
		return 0;
	}
	mark("request sent");
	int accepted = 0;
	for (;;) {
		struct wire_frame f;
		int r = wire_read(sock, &f);
		if (r <= 0) {
			if (!accepted) {
				close(sock);
				return 0;
			}
			server_died(r == 0 ? "its connection closed" : strerror(errno));
		}
		switch (f.type) {
		case WIRE_ACCEPTED:
			accepted = 1;
			mark("accepted");
			break;
		case WIRE_EXIT: {
			int32_t status = wire_in_i32(&f);
			mark("exit");
			_exit(status & 0xff);
		}
		case WIRE_COLD:
			if (!accepted) {
				if (trace) {
					char *why = wire_in_str(&f);
					fprintf(stderr, "gvshim-client: the server answers cold: %s\n", why);
				}
				close(sock);
				return 1;
			}
			server_died("it sent a message out of order");
			break;
		case WIRE_SPAWN:
			accepted = 1;
			do_spawn(sock, &f);
			mark("spawned and reaped");
			break;
		case WIRE_EXEC:
			do_exec(sock, &f);
			break;
		case WIRE_CONNECT:
			do_connect(sock, &f);
			break;
		case WIRE_USERNS_SPAWN:
			accepted = 1;
			do_userns_spawn(sock, &f);
			mark("runsc forked into the namespaces");
			break;
		default:
			errno = EPROTO;
			server_died("it sent a message this client does not know");
		}
		for (int i = 0; i < f.nfds; i++)
			close(f.fds[i]);
		wire_frame_free(&f);
	}
}

/* `gvshim __sandbox DIR/NAME` (the Java API, dev.gvshim.api): the JVM that started this process with
 * java.lang.ProcessBuilder listens on DIR/NAME (its own directory, mode 0700) and serves this one call
 * as a server serves `gvshim run`: it makes and maps the namespaces, this process forks runsc into
 * them and becomes gvshim-waiter, on the stdio ProcessBuilder gave it. Never a cold path: the JVM
 * that asked is the server; without it there is nothing to run (one line, exit 125). */
static int sandbox(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	int sock = -1;
	if (slash && slash != dir && slash[1]) {
		*slash = 0;
		int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		struct stat st;
		if (dirfd >= 0 && fstat(dirfd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077) == 0)
			sock = connect_at(dirfd, slash + 1);
		else
			errno = dirfd < 0 ? errno : EACCES;
		if (dirfd >= 0)
			close(dirfd);
	} else {
		errno = EINVAL;
	}
	if (sock >= 0) {
		api = 1;
		serve(sock); /* returns only when the JVM went away before it accepted */
		errno = ECONNRESET;
	}
	fprintf(stderr, "gvshim: cannot reach the JVM that starts this sandbox at %s: %s. Fix: start sandboxes with "
			"dev.gvshim.api.SandboxBuilder, not `gvshim __sandbox` [SERVER_DIED]\n", path, strerror(errno));
	return EXIT_GVSHIM;
}

int main(int argc, char **argv)
{
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *t = getenv("GVSHIM_TRACE");
	trace = t && *t && strcmp(t, "0") != 0;
	call_argv = argv;
	call_argc = argc;
	if (!find_home()) {
		fprintf(stderr, "gvshim: cannot find the installation: /proc/self/exe is unreadable. Fix: mount proc at /proc"
				" [INSTALL_BROKEN]\n");
		return EXIT_GVSHIM;
	}
	if (argc == 3 && strcmp(argv[1], "__sandbox") == 0)
		return sandbox(argv[2]);
	const char *m = mode();
#ifdef GVSHIM_CLIENT_TEST
	const char *v;
	if ((v = getenv("GVSHIM_CLIENT_TMP")) && *v)
		tmp_dir = v;
	if ((v = getenv("GVSHIM_CLIENT_RUN")) && *v)
		run_dir = v;
	/* which server directory and name this client would use */
	if ((v = getenv("GVSHIM_CLIENT_PRINT_DIR")) && *v) {
		char dir[PATH_MAX], idpath[PATH_MAX + 32], name[72];
		snprintf(idpath, sizeof idpath, "%s/lib/build-id", home);
		if (!read_small(idpath, build_id, sizeof build_id))
			snprintf(build_id, sizeof build_id, "dev");
		server_name(name, sizeof name);
		printf("mode %s\ndir %s\nname %s\nidle %s\n", m, server_dir(dir, sizeof dir) ? dir : "none", name,
		       idle_timeout());
		return 0;
	}
#endif
	const char *train = getenv("GVSHIM_AOT_TRAIN");
	if (train && *train)
		cold("AOT training: one-shot");
	if (strcmp(m, "off") == 0)
		cold("GVSHIM_SERVER=off");
	if (strcmp(m, "auto") != 0 && strcmp(m, "on") != 0)
		cold("GVSHIM_SERVER is neither auto, on nor off: off");
	if (getpid() == 1)
		cold("PID 1: no server");
	/* `gvshim server ...`: run and start are the one-shot JVM's (it becomes or starts the server);
	 * status and stop ask a running server, and never start one */
	int may_start = 1;
	if (argc > 1 && strcmp(argv[1], "server") == 0) {
		if (argc != 3 || (strcmp(argv[2], "status") != 0 && strcmp(argv[2], "stop") != 0))
			cold("gvshim server: its own JVM");
		may_start = 0;
	}
	char idpath[PATH_MAX + 32];
	snprintf(idpath, sizeof idpath, "%s/lib/build-id", home);
	if (!read_small(idpath, build_id, sizeof build_id))
		cold("no lib/build-id");
	char dir[PATH_MAX], name[72], sock_name[80];
	server_name(name, sizeof name);
	snprintf(sock_name, sizeof sock_name, "%s.sock", name);
	int sock = -1;
	if (server_dir(dir, sizeof dir)) {
		int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		struct stat st;
		if (dirfd >= 0) {
			if (fstat(dirfd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
				cold("the server directory is not the caller's own with mode 0700");
			sock = connect_at(dirfd, sock_name);
			if (sock < 0 && errno != ENOENT && errno != ECONNREFUSED)
				cold("cannot connect to the server");
			close(dirfd);
		} else if (errno != ENOENT) {
			cold("cannot open the server directory");
		}
	}
	mark(sock >= 0 ? "connected" : "no server");
	if (sock < 0 && !may_start)
		cold("no server to ask");
	int started = 0;
	if (sock < 0 && (started = 1) && (sock = start_server()) < 0) {
		if (strcmp(m, "on") == 0)
			fprintf(stderr, "gvshim: cannot start the gvshim server: %s; the call runs without it. Fix: see its"
					" server.log, or set GVSHIM_SERVER=off [SERVER_FAILED]\n",
				strerror(errno));
		cold("cannot start a server");
	}
	if (!serve(sock) && started && strcmp(m, "on") == 0) {
		char d[PATH_MAX];
		fprintf(stderr, "gvshim: the gvshim server did not start: it exited before it took the call; the call runs "
				"without it. Fix: see %s/server.log, or set GVSHIM_SERVER=off [SERVER_FAILED]\n",
			server_dir(d, sizeof d) ? d : "the server directory");
	}
	cold("the server gave the call back");
	return EXIT_GVSHIM;
}
