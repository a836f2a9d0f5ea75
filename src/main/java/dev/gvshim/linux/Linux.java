package dev.gvshim.linux;

import java.util.List;
import java.util.Optional;

/**
 * Constants of the Linux ABI gvshim uses, wait(2)'s status word, and the {@link Syscalls} of
 * this process as static methods, for code that is not given a {@code Syscalls} (no test seam
 * yet). Each call is documented on {@link Syscalls}; {@link Native} says how they are linked.
 */
public final class Linux {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    public static final int O_TRUNC = 0x200;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;

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

    private static final Syscalls SYS = FfmSyscalls.INSTANCE;

    private Linux() {
    }

    /** Starts linking the FFM handles on a daemon thread; the first real call waits for it. */
    public static void warmUpInBackground() {
        Thread t = new Thread(Native::warmUp, "gvshim-ffm-link");
        t.setDaemon(true);
        t.start();
    }

    /** {@link Syscalls#pipe2} on this process's system calls. */
    public static int[] pipe2(int flags) throws SyscallException {
        return SYS.pipe2(flags);
    }

    /** {@link Syscalls#close}. */
    public static void close(int fd) throws SyscallException {
        SYS.close(fd);
    }

    /** {@link Syscalls#closeQuietly}. */
    public static void closeQuietly(int... fds) {
        SYS.closeQuietly(fds);
    }

    /** {@link Syscalls#read}. */
    public static int read(int fd, byte[] buf, int off, int len) throws SyscallException {
        return SYS.read(fd, buf, off, len);
    }

    /** {@link Syscalls#readAll}. */
    public static byte[] readAll(int fd, int limit) throws SyscallException {
        return SYS.readAll(fd, limit);
    }

    /** {@link Syscalls#write}. */
    public static void write(int fd, byte[] data, String what) throws SyscallException {
        SYS.write(fd, data, what);
    }

    /** {@link Syscalls#open}. */
    public static int open(String path, int flags, int mode) throws SyscallException {
        return SYS.open(path, flags, mode);
    }

    /** {@link Syscalls#writeFile}. */
    public static void writeFile(String path, String content) throws SyscallException {
        SYS.writeFile(path, content);
    }

    /** {@link Syscalls#flock}. */
    public static void flock(int fd, int operation) throws SyscallException {
        SYS.flock(fd, operation);
    }

    /** {@link Syscalls#inheritable}. */
    public static void inheritable(int fd) throws SyscallException {
        SYS.inheritable(fd);
    }

    /** {@link Syscalls#mkfifo}. */
    public static void mkfifo(String path, int mode) throws SyscallException {
        SYS.mkfifo(path, mode);
    }

    /** {@link Syscalls#listenUnix}. */
    public static int listenUnix(String path) throws SyscallException {
        return SYS.listenUnix(path);
    }

    /** {@link Syscalls#isatty}. */
    public static boolean isatty(int fd) {
        return SYS.isatty(fd);
    }

    /** {@link Syscalls#waitpid}. */
    public static WaitStatus waitpid(int pid, int options) throws SyscallException {
        return SYS.waitpid(pid, options);
    }

    /** {@link Syscalls#chdir}. */
    public static void chdir(String path) throws SyscallException {
        SYS.chdir(path);
    }

    /** {@link Syscalls#kill}. */
    public static void kill(int pid, int sig) throws SyscallException {
        SYS.kill(pid, sig);
    }

    /**
     * From now on, every signal a process sends this JVM (but those HotSpot needs itself: SIGSEGV,
     * SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGUSR2; and SIGCHLD, SIGWINCH, SIGURG, SIGPIPE, SIGTTIN,
     * SIGTTOU) is sent on to {@code pid} by a C handler in libgvshim.so (native/gvshim_signals.c);
     * {@code pid} 0: dropped; -1: held, and sent once a pid is given. For a one-shot JVM that is the caller's process while a foreground
     * runtime run or exec runs (runc forwards signals to the container's process). Not through
     * {@link Syscalls}: no test fakes it, and it is linked only when used.
     *
     * @throws SyscallException when sigaction(2) failed
     * @throws UnsatisfiedLinkError when libgvshim.so cannot be loaded
     */
    public static void forwardSignals(int pid) throws SyscallException {
        int err = Native.Gvshim.forwardSignals(pid);
        if (err != 0) {
            throw new SyscallException("sigaction", err, "forwarding signals to " + pid);
        }
    }

    /** {@link Syscalls#prctl}. */
    public static long prctl(int op, long arg2, long arg3, long arg4, long arg5) throws SyscallException {
        return SYS.prctl(op, arg2, arg3, arg4, arg5);
    }

    /** {@link Syscalls#getuid}. */
    public static int getuid() throws SyscallException {
        return SYS.getuid();
    }

    /** {@link Syscalls#geteuid}. */
    public static int geteuid() throws SyscallException {
        return SYS.geteuid();
    }

    /** {@link Syscalls#getgid}. */
    public static int getgid() throws SyscallException {
        return SYS.getgid();
    }

    /** {@link Syscalls#getegid}. */
    public static int getegid() throws SyscallException {
        return SYS.getegid();
    }

    /** {@link Syscalls#getpid}. */
    public static int getpid() throws SyscallException {
        return SYS.getpid();
    }

    /** {@link Syscalls#getxattr}. */
    public static Optional<byte[]> getxattr(String path, String name) throws SyscallException {
        return SYS.getxattr(path, name);
    }

    /** {@link Syscalls#unshare}. */
    public static void unshare(int flags) throws SyscallException {
        SYS.unshare(flags);
    }

    /** {@link Syscalls#setns}. */
    public static void setns(int fd, int nstype) throws SyscallException {
        SYS.setns(fd, nstype);
    }

    /** {@link Syscalls#execve}. */
    public static void execve(String path, List<String> argv, List<String> envp) throws SyscallException {
        SYS.execve(path, argv, envp);
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
