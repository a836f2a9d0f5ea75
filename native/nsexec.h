/*
 * gvshim-nsexec's parts (see gvshim_nsexec.c): its options, its failure report, the runsc side
 * (nsexec_runsc.c: namespaces, nodev copies, then exec) and the relay side (nsexec_stdio.c,
 * nsexec_relay.c).
 */
#ifndef GVSHIM_NSEXEC_H
#define GVSHIM_NSEXEC_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <termios.h>

#include "relay.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define EXIT_FAILED 125     /* this program's own failure; also "output was lost" (see the header) */
#define GRACE_MS 1000       /* wait mode: how long the pipes may stay open after runsc's exit */
#define HOLD_MAX 65536      /* --hold-stderr: at most this much is held, then it is relayed as it comes */

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
#define STEP_MOUNTPOINTS_FILE "mountpoint: read(mountpoints-file)"
#define STEP_MOUNTPOINT_TMPFS "mountpoint: mount(tmpfs, stage)"
#define STEP_MOUNTPOINT_MAKE "mountpoint: mkdir/mknod in stage"
#define STEP_MOUNTPOINT_REBIND "mountpoint: mount(MS_BIND|MS_REC, entry)"
#define STEP_EXEC "execve"
#define STEP_PIPE "pipe2(stdio)"
#define STEP_PTY "posix_openpt(terminal)"
#define STEP_SIGNALFD "signalfd"
#define STEP_FORK "fork"
#define STEP_OUTPUT "open(output)"
#define STEP_NET_PIPE "slirp4netns: pipe2"
#define STEP_NET_FORK "slirp4netns: fork"
#define STEP_NET_UNSHARE "unshare(CLONE_NEWNET)"
#define STEP_NET_READY "slirp4netns: ready"
#define STEP_SIGNAL_ARGV "read(signal-argv)"

enum relay_mode { RELAY_NONE, RELAY_WAIT, RELAY_DETACH, RELAY_TERMINAL };

/* The options (see the header of gvshim_nsexec.c). */
extern const char *error_file; /* --error-file: "STEP ERRNO" of a failure, for the Java side */
extern const char *runsc_log;  /* --runsc-log: runsc's --log, where a failure is written as runsc's */

struct nsexec_options {
	enum relay_mode mode;
	const char *log, *log_format, *id;
	const char *output; /* --output: stdin /dev/null, stdout and stderr this file (a detached sandbox's log) */
	const char *then;   /* --then: a NUL-separated argv the background relay execs when it is done */
	const char *signal_argv;     /* --signal-argv: how a signal reaches the container's process (nsexec_signals.c) */
	const char *signal_pid_file; /* --signal-pid-file: runsc exec's --internal-pid-file (the process's pid) */
	unsigned short rows, cols;   /* --console-size ROWSxCOLS: the spec's process.consoleSize (0: none) */
	const char *hold_stderr;     /* --hold-stderr RUNSC_LOG: runsc create's stderr held until it exits */
};

extern struct nsexec_options opt;

/* What the runsc side does before the exec (see the header). */
struct nsexec_prep {
	const char *userns;
	const char *nodev_file;
	const char *mountpoints_file;
	const char *argv0;
	const char *slirp4netns; /* --slirp4netns: a network namespace with a user-mode network (nsexec_net.c) */
	const char *net_log;     /* --net-log: slirp4netns's stdout and stderr */
	bool hide_proc_net;
	bool own_mountns;
};

extern struct nsexec_prep prep;

/*
 * Reports a failed step (stderr, the --error-file, and runsc's --log as runsc's kind of error
 * line) and returns the exit status to use: 128 with --runsc-log (runsc's own "failed"), else 125.
 */
int fail(const char *step, int err);

/* ---------- the runsc side (nsexec_runsc.c) ---------- */

/*
 * In the process that becomes runsc: enters the user namespace, makes the mount namespace, the
 * nodev copies and the /proc/sys/net tmpfs, then execs argv. Returns only on failure, with
 * fail()'s status.
 */
int prepare_and_exec(char **argv);

/* --slirp4netns (nsexec_net.c): a new network namespace with tap0 served by slirp4netns. Returns 0 or fail()'s status. */
int start_network(void);

/* ---------- the relay side (nsexec_stdio.c, nsexec_relay.c) ---------- */

/* --then (nsexec_stdio.c): execs the argv in opt.then (NUL-separated); returns only when it cannot. */
void exec_then(void);

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
	bool holding; /* --hold-stderr while runsc runs: what comes on its stderr (out_src when merged) is held */
	char held[HOLD_MAX];
	size_t held_len;
};

void close_fd(int *fd);

/* Gives the caller's terminal its mode back (raw while a pty was relayed). */
void restore_terminal(struct relay *r);

void copy_winsize(int master);

/*
 * Makes runsc's stdio (child[0..2], O_CLOEXEC, dup2'd onto 0-2 in the child) and the relay's
 * ends. Returns 0 or fail()'s status.
 */
int setup_stdio(struct relay *r, int child[3]);

/* Forks runsc (prepare_and_exec in the child) and relays until it is done; returns the exit status. */
int run_relayed(char **argv);

/* Appends one error line to the runtime's --log (nsexec_relay.c). */
void log_error(const char *msg);

/* ---------- signals forwarded to the container (nsexec_signals.c, with --signal-argv) ---------- */

/* Whether this signal is forwarded when the relay receives it (every one runc forwards but those below). */
bool forwardable(int sig);

/* Adds the forwardable signals to set. */
void forward_set(sigset_t *set);

/* A forwardable signal received while runsc runs: queued, sent in order. */
void forward_push(int sig);

/* Starts the next queued `runsc kill` when none runs and its time has come. */
void forward_poll(void);

/* Reaps the `runsc kill` child if it exited (after a SIGCHLD); retries or reports a failure. */
void forward_reap(void);

/* Milliseconds until forward_poll has something to do (-1: nothing, or a SIGCHLD will say). */
int forward_timeout(void);

/* runsc exited: waits for a `runsc kill` still running; what is still queued has no process to reach. */
void forward_end(void);

#endif
