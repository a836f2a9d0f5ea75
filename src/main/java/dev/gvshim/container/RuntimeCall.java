package dev.gvshim.container;

import dev.gvshim.call.Call;
import dev.gvshim.call.Launch;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.runsc.NsExecFailure;
import dev.gvshim.runsc.Runsc;
import dev.gvshim.runsc.RunscCommand;
import dev.gvshim.runsc.RunscConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One call of a runc-compatible verb: the caller's {@link Call}, the runtime's options, its
 * --log, the state directory ({@code --root}, shared with runc and runsc as Docker passes it;
 * gvshim's own record of a container is in {@link Containers}), and every runsc call the verb
 * makes. runsc always writes its errors to a private log, and gvshim appends its diagnosis
 * (cause and fix, from the same engine as `gvshim doctor`) to the caller's --log, so Docker
 * shows that instead of runsc's "EOF".
 *
 * <p>As root runsc runs as it would under runc's name. For a caller without root, runsc's
 * --rootless refuses `create`, so the container gets a user namespace of its own, held by a
 * tiny native process ({@link Holder}), and every runsc call for it enters that namespace
 * first (gvshim-nsexec: setns, then execve).
 */
public final class RuntimeCall implements AutoCloseable {
    final Call call;
    final RuntimeOptions opts;
    final RuntimeLog log;
    final Containers store;
    final boolean rootless;
    final int euid;
    final Lookup lookup;
    private RuntimeConfig config;
    /** A detached sandbox's log and on-exit argv file (`gvshim run -d`): its create's relay writes there. */
    private Path output;
    private Path then;
    /** A foreground run or exec: the signals the caller's process receives go to the container's ({@link ForwardedSignals}). */
    private boolean forwardSignals;
    private int consoleRows;
    private int consoleCols;
    private Path signalPidFile;
    /** Containers whose runsc log this call wrote (removed by {@link #close()}). */
    private final Set<String> logged = new HashSet<>();

    public RuntimeCall(Call call, RuntimeOptions opts) throws GvshimException {
        this(call, opts, Path.of("/proc"));
    }

    /** With the process file system at {@code proc} (unit tests: sandboxes that are files). */
    RuntimeCall(Call call, RuntimeOptions opts, Path proc) throws GvshimException {
        this.call = call;
        this.opts = opts;
        this.log = new RuntimeLog(opts.log() == null ? null : call.absolute(opts.log()), opts.logFormat(), opts.debug(),
                call.err());
        if (opts.logFormat() != null && !opts.logFormat().equals("text") && !opts.logFormat().equals("json")) {
            // runc's configLogrus: its text and status 1
            throw RuntimeFailures.args("invalid log-format: " + opts.logFormat() + " (text or json)", Exit.RUNTIME);
        }
        this.euid = effectiveUid(call);
        this.rootless = switch (opts.rootless() == null ? "auto" : opts.rootless()) {
            case "true" -> true;
            case "false" -> false;
            case "auto" -> euid != 0;
            default -> throw RuntimeFailures.args("--rootless must be true, false or auto, not \"" + opts.rootless() + "\"",
                    Exit.USAGE);
        };
        if (!rootless && euid != 0) {
            throw RuntimeFailures.of("NEEDS_ROOT", "--rootless false needs root: run as root, or use --rootless auto");
        }
        this.store = new Containers(root(call, opts, euid), proc);
        this.lookup = new Lookup(this);
        call.trace().mark("runtime: state directory");
        if (opts.systemdCgroup()) {
            log.debug("--systemd-cgroup: not passed on (runsc 2022-12's systemd driver is experimental); runsc places the"
                    + " sandbox with cgroupfs");
        }
    }

    /**
     * The state directory: --root as given, once no other user can replace it or anything above
     * it (runsc's and gvshim's records there decide what runsc runs); root's /run/gvshim; else the
     * caller's own: runc uses $XDG_RUNTIME_DIR/runc, gvshim the per-user state directory's
     * "runtime" (found again, or created, by the rule of {@link StateDir}: every verb of a
     * container finds it).
     */
    private static Path root(Call call, RuntimeOptions opts, int euid) throws GvshimException {
        try {
            if (opts.root() == null && euid != 0) {
                return StateDir.prepareDefault(call.env(), euid, -1).resolve("runtime");
            }
            Path root = opts.root() != null ? call.absolute(opts.root()) : Path.of("/run/gvshim");
            RootChecks.checkRuntimeRoot(root, euid);
            return root;
        } catch (GvshimException e) {
            throw RuntimeFailures.diagnosed(RootChecks.shown(e.failure(), null));
        }
    }

    /** The caller's effective uid (a one-shot call: the owner of /proc/self, proc(5): no FFM linking). */
    private static int effectiveUid(Call call) throws GvshimException {
        try {
            return call.euid();
        } catch (IOException | RuntimeException e) {
            throw RuntimeFailures.of("PROC_UNREADABLE",
                    "cannot stat /proc/self: " + (e instanceof IOException io ? IoError.reason(io) : "unreadable")
                    + " (is /proc mounted?)");
        }
    }

    public RuntimeLog log() {
        return log;
    }

    /** The state directory ({@code --root}, or the default one) this call works in. */
    public Path root() {
        return store.root();
    }

    /** For `gvshim run -d`: a detached runsc call's relay writes to {@code output} and then execs {@code then}'s argv. */
    void detachedOutput(Path output, Path then) {
        this.output = output;
        this.then = then;
    }

    public Call call() {
        return call;
    }

    /** The next terminal runsc call's first size (the spec's process.consoleSize; 0: none). */
    void consoleSize(int rows, int cols) {
        this.consoleRows = rows;
        this.consoleCols = cols;
    }

    /**
     * The next foreground runsc call ({@code WAIT}, {@code TERMINAL}) forwards signals to the
     * container's process: its init (run), or the process whose pid runsc exec writes to
     * {@code execPidFile} (exec; null for run).
     */
    void forwardSignals(Path execPidFile) {
        this.forwardSignals = true;
        this.signalPidFile = execPidFile;
    }

    // ---------------------------------------------------------------- configuration

    /** Config file, then this call's options; loaded once per call. */
    RuntimeConfig config() throws GvshimException {
        if (config == null) {
                String env = call.env().get("GVSHIM_CONFIG");
                RuntimeConfig c = RuntimeConfig.load(opts.config() != null ? call.absolute(opts.config())
                        : env != null ? call.absolute(env) : RuntimeConfig.DEFAULT_FILE, opts.config() != null || env != null);
                if (opts.runsc() != null) {
                    c = c.withRunsc(opts.runsc());
                }
                if (opts.network() != null) {
                    c = c.withNetwork(opts.network(), " (--network)");
                }
                if (opts.platform() != null) {
                    c = c.withPlatform(opts.platform());
                }
                for (String f : opts.runscFlags()) {
                    int eq = f.indexOf('=');
                    if (eq <= 0) {
                        throw RuntimeFailures.args("--runsc-flag " + f + ": expected NAME=VALUE, e.g. --runsc-flag overlay=true",
                                Exit.USAGE);
                    }
                    c = c.withFlag(f.substring(0, eq), f.substring(eq + 1), " (--runsc-flag)");
                }
                if (opts.execWithoutSeccomp() != null) {
                    c = c.withExecWithoutSeccomp(opts.execWithoutSeccomp());
                }
                config = c.withDebug(opts.debug()).withRaw(opts.runscArgs());
        }
        return config;
    }

    /** runsc as configured (relative to the caller's directory), else from the caller's $PATH. */
    Path runscPath(String configured) throws GvshimException {
        try {
            Path p = Runsc.locateFrom(call.cwd(), configured, call.env().get("PATH"));
            if (p == null) {
                throw RuntimeFailures.of("RUNSC_MISSING",
                        "cannot find runsc in $PATH (" + call.env().getOrDefault("PATH", "") + ") or"
                        + " /usr/local/bin, /usr/bin, /usr/sbin, /bin: install gVisor (apt-get install runsc), or set \"runsc\""
                        + " in " + RuntimeConfig.DEFAULT_FILE + " or pass --runsc PATH");
            }
            return p;
        } catch (GvshimException e) {
            throw RuntimeFailures.diagnosed(e.failure()); // "cannot use runsc: --runsc PATH does not exist [RUNSC_MISSING]"
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

    /**
     * Where `runsc --version` is remembered: not in --root, which holds containers only
     * (/var/cache/gvshim for root; $XDG_CACHE_HOME/gvshim or ~/.cache/gvshim otherwise), or
     * null: then runsc is asked each time. Created if {@code create}.
     */
    Path releaseCache(boolean create) {
        String xdg = call.env().get("XDG_CACHE_HOME");
        String home = call.env().get("HOME");
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

    /** An option runc's callers pass that has no runsc equivalent: a debug line. */
    void dropped(boolean given, String option, String why) {
        if (given) {
            log.debug(option + " accepted and dropped: " + why);
        }
    }

    // ---------------------------------------------------------------- runsc

    /** The failure id of a runsc call whose caller's process went away ({@link Launch.CallerGone}). */
    static final String CALLER_GONE = "CALLER_GONE";

    /** Verbs that name a container runsc does not have yet: nothing to resolve. */
    private static final Set<String> NEW = Set.of("create", "run", "restore");

    /** runsc with the container's flags, its answer captured (stdout, stderr merged). */
    Launch.Ran runsc(Container ct, List<String> verbArgs) throws GvshimException {
        return runsc(ct, verbArgs, false, RunscCommand.Stdio.CAPTURE, false, null, null);
    }

    /**
     * runsc with the container's flags and {@code stdio}. {@code diagnose}: give runsc a debug
     * log directory (its boot and gofer FATAL lines explain failures it reports as EOF);
     * {@code hideProcNet}: /proc/sys/net hidden from it; {@code nodevFile}: gvshim-nsexec's nodev
     * copies, for the verbs that start the sandbox (null: none); {@code lines}: runsc's stdout line
     * by line as it comes. A call that names an existing container runs only if runsc will resolve
     * the id to that container alone ({@link Lookup#addressable}): runsc finds ids by prefix.
     */
    Launch.Ran runsc(Container ct, List<String> verbArgs, boolean diagnose, RunscCommand.Stdio stdio, boolean hideProcNet,
            Path nodevFile, Consumer<String> lines) throws GvshimException {
        if (!ct.id().isEmpty() && !NEW.contains(verbArgs.getFirst()) && !lookup.addressable(ct)) {
            throw RuntimeFailures.notFound(ct.id());
        }
        RunscCommand cmd = RunscCommand.of(Path.of(ct.runsc()), store.root()).flags(ct.flags()).verb(verbArgs)
                .stdio(stdio, lines).hideProcNet(hideProcNet).nodev(nodevFile).output(output, then);
        Path dir = store.dir(ct.id().isEmpty() ? "" : ct.id());
        boolean ownLog = !ct.id().isEmpty() && Files.isDirectory(dir);
        if (ownLog) {
            Path callLog = callLog(ct.id());
            logged.add(ct.id());
            try {
                Files.deleteIfExists(callLog); // one runsc call's errors only
            } catch (IOException e) {
                throw RuntimeFailures.stateIo("cannot use " + dir + ": " + IoError.reason(e, dir));
            }
            cmd.log(callLog, diagnose ? store.debugLogs(ct.id()) : null);
        }
        log.debug("runsc " + String.join(" ", cmd.runscArgs()));
        List<String> relayLog = new ArrayList<>();
        if (opts.log() != null) {
            relayLog.addAll(List.of("--log", call.absolute(opts.log()).toString(), "--log-format",
                    "text".equals(opts.logFormat()) ? "text" : "json"));
        }
        if (!ct.id().isEmpty()) {
            relayLog.addAll(List.of("--id", ct.id()));
        }
        Path userns = null;
        if (ct.rootless() && ct.holderPid() > 0) {
            if (Holder.gone(ct)) {
                throw RuntimeFailures.of("USERNS_HOLDER_GONE",
                        "the user namespace of container " + ct.id() + " is gone (its holder process "
                        + ct.holderPid() + " was killed): delete the container with `delete --force " + ct.id() + "`");
            }
            userns = Path.of("/proc/" + ct.holderPid() + "/ns/user");
        }
        Path errorFile = (ownLog ? dir : store.root()).resolve("nsexec-" + call.id() + ".err");
        cmd.relayLog(relayLog).rootless(ct.rootless(), userns).errorFile(errorFile).consoleSize(consoleRows, consoleCols);
        if (forwardSignals && ownLog && (stdio == RunscCommand.Stdio.WAIT || stdio == RunscCommand.Stdio.TERMINAL)) {
            cmd.signals(ForwardedSignals.argvFile(this, ct, userns), signalPidFile);
            forwardSignals = false;
        }
        Launch launch = cmd.launch(call.libexec("gvshim-nsexec"), call.env());
        try {
            Launch.Ran r = call.processes().run(launch);
            if (r.exitCode() == RunscCommand.NSEXEC_FAILED && cmd.wrapped() && Files.exists(errorFile)) {
                throw new GvshimException(NsExecFailure.failure(ct.id(), Files.readString(errorFile).strip()));
            }
            return new Launch.Ran(r.exitCode(), r.output().strip());
        } catch (Launch.CallerGone e) {
            throw RuntimeFailures.of(CALLER_GONE, "gvshim's caller went away while runsc ran for container " + ct.id() + ": "
                    + e.getMessage() + " (killed with SIGKILL?); the container runs on: end it with `delete --force " + ct.id() + "`");
        } catch (IOException e) {
            throw RuntimeFailures.of("RUNSC_EXEC_FAILED", "cannot run " + launch.argv().getFirst() + ": " + IoError.reason(e));
        } finally {
            try {
                Files.deleteIfExists(errorFile);
            } catch (IOException e) {
                // removed with the container
            }
        }
    }

    /**
     * runsc's --log for this call (runsc appends; a container's calls can run concurrently, so
     * one file per call, removed by {@link #close()}).
     */
    Path callLog(String id) {
        return store.dir(id).resolve("runsc-" + call.id() + ".log");
    }

    /** Removes this call's runsc log files. */
    @Override
    public void close() {
        for (String id : logged) {
            List<Path> files = new ArrayList<>(ForwardedSignals.files(this, id));
            files.add(callLog(id));
            for (Path f : files) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // removed with the container
                }
            }
        }
    }
}
