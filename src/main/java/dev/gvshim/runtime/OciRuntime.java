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
import dev.gvshim.runsc.Runsc;
import dev.gvshim.runsc.RunscConfig;
import dev.gvshim.runsc.RunscLogs;
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
        if (store.exists(a.id())) {
            throw new RuntimeError(RuntimeError.EXISTS + ": " + a.id());
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
        if (spec.json().path("linux").has("seccomp") && !ociSeccomp(c)) {
            log.debug("the spec's seccomp profile is not applied inside the sandbox (runsc's default: gVisor's own"
                    + " kernel is the boundary); set \"runscFlags\": {\"oci-seccomp\": \"true\"} in "
                    + RuntimeConfig.DEFAULT_FILE + " to apply it as well");
        }
        Trace.mark("create: network chosen");
        boolean detached = verb.equals("create") || extra.contains("--detach");
        boolean terminal = spec.process().terminal() && a.consoleSocket() == null;
        if (terminal && detached) {
            throw new RuntimeError(NO_CONSOLE);
        }
        Path runsc = runscPath(c.runsc());
        Container ct = new Container(a.id(), bundle, rootless, runsc.toString(), containerFlags(c, rootless), 0, 0);
        try {
            StateDir.makeRuntimeRoot(store.root(), euid); // before Containers.create's createDirectories, which follows symlinks
            store.create(ct);
        } catch (UnsafeStateDirException e) {
            throw new RuntimeError(Failure.of("STATE_DIR_UNSAFE", e.what(), null, e.why(), e.fix()).oneLine());
        } catch (FileAlreadyExistsException e) {
            throw new RuntimeError(RuntimeError.EXISTS + ": " + a.id());
        } catch (IOException e) {
            throw new RuntimeError("cannot create the state of " + a.id() + " in " + store.root() + ": " + StateDir.reason(e)
                    + " (check --root)");
        }
        Trace.mark("create: state written");
        boolean done = false;
        try {
            Path runBundle = bundle;
            if (rootless) {
                ct = Rootless.prepare(ct, spec, store, env, log);
                runBundle = store.dir(a.id()).resolve("bundle");
            }
            List<String> args = new ArrayList<>(List.of(verb, "--bundle=" + runBundle));
            if (a.pidFile() != null) {
                args.add("--pid-file=" + Path.of(a.pidFile()).toAbsolutePath());
            }
            if (a.consoleSocket() != null) {
                args.add("--console-socket=" + Path.of(a.consoleSocket()).toAbsolutePath());
            }
            args.addAll(extra);
            args.add(a.id());
            // `run` starts the sandbox in the same runsc process: the same network check as `start` (see Networks)
            boolean hide = !verb.equals("create") && Networks.hidesProcNet(ct.flags());
            NsExec.Stdio stdio = detached ? NsExec.Stdio.DETACH : terminal ? NsExec.Stdio.TERMINAL : NsExec.Stdio.WAIT;
            int rc = runsc(ct, args, true, stdio, hide).exitCode();
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

    public int start(String id) throws RuntimeError {
        Container ct = existing(id);
        boolean hide = Networks.hidesProcNet(ct.flags());
        if (hide) {
            checkOwnNetwork(ct);
        }
        // a sub-container's start would hand runsc's stdio to it: relayed for as long as it lives
        NsExec.Ran r = runsc(ct, List.of("start", id), true, NsExec.Stdio.DETACH, hide);
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
        int pid = store.sandboxPid(ct.id());
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
        NsExec.Ran r = runsc(ct, List.of("state", id), false, 0);
        if (!r.ok()) {
            throw plain(ct, "state", r);
        }
        out.println(r.output());
        return 0;
    }

    public int kill(String id, String signal, boolean all) throws RuntimeError {
        int sig = Signals.parse(signal == null ? "SIGTERM" : signal);
        if (sig < 0) {
            throw new RuntimeError("invalid signal \"" + signal + "\" (a number or a name: 9, KILL, SIGKILL)");
        }
        Container ct = existing(id);
        List<String> args = new ArrayList<>(List.of("kill"));
        if (all) {
            args.add("--all");
        }
        args.addAll(List.of(id, Integer.toString(sig)));
        NsExec.Ran r = runsc(ct, args, false, 0);
        if (r.ok()) {
            return 0;
        }
        String msg = RunscLogs.lastError(callLog(id));
        JsonNode st = runscState(ct);
        String status = st == null ? "" : st.path("status").asText();
        if ("created".equals(status)) {
            // runc can signal a created container (its init dies); runsc cannot, so end the sandbox itself
            int pid = st.path("pid").asInt(0);
            log.debug("kill " + sig + " of created container " + id + ": SIGKILL to its sandbox (pid " + pid + ")");
            if (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false)) {
                return 0;
            }
            throw new RuntimeError(RuntimeError.NOT_RUNNING + ": " + id);
        }
        if ("stopped".equals(status) || st == null) {
            throw new RuntimeError(RuntimeError.NOT_RUNNING + ": " + id);
        }
        throw new RuntimeError("cannot signal " + id + ": runsc: " + (msg.isEmpty() ? r.output() : msg));
    }

    public int delete(String id, boolean force) throws RuntimeError {
        checkId(id);
        if (!store.exists(id)) {
            if (force) {
                return 0; // runc: deleting nothing by force is success (containerd's cleanup call)
            }
            throw new RuntimeError(RuntimeError.NOT_EXIST + ": " + id);
        }
        Container ct = store.load(id);
        if (ct == null) {
            ct = foreign(id);
        }
        List<String> args = new ArrayList<>(List.of("delete"));
        if (force) {
            args.add("--force");
        }
        args.add(id);
        NsExec.Ran r = runsc(ct, args, false, 0);
        if (!r.ok() && store.runscState(id) != null) {
            throw plain(ct, "delete", r);
        }
        cleanup(ct);
        return 0;
    }

    public int pause(String id) throws RuntimeError {
        return simple(id, "pause");
    }

    public int resume(String id) throws RuntimeError {
        return simple(id, "resume");
    }

    private int simple(String id, String verb) throws RuntimeError {
        Container ct = existing(id);
        NsExec.Ran r = runsc(ct, List.of(verb, id), false, 0);
        if (!r.ok()) {
            throw plain(ct, verb, r);
        }
        return 0;
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
        args.add(a.id());
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

    public int ps(String id, String format, List<String> psArgs) throws RuntimeError {
        Container ct = existing(id);
        JsonNode st = runscState(ct);
        if (st == null || "stopped".equals(st.path("status").asText())) {
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
        args.add(id);
        NsExec.Ran r = runsc(ct, args, false, -1);
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

    public int list(String format, boolean quiet) throws RuntimeError {
        RuntimeConfig c = config();
        List<String> args = new ArrayList<>(List.of("list"));
        if (quiet) {
            args.add("--quiet");
        }
        if (format != null) {
            if (!format.equals("json") && !format.equals("table")) {
                throw new RuntimeError("invalid format option \"" + format + "\" (table or json)", 1);
            }
            args.add("--format=" + format);
        }
        Container any = new Container("", store.root(), rootless, runscPath(c.runsc()).toString(), List.of(), 0, 0);
        if (!Files.isDirectory(store.root())) {
            out.println("json".equals(format) ? "[]" : quiet ? "" : "ID          PID         STATUS      BUNDLE      CREATED     OWNER");
            return 0;
        }
        NsExec.Ran r = runsc(any, args, false, 0);
        if (!r.ok()) {
            throw new RuntimeError("cannot list containers in " + store.root() + ": runsc: " + r.output());
        }
        String o = r.output();
        out.println("json".equals(format) && o.strip().equals("null") ? "[]" : o);
        return 0;
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
        args.add(id);
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

    /** The container, or runc's sentinel error. */
    private Container existing(String id) throws RuntimeError {
        checkId(id);
        Container ct = store.load(id);
        if (ct != null) {
            return ct;
        }
        if (store.runscState(id) != null) {
            return foreign(id);
        }
        throw new RuntimeError(RuntimeError.NOT_EXIST + ": " + id);
    }

    /** A container runsc knows but gvshim did not create (runsc itself, in a shared --root): today's flags. */
    private Container foreign(String id) throws RuntimeError {
        RuntimeConfig c = config();
        Container ct = new Container(id, store.root(), rootless, runscPath(c.runsc()).toString(), containerFlags(c, rootless),
                0, 0);
        try {
            Files.createDirectories(store.dir(id).resolve("logs"));
        } catch (IOException e) {
            throw new RuntimeError("cannot use " + store.root() + ": " + IoError.reason(e));
        }
        return ct;
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

    /** runsc's OCI state of the container (null if runsc has none). */
    JsonNode runscState(Container ct) throws RuntimeError {
        NsExec.Ran r = runsc(ct, List.of("state", ct.id()), false, 0);
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
        return runsc(ct, verbArgs, diagnose, capture == 0 ? NsExec.Stdio.CAPTURE : NsExec.Stdio.WAIT, hideProcNet);
    }

    /** runsc with {@code stdio} (see {@link NsExec.Stdio}), and /proc/sys/net hidden from it if {@code hideProcNet}. */
    NsExec.Ran runsc(Container ct, List<String> verbArgs, boolean diagnose, NsExec.Stdio stdio, boolean hideProcNet)
            throws RuntimeError {
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
        return NsExec.run(ct, ct.runsc(), argv.subList(1, argv.size()), env, stdio, relayLog, hideProcNet, errorFile);
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
        String msg = RunscLogs.lastError(callLog(ct.id()));
        List<String> fatal = RunscLogs.fatalLines(store.debugLogs(ct.id()));
        fatal.remove(msg);
        if (!msg.isEmpty()) {
            log.warning("runsc " + verb + ": " + msg);
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
        String text = msg.isEmpty() ? r.output().strip() : msg;
        if (text.contains("does not exist")) {
            return new RuntimeError(RuntimeError.NOT_EXIST + ": " + ct.id());
        }
        return new RuntimeError("cannot " + verb + " " + ct.id() + ": runsc: " + text);
    }

    /** Removes what runsc and gvshim hold for the container: sandbox, state, holder, logs. */
    private void cleanup(Container ct) {
        if (store.runscState(ct.id()) != null) {
            try {
                runsc(ct, List.of("delete", "--force", ct.id()), false, 0);
            } catch (RuntimeError e) {
                log.debug("cleanup of " + ct.id() + ": " + e.getMessage());
            }
        }
        Container saved = store.load(ct.id());
        Rootless.release(saved != null ? saved : ct);
        store.remove(ct.id());
    }

    /** `features`: the OCI features document, for this configuration. */
    public int printFeatures(String version) throws RuntimeError {
        out.print(Features.json(version, ociSeccomp(config()))); // ends with its newline, as runc's json.Encoder
        out.flush();
        return 0;
    }

    /** Whether runsc applies the spec's seccomp profile inside the sandbox (runsc's --oci-seccomp). */
    static boolean ociSeccomp(RuntimeConfig c) {
        String v = c.flags().get("oci-seccomp");
        return "true".equals(v) || "".equals(v) || c.raw().contains("--oci-seccomp") || c.raw().contains("--oci-seccomp=true");
    }
}
