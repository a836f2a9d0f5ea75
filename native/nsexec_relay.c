/*
 * gvshim-nsexec's relay side (see gvshim_nsexec.c): runsc forked, its output copied to the caller's
 * descriptors until it is done (wait, terminal) or in the background (detach), output lost reported.
 */
#define _GNU_SOURCE
#include "nsexec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Whether stderr can still carry gvshim's own line. */
static bool stderr_works(const struct relay *r)
{
	return r->err.fd >= 0 && !r->err.err && !(r->merged && r->out.err);
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
 * A chunk from the pipe that carries runsc's stderr (err_src; out_src when stdout and stderr are
 * one file): held while --hold-stderr holds, else written to the sink. Beyond HOLD_MAX it is no
 * error line of runsc's: what is held and what follows are relayed as they come. Returns false
 * once the sink failed (relay_put).
 */
static bool put_stderr(struct relay *r, struct relay_sink *s, const char *b, size_t k)
{
	if (r->holding) {
		if (r->held_len + k <= sizeof r->held) {
			memcpy(r->held + r->held_len, b, k);
			r->held_len += k;
			return true;
		}
		r->holding = false;
		bool ok = relay_put(s, r->held, r->held_len);
		r->held_len = 0;
		return relay_put(s, b, k) && ok;
	}
	return relay_put(s, b, k);
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
			else if (opt.signal_argv && forwardable((int)si.ssi_signo))
				forward_push((int)si.ssi_signo);
		}
	}

	char b[65536];
	if (i_out >= 0 && p[i_out].revents) {
		ssize_t k = read(r->out_src, b, sizeof b);
		if (k > 0) {
			if (!(r->merged ? put_stderr(r, &r->out, b, (size_t)k) : relay_put(&r->out, b, (size_t)k))) {
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
			if (!put_stderr(r, &r->err, b, (size_t)k))
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
/* The background relay lives as long as the container's output: it keeps only the descriptors it
 * copies between. Whatever else its caller let it inherit (a lock held with flock(1), the write end
 * of a pipe a shell pipeline waits on, a socket) is not held for the container's life: runc's
 * detached container keeps only its stdio and --preserve-fds, which runsc has. */
static void keep_only_relayed(const struct relay *r)
{
	const int keep[] = {r->in_src, r->in_dst, r->out_src, r->err_src, r->out.fd, r->err.fd};
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	int own = dirfd(d);
	int fds[1024], n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < (int)(sizeof fds / sizeof *fds)) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int fd = atoi(e->d_name);
		bool kept = fd == own;
		for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
			kept = kept || keep[i] == fd;
		if (!kept)
			fds[n++] = fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static _Noreturn void relay_in_background(struct relay *r)
{
	keep_only_relayed(r);
	if (opt.output)
		setsid(); /* a detached sandbox's relay: not one of the caller's terminal's jobs */
	bool ignored;
	while (relay_open(r))
		relay_round(r, -1, -1, &ignored);
	report_losses(r, false);
	if (opt.then)
		exec_then();
	_exit(0);
}

static int exit_code(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/*
 * --hold-stderr RUNSC_LOG: `runsc create` has exited. Between its start and its exit nothing of
 * the container's can be on its stderr: gVisor starts the container's process at `start` (runsc/
 * cmd/boot.go waits for the start signal), and the sandbox and gofer do not write to it (runsc/
 * sandbox/sandbox.go gives the boot process /dev/null as stderr unless --debug; runsc/cli/main.go:
 * "Stderr is reserved for the application"). What runsc wrote there is its own error, and runsc's
 * util.Errorf writes the same message to its --log, which gvshim turns into its one line; so on
 * failure it is dropped, not shown twice. It is shown when nothing else recorded the failure (an
 * empty RUNSC_LOG and no --error-file: a Go panic's traceback, a runsc killed by a signal), and,
 * on success, written as it would have been.
 */
static void release_held(struct relay *r, int status)
{
	if (!r->holding)
		return;
	int *src = r->merged ? &r->out_src : &r->err_src;
	struct relay_sink *s = r->merged ? &r->out : &r->err;
	/* what is still in the pipe was written before the exit: it joins what is held */
	char b[65536];
	ssize_t k;
	while (*src >= 0 && r->holding && (k = read(*src, b, sizeof b)) > 0)
		if (!put_stderr(r, s, b, (size_t)k))
			relay_drop(s, src);
	bool was_holding = r->holding;
	r->holding = false;
	if (!was_holding)
		return;
	struct stat st;
	bool recorded = (stat(opt.hold_stderr, &st) == 0 && st.st_size > 0) || (error_file && access(error_file, F_OK) == 0);
	if (exit_code(status) == 0 || !recorded)
		if (r->held_len > 0 && !relay_put(s, r->held, r->held_len))
			relay_drop(s, src);
	r->held_len = 0;
}

int run_relayed(char **argv)
{
	static struct relay r;
	int child[3] = {-1, -1, -1};
	int rc = setup_stdio(&r, child);
	if (rc != 0)
		return rc;
	r.holding = opt.hold_stderr != NULL;

	/* This process outlives runsc's output: terminal-generated SIGINT/SIGQUIT (which reach runsc
	 * too), SIGPIPE (a write error is handled) and background terminal I/O must not stop it.
	 * runsc gets the caller's dispositions back. SIGCHLD (and SIGWINCH) arrive on a signalfd;
	 * with --signal-argv so do SIGINT, SIGQUIT and every other signal forwarded to the container. */
	static const int ignored[] = {SIGINT, SIGQUIT, SIGPIPE, SIGTTIN, SIGTTOU};
	struct sigaction old[sizeof ignored / sizeof *ignored], old_chld;
	struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL};
	for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
		sigaction(ignored[i], opt.signal_argv && forwardable(ignored[i]) ? &dfl : &ign, &old[i]);
	sigaction(SIGCHLD, &dfl, &old_chld); /* SIG_IGN would reap runsc before we can */
	sigset_t block, old_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGWINCH);
	if (opt.signal_argv)
		forward_set(&block);
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
		if (opt.output)
			setsid(); /* a detached sandbox: runsc and its gofer in no job of the caller's terminal */
		else if (opt.signal_argv)
			/* Its own process group: a ^C or `kill -- -PGID` aimed at the caller's job would end
			 * runsc (`runsc run` and `exec` without a pty forward nothing: the container would run
			 * on, orphaned); the relay, still in the job, gets it and forwards it once. */
			setpgid(0, 0);
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
		if (!exited && opt.signal_argv) {
			int f = forward_timeout();
			if (f >= 0 && (timeout < 0 || f < timeout))
				timeout = f;
		}
		bool sigchld = false;
		relay_round(&r, exited ? -1 : sfd, timeout, &sigchld);
		if (sigchld && !exited) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				exited = true;
				release_held(&r, status);
				deadline = now_ms() + (opt.mode == RELAY_DETACH ? 0 : GRACE_MS);
			}
		}
		if (opt.signal_argv && sigchld)
			forward_reap();
		if (opt.signal_argv && exited)
			forward_end(); /* runc too stops forwarding once the process has exited */
		else if (opt.signal_argv)
			forward_poll();
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
