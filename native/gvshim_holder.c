/*
 * gvshim-holder: keeps a rootless container's user namespace (and its id maps) alive between
 * runtime calls.
 *
 * gvshim clones it into a new user namespace (dev.gvshim.userns.NamespaceChild: no Java runs
 * in the child), maps the caller's subordinate ids into it, and releases it into this program.
 * Every runsc call of the container then enters that namespace (gvshim-nsexec --userns, setns(2)
 * on /proc/PID/ns/user), and gvshim SIGKILLs the holder at delete: the namespace ends with the
 * last process in it. It holds nothing else: no descriptors, no terminal, its own session.
 *
 * Until gvshim has recorded it (the container's state names its pid), nothing else would ever
 * kill it: a gvshim (or server) killed in between would leak it. So its stdin is a pipe whose
 * only write end is gvshim's (O_CLOEXEC): one byte 'k' once the record is written makes it stay;
 * EOF without it — its creator died, or gave the create up — ends it. That EOF follows the
 * creating process; PR_SET_PDEATHSIG would follow the creating *thread* (prctl(2)), and a
 * server's call thread may end as soon as the create is done.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	syscall(SYS_close_range, 3U, ~0U, 0);
	char k = 0;
	ssize_t n;
	do {
		n = read(0, &k, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1 || k != 'k')
		_exit(0);
	/* recorded: from now on `gvshim delete` (or the cleanup of a cut create) ends it */
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		close(null);
	}
	setsid();
	prctl(PR_SET_NAME, "gvshim-holder", 0, 0, 0);
	for (;;)
		pause();
}
