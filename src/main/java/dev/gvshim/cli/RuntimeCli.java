package dev.gvshim.cli;

import dev.gvshim.call.Call;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.container.RuntimeLog;
import dev.gvshim.container.RuntimeOptions;
import dev.gvshim.container.Warmup;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.failure.Versions;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
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

    static int execute(Call call, String[] args) {
        call.trace().mark("runtime: start");
        Warmup.start(call.trace(), Arrays.asList(args).contains("create") || Arrays.asList(args).contains("run"));
        CommandLine gl = Cli.commandLine(GlobalOptions.spec(), call);
        gl.setStopAtPositional(true);
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
        CommandLine vl = Cli.commandLine(verb.spec(), call);
        vl.setStopAtPositional(verb.takesMore());
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
