package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.repeated;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.call.Call;
import dev.gvshim.container.SandboxOps;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Linux;
import dev.gvshim.oci.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim exec [-i] [-t] [-e K=V] [-w DIR] [-u UID[:GID]] NAME CMD...}: a command in a
 * detached sandbox (or a runtime container of the default --root, by id); the exit status is the
 * command's. It is runc's {@code exec ID CMD} with names and a real terminal for -t: it runs
 * through the runtime verb. dockerd and containerd always put global options (--root ...)
 * first, so their calls never reach this; runc's own options (--process, --detach,
 * --console-socket, ...) without global options go to runc's verb unchanged ({@link #ownForm}).
 */
final class SandboxExecVerb implements Verb {
    private static final Set<String> FLAGS = Set.of("-i", "--interactive", "-t", "--tty", "-it", "-ti", "-h", "--help");
    private static final Set<String> VALUED = Set.of("-e", "--env", "-w", "--workdir", "--cwd", "-u", "--user");

    @Override
    public String name() {
        return "exec";
    }

    @Override
    public int usageError() {
        return Exit.EXEC_FAILED;
    }

    /** Whether {@code args} (starting with "exec") use only this verb's options before the name. */
    static boolean ownForm(String[] args) {
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--") || !a.startsWith("-")) {
                return true;
            }
            if (VALUED.contains(a)) {
                i++;
            } else if (!FLAGS.contains(a) && VALUED.stream().noneMatch(v -> v.startsWith("--") && a.startsWith(v + "="))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("exec", "Run a command in a detached sandbox (gvshim run -d); the exit status is the"
                + " command's.", "runc's form (--process FILE, --detach, --console-socket, ...) runs runc's exec verb.");
        s.addOption(flag(names("-i", "--interactive"), "Accepted for docker's habit: stdin always passes through."));
        s.addOption(flag(names("-t", "--tty"), "Give the command a terminal (stdin must be one)."));
        s.addOption(repeated(names("-e", "--env"), "KEY[=VALUE]", "Set a variable, or pass the caller's value of KEY; repeatable."));
        s.addOption(value(names("-w", "--workdir", "--cwd"), "DIR", String.class, "Working directory inside the sandbox."));
        s.addOption(value(names("-u", "--user"), "UID[:GID]", String.class, "User and group ids inside the sandbox."));
        s.addPositional(Options.rest("NAME COMMAND", "The sandbox's name or id, then the command and its arguments."));
        s.parser().stopAtPositional(true);
        return s;
    }

    @Override
    public int call(ParseResult p, Call call) {
        List<String> rest = p.matchedPositionalValue(0, List.<String>of());
        if (rest.size() < 2) {
            return ErrorSink.usage(call, "gvshim exec", "give a sandbox and a command: gvshim exec NAME CMD [ARGS...]",
                    Exit.EXEC_FAILED);
        }
        boolean tty = p.hasMatchedOption("--tty");
        List<String> env = new ArrayList<>();
        for (String e : p.matchedOptionValue("--env", List.<String>of())) {
            if (e.contains("=")) {
                env.add(e);
            } else if (call.env().get(e) != null) {
                env.add(e + "=" + call.env().get(e));
            }
        }
        Path process = null;
        try {
            if (tty && !Linux.isatty(call.stdio().inFd())) {
                throw new GvshimException(Failure.of("TERMINAL_STDIN", "cannot give the command a terminal (-t)", null,
                        "stdin is not a terminal (the input device is not a TTY), so the command's input could never end",
                        "run it from a terminal, or leave out -t"));
            }
            String id = SandboxOps.idOf(call, rest.getFirst());
            id = id != null ? id : rest.getFirst(); // runc's form: a container of the default --root, by its id
            List<String> args = new ArrayList<>(List.of("exec"));
            String cwd = p.matchedOptionValue("--cwd", null);
            String user = p.matchedOptionValue("--user", null);
            if (tty) {
                // runsc gives a terminal only to a process whose spec asks for one (runc's exec --tty without
                // --console-socket has nobody to take the pty): the sandbox's own process, with this command
                process = processFile(call, id, rest.subList(1, rest.size()), env, cwd, user);
                args.addAll(List.of("--process", process.toString(), id));
            } else {
                if (cwd != null) {
                    args.addAll(List.of("--cwd", cwd));
                }
                env.forEach(e -> args.addAll(List.of("--env", e)));
                if (user != null) {
                    args.addAll(List.of("--user", user));
                }
                args.add(id);
                args.addAll(rest.subList(1, rest.size()));
            }
            return RuntimeCli.execute(call, args.toArray(String[]::new));
        } catch (GvshimException e) {
            ErrorSink.failure(call, e.failure());
            return Exit.EXEC_FAILED;
        } catch (IOException e) {
            return ErrorSink.usage(call, "gvshim exec", "cannot write the process file: " + IoError.reason(e), Exit.EXEC_FAILED);
        } finally {
            if (process != null) {
                try {
                    Files.deleteIfExists(process);
                } catch (IOException e) {
                    // a temporary file (0600)
                }
            }
        }
    }

    /** A process.json for runsc exec: the sandbox's own process (or a plain one) with the command, a terminal and the options. */
    static Path processFile(Call call, String id, List<String> command, List<String> env, String cwd, String user)
            throws GvshimException, IOException {
        Path spec = SandboxOps.bundleSpec(call, id);
        Spec s = Spec.empty();
        if (spec != null) {
            try {
                s = Spec.parse(Files.readAllBytes(spec));
            } catch (IOException e) {
                // a plain process below
            }
        }
        var proc = s.process();
        if (proc.env().isEmpty()) {
            proc.env(List.of("PATH=" + dev.gvshim.oci.Specs.DEFAULT_PATH));
        }
        if (proc.cwd() == null || proc.cwd().isEmpty()) {
            proc.cwd("/");
        }
        if (!proc.json().has("user")) {
            proc.user(0, 0);
        }
        proc.args(command).terminal(true);
        String term = call.env().get("TERM");
        proc.setEnv("TERM", term != null ? term : "xterm");
        for (String e : env) {
            int eq = e.indexOf('=');
            proc.setEnv(e.substring(0, eq), e.substring(eq + 1));
        }
        if (cwd != null) {
            proc.cwd(cwd);
        }
        if (user != null) {
            String[] f = user.split(":", -1);
            try {
                long uid = Long.parseLong(f[0]);
                proc.user(uid, f.length > 1 ? Long.parseLong(f[1]) : uid);
            } catch (NumberFormatException e) {
                throw new GvshimException(Failure.usage("EXEC_USER", "gvshim exec -u " + user + ": expected numeric UID[:GID]"));
            }
        }
        Path f = Files.createTempFile("gvshim-exec-", ".json"); // 0600 (Files.createTempFile on POSIX)
        Files.write(f, dev.gvshim.oci.JsonTree.compact(proc.json()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return f;
    }
}
