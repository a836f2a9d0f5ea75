/*
 * bin/gvshim's signal forwarding for a foreground runtime `run` or `exec` served by a server
 * (gvshim_client.c, SPAWN with WIRE_SPAWN_FORWARD_SIGNALS).
 */
#define _GNU_SOURCE
#include "client_forward.h"

#include <errno.h>
#include <sys/wait.h>
#include <time.h>

/*
 * The signals a foreground runtime `run` or `exec` forwards (SPAWN's WIRE_SPAWN_FORWARD_SIGNALS):
 * runc forwards every signal it receives to the container's process, and a caller (a script's
 * `kill -TERM $!`) signals this process. It passes them to the program, gvshim-nsexec's relay,
 * which forwards them to the container (native/nsexec_signals.c, whose set this is). Only what
 * a process sent is forwarded (si_code <= 0: kill(2), sigqueue(3), tgkill(2)), not what the
 * kernel sends (si_code > 0; SI_KERNEL for a ^C or a hang-up of the caller's terminal), which
 * reaches the relay directly, as a member of the same foreground job: once, not twice.
 */
void forwarded_signals(sigset_t *set)
{
	sigemptyset(set);
	for (int sig = 1; sig <= 31; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD && sig != SIGWINCH && sig != SIGURG && sig != SIGPIPE &&
		    sig != SIGTTIN && sig != SIGTTOU)
			sigaddset(set, sig);
}

static void caught(int sig)
{
	(void)sig; /* never runs: the signals are blocked and taken by sigtimedwait */
}

/*
 * Waits for pid, forwarding the signals this process receives meanwhile; they stay blocked after
 * (runc too lets them go once the process has exited, while it finishes the call).
 *
 * Each gets a handler while waited for: a signal whose disposition is to be ignored (SIGCHLD's
 * and SIGCONT's default, a SIG_IGN inherited from a shell's background job or nohup) can be
 * discarded when it arrives while the waiter sleeps in sigtimedwait(2), which unblocks the set
 * meanwhile (measured: the relay's SIGCHLD was lost and the call hung); a caught one is queued.
 * The 1 s timeout re-checks pid all the same.
 */
void wait_forwarding(pid_t pid, const sigset_t *set, int *st)
{
	struct sigaction old[32], sa = {.sa_handler = caught, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
	sigfillset(&sa.sa_mask);
	for (int sig = 1; sig < 32; sig++)
		if (sigismember(set, sig))
			sigaction(sig, &sa, &old[sig]);
	for (;;) {
		siginfo_t si;
		struct timespec second = {1, 0};
		int sig = sigtimedwait(set, &si, &second);
		if (sig < 0 && errno == EINTR)
			continue;
		if (sig < 0 && errno != EAGAIN)
			break;
		if (sig < 0 || sig == SIGCHLD) {
			pid_t w = waitpid(pid, st, WNOHANG);
			if (w == pid || (w < 0 && errno != EINTR))
				goto done;
		} else if (si.si_code <= 0) {
			kill(pid, sig);
		}
	}
	while (waitpid(pid, st, 0) < 0 && errno == EINTR)
		;
done:
	for (int sig = 1; sig < 32; sig++)
		if (sigismember(set, sig))
			sigaction(sig, &old[sig], NULL);
}
