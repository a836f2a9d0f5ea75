/*
 * gvshim-holder: keeps a rootless container's user namespace (and its id maps) alive between
 * runtime calls.
 *
 * gvshim clones it into a new user namespace (dev.gvshim.userns.NamespaceChild: no Java runs
 * in the child), maps the caller's subordinate ids into it, and releases it into this program.
 * Every runsc call of the container then enters that namespace (gvshim-nsexec --userns, setns(2)
 * on /proc/PID/ns/user), and gvshim SIGKILLs the holder at delete: the namespace ends with the
 * last process in it. It holds nothing else: no descriptors, no terminal, its own session.
 */
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	syscall(SYS_close_range, 3U, ~0U, 0);
	setsid();
	prctl(PR_SET_NAME, "gvshim-holder", 0, 0, 0);
	for (;;)
		pause();
}
