/* The client/server frames, C side: see gvshim_wire.h. */
#define _GNU_SOURCE
#include "gvshim_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static void out_add(struct wire_out *o, const void *d, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4096;
		while (cap < o->len + n)
			cap *= 2;
		char *p = realloc(o->p, cap);
		if (!p)
			abort();
		o->p = p;
		o->cap = cap;
	}
	if (n)
		memcpy(o->p + o->len, d, n);
	o->len += n;
}

void wire_out_i32(struct wire_out *o, int32_t v)
{
	uint32_t u = (uint32_t)v;
	unsigned char b[4] = {u & 0xff, (u >> 8) & 0xff, (u >> 16) & 0xff, u >> 24};
	out_add(o, b, 4);
}

void wire_out_str(struct wire_out *o, const char *s)
{
	size_t n = strlen(s);
	wire_out_i32(o, (int32_t)n);
	out_add(o, s, n);
}

void wire_out_strs(struct wire_out *o, char *const *v)
{
	int32_t n = 0;
	while (v && v[n])
		n++;
	wire_out_i32(o, n);
	for (int32_t i = 0; i < n; i++)
		wire_out_str(o, v[i]);
}

void wire_out_free(struct wire_out *o)
{
	free(o->p);
	o->p = NULL;
	o->len = o->cap = 0;
}

bool wire_send(int sock, char type, const struct wire_out *payload, const int *fds, int nfds)
{
	if (nfds > WIRE_MAX_FDS) {
		errno = E2BIG;
		return false;
	}
	struct wire_out f = {0};
	wire_out_i32(&f, payload ? (int32_t)payload->len : 0);
	out_add(&f, &type, 1);
	if (payload)
		out_add(&f, payload->p, payload->len);
	size_t off = 0;
	bool fds_sent = nfds == 0, ok = true;
	while (off < f.len) {
		struct iovec iov = {f.p + off, f.len - off};
		union {
			char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
			struct cmsghdr align;
		} c;
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
		if (!fds_sent) {
			m.msg_control = c.buf;
			m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
			struct cmsghdr *h = CMSG_FIRSTHDR(&m);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
			memcpy(CMSG_DATA(h), fds, sizeof(int) * (size_t)nfds);
		}
		ssize_t n = sendmsg(sock, &m, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ok = false;
			break;
		}
		fds_sent = true;
		off += (size_t)n;
	}
	int e = errno;
	wire_out_free(&f);
	errno = e;
	return ok;
}

static void close_fds(struct wire_frame *f)
{
	for (int i = 0; i < f->nfds; i++)
		close(f->fds[i]);
	f->nfds = 0;
}

/* Exactly len bytes with recvmsg, collecting descriptors. 1 ok, 0 EOF at the start (eof_ok), -1 error. */
static int read_exactly(int sock, char *buf, size_t len, struct wire_frame *f, bool eof_ok)
{
	size_t got = 0;
	while (got < len) {
		struct iovec iov = {buf + got, len - got};
		union {
			char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
			struct cmsghdr align;
		} c;
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
		ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
			if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
				continue;
			size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
				if (f->nfds < WIRE_MAX_FDS)
					f->fds[f->nfds++] = fd;
				else
					close(fd);
			}
		}
		if (m.msg_flags & MSG_CTRUNC) {
			errno = EPROTO;
			return -1;
		}
		if (n == 0) {
			if (got == 0 && eof_ok)
				return 0;
			errno = EPROTO;
			return -1;
		}
		got += (size_t)n;
	}
	return 1;
}

int wire_read(int sock, struct wire_frame *f)
{
	memset(f, 0, sizeof *f);
	unsigned char h[5];
	int r = read_exactly(sock, (char *)h, sizeof h, f, true);
	if (r <= 0) {
		int e = errno;
		close_fds(f);
		errno = e;
		return r;
	}
	f->len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
	f->type = (char)h[4];
	if (f->len > WIRE_MAX_PAYLOAD || !(f->p = malloc(f->len + 1))) {
		close_fds(f);
		errno = f->len > WIRE_MAX_PAYLOAD ? EPROTO : ENOMEM;
		return -1;
	}
	if (f->len && read_exactly(sock, f->p, f->len, f, false) < 0) {
		int e = errno;
		close_fds(f);
		wire_frame_free(f);
		errno = e;
		return -1;
	}
	return 1;
}

void wire_frame_free(struct wire_frame *f)
{
	free(f->p);
	f->p = NULL;
}

int32_t wire_in_i32(struct wire_frame *f)
{
	if (f->off > f->len || f->len - f->off < 4) {
		f->bad = true;
		f->off = f->len;
		return 0;
	}
	const unsigned char *b = (const unsigned char *)f->p + f->off;
	f->off += 4;
	return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

char *wire_in_str(struct wire_frame *f)
{
	int32_t n = wire_in_i32(f);
	if (n < 0 || (uint32_t)n > f->len - f->off) {
		f->bad = true;
		f->off = f->len;
		n = 0;
	}
	char *s = malloc((size_t)n + 1);
	if (!s)
		abort();
	memcpy(s, f->p + f->off, (size_t)n);
	s[n] = 0;
	f->off += (uint32_t)n;
	return s;
}

char **wire_in_strs(struct wire_frame *f)
{
	int32_t n = wire_in_i32(f);
	if (n < 0 || (uint32_t)n > (f->len - f->off) / 4) {
		f->bad = true;
		f->off = f->len;
		n = 0;
	}
	char **v = calloc((size_t)n + 1, sizeof *v);
	if (!v)
		abort();
	for (int32_t i = 0; i < n; i++)
		v[i] = wire_in_str(f);
	return v;
}
