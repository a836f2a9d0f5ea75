/*
 * gvshim-nsexec's relay side, its stdio (see gvshim_nsexec.c): runsc gets pipes (or a pty), never
 * the caller's descriptors; the caller's closed descriptors and a merged stdout/stderr are kept as they are.
 */
#define _GNU_SOURCE
#include "nsexec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

void close_fd(int *fd)
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

void restore_terminal(struct relay *r)
{
	if (r->raw) {
		tcsetattr(0, TCSADRAIN, &r->saved);
		r->raw = false;
	}
}

void copy_winsize(int master)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

int setup_stdio(struct relay *r, int child[3])
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
		if (opt.rows) {
			struct winsize ws = {.ws_row = opt.rows, .ws_col = opt.cols};
			ioctl(master, TIOCSWINSZ, &ws);
		}
		copy_winsize(master); /* the caller's terminal's size wins, as with runc */
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

/* --then: execs the argv in opt.then (NUL-separated); returns only when it cannot. */
void exec_then(void)
{
	static char buf[8192];
	static char *args[64];
	int fd = open(opt.then, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	size_t k = 0;
	for (char *p = buf; p < buf + n && k + 1 < sizeof args / sizeof *args; p += strlen(p) + 1)
		args[k++] = p;
	args[k] = NULL;
	/* stdin (the /dev/null --output gave: no input to relay) was closed with what is not relayed */
	int null = open("/dev/null", O_RDONLY);
	if (null > 0) {
		dup2(null, 0);
		close(null);
	}
	execv(args[0], args);
}

/* Appends one error line to the runtime's --log (runc's and runsc's format: the shim reads the last). */
void log_error(const char *msg)
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
