/*
 * gvshim-waiter's relay loop (see gvshim_waiter.c): stdin, stdout and stderr between the caller
 * and runsc's pipes (or the pty received over the console socket), stderr held back until the
 * command has started, signals forwarded, the --timeout escalation.
 */
#define _GNU_SOURCE
#include "waiter.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define HOLD_LIMIT (1 << 20)

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

void setup_signals(void)
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

/* ---------- byte relays ---------- */

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

void restore_terminal(void)
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

static void escalate(struct waiter *w)
{
	if (w->exited || w->deadline <= 0 || now() < w->deadline)
		return;
	if (w->escalation == 0 && opt.timeout > 0 && !w->timed_out) {
		w->timed_out = true;
		fprintf(stderr, "gvshim: timeout: the command was still running after %gs; stopping it\n", opt.timeout);
	}
	w->escalation++;
	if (w->escalation == 1 && w->started)
		runsc_kill(SIGTERM);
	else if (w->escalation <= 2 && w->started)
		runsc_kill(SIGKILL), w->escalation = 2;
	else
		kill(opt.child, SIGKILL), w->escalation = 3;
	w->deadline = now() + (w->escalation == 1 ? opt.kill_after : 2);
}

/* Signals from the self-pipe: SIGCHLD reaps (runsc's exit starts the drain), SIGWINCH resizes
 * the pty, the rest are forwarded to the command (or stop runsc before the command runs). */
static void on_signals(struct waiter *w)
{
	unsigned char sigs[64];
	ssize_t k = read(sigpipe_fds[0], sigs, sizeof sigs);
	for (ssize_t j = 0; j < k; j++) {
		int sig = sigs[j];
		if (sig == SIGCHLD) {
			int st;
			pid_t p;
			while ((p = waitpid(-1, &st, WNOHANG)) > 0)
				if (p == opt.child && !w->exited) {
					if (opt.trace)
						fprintf(stderr, "gvshim: trace runsc exited at monotonic %.0f us\n", now() * 1e6);
					w->exited = true;
					w->status = st;
					w->drain_until = now() + 2;
					close_fd(&w->in_dst);
				}
		} else if (sig == SIGWINCH) {
			if (w->master >= 0)
				copy_winsize(w->master);
		} else if (!w->exited) {
			if (!w->started) {
				/* nothing runs yet: stop runsc; its sandbox dies with it (PDEATHSIG) */
				w->stop_signal = sig;
				kill(opt.child, SIGKILL);
			} else if ((sig == SIGINT || sig == SIGTERM) && ++w->interrupts >= 3) {
				w->stop_signal = sig;
				kill(opt.child, SIGKILL);
			} else {
				runsc_kill(sig == SIGINT || sig == SIGTERM ? (w->interrupts == 2 ? SIGKILL : sig) : sig);
			}
		}
	}
}

/* The command runs: what stderr held is its. */
static void release_held(struct waiter *w)
{
	w->started = true;
	if (w->held.len && !relay_put(&w->err_sink, w->held.p, w->held.len))
		relay_drop(&w->err_sink, &w->err_fd);
	w->held.len = 0;
}

/* The poststart hook wrote to the fifo (or the fifo hung up). */
static void on_started(struct waiter *w, short revents)
{
	char s;
	if (read(opt.started_fd, &s, 1) == 1 || (revents & POLLHUP)) {
		close_fd(&opt.started_fd);
		release_held(w);
	}
}

/* A pooled run: a file was written in the pid file's directory; runsc exec's pid file means started. */
static void on_pid_watch(struct waiter *w)
{
	char events[4096] __attribute__((aligned(__alignof__(long))));
	while (read(w->pid_watch, events, sizeof events) > 0) {
		/* drained: only whether the pid is there matters */
	}
	if (exec_started()) {
		close_fd(&w->pid_watch);
		release_held(w);
	}
}

static void on_stdin(struct waiter *w, char *b, size_t size)
{
	ssize_t k = read(w->in_src, b, size);
	if (k > 0) {
		w->pending_in.len = w->pending_off = 0;
		buf_add(&w->pending_in, b, (size_t)k);
	} else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
		w->in_eof = true;
		if (w->master < 0)
			close_fd(&w->in_dst); /* EOF reaches the command */
	}
}

static void on_stdin_writable(struct waiter *w, int dst)
{
	ssize_t n = write(dst, w->pending_in.p + w->pending_off, w->pending_in.len - w->pending_off);
	if (n > 0)
		w->pending_off += (size_t)n;
	else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		/* the command closed its stdin: stop reading ours */
		w->in_eof = true;
		w->pending_in.len = w->pending_off = 0;
		if (w->master < 0)
			close_fd(&w->in_dst);
	}
}

static void on_stdout(struct waiter *w, char *b, size_t size)
{
	ssize_t k = read(w->out_fd, b, size);
	if (k > 0) {
		/* the caller's reader went away or its file is full: the command sees EPIPE */
		if (!relay_put(&w->out_sink, b, (size_t)k))
			relay_drop(&w->out_sink, &w->out_fd);
	} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
		close_fd(&w->out_fd);
	}
}

static void on_stderr(struct waiter *w, char *b, size_t size)
{
	ssize_t k = read(w->err_fd, b, size);
	if (k > 0) {
		if (w->started) {
			if (!relay_put(&w->err_sink, b, (size_t)k))
				relay_drop(&w->err_sink, &w->err_fd);
		} else {
			buf_add(&w->held, b, (size_t)k);
			if (w->held.len > HOLD_LIMIT) { /* never hold unbounded output */
				if (!relay_put(&w->err_sink, w->held.p, w->held.len))
					relay_drop(&w->err_sink, &w->err_fd);
				w->held.len = 0;
			}
		}
	} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
		close_fd(&w->err_fd);
	}
}

static void on_master(struct waiter *w, char *b, size_t size)
{
	ssize_t k = read(w->master, b, size);
	if (k > 0) {
		/* closing the master hangs the terminal up: the command gets EIO or SIGHUP */
		if (!relay_put(&w->out_sink, b, (size_t)k))
			relay_drop(&w->out_sink, &w->master);
	} else if (k == 0 || (errno != EAGAIN && errno != EINTR))
		close_fd(&w->master); /* EIO: the terminal's last user is gone */
}

void relay_loop(struct waiter *w)
{
	static char b[65536];
	for (;;) {
		if (w->exited && w->out_fd < 0 && w->err_fd < 0 && w->master < 0)
			break;
		if (w->exited && now() >= w->drain_until)
			break;

		struct pollfd p[8];
		int n = 0, i_sig, i_in = -1, i_indst = -1, i_out = -1, i_err = -1, i_started = -1, i_console = -1, i_master = -1,
		    i_watch = -1;
		p[i_sig = n++] = (struct pollfd){sigpipe_fds[0], POLLIN, 0};
		bool want_in = !w->exited && !w->in_eof && (w->in_dst >= 0 || w->master >= 0) && w->pending_in.len == w->pending_off;
		if (want_in)
			p[i_in = n++] = (struct pollfd){w->in_src, POLLIN, 0};
		int dst = w->master >= 0 ? w->master : w->in_dst;
		if (dst >= 0 && w->pending_in.len > w->pending_off)
			p[i_indst = n++] = (struct pollfd){dst, POLLOUT, 0};
		if (w->out_fd >= 0)
			p[i_out = n++] = (struct pollfd){w->out_fd, POLLIN, 0};
		if (w->err_fd >= 0)
			p[i_err = n++] = (struct pollfd){w->err_fd, POLLIN, 0};
		if (opt.started_fd >= 0)
			p[i_started = n++] = (struct pollfd){opt.started_fd, POLLIN, 0};
		if (w->pid_watch >= 0)
			p[i_watch = n++] = (struct pollfd){w->pid_watch, POLLIN, 0};
		if (opt.console_fd >= 0)
			p[i_console = n++] = (struct pollfd){opt.console_fd, POLLIN, 0};
		if (w->master >= 0)
			p[i_master = n++] = (struct pollfd){w->master, POLLIN, 0};

		int wait_ms = -1;
		double wake = w->exited ? w->drain_until : w->deadline;
		if (wake > 0) {
			double d = wake - now();
			wait_ms = d <= 0 ? 0 : (int)(d * 1000) + 1;
		}
		int r = poll(p, (nfds_t)n, wait_ms);
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		escalate(w);
		if (r <= 0)
			continue;

		if (p[i_sig].revents & POLLIN)
			on_signals(w);
		if (i_started >= 0 && p[i_started].revents)
			on_started(w, p[i_started].revents);
		if (i_watch >= 0 && p[i_watch].revents)
			on_pid_watch(w);
		if (i_console >= 0 && (p[i_console].revents & POLLIN)) {
			w->master = receive_master(opt.console_fd);
			close_fd(&opt.console_fd);
		}
		if (i_in >= 0 && p[i_in].revents)
			on_stdin(w, b, sizeof b);
		if (i_indst >= 0 && p[i_indst].revents)
			on_stdin_writable(w, dst);
		if (i_out >= 0 && p[i_out].revents)
			on_stdout(w, b, sizeof b);
		if (i_err >= 0 && p[i_err].revents)
			on_stderr(w, b, sizeof b);
		if (i_master >= 0 && p[i_master].revents)
			on_master(w, b, sizeof b);
	}
}
