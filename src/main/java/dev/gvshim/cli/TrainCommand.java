package dev.gvshim.cli;

import dev.gvshim.container.RunDir;
import dev.gvshim.container.StateDir;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.launch.RunRequest;
import dev.gvshim.launch.RunSpec;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.Specs;
import dev.gvshim.runsc.RunscConfig;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.Planner;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim __train}: the AOT cache's training run (build-runtime.sh, at `mvn package`).
 * Exercises what `gvshim run` and `gvshim spec` do before runsc starts (argument parsing,
 * host facts, planning, spec generation and parsing, state and run directories, the FFM
 * calls and a clone()d helper) without starting a sandbox, so those classes are loaded,
 * linked and profiled ahead of time.
 */
final class TrainCommand implements Verb {
    @Override
    public String name() {
        return "__train";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("__train", "Internal: the AOT cache training workload.");
        s.usageMessage().hidden(true);
        s.addPositional(picocli.CommandLine.Model.PositionalParamSpec.builder().arity("0..1").paramLabel("runtime")
                .type(String.class).description("Train the runtime verbs only (lib/runtime.aot).").build());
        return s;
    }

    /**
     * The runtime verbs as Docker calls them (each call is a JVM start: a `docker run` makes
     * four), against /bin/true as runsc: the verbs' parsing, the state directory, the log
     * lines, the sentinel errors and the spawn of runsc.
     */
    private static void trainRuntime(Path tmp, Path bundle, boolean hotOnly) {
        PrintStream sink = new PrintStream(java.io.OutputStream.nullOutputStream());
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
        // The runtime cache: only the calls of a container's start and end (create, start, state,
        // kill, delete), because the AOT cache loads all it holds on every call; exec, ps, pause
        // and friends load their few extra classes from the jar.
        Set<String> hot = Set.of("create", "start", "state", "kill", "delete");
        for (List<String> call : calls) {
            if (hotOnly && !hot.contains(call.getFirst())) {
                continue;
            }
            List<String> argv = new java.util.ArrayList<>(List.of("--root", root, "--log", log, "--log-format", "json",
                    "--runsc", "/bin/true"));
            argv.addAll(call);
            RuntimeCli.execute(argv.toArray(String[]::new), sink, sink);
        }
    }

    /**
     * The training bundle: `runc spec`'s, without a terminal as dockerd writes it for `docker run`
     * without -t (a detached `create` with a terminal and no --console-socket is refused, and
     * the calls after it would train nothing).
     */
    private static Spec trainingBundle() {
        Spec s = Specs.example(List.of("sh", "-c", "echo \"hi\"\tthere"), "t");
        s.process().terminal(false);
        return s;
    }

    /** The runtime verbs' cache: only what a dockerd or containerd call runs. */
    private static int trainRuntimeOnly(PrintStream err) {
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("gvshim-train");
            Path rootfs = Files.createDirectories(tmp.resolve("bundle/rootfs"));
            Files.write(tmp.resolve("bundle/config.json"), trainingBundle().toJson());
            trainRuntime(tmp, rootfs.getParent(), true);
            return 0;
        } catch (IOException | RuntimeException e) {
            err.println("gvshim __train runtime: " + e);
            return 1;
        } finally {
            if (tmp != null) {
                RunDir.existing(tmp).delete();
            }
        }
    }

    @Override
    public int call(ParseResult p, PrintStream out, PrintStream err) {
        String what = p.matchedPositionalValue(0, "");
        if (what.equals("runtime")) {
            return trainRuntimeOnly(err);
        } else if (!what.isEmpty()) {
            err.println("gvshim __train: unknown workload " + what + " (runtime, or none for gvshim's own verbs)");
            return 2;
        }
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("gvshim-train");
            Path rootfs = Files.createDirectories(tmp.resolve("bundle/rootfs"));
            CommandLine cl = Cli.commandLine(new RunCommand().spec(), out, err);
            ParseResult pr = cl.parseArgs("--env", "A=1", "-e", "TERM", "--mount", tmp + ":/mnt:ro",
                    "--timeout", "5", "--network", "none", "--userns", "auto", "--", "/bin/echo", "hello");
            RunRequest req = RunCommand.request(pr, tmp);
            Map<String, String> env = System.getenv();

            Caller host = Caller.read(Path.of("/"), env.get("PATH"));
            for (Mode m : Mode.values()) {
                try {
                    Planner.plan(m, host);
                } catch (Planner.Impossible e) {
                    // a host without subordinate ids
                }
            }
            Path state = StateDir.prepare(tmp.resolve("state"), host.status().euid(), false);
            // The default state directory as every call without --root looks for it: the free name
            // (created, then found), and a name taken by someone else (a listing of /tmp, flock, a random name).
            int euid = host.status().euid();
            StateDir.prepareDefault(Map.of(), euid, -1, tmp);
            StateDir.prepareDefault(Map.of(), euid, -1, tmp);
            Path taken = Files.createDirectory(tmp.resolve("taken"));
            Files.createSymbolicLink(taken.resolve("gvshim-" + euid), tmp);
            StateDir.prepareDefault(Map.of(), euid, -1, taken);
            StateDir.find(Map.of(), euid, -1);
            RunDir dir = RunDir.create(state);
            RunSpec.Context ctx = new RunSpec.Context(env, tmp, state, "/bin/true", List.of("true"), 1024, 1024);
            Spec spec = RunSpec.generate(req, ctx);
            Files.write(dir.config(), spec.toJson());
            Spec back = Spec.parse(Files.readAllBytes(dir.config()));
            // Quotes and escapes in the strings: Jackson's parser takes another path for them.
            Files.write(tmp.resolve("bundle/config.json"), trainingBundle().toJson());
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
                err.println("gvshim __train: /bin/true: " + done.status());
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

            // The real launch path, twice (generated spec and bundle), with /bin/true as runsc.
            Path home = Path.of(System.getProperty("gvshim.home", tmp.toString()));
            for (List<String> args : List.of(
                    List.of("--root", state.toString(), "--runsc", "/bin/true", "-e", "A=1", "--", "/bin/echo", "hi"),
                    List.of("--root", state.toString(), "--runsc", "/bin/true", "--bundle", tmp.resolve("bundle").toString()))) {
                CommandLine c = Cli.commandLine(new RunCommand().spec(), out, err);
                RunRequest r = RunCommand.request(c.parseArgs(args.toArray(String[]::new)), tmp);
                try {
                    new dev.gvshim.launch.Launcher(r, env, home, err, true).launch();
                } catch (dev.gvshim.launch.Launcher.LaunchException e) {
                    err.println("gvshim __train: " + e.failure().oneLine());
                }
            }
            trainRuntime(tmp, rootfs.getParent(), false);
            return 0;
        } catch (IOException | SyscallException | dev.gvshim.container.UnsafeStateDirException
                | dev.gvshim.oci.InvalidSpecException | RuntimeException e) {
            err.println("gvshim __train: " + e);
            return 1;
        } finally {
            if (tmp != null) {
                RunDir.existing(tmp).delete();
            }
        }
    }
}
