package dev.gvshim.container;

import dev.gvshim.diagnose.IoError;
import dev.gvshim.call.Call;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.Spec;
import dev.gvshim.runsc.HookWrap;
import dev.gvshim.runsc.RunscChoices;
import dev.gvshim.runsc.RunscRelease;
import dev.gvshim.runsc.SpecPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The spec of one `gvshim run`, built on its own thread, which first parses a bundle's
 * config.json: the first JSON parse pays for BigDecimal's static initialiser (JDK 25 computes
 * 5^65536 there, 8-20 ms), and Jackson's own start-up is as long again. Meanwhile the launching
 * thread reads host facts, waits for FFM, clones and maps; it needs the JSON only at the release.
 */
final class RunSpecTask {
    /**
     * What the spec needs from the launching thread, once the run directory exists: {@code probed}
     * gives runsc's flags for this run (probed on a thread of their own), which decide whether the
     * root may be writable.
     */
    record Inputs(RunDir run, Path stateDir, int uid, Path runsc, CompletableFuture<RunscChoices.Chosen> probed) {
        RunscChoices.Chosen chosen() {
            return probed.join();
        }
    }

    /** The spec runsc reads, serialised, and what `-v` says about its fields. */
    record Out(Spec spec, byte[] json, List<String> notes) {
    }

    private final Call call;
    private final RunRequest req;
    private final CompletableFuture<Inputs> inputs = new CompletableFuture<>();
    private final CompletableFuture<Boolean> terminal = new CompletableFuture<>();
    private final FutureTask<Out> task;

    private RunSpecTask(Call call, RunRequest req) {
        this.call = call;
        this.req = req;
        this.task = new FutureTask<>(() -> {
            Spec bundle = req.bundle() == null ? null : Bundle.load(req.bundle());
            call.trace().mark("bundle parsed");
            Inputs in = inputs.get();
            Spec spec = build(in, bundle);
            Out checked = check(spec, bundle != null, in);
            checked.spec().process().terminal(terminal.get());
            byte[] json = checked.spec().toJson();
            call.trace().mark("spec serialised");
            return new Out(checked.spec(), json, checked.notes());
        });
    }

    /** Starts building the spec of {@code req} on a thread of its own. */
    static RunSpecTask start(Call call, RunRequest req) {
        RunSpecTask t = new RunSpecTask(call, req);
        Thread thread = new Thread(t.task, "gvshim-spec");
        thread.setDaemon(true);
        thread.start();
        return t;
    }

    void inputs(Inputs in) {
        inputs.complete(in);
    }

    /** Whether the process gets a terminal: decided per run (isatty needs FFM, the spec is built before it is linked). */
    void terminal(boolean t) {
        terminal.complete(t);
    }

    /** Done already: the bundle is missing or malformed, and the launch should fail before cloning. */
    boolean isDone() {
        return task.isDone();
    }

    /** A no-op once done; otherwise it is waiting for inputs that never come. */
    void cancel() {
        task.cancel(true);
    }

    Out join() throws GvshimException {
        try {
            return task.get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case GvshimException le -> throw le;
                case RuntimeException re -> throw re;
                case Error err -> throw err;
                default -> throw new IllegalStateException(e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private Spec build(Inputs in, Spec bundle) throws GvshimException {
        long[] nofile = nofile();
        String waiter = call.libexec("gvshim-hook").toString();
        RunSpec.Context ctx = new RunSpec.Context(call.env(), call.cwd(), in.stateDir(), waiter,
                List.of("gvshim-hook", "--started", in.run().startedFifo().toString()), nofile[0], nofile[1]);
        call.trace().mark("nofile read");
        RunRequest r = req;
        RunUser.Ids ids = null;
        if (req.user() != null && bundle == null) {
            // names from the sandbox's files, through the caller's own mounts (-v ./passwd:/etc/passwd) as docker does
            List<dev.gvshim.oci.Mount> mounts = RunSpec.userMounts(req);
            ids = req.user().resolve(p -> RunSpec.sandboxFile(req.rootfs(), mounts, p));
            r = req.withIds(ids.uid(), ids.gid());
        }
        Spec spec = bundle == null ? RunSpec.generate(r, ctx) : RunSpec.fromBundle(bundle, req.bundle(), r, ctx);
        if (req.user() != null && bundle != null) {
            Spec built = spec;
            ids = req.user().resolve(p -> RunSpec.sandboxFile(Path.of(built.root().path()), built.mounts(), p));
        }
        if (ids != null) {
            RunSpec.applyUser(spec, ids, req);
        }
        if (bundle == null && !in.chosen().writableRoot()) {
            spec.root().readonly(true); // no overlay for it: never a writable host root
        }
        if (req.limits().pids() != null) {
            // gVisor's kernel counts the tasks of each user against it (RunLimits)
            spec.process().rlimit("RLIMIT_NPROC", req.limits().pids(), req.limits().pids());
        }
        call.trace().mark("spec built");
        // both before runsc starts, where the path can still be named (runsc: a bare EOF)
        Failure rootfs = Explain.rootfsAccess(Path.of(spec.root().path()), in.uid());
        if (rootfs != null) {
            throw new GvshimException(rootfs);
        }
        String tmpfs = RunSpec.workdirInTmpfs(spec);
        if (tmpfs != null) {
            throw new GvshimException(Failure.of("CWD_MISSING", "cannot use the working directory " + spec.process().cwd(),
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
                throw new GvshimException(workdir);
            }
        }
        return spec;
    }

    /**
     * The one rule for the spec's isolation fields ({@link SpecPolicy}), for gvshim's own spec as
     * for a bundle's: refused with the one line, or the spec runsc gets, its mount points made,
     * and what `-v` says (fields gVisor makes moot, fields runsc ignores).
     */
    private Out check(Spec spec, boolean fromBundle, Inputs in) throws GvshimException {
        RunDir run = in.run();
        SpecPolicy.Result r = Bundle.policy(spec, SpecPolicy.Context.of(SpecPolicy.Mode.RUN, fromBundle
                ? req.bundle().resolve("config.json").toString() : "gvshim run's spec",
                fromBundle ? req.bundle() : null, false, null, () -> RunscRelease.of(in.runsc(), in.stateDir()), run.mounts()),
                // a bundle's own hooks: runsc knows the run by its id, which is the run's own
                new HookWrap.Target(call.libexec("gvshim-hook").toString(), run.id(), fromBundle ? req.bundle().toString() : null,
                        spec.json().path("annotations").deepCopy()));
        if (!fromBundle && in.chosen().writableRoot()) {
            r = r.withReadOnlyRootCopy();
        }
        Spec out = r.spec();
        if (r.ociSeccomp()) {
            // runsc's own rule lets a spec turn oci-seccomp on (not off) by annotation (runsc/config/flags.go
            // overrideAllowlist); runsc's argv is fixed before the bundle is parsed
            out.annotation("dev.gvisor.flag.oci-seccomp", "true");
        }
        try {
            Bundle.prepareMounts(r, run.mounts(), run.nodevList());
        } catch (IOException e) {
            throw new GvshimException(Failure.of("RUN_DIR_WRITE", "cannot write the run directory " + run.dir(), null,
                    IoError.withFile(e), "check free space in " + in.stateDir()));
        }
        List<String> notes = new ArrayList<>(fromBundle ? List.of() : RunSpec.mountNotes(req, out, in.chosen().writableRoot()));
        notes.addAll(in.chosen().notes());
        if (!fromBundle) {
            List<MountPoints.Point> points = MountPoints.missing(req, out.mounts().stream()
                    .filter(m -> "tmpfs".equals(m.type())).map(dev.gvshim.oci.Mount::destination).toList());
            try {
                MountPoints.write(points, Path.of(out.root().path()), run.dir().resolve("mountpoints"));
            } catch (IOException e) {
                throw new GvshimException(Failure.of("RUN_DIR_WRITE", "cannot write the run directory " + run.dir(), null,
                        IoError.withFile(e), "check free space in " + in.stateDir()));
            }
            notes.addAll(MountPoints.notes(points));
        }
        if (!r.moot().isEmpty()) {
            notes.add("spec fields gVisor's design makes moot: " + String.join("; ", r.moot()));
        }
        r.ignored().forEach(w -> notes.add("warning: " + w));
        if (req.debug()) {
            r.rewrites().forEach(w -> notes.add("(debug) runsc gets " + w));
        }
        call.trace().mark("spec checked");
        return new Out(out, null, notes);
    }

    /** The caller's RLIMIT_NOFILE (the launcher runs the JVM with -XX:-MaxFDLimit to keep it). */
    static long[] nofile() {
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
}
