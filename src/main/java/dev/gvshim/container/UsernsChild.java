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
import dev.gvshim.linux.Syscalls;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.MappingPlan;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.NamespaceChild;
import dev.gvshim.userns.Planner;
import java.util.List;
import java.util.function.Function;

/**
 * `gvshim run`'s namespace child ({@link NamespaceChild}, in a new user and mount namespace),
 * which execs runsc once released. What is particular to run: with --userns auto, a full
 * mapping that newuidmap refuses at run time falls back to single once (a new child: the
 * refused one may be half mapped), and a refused mount namespace is told apart from a refused
 * user namespace, as doctor's live probe does.
 */
final class UsernsChild {
    private final NamespaceChild child;
    private final MappingPlan plan;

    private UsernsChild(NamespaceChild child, MappingPlan plan) {
        this.child = child;
        this.plan = plan;
    }

    /**
     * Clones the child running {@code argv.apply(plan)} with stdio {@code fds}' child ends, and
     * maps it; the plan may become single ({@link #plan()}). On any failure nothing is left.
     */
    static UsernsChild start(Syscalls sys, Call call, RunRequest req, Caller host, Explain explain, MappingPlan plan,
            Function<MappingPlan, List<String>> argv, RunStdio fds) throws GvshimException, SyscallException {
        for (;;) {
            NamespaceChild.Program program = program(argv.apply(plan), env(call), fds);
            NamespaceChild c = null;
            try {
                // CLONE_NEWNS: gvshim-nsexec's nodev copies need a mount namespace of their own, and
                // container profiles that allow runsc's clone flags deny unshare (docker/seccomp-gvshim.json)
                c = NamespaceChild.start(sys, program, Linux.CLONE_NEWNS);
                call.trace().mark("cloned");
                c.map(plan, host.newuidmap(), host.newgidmap());
                call.trace().mark("mapped");
                UsernsChild started = new UsernsChild(c, plan);
                c = null;
                return started;
            } catch (GvshimException m) {
                Failure f = explain.mapping(m.failure(), host);
                if (req.userns() != Mode.AUTO) {
                    throw new GvshimException(f);
                }
                // auto: full was possible on paper, not here; say so once and use single
                call.err().println("gvshim: warning: userns mode full failed, falling back to single: "
                        + f.oneLine().substring("gvshim: ".length()));
                plan = Planner.fallback(host, "full failed: " + f.what()
                        + (f.evidence() == null ? "" : " [" + f.evidence() + "]"), f.fix());
            } catch (SyscallException e) {
                Failure mountNs = mountNamespaceDenied(sys, e, program, explain);
                if (mountNs != null) {
                    throw new GvshimException(mountNs);
                }
                throw e;
            } finally {
                if (c != null) {
                    c.abandon();
                }
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

    /** Lets it exec runsc and waits until it has (or says why it could not). */
    void release() throws SyscallException {
        child.release(Step.EXEC_RUNSC);
    }

    /** runsc now belongs to the program this call handed over to (the waiter), which reaps it. */
    void handedOver() {
        child.detach();
    }

    /** Kills and reaps it (runsc, or the child still waiting), and frees its memory: nothing of it is left. */
    void kill() {
        child.abandon();
    }

    private static NamespaceChild.Program program(List<String> argv, List<String> env, RunStdio fds) {
        return new NamespaceChild.Program(argv.getFirst(), argv, env, fds.childIn, fds.childOut, fds.childErr,
                Spawner.PDEATHSIG | Spawner.SETPGID);
    }

    /**
     * clone(CLONE_NEWUSER|CLONE_NEWNS) was refused: if CLONE_NEWUSER alone is not (a second clone,
     * discarded at once), the mount namespace is what a seccomp filter or security module denies
     * (a profile denying every namespace but the user one), and the failure is the one doctor's
     * live probe names at the same step (unshare-mnt, after its own clone(CLONE_NEWUSER) worked).
     * Null when the user namespace itself is refused: {@link Explain#syscall} says why.
     */
    private static Failure mountNamespaceDenied(Syscalls sys, SyscallException e, NamespaceChild.Program program,
            Explain explain) {
        if (e.step() != Step.CREATE_USERNS || (e.errno() != Errno.EPERM && e.errno() != Errno.EACCES)) {
            return null;
        }
        NamespaceChild.Program quiet = new NamespaceChild.Program(program.path(), program.argv(), List.of(),
                program.stdin(), program.stdout(), program.stderr(), program.flags());
        try {
            NamespaceChild.start(sys, quiet, 0).abandon(); // never released: it never execs
        } catch (SyscallException again) {
            return null;
        }
        return explain.probeStep("unshare-mnt", e.errno());
    }

    /** runsc's environment (gvshim-nsexec's, which passes it on). */
    static List<String> env(Call call) {
        return List.of("PATH=" + pathEnv(call));
    }

    private static String pathEnv(Call call) {
        String p = call.env().get("PATH");
        return p == null || p.isEmpty() ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : p;
    }
}
