package dev.gvshim.launch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.container.RunDir;
import dev.gvshim.container.StateDir;
import dev.gvshim.container.UnsafeStateDirException;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.diagnose.Failure;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.Trace;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.oci.InvalidSpecException;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.oci.Spec;
import dev.gvshim.runsc.Runsc;
import dev.gvshim.runsc.RunscConfig;
import dev.gvshim.runsc.RunscRelease;
import dev.gvshim.runsc.SpecPolicy;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.IdMap;
import dev.gvshim.userns.Mapper;
import dev.gvshim.userns.MappingFailed;
import dev.gvshim.userns.MappingPlan;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.Planner;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Starts one sandbox and turns this process into gvshim-waiter:
 *
 * <pre>
 *  JVM (pid P)                                   C child (new user namespace)
 *  plan, write config.json
 *  clone(gvshim_child, CLONE_NEWUSER) ------->   blocks on the sync pipe
 *  newuidmap/newgidmap P' (or /proc writes)
 *  write "G" to the sync pipe -------------->    dup2 stdio pipes, execve runsc run
 *  read status pipe: EOF = exec'd
 *  execve gvshim-waiter (still pid P): relays stdio, forwards signals, waits, cleans up
 * </pre>
 *
 * Everything before the release is on the start-up critical path; everything after it
 * runs while runsc boots the sandbox.
 */
public final class Launcher {
    private final RunRequest req;
    private final Map<String, String> env;
    private final Path home;
    private final PrintStream err;
    private final boolean training;

    public Launcher(RunRequest req, Map<String, String> env, Path home, PrintStream err) {
        this(req, env, home, err, false);
    }

    /**
     * @param training for the AOT cache's training run: everything up to the hand-over, then
     *                 wait for the child (the training JVM must exit normally to write the cache)
     */
    public Launcher(RunRequest req, Map<String, String> env, Path home, PrintStream err, boolean training) {
        this.req = req;
        this.env = env;
        this.home = home;
        this.err = err;
        this.training = training;
    }

    /** The sandbox could not start; {@link #failure()} says why. */
    public static final class LaunchException extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Failure failure;

        public LaunchException(Failure failure) {
            super(failure.oneLine());
            this.failure = failure;
        }

        public Failure failure() {
            return failure;
        }
    }

    /** Starts the sandbox and execs gvshim-waiter: returns only by throwing (or when training). */
    public void launch() throws LaunchException {
        // The spec is built on its own thread, which first parses a bundle's config.json: the
        // first JSON parse pays for BigDecimal's static initialiser (JDK 25 computes 5^65536
        // there, 8-20 ms), and Jackson's own start-up is as long again. Meanwhile this thread
        // reads host facts, waits for FFM, clones and maps; it needs the JSON only at the release.
        CompletableFuture<SpecInputs> specInputs = new CompletableFuture<>();
        CompletableFuture<Boolean> specTerminal = new CompletableFuture<>();
        FutureTask<SpecOut> specTask = new FutureTask<>(() -> {
            Spec bundle = req.bundle() == null ? null : loadBundle(req.bundle());
            Trace.mark("bundle parsed");
            SpecInputs in = specInputs.get();
            Spec spec = buildSpec(in.run(), bundle, in.stateDir(), in.uid());
            SpecOut checked = checkSpec(spec, bundle != null, in);
            checked.spec().process().terminal(specTerminal.get());
            byte[] json = checked.spec().toJson();
            Trace.mark("spec serialised");
            return new SpecOut(checked.spec(), json, checked.notes());
        });
        Thread specThread = new Thread(specTask, "gvshim-spec");
        specThread.setDaemon(true);
        specThread.start();
        try {
            launch(specTask, specInputs, specTerminal);
        } finally {
            specTask.cancel(true); // a no-op once done; otherwise it is waiting for inputs that never come
        }
    }

    /** What the spec thread needs from this one, once the run directory exists. */
    private record SpecInputs(RunDir run, Path stateDir, int uid, Path runsc) {
    }

    /** The spec runsc reads, serialised, and what `-v` says about its fields. */
    private record SpecOut(Spec spec, byte[] json, List<String> notes) {
    }

    private void launch(FutureTask<SpecOut> specTask, CompletableFuture<SpecInputs> specInputs,
            CompletableFuture<Boolean> specTerminal) throws LaunchException {
        Path slash = Path.of("/");
        Caller host = readHost(slash);
        Trace.mark("host facts read");
        Explain explain = new Explain(() -> Facts.read(slash, env, host, req.runsc()));
        Path runsc = findRunsc();
        Trace.mark("runsc found");
        MappingPlan plan = plan(host);
        Trace.mark("planned " + plan.mode().label());

        int uid = host.status().euid();
        Path stateDir;
        try {
            // found (or made) once per call: the scan of /tmp is not repeated
            stateDir = req.root() != null ? StateDir.prepare(req.root().toAbsolutePath(), uid, true)
                    : StateDir.prepareDefault(env, uid, IdMap.outer(host.ownUidMap(), uid));
        } catch (UnsafeStateDirException e) {
            Path readOnly = e.readOnlyParent();
            throw new LaunchException(Failure.of("STATE_DIR_UNSAFE", e.what(), null, e.why(),
                    readOnly != null ? explain.unwritableStateDirFix(readOnly) : e.fix()));
        }
        Trace.mark("state dir ready");
        RunDir run;
        try {
            run = RunDir.create(stateDir);
        } catch (IOException e) {
            throw new LaunchException(Failure.of("STATE_DIR_UNSAFE", "cannot create a run directory in " + stateDir, null,
                    IoError.withFile(e), "check free space and permissions of " + stateDir));
        }

        Trace.mark("run dir created");
        specInputs.complete(new SpecInputs(run, stateDir, uid, runsc));
        Fds fds = new Fds();
        int child = -1;
        try {
            if (specTask.isDone()) {
                join(specTask); // done already: the bundle is missing or malformed, so fail before cloning
            }
            boolean terminal = switch (req.tty()) {
                case ALWAYS -> true;
                case NEVER -> false;
                case AUTO -> Linux.isatty(0) && Linux.isatty(1);
            };
            specTerminal.complete(terminal);
            prepareRunDir(run);
            prepareStdio(run, fds, terminal);
            Trace.mark("stdio ready");
            for (int fd : new int[] {fds.waiterIn, fds.waiterOut, fds.waiterErr, fds.started, fds.console}) {
                if (fd >= 0) {
                    Linux.inheritable(fd);
                }
            }
            // The namespace child is cloned and mapped first: it waits on the sync pipe, and
            // runsc reads config.json only after its execve, so the id helpers run while the
            // bundle is still being parsed and the spec written.
            Spawner.Child c;
            int[] sync;
            for (;;) {
                List<String> argv = runscArgv(runsc, run, plan, terminal);
                sync = pipe(Step.RELEASE);
                c = null;
                try {
                    c = Spawner.clone(new Spawner.Request(argv.getFirst(), argv, List.of("PATH=" + pathEnv()),
                            fds.childIn, fds.childOut, fds.childErr, sync[0], sync[1], Spawner.PDEATHSIG | Spawner.SETPGID),
                            // CLONE_NEWNS: gvshim-nsexec's nodev copies need a mount namespace of their own, and
                            // container profiles that allow runsc's clone flags deny unshare (docker/seccomp-gvshim.json)
                            Linux.CLONE_NEWUSER | Linux.CLONE_NEWNS | Linux.CLONE_VM, Step.CREATE_USERNS);
                    child = c.pid();
                    Trace.mark("cloned");
                    Linux.closeQuietly(sync[0]);
                    sync[0] = -1;
                    Mapper.apply(plan, child, host.newuidmap(), host.newgidmap());
                    Trace.mark("mapped");
                    break;
                } catch (MappingFailed m) {
                    Failure f = explain.mapping(m, m.helper().equals("newuidmap") ? host.newuidmap() : host.newgidmap(),
                            host.userName());
                    abandon(c, sync);
                    child = -1;
                    if (req.userns() != Mode.AUTO) {
                        throw new LaunchException(f);
                    }
                    // auto: full was possible on paper, not here; say so once and use single
                    err.println("gvshim: warning: userns mode full failed, falling back to single: "
                            + f.oneLine().substring("gvshim: ".length()));
                    plan = Planner.fallback(host, "full failed: " + f.what()
                            + (f.evidence() == null ? "" : " [" + f.evidence() + "]"), f.fix());
                } catch (SyscallException e) {
                    Linux.closeQuietly(sync);
                    Failure mountNs = mountNamespaceDenied(e, argv, fds, explain);
                    if (mountNs != null) {
                        throw new LaunchException(mountNs);
                    }
                    throw e;
                }
            }
            List<String> waiterArgv = waiterArgv(run, runsc, child, fds);
            try {
                SpecOut spec = join(specTask);
                Files.write(run.config(), spec.json());
                Trace.mark("config.json written");
                // Housekeeping before the release, while runsc is not yet competing for the CPU.
                RunDir.collectGarbage(stateDir);
                writeMeta(run, plan, runsc);
                if (req.verbose()) {
                    err.println("gvshim: " + plan.describe() + (plan.notFull() == null ? "" : "; not full: " + plan.notFull())
                            + (plan.fullFix() == null ? "" : "; for full: " + plan.fullFix()));
                    err.println("gvshim: run directory " + run.dir());
                    spec.notes().forEach(n -> err.println("gvshim: " + n));
                }
                try {
                    Linux.write(sync[1], new byte[] {'G'}, "sync pipe");
                } catch (SyscallException e) {
                    throw e.in(Step.RELEASE);
                }
            } finally {
                Linux.closeQuietly(sync[1]);
            }
            Trace.mark("released");
            List<String> envp = new ArrayList<>();
            env.forEach((k, v) -> envp.add(k + "=" + v));
            c.awaitExec(Step.EXEC_RUNSC);
            Trace.mark("runsc exec'd");
            fds.closeChildEnds();
            // runsc is booting the sandbox now: hand over at once, leaving the cores to it.
            Trace.mark("exec waiter");
            Trace.dump();
            if (training || Trace.waitInsteadOfHandover()) {
                Linux.waitpid(child, 0);
                child = -1;
                return;
            }
            execWaiter(waiterArgv, envp);
        } catch (SyscallException e) {
            throw new LaunchException(explain.syscall(e));
        } catch (IOException e) {
            throw new LaunchException(Failure.of("RUN_DIR_WRITE", "cannot write the run directory " + run.dir(), null,
                    IoError.withFile(e), "check free space in " + stateDir));
        } finally {
            // reached only when the hand-over did not happen
            if (child > 0) {
                try {
                    Linux.kill(child, Linux.SIGKILL);
                    Linux.waitpid(child, 0);
                } catch (SyscallException ignored) {
                    // already gone
                }
            }
            fds.closeAll();
            if (!req.debug()) {
                run.delete();
            }
        }
    }

    private Caller readHost(Path slash) throws LaunchException {
        try {
            return Caller.read(slash, env.get("PATH"));
        } catch (IOException | RuntimeException e) {
            throw new LaunchException(Failure.of("PROC_UNREADABLE", "cannot read this process's credentials",
                    "/proc/self/status: " + (e instanceof IOException io ? IoError.reason(io) : "unreadable"),
                    "/proc is not mounted or not readable",
                    "mount proc at /proc"));
        }
    }

    private static <T> T join(FutureTask<T> task) throws LaunchException {
        try {
            return task.get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case LaunchException le -> throw le;
                case RuntimeException re -> throw re;
                case Error err -> throw err;
                default -> throw new IllegalStateException(e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private Path findRunsc() throws LaunchException {
        try {
            Path p = Runsc.locate(req.runsc(), env.get("PATH"));
            if (p != null) {
                return p;
            }
        } catch (Runsc.RunscNotFoundException e) {
            // below, with doctor's words
        }
        throw new LaunchException(Explain.runscMissing(req.runsc(), env.get("PATH"), Path.of("/")));
    }

    private Spec loadBundle(Path dir) throws LaunchException {
        Path config = dir.resolve("config.json");
        if (!Files.isDirectory(dir)) {
            if (!Files.exists(dir) && !Files.notExists(dir)) { // neither can be told: a parent is not searchable
                throw new LaunchException(Explain.bundleUnreadable(config));
            }
            throw new LaunchException(Failure.of("BUNDLE_MISSING", "cannot use bundle " + dir, null,
                    Files.exists(dir) ? "it is not a directory" : "no such directory",
                    "pass a directory holding config.json and its root file system (gvshim spec writes a config.json)"));
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(config);
        } catch (NoSuchFileException e) {
            throw new LaunchException(Failure.of("BUNDLE_NO_CONFIG", "cannot use bundle " + dir, null,
                    "it has no config.json", "create one with `gvshim spec` in " + dir));
        } catch (AccessDeniedException e) {
            throw new LaunchException(Explain.bundleUnreadable(config));
        } catch (IOException e) {
            throw new LaunchException(Failure.of("BUNDLE_UNREADABLE", "cannot read " + config, null, IoError.reason(e, config),
                    null));
        }
        try {
            return Spec.parse(bytes);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new LaunchException(Failure.of("BUNDLE_MALFORMED", "cannot parse " + config, null,
                    "not valid JSON" + where + " (" + JsonTree.plainMessage(e) + ")", "fix the file or regenerate it with `gvshim spec`"));
        } catch (InvalidSpecException e) {
            throw new LaunchException(Failure.of("BUNDLE_INVALID", "cannot use " + config, null, e.getMessage(), null));
        }
    }

    private MappingPlan plan(Caller host) throws LaunchException {
        MappingPlan plan;
        try {
            plan = Planner.plan(req.userns(), host);
        } catch (Planner.Impossible e) {
            throw new LaunchException(Failure.of(e.id(), "cannot use --userns full", null,
                    e.why(), (e.fix() == null ? "" : e.fix() + "; or ") + "use --userns auto to fall back to single"));
        }
        if (plan.runscRootless() && req.network() == RunscConfig.Network.SANDBOX) {
            throw new LaunchException(Failure.of("NETWORK_SANDBOX_NEEDS_FULL", "cannot use --network sandbox", null,
                    "runsc --rootless (userns mode single" + (plan.notFull() == null ? "" : ": " + plan.notFull())
                            + ") has no sandbox network",
                    "use --network none or host" + (req.userns() == Mode.SINGLE ? ", or drop --userns single"
                            : plan.fullFix() == null ? "" : ", or make full mode possible: " + plan.fullFix())));
        }
        return plan;
    }

    private Spec buildSpec(RunDir run, Spec bundle, Path stateDir, int uid) throws LaunchException {
        long[] nofile = nofile();
        String hook = home.resolve("libexec/gvshim-hook").toString();
        RunSpec.Context ctx = new RunSpec.Context(env, Path.of(System.getProperty("user.dir")), stateDir, hook,
                List.of("gvshim-hook", "--started", run.startedFifo().toString()), nofile[0], nofile[1]);
        Trace.mark("nofile read");
        try {
            Spec spec = bundle == null ? RunSpec.generate(req, ctx) : RunSpec.fromBundle(bundle, req.bundle().toAbsolutePath(), req, ctx);
            Trace.mark("spec built");
            // both before runsc starts, where the path can still be named (runsc: a bare EOF)
            Failure rootfs = Explain.rootfsAccess(Path.of(spec.root().path()), uid);
            if (rootfs != null) {
                throw new LaunchException(rootfs);
            }
            String tmpfs = RunSpec.workdirInTmpfs(spec);
            if (tmpfs != null) {
                throw new LaunchException(Failure.of("CWD_MISSING", "cannot use the working directory " + spec.process().cwd(),
                        null, "it is below the tmpfs mounted at " + tmpfs + ", which is empty when the sandbox starts (runsc"
                                + " would look for it in the root file system, under the tmpfs)",
                        "use " + tmpfs + " itself, or create the directory from the command (mkdir -p " + spec.process().cwd()
                                + " && cd " + spec.process().cwd() + ")"));
            }
            Path cwd = RunSpec.workdirOnHost(spec);
            if (cwd != null) {
                // A generated spec's root is read-only: the working directory must exist (runsc's gofer
                // would otherwise create it on the host). A bundle's may be created if the caller could.
                Path existing = cwd.getParent();
                while (existing != null && !Files.isDirectory(existing)) {
                    existing = existing.getParent();
                }
                boolean mayCreate = bundle != null && existing != null && Files.isWritable(existing);
                Failure workdir = Explain.workdir(bundle == null ? "--cwd " + spec.process().cwd()
                        : "the working directory " + spec.process().cwd() + (req.cwd() != null ? " (--cwd)"
                                : " (process.cwd of " + req.bundle().resolve("config.json") + ")"), cwd, mayCreate);
                if (workdir != null) {
                    throw new LaunchException(workdir);
                }
            }
            return spec;
        } catch (InvalidSpecException e) {
            throw new LaunchException(Failure.of("BUNDLE_INVALID", "cannot use " + req.bundle().resolve("config.json"),
                    null, e.getMessage(), null));
        }
    }

    /**
     * The one rule for the spec's isolation fields ({@link SpecPolicy}), for gvshim's own spec as
     * for a bundle's: refused with the one line, or the spec runsc gets, its mount points made,
     * and what `-v` says (fields gVisor makes moot, fields runsc ignores).
     */
    private SpecOut checkSpec(Spec spec, boolean fromBundle, SpecInputs in) throws LaunchException {
        RunDir run = in.run();
        SpecPolicy.Result r;
        try {
            r = SpecPolicy.check(spec, SpecPolicy.Context.of(SpecPolicy.Mode.RUN, fromBundle
                    ? req.bundle().toAbsolutePath().resolve("config.json").toString() : "gvshim run's spec",
                    fromBundle ? req.bundle().toAbsolutePath() : null, false, null,
                    () -> RunscRelease.of(in.runsc(), in.stateDir()), run.mounts()));
        } catch (SpecPolicy.Refused e) {
            throw new LaunchException(e.failure());
        }
        Spec out = r.spec();
        if (r.ociSeccomp()) {
            // runsc's own rule lets a spec turn oci-seccomp on (not off) by annotation (runsc/config/flags.go
            // overrideAllowlist); runsc's argv is fixed before the bundle is parsed
            out.annotation("dev.gvisor.flag.oci-seccomp", "true");
        }
        try {
            if (!r.nodev().isEmpty() || r.emptyFile() != null) {
                Files.createDirectory(run.mounts());
            }
            if (r.emptyFile() != null) {
                Files.createFile(r.emptyFile(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r--r--r--")));
            }
            java.io.ByteArrayOutputStream list = new java.io.ByteArrayOutputStream();
            for (SpecPolicy.NodevBind b : r.nodev()) {
                if (b.directory()) {
                    Files.createDirectory(b.target());
                } else {
                    Files.createFile(b.target());
                }
                list.writeBytes(b.entry());
            }
            if (list.size() > 0) {
                Files.write(run.nodevList(), list.toByteArray());
            }
        } catch (IOException e) {
            throw new LaunchException(Failure.of("RUN_DIR_WRITE", "cannot write the run directory " + run.dir(), null,
                    IoError.withFile(e), "check free space in " + in.stateDir()));
        }
        List<String> notes = new ArrayList<>();
        if (!r.moot().isEmpty()) {
            notes.add("spec fields gVisor's design makes moot: " + String.join("; ", r.moot()));
        }
        r.ignored().forEach(w -> notes.add("warning: " + w));
        if (req.debug()) {
            r.rewrites().forEach(w -> notes.add("(debug) runsc gets " + w));
        }
        Trace.mark("spec checked");
        return new SpecOut(out, null, notes);
    }

    /** runsc's state and debug-log directories, and the FIFO of the poststart hook. */
    private void prepareRunDir(RunDir run) throws IOException, SyscallException {
        var dirMode = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
        Files.createDirectory(run.runscRoot(), dirMode);
        Files.createDirectory(run.debugLogDir(), dirMode);
        try {
            Linux.mkfifo(run.startedFifo().toString(), 0600);
        } catch (SyscallException e) {
            throw e.in(Step.STDIO);
        }
    }

    /** Descriptors of one run: the child's ends (dup2'd onto runsc's 0-2) and the waiter's. */
    private static final class Fds {
        int childIn = -1, childOut = -1, childErr = -1;
        int waiterIn = -1, waiterOut = -1, waiterErr = -1, started = -1, console = -1;

        void closeChildEnds() {
            // in terminal mode runsc's stdout and stderr are the same pipe
            Linux.closeQuietly(childIn, childOut, childErr == childOut ? -1 : childErr);
            childIn = childOut = childErr = -1;
        }

        void closeAll() {
            closeChildEnds();
            Linux.closeQuietly(waiterIn, waiterOut, waiterErr, started, console);
        }
    }

    /**
     * runsc never gets the caller's own descriptors: without --rootless it chowns its stdio
     * to the sandbox's nobody (a terminal included), and gVisor writes a regular file at
     * offset 0. Pipes (or a pty over the console socket) relayed by the waiter avoid both.
     */
    private void prepareStdio(RunDir run, Fds fds, boolean terminal) throws SyscallException {
        try {
            fds.started = Linux.open(run.startedFifo().toString(), Linux.O_RDONLY | Linux.O_NONBLOCK | Linux.O_CLOEXEC, 0);
            int[] errPipe = Linux.pipe2(Linux.O_CLOEXEC);
            fds.waiterErr = errPipe[0];
            fds.childErr = errPipe[1];
            if (terminal) {
                fds.console = Linux.listenUnix(run.consoleSocket().toString());
                fds.childIn = Linux.open("/dev/null", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
                fds.childOut = errPipe[1];
            } else {
                int[] in = Linux.pipe2(Linux.O_CLOEXEC);
                fds.childIn = in[0];
                fds.waiterIn = in[1];
                int[] out = Linux.pipe2(Linux.O_CLOEXEC);
                fds.waiterOut = out[0];
                fds.childOut = out[1];
            }
        } catch (SyscallException e) {
            throw e.in(Step.STDIO);
        }
    }

    /**
     * gvshim-nsexec, then runsc: nsexec mounts the nodev copies the spec names (the list is
     * written by the spec thread before the release; no list, nothing done) and on failure
     * writes runsc's kind of error line, which the waiter hands to `gvshim __explain`.
     */
    private List<String> runscArgv(Path runsc, RunDir run, MappingPlan plan, boolean terminal) {
        RunscConfig cfg = new RunscConfig(run.runscRoot(), run.runscLog(), run.debugLogDir(), req.network(),
                req.platform(), plan.runscRootless(), req.debug());
        List<String> argv = new ArrayList<>(List.of(home.resolve("libexec/gvshim-nsexec").toString(), "--own-mountns",
                "--nodev-file", run.nodevList().toString(), "--runsc-log", run.runscLog().toString(), "--argv0", "runsc",
                "--"));
        argv.add(runsc.toString());
        argv.addAll(cfg.toFlags());
        argv.add("run");
        argv.add("--bundle=" + run.dir());
        if (terminal) {
            argv.add("--console-socket=" + run.consoleSocket());
        }
        argv.add(run.id());
        return argv;
    }

    private static int[] pipe(Step step) throws SyscallException {
        try {
            return Linux.pipe2(Linux.O_CLOEXEC);
        } catch (SyscallException e) {
            throw e.in(step);
        }
    }

    /**
     * clone(CLONE_NEWUSER|CLONE_NEWNS) was refused: if CLONE_NEWUSER alone is not (a second clone,
     * discarded at once), the mount namespace is what a seccomp filter or security module denies
     * (a profile denying every namespace but the user one), and the failure is the one doctor's
     * live probe names at the same step (unshare-mnt, after its own clone(CLONE_NEWUSER) worked).
     * Null when the user namespace itself is refused: {@link Explain#syscall} says why.
     */
    private static Failure mountNamespaceDenied(SyscallException e, List<String> argv, Fds fds, Explain explain) {
        if (e.step() != Step.CREATE_USERNS || (e.errno() != dev.gvshim.linux.Errno.EPERM
                && e.errno() != dev.gvshim.linux.Errno.EACCES)) {
            return null;
        }
        int[] sync = null;
        Spawner.Child c = null;
        try {
            sync = pipe(Step.RELEASE);
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

    private String pathEnv() {
        String p = env.get("PATH");
        return p == null || p.isEmpty() ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : p;
    }

    /** The caller's RLIMIT_NOFILE (the launcher runs the JVM with -XX:-MaxFDLimit to keep it). */
    private static long[] nofile() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                    return new long[] {limit(f[0]), limit(f[1])};
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall back to runc's default
        }
        return new long[] {1024, 1024};
    }

    private static long limit(String v) {
        return v.equals("unlimited") ? 1L << 20 : Long.parseLong(v);
    }

    /** What `gvshim __explain` needs to know about this run if runsc fails. */
    private void writeMeta(RunDir run, MappingPlan plan, Path runsc) throws IOException {
        ObjectNode m = JsonTree.nodes().objectNode();
        m.put("mode", plan.mode().label());
        m.put("notFull", plan.notFull());
        m.put("network", req.network().flag());
        m.put("runsc", runsc.toString());
        m.put("fallback", req.fallbackUnsandboxed());
        m.put("debug", req.debug());
        Files.write(run.meta(), JsonTree.write(m));
    }

    private List<String> waiterArgv(RunDir run, Path runsc, int child, Fds fds) {
        List<String> w = new ArrayList<>(List.of("gvshim-waiter", "--child", Integer.toString(child),
                "--runsc", runsc.toString(), "--runsc-global", "--root=" + run.runscRoot(),
                "--id", run.id(), "--run-dir", run.dir().toString(), "--log", run.runscLog().toString(),
                "--stderr-fd", Integer.toString(fds.waiterErr), "--started-fd", Integer.toString(fds.started),
                "--kill-after", Double.toString(req.killAfter()),
                "--explain", System.getProperty("gvshim.launcher", home.resolve("bin/gvshim").toString())));
        if (fds.console >= 0) {
            w.addAll(List.of("--console-fd", Integer.toString(fds.console)));
        } else {
            w.addAll(List.of("--stdin-fd", Integer.toString(fds.waiterIn), "--stdout-fd", Integer.toString(fds.waiterOut)));
        }
        if (req.timeout() != null) {
            w.addAll(List.of("--timeout", Double.toString(req.timeout())));
        }
        if (req.debug()) {
            w.add("--debug");
        }
        return w;
    }

    private void execWaiter(List<String> argv, List<String> envp) throws SyscallException {
        try {
            err.flush();
            Linux.execve(home.resolve("libexec/gvshim-waiter").toString(), argv, envp);
        } catch (SyscallException e) {
            throw e.in(Step.EXEC_WAITER);
        }
    }
}
