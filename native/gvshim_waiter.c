/*
 * gvshim-waiter: what `gvshim run` becomes once runsc is running.
 *
 * The JVM plans the sandbox, clones the user-namespace child, maps its ids, releases it
 * into runsc and then execve()s this program in its own process (same pid), so runsc stays
 * our child and nothing of the JVM stays resident while the command runs.  This program:
 *   - relays stdin/stdout/stderr between the caller and runsc's pipes (runsc never sees the
 *     caller's files: runsc chowns its stdio and gVisor writes regular files at offset 0),
 *     or a pty received over the console socket when the caller is on a terminal;
 *   - holds back stderr until the command has started (the OCI poststart hook, gvshim-hook,
 *     writes to the `started` fifo), so runsc's own error text is never mistaken for the
 *     command's;
 *   - forwards SIGHUP/INT/QUIT/TERM/USR1/USR2 to the command with `runsc kill`, because
 *     `runsc run` does not forward signals (a signal to runsc kills the sandbox instead);
 *   - enforces --timeout (TERM, then KILL after --kill-after), exit 124 like timeout(1);
 *   - reaps everything (it is a child subreaper), removes the per-run directory, and exits
 *     with the command's status (128+N when killed by signal N);
 *   - when runsc itself failed, execs `gvshim __explain` so Java turns the failure into one
 *     line with the failed step, errno and fix.
 *
 * main() reads the options, relays until runsc has exited and its output is drained
 * (relay_loop), then ends the run: waits for runsc, cleans up what is left (waiter_end.c),
 * explains runsc's failure or says why the sandbox died, and exits with the command's status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"
#include "waiter.h"

/* ---------- options ---------- */

struct waiter_options opt = {.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .started_fd = -1, .console_fd = -1, .kill_after = 2};

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("gvshim: waiter: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	_exit(EXIT_GVSHIM);
}

double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void close_other_fds(void)
{
	int keep[] = {opt.stdin_fd, opt.stdout_fd, opt.stderr_fd, opt.started_fd, opt.console_fd};
	/* insertion sort of the descriptors to keep, then close the gaps between them */
	int k[5], n = 0;
	for (int i = 0; i < 5; i++)
		if (keep[i] > 2) {
			int j = n++;
			while (j > 0 && k[j - 1] > keep[i]) {
				k[j] = k[j - 1];
				j--;
			}
			k[j] = keep[i];
		}
	unsigned lo = 3;
	for (int i = 0; i < n; i++) {
		if ((unsigned)k[i] > lo)
			syscall(SYS_close_range, lo, (unsigned)k[i] - 1, 0);
		lo = (unsigned)k[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
}

static void usage(void)
{
	die("usage: gvshim-waiter --child PID --runsc PATH --id ID [--runsc-global ARG]... [--run-dir DIR] [--log FILE] "
	    "[--stdin-fd N] [--stdout-fd N] [--stderr-fd N] [--started-fd N] [--console-fd N] [--timeout S] "
	    "[--kill-after S] [--explain PROG] [--signal-pid-file FILE] [--keep] [--debug]");
}

static int parse_fd(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < -1 || v > 1 << 20)
		usage();
	return (int)v;
}

static void parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"child", required_argument, 0, 'c'},       {"runsc", required_argument, 0, 'r'},
		{"runsc-global", required_argument, 0, 'g'}, {"id", required_argument, 0, 'i'},
		{"run-dir", required_argument, 0, 'd'},     {"log", required_argument, 0, 'l'},
		{"stdin-fd", required_argument, 0, '0'},    {"stdout-fd", required_argument, 0, '1'},
		{"stderr-fd", required_argument, 0, '2'},   {"started-fd", required_argument, 0, 's'},
		{"console-fd", required_argument, 0, 't'},  {"timeout", required_argument, 0, 'T'},
		{"kill-after", required_argument, 0, 'K'},  {"explain", required_argument, 0, 'e'},
		{"keep", no_argument, 0, 'k'},              {"debug", no_argument, 0, 'D'},
		{"signal-pid-file", required_argument, 0, 'p'},
		{0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': opt.child = (pid_t)atoi(optarg); break;
		case 'r': opt.runsc = optarg; break;
		case 'g':
			if (opt.nglobals == MAX_GLOBALS)
				usage();
			opt.globals[opt.nglobals++] = optarg;
			break;
		case 'i': opt.id = optarg; break;
		case 'd': opt.run_dir = optarg; break;
		case 'l': opt.log = optarg; break;
		case '0': opt.stdin_fd = parse_fd(optarg); break;
		case '1': opt.stdout_fd = parse_fd(optarg); break;
		case '2': opt.stderr_fd = parse_fd(optarg); break;
		case 's': opt.started_fd = parse_fd(optarg); break;
		case 't': opt.console_fd = parse_fd(optarg); break;
		case 'T': opt.timeout = atof(optarg); break;
		case 'K': opt.kill_after = atof(optarg); break;
		case 'e': opt.explain = optarg; break;
		case 'k': opt.keep = true; break;
		case 'p': opt.signal_pid_file = optarg; break;
		case 'D': opt.debug = opt.keep = true; break;
		default: usage();
		}
	}
	if (opt.child <= 0 || !opt.runsc || !opt.id)
		usage();
	const char *trace_env = getenv("GVSHIM_TRACE");
	opt.trace = trace_env != NULL && *trace_env != 0; /* GVSHIM_TRACE= (empty) is off */
}

/* ---------- the run ---------- */

static void nonblocking(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void setup(struct waiter *w)
{
	if (opt.trace)
		fprintf(stderr, "gvshim: trace waiter started at monotonic %.0f us\n", now() * 1e6);
	close_other_fds();
	setup_signals();
	/* runsc's sandbox and gofer are runsc's children; if runsc dies they come to us. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	count_oom_kills(&w->oom_before);
	w->in_src = 0;
	w->in_dst = opt.stdin_fd;
	w->out_fd = opt.stdout_fd;
	w->err_fd = opt.stderr_fd;
	w->master = -1;
	w->started = opt.started_fd < 0;
	w->pid_watch = -1;
	if (opt.started_fd < 0 && opt.signal_pid_file) {
		/* a pooled run has no poststart hook: runsc exec writes the command's pid once it started;
		 * until then stderr is held, so that runsc's own error text never reaches the caller (the
		 * watch first, then a look: a pid written in between is not missed) */
		w->pid_watch = exec_pid_watch();
		w->started = w->pid_watch < 0 || exec_started();
		if (w->started && w->pid_watch >= 0) {
			close(w->pid_watch);
			w->pid_watch = -1;
		}
	}
	w->out_sink = (struct relay_sink){.fd = 1, .name = "stdout"};
	w->err_sink = (struct relay_sink){.fd = 2, .name = "stderr"};
	nonblocking(w->in_dst);
	nonblocking(w->out_fd);
	nonblocking(w->err_fd);
	w->deadline = opt.timeout > 0 ? now() + opt.timeout : 0;
}

/* Timeout escalation: TERM, then KILL, then kill runsc itself. *//* ---------- the end of the run ---------- */

/* Waits for runsc if the drain loop ended before its SIGCHLD was processed. */
static void await_runsc(struct waiter *w)
{
	while (!w->exited) {
		int st;
		pid_t p = waitpid(opt.child, &st, 0);
		if (p == opt.child) {
			w->exited = true;
			w->status = st;
		} else if (p < 0 && errno != EINTR)
			break;
	}
}

/* Leftovers: a killed runsc leaves its state files and maybe a dying sandbox. */
static void clean_up(const struct waiter *w)
{
	char runsc_root[4096] = "";
	if (opt.signal_pid_file) {
		/* a pooled sandbox: the server that owns it (runsc run is its child) destroys it once this
		 * process is gone; `runsc delete --force` here would wait for a sandbox whose parent is not ours */
		if (!reap_all(0.2)) {
			kill_remaining_children();
			reap_all(1.0);
		}
		return;
	}
	if (opt.run_dir)
		snprintf(runsc_root, sizeof runsc_root, "%s/runsc", opt.run_dir);
	if (!reap_all(WIFSIGNALED(w->status) ? 1.0 : 0.2) || (runsc_root[0] && dir_has_entries(runsc_root))) {
		pid_t d = spawn_runsc("delete", "--force", opt.id);
		if (d > 0) {
			double end = now() + 5;
			while (now() < end && waitpid(d, NULL, WNOHANG) == 0) {
				struct timespec ts = {0, 5 * 1000 * 1000};
				nanosleep(&ts, NULL);
			}
		}
		if (!reap_all(1.0)) {
			kill_remaining_children();
			reap_all(1.0);
		}
	}
}

/* runsc failed before the command ran: keep what it wrote on stderr and exec `gvshim __explain`,
 * which names the cause. Returns only if the exec failed, with the exit status to use. */
static int explain_runsc_failure(const struct waiter *w)
{
	if (opt.run_dir && w->held.len) {
		char path[4200];
		snprintf(path, sizeof path, "%s/runsc.stderr", opt.run_dir);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			relay_write_all(fd, w->held.p, w->held.len, NULL);
			close(fd);
		}
	}
	char code[16];
	snprintf(code, sizeof code, "%d", WEXITSTATUS(w->status));
	/* a pooled sandbox's run directory is its server's to remove, with the sandbox (runsc run still
	 * has its state and logs there): removed under it, the server's destroy found no runsc state */
	const char *args[] = {opt.explain, "__explain", "--run-dir", opt.run_dir ? opt.run_dir : "", "--status", code,
			      opt.keep || opt.signal_pid_file ? "--keep" : NULL, NULL};
	execv(opt.explain, (char *const *)args);
	fprintf(stderr, "gvshim: runsc failed (exit %s) and `%s __explain` could not run: %s\n", code, opt.explain,
		strerror(errno));
	return EXIT_GVSHIM;
}

/* runsc killed by a signal we did not send (kill -9, the OOM killer): say so. runsc run itself
 * reports a sandbox process killed under it as 128+N, like the command's death. */
static void say_why_it_died(const struct waiter *w)
{
	bool runsc_killed = WIFSIGNALED(w->status) && w->escalation < 3 && !w->stop_signal;
	if (runsc_killed) {
		char what[64];
		snprintf(what, sizeof what, "runsc (pid %d)", (int)opt.child);
		say_sandbox_died(what, WTERMSIG(w->status), &w->oom_before);
	} else if (!w->timed_out && !w->stop_signal && WIFEXITED(w->status) && WEXITSTATUS(w->status) > 128 &&
		   WEXITSTATUS(w->status) < 128 + NSIG && sandbox_process_died(opt.run_dir)) {
		say_sandbox_died("its sandbox process", WEXITSTATUS(w->status) - 128, &w->oom_before);
	}
}

/* The command's status (128+N for signal N), 124 after --timeout; output lost (a full disk,
 * >/dev/full, a closed stdout) is never a silent success: the command's own status when it
 * failed, else 125, and the line where stderr can take it. */
static int exit_code(struct waiter *w)
{
	int code = w->timed_out ? EXIT_TIMEOUT
		   : w->stop_signal ? 128 + w->stop_signal
		   : WIFSIGNALED(w->status) ? 128 + WTERMSIG(w->status)
					     : WEXITSTATUS(w->status);
	if (relay_lost(&w->out_sink) || relay_lost(&w->err_sink)) {
		char line[1024];
		if (relay_lost(&w->out_sink) && !w->err_sink.err)
			fprintf(stderr, "%s\n", relay_describe(&w->out_sink, "the command's", line, sizeof line));
		if (code == 0)
			code = EXIT_GVSHIM;
	}
	return code;
}

int main(int argc, char **argv)
{
	parse_options(argc, argv);
	struct waiter w = {0};
	setup(&w);
	relay_loop(&w);
	restore_terminal();
	if (opt.trace)
		fprintf(stderr, "gvshim: trace relay done at monotonic %.0f us (runsc %s)\n", now() * 1e6,
			w.exited ? "exited" : "running");
	await_runsc(&w);

	/* runsc's own failure: its error in the log, or a sandbox destroyed under the command (its pool
	 * removed: runsc exec's RPC ends with EOF, and the destroyer takes the log with the directory) */
	bool exec_began = exec_started(); /* a pooled run: the command started (false for any other run) */
	bool runsc_failed = WIFEXITED(w.status) && WEXITSTATUS(w.status) == 128
		&& (log_has_error(opt.log) || run_dir_destroyed(opt.run_dir) || (opt.signal_pid_file && !exec_began));
	if (!runsc_failed && w.held.len && (w.started || exec_began))
		relay_put(&w.err_sink, w.held.p, w.held.len);
	clean_up(&w);
	remove_cgroups(opt.run_dir);
	if (runsc_failed && opt.explain)
		return explain_runsc_failure(&w);
	if (runsc_failed && w.held.len)
		relay_put(&w.err_sink, w.held.p, w.held.len);
	say_why_it_died(&w);

	if (opt.keep)
		fprintf(stderr, "gvshim: kept the run directory %s\n", opt.run_dir ? opt.run_dir : "");
	else if (!opt.signal_pid_file) /* a pooled sandbox's: its server removes it */
		remove_tree(opt.run_dir);
	if (opt.trace)
		fprintf(stderr, "gvshim: trace waiter exiting at monotonic %.0f us\n", now() * 1e6);
	return exit_code(&w);
}
