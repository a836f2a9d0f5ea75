package dev.gvshim.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Starts processes with glibc's {@code clone()} whose child runs {@code gvshim_child} from
 * libgvshim.so (native/gvshim_child.c) until execve: no Java code ever runs in a cloned child.
 *
 * <p>Two uses: the user-namespace child ({@code CLONE_NEWUSER}: a copy-on-write image of the
 * JVM that blocks on a sync pipe until its id maps are written, then execs runsc), and helper
 * programs such as newuidmap ({@code CLONE_VM|CLONE_VFORK}: posix_spawn's technique, no page
 * tables copied, the calling thread sleeps until the child has exec'd). Asynchronous signals
 * are blocked around clone so that no JVM signal handler can run in the child before it has
 * reset them.
 */
public final class Spawner {
    /** {@code GVSHIM_PDEATHSIG}: SIGKILL the child when this thread dies. */
    public static final int PDEATHSIG = 0x1;
    /** {@code GVSHIM_SETPGID}: the child gets its own process group. */
    public static final int SETPGID = 0x2;

    private static final long STACK_SIZE = 64 * 1024;
    /** sizeof(struct gvshim_spawn), checked against the C side by SpawnerTest. */
    static final long SPAWN_SIZE = 56;

    private Spawner() {
    }

    /**
     * What the child executes. {@code stdin/stdout/stderr} are descriptors to dup2 onto 0, 1, 2
     * (-1 keeps the inherited one); {@code syncFd} is read before exec (-1: don't wait).
     */
    public record Request(String path, List<String> argv, List<String> env, int stdin, int stdout, int stderr,
            int syncFd, int flags) {
    }

    /** A started child and the read end of the pipe on which it reports a failure before exec. */
    public record Child(int pid, int statusFd, String path) {
        /**
         * Waits until the child has exec'd (its close-on-exec status pipe reaches EOF) or has
         * reported why it could not; closes the pipe either way.
         */
        public void awaitExec(Step step) throws SyscallException {
            byte[] report = new byte[8];
            try {
                int n = 0;
                while (n < report.length) {
                    int r = Linux.read(statusFd, report, n, report.length - n);
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
                Linux.closeQuietly(statusFd);
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
            default -> "child step " + step;
        };
    }

    /**
     * clone(2) with {@code gvshim_child} as the child's function. {@code cloneFlags} must not
     * include the exit signal (SIGCHLD is added).
     */
    public static Child clone(Request r, int cloneFlags, Step step) throws SyscallException {
        int[] status;
        try {
            status = Linux.pipe2(Linux.O_CLOEXEC);
        } catch (SyscallException e) {
            throw e.in(step);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(SPAWN_SIZE, 8);
            s.set(ADDRESS, 0, arena.allocateFrom(r.path()));
            s.set(ADDRESS, 8, Linux.stringArray(arena, r.argv()));
            s.set(ADDRESS, 16, Linux.stringArray(arena, r.env()));
            s.set(JAVA_INT, 24, r.stdin());
            s.set(JAVA_INT, 28, r.stdout());
            s.set(JAVA_INT, 32, r.stderr());
            s.set(JAVA_INT, 36, r.syncFd());
            s.set(JAVA_INT, 40, status[1]);
            s.set(JAVA_INT, 44, r.flags());
            s.set(JAVA_INT, 48, (int) ProcessHandle.current().pid());
            MemorySegment stack = arena.allocate(STACK_SIZE, 16);
            MemorySegment top = MemorySegment.ofAddress((stack.address() + STACK_SIZE) & ~15L);
            long mask = Linux.blockAsyncSignals();
            int pid;
            try {
                pid = Native.clone(Native.Gvshim.CHILD, top, cloneFlags | Linux.SIGCHLD, s, describe(cloneFlags));
            } finally {
                Linux.restoreSignals(mask);
            }
            Linux.closeQuietly(status[1]);
            return new Child(pid, status[0], r.path());
        } catch (SyscallException e) {
            Linux.closeQuietly(status);
            throw e.in(step);
        }
    }

    static String describe(int flags) {
        StringBuilder b = new StringBuilder();
        if ((flags & Linux.CLONE_NEWUSER) != 0) {
            b.append("CLONE_NEWUSER");
        }
        if ((flags & Linux.CLONE_VM) != 0) {
            b.append(b.isEmpty() ? "" : "|").append("CLONE_VM");
        }
        if ((flags & Linux.CLONE_VFORK) != 0) {
            b.append(b.isEmpty() ? "" : "|").append("CLONE_VFORK");
        }
        return b.isEmpty() ? "0x" + Integer.toHexString(flags) : b.toString();
    }

    /**
     * Runs a helper program to completion (CLONE_VM|CLONE_VFORK), its stdout and stderr
     * captured. Used for newuidmap/newgidmap, whose exit status and message matter.
     */
    public static Completed run(String path, List<String> argv, List<String> env, Step step) throws SyscallException {
        Started s = start(path, argv, env, step);
        return s.await();
    }

    /** Starts a helper without waiting, so that two helpers can run in parallel. */
    public static Started start(String path, List<String> argv, List<String> env, Step step) throws SyscallException {
        int[] out;
        try {
            out = Linux.pipe2(Linux.O_CLOEXEC);
        } catch (SyscallException e) {
            throw e.in(step);
        }
        try {
            Child c = clone(new Request(path, argv, env, -1, out[1], out[1], -1, 0),
                    Linux.CLONE_VM | Linux.CLONE_VFORK, step);
            Linux.closeQuietly(out[1]);
            try {
                c.awaitExec(step);
            } catch (SyscallException e) {
                Linux.closeQuietly(out[0]);
                Linux.waitpid(c.pid(), 0);
                throw e;
            }
            return new Started(c.pid(), out[0], step, path);
        } catch (SyscallException e) {
            Linux.closeQuietly(out);
            throw e.in(step);
        }
    }

    /** A running helper; {@link #await()} collects its output and status. */
    public record Started(int pid, int outputFd, Step step, String path) {
        public Completed await() throws SyscallException {
            try {
                byte[] output = Linux.readAll(outputFd, 64 * 1024);
                Linux.WaitStatus st = Linux.waitpid(pid, 0);
                return new Completed(st, new String(output, java.nio.charset.StandardCharsets.UTF_8).strip());
            } catch (SyscallException e) {
                throw e.in(step);
            } finally {
                Linux.closeQuietly(outputFd);
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
