/*
 * gvshim-nsexec: prepares the namespaces one runsc call runs in, then execs it.
 *
 *     gvshim-nsexec [--userns PATH] [--hide-proc-net] [--nodev-file FILE] --error-file FILE -- PROGRAM [ARG...]
 *
 * --userns PATH     setns(2) into the user namespace at PATH (a rootless container's holder,
 *                   /proc/PID/ns/user), then become 0:0 in it: runsc runs as that namespace's
 *                   root, which --rootless cannot do for `create`.
 * --hide-proc-net   a private mount namespace with an empty tmpfs over /proc/sys/net: runsc
 *                   2022-12's `start` takes /proc/sys/net/core/rmem_default for "this is the
 *                   root network namespace" and refuses the sandbox network, but every network
 *                   namespace has that file on current kernels. gvshim makes the real check
 *                   (the sandbox's namespace is not the host's) before it calls this.
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
 * --own-mountns     the caller cloned this process into a mount namespace of its own (gvshim
 *                   run: CLONE_NEWNS with CLONE_NEWUSER, where container profiles deny unshare):
 *                   make it private, do not unshare.
 * --error-file FILE on failure, "STEP ERRNO\n" is written there and the exit status is 125, so
 *                   the caller can name the call and errno even when stderr is the container's.
 * --runsc-log FILE  on failure, also append an error line to runsc's --log as runsc would
 *                   ({"level":"error","msg":"gvshim-nsexec: STEP: ERROR"}) and exit 128, runsc's
 *                   status for its own failures: for `gvshim run`, whose waiter explains those.
 *
 * The runtime verbs start this with the JDK's process API: every runsc call of a runtime verb
 * happens in a short-lived JVM, where linking FFM downcalls would cost more than runsc's own
 * `state` takes. It is static and does nothing else, so the extra exec costs ~1 ms.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

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
#define STEP_EXEC "execve"

static const char *error_file;
static const char *runsc_log;

static int fail(const char *step, int err)
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
	return 125;
}

/* The whole of FILE, NUL-terminated; NULL with errno set on failure (ENOENT: no file). */
static char *read_all(const char *file, size_t *len)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size > (1 << 20)) {
		int e = errno ? errno : EFBIG;
		close(fd);
		errno = e;
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t n = 0;
	while (buf != NULL && n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		n += (size_t)r;
	}
	close(fd);
	if (buf == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* mountinfo(5) escapes space, tab, newline and backslash as \ooo: undone in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/*
 * A nodev (and read-only, if ro) copy of the mount tree at src, mounted at dst (see
 * --nodev-file): a recursive bind, then every mount at or below dst remounted with MS_NODEV and
 * the lockable flags it has (statvfs(3): a remount may not clear a flag a less privileged
 * namespace inherited locked; atime flags, left out, are kept by the kernel).
 */
static int nodev_bind(const char *src, const char *dst, int ro)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0)
		return fail(STEP_BIND, errno);
	char top[4096];
	if (realpath(dst, top) == NULL)
		return fail(STEP_BIND, errno);
	size_t tl = strlen(top);
	FILE *mi = fopen("/proc/self/mountinfo", "re");
	if (mi == NULL)
		return fail(STEP_MOUNTINFO, errno);
	char line[8192];
	while (fgets(line, sizeof line, mi) != NULL) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
		char *save = NULL, *mp = NULL;
		char *f = strtok_r(line, " ", &save);
		for (int n = 0; f != NULL && n < 4; n++)
			f = strtok_r(NULL, " ", &save);
		mp = f;
		if (mp == NULL)
			continue;
		unescape(mp);
		if (strncmp(mp, top, tl) != 0 || (mp[tl] != '\0' && mp[tl] != '/' && strcmp(top, "/") != 0))
			continue;
		struct statvfs sv;
		if (statvfs(mp, &sv) != 0)
			continue; /* covered by a later mount at the same place: unreachable anyway */
		unsigned long flags = MS_REMOUNT | MS_BIND | MS_NODEV;
		if (sv.f_flag & ST_RDONLY)
			flags |= MS_RDONLY;
		if (sv.f_flag & ST_NOSUID)
			flags |= MS_NOSUID;
		if (sv.f_flag & ST_NOEXEC)
			flags |= MS_NOEXEC;
		if (ro && strcmp(mp, top) == 0)
			flags |= MS_RDONLY;
		if (mount(NULL, mp, NULL, flags, NULL) != 0) {
			int e = errno;
			fclose(mi);
			return fail(STEP_REMOUNT, e);
		}
	}
	fclose(mi);
	return 0;
}

int main(int argc, char **argv)
{
	const char *userns = NULL;
	const char *nodev_file = NULL;
	int hide_proc_net = 0;
	int own_mountns = 0;
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--userns") == 0 && i + 1 < argc) {
			userns = argv[++i];
		} else if (strcmp(argv[i], "--hide-proc-net") == 0) {
			hide_proc_net = 1;
		} else if (strcmp(argv[i], "--own-mountns") == 0) {
			own_mountns = 1;
		} else if (strcmp(argv[i], "--nodev-file") == 0 && i + 1 < argc) {
			nodev_file = argv[++i];
		} else if (strcmp(argv[i], "--runsc-log") == 0 && i + 1 < argc) {
			runsc_log = argv[++i];
		} else if (strcmp(argv[i], "--error-file") == 0 && i + 1 < argc) {
			error_file = argv[++i];
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			return fail(STEP_USAGE, EINVAL);
		}
	}
	if (i >= argc)
		return fail(STEP_USAGE, EINVAL);

	if (userns != NULL) {
		int fd = open(userns, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail(STEP_OPEN_USERNS, errno);
		if (setns(fd, CLONE_NEWUSER) != 0)
			return fail(STEP_SETNS, errno);
		close(fd);
		/* Joining grants the namespace's capabilities, not its root ids. */
		if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)
			return fail(STEP_SETID, errno);
	}

	char *pairs = NULL;
	size_t pairs_len = 0;
	if (nodev_file != NULL) {
		pairs = read_all(nodev_file, &pairs_len);
		if (pairs == NULL && errno != ENOENT)
			return fail(STEP_NODEV_FILE, errno);
	}

	if (hide_proc_net || pairs_len > 0) {
		if (!own_mountns && unshare(CLONE_NEWNS) != 0)
			return fail(STEP_UNSHARE, errno);
		/* Nothing of ours may propagate back to the host's mount namespace. */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
			return fail(STEP_PRIVATE, errno);
	}
	for (size_t at = 0; at < pairs_len;) {
		const char *field[3];
		for (int f = 0; f < 3; f++) {
			if (at >= pairs_len)
				return fail(STEP_NODEV_FILE, EINVAL);
			field[f] = pairs + at;
			at += strlen(field[f]) + 1;
		}
		int rc = nodev_bind(field[0], field[1], strcmp(field[2], "ro") == 0);
		if (rc != 0)
			return rc;
	}
	free(pairs);
	if (hide_proc_net) {
		/* No /proc/sys/net at all (a kernel without networking): nothing to misread. */
		if (mount("none", "/proc/sys/net", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=555") != 0 &&
		    errno != ENOENT)
			return fail(STEP_TMPFS, errno);
	}

	execv(argv[i], &argv[i]);
	return fail(STEP_EXEC, errno);
}
