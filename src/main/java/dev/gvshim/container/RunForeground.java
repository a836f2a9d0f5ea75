package dev.gvshim.container;

import dev.gvshim.call.Call;
import dev.gvshim.call.Handover;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.diagnose.SandboxNetwork;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.runsc.Runsc;
import dev.gvshim.runsc.RunscChoices;
import dev.gvshim.runsc.RunscCommand;
import dev.gvshim.runsc.RunscConfig;
import dev.gvshim.runsc.RunscInfo;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.IdMap;
import dev.gvshim.userns.MappingPlan;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.Planner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * `gvshim run`: starts one sandbox and hands the call over to gvshim-waiter:
 *
 * <pre>
 *  gvshim (pid P)                                C child (new user namespace)
 *  plan, write config.json
 *  clone(gvshim_child, CLONE_NEWUSER) ------->   blocks on the sync pipe
 *  newuidmap/newgidmap P' (or /proc writes)
 *  write "G" to the sync pipe -------------->    execve gvshim-nsexec, runsc run
 *  read status pipe: EOF = exec'd
 *  hand over: gvshim-waiter (one-shot: execve, still pid P): relays stdio, forwards signals, waits, cleans up
 * </pre>
 *
 * Everything before the release is on the start-up critical path; everything after it
 * runs while runsc boots the sandbox.
 */
public final class RunForeground {
    private final Call call;
    private final RunRequest req;
    private java.util.function.Consumer<Booted> booted;

    /**
     * A sandbox booted for a warm pool (issue 18) and kept by this process instead of handed to a
     * waiter: runsc run is this process's child (the namespace child exec'd it, PR_SET_PDEATHSIG:
     * it dies with the thread that cloned it, and runsc's sandbox and gofer with it, runsc's
     * Attached), and the descriptors of the waiter's ends are the receiver's to close.
     *
     * @param started the `started` FIFO (readable once the poststart hook ran: the init runs)
     * @param stdin   the write end of the init's stdin
     * @param stdout  the read end of the init's stdout
     * @param stderr  the read end of runsc's (and the init's) stderr
     */
    public record Booted(RunDir run, Path runsc, int runscPid, String mode, int started, int stdin, int stdout, int stderr) {
    }

    /**
     * Boots the sandbox of {@code req} (whose command waits: the pool's init) for a warm pool and
     * gives it to {@code receiver} instead of handing the call over; throws why it cannot start,
     * with nothing left.
     */
    public void boot(java.util.function.Consumer<Booted> receiver) throws GvshimException {
        this.booted = receiver;
        run();
    }

    /** {@code req}'s paths are absolute (the CLI resolves them against the caller's directory). */
    public RunForeground(Call call, RunRequest req) {
        this.call = call;
        this.req = req;
    }

    /**
     * Starts the sandbox and hands the call over ({@link Call#handover()}): returns only when the
     * waiter runs elsewhere (never, for a one-shot exec), or throws why the sandbox cannot start.
     */
    public void run() throws GvshimException {
        RunSpecTask spec = RunSpecTask.start(call, req);
        try {
            launch(spec);
        } finally {
            spec.cancel();
        }
    }

    private void launch(RunSpecTask specTask) throws GvshimException {
        if (req.tty() == RunRequest.Tty.ALWAYS && !Linux.isatty(call.stdio().inFd())) {
            // the command would read a terminal nobody types into: an input EOF cannot reach it through a
            // pty, so a shell would wait forever (docker run -it refuses the same way)
            throw new GvshimException(Failure.of("TERMINAL_STDIN", "cannot give the command a terminal (-t always)", null,
                    "stdin is not a terminal (the input device is not a TTY), so the command's input could never end",
                    "run it from a terminal, or use -t auto (a terminal only when stdin and stdout are one) or -t never"));
        }
        Path slash = Path.of("/");
        Caller host = readHost(slash);
        call.trace().mark("host facts read");
        Explain explain = new Explain(() -> Facts.read(slash, call.env(), host, req.runsc()));
        Path runsc = findRunsc();
        call.trace().mark("runsc found");
        MappingPlan plan = plan(host);
        call.trace().mark("planned " + plan.mode().label());

        int uid = host.status().euid();
        Path stateDir;
        try {
            // found (or made) once per call: the scan of /tmp is not repeated
            stateDir = req.root() != null ? RootChecks.prepare(req.root(), uid, true)
                    : StateDir.prepareDefault(call.env(), uid, IdMap.outer(host.ownUidMap(), uid));
        } catch (GvshimException e) {
            throw new GvshimException(RootChecks.shown(e.failure(), explain::unwritableStateDirFix));
        }
        call.trace().mark("state dir ready");
        RunDir run;
        try {
            run = RunDir.create(stateDir, call.handover().taker());
            if (req.debug()) {
                run.keep();
            }
        } catch (IOException e) {
            throw new GvshimException(Failure.of("STATE_DIR_UNSAFE", "cannot create a run directory in " + stateDir, null,
                    IoError.withFile(e), "check free space and permissions of " + stateDir));
        }
        call.trace().mark("run dir created");
        // runsc's version and flags (cached by the binary's identity; ~8 ms cached, ~70 ms not, in a cold JVM):
        // the flags whose defaults changed between gVisor releases get gvshim's values, and the spec's root is
        // writable only behind the overlay. On a thread of its own, while the namespaces are made.
        CompletableFuture<RunscChoices.Chosen> chosen = RunscChoices.forRunAsync(() -> RunscInfo.of(runsc, stateDir),
                req.bundle() == null, req.readOnly(), () -> call.trace().mark("runsc probed"));
        Cgroups.Plan limits;
        try {
            // refused or made before the spec's thread gets its inputs: it writes into the run directory
            limits = limits(run, call.handover(), uid);
        } catch (GvshimException e) {
            if (!req.debug()) {
                run.delete();
            }
            throw e;
        }
        specTask.inputs(new RunSpecTask.Inputs(run, stateDir, uid, runsc, chosen));
        RunStdio fds = new RunStdio();
        UsernsChild child = null;
        boolean handedOver = false;
        try {
            if (specTask.isDone()) {
                specTask.join(); // done already: the bundle is missing or malformed, so fail before cloning
            }
            boolean terminal = switch (req.tty()) {
                case ALWAYS -> true;
                case NEVER -> false;
                case AUTO -> Linux.isatty(call.stdio().inFd()) && Linux.isatty(call.stdio().outFd());
            };
            specTask.terminal(terminal);
            RunStdio.prepareRunDir(run);
            fds.open(run, terminal);
            call.trace().mark("stdio ready");
            if (booted == null) {
                fds.inheritWaiterEnds(); // a pool's are kept by this process: close-on-exec, never in another's child
            }
            // The namespace child is cloned and mapped first: it waits on the sync pipe, and
            // runsc reads config.json only after its execve, so the id helpers run while the
            // bundle is still being parsed and the spec written.
            child = UsernsChild.start(dev.gvshim.linux.Syscalls.system(), call, req, host, explain, plan, p -> runscArgv(runsc, run, p, terminal, chosen), fds);
            plan = child.plan();
            Handover handover = call.handover();
            RunSpecTask.Out spec = specTask.join();
            Files.write(run.config(), spec.json());
            call.trace().mark("config.json written");
            // Housekeeping before the release, while runsc is not yet competing for the CPU.
            RunDir.collectGarbage(stateDir);
            Waiter.writeMeta(run, req, plan, runsc);
            if (req.verbose()) {
                call.err().println("gvshim: " + plan.describe() + (plan.notFull() == null ? "" : "; not full: "
                        + plan.notFull()) + (plan.fullFix() == null ? "" : "; for full: " + plan.fullFix()));
                call.err().println("gvshim: run directory " + run.dir());
                call.err().println("gvshim: runsc " + runsc + (req.runsc() != null ? " (--runsc)" : " (the first in $PATH,"
                        + " then /usr/local/bin, /usr/bin, /usr/sbin, /bin)"));
                spec.notes().forEach(n -> call.err().println("gvshim: " + n));
                if (limits != null) {
                    call.err().println("gvshim: " + limits.note());
                }
            }
            int runscPid;
            if (booted != null) {
                child.release();
                child.handedOver();
                int pid = child.pid();
                child = null;
                booted.accept(new Booted(run, runsc, pid, plan.mode().label(), fds.started, fds.waiterIn, fds.waiterOut,
                        fds.waiterErr));
                fds.started = fds.waiterIn = fds.waiterOut = fds.waiterErr = -1; // the receiver's now
                fds.closeChildEnds();
                handedOver = true;
                return;
            }
            if (handover.forksIntoNamespaces()) {
                if (limits != null) {
                    // runsc is forked by the client: it is born in the cgroup (the waiter moves back, RUN_DIR/cgroups)
                    Cgroups.join(limits, handover.taker());
                }
                runscPid = forkInto(handover, child, runscArgv(runsc, run, plan, terminal, chosen), fds);
                child = null; // its namespaces live on in runsc, the taker's child
            } else {
                if (limits != null) {
                    // still waiting on the sync pipe: runsc and every process it starts are born in the cgroup
                    Cgroups.join(limits, child.pid());
                }
                child.release();
                runscPid = child.pid();
            }
            call.trace().mark("runsc exec'd");
            fds.closeChildEnds();
            Handover.Exec waiter = Waiter.exec(call, req, run, runsc, runscPid, fds);
            // runsc is booting the sandbox now: hand over at once, leaving the cores to it.
            call.trace().mark("exec waiter");
            call.trace().dump();
            try {
                handover.exec(waiter);
                if (child != null) {
                    child.handedOver();
                }
            } catch (SyscallException e) {
                throw e.in(dev.gvshim.linux.Step.EXEC_WAITER);
            }
            handedOver = true; // the waiter owns runsc and the run directory now
        } catch (SyscallException e) {
            throw new GvshimException(explain.syscall(e));
        } catch (IOException e) {
            throw new GvshimException(Failure.of("RUN_DIR_WRITE", "cannot write the run directory " + run.dir(), null,
                    IoError.withFile(e), "check free space in " + stateDir));
        } finally {
            if (child != null && !handedOver) {
                child.kill();
            }
            fds.closeAll();
            if (!req.debug() && !handedOver) {
                run.delete();
            }
            if (limits != null && !handedOver) {
                Cgroups.remove(limits);
            }
        }
    }

    /**
     * --memory and --cpus: the cgroup the sandbox is born in, made now (refused when there is
     * none to make, LIMIT_NO_CGROUP), listed in RUN_DIR/cgroups for the waiter to remove; null
     * without those options.
     */
    private Cgroups.Plan limits(RunDir run, Handover handover, int uid) throws GvshimException {
        if (!req.limits().needsCgroup()) {
            return null;
        }
        String self = handover.forksIntoNamespaces() ? "/proc/" + handover.taker() + "/cgroup" : "/proc/self/cgroup";
        Cgroups.Host h = Cgroups.Host.system();
        String procCgroup = h.read(self);
        String mountinfo = h.read("/proc/self/mountinfo");
        Cgroups.Plan plan = Cgroups.plan(req.limits(), run.id(), procCgroup == null ? "" : procCgroup,
                mountinfo == null ? "" : mountinfo, uid, h);
        try {
            Files.writeString(run.dir().resolve("cgroups"), plan.waiterFile());
        } catch (IOException e) {
            throw new GvshimException(Failure.of("RUN_DIR_WRITE", "cannot write the run directory " + run.dir(), null,
                    IoError.withFile(e), "check free space in " + run.dir().getParent()));
        }
        Cgroups.prepare(plan);
        return plan;
    }

    /**
     * The server's variant (notes/server-design.md 4.1): the namespace child made and mapped the
     * user and mount namespaces but never execs; runsc is forked into them by the taker (the
     * client, which then becomes the waiter), so that runsc is the caller's descendant, in the
     * caller's cgroup and limits, and a server that dies leaves running sandboxes alone. The
     * nsfs descriptors keep the namespaces alive once the child is gone (namespaces(7)).
     */
    private int forkInto(Handover handover, UsernsChild child, java.util.List<String> argv, RunStdio fds)
            throws SyscallException {
        int user = -1;
        int mnt = -1;
        try {
            user = Linux.open("/proc/" + child.pid() + "/ns/user", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
            mnt = Linux.open("/proc/" + child.pid() + "/ns/mnt", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
            child.kill();
            return handover.spawnInto(new Handover.Spawn(argv.getFirst(), argv, UsernsChild.env(call), user, mnt,
                    new int[] {fds.childIn, fds.childOut, fds.childErr}));
        } finally {
            Linux.closeQuietly(user, mnt);
        }
    }

    private Caller readHost(Path slash) throws GvshimException {
        try {
            return Caller.read(slash, call.env().get("PATH"));
        } catch (IOException | RuntimeException e) {
            throw new GvshimException(Failure.of("PROC_UNREADABLE", "cannot read this process's credentials",
                    "/proc/self/status: " + (e instanceof IOException io ? IoError.reason(io) : "unreadable"),
                    "/proc is not mounted or not readable",
                    "mount proc at /proc"));
        }
    }

    private Path findRunsc() throws GvshimException {
        try {
            Path p = Runsc.locateFrom(call.cwd(), req.runsc(), call.env().get("PATH"));
            if (p != null) {
                return p;
            }
        } catch (GvshimException e) {
            // below, with doctor's words
        }
        throw new GvshimException(Explain.runscMissing(req.runsc(), call.env().get("PATH"), Path.of("/")));
    }

    private MappingPlan plan(Caller host) throws GvshimException {
        MappingPlan plan;
        try {
            plan = Planner.plan(req.userns(), host);
        } catch (GvshimException e) {
            Failure f = e.failure();
            throw new GvshimException(Failure.of(f.id(), "cannot use --userns full", null,
                    f.why(), (f.fix() == null ? "" : f.fix() + "; or ") + "use --userns auto to fall back to single"));
        }
        if (req.network() == RunscConfig.Network.SANDBOX) { // refused in one line, not half-way through the start
            Failure f = SandboxNetwork.problem(Path.of("/"), call.env().get("PATH"), plan, plan.notFull(),
                    req.userns() == Mode.SINGLE ? "drop --userns single" : plan.fullFix());
            if (f != null) {
                throw new GvshimException(f);
            }
        }
        return plan;
    }

    private java.util.List<String> runscArgv(Path runsc, RunDir run, MappingPlan plan, boolean terminal,
            CompletableFuture<RunscChoices.Chosen> probed) {
        RunscChoices.Chosen chosen = probed.join();
        RunscConfig cfg = new RunscConfig(run.runscRoot(), run.runscLog(), run.debugLogDir(), req.network(),
                req.platform(), plan.runscRootless(), req.debug(), true, java.util.Map.of(), chosen.flags());
        Path slirp = req.network() == RunscConfig.Network.SANDBOX && !plan.runscRootless()
                ? SandboxNetwork.slirp4netns(Path.of("/"), call.env().get("PATH")) : null;
        return RunscCommand.forRun(call.libexec("gvshim-nsexec"), runsc, cfg, run.nodevList(), run.runscLog(), run.dir(),
                terminal ? run.consoleSocket() : null, run.id(), slirp, run.netLog());
    }
}
