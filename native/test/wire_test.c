/*
 * Test-only (not installed): the C side of the client/server frames (wire.c) against the Java
 * side (WireTest).
 *
 *   gvshim-wiretest self         a round trip over a socketpair in C alone; prints "ok"
 *   gvshim-wiretest echo PATH    connects to PATH; for each frame received: writes "fd I\n"
 *                                into each descriptor I that came with it, then sends back a
 *                                frame of type 'e' holding type, i32, str, strs of the frame
 *                                read as [i32 str strs]; a broken frame: prints "error ERRNO"
 */
#define _GNU_SOURCE
#include "../gvshim_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(const char *what)
{
	printf("FAIL %s (%s)\n", what, strerror(errno));
	return 1;
}

static int self(void)
{
	int sp[2], p[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) || pipe2(p, O_CLOEXEC))
		return fail("socketpair");
	struct wire_out o = {0};
	char *list[] = {"a", "", "é\n", NULL};
	wire_out_i32(&o, -7);
	wire_out_str(&o, "hello");
	wire_out_strs(&o, list);
	if (!wire_send(sp[0], 'S', &o, &p[1], 1) || !wire_send(sp[0], 'Q', NULL, NULL, 0))
		return fail("send");
	wire_out_free(&o);
	struct wire_frame f;
	if (wire_read(sp[1], &f) != 1 || f.type != 'S' || f.nfds != 1)
		return fail("read S");
	int32_t i = wire_in_i32(&f);
	char *s = wire_in_str(&f);
	char **l = wire_in_strs(&f);
	if (i != -7 || strcmp(s, "hello") || !l[2] || strcmp(l[2], "é\n") || l[3] || f.bad || f.off != f.len)
		return fail("fields");
	(void)wire_in_i32(&f);
	if (!f.bad)
		return fail("a read past the end is not bad");
	if (write(f.fds[0], "x", 1) != 1)
		return fail("received fd");
	wire_frame_free(&f);
	if (wire_read(sp[1], &f) != 1 || f.type != 'Q' || f.len != 0 || f.nfds != 0)
		return fail("read Q");
	close(sp[0]);
	if (wire_read(sp[1], &f) != 0)
		return fail("EOF");
	printf("ok\n");
	return 0;
}

static int echo(const char *path)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	if (connect(s, (struct sockaddr *)&a, sizeof a))
		return fail("connect");
	for (;;) {
		struct wire_frame f;
		int r = wire_read(s, &f);
		if (r == 0)
			return 0;
		if (r < 0) {
			printf("error %d\n", errno);
			fflush(stdout);
			return 0;
		}
		for (int i = 0; i < f.nfds; i++) {
			dprintf(f.fds[i], "fd %d\n", i);
			close(f.fds[i]);
		}
		struct wire_out o = {0};
		int32_t n = wire_in_i32(&f);
		char *str = wire_in_str(&f);
		char **strs = wire_in_strs(&f);
		wire_out_i32(&o, f.type);
		wire_out_i32(&o, n);
		wire_out_str(&o, str);
		wire_out_strs(&o, strs);
		wire_out_i32(&o, f.bad || f.off != f.len);
		if (!wire_send(s, 'e', &o, NULL, 0))
			return fail("send");
		wire_out_free(&o);
		wire_frame_free(&f);
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "self") == 0)
		return self();
	if (argc == 3 && strcmp(argv[1], "echo") == 0)
		return echo(argv[2]);
	fprintf(stderr, "usage: gvshim-wiretest self | echo PATH\n");
	return 2;
}
