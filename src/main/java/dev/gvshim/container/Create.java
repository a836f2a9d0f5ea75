package dev.gvshim.container;

import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.Spec;
import dev.gvshim.runsc.RunscCommand;
import dev.gvshim.runsc.RunscLogs;
import dev.gvshim.runsc.RunscChoices;
import dev.gvshim.runsc.RunscInfo;
import dev.gvshim.runsc.RunscRelease;
import dev.gvshim.runsc.SpecPolicy;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `create` (and `run`, `restore`, which start the sandbox in the same runsc call): the bundle
 * read and checked, the configuration settled (annotations, network), the spec rule applied,
 * gvshim's record written, a rootless container's user namespace held, then runsc. Anything
 * that fails after the record exists is cleaned up (containerd never deletes what it could not
 * create).
 */
public final class Create {
    private Create() {
    }

    /** Options of create, run and restore. */
    public record Args(String id, String bundle, String pidFile, String consoleSocket, boolean noPivot, boolean noNewKeyring,
            Integer preserveFds, String pidfdSocket) {
    }

    public static int create(RuntimeCall rc, Args a) throws GvshimException {
        return createOrRun(rc, a, "create", List.of());
    }

    /** `run [--detach] ID`: create and start (runsc run), waiting for the container unless detached. */
    public static int run(RuntimeCall rc, Args a, boolean detach, boolean keep) throws GvshimException {
        if (keep) {
            // never pretend: runc keeps the container after its process exits; runsc's run deletes it then
            throw RuntimeFailures.of("KEEP_UNSUPPORTED", "cannot run container " + a.id() + " with --keep: runsc's run"
                    + " deletes the container when its process exits; use `create` and `start` (the container is then kept"
                    + " until `delete`)");
        }
        return createOrRun(rc, a, "run", detach ? List.of("--detach") : List.of());
    }

    static int createOrRun(RuntimeCall rc, Args a, String verb, List<String> extra) throws GvshimException {
        Lookup.checkId(a.id());
        Containers store = rc.store;
        if (store.abandoned(a.id())) {
            Delete.abandoned(rc, a.id()); // a create of this id whose JVM or server was killed: the id is free again
        }
        if (store.exists(a.id()) || rc.lookup.isForeign(a.id())) {
            throw RuntimeFailures.exists(a.id());
        }
        String runscId = ContainerIds.runscIdFor(a.id());
        String clash = rc.lookup.clash(runscId);
        if (clash != null) {
            throw RuntimeFailures.of("RUNSC_ID_CLASH",
                    "cannot create container " + a.id() + ": runsc matches container ids by prefix, and"
                    + " the runsc id gvshim gives it (" + runscId + ") and that of container " + clash + " in " + store.root()
                    + " would match each other; delete " + clash + " first, or choose another id");
        }
        rc.dropped(a.noPivot(), "--no-pivot", "gVisor's sandbox never pivots on the host");
        rc.dropped(a.noNewKeyring(), "--no-new-keyring", "gVisor has no kernel keyrings");
        RuntimeFailures.preserveFds(a.preserveFds(), "create");
        rc.dropped(a.pidfdSocket() != null, "--pidfd-socket", "the container's processes are not host processes");
        Path bundle = rc.call.absolute(a.bundle() == null ? "." : a.bundle()).normalize();
        Spec spec = readBundle(rc, bundle);
        rc.call.trace().mark("create: spec read");
        RuntimeConfig c = rc.config();
        rc.call.trace().mark("create: configured");
        List<String> ignored = new ArrayList<>();
        Map<String, String> annotations = new LinkedHashMap<>();
        spec.json().path("annotations").properties().forEach(e -> annotations.put(e.getKey(), e.getValue().asText()));
        c = c.withAnnotations(annotations, ignored);
        if (!ignored.isEmpty()) {
            rc.log.warning("annotations " + ignored + " ignored: set \"allowFlagOverride\": true in "
                    + RuntimeConfig.DEFAULT_FILE + " to let containers set runsc flags");
        }
        c = Networks.choose(c, spec, rc.rootless, rc.log);
        rc.call.trace().mark("create: network chosen");
        boolean detached = verb.equals("create") || extra.contains("--detach");
        boolean terminal = spec.process().terminal() && a.consoleSocket() == null;
        if (terminal) {
            // runc sizes the container's terminal from process.consoleSize (runsc ignores it); gvshim's pty takes it
            com.fasterxml.jackson.databind.JsonNode size = spec.process().json().path("consoleSize");
            rc.consoleSize(size.path("height").asInt(0), size.path("width").asInt(0));
        }
        if (terminal && detached) {
            throw Exec.noConsole();
        }
        Path runsc = rc.runscPath(c.runsc());
        // the caller's annotations for the hooks' state (runc's), then the rewrite of the pod's one for runsc
        var hooks = new dev.gvshim.runsc.HookWrap.Target(rc.call.libexec("gvshim-hook").toString(), a.id(), bundle.toString(),
                spec.json().path("annotations").deepCopy());
        boolean joins = joinSandbox(rc, spec);
        Path mountDir = rc.rootless ? store.dir(a.id()).resolve("mounts") : Bundle.mountDir(store, a.id(), spec, rc.euid == 0);
        SpecPolicy.Result policy = checkSpec(rc, spec, bundle, c, a.id(), runsc, mountDir, hooks);
        Bundle.checkReach(policy, mountDir, a.id());
        String cgroupsPath = spec.linux().json().path("cgroupsPath").asText("");
        List<String> flags = rc.containerFlags(c, rc.rootless);
        List<String> cgroupDirs = List.of();
        if (!rc.rootless && !flags.contains("--ignore-cgroups")) {
            // runsc resolves a relative cgroupsPath from its own cgroup: that of the process it is started by
            Cgroups.Host h = Cgroups.Host.system();
            String procCgroup = java.util.Objects.requireNonNullElse(h.read(store.proc() + "/" + rc.call.handover().taker() + "/cgroup"), "");
            String mountinfo = java.util.Objects.requireNonNullElse(h.read(store.proc() + "/self/mountinfo"), "");
            if (!cgroupsPath.isEmpty()) {
                CgroupCheck.check(cgroupsPath, procCgroup, mountinfo, h, rc.log);
            }
            boolean sandbox = SANDBOX_ANNOTATIONS.stream().noneMatch(k -> "container".equals(spec.annotation(k[0])));
            cgroupDirs = CgroupDirs.of(cgroupsPath, sandbox, runscId, procCgroup, mountinfo);
        }
        rc.call.trace().mark("create: spec checked");
        // runsc's defaults that changed between releases (--overlay2, --directfs): runc's semantics, the same
        // with every runsc; kept with the container like every other flag
        flags.addAll(RunscChoices.forRuntime(RunscInfo.of(runsc, rc.releaseCache(true)), c.flags(), c.raw()));
        if (policy.ociSeccomp() && !Boolean.TRUE.equals(c.ociSeccomp())) {
            flags.add("--oci-seccomp"); // runsc applies linux.seccomp only with it (runsc/boot/loader.go:865)
        }
        Container ct = new Container(a.id(), runscId, bundle, rc.rootless, runsc.toString(), flags, 0, 0);
        try {
            RootChecks.makeRuntimeRoot(store.root(), rc.euid); // before Containers.create's createDirectories, which follows symlinks
            rc.call.roots().creatingIn(store.root()); // before the record: a server killed after it leaves a root its successor knows
            // not a foreground `run`: its runsc lives as long as the container and outlives a killed runtime, as
            // `runc run`'s container outlives a killed runc; that container is the user's to delete, not abandoned
            store.create(ct, detached ? creators(rc) : List.of());
        } catch (GvshimException e) {
            throw RuntimeFailures.diagnosed(RootChecks.shown(e.failure(), null));
        } catch (FileAlreadyExistsException e) {
            throw RuntimeFailures.exists(a.id());
        } catch (IOException e) {
            throw RuntimeFailures.stateIo(
                    "cannot create the state of " + a.id() + " in " + store.root() + ": " + IoError.withFile(e)
                    + " (check --root)");
        }
        rc.call.trace().mark("create: state written");
        boolean done = false;
        try {
            Path runBundle = bundle;
            Path nodevFile;
            try {
                nodevFile = Bundle.prepareMounts(policy, mountDir, store.dir(a.id()).resolve("nodev.list"));
            } catch (IOException e) {
                throw RuntimeFailures.stateIo("cannot prepare the mounts of " + a.id() + " in " + mountDir + ": "
                        + IoError.reason(e, mountDir));
            }
            if (policy.ociSeccomp()) {
                writeState(rc, a.id(), SECCOMP_MARK, "");
            }
            if (!cgroupDirs.isEmpty()) {
                writeState(rc, a.id(), CgroupDirs.FILE, String.join("\n", cgroupDirs) + "\n"); // what delete removes
            }
            if (rc.rootless) {
                ct = Holder.prepare(rc, ct, policy.spec());
                runBundle = store.dir(a.id()).resolve("bundle");
            } else if (policy.changed() || joins) {
                // runsc reads the bundle's config.json: gvshim's rewrite (the pod's annotation, the spec rule's
                // changes) goes into a copy in the container's directory, the caller's bundle untouched
                runBundle = writeRunBundle(policy.spec(), bundle, store.dir(a.id()).resolve("bundle"));
            }
            List<String> args = new ArrayList<>(List.of(verb, "--bundle=" + runBundle));
            if (a.pidFile() != null) {
                args.add("--pid-file=" + rc.call.absolute(a.pidFile()));
            }
            if (a.consoleSocket() != null) {
                args.add("--console-socket=" + rc.call.absolute(a.consoleSocket()));
            }
            args.addAll(extra);
            args.add(ct.runscId());
            // `run` starts the sandbox in the same runsc process: the same network check as `start` (see Networks)
            boolean hide = !verb.equals("create") && Networks.hidesProcNet(ct.flags());
            RunscCommand.Stdio stdio = detached ? RunscCommand.Stdio.DETACH : terminal ? RunscCommand.Stdio.TERMINAL
                    : RunscCommand.Stdio.WAIT;
            if (!detached) {
                rc.forwardSignals(null); // as `runc run`: what gvshim receives goes to the container's init
            }
            int code;
            try {
                code = rc.runsc(ct, args, true, stdio, hide, nodevFile, null).exitCode();
            } catch (GvshimException e) {
                // a foreground run's caller killed (SIGKILL cannot be forwarded): runsc and the container run on, as
                // `runc run`'s container outlives a killed runc; its record stays, for `delete --force`
                done = !detached && RuntimeCall.CALLER_GONE.equals(e.failure().id());
                throw e;
            }
            if (verb.equals("run") && extra.isEmpty()) {
                // runsc run returns the container's status; an error line of runsc's own means it failed itself
                String msg = RunscLogs.lastError(rc.callLog(a.id()));
                if (msg.isEmpty()) {
                    done = true;
                    Delete.cleanup(rc, ct);
                    return code;
                }
            }
            if (code != 0) {
                throw Diagnosis.failure(rc, ct, verb);
            }
            created(rc, a.id());
            done = true;
            return 0;
        } finally {
            if (!done) {
                Delete.cleanup(rc, ct);
            }
        }
    }

    /**
     * Who is creating the container: this process (a one-shot JVM, or the server) and the caller
     * (a server's client, which waits for runsc create). While either lives the create may still
     * finish or clean up after itself; once both are gone, the record is {@link Containers#abandoned}.
     */
    private static List<CreateMark.Creator> creators(RuntimeCall rc) {
        List<CreateMark.Creator> out = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        for (long pid : new long[] {self, rc.call.callerPid()}) {
            CreateMark.Creator c = pid > 0 && (pid != self || out.isEmpty()) ? CreateMark.Creator.of(pid) : null;
            if (c != null) {
                out.add(c);
            }
        }
        return out;
    }

    /** The create finished: the container is no longer marked as being created. */
    private static void created(RuntimeCall rc, String id) throws GvshimException {
        try {
            rc.store.created(id);
        } catch (IOException e) {
            throw RuntimeFailures.stateIo("cannot write the state of " + id + " in " + rc.store.root() + ": "
                    + IoError.reason(e, rc.store.dir(id)));
        }
    }

    /** The bundle ({@link Bundle}) and a root file system the sandbox, running as the caller, can enter. */
    private static Spec readBundle(RuntimeCall rc, Path bundle) throws GvshimException {
        try {
            Spec spec = Bundle.load(bundle);
            Path rootfs = Bundle.check(spec, bundle, false);
            Failure access = Explain.rootfsAccess(rootfs, rc.euid);
            if (access != null) {
                throw RuntimeFailures.diagnosed(access);
            }
            return spec;
        } catch (GvshimException e) {
            throw RuntimeFailures.diagnosed(e.failure());
        }
    }

    /** The annotations that put a container into another one's sandbox (runsc/specutils/cri.go). */
    private static final List<String[]> SANDBOX_ANNOTATIONS = List.of(
            new String[] {"io.kubernetes.cri.container-type", "io.kubernetes.cri.sandbox-id"},
            new String[] {"io.kubernetes.cri-o.ContainerType", "io.kubernetes.cri-o.SandboxID"});

    /**
     * A container of a pod (CRI's container-type "container") names the sandbox it joins by
     * the pod sandbox container's id, which runsc knows by its runsc id: rewrites the
     * annotation in {@code spec} to that; whether it did.
     */
    private static boolean joinSandbox(RuntimeCall rc, Spec spec) {
        for (String[] keys : SANDBOX_ANNOTATIONS) {
            String sandbox = spec.annotation(keys[1]);
            if ("container".equals(spec.annotation(keys[0])) && sandbox != null && ContainerIds.invalidId(sandbox) == null) {
                Container owner = rc.store.load(sandbox);
                if (owner != null && owner.hasOwnRunscId()) {
                    spec.annotation(keys[1], owner.runscId());
                    rc.log.debug("sandbox " + sandbox + " is " + owner.runscId() + " for runsc (" + keys[1] + ")");
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The one rule for the spec's isolation fields ({@link SpecPolicy}): refused with one line,
     * or what runsc must get; moot fields are said once in --log (info), fields runsc ignores
     * without weakening anything as a warning, gvshim's exact rewrites with --debug.
     */
    private static SpecPolicy.Result checkSpec(RuntimeCall rc, Spec spec, Path bundle, RuntimeConfig c, String id, Path runsc,
            Path mountDir, dev.gvshim.runsc.HookWrap.Target hooks) throws GvshimException {
        String off = Boolean.FALSE.equals(c.ociSeccomp()) ? "in this runtime's configuration (" + RuntimeConfig.DEFAULT_FILE
                + ", --runsc-flag or runtimeArgs)" : null;
        SpecPolicy.Result r;
        try {
            r = Bundle.policy(spec, SpecPolicy.Context.of(SpecPolicy.Mode.RUNTIME, "container " + id, bundle, !rc.rootless,
                    off, () -> RunscRelease.of(runsc, rc.releaseCache(true)), mountDir), hooks);
        } catch (GvshimException e) {
            throw RuntimeFailures.diagnosed(e.failure());
        }
        if (!r.moot().isEmpty()) {
            rc.log.info("container " + id + ": spec fields gVisor's design makes moot: " + String.join("; ", r.moot()));
        }
        r.ignored().forEach(w -> rc.log.warning("container " + id + ": " + w));
        r.rewrites().forEach(w -> rc.log.debug("container " + id + ": runsc gets " + w));
        String overlay = c.flags().getOrDefault("overlay2", c.flags().getOrDefault("overlay", "none"));
        if (!r.nodev().isEmpty() && !overlay.equals("none") && !overlay.equals("false")) {
            // the gofer then remounts the root read-only itself (runsc/cmd/gofer.go:416), which clears nodev
            rc.log.warning("container " + id + ": with runsc's overlay over the root file system (" + overlay + "), a device"
                    + " node in the image's own files is not kept closed; in bind mounts it is");
        }
        return r;
    }

    /**
     * The spec runsc reads when gvshim had to change it, in the container's own directory (the
     * caller's bundle is never modified): root.path and relative bind sources made absolute
     * against the caller's bundle, as runsc would have resolved them.
     */
    static Path writeRunBundle(Spec spec, Path bundle, Path dir) throws GvshimException {
        Spec s = spec.copy();
        s.root().path(bundle.resolve(s.root().path()).normalize().toString());
        for (dev.gvshim.oci.Mount m : s.mounts()) {
            if (m.source() != null && !m.source().startsWith("/") && SpecPolicy.bind(m.json())) {
                m.source(bundle.resolve(m.source()).normalize().toString());
            }
        }
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve("config.json"), s.toJson());
        } catch (IOException e) {
            throw RuntimeFailures.stateIo("cannot write the spec runsc reads to " + dir + ": " + IoError.reason(e, dir));
        }
        return dir;
    }

    /** In a container's directory: runsc applies the container's seccomp profile (see {@link Exec}). */
    static final String SECCOMP_MARK = "seccomp-applied";

    /** A file of the container's own state, in its directory. */
    private static void writeState(RuntimeCall rc, String id, String name, String text) throws GvshimException {
        try {
            Files.writeString(rc.store.dir(id).resolve(name), text);
        } catch (IOException e) {
            throw RuntimeFailures.stateIo("cannot write the state of " + id + " in " + rc.store.root() + ": "
                    + IoError.reason(e, rc.store.dir(id)));
        }
    }
}
