package dev.gvshim.cli;

import dev.gvshim.call.Call;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.container.RuntimeLog;
import dev.gvshim.container.RuntimeOptions;
import dev.gvshim.container.Warmup;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.failure.Versions;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * gvshim as an OCI runtime with runc's command line, as Docker, containerd and CRI-O call it:
 * {@code gvshim [RUNTIME-ARGS] --root R --log L --log-format json VERB [OPTIONS] ID} (see
 * {@link GlobalOptions}; each verb is a {@link RuntimeVerb}). Runtime mode is chosen when the
 * first argument is an option other than help and version (Docker always passes --root), or a
 * verb only runtimes have (create, start, ...); {@code gvshim run -- CMD} and {@code gvshim spec}
 * keep their own meaning without global options.
 */
final class RuntimeCli {
    static final Set<String> RUNTIME_ONLY = Set.of("create", "start", "state", "kill", "delete", "exec", "ps", "events",
            "pause", "resume", "update", "list", "features", "checkpoint", "restore");

    /** The runc verbs in runc's order (its --help), for the lines that list them. */
    static final List<String> VERB_ORDER = Usage.RUNC.stream().map(java.util.Map.Entry::getKey).toList();

    private RuntimeCli() {
    }

    static boolean applies(String[] args) {
        if (args.length == 0) {
            return false;
        }
        String a = args[0];
        if (a.equals("exec") && SandboxExecVerb.ownForm(args) || a.equals("ps") && SandboxPsVerb.ownForm(args)) {
            return false; // gvshim's exec NAME CMD and ps: runc's forms name a container (or come after --root ...)
        }
        return RUNTIME_ONLY.contains(a) || (a.startsWith("-") && !Set.of("-h", "--help", "-v", "--version", "-help",
                "-version").contains(a));
    }

    /**
     * The parsers of the global options and of each verb, kept for the next call of this JVM (a
     * server's): building picocli's model and its CommandLine was ~2.5 ms of a warm server's call.
     * A CommandLine is not thread-safe (its model holds the values it parsed), so each is used by
     * one call at a time: taken from its queue, or built when none is free, and given back when
     * the call is over. picocli sets every option and positional back to its initial value at the
     * start of each parse (CommandLine.Interpreter#clear), so nothing of one call reaches the next
     * (RuntimeCliTest). A one-shot JVM builds each once, as before.
     */
    private static final Map<String, Queue<CommandLine>> FREE = new ConcurrentHashMap<>();

    private static CommandLine take(String key, Supplier<CommandSpec> spec, boolean stopAtPositional, Call call) {
        Queue<CommandLine> q = FREE.get(key);
        CommandLine cl = q == null ? null : q.poll();
        if (cl == null) {
            cl = Cli.commandLine(spec.get(), call);
            cl.setStopAtPositional(stopAtPositional);
        } else {
            cl.setOut(new PrintWriter(call.out(), true)); // help and usage go to this call's own stdio
            cl.setErr(new PrintWriter(call.err(), true));
        }
        return cl;
    }

    private static void giveBack(String key, CommandLine cl) {
        if (cl != null) {
            FREE.computeIfAbsent(key, k -> new ConcurrentLinkedQueue<>()).offer(cl);
        }
    }

    /** The global options of {@code args} as a call parses them, with a reused parser (tests). */
    static RuntimeOptions globalOptions(Call call, String... args) throws CommandLine.ParameterException {
        CommandLine gl = take("", GlobalOptions::spec, true, call);
        try {
            return GlobalOptions.of(gl.parseArgs(args));
        } finally {
            giveBack("", gl);
        }
    }

    static int execute(Call call, String[] args) {
        call.trace().mark("runtime: start");
        Warmup.start(call.trace(), Arrays.asList(args).contains("create") || Arrays.asList(args).contains("run"));
        CommandLine gl = take("", GlobalOptions::spec, true, call);
        CommandLine[] vl = new CommandLine[1];
        String[] verbName = new String[1];
        try {
            return execute(call, args, gl, (name, verb) -> {
                verbName[0] = name;
                vl[0] = take(name, verb::spec, verb.takesMore(), call);
                return vl[0];
            });
        } finally {
            giveBack("", gl);
            giveBack(verbName[0], vl[0]);
        }
    }

    private static int execute(Call call, String[] args, CommandLine gl,
            BiFunction<String, RuntimeVerb, CommandLine> verbParser) {
        ParseResult g;
        try {
            g = gl.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            return ErrorSink.usage(call, "gvshim", e.getMessage() + " (see `gvshim --help`)", Exit.USAGE);
        }
        if (g.hasMatchedOption("--version")) {
            BuildInfo b = BuildInfo.read();
            call.out().println("gvshim version " + b.version());
            call.out().println("commit: " + b.commitLine());
            call.out().println("spec: " + Versions.SPEC);
            return 0;
        }
        if (CommandLine.printHelpIfRequested(g)) {
            return 0;
        }
        List<String> rest = g.matchedPositionalValue(0, List.<String>of());
        if (rest.isEmpty()) {
            return ErrorSink.usage(call, "gvshim", "missing verb after the global options (create, start, state, kill,"
                    + " delete, exec, ...)", Exit.USAGE);
        }
        String name = rest.getFirst();
        String[] verbArgs = rest.subList(1, rest.size()).toArray(String[]::new);
        RuntimeOptions opts = GlobalOptions.of(g);
        if (name.equals("spec")) {
            return Cli.execute(call, rest.toArray(String[]::new));
        }
        if (name.equals("help") || name.equals("h")) {
            return Cli.help(call, verbArgs);
        }
        RuntimeVerb verb = RuntimeVerb.of(name);
        if (verb == null) {
            // runc's status for an unknown verb (urfave/cli's "No help topic"), with the verbs there are
            return ErrorSink.usage(call, "gvshim", "No help topic for '" + name + "': unknown verb (" + String.join(", ",
                    VERB_ORDER) + ")", Exit.NO_HELP_TOPIC);
        }
        CommandLine vl = verbParser.apply(name, verb);
        ParseResult p;
        try {
            p = vl.parseArgs(verbArgs);
        } catch (CommandLine.ParameterException e) {
            return ErrorSink.usage(call, "gvshim " + name, e.getMessage(), Exit.RUNTIME);
        }
        if (CommandLine.printHelpIfRequested(p)) {
            return 0;
        }
        RuntimeCall rc = null;
        call.trace().mark("runtime: parsed");
        try {
            rc = new RuntimeCall(call, opts);
            call.trace().mark("runtime: constructed");
            return verb.dispatch(rc, p);
        } catch (GvshimException e) {
            RuntimeLog log = rc != null ? rc.log() : new RuntimeLog(opts.log() == null ? null : call.absolute(opts.log()),
                    opts.logFormat(), false, call.err());
            return ErrorSink.runtime(call, log, e.failure());
        } finally {
            if (rc != null) {
                rc.close();
            }
            call.trace().mark("runtime: done");
            call.trace().dump();
        }
    }
}
