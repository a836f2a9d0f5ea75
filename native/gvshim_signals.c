/*
 * Signal forwarding for a one-shot JVM (libgvshim.so, called through FFM by
 * dev.gvshim.linux.Linux.forwardSignals): with GVSHIM_SERVER=off the caller's process is the JVM,
 * and a foreground runtime `run` or `exec` must pass the signals it receives to gvshim-nsexec's
 * relay, which forwards them to the container's process as runc does (native/nsexec_signals.c).
 * Java cannot catch most signals (java.base has no public API; HotSpot's own handlers end the
 * JVM on SIGTERM, SIGINT and SIGHUP, and the default action ends it on the others), so the
 * handler is C: async-signal-safe, it only calls kill(2).
 *
 * Not taken over: the signals HotSpot itself relies on (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP:
 * implicit null and stack checks; SIGUSR2: its thread suspend/resume signal), and those the relay
 * does not forward either (SIGKILL, SIGSTOP, SIGCHLD, SIGWINCH, SIGURG, SIGPIPE, SIGTTIN, SIGTTOU).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <unistd.h>

static volatile sig_atomic_t target; /* the relay; 0: none (any more): dropped; -1: not started yet: held */
static volatile sig_atomic_t held[32]; /* what came while target was -1 */
static volatile sig_atomic_t installed;

static int taken_over(int sig)
{
	switch (sig) {
	case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP: case SIGUSR2:
	case SIGKILL: case SIGSTOP: case SIGCHLD: case SIGWINCH: case SIGURG: case SIGPIPE: case SIGTTIN: case SIGTTOU:
		return 0;
	default:
		return 1;
	}
}

/* Only what a process sent (si_code <= 0), never the kernel's own (a ^C or hang-up of the
 * caller's terminal reaches the relay directly, in the same foreground job) nor our own raise. */
static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	pid_t t = (pid_t)target;
	if (si->si_code > 0 || si->si_pid == getpid())
		; /* the kernel's, or our own */
	else if (t > 0)
		kill(t, sig);
	else if (t < 0)
		held[sig] = 1;
	errno = saved;
}

/*
 * From now on the signals this JVM receives go to pid: -1 before the relay is started (they are
 * held, and sent once its pid is given: the relay's process may run before Java knows its pid),
 * 0 once it has exited (dropped: runc too ignores signals while it finishes the call). The
 * handlers stay for the JVM's life (a one-shot JVM ends with the call). Returns 0, or the errno
 * of a failed sigaction.
 */
__attribute__((visibility("default"))) int gvshim_forward_signals(int pid)
{
	target = pid;
	if (pid > 0)
		for (int sig = 1; sig < 32; sig++)
			if (held[sig]) {
				held[sig] = 0;
				kill(pid, sig);
			}
	if (installed)
		return 0;
	struct sigaction sa = {.sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART};
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig <= 31; sig++)
		if (taken_over(sig) && sigaction(sig, &sa, NULL) != 0)
			return errno;
	installed = 1;
	return 0;
}
