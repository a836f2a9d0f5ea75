/*
 * gvshim-jail: test-only.  Runs a command under a seccomp filter that denies what container
 * runtimes' default profiles deny, so that gvshim's diagnostics can be tested live:
 *
 *   gvshim-jail --deny LIST -- COMMAND [ARGS...]
 *
 * LIST is comma-separated:
 *   userns      clone/unshare with CLONE_NEWUSER -> EPERM, clone3 -> ENOSYS
 *   docker      what Docker's default profile does to a process without CAP_SYS_ADMIN:
 *               clone with any CLONE_NEW* flag, unshare, setns, mount, umount2 -> EPERM;
 *               clone3 -> ENOSYS; pivot_root is not allow-listed -> EPERM
 *   mount       mount, umount2 -> EPERM
 *   umount2     umount2 -> EPERM (mount allowed)
 *   namespaces  clone/unshare with any CLONE_NEW* flag but CLONE_NEWUSER -> EPERM (user namespaces allowed)
 *   pivot_root  pivot_root -> EPERM
 *   ptrace      ptrace -> EPERM
 *
 * Run it as root and drop to the test user afterwards (setpriv): as with Docker, the filter
 * is then installed without no_new_privs.  Not installed with gvshim.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "unsupported architecture"
#endif

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)
#define MAX_INSNS 128

static struct sock_filter prog[MAX_INSNS];
static int len;

static void emit(struct sock_filter f)
{
	if (len == MAX_INSNS) {
		fprintf(stderr, "gvshim-jail: filter too long\n");
		_exit(2);
	}
	prog[len++] = f;
}

/* if (nr == n) return ret */
static void deny(int nr, unsigned ret)
{
	emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1));
	emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ret));
}

/* if (nr == n && (arg0 & mask)) return EPERM; the accumulator holds nr again afterwards */
static void deny_flags(int nr, unsigned mask)
{
	emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 4));
	emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
	emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1));
	emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
	emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
}

int main(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[1], "--deny") != 0 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: gvshim-jail --deny userns|docker|mount|umount2|namespaces|pivot_root|ptrace[,...] -- COMMAND...\n");
		return 2;
	}
	emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0));
	emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));

	char list[256];
	snprintf(list, sizeof list, "%s", argv[2]);
	for (char *save, *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (strcmp(item, "userns") == 0) {
			deny_flags(SYS_clone, CLONE_NEWUSER);
			deny_flags(SYS_unshare, CLONE_NEWUSER);
			deny(SYS_clone3, SECCOMP_RET_ERRNO | ENOSYS);
		} else if (strcmp(item, "docker") == 0) {
			deny_flags(SYS_clone, NS_FLAGS);
			deny(SYS_clone3, SECCOMP_RET_ERRNO | ENOSYS);
			deny(SYS_unshare, SECCOMP_RET_ERRNO | EPERM);
			deny(SYS_setns, SECCOMP_RET_ERRNO | EPERM);
			deny(SYS_mount, SECCOMP_RET_ERRNO | EPERM);
			deny(SYS_umount2, SECCOMP_RET_ERRNO | EPERM);
			deny(SYS_pivot_root, SECCOMP_RET_ERRNO | EPERM);
		} else if (strcmp(item, "mount") == 0) {
			deny(SYS_mount, SECCOMP_RET_ERRNO | EPERM);
			deny(SYS_umount2, SECCOMP_RET_ERRNO | EPERM);
		} else if (strcmp(item, "umount2") == 0) {
			deny(SYS_umount2, SECCOMP_RET_ERRNO | EPERM);
		} else if (strcmp(item, "namespaces") == 0) {
			deny_flags(SYS_clone, NS_FLAGS & ~CLONE_NEWUSER);
			deny_flags(SYS_unshare, NS_FLAGS & ~CLONE_NEWUSER);
			deny(SYS_clone3, SECCOMP_RET_ERRNO | ENOSYS);
		} else if (strcmp(item, "pivot_root") == 0) {
			deny(SYS_pivot_root, SECCOMP_RET_ERRNO | EPERM);
		} else if (strcmp(item, "ptrace") == 0) {
			deny(SYS_ptrace, SECCOMP_RET_ERRNO | EPERM);
		} else {
			fprintf(stderr, "gvshim-jail: unknown item %s\n", item);
			return 2;
		}
	}
	emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));

	struct sock_fprog fprog = {.len = (unsigned short)len, .filter = prog};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
		perror("gvshim-jail: prctl(PR_SET_SECCOMP) (run it as root, or under no_new_privs)");
		return 1;
	}
	execvp(argv[4], argv + 4);
	perror("gvshim-jail: execvp");
	return 127;
}
