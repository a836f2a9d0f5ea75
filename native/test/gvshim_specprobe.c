/*
 * Test-only (not installed): reports, inside a sandbox, what the spec's isolation fields
 * left the process able to do. Static, so it runs in any root file system (bind it in).
 *
 *     gvshim-specprobe CHECK...
 *
 * thread       pthread_create: "thread: ok" or the error (glibc >= 2.34 tries clone3 first and
 *              falls back to clone(2) only on ENOSYS)
 * nnp          "nnp: N", prctl(PR_GET_NO_NEW_PRIVS)
 * mkdir=PATH   "mkdir: ok" or the error
 * open=PATH    open(2) for writing, then write a line: "open: ok" or the error
 * read=PATH    open(2) for reading, then read a byte: "read: ok" or the error (works on a
 *              read-only root, where gVisor refuses opening a device node for writing: EROFS)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *c = argv[i];
		if (strcmp(c, "thread") == 0) {
			pthread_t t;
			int r = pthread_create(&t, NULL, nothing, NULL);
			printf("thread: %s\n", r ? strerror(r) : "ok");
			if (r == 0)
				pthread_join(t, NULL);
		} else if (strcmp(c, "nnp") == 0) {
			printf("nnp: %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
		} else if (strncmp(c, "mkdir=", 6) == 0) {
			printf("mkdir: %s\n", mkdir(c + 6, 0755) ? strerror(errno) : "ok");
		} else if (strncmp(c, "open=", 5) == 0) {
			int fd = open(c + 5, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, "gvshim-specprobe\n", 17) < 0) {
				printf("open: %s\n", strerror(errno));
			} else {
				printf("open: ok\n");
			}
			if (fd >= 0)
				close(fd);
		} else if (strncmp(c, "read=", 5) == 0) {
			char b;
			int fd = open(c + 5, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || read(fd, &b, 1) < 0) {
				printf("read: %s\n", strerror(errno));
			} else {
				printf("read: ok\n");
			}
			if (fd >= 0)
				close(fd);
		} else {
			fprintf(stderr, "gvshim-specprobe: unknown check %s\n", c);
			return 2;
		}
	}
	return 0;
}
