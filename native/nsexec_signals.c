/*
 * gvshim-nsexec's signal forwarding (--signal-argv, see gvshim_nsexec.c): a foreground `run` or
 * `exec` forwards the signals it receives to the container's process, as runc does (runc's
 * signals.go: every signal but SIGCHLD and SIGWINCH goes to the init or the exec'd process with
 * kill(2), and runc exits with that process's status). The process lives in gVisor's sandbox, not
 * on the host, so the signal goes through runsc: `runsc kill ID SIG` for run's init, `runsc kill
 * --pid=N ID SIG` for an exec'd process (N from runsc exec's --internal-pid-file). `runsc run`
 * forwards nothing itself, and `runsc exec` only with a pty (runsc/cmd/exec.go), so runsc alone
 * would let a signal kill runsc and leave the container running.
 *
 * The argv comes from the Java side (the container's runsc flags, a rootless container's setns
 * through gvshim-nsexec), NUL-separated: ... kill ID; this file inserts --pid=N before ID and
 * appends the signal's number. One `runsc kill` at a time, in the order the signals came.
 */
#define _GNU_SOURCE
#include "nsexec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAX 64     /* signals waiting for their `runsc kill`: a burst beyond it is dropped, as the kernel merges */
#define RETRY_FIRST_MS 25 /* a failed `runsc kill` is tried again after this, doubling ... */
#define RETRY_MAX_MS 500  /* ... up to this */
#define ATTEMPTS_MAX 40   /* ~15 s of a container that cannot be signalled yet (created, paused) */
#define PID_POLL_MS 20    /* how often runsc exec's pid file is looked for before the process runs */

static int queue[QUEUE_MAX];
static int queued;
static pid_t killer = -1;       /* the running `runsc kill` */
static int attempts;            /* failed attempts at queue[0] */
static long long next_ms;       /* when queue[0] may be tried (again) */
static char *template[256];     /* --signal-argv, read at the first signal */
static int template_len = -1;

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Not forwarded: SIGKILL and SIGSTOP (cannot be caught), SIGCHLD (runsc's end; runc too),
 * SIGWINCH (the relay's own pty resize; runc too), SIGURG (runc 1.2 skips it: Go's preemption
 * signal), and SIGPIPE, SIGTTIN, SIGTTOU, which the kernel raises for this process's own writes
 * and reads of the caller's descriptors (they stay ignored: the relay handles EPIPE and EIO).
 */
bool forwardable(int sig)
{
	return sig >= 1 && sig <= 31 && sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD && sig != SIGWINCH &&
	       sig != SIGURG && sig != SIGPIPE && sig != SIGTTIN && sig != SIGTTOU;
}

void forward_set(sigset_t *set)
{
	for (int sig = 1; sig <= 31; sig++)
		if (forwardable(sig))
			sigaddset(set, sig);
}

void forward_push(int sig)
{
	if (queued == 0)
		next_ms = mono_ms();
	if (queued < QUEUE_MAX)
		queue[queued++] = sig;
}

static void pop(void)
{
	memmove(queue, queue + 1, (size_t)(queued - 1) * sizeof *queue);
	queued--;
	attempts = 0;
	next_ms = mono_ms();
}

/* One line, once per signal that could not be forwarded: stderr and the runtime's --log. */
static void report(int sig, const char *why)
{
	char line[1024];
	snprintf(line, sizeof line, "gvshim: cannot forward signal %d (%s) to container %s's process: %s. Fix: send it with"
		 " `gvshim kill %s %d` [SIGNAL_NOT_FORWARDED]", sig, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
		 opt.id ? opt.id : "?", why, opt.id ? opt.id : "ID", sig);
	fprintf(stderr, "%s\n", line);
	log_error(line + strlen("gvshim: "));
}

static bool read_template(void)
{
	static char buf[16384];
	if (template_len >= 0)
		return template_len >= 2;
	template_len = 0;
	int fd = open(opt.signal_argv, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	for (char *p = buf; p < buf + n && template_len + 4 < (int)(sizeof template / sizeof *template); p += strlen(p) + 1)
		template[template_len++] = p;
	return template_len >= 2;
}

/* runsc exec's --internal-pid-file: the process's pid in the sandbox; 0 while runsc has not written it. */
static long exec_pid(void)
{
	char buf[24] = "";
	int fd = open(opt.signal_pid_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
	return pid > 0 ? pid : 0;
}

/* Forks `runsc kill [--pid=N] ID SIG` with pipes of its own as stdio (never the caller's). */
static pid_t start_kill(int sig, long pid)
{
	char num[16], pidflag[40];
	char *argv[sizeof template / sizeof *template + 3];
	int n = 0;
	for (int i = 0; i < template_len - 1; i++)
		argv[n++] = template[i];
	if (pid > 0) {
		snprintf(pidflag, sizeof pidflag, "--pid=%ld", pid);
		argv[n++] = pidflag;
	}
	argv[n++] = template[template_len - 1];
	snprintf(num, sizeof num, "%d", sig);
	argv[n++] = num;
	argv[n] = NULL;
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid_t p = fork();
	if (p == 0) {
		/* its own process group: a ^C on the caller's terminal reaches the relay, which forwards it, not runsc */
		setpgid(0, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTTIN, SIG_DFL);
		signal(SIGTTOU, SIG_DFL);
		/* stdin an empty pipe, stdout and stderr a pipe nobody reads: runsc writes its error to its
		 * --log; whatever else would block nobody (EPIPE) */
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(126);
		syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
	return p;
}

void forward_poll(void)
{
	if (killer > 0 || queued == 0 || mono_ms() < next_ms)
		return;
	if (!read_template()) {
		report(queue[0], "the runsc call that sends it cannot be read (--signal-argv)");
		pop();
		return;
	}
	long pid = 0;
	if (opt.signal_pid_file && (pid = exec_pid()) == 0) {
		/* the process has not started yet: runc too delivers what came before to the process once it runs */
		next_ms = mono_ms() + PID_POLL_MS;
		return;
	}
	killer = start_kill(queue[0], pid);
	if (killer < 0) {
		killer = -1;
		report(queue[0], strerror(errno));
		pop();
	}
}

void forward_reap(void)
{
	int st;
	if (killer <= 0 || waitpid(killer, &st, WNOHANG) != killer)
		return;
	killer = -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		pop();
		return;
	}
	/* Refused: before `runsc run` started the container it is "created" (runsc signals only a
	 * running one), a paused one waits for resume; try again while runsc runs. */
	if (++attempts < ATTEMPTS_MAX) {
		int delay = RETRY_FIRST_MS << (attempts < 5 ? attempts - 1 : 4);
		next_ms = mono_ms() + (delay < RETRY_MAX_MS ? delay : RETRY_MAX_MS);
		return;
	}
	char why[160];
	snprintf(why, sizeof why, "runsc kill refused it %d times (last: %s %d)", attempts,
		 WIFEXITED(st) ? "exit status" : "killed by signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	report(queue[0], why);
	pop();
}

int forward_timeout(void)
{
	if (killer > 0 || queued == 0)
		return -1;
	long long left = next_ms - mono_ms();
	return left > 0 ? (int)(left < 1000 ? left : 1000) : 0;
}

void forward_end(void)
{
	if (killer > 0)
		while (waitpid(killer, NULL, 0) < 0 && errno == EINTR)
			;
	killer = -1;
	queued = 0;
}
