/* bin/gvshim's signal forwarding (client_forward.c). */
#ifndef GVSHIM_CLIENT_FORWARD_H
#define GVSHIM_CLIENT_FORWARD_H

#include <signal.h>
#include <sys/types.h>

/* The signals forwarded to a foreground relay: every one but SIGKILL, SIGSTOP, SIGCHLD, SIGWINCH,
 * SIGURG, SIGPIPE, SIGTTIN, SIGTTOU (as native/nsexec_signals.c forwards them on). */
void forwarded_signals(sigset_t *set);

/* Waits for pid (its wait status into *st), forwarding what arrives in set (which holds SIGCHLD
 * and is blocked); sigwaitinfo(2) takes them. */
void wait_forwarding(pid_t pid, const sigset_t *set, int *st);

#endif
