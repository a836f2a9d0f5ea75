package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.call.Call;
import dev.gvshim.container.Delete;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.container.RuntimeOptions;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.failure.Failure;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.Exit;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.UnixSockets;
import dev.gvshim.pool.PoolSpec;
import dev.gvshim.server.Client;
import dev.gvshim.server.Dispatcher;
import dev.gvshim.server.Server;
import dev.gvshim.server.ServerDir;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim server run|start|stop|status}: the caller's long-lived gvshim server (issue 17).
 * {@code run} serves in the foreground (systemd); {@code start} starts one in the background
 * and prints its pid; {@code stop} has it stop taking calls, finish those it has and exit;
 * {@code status} prints its pid, uptime, calls served and memory, or exits 3 when none runs.
 * Failures of the server's own start are turned into the one line here, and nowhere else.
 */
final class ServerVerb implements Verb {
    static final int NOT_RUNNING = 3; // LSB init scripts' and systemctl status's "program is not running"
    static final long DEFAULT_IDLE_SECONDS = 600;

    @Override
    public String name() {
        return "server";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("server",
                "The long-lived gvshim server of the caller's user: calls of bin/gvshim are served by it instead of each"
                        + " starting a JVM.",
                "ACTION: run (in the foreground, for systemd), start (in the background; prints its pid), stop (it finishes"
                        + " its calls and exits), status (pid, uptime, calls served, memory, pools; exit 3 when none runs),"
                        + " add-pool NAME:min=N,...  (adds a warm pool to the running server, starting one if none runs),"
                        + " remove-pool NAME (destroys its sandboxes).");
        s.addPositional(PositionalParamSpec.builder().paramLabel("ACTION").type(String.class).arity("1").index("0")
                .description("run, start, stop, status, add-pool or remove-pool.").build());
        s.addPositional(PositionalParamSpec.builder().paramLabel("POOL").type(List.class).auxiliaryTypes(String.class).arity("0..*").index("1..*")
                .description("add-pool: the pools, as --pool takes them; remove-pool: their names.").build());
        s.addOption(value(names("--owner"), "PID", Long.class,
                "add-pool: remove the pool when this process ends (the Java API's JVM; each owner of the same pool holds it);"
                        + " default: it stays until remove-pool. remove-pool: end this owner's hold only."));
        s.addOption(value(names("--wait"), "SECONDS", Long.class,
                "add-pool: wait until min sandboxes are ready, or say why the pool cannot fill (default 0: do not wait)."));
        s.addOption(value(names("--idle-timeout"), "SECONDS", Long.class,
                "run, start: exit after this long without calls (default 600; 0: never)."));
        s.addOption(Options.repeated(names("--pool"), "NAME:min=N,max=N[,KEY=VALUE]...",
                "run, start: keep a warm pool of sandboxes for `gvshim run --pool NAME`; repeatable. Keys: min (ready, default 2),"
                        + " max (in all, default 8), memory (RSS of the ready ones, 512M), and the sandbox's profile: rootfs, bundle,"
                        + " mount (SRC:DST[:ro], repeatable), tmpfs, network, userns, platform, runsc, root, hostname."));
        s.addOption(value(names("--first-fd"), "FD", Integer.class, "run: serve the call waiting on this socket first (the client's start).")
                .toBuilder().hidden(true).build());
        s.addOption(flag(names("--detach"), "run: leave the caller's session (start uses it).").toBuilder().hidden(true).build());
        return s;
    }

    @Override
    public int call(ParseResult p, Call call) {
        String action = p.matchedPositionalValue(0, "");
        long idle = p.matchedOptionValue("--idle-timeout", DEFAULT_IDLE_SECONDS);
        if (idle < 0) {
            return ErrorSink.usage(call, "gvshim server", "--idle-timeout must be 0 (never) or more seconds", Exit.USAGE);
        }
        List<PoolSpec> pools = new ArrayList<>();
        try {
            for (String spec : p.matchedOptionValue("--pool", List.<String>of())) {
                PoolSpec ps = PoolSpec.parse(spec, call.cwd());
                if (pools.stream().anyMatch(x -> x.name().equals(ps.name()))) {
                    throw new IllegalArgumentException("--pool " + ps.name() + " is given twice");
                }
                pools.add(ps);
            }
        } catch (IllegalArgumentException e) {
            return ErrorSink.usage(call, "gvshim server", e.getMessage(), Exit.USAGE);
        }
        try {
            return switch (action) {
                case "run" -> run(call, idle, p.matchedOptionValue("--first-fd", -1), p.hasMatchedOption("--detach"), pools);
                case "start" -> start(call, idle, pools, true);
                case "stop", "status" -> ask(call, action);
                case "add-pool", "remove-pool" -> PoolActions.run(call, p, action, this);
                default -> ErrorSink.usage(call, "gvshim server", "unknown action \"" + action
                        + "\": run, start, stop, status, add-pool or remove-pool (see `gvshim server --help`)", Exit.USAGE);
            };
        } catch (GvshimException e) {
            return ErrorSink.failure(call, e.failure());
        } catch (IOException e) {
            return ErrorSink.failure(call, Failure.of("SERVER_FAILED", "the gvshim server failed", null, IoError.reason(e),
                    "see its log in the server directory, or run without it: GVSHIM_SERVER=off"));
        } catch (SyscallException e) {
            return ErrorSink.failure(call, Failure.of("SERVER_FAILED", "the gvshim server failed", e.callAndErrno(),
                    "a system call the server needs was refused", "run without it: GVSHIM_SERVER=off"));
        }
    }

    private record Install(String buildId, String home) {
    }

    /** The build and installation this JVM is; "dev" outside an installation (tests). */
    private static Install install(Call call) {
        if (call.home() == null) {
            return new Install("dev", "");
        }
        try {
            return new Install(Files.readString(call.home().resolve("lib/build-id")).strip(), call.home().toString());
        } catch (IOException e) {
            return new Install("dev", call.home().toString());
        }
    }

    private int run(Call call, long idle, int firstFd, boolean detach, List<PoolSpec> pools)
            throws IOException, SyscallException, GvshimException {
        if (pools.isEmpty()) { // none on the command line: the configuration file's ("pools": [...])
            String file = call.env().get("GVSHIM_CONFIG");
            pools = dev.gvshim.container.RuntimeConfig.pools(file != null ? call.absolute(file)
                    : dev.gvshim.container.RuntimeConfig.DEFAULT_FILE);
        }
        int euid = call.euid();
        Install in = install(call);
        Path dir = ServerDir.prepare(call.env(), euid, ServerDir.outerUid(euid));
        if (detach) {
            UnixSockets.setsid(); // no controlling terminal: a ^C of the shell that started it does not reach it
        }
        UnixSockets.umask(077); // the socket is bound 0600 and the log written 0600 from the start
        Server server = new Server(new Server.Config(new ServerDir(dir, ServerDir.name(in.buildId(), in.home(), ServerDir.ownUserns())), in.buildId(),
                call.home(), idle * 1000, euid), new CliDispatcher());
        if (!server.bind()) {
            if (firstFd >= 0) { // two first calls at once: the other server won; this one serves its own call and exits
                server.serveOnly(firstFd);
                return 0;
            }
            call.err().println("gvshim server: one is already running for uid " + euid + " in " + dir + " (see `gvshim server status`)");
            return 1;
        }
        server.cleanAbandoned();
        server.startPools(pools, call);
        if (firstFd >= 0) {
            server.submit(firstFd);
        }
        server.stopOnSignals(60_000);
        server.loop();
        return 0;
    }

    /** The server's own verb through its socket; not running: status exits 3, stop says so. */
    private int ask(Call call, String action) throws IOException {
        return ask(call, List.of("gvshim", "server", action));
    }

    /** {@code argv} (gvshim server ACTION ...) through the server's socket; not running: status exits 3, stop says so. */
    int ask(Call call, List<String> argv) throws IOException {
        String action = argv.get(2);
        int euid = call.euid();
        Install in = install(call);
        ServerDir where = where(call);
        int rc = where == null ? Client.NOT_RUNNING : Client.call(where, in.buildId(), in.home(), call.cwd().toString(),
                argv, call.env());
        if (rc == Client.COLD) { // another user namespace or other privileges than the server's (PeerContext)
            return ErrorSink.usage(call, "gvshim server", "the server at " + where.socket() + " runs in another context"
                    + " (user namespace, namespaces or privileges) and serves none of this caller's calls (its log says why)", 1);
        }
        if (rc == Client.NOT_RUNNING && action.endsWith("-pool")) {
            return rc; // the pool actions say it their way
        }
        if (rc == Client.NOT_RUNNING) {
            call.out().println("no gvshim server is running for uid " + euid + (where == null ? "" : " (" + where.socket() + ")"));
            return action.equals("status") ? NOT_RUNNING : 0;
        }
        return rc;
    }

    /**
     * Starts `gvshim server run --detach` in the background, unless one runs, and waits until it
     * answers (10 s at most); {@code print}: its pid on stdout.
     */
    int start(Call call, long idle, List<PoolSpec> pools, boolean print) throws IOException {
        ServerDir where = where(call);
        if (where != null && Client.running(where)) {
            if (!pools.isEmpty()) {
                return ErrorSink.usage(call, "gvshim server", "one is already running for uid " + call.euid() + ", and its pools"
                        + " stay as they are; to start it with these: gvshim server stop, then gvshim server start --pool ...", 1);
            }
            return print ? ask(call, "start") : 0; // prints the running server's pid
        }
        if (call.launcher() == null) {
            return ErrorSink.usage(call, "gvshim server", "start needs an installation (bin/gvshim); use `gvshim server run`", 1);
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (String k : List.of("PATH", "HOME", "XDG_RUNTIME_DIR", "GVSHIM_CONFIG")) { // the server's own: never the caller's JVM options
            if (call.env().get(k) != null) {
                env.put(k, call.env().get(k));
            }
        }
        env.put("LC_ALL", "C.UTF-8"); // the JVM takes the encoding of every file name from the locale it starts in
        env.put("GVSHIM_SERVER", "off");
        List<String> argv = new ArrayList<>(List.of(call.launcher().toString(), "server", "run", "--detach", "--idle-timeout",
                Long.toString(idle)));
        pools.forEach(ps -> argv.addAll(List.of("--pool", ps.toString()))); // paths resolved here, against the caller's directory
        ProcessBuilder pb = new ProcessBuilder(argv).directory(new File("/"));
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        for (int i = 0; i < 500; i++) {
            where = where == null ? where(call) : where;
            if (where != null && Client.running(where)) {
                return print ? ask(call, "start") : 0;
            }
            if (!p.isAlive()) {
                break;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                break;
            }
        }
        return ErrorSink.failure(call, Failure.of("SERVER_FAILED", "the gvshim server did not start", null,
                p.isAlive() ? "it did not answer within 10 s" : "it exited with status " + p.exitValue(),
                "see server.log in the server directory, or run without it: GVSHIM_SERVER=off"));
    }

    /** The caller's server directory and name, or null when there is no directory yet. */
    private static ServerDir where(Call call) throws IOException {
        int euid = call.euid();
        Install in = install(call);
        Path dir = ServerDir.find(call.env(), euid, ServerDir.outerUid(euid));
        return dir == null ? null : new ServerDir(dir, ServerDir.name(in.buildId(), in.home(), ServerDir.ownUserns()));
    }

    /** The CLI as the server's dispatcher: which calls the server serves so far, and running them. */
    static final class CliDispatcher implements Dispatcher {
        @Override
        public String coldReason(List<String> args) {
            String[] a = args.toArray(String[]::new);
            if (Cli.isRuntimeCall(a)) {
                return null; // the runc verbs: every program through the client (Processes)
            }
            String first = a.length == 0 ? "" : a[0];
            return switch (first) {
                // run: the server makes the namespaces, the client forks runsc into them and becomes the waiter;
                // __explain: exec'd by that waiter when runsc failed. Not doctor: it reports this process's own
                // cgroup, limits and helpers' view, which are the server's, not the caller's
                case "-v", "--version", "-h", "--help", "help", "h", "version", "completion", "spec", "run", "__explain" -> null;
                // the detached sandboxes' verbs: runtime calls (their programs through the client); not a `logs
                // --follow`, which waits for as long as the sandbox runs, nor rm --on-exit (which may wait too)
                case "ps", "exec", "stop" -> null;
                case "logs", "rm" -> args.contains("-f") && first.equals("logs") || args.contains("--follow")
                        || args.contains("--on-exit") ? "`gvshim " + first + "` waits for the sandbox in its own process" : null;
                case "server" -> a.length == 2 && List.of("status", "stop", "start").contains(a[1])
                        || a.length > 1 && List.of("add-pool", "remove-pool").contains(a[1]) ? null
                        : "`gvshim server " + String.join(" ", args.subList(1, args.size())) + "` runs in its own JVM";
                default -> "`gvshim " + first + "` is not served by the server yet";
            };
        }

        @Override
        public int run(Call call, String[] args) {
            return Cli.execute(call, args);
        }

        @Override
        public List<String> cleanAbandoned(Path root) throws GvshimException {
            // a call of the server's own process: its environment, runsc as its child (there is no caller to start it)
            java.io.PrintStream sink = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
            Call own = Cli.thisProcess(sink, sink);
            RuntimeOptions opts = new RuntimeOptions(root.toString(), null, "json", false, false, "auto", null, null, null, null,
                    List.of(), List.of(), null);
            try (RuntimeCall rc = new RuntimeCall(own, opts)) {
                return Delete.abandoned(rc);
            }
        }

        @Override
        public void internalError(Call call, Throwable t) {
            String debug = call.env().get("GVSHIM_DEBUG");
            ErrorSink.internalError(call.err(), debug != null && !debug.isEmpty(), t);
        }
    }
}
