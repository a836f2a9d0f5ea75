/* See relay.h. */
#define _GNU_SOURCE
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int relay_write_all(int fd, const char *p, size_t n, size_t *done)
{
	size_t off = 0;
	int err = 0;
	while (off < n) {
		ssize_t w = write(fd, p + off, n - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w == 0) { /* write(2) of a non-zero count does not return 0; never loop on it */
			err = EIO;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* The caller made its descriptor non-blocking (shared with us): wait until it
			 * drains. POLLERR/POLLHUP end the wait too; the next write says what happened. */
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
				err = errno;
				break;
			}
			continue;
		}
		err = errno;
		break;
	}
	if (done)
		*done = off;
	return err;
}

bool relay_put(struct relay_sink *s, const char *p, size_t n)
{
	if (s->err) {
		s->lost += n;
		return false;
	}
	size_t done = 0;
	int err = relay_write_all(s->fd, p, n, &done);
	if (err == 0)
		return true;
	s->err = err;
	s->lost += n - done;
	return false;
}

void relay_drop(struct relay_sink *s, int *src)
{
	if (*src < 0)
		return;
	int queued = 0;
	if (ioctl(*src, FIONREAD, &queued) == 0 && queued > 0)
		s->lost += (unsigned long long)queued;
	close(*src);
	*src = -1;
}

bool relay_lost(const struct relay_sink *s)
{
	return s->err != 0 && s->err != EPIPE;
}

static const char *fix_for(int err, const char *name)
{
	switch (err) {
	case ENOSPC:
		return "free space on the file system it is written to, or redirect it elsewhere";
	case EDQUOT:
		return "free space or raise your disk quota, or redirect it elsewhere";
	case EFBIG:
		return "the file reached its size limit (ulimit -f, or the file system's maximum file size): redirect it elsewhere";
	case EBADF:
		return name[3] == 'o' ? "stdout is closed (>&-) or not open for writing: give the command a stdout, e.g. >/dev/null to discard it"
				      : "stderr is closed (2>&-) or not open for writing: give the command a stderr, e.g. 2>/dev/null to discard it";
	case EIO:
		return "the device failed (a terminal that hung up, or an I/O error): check it, or redirect the output elsewhere";
	default:
		return "check where it is redirected";
	}
}

char *relay_describe(const struct relay_sink *s, const char *whose, char *buf, size_t size)
{
	const char *name = strerrorname_np(s->err);
	char bytes[64] = "";
	if (s->lost > 0)
		snprintf(bytes, sizeof bytes, "%llu byte%s of ", s->lost, s->lost == 1 ? "" : "s");
	snprintf(buf, size,
		 "gvshim: output was lost [write(%s): %s (%s)]: %s%s %s could not be written, and its writes now fail with EPIPE."
		 " Fix: %s [OUTPUT_LOST]",
		 s->name, name ? name : "?", strerror(s->err), bytes, whose, s->name, fix_for(s->err, s->name));
	return buf;
}

bool relay_is_devnull(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}
