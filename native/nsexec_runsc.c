/*
 * gvshim-nsexec's runsc side (see gvshim_nsexec.c): in the process that becomes runsc, the user
 * namespace joined, a mount namespace of its own, the nodev copies and the /proc/sys/net tmpfs,
 * then the exec.
 */
#define _GNU_SOURCE
#include "nsexec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* --hide-proc-net: a procfs instance nothing covers, inside the tmpfs that hides /proc/sys/net. */
#define HIDDEN_PROC "/proc/sys/net/proc"

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

/* mkdir -p of rel's parents below the directory fd, then rel itself: a directory or an empty file. */
static int make_in(int dfd, const char *rel, int dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s", rel);
	for (char *slash = strchr(path, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (*path && mkdirat(dfd, path, 0755) != 0 && errno != EEXIST)
			return -1;
		*slash = '/';
	}
	if (dir)
		return mkdirat(dfd, path, 0755) != 0 && errno != EEXIST ? -1 : 0;
	int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * One directory of missing mount points (see --mountpoints-file): a tmpfs mounted on dir, with
 * the directory's mode, holding what dir holds, each entry bound from the directory below
 * (MS_BIND|MS_REC, from a descriptor of it taken before: a walk from it crosses the mounts below
 * it, which come along) and each symbolic link made again with the same target, plus the mount
 * points; then made read-only. The sandbox sees dir as it is, plus the mount points; the host's
 * dir is never written. (Not an overlay: overlayfs refuses a lower directory with mounts below
 * it that a user namespace inherited locked, such as the root's: "failed to clone lowerpath".)
 */
static int mirror_dir(const char *dir, char **rels, char **kinds, int n)
{
	char top[4096];
	if (realpath(dir, top) == NULL)
		return fail(STEP_MOUNTPOINT_TMPFS, errno);
	int below = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (below < 0 || fstat(below, &st) != 0)
		return fail(STEP_MOUNTPOINT_TMPFS, errno);
	char opts[64];
	snprintf(opts, sizeof opts, "mode=%o,size=1m", (unsigned)(st.st_mode & 07777));
	if (mount("gvshim-mountpoints", top, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
		return fail(STEP_MOUNTPOINT_TMPFS, errno);
	int tfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int listfd = dup(below);
	DIR *d = listfd < 0 ? NULL : fdopendir(listfd);
	if (tfd < 0 || d == NULL)
		return fail(STEP_MOUNTPOINT_MAKE, errno);
	struct dirent *e;
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat es;
		if (fstatat(below, e->d_name, &es, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* gone meanwhile */
		if (S_ISLNK(es.st_mode)) {
			char target[4096];
			ssize_t l = readlinkat(below, e->d_name, target, sizeof target - 1);
			if (l < 0)
				continue;
			target[l] = '\0';
			if (symlinkat(target, tfd, e->d_name) != 0)
				return fail(STEP_MOUNTPOINT_MAKE, errno);
			continue;
		}
		if (S_ISDIR(es.st_mode) ? mkdirat(tfd, e->d_name, 0755) != 0 : make_in(tfd, e->d_name, 0) != 0)
			return fail(STEP_MOUNTPOINT_MAKE, errno);
		char src[4200], dst[8400];
		snprintf(src, sizeof src, "/proc/self/fd/%d/%s", below, e->d_name);
		snprintf(dst, sizeof dst, "%s/%s", top, e->d_name);
		if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0)
			return fail(STEP_MOUNTPOINT_REBIND, errno);
	}
	if (errno != 0)
		return fail(STEP_MOUNTPOINT_MAKE, errno);
	closedir(d);
	for (int i = 0; i < n; i++)
		if (make_in(tfd, rels[i], strcmp(kinds[i], "d") == 0) != 0)
			return fail(STEP_MOUNTPOINT_MAKE, errno);
	close(tfd);
	close(below);
	if (mount(NULL, top, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
		return fail(STEP_MOUNTPOINT_TMPFS, errno);
	return 0;
}

/*
 * --mountpoints-file: triples of NUL-terminated DIR, REL, KIND ("f" or "d"), grouped by DIR,
 * outer directories first: each DIR gets one mirror with its RELs made in it (mirror_dir).
 */
static int make_mount_points(char *buf, size_t len)
{
	char *rels[64], *kinds[64];
	char *dir = NULL;
	int n = 0;
	for (size_t at = 0; at <= len;) {
		char *field[3] = {NULL, NULL, NULL};
		if (at < len) {
			for (int f = 0; f < 3; f++) {
				if (at >= len)
					return fail(STEP_MOUNTPOINTS_FILE, EINVAL);
				field[f] = buf + at;
				at += strlen(field[f]) + 1;
			}
		} else {
			at++;
		}
		if (dir != NULL && (field[0] == NULL || strcmp(field[0], dir) != 0 || n == 64)) {
			int rc = mirror_dir(dir, rels, kinds, n);
			if (rc != 0)
				return rc;
			n = 0;
		}
		if (field[0] == NULL)
			break;
		dir = field[0];
		rels[n] = field[1];
		kinds[n++] = field[2];
	}
	return 0;
}

/*
 * In the process that becomes runsc: with --relay, the forked child, so the mount namespace
 * the nodev copies and the /proc/sys/net tmpfs live in is runsc's alone, while the relay keeps
 * the caller's namespaces and descriptors.
 */
int prepare_and_exec(char **argv)
{
	if (prep.userns != NULL) {
		int fd = open(prep.userns, O_RDONLY | O_CLOEXEC);
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
	if (prep.nodev_file != NULL) {
		pairs = read_all(prep.nodev_file, &pairs_len);
		if (pairs == NULL && errno != ENOENT)
			return fail(STEP_NODEV_FILE, errno);
	}

	char *points = NULL;
	size_t points_len = 0;
	if (prep.mountpoints_file != NULL) {
		points = read_all(prep.mountpoints_file, &points_len);
		if (points == NULL && errno != ENOENT)
			return fail(STEP_MOUNTPOINTS_FILE, errno);
	}

	if (prep.hide_proc_net || pairs_len > 0 || points_len > 0) {
		if (!prep.own_mountns && unshare(CLONE_NEWNS) != 0)
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
	if (points_len > 0) {
		/* after the nodev copies: the overlays go on the copy of the root runsc is given */
		int rc = make_mount_points(points, points_len);
		if (rc != 0)
			return rc;
	}
	free(points);
	if (prep.hide_proc_net) {
		/* No /proc/sys/net at all (a kernel without networking): nothing to misread. */
		if (mount("none", "/proc/sys/net", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=555") == 0) {
			/* The tmpfs makes /proc "not fully visible": a process that runsc puts in a user
			 * namespace of the spec's (its gofer, for a spec with linux.uidMappings) inherits
			 * it as a locked mount over a non-empty directory, and the kernel then refuses it
			 * a procfs of its own (fs/namespace.c, mount_too_revealing): `runsc run` failed with
			 * "error mounting proc". One more procfs instance with nothing mounted on it, in
			 * this private namespace only, is the fully visible one the kernel looks for.
			 * Best effort: without it only such specs fail, as before. */
			if (mkdir(HIDDEN_PROC, 0555) == 0)
				mount("proc", HIDDEN_PROC, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
		} else if (errno != ENOENT) {
			return fail(STEP_TMPFS, errno);
		}
	}

	if (prep.slirp4netns != NULL) {
		int rc = start_network();
		if (rc != 0)
			return rc;
	}

	const char *path = argv[0];
	if (prep.argv0 != NULL)
		argv[0] = (char *)prep.argv0;
	execv(path, argv);
	return fail(STEP_EXEC, errno);
}
