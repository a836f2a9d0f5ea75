package dev.gvshim.linux;

import static dev.gvshim.linux.SyscallNumbers.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Typed Linux system calls over FFM (see {@link Native} for how they are linked). Each
 * method documents its C prototype and man page; failures are {@link SyscallException}s.
 * Calls that only make sense from a single-threaded process ({@code unshare(CLONE_NEWUSER)},
 * {@code setns} into a user namespace) are probes here: from the JVM they fail with EINVAL,
 * which is why namespaces are created by {@link Spawner} in a C child.
 */
public final class Linux {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    public static final int O_TRUNC = 0x200;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    private static final int AT_FDCWD = -100;
    private static final int F_GETFD = 1;
    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;
    private static final int S_IFIFO = 0x1000;
    private static final int TCGETS = 0x5401;
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;

    public static final int CLONE_VM = 0x100;
    public static final int CLONE_VFORK = 0x4000;
    public static final int CLONE_NEWNS = 0x20000;
    public static final int CLONE_NEWUSER = 0x10000000;
    public static final int SIGCHLD = 17;
    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;

    public static final int PR_SET_PDEATHSIG = 1;
    public static final int PR_GET_DUMPABLE = 3;
    public static final int PR_GET_NO_NEW_PRIVS = 39;

    private Linux() {
    }

    /** Starts linking the FFM handles on a daemon thread; the first real call waits for it. */
    public static void warmUpInBackground() {
        if (System.getenv("GVSHIM_NO_WARMUP") != null) { // for measuring each step's own cost
            return;
        }
        Thread t = new Thread(Native::warmUp, "gvshim-ffm-link");
        t.setDaemon(true);
        t.start();
    }

    private static long sys(String call, String detail, int nr, long a, long b, long c, long d)
            throws SyscallException {
        return Native.syscall(call, detail, nr, a, b, c, d, 0, 0);
    }

    /** {@code int pipe2(int fds[2], int flags)}, pipe(2). Returns {read end, write end}. */
    public static int[] pipe2(int flags) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(8, 4);
            sys("pipe2", "", PIPE2, fds.address(), flags, 0, 0);
            java.nio.ByteBuffer b = Bytes.fromNative(fds, 0, 8);
            return new int[] {b.getInt(0), b.getInt(4)};
        }
    }

    /** {@code int close(int fd)}, close(2). */
    public static void close(int fd) throws SyscallException {
        sys("close", "fd " + fd, CLOSE, fd, 0, 0, 0);
    }

    /** Closes and ignores errors: for clean-up paths where the first failure matters. */
    public static void closeQuietly(int... fds) {
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
    public static int read(int fd, byte[] buf, int off, int len) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(len);
            for (;;) {
                try {
                    int n = (int) sys("read", "fd " + fd, READ, fd, seg.address(), len, 0);
                    MemorySegment.copy(seg, JAVA_BYTE, 0, buf, off, n);
                    return n;
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EINTR) {
                        throw e;
                    }
                }
            }
        }
    }

    /** Reads until EOF (at most {@code limit} bytes). */
    public static byte[] readAll(int fd, int limit) throws SyscallException {
        byte[] buf = new byte[Math.min(limit, 8192)];
        int len = 0;
        while (len < limit) {
            if (len == buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.min(limit, buf.length * 2));
            }
            int n = read(fd, buf, len, buf.length - len);
            if (n == 0) {
                break;
            }
            len += n;
        }
        return java.util.Arrays.copyOf(buf, len);
    }

    /** {@code ssize_t write(int fd, const void *buf, size_t count)}, write(2): writes everything. */
    public static void write(int fd, byte[] data, String what) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(MemorySegment.ofArray(data), 0, seg, 0, data.length);
            long done = 0;
            while (done < data.length) {
                try {
                    done += sys("write", what, WRITE, fd, seg.address() + done, data.length - done, 0);
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EINTR) {
                        throw e;
                    }
                }
            }
        }
    }

    /** {@code int openat(AT_FDCWD, path, flags, mode)}, open(2). */
    public static int open(String path, int flags, int mode) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            return (int) sys("open", path, OPENAT, AT_FDCWD, Bytes.cString(arena, path).address(), flags, mode);
        }
    }

    /**
     * Writes a small file in one write(2) at offset 0, as /proc/PID/uid_map, gid_map and
     * setgroups require (user_namespaces(7)); the errno of open or write is kept.
     */
    public static void writeFile(String path, String content) throws SyscallException {
        int fd = open(path, O_WRONLY | O_CLOEXEC, 0);
        try {
            write(fd, content.getBytes(StandardCharsets.US_ASCII), path);
        } finally {
            closeQuietly(fd);
        }
    }

    /** {@code int flock(int fd, int operation)}, flock(2): LOCK_EX = 2, LOCK_NB = 4; closing the descriptor unlocks. */
    public static void flock(int fd, int operation) throws SyscallException {
        sys("flock", "fd " + fd, FLOCK, fd, operation, 0, 0);
    }

    /** Clears FD_CLOEXEC so the descriptor survives execve (fcntl(2), F_SETFD). */
    public static void inheritable(int fd) throws SyscallException {
        long flags = sys("fcntl", "F_GETFD fd " + fd, FCNTL, fd, F_GETFD, 0, 0);
        sys("fcntl", "F_SETFD fd " + fd, FCNTL, fd, F_SETFD, flags & ~FD_CLOEXEC, 0);
    }

    /** {@code int mknodat(AT_FDCWD, path, S_IFIFO | mode, 0)}, mkfifo(3). */
    public static void mkfifo(String path, int mode) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            sys("mkfifo", path, MKNODAT, AT_FDCWD, Bytes.cString(arena, path).address(), S_IFIFO | mode, 0);
        }
    }

    /** A listening AF_UNIX stream socket bound to {@code path} (socket(2), bind(2), listen(2)); close-on-exec. */
    public static int listenUnix(String path) throws SyscallException {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= 108) {
            throw new SyscallException("bind", Errno.ENAMETOOLONG, path);
        }
        int fd = (int) sys("socket", "AF_UNIX", SOCKET, AF_UNIX, SOCK_STREAM | O_CLOEXEC, 0, 0);
        try (Arena arena = Arena.ofConfined()) {
            java.nio.ByteBuffer sun = Bytes.buffer(110); // struct sockaddr_un
            sun.putShort((short) AF_UNIX).put(name);
            MemorySegment addr = Bytes.toNative(arena, sun);
            sys("bind", path, BIND, fd, addr.address(), 110, 0);
            sys("listen", path, LISTEN, fd, 1, 0, 0);
            return fd;
        } catch (SyscallException e) {
            closeQuietly(fd);
            throw e;
        }
    }

    /** isatty(3), through {@code ioctl(fd, TCGETS)}: ENOTTY and EBADF mean "no". */
    public static boolean isatty(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            sys("ioctl", "TCGETS", IOCTL, fd, TCGETS, arena.allocate(64).address(), 0);
            return true;
        } catch (SyscallException e) {
            return false;
        }
    }

    /** {@code pid_t wait4(pid, &status, options, NULL)}, wait(2), retried on EINTR. */
    public static WaitStatus waitpid(int pid, int options) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(4, 4);
            for (;;) {
                try {
                    int got = (int) sys("waitpid", "pid " + pid, WAIT4, pid, status.address(), options, 0);
                    return new WaitStatus(got, Bytes.readInt(status, 0));
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EINTR) {
                        throw e;
                    }
                }
            }
        }
    }

    /** {@code int chdir(const char *path)}, chdir(2). */
    public static void chdir(String path) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            sys("chdir", path, CHDIR, Bytes.cString(arena, path).address(), 0, 0, 0);
        }
    }

    /** {@code int kill(pid_t pid, int sig)}, kill(2). */
    public static void kill(int pid, int sig) throws SyscallException {
        sys("kill", "pid " + pid + " signal " + sig, KILL, pid, sig, 0, 0);
    }

    /** {@code int prctl(int op, ...)}, prctl(2). */
    public static long prctl(int op, long arg2, long arg3, long arg4, long arg5) throws SyscallException {
        return Native.syscall("prctl", "op " + op, PRCTL, op, arg2, arg3, arg4, arg5, 0);
    }

    /** getuid(2). */
    public static int getuid() throws SyscallException {
        return (int) sys("getuid", "", GETUID, 0, 0, 0, 0);
    }

    /** geteuid(2). */
    public static int geteuid() throws SyscallException {
        return (int) sys("geteuid", "", GETEUID, 0, 0, 0, 0);
    }

    /** getgid(2). */
    public static int getgid() throws SyscallException {
        return (int) sys("getgid", "", GETGID, 0, 0, 0, 0);
    }

    /** getegid(2). */
    public static int getegid() throws SyscallException {
        return (int) sys("getegid", "", GETEGID, 0, 0, 0, 0);
    }

    /** getpid(2), straight from the kernel (tests compare it with ProcessHandle). */
    public static int getpid() throws SyscallException {
        return (int) sys("getpid", "", GETPID, 0, 0, 0, 0);
    }

    /**
     * {@code ssize_t getxattr(path, name, value, size)}, getxattr(2). ENODATA ("no such
     * attribute") and EOPNOTSUPP are answers, returned as empty.
     */
    public static Optional<byte[]> getxattr(String path, String name) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096);
            long n = sys("getxattr", path + " " + name, GETXATTR, Bytes.cString(arena, path).address(),
                    Bytes.cString(arena, name).address(), buf.address(), buf.byteSize());
            return Optional.of(buf.asSlice(0, n).toArray(JAVA_BYTE));
        } catch (SyscallException e) {
            if (e.errno() == Errno.ENODATA || e.errno() == Errno.EOPNOTSUPP) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** {@code int unshare(int flags)}, unshare(2). From the JVM, CLONE_NEWUSER fails with EINVAL (multi-threaded caller). */
    public static void unshare(int flags) throws SyscallException {
        sys("unshare", "0x" + Integer.toHexString(flags), UNSHARE, flags, 0, 0, 0);
    }

    /** {@code int setns(int fd, int nstype)}, setns(2). */
    public static void setns(int fd, int nstype) throws SyscallException {
        sys("setns", "fd " + fd, SETNS, fd, nstype, 0, 0);
    }

    /**
     * Blocks every asynchronous signal in the calling thread and returns the previous mask
     * (rt_sigprocmask(2)). Synchronous signals the JVM relies on (SEGV for implicit null
     * checks and safepoint polls, BUS, ILL, FPE, TRAP, SYS) stay unblocked: blocking them is
     * fatal when they fire.
     */
    public static long blockAsyncSignals() throws SyscallException {
        long sync = bit(4) | bit(5) | bit(7) | bit(8) | bit(11) | bit(31);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = Bytes.toNative(arena, Bytes.buffer(8).putLong(0, ~sync));
            MemorySegment old = arena.allocate(8, 8);
            sys("rt_sigprocmask", "SIG_BLOCK", RT_SIGPROCMASK, 0 /* SIG_BLOCK */, set.address(), old.address(), 8);
            return Bytes.fromNative(old, 0, 8).getLong(0);
        }
    }

    /** Restores a mask returned by {@link #blockAsyncSignals()}. */
    public static void restoreSignals(long mask) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = Bytes.toNative(arena, Bytes.buffer(8).putLong(0, mask));
            sys("rt_sigprocmask", "SIG_SETMASK", RT_SIGPROCMASK, 2 /* SIG_SETMASK */, set.address(), 0, 8);
        }
    }

    private static long bit(int sig) {
        return 1L << (sig - 1);
    }

    /**
     * {@code int execve(path, argv, envp)}, execve(2): replaces this process (the JVM and all
     * its threads) with {@code path}. Returns only by throwing.
     */
    public static void execve(String path, List<String> argv, List<String> envp) throws SyscallException {
        Arena arena = Arena.ofConfined(); // on success the process image is gone; on failure, freed below
        try {
            MemorySegment p = Bytes.cString(arena, path);
            sys("execve", path, EXECVE, p.address(), Bytes.stringArray(arena, argv).address(),
                    Bytes.stringArray(arena, envp).address(), 0);
            throw new AssertionError("execve returned");
        } finally {
            arena.close();
        }
    }

    /** A wait(2) status: {@code pid} that changed state and its raw status word. */
    public record WaitStatus(int pid, int raw) {
        public boolean exited() {
            return (raw & 0x7f) == 0;
        }

        public int exitCode() {
            return (raw >> 8) & 0xff;
        }

        public boolean signaled() {
            int sig = raw & 0x7f;
            return sig != 0 && sig != 0x7f; // WIFSIGNALED: not exited, not stopped
        }

        public int termSignal() {
            return raw & 0x7f;
        }

        /** The shell's view: the exit code, or 128+N for death by signal N. */
        public int shellStatus() {
            return exited() ? exitCode() : 128 + termSignal();
        }

        @Override
        public String toString() {
            return exited() ? "exit status " + exitCode() : "killed by signal " + termSignal();
        }
    }
}
