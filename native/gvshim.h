/*
 * gvshim native interface: the only C that runs between clone(2) and execve(2).
 *
 * The JVM is multi-threaded, so a cloned child must not run Java code: the child of
 * clone() starts in gvshim_child() below, does a handful of async-signal-safe calls and
 * execs.  Java (dev.gvshim.linux.FfmClone, from a Spawner.Request) lays out struct gvshim_spawn in native
 * memory and passes gvshim_child and the struct to glibc's clone() through FFM.
 */
#ifndef GVSHIM_H
#define GVSHIM_H

#include <stdint.h>

/* Bumped whenever struct gvshim_spawn or the step numbers change; Java checks it in tests. */
#define GVSHIM_ABI_VERSION 6

/* gvshim_spawn.flags */
#define GVSHIM_PDEATHSIG 0x1 /* prctl(PR_SET_PDEATHSIG, SIGKILL) and check the parent is still there */
#define GVSHIM_SETPGID 0x2   /* own process group: terminal signals reach only the waiter, which forwards once */
#define GVSHIM_SETUID 0x4    /* become uid:gid (groups: just gid) before exec: `gvshim doctor --user` as root */

/* Steps reported through status_fd as {int32 step, int32 errno}. */
enum gvshim_step {
	GVSHIM_STEP_PDEATHSIG = 1,
	GVSHIM_STEP_PARENT_GONE = 2,
	GVSHIM_STEP_SYNC = 3,
	GVSHIM_STEP_SETPGID = 4,
	GVSHIM_STEP_STDIO = 5,
	GVSHIM_STEP_CLOEXEC = 6,
	GVSHIM_STEP_SIGNALS = 7,
	GVSHIM_STEP_EXEC = 8,
	GVSHIM_STEP_SETUID = 9,
};

struct gvshim_spawn {
	const char *path;   /* offset 0: program to execve */
	char *const *argv;  /* offset 8 */
	char *const *envp;  /* offset 16 */
	int32_t stdio[3];   /* offset 24: fds to dup2 onto 0, 1, 2 (-1: keep what is there) */
	int32_t sync_fd;    /* offset 36: read one byte before exec (-1: don't wait); EOF means abort */
	int32_t status_fd;  /* offset 40: O_CLOEXEC pipe; receives {step, errno} if anything fails (-1: none) */
	int32_t flags;      /* offset 44: GVSHIM_* */
	int32_t parent_pid; /* offset 48: getppid() must equal this after PR_SET_PDEATHSIG */
	int32_t sync_peer;  /* offset 52: the parent's end of the sync pipe, closed first so that EOF can arrive */
	int32_t uid;        /* offset 56: with GVSHIM_SETUID */
	int32_t gid;        /* offset 60: with GVSHIM_SETUID; sizeof == 64 */
};

int gvshim_child(void *arg);
int gvshim_abi_version(void);
long gvshim_spawn_size(void);

#endif
