package dev.gvshim.train;

import dev.gvshim.call.Call;
import dev.gvshim.call.OneShotProcesses;
import dev.gvshim.call.Trace;
import dev.gvshim.call.WaitingHandover;
import dev.gvshim.cli.Cli;
import dev.gvshim.container.RunDir;
import dev.gvshim.container.RunRequest;
import dev.gvshim.container.RunSpec;
import dev.gvshim.container.RootChecks;
import dev.gvshim.container.StateDir;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.Specs;
import dev.gvshim.runsc.RunscConfig;
import dev.gvshim.server.Client;
import dev.gvshim.server.Server;
import dev.gvshim.server.ServerDir;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.Planner;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The AOT caches' training runs (src/main/dist/build-runtime.sh, at `mvn package`; not part of
 * the installation's classes). The launcher runs this class instead of dev.gvshim.Main when
 * GVSHIM_AOT_TRAIN is set, with the production class path plus this jar: the cache records
 * what the workload loads and links, and a production run, whose class path is a prefix of the
 * training's, uses it.
 *
 * <ul>
 * <li>no argument: lib/gvshim.aot, what `gvshim run` and `gvshim spec` do before runsc starts
 * (argument parsing, host facts, planning, spec generation and parsing, state and run
 * directories, the FFM calls and a clone()d child), through the CLI with /bin/true as runsc,
 * each call handed over to a {@link WaitingHandover} instead of gvshim-waiter;
 * <li>{@code runtime}: lib/runtime.aot, the runc verbs as Docker calls them (each call is a
 * JVM start: a `docker run` makes four), against /bin/true as runsc.
 * </ul>
 */
public final class Train {
    private Train() {
    }

    public static void main(String[] args) {
        PrintStream err = System.err;
        // what every production call loads besides the workload: Main, its trace mark, the one-shot hand-over
        dev.gvshim.linux.Trace.mark("training of " + dev.gvshim.Main.class.getSimpleName());
        new dev.gvshim.call.OneShotHandover(System.out, err);
        int status;
        if (args.length == 1 && args[0].equals("runtime")) {
            status = runtimeOnly(err);
        } else if (args.length == 0) {
            Linux.warmUpInBackground(); // as Main does for gvshim's own verbs: the link thread's classes are cached too
            status = ownVerbs(err);
        } else {
            err.println("gvshim training: unknown workload " + String.join(" ", args) + " (runtime, or none for gvshim's own"
                    + " verbs)");
            status = 2;
        }
        System.out.flush();
        err.flush();
        System.exit(status); // a normal exit: the JVM writes the AOT cache at exit
    }

    /** A call of this process in {@code cwd}, its output discarded, handing over by waiting for runsc. */
    private static Call call(Path cwd) {
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
        Map<String, String> env = System.getenv();
        Trace trace = new Trace(env, System.err);
        String home = System.getProperty("gvshim.home");
        String launcher = System.getProperty("gvshim.launcher");
        return new Call(Long.toString(ProcessHandle.current().pid()), env, cwd, Call.Stdio.of(System.in, sink, sink),
                () -> (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"),
                home == null ? null : Path.of(home), launcher == null ? null : Path.of(launcher),
                new OneShotProcesses(trace), new WaitingHandover(), trace);
    }

    /**
     * The runtime verbs as Docker calls them, against /bin/true as runsc: the verbs' parsing, the
     * state directory, the log lines, the sentinel errors and the spawn of runsc. The runtime
     * cache gets only the calls of a container's start and end (create, start, state, kill,
     * delete), because the AOT cache loads all it holds on every call; exec, ps, pause and
     * friends load their few extra classes from the jar.
     */
    private static void runtime(Path tmp, Path bundle, boolean hotOnly) {
        String root = tmp.resolve("rt").toString();
        String log = tmp.resolve("rt-log.json").toString();
        String pid = tmp.resolve("rt.pid").toString();
        List<List<String>> calls = List.of(
                List.of("--version"),
                List.of("features"),
                List.of("create", "--bundle", bundle.toString(), "--pid-file", pid, "c1"),
                List.of("start", "c1"),
                List.of("state", "c1"),
                List.of("ps", "--format", "json", "c1"),
                List.of("exec", "--process", tmp.resolve("p.json").toString(), "--detach", "--pid-file", pid, "c1"),
                List.of("kill", "c1", "15"),
                List.of("kill", "c1", "SIGKILL"),
                List.of("pause", "c1"),
                List.of("resume", "c1"),
                List.of("delete", "c1"),
                List.of("delete", "--force", "c1"),
                List.of("state", "../x"),
                List.of("start", "nosuch"));
        Set<String> hot = Set.of("create", "start", "state", "kill", "delete");
        for (List<String> c : calls) {
            if (hotOnly && !hot.contains(c.getFirst())) {
                continue;
            }
            List<String> argv = new ArrayList<>(List.of("--root", root, "--log", log, "--log-format", "json",
                    "--runsc", "/bin/true"));
            argv.addAll(c);
            Cli.execute(call(tmp), argv.toArray(String[]::new));
        }
    }

    /**
     * The training bundle: `runc spec`'s, without a terminal as dockerd writes it for `docker run`
     * without -t (a detached `create` with a terminal and no --console-socket is refused, and
     * the calls after it would train nothing).
     */
    private static Spec bundle() {
        Spec s = Specs.example(List.of("sh", "-c", "echo \"hi\"\tthere"), "t");
        s.process().terminal(false);
        return s;
    }

    private static int runtimeOnly(PrintStream err) {
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("gvshim-train");
            Path rootfs = Files.createDirectories(tmp.resolve("bundle/rootfs"));
            Files.write(tmp.resolve("bundle/config.json"), bundle().toJson());
            runtime(tmp, rootfs.getParent(), true);
            return 0;
        } catch (IOException | RuntimeException e) {
            err.println("gvshim training (runtime): " + e);
            return 1;
        } finally {
            if (tmp != null) {
                RunDir.existing(tmp).delete();
            }
        }
    }

    /**
     * The server's path: a server bound in {@code tmp}, serving calls of this process through its
     * socket (the Java client, this process's stdio), then stopped; so that the call that starts a
     * server (`gvshim server run`, with this cache) does not load the server's classes from the jar.
     */
    private static void server(Path tmp) throws IOException, SyscallException {
        Path dir = Files.createDirectory(tmp.resolve("server"),
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        ServerDir where = new ServerDir(dir, ServerDir.name("train", "", ServerDir.ownUserns()));
        Server s = new Server(new Server.Config(where, "train", null, 0, Linux.geteuid()), Cli.serverDispatcher());
        if (!s.bind()) {
            return;
        }
        Thread loop = Thread.ofPlatform().start(() -> {
            try {
                s.loop();
            } catch (SyscallException e) {
                // the training goes on without the rest of the server's path
            }
        });
        String rt = tmp.resolve("server-root").toString();
        int devnull = Linux.open("/dev/null", Linux.O_RDWR | Linux.O_CLOEXEC, 0);
        try {
            for (List<String> args : List.of(List.of("gvshim", "--version"), List.of("gvshim", "--root", rt, "state", "nope"),
                    List.of("gvshim", "--root", rt, "list"), List.of("gvshim", "server", "status"))) {
                Client.call(where, "train", "", tmp.toString(), args, Map.of("PATH", "/usr/bin:/bin"),
                        new int[] {devnull, devnull, devnull});
            }
        } finally {
            Linux.closeQuietly(devnull);
        }
        s.stop("training over");
        try {
            loop.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int ownVerbs(PrintStream err) {
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("gvshim-train");
            Path rootfs = Files.createDirectories(tmp.resolve("bundle/rootfs"));
            Map<String, String> env = System.getenv();
            Caller host = Caller.read(Path.of("/"), env.get("PATH"));
            for (Mode m : Mode.values()) {
                try {
                    Planner.plan(m, host);
                } catch (dev.gvshim.failure.GvshimException e) {
                    // a host without subordinate ids
                }
            }
            int euid = host.status().euid();
            Path state = RootChecks.prepare(tmp.resolve("state"), euid, false);
            // The default state directory as every call without --root looks for it: the free name
            // (created, then found), and a name taken by someone else (a listing of /tmp, flock, a random name).
            StateDir.prepareDefault(Map.of(), euid, -1, tmp);
            StateDir.prepareDefault(Map.of(), euid, -1, tmp);
            Path taken = Files.createDirectory(tmp.resolve("taken"));
            Files.createSymbolicLink(taken.resolve("gvshim-" + euid), tmp);
            StateDir.prepareDefault(Map.of(), euid, -1, taken);
            StateDir.find(Map.of(), euid, -1);
            RunDir dir = RunDir.create(state);
            RunRequest req = new RunRequest(List.of("/bin/echo", "hello"), null, Path.of("/"),
                    List.of(new RunRequest.BindMount(tmp, "/mnt", true)), List.of(), null, List.of("A=1", "TERM"), false,
                    RunscConfig.Network.NONE, 5.0, 2, null, null, null, Mode.AUTO, RunRequest.Tty.AUTO, null, null, null,
                    false, false, false, false);
            RunSpec.Context ctx = new RunSpec.Context(env, tmp, state, "/bin/true", List.of("true"), 1024, 1024);
            Spec spec = RunSpec.generate(req, ctx);
            Files.write(dir.config(), spec.toJson());
            Spec back = Spec.parse(Files.readAllBytes(dir.config()));
            // Quotes and escapes in the strings: Jackson's parser takes another path for them.
            Files.write(tmp.resolve("bundle/config.json"), bundle().toJson());
            RunSpec.fromBundle(Spec.parse(Files.readAllBytes(tmp.resolve("bundle/config.json"))), rootfs.getParent(), req, ctx);
            Specs.toRootless(back, 1000, 1000).toJson();
            new RunscConfig(dir.runscRoot(), dir.runscLog(), dir.debugLogDir(), RunscConfig.Network.NONE, null, false, false)
                    .toFlags();

            Linux.isatty(0);
            int[] pipe = Linux.pipe2(Linux.O_CLOEXEC);
            Linux.inheritable(pipe[0]);
            Linux.mkfifo(dir.startedFifo().toString(), 0600);
            int fifo = Linux.open(dir.startedFifo().toString(), Linux.O_RDONLY | Linux.O_NONBLOCK | Linux.O_CLOEXEC, 0);
            int sock = Linux.listenUnix(dir.consoleSocket().toString());
            Linux.write(pipe[1], new byte[] {'G'}, "train");
            Linux.read(pipe[0], new byte[1], 0, 1);
            Linux.closeQuietly(pipe[0], pipe[1], fifo, sock);
            Spawner.Completed done = Spawner.run("/bin/true", List.of("true"), List.of(), Step.PROBE);
            if (!done.ok()) {
                err.println("gvshim training: /bin/true: " + done.status());
                return 1;
            }
            try {
                Linux.close(-1);
            } catch (SyscallException e) {
                new Explain(Facts.read(Path.of("/"), env, host, null)).syscall(e.in(Step.CREATE_USERNS));
                Errno.name(e.errno());
            }
            dir.delete();
            RunDir.collectGarbage(state);

            // The real launch path, twice (generated spec and bundle), with /bin/true as runsc; and spec.
            for (List<String> args : List.of(
                    List.of("run", "--root", state.toString(), "--runsc", "/bin/true", "-e", "A=1", "--mount", tmp + ":/mnt:ro",
                            "--timeout", "5", "--network", "none", "--userns", "auto", "--", "/bin/echo", "hi"),
                    List.of("run", "--root", state.toString(), "--runsc", "/bin/true", "--bundle", tmp.resolve("bundle").toString()),
                    List.of("spec", "--bundle", Files.createDirectory(tmp.resolve("spec")).toString()))) {
                int status = Cli.execute(call(tmp), args.toArray(String[]::new));
                if (status != 0) {
                    err.println("gvshim training: gvshim " + String.join(" ", args) + ": exit " + status);
                }
            }
            runtime(tmp, rootfs.getParent(), false);
            server(tmp);
            return 0;
        } catch (IOException | SyscallException | dev.gvshim.failure.GvshimException | RuntimeException e) {
            err.println("gvshim training: " + e);
            return 1;
        } finally {
            if (tmp != null) {
                RunDir.existing(tmp).delete();
            }
        }
    }
}
