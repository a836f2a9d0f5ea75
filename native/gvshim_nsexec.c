/*
 * gvshim-nsexec: runs one runsc call of a runtime verb: gives runsc stdio of its own and relays
 * it, prepares the namespaces runsc runs in, then execs it.
 *
 *     gvshim-nsexec [--relay wait|detach|terminal] [--log FILE [--log-format json|text] --id ID]
 *                   [--userns PATH] [--hide-proc-net] [--nodev-file FILE [--own-mountns]]
 *                   [--mountpoints-file FILE] [--slirp4netns PATH --net-log FILE]
 *                   [--signal-argv FILE [--signal-pid-file FILE]] [--hold-stderr RUNSC_LOG]
 *                   [--runsc-log FILE] [--argv0 NAME] --error-file FILE -- PROGRAM [ARG...]
 *
 * --relay MODE      runsc never gets the caller's stdin, stdout or stderr: without --rootless it
 *                   fchown(2)s every stdio file it is given to the sandbox's user (runsc/sandbox/
 *                   sandbox.go, configureStdios: the host's /dev/null under Docker, a root
 *                   terminal, the caller's files), and gVisor writes a regular file it is given at
 *                   offset 0. runsc gets pipes; this process keeps the caller's descriptors and
 *                   copies between them with read(2)/write(2) (relay.c), while runsc is its child:
 *
 *                       gvshim (JVM) -- gvshim-nsexec: relay -- runsc -- sandbox, gofer
 *
 *                   The namespace options below are applied in the relay's child just before it
 *                   execs runsc: the relay itself stays in the caller's namespaces.
 *                   A caller's stdin that is /dev/null or closed becomes an empty pipe (EOF), with
 *                   nothing to relay; a stdout and stderr that are one open file (2>&1, a terminal)
 *                   become one pipe, so the container's order of writes is kept. When runsc exits,
 *                   the container may still hold the pipes (create: for its whole life):
 *                     detach    what is left is relayed by a forked copy of this process, which
 *                               ends by itself when the container's stdio closes (it never holds
 *                               the caller's descriptors beyond that: Docker waits for them), and
 *                               nsexec exits with runsc's status at once. That copy stays in the
 *                               caller's process tree (containerd's shim, a subreaper, reaps it)
 *                               and is named by no pid file: nothing waits for it instead of the
 *                               container.
 *                     wait      (run, exec, restore in the foreground) relaying goes on until the
 *                               pipes close, for up to a second after runsc's exit (a background
 *                               process of the container may keep them, as with runc), then as
 *                               with detach.
 *                     terminal  (run, exec in the foreground with process.terminal and no
 *                               --console-socket: runsc would use the caller's terminal as the
 *                               container's) runsc gets a new pty as stdin, stdout and stderr; the
 *                               caller's terminal is put in raw mode and relayed to it, as runc
 *                               does for `runc run` with a terminal.
 *                   Output that cannot be written (a full disk, >/dev/full, a closed descriptor)
 *                   makes the container's writes fail with EPIPE, and adds an error line to --log;
 *                   in the foreground modes also one line on stderr (when stderr works), and the
 *                   exit status is runsc's, or 125 where that is 0.
 * --log FILE        the runtime's --log, for that line (--log-format json or text, --id: the container)
 * --userns PATH     setns(2) into the user namespace at PATH (a rootless container's holder,
 *                   /proc/PID/ns/user), then become 0:0 in it: runsc runs as that namespace's
 *                   root, which --rootless cannot do for `create`.
 * --hide-proc-net   a private mount namespace with an empty tmpfs over /proc/sys/net: runsc
 *                   2022-12's `start` takes /proc/sys/net/core/rmem_default for "this is the
 *                   root network namespace" and refuses the sandbox network, but every network
 *                   namespace has that file on current kernels. gvshim makes the real check
 *                   (the sandbox's namespace is not the host's) before it calls this. One more
 *                   procfs, inside that tmpfs, keeps a procfs "fully visible" for the kernel's
 *                   check when runsc's gofer mounts its own in the spec's user namespace.
 * --nodev-file FILE triples of NUL-terminated strings SRC, DST, MODE (no file: nothing to do): in a
 *                   private mount namespace, the mount tree at SRC is bound recursively at DST
 *                   (an empty directory or file gvshim made) and every mount of the copy is
 *                   remounted nodev, keeping its other flags, and read-only too if MODE is "ro".
 *                   The spec runsc gets names DST instead of SRC.
 *                   Why: runsc's gofer opens a character-device node it finds in the root file
 *                   system or a bind mount on the host and hands the descriptor to the sandbox
 *                   (runsc/fsgofer/lisafs.go, until gVisor's --character-device-policy of
 *                   2026-08), and runsc applies no device cgroup rules (runsc/cgroup/cgroup.go:
 *                   "devices" is a no-op), so an image could write to the host's /dev/kmsg
 *                   through a node of its own. On a nodev mount the kernel refuses to open any
 *                   device node (may_open_dev, fs/namei.c): what runc's device rules achieve.
 *                   ("ro": runsc's gofer remounts a read-only root with MS_REMOUNT|MS_BIND|
 *                   MS_RDONLY, which clears nodev, so gvshim makes the copy read-only itself and
 *                   tells runsc the root is not.) Only mount(2), which runsc needs anyway: no
 *                   open_tree/mount_setattr, which container seccomp profiles do not allow and
 *                   kernels before 5.12 lack. The copies exist only in this namespace, which
 *                   runsc's sandbox and gofer inherit: nothing to clean up.
 * --mountpoints-file FILE  triples of NUL-terminated strings DIR, REL, KIND (no file: nothing to
 *                   do), after the nodev copies: gvshim run's mount destinations missing from the
 *                   root file system. runsc's gofer would create them there, on the host
 *                   (runsc/cmd/gofer.go setupMounts: SafeSetupAndMount makes a missing mount point
 *                   in the root it serves), which writes the host's files or fails. Instead each
 *                   DIR (the nearest existing directory, in the copy of the root runsc gets) gets
 *                   a read-only tmpfs mirror: its entries bound from below, its links copied, and
 *                   REL made in it, an empty file ("f") or directory ("d") with its parents.
 * --slirp4netns PATH --net-log FILE  (gvshim run --network sandbox) last, just before the exec: a
 *                   network namespace of its own for runsc, with tap0 served by slirp4netns (a
 *                   user-mode network) from the caller's namespace; slirp4netns's output goes to
 *                   FILE and it dies with runsc (see nsexec_net.c).
 * --own-mountns     the caller cloned this process into a mount namespace of its own (gvshim
 *                   run: CLONE_NEWNS with CLONE_NEWUSER, where container profiles deny unshare):
 *                   make it private, do not unshare.
 * --error-file FILE on failure, "STEP ERRNO\n" is written there and the exit status is 125, so
 *                   the caller can name the call and errno even when stderr is the container's.
 * --output FILE    (with --relay detach: `gvshim run -d`) stdin becomes /dev/null and stdout and
 *                   stderr FILE, opened O_APPEND|O_CREAT|O_NOFOLLOW, mode 0600, by this process: the
 *                   relay writes the container's output there and never holds the caller's
 *                   descriptors; the background relay gets a session of its own (setsid(2)), so the
 *                   caller's terminal closing (SIGHUP to its jobs) does not end it.
 * --console-size ROWSxCOLS  (with --relay terminal) the size the new terminal starts with: the
 *                   spec's process.consoleSize, which runsc ignores; a caller whose stdin or
 *                   stdout is a terminal gives its own size instead, as runc's resize does.
 * --then FILE       the background relay, once the container's stdio has closed, execs the argv
 *                   in FILE (NUL-separated; read then, so it may change meanwhile): `gvshim rm
 *                   --on-exit ID` for `gvshim run -d --rm` (create: the sandbox holds its stdio
 *                   until it ends, so there always is a background relay).
 * --signal-argv FILE  (with --relay wait or terminal: a foreground `run` or `exec`) every signal
 *                   this process receives but SIGCHLD, SIGWINCH, SIGURG, SIGPIPE, SIGTTIN and SIGTTOU
 *                   is forwarded to the container's process, as runc forwards them to the init or
 *                   the exec'd process, by running the argv in FILE (NUL-separated, `... runsc
 *                   ... kill ID`) with the signal's number appended (nsexec_signals.c); runsc gets
 *                   a process group of its own, so that a signal to the caller's job reaches the
 *                   container once, through this process. The caller's own process (the native
 *                   client, or the one-shot JVM) forwards what it receives to this one. The exit
 *                   status stays runsc's: the process's, 128+N when signal N killed it.
 * --signal-pid-file FILE  (exec) runsc exec's --internal-pid-file: `runsc kill --pid=N` signals
 *                   the exec'd process N; until runsc wrote it, signals wait.
 * --hold-stderr RUNSC_LOG  (runc's `create`: --relay detach) what runsc writes to its stderr is
 *                   held (up to 64 KiB, then relayed as it comes) until it exits: written then if
 *                   it succeeded, dropped if it failed and its error is in RUNSC_LOG (its --log,
 *                   empty before the call) or this program's --error-file, which gvshim's one line
 *                   says. Before `start` nothing on that pipe can be the container's (see
 *                   release_held in nsexec_relay.c); not for run, exec or restore, whose process
 *                   runs while runsc does, nor a terminal.
 * --argv0 NAME      exec PROGRAM with NAME as its argv[0] (gvshim run: "runsc", as it exec'd runsc
 *                   itself before this program was in between; ps and pgrep show the same).
 * --runsc-log FILE  on failure, also append an error line to runsc's --log as runsc would
 *                   ({"level":"error","msg":"gvshim-nsexec: STEP: ERROR"}) and exit 128, runsc's
 *                   status for its own failures: for `gvshim run`, whose waiter explains those.
 *
 * The runtime verbs start this with the JDK's process API: every runsc call of a runtime verb
 * happens in a short-lived JVM, where linking FFM downcalls would cost more than runsc's own
 * `state` takes. It is static and small, so the extra exec costs ~1 ms.
 */
#define _GNU_SOURCE
#include "nsexec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *error_file;
const char *runsc_log;
struct nsexec_options opt;
struct nsexec_prep prep;

int fail(const char *step, int err)
{
	if (error_file != NULL) {
		int fd = open(error_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dprintf(fd, "%s %d\n", step, err);
			close(fd);
		}
	}
	fprintf(stderr, "gvshim-nsexec: %s: %s\n", step, strerror(err));
	if (runsc_log != NULL) {
		int fd = open(runsc_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			/* step and strerror hold no character JSON would need escaped */
			dprintf(fd, "{\"level\":\"error\",\"msg\":\"gvshim-nsexec: %s: errno %d: %s\"}\n", step, err,
				strerror(err));
			close(fd);
		}
		return 128;
	}
	return EXIT_FAILED;
}

int main(int argc, char **argv)
{
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--userns") == 0 && i + 1 < argc) {
			prep.userns = argv[++i];
		} else if (strcmp(argv[i], "--hide-proc-net") == 0) {
			prep.hide_proc_net = true;
		} else if (strcmp(argv[i], "--mountpoints-file") == 0 && i + 1 < argc) {
			prep.mountpoints_file = argv[++i];
		} else if (strcmp(argv[i], "--slirp4netns") == 0 && i + 1 < argc) {
			prep.slirp4netns = argv[++i];
		} else if (strcmp(argv[i], "--net-log") == 0 && i + 1 < argc) {
			prep.net_log = argv[++i];
		} else if (strcmp(argv[i], "--own-mountns") == 0) {
			prep.own_mountns = true;
		} else if (strcmp(argv[i], "--nodev-file") == 0 && i + 1 < argc) {
			prep.nodev_file = argv[++i];
		} else if (strcmp(argv[i], "--argv0") == 0 && i + 1 < argc) {
			prep.argv0 = argv[++i];
		} else if (strcmp(argv[i], "--runsc-log") == 0 && i + 1 < argc) {
			runsc_log = argv[++i];
		} else if (strcmp(argv[i], "--error-file") == 0 && i + 1 < argc) {
			error_file = argv[++i];
		} else if (strcmp(argv[i], "--relay") == 0 && i + 1 < argc) {
			const char *m = argv[++i];
			opt.mode = strcmp(m, "wait") == 0 ? RELAY_WAIT
				   : strcmp(m, "detach") == 0 ? RELAY_DETACH
				   : strcmp(m, "terminal") == 0 ? RELAY_TERMINAL
								: RELAY_NONE;
			if (opt.mode == RELAY_NONE)
				return fail(STEP_USAGE, EINVAL);
		} else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
			opt.log = argv[++i];
		} else if (strcmp(argv[i], "--log-format") == 0 && i + 1 < argc) {
			opt.log_format = argv[++i];
		} else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc) {
			opt.id = argv[++i];
		} else if (strcmp(argv[i], "--output") == 0 && i + 1 < argc) {
			opt.output = argv[++i];
		} else if (strcmp(argv[i], "--console-size") == 0 && i + 1 < argc) {
			unsigned rows = 0, cols = 0;
			char end = 0;
			if (sscanf(argv[++i], "%ux%u%c", &rows, &cols, &end) != 2 || rows == 0 || cols == 0 || rows > 65535 ||
			    cols > 65535)
				return fail(STEP_USAGE, EINVAL);
			opt.rows = (unsigned short)rows;
			opt.cols = (unsigned short)cols;
		} else if (strcmp(argv[i], "--then") == 0 && i + 1 < argc) {
			opt.then = argv[++i];
		} else if (strcmp(argv[i], "--signal-argv") == 0 && i + 1 < argc) {
			opt.signal_argv = argv[++i];
		} else if (strcmp(argv[i], "--hold-stderr") == 0 && i + 1 < argc) {
			opt.hold_stderr = argv[++i];
		} else if (strcmp(argv[i], "--signal-pid-file") == 0 && i + 1 < argc) {
			opt.signal_pid_file = argv[++i];
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			return fail(STEP_USAGE, EINVAL);
		}
	}
	if (i >= argc)
		return fail(STEP_USAGE, EINVAL);
	if ((opt.output || opt.then) && opt.mode != RELAY_DETACH)
		return fail(STEP_USAGE, EINVAL);
	if (opt.hold_stderr && opt.mode != RELAY_DETACH && opt.mode != RELAY_WAIT)
		return fail(STEP_USAGE, EINVAL);
	if (opt.rows && opt.mode != RELAY_TERMINAL)
		return fail(STEP_USAGE, EINVAL);
	if ((prep.slirp4netns == NULL) != (prep.net_log == NULL))
		return fail(STEP_USAGE, EINVAL);
	if ((opt.signal_argv && opt.mode != RELAY_WAIT && opt.mode != RELAY_TERMINAL) || (opt.signal_pid_file && !opt.signal_argv))
		return fail(STEP_USAGE, EINVAL);
	if (opt.mode == RELAY_NONE)
		return prepare_and_exec(&argv[i]);
	if (opt.output) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int out = open(opt.output, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (null < 0 || out < 0)
			return fail(STEP_OUTPUT, errno);
		/* one open file as stdout and stderr: the relay keeps the container's order of writes */
		if (dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			return fail(STEP_OUTPUT, errno);
		close(null);
		close(out);
	}
	return run_relayed(&argv[i]);
}
