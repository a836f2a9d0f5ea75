package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.repeated;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.linux.Trace;
import dev.gvshim.runtime.Globals;
import dev.gvshim.runtime.OciRuntime;
import dev.gvshim.runtime.RuntimeError;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * gvshim as an OCI runtime with runc's command line, as Docker, containerd and CRI-O call it:
 * {@code gvshim [RUNTIME-ARGS] --root R --log L --log-format json VERB [OPTIONS] ID}. Every
 * long option is also accepted with a single dash (Go's flag package, which go-runc users
 * write: {@code -root}), and {@code --name=value}. Runtime mode is chosen when the first
 * argument is an option other than help and version (Docker always passes --root), or a verb
 * only runtimes have (create, start, ...); {@code gvshim run -- CMD} and {@code gvshim spec}
 * keep their own meaning without global options.
 */
final class RuntimeCli {
    static final Set<String> RUNTIME_ONLY = Set.of("create", "start", "state", "kill", "delete", "exec", "ps", "events",
            "pause", "resume", "update", "list", "features", "checkpoint", "restore");
    static final Set<String> VERBS;

    static {
        Set<String> v = new java.util.LinkedHashSet<>(RUNTIME_ONLY);
        v.add("run");
        v.add("spec");
        VERBS = Set.copyOf(v);
    }

    private RuntimeCli() {
    }

    static boolean applies(String[] args) {
        if (args.length == 0) {
            return false;
        }
        String a = args[0];
        return RUNTIME_ONLY.contains(a) || (a.startsWith("-") && !Set.of("-h", "--help", "-v", "--version", "-help",
                "-version").contains(a));
    }

    /** {@code --name} and Go's {@code -name} for every long option. */
    static String[] go(String... names) {
        List<String> all = new ArrayList<>();
        for (String n : names) {
            all.add(n);
            if (n.startsWith("--")) {
                all.add(n.substring(1));
            }
        }
        return all.toArray(String[]::new);
    }

    private static OptionSpec bool(String[] names, String description) {
        // Go's booleans take an optional =true|false
        return OptionSpec.builder(names).arity("0..1").type(boolean.class).description(description).build();
    }

    static CommandSpec globals() {
        CommandSpec s = Options.command("gvshim", "gvshim as a runc-compatible OCI runtime.");
        s.interpolateVariables(false); // no ${...} in these texts; interpolating them costs ~2 ms per call
        s.addOption(value(go("--root"), "DIR", String.class, "State directory (default /run/gvshim; per user when rootless)."));
        s.addOption(value(go("--log"), "FILE", String.class, "Append errors here (containerd reads the last error line)."));
        s.addOption(value(go("--log-format"), "FORMAT", String.class, "text or json."));
        s.addOption(bool(go("--debug"), "Debug lines in --log; runsc --debug."));
        s.addOption(bool(go("--systemd-cgroup"), "Accepted (runsc places the sandbox with cgroupfs)."));
        s.addOption(value(go("--rootless"), "true|false|auto", String.class, "Rootless containers (auto: when not root)."));
        s.addOption(value(go("--criu"), "PATH", String.class, "Accepted and ignored (gVisor checkpoints itself)."));
        s.addOption(value(go("--config"), "FILE", String.class, "gvshim runtime configuration (default /etc/gvshim/config.json)."));
        s.addOption(value(go("--runsc"), "PATH", String.class, "runsc binary."));
        s.addOption(value(go("--network"), "MODE", String.class, "runsc --network: none, sandbox or host."));
        s.addOption(value(go("--platform"), "NAME", String.class, "runsc --platform: ptrace, systrap, kvm."));
        s.addOption(repeated(go("--runsc-flag"), "NAME=VALUE", "A runsc flag for every container (repeatable)."));
        s.addOption(repeated(go("--runsc-arg"), "ARG", "A runsc argument, verbatim (repeatable)."));
        s.addOption(bool(go("--exec-without-seccomp"), "Let exec run where runsc would not apply the container's seccomp"
                + " profile to the new process (runsc before release-20260330), with a warning in --log; refused otherwise."));
        s.addOption(OptionSpec.builder("-v", "--version", "-version").arity("0").type(boolean.class)
                .description("Print the version (runc's three-line form) and exit.").build());
        s.addPositional(Options.rest("VERB", "The verb and its arguments."));
        return s;
    }

    static int execute(String[] args, PrintStream out, PrintStream err) {
        Trace.mark("runtime: start");
        OciRuntime.warmUp(Arrays.asList(args).contains("create") || Arrays.asList(args).contains("run"));
        CommandLine gl = Cli.commandLine(globals(), out, err);
        gl.setStopAtPositional(true);
        ParseResult g;
        try {
            g = gl.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            err.println("gvshim: " + e.getMessage() + " (see `gvshim --help`)");
            return 2;
        }
        if (g.hasMatchedOption("--version")) {
            out.println("gvshim version " + Cli.version());
            out.println("commit: " + Cli.version());
            out.println("spec: " + Cli.SPEC_VERSION);
            return 0;
        }
        if (CommandLine.printHelpIfRequested(g)) {
            return 0;
        }
        List<String> rest = g.matchedPositionalValue(0, List.<String>of());
        if (rest.isEmpty()) {
            err.println("gvshim: missing verb after the global options (create, start, state, kill, delete, exec, ...)");
            return 2;
        }
        String verb = rest.getFirst();
        String[] verbArgs = rest.subList(1, rest.size()).toArray(String[]::new);
        Globals globals = new Globals(g.matchedOptionValue("--root", null), g.matchedOptionValue("--log", null),
                g.matchedOptionValue("--log-format", "text"), g.matchedOptionValue("--debug", false),
                g.matchedOptionValue("--systemd-cgroup", false), g.matchedOptionValue("--rootless", "auto"),
                g.matchedOptionValue("--config", null), g.matchedOptionValue("--runsc", null),
                g.matchedOptionValue("--network", null), g.matchedOptionValue("--platform", null),
                g.matchedOptionValue("--runsc-arg", List.<String>of()), g.matchedOptionValue("--runsc-flag", List.<String>of()),
                g.<Boolean>matchedOptionValue("--exec-without-seccomp", null));
        if (verb.equals("spec")) {
            return Cli.execute(rest.toArray(String[]::new), out, err);
        }
        CommandSpec vs = verbSpec(verb);
        if (vs == null) {
            err.println("gvshim: unknown verb \"" + verb + "\" (create, start, state, kill, delete, exec, run, ps, events,"
                    + " pause, resume, update, list, spec, features, checkpoint, restore)");
            return 2;
        }
        CommandLine vl = Cli.commandLine(vs, out, err);
        vl.setStopAtPositional(Set.of("exec", "ps", "kill").contains(verb));
        ParseResult p;
        try {
            p = vl.parseArgs(verbArgs);
        } catch (CommandLine.ParameterException e) {
            err.println("gvshim " + verb + ": " + e.getMessage());
            return 1;
        }
        if (CommandLine.printHelpIfRequested(p)) {
            return 0;
        }
        OciRuntime rt = null;
        Trace.mark("runtime: parsed");
        try {
            rt = new OciRuntime(globals, System.getenv(), out, err);
            Trace.mark("runtime: constructed");
            return dispatch(rt, verb, p);
        } catch (RuntimeError e) {
            if (rt != null) {
                rt.log().error(e.getMessage());
            } else {
                new dev.gvshim.runtime.RuntimeLog(globals.log() == null ? null : java.nio.file.Path.of(globals.log()),
                        globals.logFormat(), false, err).error(e.getMessage());
            }
            return e.exitCode();
        } finally {
            if (rt != null) {
                rt.close();
            }
            Trace.mark("runtime: done");
            Trace.dump();
        }
    }

    private static int dispatch(OciRuntime rt, String verb, ParseResult p) throws RuntimeError {
        List<String> pos = p.matchedPositionalValue(0, List.<String>of());
        String id = pos.isEmpty() ? null : pos.getFirst();
        if (id == null && !verb.equals("list") && !verb.equals("features")) {
            throw new RuntimeError("\"" + verb + "\" requires a container id (gvshim " + verb + " --help)");
        }
        List<String> more = pos.isEmpty() ? List.of() : pos.subList(1, pos.size());
        if (!more.isEmpty() && !Set.of("exec", "ps", "kill").contains(verb)) {
            throw new RuntimeError("\"" + verb + "\" takes one container id, not " + pos);
        }
        return switch (verb) {
            case "create" -> rt.create(createArgs(p, id));
            case "run" -> rt.run(createArgs(p, id), p.matchedOptionValue("--detach", false), p.matchedOptionValue("--keep", false));
            case "start" -> rt.start(id);
            case "state" -> rt.state(id);
            case "kill" -> {
                if (more.size() > 1) {
                    throw new RuntimeError("kill takes a container id and at most one signal, not " + pos);
                }
                yield rt.kill(id, more.isEmpty() ? null : more.getFirst(), p.matchedOptionValue("--all", false));
            }
            case "delete" -> rt.delete(id, p.matchedOptionValue("--force", false));
            case "pause" -> rt.pause(id);
            case "resume" -> rt.resume(id);
            case "exec" -> rt.exec(new OciRuntime.ExecArgs(id, p.matchedOptionValue("--process", null),
                    p.matchedOptionValue("--detach", false), p.matchedOptionValue("--pid-file", null),
                    p.matchedOptionValue("--console-socket", null), p.matchedOptionValue("--tty", false),
                    p.matchedOptionValue("--cwd", null), p.matchedOptionValue("--env", List.<String>of()),
                    p.matchedOptionValue("--user", null), p.matchedOptionValue("--additional-gids", List.<String>of()),
                    p.matchedOptionValue("--cap", List.<String>of()), p.matchedOptionValue("--no-new-privs", false),
                    p.matchedOptionValue("--apparmor", null), p.matchedOptionValue("--process-label", null),
                    p.matchedOptionValue("--preserve-fds", null), p.matchedOptionValue("--pidfd-socket", null),
                    p.matchedOptionValue("--ignore-paused", false), p.matchedOptionValue("--cgroup", null), more));
            case "ps" -> rt.ps(id, p.matchedOptionValue("--format", "table"), more);
            case "events" -> rt.events(id, p.matchedOptionValue("--stats", false), p.matchedOptionValue("--interval", null));
            case "update" -> rt.update(id, p.matchedOptionValue("--resources", null));
            case "list" -> rt.list(p.matchedOptionValue("--format", null), p.matchedOptionValue("--quiet", false));
            case "features" -> {
                if (id != null) {
                    throw new RuntimeError("\"features\" takes no arguments, not " + pos, 2);
                }
                yield rt.printFeatures(Cli.version());
            }
            case "checkpoint" -> rt.checkpoint(id, p.matchedOptionValue("--image-path", null),
                    p.matchedOptionValue("--work-path", null), p.matchedOptionValue("--leave-running", false),
                    matchedOthers(p, Set.of("--image-path", "--work-path", "--leave-running")));
            case "restore" -> rt.restore(createArgs(p, id), p.matchedOptionValue("--image-path", null),
                    p.matchedOptionValue("--work-path", null), p.matchedOptionValue("--detach", false),
                    matchedOthers(p, Set.of("--image-path", "--work-path", "--detach", "--bundle", "--pid-file",
                            "--console-socket", "--no-pivot", "--no-new-keyring", "--preserve-fds", "--pidfd-socket")));
            default -> throw new RuntimeError("unknown verb " + verb);
        };
    }

    private static List<String> matchedOthers(ParseResult p, Set<String> handled) {
        List<String> o = new ArrayList<>();
        for (OptionSpec s : p.matchedOptions()) {
            if (!handled.contains(s.longestName()) && !s.usageHelp()) {
                o.add(s.longestName());
            }
        }
        return o;
    }

    private static OciRuntime.CreateArgs createArgs(ParseResult p, String id) {
        return new OciRuntime.CreateArgs(id, p.matchedOptionValue("--bundle", null), p.matchedOptionValue("--pid-file", null),
                p.matchedOptionValue("--console-socket", null), p.matchedOptionValue("--no-pivot", false),
                p.matchedOptionValue("--no-new-keyring", false), p.matchedOptionValue("--preserve-fds", null),
                p.matchedOptionValue("--pidfd-socket", null));
    }

    private static void createOptions(CommandSpec s) {
        s.addOption(value(go("-b", "--bundle"), "DIR", String.class, "The bundle (default: the current directory)."));
        s.addOption(value(go("--pid-file"), "FILE", String.class, "Write the sandbox's host pid here."));
        s.addOption(value(go("--console-socket"), "PATH", String.class, "Send the terminal's master over this socket."));
        s.addOption(bool(go("--no-pivot"), "Accepted (gVisor never pivots on the host)."));
        s.addOption(bool(go("--no-new-keyring"), "Accepted (gVisor has no keyrings)."));
        s.addOption(value(go("--preserve-fds"), "N", Integer.class, "Accepted; runsc 2022-12 cannot pass descriptors."));
        s.addOption(value(go("--pidfd-socket"), "PATH", String.class, "Accepted and dropped."));
    }

    static CommandSpec verbSpec(String verb) {
        CommandSpec s = Options.command(verb);
        s.interpolateVariables(false);
        s.name("gvshim " + verb);
        switch (verb) {
            case "create" -> createOptions(s);
            case "run" -> {
                createOptions(s);
                s.addOption(bool(go("-d", "--detach"), "Return once the container has started."));
                s.addOption(bool(go("--keep"), "Accepted."));
            }
            case "start", "state", "pause", "resume", "features" -> {
                // just the id
            }
            case "kill" -> s.addOption(bool(go("-a", "--all"), "Signal every process of the container."));
            case "delete" -> s.addOption(bool(go("-f", "--force"), "Kill the container first if it runs."));
            case "exec" -> {
                s.addOption(value(go("-p", "--process"), "FILE", String.class, "process.json of the new process."));
                s.addOption(bool(go("-d", "--detach"), "Do not wait for the process."));
                s.addOption(value(go("--pid-file"), "FILE", String.class, "Write the exec helper's host pid here."));
                s.addOption(value(go("--console-socket"), "PATH", String.class, "Send the terminal's master here."));
                s.addOption(bool(go("-t", "--tty"), "Allocate a terminal."));
                s.addOption(value(go("--cwd"), "DIR", String.class, "Working directory."));
                s.addOption(repeated(go("-e", "--env"), "K=V", "Environment variable."));
                s.addOption(value(go("-u", "--user"), "UID[:GID]", String.class, "User."));
                s.addOption(repeated(go("-g", "--additional-gids"), "GID", "Additional group."));
                s.addOption(repeated(go("-c", "--cap"), "CAP", "Capability."));
                s.addOption(bool(go("--no-new-privs"), "Accepted."));
                s.addOption(value(go("--apparmor"), "PROFILE", String.class, "Accepted and dropped."));
                s.addOption(value(go("--process-label"), "LABEL", String.class, "Accepted and dropped."));
                s.addOption(value(go("--preserve-fds"), "N", Integer.class, "Accepted and dropped."));
                s.addOption(value(go("--pidfd-socket"), "PATH", String.class, "Accepted and dropped."));
                s.addOption(bool(go("--ignore-paused"), "Accepted."));
                s.addOption(value(go("--cgroup"), "PATH", String.class, "Accepted and dropped."));
            }
            case "ps" -> s.addOption(value(go("-f", "--format"), "FORMAT", String.class, "table or json."));
            case "events" -> {
                s.addOption(bool(go("--stats"), "Print statistics once and exit."));
                s.addOption(value(go("--interval"), "DURATION", String.class, "Interval between statistics (5s)."));
            }
            case "update" -> {
                s.addOption(value(go("-r", "--resources"), "FILE", String.class, "Resources JSON, or - for stdin."));
                for (String o : List.of("--memory", "--memory-swap", "--memory-reservation", "--kernel-memory",
                        "--kernel-memory-tcp", "--cpu-shares", "--cpu-period", "--cpu-quota", "--cpu-rt-period",
                        "--cpu-rt-runtime", "--cpuset-cpus", "--cpuset-mems", "--pids-limit", "--blkio-weight",
                        "--l3-cache-schema", "--mem-bw-schema")) {
                    s.addOption(value(go(o), "VALUE", String.class, "Accepted (see update)."));
                }
            }
            case "list" -> {
                s.addOption(value(go("-f", "--format"), "FORMAT", String.class, "table or json."));
                s.addOption(bool(go("-q", "--quiet"), "Ids only."));
            }
            case "checkpoint" -> {
                s.addOption(value(go("--image-path"), "DIR", String.class, "Where to write the checkpoint."));
                s.addOption(value(go("--work-path"), "DIR", String.class, "Work directory."));
                s.addOption(bool(go("--leave-running"), "Keep the container running."));
                for (String o : List.of("--tcp-established", "--ext-unix-sk", "--shell-job", "--lazy-pages",
                        "--file-locks", "--pre-dump", "--auto-dedup")) {
                    s.addOption(bool(go(o), "Accepted (CRIU option)."));
                }
                for (String o : List.of("--parent-path", "--status-fd", "--page-server", "--manage-cgroups-mode")) {
                    s.addOption(value(go(o), "VALUE", String.class, "Accepted (CRIU option)."));
                }
                s.addOption(repeated(go("--empty-ns"), "NS", "Accepted (CRIU option)."));
            }
            case "restore" -> {
                createOptions(s);
                s.addOption(value(go("--image-path"), "DIR", String.class, "The checkpoint."));
                s.addOption(value(go("--work-path"), "DIR", String.class, "Work directory."));
                s.addOption(bool(go("-d", "--detach"), "Return once restored."));
                for (String o : List.of("--tcp-established", "--ext-unix-sk", "--shell-job", "--lazy-pages",
                        "--file-locks", "--auto-dedup", "--no-subreaper")) {
                    s.addOption(bool(go(o), "Accepted (CRIU option)."));
                }
                s.addOption(value(go("--manage-cgroups-mode"), "MODE", String.class, "Accepted (CRIU option)."));
                s.addOption(repeated(go("--empty-ns"), "NS", "Accepted (CRIU option)."));
            }
            default -> {
                return null;
            }
        }
        s.addPositional(Options.rest("ID", "The container id" + (verb.equals("exec") ? ", then the command."
                : verb.equals("kill") ? ", then the signal (default SIGTERM)." : verb.equals("ps") ? ", then ps options." : ".")));
        return s;
    }
}
