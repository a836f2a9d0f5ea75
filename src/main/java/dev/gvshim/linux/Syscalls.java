package dev.gvshim.linux;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The system calls gvshim makes, as an interface: {@link #system()} is this process's own
 * (FFM, linked once per process), and unit tests pass a recording fake instead, to assert the
 * sequence of calls and to inject errnos where the real kernel cannot be made to fail on cue.
 * Code that is given a {@code Syscalls} makes every call through it; the static methods of
 * {@link Linux} and {@link Spawner} are the same calls on {@link #system()}, for code that has no
 * test seam yet.
 *
 * <p>Failures are {@link SyscallException}s carrying the call, the errno and what it was applied
 * to. Calls interrupted by a signal (EINTR) are retried where noted.
 */
public interface Syscalls {
    /** This process's system calls. */
    static Syscalls system() {
        return FfmSyscalls.INSTANCE;
    }

    /** {@code int pipe2(int fds[2], int flags)}, pipe(2). Returns {read end, write end}. */
    int[] pipe2(int flags) throws SyscallException;

    /** {@code int close(int fd)}, close(2). */
    void close(int fd) throws SyscallException;

    /** Closes and ignores errors: for clean-up paths where the first failure matters. Negative descriptors are skipped. */
    default void closeQuietly(int... fds) {
        for (int fd : fds) {
            if (fd >= 0) {
                try {
                    close(fd);
                } catch (SyscallException ignored) {
                    // the descriptor is gone either way (close(2), "Dealing with error returns")
                }
            }
        }
    }

    /** {@code ssize_t read(int fd, void *buf, size_t count)}, read(2), retried on EINTR. Returns 0 at EOF. */
    int read(int fd, byte[] buf, int off, int len) throws SyscallException;

    /** Reads until EOF (at most {@code limit} bytes). */
    default byte[] readAll(int fd, int limit) throws SyscallException {
        byte[] buf = new byte[Math.min(limit, 8192)];
        int len = 0;
        while (len < limit) {
            if (len == buf.length) {
                buf = Arrays.copyOf(buf, Math.min(limit, buf.length * 2));
            }
            int n = read(fd, buf, len, buf.length - len);
            if (n == 0) {
                break;
            }
            len += n;
        }
        return Arrays.copyOf(buf, len);
    }

    /** {@code ssize_t write(int fd, const void *buf, size_t count)}, write(2): writes everything, retried on EINTR. */
    void write(int fd, byte[] data, String what) throws SyscallException;

    /** {@code int openat(AT_FDCWD, path, flags, mode)}, open(2). */
    int open(String path, int flags, int mode) throws SyscallException;

    /**
     * Writes a small file in one write(2) at offset 0, as /proc/PID/uid_map, gid_map and
     * setgroups require (user_namespaces(7)); the errno of open or write is kept.
     */
    default void writeFile(String path, String content) throws SyscallException {
        int fd = open(path, Linux.O_WRONLY | Linux.O_CLOEXEC, 0);
        try {
            write(fd, content.getBytes(StandardCharsets.US_ASCII), path);
        } finally {
            closeQuietly(fd);
        }
    }

    /** {@code int flock(int fd, int operation)}, flock(2): LOCK_EX = 2, LOCK_NB = 4; closing the descriptor unlocks. */
    void flock(int fd, int operation) throws SyscallException;

    /** Clears FD_CLOEXEC so the descriptor survives execve (fcntl(2), F_GETFD then F_SETFD). */
    void inheritable(int fd) throws SyscallException;

    /** {@code int mknodat(AT_FDCWD, path, S_IFIFO | mode, 0)}, mkfifo(3). */
    void mkfifo(String path, int mode) throws SyscallException;

    /**
     * {@code int unlinkat(AT_FDCWD, path, AT_REMOVEDIR)}, rmdir(2), retried on EINTR: removes a
     * directory and nothing else (ENOTDIR for any other file). A cgroup goes only when it has no
     * processes and no child cgroups (EBUSY otherwise, cgroups(7)).
     */
    void rmdir(String path) throws SyscallException;

    /** A listening AF_UNIX stream socket bound to {@code path} (socket(2), bind(2), listen(2)); close-on-exec. */
    int listenUnix(String path) throws SyscallException;

    /** isatty(3), through {@code ioctl(fd, TCGETS)}: ENOTTY and EBADF mean "no". */
    boolean isatty(int fd);

    /** {@code pid_t wait4(pid, &status, options, NULL)}, wait(2), retried on EINTR. */
    Linux.WaitStatus waitpid(int pid, int options) throws SyscallException;

    /** {@code int chdir(const char *path)}, chdir(2). */
    void chdir(String path) throws SyscallException;

    /** {@code int kill(pid_t pid, int sig)}, kill(2). */
    void kill(int pid, int sig) throws SyscallException;

    /** {@code int prctl(int op, ...)}, prctl(2). */
    long prctl(int op, long arg2, long arg3, long arg4, long arg5) throws SyscallException;

    /** getuid(2). */
    int getuid() throws SyscallException;

    /** geteuid(2). */
    int geteuid() throws SyscallException;

    /** getgid(2). */
    int getgid() throws SyscallException;

    /** getegid(2). */
    int getegid() throws SyscallException;

    /** getpid(2), straight from the kernel. */
    int getpid() throws SyscallException;

    /**
     * {@code ssize_t getxattr(path, name, value, size)}, getxattr(2). ENODATA ("no such
     * attribute") and EOPNOTSUPP are answers, returned as empty.
     */
    Optional<byte[]> getxattr(String path, String name) throws SyscallException;

    /**
     * {@code int unshare(int flags)}, unshare(2). A probe only: from the JVM, CLONE_NEWUSER fails
     * with EINVAL (a multi-threaded caller), which is why namespaces are created by {@link #clone}.
     */
    void unshare(int flags) throws SyscallException;

    /** {@code int setns(int fd, int nstype)}, setns(2). */
    void setns(int fd, int nstype) throws SyscallException;

    /**
     * {@code int execve(path, argv, envp)}, execve(2): replaces this process (the JVM and all
     * its threads) with {@code path}. Returns only by throwing.
     */
    void execve(String path, List<String> argv, List<String> envp) throws SyscallException;

    /**
     * clone(2) with {@code gvshim_child} (native/gvshim_child.c) as the child's function: the
     * child does what {@code r} asks and execs, and no Java code ever runs in it. {@code
     * cloneFlags} must not include the exit signal (SIGCHLD is added). With CLONE_VM the child
     * runs in our memory until it execs, so the returned {@link Spawner.Child} keeps that memory
     * until {@link Spawner.Child#awaitExec} or {@link Spawner.Child#release}. Failures carry
     * {@code step}.
     */
    Spawner.Child clone(Spawner.Request r, int cloneFlags, Step step) throws SyscallException;

    /**
     * Starts a helper program (CLONE_VM|CLONE_VFORK: posix_spawn's technique, no page tables
     * copied, the calling thread sleeps until the child has exec'd) with its stdout and stderr
     * going to one pipe, without waiting for it: two helpers can run at once.
     */
    default Spawner.Started start(String path, List<String> argv, List<String> env, Step step) throws SyscallException {
        int[] out;
        try {
            out = pipe2(Linux.O_CLOEXEC);
        } catch (SyscallException e) {
            throw e.in(step);
        }
        try {
            Spawner.Child c = clone(new Spawner.Request(path, argv, env, -1, out[1], out[1], -1, -1, 0),
                    Linux.CLONE_VM | Linux.CLONE_VFORK, step);
            closeQuietly(out[1]);
            out[1] = -1; // closed once: the catch below closes out, and the number may be another thread's by then
            try {
                c.awaitExec(step);
            } catch (SyscallException e) {
                closeQuietly(out[0]);
                out[0] = -1;
                waitpid(c.pid(), 0);
                throw e;
            }
            return new Spawner.Started(this, c.pid(), out[0], step, path);
        } catch (SyscallException e) {
            closeQuietly(out);
            throw e.in(step);
        }
    }

    /**
     * Runs a helper program to completion, its stdout and stderr captured. Used for
     * newuidmap/newgidmap and `runsc --version`, whose exit status and message matter.
     */
    default Spawner.Completed run(String path, List<String> argv, List<String> env, Step step) throws SyscallException {
        return start(path, argv, env, step).await();
    }
}
