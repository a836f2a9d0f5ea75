/*
 * gvshim-hook: the OCI poststart hook of `gvshim run`'s spec.
 *
 *     gvshim-hook --started FIFO
 *
 * runsc runs poststart hooks after the container's process has started (runtime-spec
 * config.md, "poststart"). This one writes one byte to FIFO, the run directory's `started`
 * fifo, which gvshim-waiter reads: until then everything on stderr is runsc's (held back, and
 * explained if runsc fails); from then on it is the command's.
 *
 * It runs inside runsc's start sequence and never blocks it (O_NONBLOCK: with no reader, open
 * fails with ENXIO and nothing is written). It exits 0 whatever happens to the fifo (the waiter
 * may be gone); only a wrong command line exits 2, which runsc logs as a warning: a poststart
 * hook's failure does not stop the container (runtime-spec config.md).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "--started") != 0) {
		static const char usage[] = "usage: gvshim-hook --started FIFO (an OCI poststart hook of gvshim run)\n";
		(void)!write(2, usage, sizeof usage - 1);
		return 2;
	}
	int fd = open(argv[2], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "S", 1);
		close(fd);
	}
	return 0;
}
