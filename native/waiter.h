/*
 * gvshim-waiter's parts (see gvshim_waiter.c): what its main loop and the end of a run share.
 */
#ifndef GVSHIM_WAITER_H
#define GVSHIM_WAITER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "relay.h"

#define EXIT_GVSHIM 125  /* gvshim itself failed (docker/podman convention) */
#define EXIT_TIMEOUT 124 /* timeout(1) convention */

#define MAX_GLOBALS 16

/* ---------- the options, and what the parts share (gvshim_waiter.c) ---------- */

/* The command line: see usage() in gvshim_waiter.c. */
struct waiter_options {
	pid_t child;
	const char *runsc;
	const char *globals[MAX_GLOBALS]; /* runsc global flags for kill/delete (--root=...) */
	int nglobals;
	const char *id;
	const char *run_dir;
	const char *log;     /* runsc --log file: a "level":"error" line marks runsc's own failure */
	const char *explain; /* gvshim launcher, exec'd as `explain __explain ...` on failure */
	const char *signal_pid_file; /* a pooled run: runsc exec's --internal-pid-file; signals go to that pid */
	int stdin_fd, stdout_fd, stderr_fd, started_fd, console_fd;
	double timeout, kill_after;
	bool keep, debug, trace;
};

extern struct waiter_options opt;

/* CLOCK_MONOTONIC, in seconds. */
double now(void);

/* "gvshim: waiter: ..." on stderr, then exit 125. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Starts `runsc GLOBALS VERB [A1 [A2]]` with /dev/null as stdio (stdout and stderr kept with --debug). */
pid_t spawn_runsc(const char *verb, const char *a1, const char *a2);
/* The same with a third argument (NULL: none). */
pid_t spawn_runsc3(const char *verb, const char *a1, const char *a2, const char *a3);

/* `runsc kill ID SIG`: a signal for the command (runsc run does not forward signals); with
 * --signal-pid-file, `runsc kill --pid=N ID SIG` to the process `runsc exec` started (runsc exec
 * forwards signals only to a terminal's foreground group, runsc/cmd/exec.go). */
void runsc_kill(int sig);

/* A pooled run: whether runsc exec has written the command's pid (--signal-pid-file), i.e. the
 * command has started; before that, what comes on stderr is runsc's own. */
bool exec_started(void);
/* An inotify descriptor (non-blocking) that becomes readable when a file is written or moved
 * into the pid file's directory; -1 when none can be made. */
int exec_pid_watch(void);

/* ---------- the end of a run (waiter_end.c) ---------- */

/* Removes a directory tree without following symlinks or crossing mounts (nftw FTW_PHYS|FTW_MOUNT). */
void remove_tree(const char *dir);

/* rmdir(2) of the cgroups listed in RUN_DIR/cgroups (gvshim run --memory/--cpus). */
void remove_cgroups(const char *run_dir);

/* Whether dir has an entry besides . and .. (false when it cannot be opened). */
bool dir_has_entries(const char *dir);

/* Whether runsc's --log file holds a {"level":"error"} line: runsc's own failure, not the command's. */
bool log_has_error(const char *log);
/* Whether the run directory was destroyed under the command (removed, or marked "destroyed" by a
 * pool that destroys its sandbox: RunDir.DESTROYED_FILE). */
bool run_dir_destroyed(const char *dir);

/* Waits for every remaining child (the waiter is a subreaper, so orphaned runsc helpers land
 * here) for up to `seconds`; returns true when none is left. */
bool reap_all(double seconds);

/* SIGKILLs every process whose parent is this one (read from /proc/PID/stat). */
void kill_remaining_children(void);

/*
 * The kernel's count of OOM kills: that of this process's memory cgroup (runsc and its sandbox
 * are in it or below it), -1 when it cannot be read, and the host's (/proc/vmstat). Taken when
 * the waiter starts and again when runsc died.
 */
struct oom_count {
	long long cgroup, host;
	char cgroup_path[512];
};

void count_oom_kills(struct oom_count *c);

/* Whether runsc run said that the sandbox process died under it (its debug log in run_dir/debug). */
bool sandbox_process_died(const char *run_dir);

/* The one line that says what died (runsc or its sandbox process), by which signal, and whether
 * the OOM killer did it (the counts since `before`). */
void say_sandbox_died(const char *what, int sig, const struct oom_count *before);

/* ---------- the relay loop (waiter_relay.c) ---------- */

/* A growing byte buffer: stderr held back until the command starts, stdin not yet written. */
struct buf {
	char *p;
	size_t len, cap;
};

/* One run's relay state: the descriptors, what is held back, and how runsc ended. */
struct waiter {
	int in_src;                /* caller's stdin, relayed to in_dst */
	int in_dst;                /* runsc's stdin pipe (or the pty master) */
	int out_fd, err_fd;        /* runsc's stdout and stderr pipes */
	int master;                /* the pty master, in terminal mode */
	int pid_watch;             /* a pooled run: exec_pid_watch() until runsc exec wrote the pid, else -1 */
	bool started, in_eof;
	/* The caller's stdout and stderr: a write that fails (a full disk, >/dev/full, a closed
	 * descriptor) is recorded there, the pipe it came from is closed so that the command gets
	 * EPIPE, and gvshim's exit status and one line say that output was lost (see exit_code). */
	struct relay_sink out_sink, err_sink;
	struct buf held, pending_in;
	size_t pending_off;
	int status, stop_signal, interrupts;
	bool exited, timed_out;
	double deadline;    /* next escalation time (0: no timeout) */
	int escalation;     /* 0 = none yet, 1 = TERM sent, 2 = KILL sent, 3 = runsc killed */
	double drain_until; /* once runsc has exited: read what is left in its pipes until then */
	struct oom_count oom_before;
};

/* The self-pipe of forwarded signals, SIGCHLD and SIGWINCH; the JVM's signal mask cleared. */
void setup_signals(void);

/* Relays until runsc has exited and its pipes are drained (or the drain time is up). */
void relay_loop(struct waiter *w);

/* Gives the caller's terminal its mode back (raw while a pty was relayed). */
void restore_terminal(void);

#endif
