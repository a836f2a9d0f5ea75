package dev.gvshim.linux;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Processes started with glibc's {@code clone()} whose child runs {@code gvshim_child} from
 * libgvshim.so (native/gvshim_child.c) until execve: no Java code ever runs in a cloned child.
 * The calls are {@link Syscalls#clone}, {@link Syscalls#start} and {@link Syscalls#run}; this
 * class holds what they take and return, and the same calls on {@link Syscalls#system()}.
 *
 * <p>Two uses: the user-namespace child ({@code CLONE_NEWUSER}: a copy-on-write image of the
 * JVM that blocks on a sync pipe until its id maps are written, then execs; see
 * dev.gvshim.userns.NamespaceChild), and helper programs such as newuidmap
 * ({@code CLONE_VM|CLONE_VFORK}: posix_spawn's technique, no page tables copied, the calling
 * thread sleeps until the child has exec'd).
 */
public final class Spawner {
    /** {@code GVSHIM_PDEATHSIG}: SIGKILL the child when this thread dies. */
    public static final int PDEATHSIG = 0x1;
    /** {@code GVSHIM_SETPGID}: the child gets its own process group. */
    public static final int SETPGID = 0x2;
    /** {@code GVSHIM_SETUID}: become {@code uid:gid} before exec (only root may). */
    public static final int SETUID = 0x4;

    private Spawner() {
    }

    /**
     * What the child executes. {@code stdin/stdout/stderr} are descriptors to dup2 onto 0, 1, 2
     * (-1 keeps the inherited one); {@code syncFd} is read before exec (-1: don't wait), after
     * closing {@code syncPeer}, the parent's end of the same pipe.
     */
    public record Request(String path, List<String> argv, List<String> env, int stdin, int stdout, int stderr,
            int syncFd, int syncPeer, int flags, int uid, int gid) {
        public Request(String path, List<String> argv, List<String> env, int stdin, int stdout, int stderr,
                int syncFd, int syncPeer, int flags) {
            this(path, argv, env, stdin, stdout, stderr, syncFd, syncPeer, flags, -1, -1);
        }
    }

    /**
     * A started child, the read end of the pipe on which it reports a failure before exec
     * ({@code statusFd}), and the native memory it reads until then (its stack, argv, envp): a
     * CLONE_VM child shares our memory, so that memory lives until {@link #awaitExec} or
     * {@link #release}.
     */
    public static final class Child {
        private final Syscalls sys;
        private final int pid;
        private final int statusFd;
        private final String path;
        private final Arena memory;
        private boolean released;

        /** @param memory what the child reads until it execs, freed by {@link #release}; null: none (a fake's child) */
        public Child(Syscalls sys, int pid, int statusFd, String path, Arena memory) {
            this.sys = sys;
            this.pid = pid;
            this.statusFd = statusFd;
            this.path = path;
            this.memory = memory;
        }

        public int pid() {
            return pid;
        }

        /**
         * Waits until the child has exec'd (its close-on-exec status pipe reaches EOF) or has
         * reported why it could not ({@code {int32 step, int32 errno}}, enum gvshim_step in
         * native/gvshim.h); closes the pipe and frees the child's memory either way.
         */
        public void awaitExec(Step step) throws SyscallException {
            byte[] report = new byte[8];
            try {
                int n = 0;
                while (n < report.length) {
                    int r = sys.read(statusFd, report, n, report.length - n);
                    if (r == 0) {
                        break;
                    }
                    n += r;
                }
                if (n == 0) {
                    return;
                }
                if (n != report.length) {
                    throw new SyscallException(step, "read(status pipe)", Errno.EIO, path);
                }
                int childStep = (report[0] & 0xff) | (report[1] & 0xff) << 8 | (report[2] & 0xff) << 16 | report[3] << 24;
                int errno = (report[4] & 0xff) | (report[5] & 0xff) << 8 | (report[6] & 0xff) << 16 | report[7] << 24;
                throw new SyscallException(step, childCall(childStep), errno, path);
            } finally {
                release();
            }
        }

        /**
         * For a child that has exec'd or will never exec (killed and reaped): closes the status
         * pipe and frees the memory, once (a second close could hit a descriptor another thread
         * opened meanwhile under the same number).
         */
        public void release() {
            if (released) {
                return;
            }
            released = true;
            sys.closeQuietly(statusFd);
            if (memory != null && memory.scope().isAlive()) {
                memory.close();
            }
        }
    }

    /** Names of the steps of gvshim_child (enum gvshim_step in native/gvshim.h). */
    static String childCall(int step) {
        return switch (step) {
            case 1 -> "prctl(PR_SET_PDEATHSIG)";
            case 2 -> "getppid";
            case 3 -> "read(sync pipe)";
            case 4 -> "setpgid";
            case 5 -> "dup2(stdio)";
            case 6 -> "close_range(CLOSE_RANGE_CLOEXEC)";
            case 7 -> "sigprocmask";
            case 8 -> "execve";
            case 9 -> "setresuid";
            default -> "child step " + step;
        };
    }

    /** "CLONE_NEWUSER|CLONE_VM": the flags of a clone, for its failure's detail. */
    public static String describe(int flags) {
        StringBuilder b = new StringBuilder();
        if ((flags & Linux.CLONE_NEWUSER) != 0) {
            b.append("CLONE_NEWUSER");
        }
        if ((flags & Linux.CLONE_NEWNS) != 0) {
            b.append(b.isEmpty() ? "" : "|").append("CLONE_NEWNS");
        }
        if ((flags & Linux.CLONE_VM) != 0) {
            b.append(b.isEmpty() ? "" : "|").append("CLONE_VM");
        }
        if ((flags & Linux.CLONE_VFORK) != 0) {
            b.append(b.isEmpty() ? "" : "|").append("CLONE_VFORK");
        }
        return b.isEmpty() ? "0x" + Integer.toHexString(flags) : b.toString();
    }

    /** {@link Syscalls#clone} on this process's system calls. */
    public static Child clone(Request r, int cloneFlags, Step step) throws SyscallException {
        return Syscalls.system().clone(r, cloneFlags, step);
    }

    /** {@link Syscalls#run} on this process's system calls. */
    public static Completed run(String path, List<String> argv, List<String> env, Step step) throws SyscallException {
        return Syscalls.system().run(path, argv, env, step);
    }

    /** {@link Syscalls#start} on this process's system calls. */
    public static Started start(String path, List<String> argv, List<String> env, Step step) throws SyscallException {
        return Syscalls.system().start(path, argv, env, step);
    }

    /** A running helper; {@link #await()} collects its output and status. */
    public record Started(Syscalls sys, int pid, int outputFd, Step step, String path) {
        public Completed await() throws SyscallException {
            try {
                byte[] output = sys.readAll(outputFd, 64 * 1024);
                Linux.WaitStatus st = sys.waitpid(pid, 0);
                return new Completed(st, new String(output, StandardCharsets.UTF_8).strip());
            } catch (SyscallException e) {
                throw e.in(step);
            } finally {
                sys.closeQuietly(outputFd);
            }
        }
    }

    /** A finished helper: how it ended and what it printed. */
    public record Completed(Linux.WaitStatus status, String output) {
        public boolean ok() {
            return status.exited() && status.exitCode() == 0;
        }
    }
}
