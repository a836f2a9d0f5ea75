/*
 * gvshim-console: test-only. The receiving end of a runtime's --console-socket, as containerd's
 * shim and Docker are:
 *
 *   gvshim-console SOCKET
 *
 * Listens on the unix socket SOCKET, accepts one connection, receives the pty master sent with
 * SCM_RIGHTS, prints "console: received a terminal" on stderr, then copies everything the
 * container writes to its terminal to stdout until the terminal's last user has gone (EIO).
 * Exits 0 after that, 1 when no terminal arrived. Not installed with gvshim.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gvshim-console SOCKET\n");
		return 2;
	}
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
	unlink(argv[1]);
	if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(l, 1) != 0) {
		fprintf(stderr, "console: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0) {
		fprintf(stderr, "console: accept: %s\n", strerror(errno));
		return 1;
	}
	char data[256];
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
	int master = -1;
	if (recvmsg(c, &msg, MSG_CMSG_CLOEXEC) >= 0)
		for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h))
			if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
				memcpy(&master, CMSG_DATA(h), sizeof master);
	close(c);
	close(l);
	unlink(argv[1]);
	if (master < 0) {
		fprintf(stderr, "console: no terminal was sent\n");
		return 1;
	}
	fprintf(stderr, "console: received a terminal\n");
	char b[4096];
	ssize_t n;
	while ((n = read(master, b, sizeof b)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && write(1, b, (size_t)n) < 0)
			break;
	return 0;
}
