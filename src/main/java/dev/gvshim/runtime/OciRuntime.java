package dev.gvshim.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.container.StateDir;
import dev.gvshim.container.UnsafeStateDirException;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.diagnose.Failure;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.Trace;
import dev.gvshim.oci.InvalidSpecException;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.SpecTypes;
import dev.gvshim.runsc.Runsc;
import dev.gvshim.runsc.RunscConfig;
import dev.gvshim.runsc.RunscLogs;
import dev.gvshim.runsc.RunscRelease;
import dev.gvshim.runsc.SpecPolicy;
import dev.gvshim.runtime.Containers.Container;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The runc-compatible verbs, each translated onto runsc. The state directory is the caller's
 * {@code --root} (Docker's is shared with runc); gvshim's own record of a container is in
 * {@link Containers}. runsc always writes its errors to a private log, and gvshim appends its
 * diagnosis (cause and fix, from the same engine as `gvshim doctor`) to the caller's --log, so
 * Docker shows that instead of runsc's "EOF".
 *
 * <p>As root runsc runs as it would under runc's name. For a caller without root, runsc's
 * --rootless refuses `create`, so the container gets a user namespace of its own, held by a
 * tiny native process ({@link Rootless}), and every runsc call for it enters that namespace
 * first (a single-threaded native child: setns, then execve).
 */
public final class OciRuntime {
    private final Globals g;
    private final Map<String, String> env;
    private final PrintStream out;
    private final PrintStream err;
    private final RuntimeLog log;
    private final Containers store;
    private final boolean rootless;
    private final int euid;
    private RuntimeConfig config;
    /** Containers whose runsc log this call wrote (removed by {@link #close()}). */
    private final java.util.Set<String> logged = new java.util.HashSet<>();

    public OciRuntime(Globals g, Map<String, String> env, PrintStream out, PrintStream err) throws RuntimeError {
        this.g = g;
        this.env = env;
        this.out = out;
        this.err = err;
        this.log = new RuntimeLog(g.log() == null ? null : Path.of(g.log()), g.logFormat(), g.debug(), err);
        this.euid = effectiveUid();
        this.rootless = switch (g.rootless() == null ? "auto" : g.rootless()) {
            case "true" -> true;
            case "false" -> false;
            case "auto" -> euid != 0;
            default -> throw new RuntimeError("--rootless must be true, false or auto, not \"" + g.rootless() + "\"", 2);
        };
        if (!rootless && euid != 0) {
            throw new RuntimeError("--rootless false needs root: run as root, or use --rootless auto");
        }
        this.store = new Containers(root(g, env, euid));
        Trace.mark("runtime: state directory");
        if (g.systemdCgroup()) {
            log.debug("--systemd-cgroup: not passed on (runsc 2022-12's systemd driver is experimental); runsc places the"
                    + " sandbox with cgroupfs");
        }
    }

    /**
     * Started before the arguments are parsed, on the second core: class initialisation the
     * call will need, interpreted, while the main thread parses arguments. Every verb spawns
     * runsc, and JDK 25's ProcessBuilder.start asks for a System.Logger, whose first lookup scans
     * every jar on the class path for a LoggerFinder service (~8 ms); create and run read config.json, and jackson-core's parser's static constants
     * pull in BigDecimal and BigInteger (~8 ms). The main thread then finds the classes
     * initialised, or waits for the rest.
     */
    public static void warmUp(boolean specReading) {
        Thread t = new Thread(() -> {
            try {
                if (specReading) { // first: config.json is read before runsc is spawned
                    JsonTree.read("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"x\":1.5,\"y\":null}}"
                            .getBytes(StandardCharsets.UTF_8));
                    Trace.mark("warmed up: spec reading");
                }
                System.getLogger("java.lang.ProcessBuilder");
                Class.forName("java.lang.ProcessImpl", true, null);
                new ProcessBuilder().environment();
            } catch (IOException | ClassNotFoundException e) {
                // not reached: the class exists and the document is valid
            }
            Trace.mark("warmed up");
        }, "gvshim-warm-up");
        t.setDaemon(true);
        t.start();
    }

    /**
     * The state directory: --root as given, once no other user can replace it or anything above
     * it (runsc's and gvshim's records there decide what runsc runs); root's /run/gvshim; else the
     * caller's own ({@link Rootless#defaultRoot}).
     */
    private static Path root(Globals g, Map<String, String> env, int euid) throws RuntimeError {
        try {
            if (g.root() == null && euid != 0) {
                return Rootless.defaultRoot(env, euid);
            }
            Path root = g.root() != null ? Path.of(g.root()).toAbsolutePath() : Path.of("/run/gvshim");
            StateDir.checkRuntimeRoot(root, euid);
            return root;
        } catch (UnsafeStateDirException e) {
            throw new RuntimeError(Failure.of("STATE_DIR_UNSAFE", e.what(), null, e.why(), e.fix()).oneLine());
        }
    }

    /**
     * The owner of /proc/self, which is the effective uid (proc(5)), not geteuid(2): linking an
     * FFM downcall costs more than the whole stat.
     */
    static int effectiveUid() throws RuntimeError {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException e) {
            throw new RuntimeError("cannot stat /proc/self: " + (e instanceof IOException io ? IoError.reason(io) : "unreadable")
                    + " (is /proc mounted?)");
        }
    }

    public RuntimeLog log() {
        return log;
    }

    // ---------------------------------------------------------------- configuration

    /** Config file, then this call's options; loaded once per call. */
    RuntimeConfig config() throws RuntimeError {
        if (config == null) {
            try {
                RuntimeConfig c = RuntimeConfig.load(g.config() != null ? Path.of(g.config())
                        : env.containsKey("GVSHIM_CONFIG") ? Path.of(env.get("GVSHIM_CONFIG")) : RuntimeConfig.DEFAULT_FILE,
                        g.config() != null || env.containsKey("GVSHIM_CONFIG"));
                if (g.runsc() != null) {
                    c = c.withRunsc(g.runsc());
                }
                if (g.network() != null) {
                    c = c.withNetwork(g.network(), " (--network)");
                }
                if (g.platform() != null) {
                    c = c.withPlatform(g.platform());
                }
                for (String f : g.runscFlags()) {
                    int eq = f.indexOf('=');
                    if (eq <= 0) {
                        throw new RuntimeError("--runsc-flag " + f + ": expected NAME=VALUE, e.g. --runsc-flag overlay=true", 2);
                    }
                    c = c.withFlag(f.substring(0, eq), f.substring(eq + 1), " (--runsc-flag)");
                }
                if (g.execWithoutSeccomp() != null) {
                    c = c.withExecWithoutSeccomp(g.execWithoutSeccomp());
                }
                config = c.withDebug(g.debug()).withRaw(g.runscArgs());
            } catch (RuntimeConfig.ConfigException e) {
                throw new RuntimeError(e.getMessage());
            }
        }
        return config;
    }

    Path runscPath(String configured) throws RuntimeError {
        try {
            Path p = Runsc.locate(configured, env.get("PATH"));
            if (p == null) {
                throw new RuntimeError("cannot find runsc in $PATH (" + env.getOrDefault("PATH", "") + ") or /usr/local/bin,"
                        + " /usr/bin, /usr/sbin, /bin: install gVisor (apt-get install runsc), or set \"runsc\" in "
                        + RuntimeConfig.DEFAULT_FILE + " or pass --runsc PATH [RUNSC_MISSING]");
            }
            return p;
        } catch (Runsc.RunscNotFoundException e) {
            throw new RuntimeError("cannot use runsc: " + e.getMessage() + " [RUNSC_MISSING]");
        }
    }

    /** The runsc flags a container keeps for its lifetime (every verb must repeat them). */
    List<String> containerFlags(RuntimeConfig c, boolean ignoreCgroups) {
        RunscConfig rc = new RunscConfig(store.root(), null, null, c.network(), c.platform(), false, c.debug(),
                ignoreCgroups, c.flags(), c.raw());
        List<String> all = rc.toFlags();
        // root, log, log-format and debug-log are per call; keep the rest
        all.removeIf(f -> f.startsWith("--root=") || f.startsWith("--log=") || f.startsWith("--log-format=")
                || f.startsWith("--debug-log="));
        return all;
    }

    // ---------------------------------------------------------------- verbs

    /** Options of create, run and restore. */
    public record CreateArgs(String id, String bundle, String pidFile, String consoleSocket, boolean noPivot,
            boolean noNewKeyring, Integer preserveFds, String pidfdSocket) {
    }

    public int create(CreateArgs a) throws RuntimeError {
        return createOrRun(a, "create", List.of());
    }

    /** `run [--detach] ID`: create and start (runsc run), waiting for the container unless detached. */
    public int run(CreateArgs a, boolean detach, boolean keep) throws RuntimeError {
        if (keep) {
            log.debug("run --keep: the container is deleted by the next `delete`, as runsc does");
        }
        return createOrRun(a, "run", detach ? List.of("--detach") : List.of());
    }

    private int createOrRun(CreateArgs a, String verb, List<String> extra) throws RuntimeError {
        checkId(a.id());
        if (store.exists(a.id()) || isForeign(a.id())) {
            throw new RuntimeError(RuntimeError.EXISTS + ": " + a.id());
        }
        String runscId = Containers.runscIdFor(a.id());
        String clash = clash(runscId);
        if (clash != null) {
            throw new RuntimeError("cannot create container " + a.id() + ": runsc matches container ids by prefix, and"
                    + " the runsc id gvshim gives it (" + runscId + ") and that of container " + clash + " in " + store.root()
                    + " would match each other; delete " + clash + " first, or choose another id [RUNSC_ID_CLASH]");
        }
        dropped(a.noPivot(), "--no-pivot", "gVisor's sandbox never pivots on the host");
        dropped(a.noNewKeyring(), "--no-new-keyring", "gVisor has no kernel keyrings");
        dropped(a.preserveFds() != null && a.preserveFds() > 0, "--preserve-fds",
                "runsc 2022-12 cannot pass extra descriptors to the container; they are closed");
        dropped(a.pidfdSocket() != null, "--pidfd-socket", "the container's processes are not host processes");
        Path bundle = Path.of(a.bundle() == null ? "." : a.bundle()).toAbsolutePath().normalize();
        Spec spec = readBundle(bundle);
        Trace.mark("create: spec read");
        RuntimeConfig c = config();
        Trace.mark("create: configured");
        List<String> ignored = new ArrayList<>();
        Map<String, String> annotations = new LinkedHashMap<>();
        spec.json().path("annotations").properties().forEach(e -> annotations.put(e.getKey(), e.getValue().asText()));
        try {
            c = c.withAnnotations(annotations, ignored);
        } catch (RuntimeConfig.ConfigException e) {
            throw new RuntimeError(e.getMessage());
        }
        if (!ignored.isEmpty()) {
            log.warning("annotations " + ignored + " ignored: set \"allowFlagOverride\": true in "
                    + RuntimeConfig.DEFAULT_FILE + " to let containers set runsc flags");
        }
        c = Networks.choose(c, spec, rootless, log);
        Trace.mark("create: network chosen");
        boolean detached = verb.equals("create") || extra.contains("--detach");
        boolean terminal = spec.process().terminal() && a.consoleSocket() == null;
        if (terminal && detached) {
            throw new RuntimeError(NO_CONSOLE);
        }
        Path runsc = runscPath(c.runsc());
        // before the spec is checked: the rewrite of the pod's annotation is part of what runsc reads
        boolean joins = joinSandbox(spec);
        Path mountDir = store.dir(a.id()).resolve("mounts");
        SpecPolicy.Result policy = checkSpec(spec, bundle, c, a.id(), runsc, mountDir);
        Trace.mark("create: spec checked");
        List<String> flags = containerFlags(c, rootless);
        if (policy.ociSeccomp() && !Boolean.TRUE.equals(ociSeccomp(c))) {
            flags.add("--oci-seccomp"); // runsc applies linux.seccomp only with it (runsc/boot/loader.go:865)
        }
        Container ct = new Container(a.id(), runscId, bundle, rootless, runsc.toString(), flags, 0, 0);
        try {
            StateDir.makeRuntimeRoot(store.root(), euid); // before Containers.create's createDirectories, which follows symlinks
            store.create(ct);
        } catch (UnsafeStateDirException e) {
            throw new RuntimeError(Failure.of("STATE_DIR_UNSAFE", e.what(), null, e.why(), e.fix()).oneLine());
        } catch (FileAlreadyExistsException e) {
            throw new RuntimeError(RuntimeError.EXISTS + ": " + a.id());
        } catch (IOException e) {
            throw new RuntimeError("cannot create the state of " + a.id() + " in " + store.root() + ": " + IoError.withFile(e)
                    + " (check --root)");
        }
        Trace.mark("create: state written");
        boolean done = false;
        try {
            Path runBundle = bundle;
            Path nodevFile = prepareMounts(policy, a.id(), mountDir);
            if (policy.ociSeccomp()) {
                markSeccomp(a.id());
            }
            if (rootless) {
                ct = Rootless.prepare(ct, policy.spec(), store, env, log);
                runBundle = store.dir(a.id()).resolve("bundle");
            } else if (policy.changed() || joins) {
                // runsc reads the bundle's config.json: gvshim's rewrite (the pod's annotation, the spec rule's
                // changes) goes into a copy in the container's directory, the caller's bundle untouched
                runBundle = writeRunBundle(policy.spec(), bundle, store.dir(a.id()).resolve("bundle"));
            }
            List<String> args = new ArrayList<>(List.of(verb, "--bundle=" + runBundle));
            if (a.pidFile() != null) {
                args.add("--pid-file=" + Path.of(a.pidFile()).toAbsolutePath());
            }
            if (a.consoleSocket() != null) {
                args.add("--console-socket=" + Path.of(a.consoleSocket()).toAbsolutePath());
            }
            args.addAll(extra);
            args.add(ct.runscId());
            // `run` starts the sandbox in the same runsc process: the same network check as `start` (see Networks)
            boolean hide = !verb.equals("create") && Networks.hidesProcNet(ct.flags());
            NsExec.Stdio stdio = detached ? NsExec.Stdio.DETACH : terminal ? NsExec.Stdio.TERMINAL : NsExec.Stdio.WAIT;
            int rc = runsc(ct, args, true, stdio, hide, nodevFile, null).exitCode();
            if (verb.equals("run") && extra.isEmpty()) {
                // runsc run returns the container's status; an error line of runsc's own means it failed itself
                String msg = RunscLogs.lastError(callLog(a.id()));
                if (msg.isEmpty()) {
                    done = true;
                    cleanup(ct);
                    return rc;
                }
            }
            if (rc != 0) {
                throw failure(ct, verb);
            }
            done = true;
            return 0;
        } finally {
            if (!done) {
                cleanup(ct);
            }
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
    private boolean joinSandbox(Spec spec) {
        for (String[] keys : SANDBOX_ANNOTATIONS) {
            String sandbox = spec.annotation(keys[1]);
            if ("container".equals(spec.annotation(keys[0])) && sandbox != null && Containers.invalidId(sandbox) == null) {
                Container owner = store.load(sandbox);
                if (owner != null && owner.hasOwnRunscId()) {
                    spec.annotation(keys[1], owner.runscId());
                    log.debug("sandbox " + sandbox + " is " + owner.runscId() + " for runsc (" + keys[1] + ")");
                    return true;
                }
            }
        }
        return false;
    }

    private static final Pattern SANDBOX_ANNOTATION = Pattern.compile(
            "\"(?:io\\.kubernetes\\.cri\\.sandbox-id|io\\.kubernetes\\.cri-o\\.SandboxID)\":\\s*\"([^\"]+)\"");

    /** runsc's state output with the container's own id and bundle, and its pod sandbox's own id. */
    private String humanState(Container ct, String json) {
        String o = callersBundle(ct, human(ct, json));
        Matcher m = SANDBOX_ANNOTATION.matcher(o);
        if (m.find() && Containers.looksLikeRunscId(m.group(1))) {
            Container owner = store.byRunscId().get(m.group(1));
            if (owner != null) {
                o = o.substring(0, m.start(1)) + owner.id() + o.substring(m.end(1));
            }
        }
        return o;
    }

    public int start(String id) throws RuntimeError {
        Container ct = existing(id);
        boolean hide = Networks.hidesProcNet(ct.flags());
        if (hide) {
            checkOwnNetwork(ct);
        }
        // a sub-container's start would hand runsc's stdio to it: relayed for as long as it lives
        NsExec.Ran r = runsc(ct, List.of("start", ct.runscId()), true, NsExec.Stdio.DETACH, hide);
        if (!r.ok()) {
            // containerd never deletes a task whose start failed: without this the sandbox leaks
            RuntimeError e = failure(ct, "start");
            cleanup(ct);
            throw e;
        }
        return 0;
    }

    /**
     * runsc's own "root network namespace" test is wrong on this kernel and gvshim hides it
     * (see {@link Networks}), so this is the real one: the sandbox's network namespace must not
     * be ours, or gVisor's netstack would take over the host's interfaces.
     */
    private void checkOwnNetwork(Container ct) throws RuntimeError {
        int pid = store.sandboxPid(ct.runscId());
        if (pid <= 0) {
            return; // no sandbox yet: runsc start reports that itself
        }
        try {
            String sandbox = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString();
            String ours = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
            if (sandbox.equals(ours)) {
                RuntimeError e = new RuntimeError("cannot start container " + ct.id() + ": its sandbox is in this host's"
                        + " network namespace (" + ours + "), where gVisor's sandbox network would take over the host's"
                        + " interfaces; give the container a network namespace of its own, or use --network=host or"
                        + " --network=none [NETWORK_ROOT_NAMESPACE]");
                cleanup(ct);
                throw e;
            }
        } catch (IOException e) {
            log.debug("network namespace check of " + ct.id() + " skipped: " + IoError.reason(e));
        }
    }

    public int state(String id) throws RuntimeError {
        Container ct = existing(id);
        Trace.mark("state: loaded");
        NsExec.Ran r = runsc(ct, List.of("state", ct.runscId()), false, 0);
        if (!r.ok()) {
            throw plain(ct, "state", r);
        }
        String o = humanState(ct, r.output());
        Matcher m = STATUS.matcher(o);
        if (m.find() && !effective(ct, m.group(1)).equals(m.group(1))) {
            o = o.substring(0, m.start(1)) + "stopped" + o.substring(m.end(1));
        }
        out.println(o);
        return 0;
    }

    private static final Pattern STATUS = Pattern.compile("\"status\":\\s*\"(\\w+)\"");

    /** Whether the container's sandbox process is alive: not gone, not a zombie, not a reused pid. */
    private boolean sandboxAlive(Container ct) {
        Containers.Sandbox sb = store.sandbox(ct.runscId());
        return sb != null && store.sandboxAlive(sb.pid(), sb.id());
    }

    /**
     * The container's status as runc would report it: runsc's, except "stopped" where the
     * sandbox has died (runsc keeps "paused" and "created" for a dead sandbox). Null if runsc
     * has no state for it.
     */
    private String status(Container ct) throws RuntimeError {
        JsonNode st = runscState(ct);
        return st == null ? null : effective(ct, st.path("status").asText());
    }

    /**
     * runsc's status, or "stopped" for a "paused" or "created" container whose sandbox is dead:
     * runsc re-checks "created" only by kill(pid, 0), which a zombie passes, and "paused" not at
     * all, so a paused container stays "paused" after its sandbox died ("running" it checks by
     * asking the sandbox).
     */
    private String effective(Container ct, String runscStatus) {
        return (runscStatus.equals("paused") || runscStatus.equals("created")) && !sandboxAlive(ct) ? "stopped"
                : runscStatus;
    }

    public int kill(String id, String signal, boolean all) throws RuntimeError {
        int sig = Signals.parse(signal == null ? "SIGTERM" : signal);
        if (sig < 0) {
            throw new RuntimeError("invalid signal \"" + signal + "\" (a number or a name: 9, KILL, SIGKILL)");
        }
        Container ct = existing(id);
        if (addressable(ct) && store.recordedStatus(ct.runscId()).equals("paused") && sandboxAlive(ct)) {
            return killPaused(ct, sig, all); // runsc would refuse: no need to ask it first
        }
        NsExec.Ran r = runsc(ct, killArgs(ct, sig, all), false, 0);
        if (r.ok()) {
            return 0;
        }
        String msg = human(ct, RunscLogs.lastError(callLog(id)));
        String status = status(ct);
        if ("created".equals(status)) {
            // runc can signal a created container (its init dies); runsc cannot, so end the sandbox itself
            if (killSandbox(ct, "kill " + sig + " of created container " + id)) {
                return 0;
            }
            throw new RuntimeError(RuntimeError.NOT_RUNNING + ": " + id);
        }
        if ("paused".equals(status)) {
            return killPaused(ct, sig, all);
        }
        if ("stopped".equals(status) || status == null) {
            throw new RuntimeError(RuntimeError.NOT_RUNNING + ": " + id);
        }
        throw new RuntimeError("cannot signal " + id + ": runsc: " + (msg.isEmpty() ? human(ct, r.output()) : msg));
    }

    private static List<String> killArgs(Container ct, int sig, boolean all) {
        List<String> args = new ArrayList<>(List.of("kill"));
        if (all) {
            args.add("--all");
        }
        args.addAll(List.of(ct.runscId(), Integer.toString(sig)));
        return args;
    }

    /**
     * A signal for a paused container, which runsc 2022-12 refuses ("cannot signal container
     * ... in state paused"). runc signals a frozen cgroup: SIGKILL ends its processes at once
     * (the kernel kills frozen tasks: cgroup-v2.rst, cgroup.freeze), other signals stay pending
     * until it is thawed. gvshim does the same: SIGKILL ends the sandbox (the container is its
     * root container: nothing in it runs again), other signals are held and sent at resume.
     * This is what Docker's `kill`, `rm -f` and `stop` of a paused container send.
     */
    private int killPaused(Container ct, int sig, boolean all) throws RuntimeError {
        if (sig == 0) {
            return 0; // kill(2)'s existence check: it exists
        }
        if (sig != Signals.parse("KILL")) {
            try {
                store.holdSignal(ct.id(), new Containers.HeldSignal(sig, all));
            } catch (IOException e) {
                throw new RuntimeError("cannot signal " + ct.id() + ": it is paused, and its signal cannot be held for resume in "
                        + store.dir(ct.id()) + ": " + IoError.reason(e, store.dir(ct.id())));
            }
            log.debug("signal " + sig + " for paused container " + ct.id() + " held until it is resumed");
            return 0;
        }
        Containers.Sandbox sb = store.sandbox(ct.runscId());
        if (sb != null && sb.id().equals(ct.runscId())) {
            if (killSandbox(ct, "SIGKILL of paused container " + ct.id())) {
                return 0;
            }
            throw new RuntimeError(RuntimeError.NOT_RUNNING + ": " + ct.id());
        }
        // one of several containers of a pod's sandbox. runsc pauses the whole sandbox (all its containers'
        // tasks: runsc/boot Loader pause), and reports only this one paused: thaw it to kill this one. The
        // others stay running, as they would be under runc, where only this container's cgroup was frozen
        log.debug("SIGKILL of paused container " + ct.id() + ", which shares sandbox " + (sb == null ? "?" : sb.id())
                + ": the sandbox is resumed to kill it");
        NsExec.Ran r = runsc(ct, List.of("resume", ct.runscId()), false, 0);
        if (!r.ok()) {
            throw plain(ct, "kill", r);
        }
        NsExec.Ran k = runsc(ct, killArgs(ct, sig, all), false, 0);
        if (!k.ok()) {
            throw plain(ct, "kill", k);
        }
        return 0;
    }

    /** SIGKILL to the container's sandbox process, if it is still that process; whether it was sent. */
    private boolean killSandbox(Container ct, String why) {
        Containers.Sandbox sb = store.sandbox(ct.runscId());
        if (sb == null || !store.sandboxAlive(sb.pid(), sb.id())) {
            return false;
        }
        log.debug(why + ": SIGKILL to its sandbox (pid " + sb.pid() + ")");
        return ProcessHandle.of(sb.pid()).map(ProcessHandle::destroyForcibly).orElse(false); // SIGKILL, no FFM linking
    }

    public int delete(String id, boolean force) throws RuntimeError {
        checkId(id);
        Container ct = store.load(id);
        if (ct == null) {
            String hidden = store.hiddenBecause(id, euid);
            if (hidden != null) {
                // runc's answer for a container the caller cannot see, never a silent success
                throw new RuntimeError(RuntimeError.NOT_EXIST + ": " + id + " (" + hidden + ")");
            }
            if (isForeign(id)) {
                ct = foreign(id);
            } else if (store.exists(id)) {
                store.remove(id); // what a create interrupted before its record was written left
                return 0;
            } else if (force) {
                return 0; // runc: deleting nothing by force is success (containerd's cleanup call)
            } else {
                throw new RuntimeError(RuntimeError.NOT_EXIST + ": " + id);
            }
        }
        if (!addressable(ct)) {
            // runsc has no container by this id (a create interrupted before runsc's): gvshim's part only
            cleanup(ct);
            return 0;
        }
        String own = store.recordedStatus(ct.runscId());
        String status = effective(ct, own);
        if (status.equals("paused") && !force) {
            throw new RuntimeError("cannot delete container " + id + " that is not stopped: paused"); // runc's text
        }
        // a paused container whose sandbox died is stopped, but runsc deletes only "created" and "stopped" ones
        // without --force; with --force runsc 2022-12 removes a paused one and then panics ("invalid state
        // transition: paused => stopped", container.go Destroy): its state is gone, which is what counts
        boolean forced = force || !status.equals(own);
        List<String> args = new ArrayList<>(List.of("delete"));
        if (forced) {
            args.add("--force");
        }
        args.add(ct.runscId());
        NsExec.Ran r = runsc(ct, args, false, 0);
        if (!r.ok() && store.runscState(ct.runscId()) != null) {
            throw plain(ct, "delete", r);
        }
        cleanup(ct);
        return 0;
    }

    public int pause(String id) throws RuntimeError {
        Container ct = existing(id);
        NsExec.Ran r = runsc(ct, List.of("pause", ct.runscId()), false, 0);
        if (!r.ok()) {
            if ("stopped".equals(status(ct))) {
                throw new RuntimeError(RuntimeError.NOT_RUNNING + ": " + id);
            }
            throw plain(ct, "pause", r);
        }
        return 0;
    }

    /** `resume`, then the signals sent while it was paused ({@link #killPaused}). */
    public int resume(String id) throws RuntimeError {
        Container ct = existing(id);
        String recorded = addressable(ct) ? store.recordedStatus(ct.runscId()) : "";
        if (!effective(ct, recorded).equals(recorded)) {
            // its sandbox is dead: runsc would try to reach it first
            throw new RuntimeError(NOT_PAUSED + ": " + id);
        }
        NsExec.Ran r = runsc(ct, List.of("resume", ct.runscId()), false, 0);
        if (!r.ok()) {
            String status = status(ct);
            if (status != null && !status.equals("paused")) {
                // runc's text (libcontainer ErrNotPaused); containerd resumes a paused container that has just
                // exited, and logs this
                throw new RuntimeError(NOT_PAUSED + ": " + id);
            }
            throw plain(ct, "resume", r);
        }
        for (Containers.HeldSignal h : store.takeHeldSignals(ct.id())) {
            NsExec.Ran k = runsc(ct, killArgs(ct, h.signal(), h.all()), false, 0);
            if (!k.ok()) {
                log.warning("signal " + h.signal() + ", sent to " + id + " while it was paused, could not be delivered at"
                        + " resume: " + human(ct, firstNonEmpty(RunscLogs.lastError(callLog(id)), k.output())));
            }
        }
        return 0;
    }

    static final String NOT_PAUSED = "container not paused";

    private static String firstNonEmpty(String a, String b) {
        return a.isEmpty() ? b : a;
    }

    /** Options of exec. */
    public record ExecArgs(String id, String process, boolean detach, String pidFile, String consoleSocket, boolean tty,
            String cwd, List<String> env, String user, List<String> additionalGids, List<String> caps, boolean noNewPrivs,
            String apparmor, String processLabel, Integer preserveFds, String pidfdSocket, boolean ignorePaused,
            String cgroup, List<String> command) {
    }

    public int exec(ExecArgs a) throws RuntimeError {
        Container ct = existing(a.id());
        if (a.process() == null && a.command().isEmpty()) {
            throw new RuntimeError("exec needs a command or --process FILE (runc exec ID CMD...)", 1);
        }
        checkExecSeccomp(ct, a);
        dropped(a.tty() && a.consoleSocket() == null, "--tty without --console-socket",
                "runsc gives the process the caller's terminal only through --console-socket");
        dropped(a.noNewPrivs(), "--no-new-privs", "processes in gVisor cannot gain privileges from the host");
        dropped(a.apparmor() != null, "--apparmor", "gVisor's sandbox is the confinement; the profile is not applied");
        dropped(a.processLabel() != null, "--process-label", "SELinux labels do not apply inside gVisor");
        dropped(a.preserveFds() != null && a.preserveFds() > 0, "--preserve-fds", "runsc 2022-12 cannot pass them");
        dropped(a.pidfdSocket() != null, "--pidfd-socket", "the process is not a host process");
        dropped(a.ignorePaused(), "--ignore-paused", "runsc refuses exec in a paused sandbox either way");
        dropped(a.cgroup() != null, "--cgroup", "the sandbox has one cgroup");
        boolean terminal = a.consoleSocket() == null && a.process() != null && wantsTerminal(Path.of(a.process()));
        if (terminal && a.detach()) {
            throw new RuntimeError(NO_CONSOLE);
        }
        List<String> args = new ArrayList<>(List.of("exec"));
        if (a.process() != null) {
            args.add("--process=" + Path.of(a.process()).toAbsolutePath());
        }
        if (a.detach()) {
            args.add("--detach");
        }
        if (a.pidFile() != null) {
            args.add("--pid-file=" + Path.of(a.pidFile()).toAbsolutePath());
        }
        if (a.consoleSocket() != null) {
            args.add("--console-socket=" + Path.of(a.consoleSocket()).toAbsolutePath());
        }
        if (a.cwd() != null) {
            args.add("--cwd=" + a.cwd());
        }
        a.env().forEach(e -> args.add("--env=" + e));
        if (a.user() != null) {
            args.add("--user=" + a.user());
        }
        a.additionalGids().forEach(x -> args.add("--additional-gids=" + x));
        a.caps().forEach(x -> args.add("--cap=" + x));
        args.add(ct.runscId());
        args.addAll(a.command());
        NsExec.Ran r = runsc(ct, args, true,
                a.detach() ? NsExec.Stdio.DETACH : terminal ? NsExec.Stdio.TERMINAL : NsExec.Stdio.WAIT, false);
        if (r.ok()) {
            return 0;
        }
        String msg = RunscLogs.lastError(callLog(a.id()));
        if (!a.detach() && msg.isEmpty()) {
            return r.exitCode(); // the command's own status
        }
        throw failure(ct, "exec");
    }

    /**
     * runc puts the container's seccomp filter on every process exec'd into it; runsc does only
     * from release-20260330 (028b7f0f1: before, loader.go executeAsync starts the process with
     * no filter; measured with 2022-12: Seccomp 0 in the exec'd process's /proc/self/status,
     * and a denied mkdir succeeds). The process would run without the profile, so exec is
     * refused: a workload that replaces the binary a health check runs would otherwise get
     * unfiltered code every few seconds. The operator may accept that explicitly
     * ({@link RuntimeConfig#execWithoutSeccomp}): then every such exec is a warning in --log.
     */
    private void checkExecSeccomp(Container ct, ExecArgs a) throws RuntimeError {
        if (!Files.exists(store.dir(ct.id()).resolve(SECCOMP_MARK))) {
            return; // no profile, or the operator's oci-seccomp=false: nothing for exec to lose
        }
        RunscRelease r = RunscRelease.of(Path.of(ct.runsc()), releaseCache(true));
        if (r.filtersExec()) {
            return;
        }
        String warning = execWithoutProfile(ct.id(), r, config().execWithoutSeccomp(), execProcess(a));
        log.warning(warning);
    }

    /** What the refusal's fix offers, in the order a user should consider it. */
    static final String SECCOMP_EXEC_FIX = "run the container without a profile (docker run --security-opt"
            + " seccomp=unconfined; gVisor alone is then the boundary), or use a runsc from release-20260330 on, or accept"
            + " exec'd processes without the profile: \"execWithoutSeccomp\": true in " + RuntimeConfig.DEFAULT_FILE
            + " (or the runtime option --exec-without-seccomp)";

    /**
     * Whether an exec into container {@code id}, whose seccomp profile runsc applies, may run with
     * runsc {@code r}: null when runsc filters exec'd processes itself; the warning line for
     * --log when the operator opted in ({@code allowed}); otherwise the [SECCOMP_EXEC] refusal.
     */
    static String execWithoutProfile(String id, RunscRelease r, boolean allowed, String process) throws RuntimeError {
        if (r.filtersExec()) {
            return null;
        }
        String why = "runsc " + r.label() + " does not apply the container's seccomp profile to a process started with"
                + " exec (gVisor does from release-20260330)";
        if (!allowed) {
            throw new RuntimeError(Failure.of("SECCOMP_EXEC", "cannot exec in container " + id, null,
                    why + ", so it would run without the profile", SECCOMP_EXEC_FIX).oneLine());
        }
        return "container " + id + ": exec of " + process + " runs without the container's seccomp profile (linux.seccomp):"
                + " " + why + "; allowed by execWithoutSeccomp (" + RuntimeConfig.DEFAULT_FILE + " or --exec-without-seccomp)";
    }

    /** The exec'd process as a user would name it: its command, or process.args of --process (else the file). */
    static String execProcess(ExecArgs a) {
        if (!a.command().isEmpty()) {
            return "`" + String.join(" ", a.command()) + "`";
        }
        if (a.process() == null) {
            return "a process";
        }
        try {
            JsonNode args = JsonTree.read(Files.readAllBytes(Path.of(a.process()))).path("args");
            if (args.isArray() && !args.isEmpty()) {
                List<String> words = new ArrayList<>();
                args.forEach(w -> words.add(w.asText()));
                return "`" + String.join(" ", words) + "`";
            }
        } catch (IOException e) {
            // runsc reports an unreadable process file itself
        }
        return "the process of " + Path.of(a.process()).toAbsolutePath();
    }

    public int ps(String id, String format, List<String> psArgs) throws RuntimeError {
        Container ct = existing(id);
        JsonNode st = runscState(ct);
        if (st == null || "stopped".equals(effective(ct, st.path("status").asText()))) {
            throw new RuntimeError(RuntimeError.NOT_RUNNING + ": " + id);
        }
        List<Integer> pids = HostPids.of(st.path("pid").asInt(0), store.root(), st.path("bundle").asText(""));
        if ("json".equals(format)) {
            out.println(pids.toString().replace(" ", ""));
            return 0;
        }
        if (format != null && !"table".equals(format)) {
            throw new RuntimeError("invalid format option \"" + format + "\" (table or json)", 1);
        }
        out.print(HostPids.table(pids, psArgs));
        return 0;
    }

    public int events(String id, boolean stats, String interval) throws RuntimeError {
        Container ct = existing(id);
        List<String> args = new ArrayList<>(List.of("events"));
        if (stats) {
            args.add("--stats");
        }
        if (interval != null) {
            args.add("--interval=" + seconds(interval));
        }
        args.add(ct.runscId());
        // runsc prints a JSON object a line ({"type":"stats","id":ID,...}), every interval until it is stopped:
        // each line is passed on as it comes, with the container's own id
        NsExec.Ran r = runsc(ct, args, false, NsExec.Stdio.CAPTURE, false, line -> {
            out.println(human(ct, line));
            out.flush();
        });
        if (!r.ok()) {
            throw plain(ct, "events", r);
        }
        return 0;
    }

    /** runc takes a Go duration (5s, 1m, 500ms); runsc whole seconds. */
    static int seconds(String d) throws RuntimeError {
        var m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)?").matcher(d.strip());
        if (!m.matches()) {
            throw new RuntimeError("invalid --interval \"" + d + "\" (a duration such as 5s or 1m)", 1);
        }
        long n = Long.parseLong(m.group(1));
        String u = m.group(2) == null ? "s" : m.group(2);
        long s = switch (u) {
            case "ms" -> (n + 999) / 1000;
            case "m" -> n * 60;
            case "h" -> n * 3600;
            default -> n;
        };
        return (int) Math.max(1, Math.min(s, Integer.MAX_VALUE));
    }

    public int update(String id, String resources) throws RuntimeError {
        existing(id);
        if (resources != null) {
            try {
                byte[] json = resources.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(resources));
                JsonTree.read(json);
            } catch (JsonProcessingException e) {
                throw new RuntimeError("cannot parse --resources: " + JsonTree.plainMessage(e), 1);
            } catch (IOException e) {
                throw new RuntimeError("cannot read --resources " + resources + ": " + IoError.reason(e), 1);
            }
        }
        throw new RuntimeError("cannot update " + id + ": runsc 2022-12 fixes a sandbox's resources when it is created"
                + " (it has no update command); recreate the container with the new limits");
    }

    /**
     * `list`: runsc's list, with the containers' own ids. runsc's table is Go's tabwriter
     * (minimum width 12, padding 3: runsc/cmd/list.go, as runc's), so its columns are cut at
     * the header's offsets and laid out again for the longer or shorter ids.
     */
    public int list(String format, boolean quiet) throws RuntimeError {
        RuntimeConfig c = config();
        if (format != null && !format.equals("json") && !format.equals("table")) {
            throw new RuntimeError("invalid format option \"" + format + "\" (table or json)", 1);
        }
        boolean json = "json".equals(format);
        List<String> args = new ArrayList<>(List.of("list"));
        if (quiet) {
            args.add("--quiet");
        } else {
            args.add("--format=" + (json ? "json" : "text")); // runc's "table" is runsc's "text"
        }
        Container any = new Container("", "", store.root(), rootless, runscPath(c.runsc()).toString(), List.of(), 0, 0);
        if (!Files.isDirectory(store.root())) {
            out.print(json && !quiet ? "[]\n" : quiet ? "" : tabulate(List.of(LIST_HEADER)));
            return 0;
        }
        NsExec.Ran r = runsc(any, args, false, 0);
        if (!r.ok()) {
            throw new RuntimeError("cannot list containers in " + store.root() + ": runsc: " + r.output());
        }
        Map<String, Container> ids = store.byRunscId();
        String o = r.output();
        if (quiet) {
            o.lines().filter(l -> !l.isBlank()).map(String::strip)
                    .forEach(l -> out.println(ids.containsKey(l) ? ids.get(l).id() : l));
        } else if (json) {
            out.println(listJson(o, ids));
        } else {
            out.print(listTable(o, ids));
        }
        return 0;
    }

    private static final List<String> LIST_HEADER = List.of("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");

    private String listJson(String runscJson, Map<String, Container> ids) throws RuntimeError {
        if (runscJson.strip().equals("null") || runscJson.isBlank()) {
            return "[]";
        }
        try {
            JsonNode a = JsonTree.read(runscJson.getBytes(StandardCharsets.UTF_8));
            for (JsonNode n : a) {
                Container ct = ids.get(n.path("id").asText());
                if (ct != null && n instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
                    o.put("id", ct.id());
                    o.put("status", effective(ct, o.path("status").asText()));
                    if (o.path("bundle").asText().equals(store.dir(ct.id()).resolve("bundle").toString())) {
                        o.put("bundle", ct.bundle().toString());
                    }
                }
            }
            return JsonTree.compact(a);
        } catch (IOException e) {
            throw new RuntimeError("cannot list containers in " + store.root() + ": runsc printed no JSON: " + runscJson);
        }
    }

    /** runsc's table with gvshim's ids and statuses, laid out as Go's tabwriter would. */
    String listTable(String runscTable, Map<String, Container> ids) {
        List<String> lines = runscTable.lines().toList();
        if (lines.isEmpty()) {
            return tabulate(List.of(LIST_HEADER));
        }
        String header = lines.getFirst();
        int[] at = new int[LIST_HEADER.size()];
        for (int i = 0; i < at.length; i++) {
            at[i] = i == 0 ? 0 : header.indexOf(LIST_HEADER.get(i), at[i - 1] + 1);
            if (at[i] < 0) {
                return runscTable.endsWith("\n") ? runscTable : runscTable + "\n"; // not the table this knows
            }
        }
        List<List<String>> rows = new ArrayList<>(List.of(LIST_HEADER));
        for (String l : lines.subList(1, lines.size())) {
            if (l.isBlank()) {
                continue;
            }
            List<String> row = new ArrayList<>();
            for (int i = 0; i < at.length; i++) {
                int from = Math.min(at[i], l.length());
                int to = i + 1 < at.length ? Math.min(at[i + 1], l.length()) : l.length();
                row.add(l.substring(from, to).strip());
            }
            Container ct = ids.get(row.getFirst());
            if (ct != null) {
                row.set(0, ct.id());
                row.set(2, effective(ct, row.get(2)));
                if (row.get(3).equals(store.dir(ct.id()).resolve("bundle").toString())) {
                    row.set(3, ct.bundle().toString());
                }
            }
            rows.add(row);
        }
        return tabulate(rows);
    }

    /** Go's tabwriter.NewWriter(out, 12, 1, 3, ' ', 0): each column as wide as its widest cell plus 3, at least 12. */
    static String tabulate(List<List<String>> rows) {
        int[] w = new int[rows.getFirst().size()];
        for (List<String> r : rows) {
            for (int i = 0; i < r.size() - 1; i++) {
                w[i] = Math.max(w[i], Math.max(12, r.get(i).length() + 3));
            }
        }
        StringBuilder b = new StringBuilder();
        for (List<String> r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.size(); i++) {
                line.append(r.get(i));
                if (i < r.size() - 1) {
                    line.append(" ".repeat(w[i] - r.get(i).length()));
                }
            }
            b.append(line).append('\n');
        }
        return b.toString();
    }

    public int checkpoint(String id, String imagePath, String workPath, boolean leaveRunning, List<String> droppedOpts)
            throws RuntimeError {
        Container ct = existing(id);
        droppedOpts.forEach(o -> log.debug("checkpoint " + o + ": no runsc equivalent; ignored"));
        List<String> args = new ArrayList<>(List.of("checkpoint",
                "--image-path=" + Path.of(imagePath == null ? "checkpoint" : imagePath).toAbsolutePath()));
        if (workPath != null) {
            args.add("--work-path=" + Path.of(workPath).toAbsolutePath());
        }
        if (leaveRunning) {
            args.add("--leave-running");
        }
        args.add(ct.runscId());
        NsExec.Ran r = runsc(ct, args, false, -1);
        if (!r.ok()) {
            throw failure(ct, "checkpoint");
        }
        return 0;
    }

    public int restore(CreateArgs a, String imagePath, String workPath, boolean detach, List<String> droppedOpts)
            throws RuntimeError {
        droppedOpts.forEach(o -> log.debug("restore " + o + ": no runsc equivalent; ignored"));
        List<String> extra = new ArrayList<>(List.of(
                "--image-path=" + Path.of(imagePath == null ? "checkpoint" : imagePath).toAbsolutePath()));
        if (workPath != null) {
            extra.add("--work-path=" + Path.of(workPath).toAbsolutePath());
        }
        if (detach) {
            extra.add("--detach");
        }
        return createOrRun(a, "restore", extra);
    }

    // ---------------------------------------------------------------- helpers

    /** runc's refusal, word for word: a detached process with a terminal needs someone to take the pty. */
    static final String NO_CONSOLE = "cannot allocate tty if runc will detach without setting console socket"
            + " (process.terminal is true: pass --console-socket, or set it to false) [TERMINAL_NEEDS_CONSOLE_SOCKET]";

    /**
     * Whether an exec's process.json asks for a terminal. A pattern, not a JSON parse: containerd
     * passes --process on every exec, and a cold JSON parser costs more than the rest of the call
     * (runsc reads the file itself and reports a malformed one).
     */
    static boolean wantsTerminal(Path processJson) {
        try {
            return java.util.regex.Pattern.compile("\"terminal\"\\s*:\\s*true").matcher(Files.readString(processJson)).find();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private void dropped(boolean given, String option, String why) {
        if (given) {
            log.debug(option + " accepted and dropped: " + why);
        }
    }

    private static void checkId(String id) throws RuntimeError {
        String bad = Containers.invalidId(id);
        if (bad != null) {
            throw new RuntimeError(bad);
        }
    }

    /**
     * The container, or runc's sentinel error: gvshim's record of it; a container runsc knows by
     * this very id that gvshim did not create ({@link #foreign}); nothing else. A container of
     * another user's (root's --root used without root) does not exist for this caller, as runc
     * says, with the reason.
     */
    private Container existing(String id) throws RuntimeError {
        checkId(id);
        Container ct = store.load(id);
        if (ct != null) {
            return ct;
        }
        String hidden = store.hiddenBecause(id, euid);
        if (hidden != null) {
            throw new RuntimeError(RuntimeError.NOT_EXIST + ": " + id + " (" + hidden + ")");
        }
        if (isForeign(id)) {
            return foreign(id);
        }
        throw new RuntimeError(RuntimeError.NOT_EXIST + ": " + id);
    }

    /**
     * Whether runsc has a container by exactly {@code id} that is not one of gvshim's under its
     * runsc id (`gvshim state 6-web` must not reach gvshim's container "web" past its record).
     */
    private boolean isForeign(String id) {
        if (store.runscState(id) == null) {
            return false;
        }
        String own = Containers.idOfReadable(id);
        if (own != null) {
            Container c = store.load(own);
            return c == null || !c.runscId().equals(id);
        }
        return !Containers.looksLikeRunscId(id) || !store.byRunscId().containsKey(id);
    }

    /** A container runsc knows but gvshim did not create (runsc itself, in a shared --root): today's flags, its own id. */
    private Container foreign(String id) throws RuntimeError {
        RuntimeConfig c = config();
        Container ct = new Container(id, id, store.root(), rootless, runscPath(c.runsc()).toString(),
                containerFlags(c, rootless), 0, 0);
        try {
            Files.createDirectories(store.dir(id).resolve("logs"));
        } catch (IOException e) {
            throw new RuntimeError("cannot use " + store.root() + ": " + IoError.reason(e));
        }
        return ct;
    }

    /**
     * A container of runsc's whose id and {@code runscId} would match each other by prefix (null:
     * none). gvshim's own runsc ids never do ({@link Containers#runscIdFor}); one runsc or an
     * earlier gvshim named can.
     */
    private String clash(String runscId) {
        for (String c : store.runscIds()) {
            if (c.startsWith(runscId) || runscId.startsWith(c)) {
                Container own = store.byRunscId().get(c);
                return own == null ? c : own.id();
            }
        }
        return null;
    }

    /**
     * Whether runsc resolves the container's runsc id to exactly this container (runsc
     * matches a prefix: see {@link Containers}). False if runsc has no container by this id: a
     * runsc call would then reach any other whose id starts with it (a create interrupted before
     * runsc's state was written, then `kill`: another container). Throws when other containers'
     * ids start with it too: only a container gvshim did not name can be in that position
     * (runsc's own, or one an earlier gvshim created under the caller's id).
     */
    private boolean addressable(Container ct) throws RuntimeError {
        List<String> matches = store.prefixMatches(ct.runscId());
        if (matches.equals(List.of(ct.runscId()))) {
            return true;
        }
        if (!matches.contains(ct.runscId())) {
            return false;
        }
        Map<String, Container> own = store.byRunscId();
        List<String> others = matches.stream().filter(m -> !m.equals(ct.runscId()))
                .map(m -> own.containsKey(m) ? own.get(m).id() : m).toList();
        throw new RuntimeError("cannot address container " + ct.id() + ": runsc finds containers by id prefix, and the"
                + " ids of " + String.join(", ", others) + " also start with " + ct.runscId() + " (the id runsc knows "
                + ct.id() + " by: it was not created by this gvshim)" + "; delete " + (others.size() == 1 ? "that container"
                : "those containers") + " first, then " + ct.id() + " [RUNSC_ID_AMBIGUOUS]");
    }

    /** {@code text} from runsc with the container's own id where runsc wrote its runsc id. */
    String human(Container ct, String text) {
        if (!ct.hasOwnRunscId() || text == null || !text.contains(ct.runscId())) {
            return text;
        }
        return Pattern.compile("(?<![\\w+.-])" + Pattern.quote(ct.runscId()) + "(?![\\w+.-])").matcher(text)
                .replaceAll(Matcher.quoteReplacement(ct.id()));
    }

    private Spec readBundle(Path bundle) throws RuntimeError {
        Path config = bundle.resolve("config.json");
        Spec spec;
        try {
            spec = Spec.parse(Files.readAllBytes(config));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new RuntimeError("cannot read " + config + ": no such file (is --bundle the bundle directory?)");
        } catch (JsonProcessingException e) {
            throw new RuntimeError("cannot parse " + config + ": " + JsonTree.plainMessage(e));
        } catch (InvalidSpecException e) {
            throw new RuntimeError("invalid " + config + ": " + e.getMessage());
        } catch (java.nio.file.AccessDeniedException e) {
            throw new RuntimeError(Explain.bundleUnreadable(config).oneLine());
        } catch (IOException e) {
            throw new RuntimeError("cannot read " + config + ": " + IoError.reason(e, config));
        }
        List<String> problems = spec.problems();
        if (!problems.isEmpty()) {
            throw new RuntimeError("invalid " + config + ": " + String.join("; ", problems));
        }
        Path rootfs = bundle.resolve(spec.root().path()).normalize();
        if (Files.notExists(rootfs) || (Files.exists(rootfs) && !Files.isDirectory(rootfs))) { // else: access, below
            throw new RuntimeError("rootfs (" + rootfs + ") does not exist: the bundle has no root file system"
                    + " (root.path in " + config + ")");
        }
        Failure access = rootless ? Explain.rootfsAccess(rootfs, euid) : null;
        if (access != null) {
            throw new RuntimeError(access.oneLine());
        }
        return spec;
    }

    /** In a container's directory: runsc applies the container's seccomp profile (see {@link #checkExecSeccomp}). */
    private static final String SECCOMP_MARK = "seccomp-applied";

    private void markSeccomp(String id) throws RuntimeError {
        try {
            Files.createFile(store.dir(id).resolve(SECCOMP_MARK));
        } catch (FileAlreadyExistsException e) {
            // already marked
        } catch (IOException e) {
            throw new RuntimeError("cannot write the state of " + id + " in " + store.root() + ": "
                    + IoError.reason(e, store.dir(id)));
        }
    }

    /**
     * runsc reports the bundle it read; where that is gvshim's rewrite of the spec (in the
     * container's directory), the caller's bundle instead, as runc reports it.
     */
    String callersBundle(Container ct, String state) {
        String own = store.dir(ct.id()).resolve("bundle").toString();
        if (ct.bundle().toString().equals(own) || !state.contains(own)) {
            return state;
        }
        var q = com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance();
        return state.replaceFirst("(\"bundle\":\\s*)\"" + java.util.regex.Pattern.quote(new String(q.quoteAsString(own)))
                + "\"", "$1\"" + java.util.regex.Matcher.quoteReplacement(new String(q.quoteAsString(ct.bundle().toString())))
                + "\"");
    }

    /** runsc's OCI state of the container (null if runsc has none). */
    JsonNode runscState(Container ct) throws RuntimeError {
        if (!addressable(ct)) {
            return null;
        }
        NsExec.Ran r = runsc(ct, List.of("state", ct.runscId()), false, 0);
        if (!r.ok()) {
            return null;
        }
        try {
            return JsonTree.read(r.output().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * runsc with the container's flags. {@code diagnose}: give runsc a debug log directory (its
     * boot and gofer FATAL lines explain failures it reports as EOF). {@code capture}: 0 to
     * capture stdout (stderr merged) for parsing, -1 to relay stdio (runsc never gets the caller's).
     */
    NsExec.Ran runsc(Container ct, List<String> verbArgs, boolean diagnose, int capture) throws RuntimeError {
        return runsc(ct, verbArgs, diagnose, capture == 0 ? NsExec.Stdio.CAPTURE : NsExec.Stdio.WAIT, false);
    }

    /** {@link #runsc(Container, List, boolean, int)}, with /proc/sys/net hidden from runsc if {@code hideProcNet}. */
    NsExec.Ran runsc(Container ct, List<String> verbArgs, boolean diagnose, int capture, boolean hideProcNet)
            throws RuntimeError {
        return runsc(ct, verbArgs, diagnose, capture == 0 ? NsExec.Stdio.CAPTURE : NsExec.Stdio.WAIT, hideProcNet, null,
                null);
    }

    /** runsc with {@code stdio} (see {@link NsExec.Stdio}), and /proc/sys/net hidden from it if {@code hideProcNet}. */
    NsExec.Ran runsc(Container ct, List<String> verbArgs, boolean diagnose, NsExec.Stdio stdio, boolean hideProcNet)
            throws RuntimeError {
        return runsc(ct, verbArgs, diagnose, stdio, hideProcNet, null, null);
    }

    /** {@link #runsc(Container, List, boolean, NsExec.Stdio, boolean)}, with runsc's stdout line by line to {@code lines}. */
    NsExec.Ran runsc(Container ct, List<String> verbArgs, boolean diagnose, NsExec.Stdio stdio, boolean hideProcNet,
            java.util.function.Consumer<String> lines) throws RuntimeError {
        return runsc(ct, verbArgs, diagnose, stdio, hideProcNet, null, lines);
    }

    /** Verbs that name a container runsc does not have yet: nothing to resolve. */
    private static final java.util.Set<String> NEW = java.util.Set.of("create", "run", "restore");

    /**
     * {@link #runsc(Container, List, boolean, NsExec.Stdio, boolean)}; with {@code lines}, runsc's stdout
     * line by line as it comes; for the verbs that start the sandbox, gvshim-nsexec's nodev copies
     * ({@code nodevFile}, null: none). A call that names an existing container runs only if runsc
     * will resolve the id to that container alone ({@link #addressable}): runsc finds ids by prefix.
     */
    NsExec.Ran runsc(Container ct, List<String> verbArgs, boolean diagnose, NsExec.Stdio stdio, boolean hideProcNet,
            Path nodevFile, java.util.function.Consumer<String> lines) throws RuntimeError {
        if (!ct.id().isEmpty() && !NEW.contains(verbArgs.getFirst()) && !addressable(ct)) {
            throw new RuntimeError(RuntimeError.NOT_EXIST + ": " + ct.id());
        }
        List<String> argv = new ArrayList<>();
        argv.add("runsc");
        argv.add("--root=" + store.root());
        Path dir = store.dir(ct.id().isEmpty() ? "" : ct.id());
        boolean ownLog = !ct.id().isEmpty() && Files.isDirectory(dir);
        if (ownLog) {
            Path callLog = callLog(ct.id());
            logged.add(ct.id());
            try {
                Files.deleteIfExists(callLog); // one runsc call's errors only
            } catch (IOException e) {
                throw new RuntimeError("cannot use " + dir + ": " + IoError.reason(e, dir));
            }
            argv.add("--log=" + callLog);
            argv.add("--log-format=json");
            if (diagnose) {
                argv.add("--debug-log=" + store.debugLogs(ct.id()) + "/");
            }
        }
        argv.addAll(ct.flags());
        argv.addAll(verbArgs);
        log.debug("runsc " + String.join(" ", argv.subList(1, argv.size())));
        Path errorFile = (ownLog ? dir : store.root()).resolve("nsexec-" + ProcessHandle.current().pid() + ".err");
        List<String> relayLog = new ArrayList<>();
        if (g.log() != null) {
            relayLog.addAll(List.of("--log", Path.of(g.log()).toAbsolutePath().toString(), "--log-format",
                    "text".equals(g.logFormat()) ? "text" : "json"));
        }
        if (!ct.id().isEmpty()) {
            relayLog.addAll(List.of("--id", ct.id()));
        }
        return NsExec.run(ct, ct.runsc(), argv.subList(1, argv.size()), env, stdio, relayLog, hideProcNet, nodevFile,
                errorFile, lines);
    }

    /**
     * runsc's --log for the calls of this gvshim process (runsc appends; a container's calls
     * can run concurrently, so one file per gvshim pid, removed by {@link #close()}).
     */
    private Path callLog(String id) {
        return store.dir(id).resolve("runsc-" + ProcessHandle.current().pid() + ".log");
    }

    /** Removes this call's runsc log files. */
    public void close() {
        for (String id : logged) {
            try {
                Files.deleteIfExists(callLog(id));
            } catch (IOException e) {
                // removed with the container
            }
        }
    }

    /** runsc failed at `verb`: the diagnosis engine's one line (cause and fix). */
    private RuntimeError failure(Container ct, String verb) {
        String msg = human(ct, RunscLogs.oneLine(RunscLogs.lastError(callLog(ct.id()))));
        // this call's errors only: the debug logs keep every earlier call's too
        List<String> fatal = new ArrayList<>(RunscLogs.newFatalLines(store.debugLogs(ct.id())).stream()
                .map(l -> human(ct, l)).toList());
        fatal.remove(msg);
        if (!msg.isEmpty()) {
            log.warning("runsc " + verb + ": " + msg);
        }
        String spec = SpecTypes.fromGoError(msg);
        if (spec != null) {
            // a field gvshim's own check does not know: runsc's Go error, as a field and its type
            return new RuntimeError("invalid " + ct.bundle().resolve("config.json") + ": " + spec);
        }
        Failure f;
        try {
            Explain explain = new Explain(() -> {
                try {
                    return Facts.read(Path.of("/"), env, ct.runsc());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            f = explain.runsc(msg, fatal);
        } catch (RuntimeException e) {
            f = Failure.of("RUNSC_FAILED", "cannot " + verb + " the gVisor sandbox", "runsc: " + msg, null, null);
        }
        String what = f.what().replace("cannot start the gVisor sandbox", "cannot " + verb + " container " + ct.id());
        return new RuntimeError(new Failure(f.id(), what, f.evidence(), f.why(), runtimeFix(f), f.exitCode()).oneLine());
    }

    /** The diagnosis engine speaks to `gvshim run` users; a runtime's user fixes things elsewhere. */
    static String runtimeFix(Failure f) {
        return switch (f.id()) {
            case "COMMAND_NOT_FOUND", "COMMAND_NOT_EXECUTABLE" ->
                "check the container's command and its image (process.args and root in config.json)";
            case "NETWORK_SANDBOX_UNSUPPORTED" -> "add \"runtimeArgs\": [\"--network=none\"] to this runtime in "
                    + "/etc/docker/daemon.json (or the containerd runtime's options), or set \"network\": \"none\" in "
                    + RuntimeConfig.DEFAULT_FILE;
            default -> f.fix();
        };
    }

    private RuntimeError plain(Container ct, String verb, NsExec.Ran r) {
        String msg = RunscLogs.lastError(callLog(ct.id()));
        String text = human(ct, RunscLogs.oneLine(msg.isEmpty() ? r.output().strip() : msg));
        if (text.contains("does not exist")) {
            return new RuntimeError(RuntimeError.NOT_EXIST + ": " + ct.id());
        }
        return new RuntimeError("cannot " + verb + " " + ct.id() + ": runsc: " + text);
    }

    /** Removes what runsc and gvshim hold for the container: sandbox, state, holder, logs. */
    private void cleanup(Container ct) {
        if (store.runscState(ct.runscId()) != null) {
            try {
                runsc(ct, List.of("delete", "--force", ct.runscId()), false, 0);
            } catch (RuntimeError e) {
                log.debug("cleanup of " + ct.id() + ": " + e.getMessage());
            }
        }
        Container saved = store.load(ct.id());
        Rootless.release(saved != null ? saved : ct);
        store.remove(ct.id());
    }

    /** `features`: the OCI features document, for this configuration and runsc. */
    public int printFeatures(String version) throws RuntimeError {
        RuntimeConfig c = config();
        RunscRelease release = RunscRelease.UNKNOWN;
        try {
            Path runsc = Runsc.locate(c.runsc(), env.get("PATH"));
            if (runsc != null) {
                release = RunscRelease.of(runsc, releaseCache(false)); // features changes nothing on the host
            }
        } catch (Runsc.RunscNotFoundException e) {
            // the document then claims only what every release honours
        }
        out.print(Features.json(version, !Boolean.FALSE.equals(ociSeccomp(c)), release, c.execWithoutSeccomp())); // ends with its newline, as runc's json.Encoder
        out.flush();
        return 0;
    }

    /**
     * The operator's choice of runsc --oci-seccomp: TRUE or FALSE when configured (config file,
     * --runsc-flag, runtimeArgs, or an annotation where allowFlagOverride lets containers set
     * flags), null when not. Unset, gvshim passes it whenever the spec has a seccomp profile.
     */
    static Boolean ociSeccomp(RuntimeConfig c) {
        Boolean b = null;
        String v = c.flags().get("oci-seccomp");
        if (v != null) {
            b = v.isEmpty() || Boolean.parseBoolean(v) || v.equals("1");
        }
        for (String r : c.raw()) {
            if (r.equals("--oci-seccomp") || r.equals("-oci-seccomp") || r.matches("--?oci-seccomp=(true|1)")) {
                b = true;
            } else if (r.matches("--?oci-seccomp=(false|0)")) {
                b = false;
            }
        }
        return b;
    }

    /**
     * Where `runsc --version` is remembered: not in --root, which holds containers only
     * (/var/cache/gvshim for root; $XDG_CACHE_HOME/gvshim or ~/.cache/gvshim otherwise), or
     * null: then runsc is asked each time. Created if {@code create}.
     */
    private Path releaseCache(boolean create) {
        String xdg = env.get("XDG_CACHE_HOME");
        String home = env.get("HOME");
        Path d = euid == 0 ? Path.of("/var/cache/gvshim") : xdg != null && xdg.startsWith("/") ? Path.of(xdg, "gvshim")
                : home != null && home.startsWith("/") ? Path.of(home, ".cache", "gvshim") : null;
        if (d == null || !create) {
            return d != null && Files.isDirectory(d) ? d : null;
        }
        try {
            Files.createDirectories(d);
            return d;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The one rule for the spec's isolation fields ({@link SpecPolicy}): refused with one line,
     * or what runsc must get; moot fields are said once in --log (info), fields runsc ignores
     * without weakening anything as a warning, gvshim's exact rewrites with --debug.
     */
    private SpecPolicy.Result checkSpec(Spec spec, Path bundle, RuntimeConfig c, String id, Path runsc, Path mountDir)
            throws RuntimeError {
        String off = Boolean.FALSE.equals(ociSeccomp(c)) ? "in this runtime's configuration (" + RuntimeConfig.DEFAULT_FILE
                + ", --runsc-flag or runtimeArgs)" : null;
        SpecPolicy.Result r;
        try {
            r = SpecPolicy.check(spec, SpecPolicy.Context.of(SpecPolicy.Mode.RUNTIME, "container " + id, bundle, !rootless,
                    off, () -> RunscRelease.of(runsc, releaseCache(true)), mountDir));
        } catch (SpecPolicy.Refused e) {
            throw new RuntimeError(e.failure().oneLine());
        }
        if (!r.moot().isEmpty()) {
            log.info("container " + id + ": spec fields gVisor's design makes moot: " + String.join("; ", r.moot()));
        }
        r.ignored().forEach(w -> log.warning("container " + id + ": " + w));
        r.rewrites().forEach(w -> log.debug("container " + id + ": runsc gets " + w));
        String overlay = c.flags().getOrDefault("overlay2", c.flags().getOrDefault("overlay", "none"));
        if (!r.nodev().isEmpty() && !overlay.equals("none") && !overlay.equals("false")) {
            // the gofer then remounts the root read-only itself (runsc/cmd/gofer.go:416), which clears nodev
            log.warning("container " + id + ": with runsc's overlay over the root file system (" + overlay + "), a device"
                    + " node in the image's own files is not kept closed; in bind mounts it is");
        }
        return r;
    }

    /**
     * The mount points gvshim-nsexec mounts the nodev copies on, and the empty file masked files
     * get, in the container's own directory; returns the nodev list for gvshim-nsexec (null: none).
     */
    private Path prepareMounts(SpecPolicy.Result r, String id, Path mountDir) throws RuntimeError {
        if (r.nodev().isEmpty() && r.emptyFile() == null) {
            return null;
        }
        try {
            Files.createDirectories(mountDir);
            if (r.emptyFile() != null) {
                Files.deleteIfExists(r.emptyFile());
                Files.createFile(r.emptyFile(), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--")));
            }
            if (r.nodev().isEmpty()) {
                return null;
            }
            java.io.ByteArrayOutputStream list = new java.io.ByteArrayOutputStream();
            for (SpecPolicy.NodevBind b : r.nodev()) {
                if (b.directory()) {
                    Files.createDirectories(b.target());
                } else if (!Files.exists(b.target())) {
                    Files.createFile(b.target());
                }
                list.writeBytes(b.entry());
            }
            Path file = store.dir(id).resolve("nodev.list");
            Files.write(file, list.toByteArray());
            return file;
        } catch (IOException e) {
            throw new RuntimeError("cannot prepare the mounts of " + id + " in " + mountDir + ": " + IoError.reason(e, mountDir));
        }
    }

    /**
     * The spec runsc reads when gvshim had to change it, in the container's own directory (the
     * caller's bundle is never modified): root.path and relative bind sources made absolute
     * against the caller's bundle, as runsc would have resolved them.
     */
    static Path writeRunBundle(Spec spec, Path bundle, Path dir) throws RuntimeError {
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
            throw new RuntimeError("cannot write the spec runsc reads to " + dir + ": " + IoError.reason(e, dir));
        }
        return dir;
    }
}
