package dev.gvshim.container;

import dev.gvshim.call.Call;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.userns.Mapper;
import dev.gvshim.userns.MappingPlan;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.Planner;
import java.util.List;
import java.util.function.Function;

/**
 * `gvshim run`'s namespace child: cloned into a new user (and mount) namespace, where it blocks
 * on the sync pipe until its id maps are written and it is released ('G'), then execs runsc.
 * With --userns auto, a full mapping that newuidmap refuses at run time falls back to single
 * once (a new child: the refused one may be half mapped).
 */
final class UsernsChild {
    private final Spawner.Child child;
    private final int[] sync;
    private final MappingPlan plan;

    private UsernsChild(Spawner.Child child, int[] sync, MappingPlan plan) {
        this.child = child;
        this.sync = sync;
        this.plan = plan;
    }

    /**
     * Clones the child running {@code argv.apply(plan)} with stdio {@code fds}' child ends, and
     * maps it; the plan may become single ({@link #plan()}). On any failure nothing is left.
     */
    static UsernsChild start(Call call, RunRequest req, Caller host, Explain explain, MappingPlan plan,
            Function<MappingPlan, List<String>> argv, RunStdio fds) throws GvshimException, SyscallException {
        for (;;) {
            List<String> a = argv.apply(plan);
            int[] sync = pipe();
            Spawner.Child c = null;
            try {
                c = Spawner.clone(new Spawner.Request(a.getFirst(), a, List.of("PATH=" + pathEnv(call)),
                        fds.childIn, fds.childOut, fds.childErr, sync[0], sync[1], Spawner.PDEATHSIG | Spawner.SETPGID),
                        // CLONE_NEWNS: gvshim-nsexec's nodev copies need a mount namespace of their own, and
                        // container profiles that allow runsc's clone flags deny unshare (docker/seccomp-gvshim.json)
                        Linux.CLONE_NEWUSER | Linux.CLONE_NEWNS | Linux.CLONE_VM, Step.CREATE_USERNS);
                call.trace().mark("cloned");
                Linux.closeQuietly(sync[0]);
                sync[0] = -1;
                Mapper.apply(plan, c.pid(), host.newuidmap(), host.newgidmap());
                call.trace().mark("mapped");
                return new UsernsChild(c, sync, plan);
            } catch (GvshimException m) {
                Failure f = explain.mapping(m.failure(), host);
                abandon(c, sync);
                if (req.userns() != Mode.AUTO) {
                    throw new GvshimException(f);
                }
                // auto: full was possible on paper, not here; say so once and use single
                call.err().println("gvshim: warning: userns mode full failed, falling back to single: "
                        + f.oneLine().substring("gvshim: ".length()));
                plan = Planner.fallback(host, "full failed: " + f.what()
                        + (f.evidence() == null ? "" : " [" + f.evidence() + "]"), f.fix());
            } catch (SyscallException e) {
                abandon(c, sync);
                Failure mountNs = mountNamespaceDenied(e, a, fds, explain);
                if (mountNs != null) {
                    throw new GvshimException(mountNs);
                }
                throw e;
            }
        }
    }

    int pid() {
        return child.pid();
    }

    /** The mapping it got (single after a fallback). */
    MappingPlan plan() {
        return plan;
    }

    /** Lets it exec runsc ('G' on the sync pipe), and closes our end. */
    void release() throws SyscallException {
        try {
            Linux.write(sync[1], new byte[] {'G'}, "sync pipe");
        } catch (SyscallException e) {
            throw e.in(Step.RELEASE);
        } finally {
            closeSync();
        }
    }

    void closeSync() {
        Linux.closeQuietly(sync[1]);
        sync[1] = -1;
    }

    /** Waits until it has exec'd runsc (or says why it could not). */
    void awaitExec() throws SyscallException {
        child.awaitExec(Step.EXEC_RUNSC);
    }

    /** Kills and reaps it, and frees its memory: nothing of it is left. */
    void kill() {
        abandon(child, sync);
    }

    private static int[] pipe() throws SyscallException {
        try {
            return Linux.pipe2(Linux.O_CLOEXEC);
        } catch (SyscallException e) {
            throw e.in(Step.RELEASE);
        }
    }

    /** Discards a namespace child that was never released (it never execs: EOF on its sync pipe, or SIGKILL). */
    private static void abandon(Spawner.Child c, int[] sync) {
        Linux.closeQuietly(sync);
        if (c != null) {
            try {
                Linux.kill(c.pid(), Linux.SIGKILL);
                Linux.waitpid(c.pid(), 0);
            } catch (SyscallException ignored) {
                // already reaped
            }
            c.release(); // only now: a CLONE_VM child ran in this memory
        }
    }

    /**
     * clone(CLONE_NEWUSER|CLONE_NEWNS) was refused: if CLONE_NEWUSER alone is not (a second clone,
     * discarded at once), the mount namespace is what a seccomp filter or security module denies
     * (a profile denying every namespace but the user one), and the failure is the one doctor's
     * live probe names at the same step (unshare-mnt, after its own clone(CLONE_NEWUSER) worked).
     * Null when the user namespace itself is refused: {@link Explain#syscall} says why.
     */
    private static Failure mountNamespaceDenied(SyscallException e, List<String> argv, RunStdio fds, Explain explain) {
        if (e.step() != Step.CREATE_USERNS || (e.errno() != Errno.EPERM && e.errno() != Errno.EACCES)) {
            return null;
        }
        int[] sync = null;
        Spawner.Child c = null;
        try {
            sync = pipe();
            c = Spawner.clone(new Spawner.Request(argv.getFirst(), argv, List.of(), fds.childIn, fds.childOut, fds.childErr,
                    sync[0], sync[1], Spawner.PDEATHSIG | Spawner.SETPGID), Linux.CLONE_NEWUSER | Linux.CLONE_VM,
                    Step.CREATE_USERNS);
        } catch (SyscallException again) {
            return null;
        } finally {
            if (sync != null) {
                abandon(c, sync); // never released: it never execs
            }
        }
        return explain.probeStep("unshare-mnt", e.errno());
    }

    private static String pathEnv(Call call) {
        String p = call.env().get("PATH");
        return p == null || p.isEmpty() ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : p;
    }
}
