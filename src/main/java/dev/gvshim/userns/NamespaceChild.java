package dev.gvshim.userns;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.Syscalls;
import java.util.List;

/**
 * A child in a new user namespace, from clone to exec: the one way gvshim creates a user
 * namespace (`gvshim run`'s runsc, the rootless runtime's holder, doctor's live probe).
 *
 * <pre>
 *  start    pipe2(sync); clone(gvshim_child, CLONE_NEWUSER|CLONE_VM|extra) ----> the C child blocks
 *           reading the sync pipe (native/gvshim_child.c); no Java ever runs in it
 *  map      its uid_map and gid_map as planned: newuidmap/newgidmap, checked, or root's (and
 *           single mode's) direct writes to /proc/PID/*
 *  release  write 'G' on the sync pipe ---------------------------------------> the child execs
 *           read its status pipe: EOF = exec'd; {step, errno} = why not
 *  abandon  close the sync pipe (EOF: it exits 126 without exec), SIGKILL, reap, then free the
 *           memory it ran in (CLONE_VM: only once it is dead)
 * </pre>
 *
 * The id maps must be written from outside the namespace, by the parent, before the child
 * does anything that needs them (user_namespaces(7)): hence the sync pipe. A child that is
 * never released never runs its program.
 *
 * <p>Usage: whatever goes wrong between {@link #start} and {@link #release}, {@link #abandon}
 * (or {@link #close}) discards the child; after the release the program runs and belongs to
 * the caller, who {@link #await}s it, {@link #abandon}s it, or {@link #detach}es it to outlive
 * this object (the rootless holder). {@code close} abandons a child that was neither awaited nor
 * detached, so that try-with-resources never leaks one:
 * <pre>{@code
 * try (NamespaceChild c = NamespaceChild.start(sys, program, Linux.CLONE_NEWNS)) {
 *     c.map(plan, caller.newuidmap(), caller.newgidmap());   // GvshimException (Mapper.failed): closed, i.e. abandoned
 *     c.release(Step.EXEC_RUNSC);
 *     return c.detach();
 * }
 * }</pre>
 * Not thread-safe: one owner at a time (a watchdog may {@link Syscalls#kill} its {@link #pid()}).
 */
public final class NamespaceChild implements AutoCloseable {
    /**
     * The program the child execs once released, and its stdio: descriptors dup2'd onto 0, 1 and
     * 2 (-1 keeps what the JVM has there), and gvshim_child's flags ({@link Spawner#PDEATHSIG},
     * {@link Spawner#SETPGID}).
     */
    public record Program(String path, List<String> argv, List<String> env, int stdin, int stdout, int stderr,
            int flags) {
        public Program {
            argv = List.copyOf(argv);
            env = List.copyOf(env);
        }
    }

    private enum State { WAITING, RUNNING, DONE }

    private final Syscalls sys;
    private final Spawner.Child child;
    private int release; // our end of the sync pipe: one byte lets the child exec, EOF makes it exit
    private State state = State.WAITING;

    private NamespaceChild(Syscalls sys, Spawner.Child child, int release) {
        this.sys = sys;
        this.child = child;
        this.release = release;
    }

    /**
     * Clones the child into a new user namespace, where it waits to be released.
     *
     * @param extraCloneFlags more namespaces for the child (CLONE_NEWNS), besides CLONE_NEWUSER and CLONE_VM
     * @throws SyscallException the sync pipe ({@link Step#RELEASE}) or the clone ({@link Step#CREATE_USERNS})
     *                          failed; nothing is left behind
     */
    public static NamespaceChild start(Syscalls sys, Program p, int extraCloneFlags) throws SyscallException {
        int[] sync;
        try {
            sync = sys.pipe2(Linux.O_CLOEXEC);
        } catch (SyscallException e) {
            throw e.in(Step.RELEASE);
        }
        Spawner.Child c = null;
        for (int tries = 0; c == null; tries++) {
            try {
                c = sys.clone(new Spawner.Request(p.path(), p.argv(), p.env(), p.stdin(), p.stdout(), p.stderr(), sync[0],
                        sync[1], p.flags()), Linux.CLONE_NEWUSER | Linux.CLONE_VM | extraCloneFlags, Step.CREATE_USERNS);
            } catch (SyscallException e) {
                if (e.errno() != Errno.ENOSPC || tries >= COUNT_GRACE_TRIES || !pause()) {
                    sys.closeQuietly(sync);
                    throw e.in(Step.CREATE_USERNS);
                }
            }
        }
        sys.closeQuietly(sync[0]); // the child's end: it holds its own copy
        return new NamespaceChild(sys, c, sync[1]);
    }

    /**
     * ENOSPC from clone(CLONE_NEWUSER) is tried again for up to 40 × 5 ms: the namespaces of
     * processes that just exited (the last run's, a probe's) are returned to user.max_user_namespaces'
     * count by a kernel work item (put_user_ns() schedules free_user_ns()), and a gvshim server
     * serves the next call within milliseconds of the last. A limit that is really reached still
     * fails, 200 ms later; run's probe and doctor's then measure the same count.
     */
    static final int COUNT_GRACE_TRIES = 40;

    private static boolean pause() {
        try {
            Thread.sleep(5);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public int pid() {
        return child.pid();
    }

    /**
     * Writes the child's id maps as {@code plan} says: through newuidmap/newgidmap (run at once,
     * exit status and message checked) or directly. On failure the child is still waiting:
     * {@link #abandon} it (a fallback plan needs a new child: a map is written once).
     */
    public void map(MappingPlan plan, Helper newuidmap, Helper newgidmap) throws SyscallException, GvshimException {
        if (state != State.WAITING) {
            throw new IllegalStateException("map after release");
        }
        new Mapper(sys).map(plan, child.pid(), newuidmap, newgidmap);
    }

    /**
     * Lets the child exec its program and waits until it has: the sync pipe gets one byte and is
     * closed, then the status pipe says exec'd (EOF) or why not. The memory the child ran in is
     * freed either way.
     *
     * @param execStep the step a failed exec is reported as ({@link Step#EXEC_RUNSC}, ...)
     * @throws SyscallException writing the byte ({@link Step#RELEASE}) or the exec ({@code execStep}) failed;
     *                          the child is then dead or dying: {@link #abandon} reaps it
     */
    public void release(Step execStep) throws SyscallException {
        if (state != State.WAITING) {
            throw new IllegalStateException("released twice");
        }
        try {
            sys.write(release, new byte[] {'G'}, "sync pipe");
        } catch (SyscallException e) {
            throw e.in(Step.RELEASE);
        } finally {
            sys.closeQuietly(release);
            release = -1;
        }
        state = State.RUNNING;
        child.awaitExec(execStep);
    }

    /** Waits for the released program to end (wait(2)) and reaps it. */
    public Linux.WaitStatus await() throws SyscallException {
        if (state != State.RUNNING) {
            throw new IllegalStateException("await of a child that is " + state);
        }
        Linux.WaitStatus st = sys.waitpid(child.pid(), 0);
        state = State.DONE;
        return st;
    }

    /**
     * Hands the running program over to the caller (it outlives this object, e.g. the rootless
     * holder, or is reaped by a program this process execs): {@link #close} no longer touches it.
     */
    public int detach() {
        if (state != State.RUNNING) {
            throw new IllegalStateException("detach of a child that is " + state);
        }
        state = State.DONE;
        return child.pid();
    }

    /**
     * Discards the child in any state: never released, it exits without exec (EOF on the sync
     * pipe) or is killed; released, its program is killed. Then it is reaped, and only then is
     * the memory it ran in freed. Idempotent; never throws (the child may have been reaped).
     */
    public void abandon() {
        sys.closeQuietly(release);
        release = -1;
        if (state != State.DONE) {
            state = State.DONE;
            try {
                sys.kill(child.pid(), Linux.SIGKILL);
            } catch (SyscallException ignored) {
                // already dead: reaped below
            }
            try {
                sys.waitpid(child.pid(), 0);
            } catch (SyscallException ignored) {
                // reaped already
            }
        }
        child.release();
    }

    /** {@link #abandon} unless the program was awaited or detached. */
    @Override
    public void close() {
        abandon();
    }
}
