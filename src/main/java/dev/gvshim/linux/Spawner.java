package dev.gvshim.linux;

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
    /** {@code GVSHIM_SETUID}: become {@code uid:gid} before exec (only root may). */
    public static final int SETUID = 0x4;

    private static final long STACK_SIZE = 64 * 1024;
    /** sizeof(struct gvshim_spawn), checked against the C side by SpawnerTest. */
    static final long SPAWN_SIZE = 64;

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
     * A started child, the read end of the pipe on which it reports a failure before exec,
     * and the native memory it reads until then (its stack, argv, envp): a CLONE_VM child
     * shares our memory, so that memory lives until {@link #awaitExec} or {@link #release}.
     */
    public record Child(int pid, int statusFd, String path, Arena memory) {
        /**
         * Waits until the child has exec'd (its close-on-exec status pipe reaches EOF) or has
         * reported why it could not; closes the pipe and frees the child's memory either way.
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
                release();
            }
        }

        /** For a child that will never exec (killed and reaped): closes the pipe, frees the memory. */
        public void release() {
            Linux.closeQuietly(statusFd);
            if (memory.scope().isAlive()) {
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

    /**
     * clone(2) with {@code gvshim_child} as the child's function. {@code cloneFlags} must not
     * include the exit signal (SIGCHLD is added). With CLONE_VM the child runs in our memory
     * (no page tables copied: the cheapest way to start a process from a large JVM) until it
     * execs, so the returned {@link Child} keeps that memory until {@link Child#awaitExec}.
     */
    public static Child clone(Request r, int cloneFlags, Step step) throws SyscallException {
        int[] status;
        try {
            status = Linux.pipe2(Linux.O_CLOEXEC);
        } catch (SyscallException e) {
            throw e.in(step);
        }
        Arena arena = Arena.ofShared();
        try {
            java.nio.ByteBuffer b = Bytes.buffer((int) SPAWN_SIZE); // struct gvshim_spawn
            b.putLong(Bytes.cString(arena, r.path()).address())
                    .putLong(Bytes.stringArray(arena, r.argv()).address())
                    .putLong(Bytes.stringArray(arena, r.env()).address())
                    .putInt(r.stdin()).putInt(r.stdout()).putInt(r.stderr())
                    .putInt(r.syncFd()).putInt(status[1]).putInt(r.flags())
                    .putInt((int) ProcessHandle.current().pid()).putInt(r.syncPeer()).putInt(r.uid()).putInt(r.gid());
            MemorySegment s = Bytes.toNative(arena, b);
            MemorySegment stack = arena.allocate(STACK_SIZE, 16);
            MemorySegment top = MemorySegment.ofAddress((stack.address() + STACK_SIZE) & ~15L);
            Trace.mark("clone: struct laid out");
            long mask = Linux.blockAsyncSignals();
            int pid;
            try {
                pid = Native.clone(Native.Gvshim.CHILD, top, cloneFlags | Linux.SIGCHLD, s, describe(cloneFlags));
            } finally {
                Linux.restoreSignals(mask);
            }
            Trace.mark("clone: returned");
            Linux.closeQuietly(status[1]);
            return new Child(pid, status[0], r.path(), arena);
        } catch (SyscallException e) {
            Linux.closeQuietly(status);
            arena.close();
            throw e.in(step);
        } catch (RuntimeException e) {
            Linux.closeQuietly(status);
            arena.close();
            throw e;
        }
    }

    static String describe(int flags) {
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
            Child c = clone(new Request(path, argv, env, -1, out[1], out[1], -1, -1, 0),
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
