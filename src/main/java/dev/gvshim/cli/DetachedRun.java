package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.call.Call;
import dev.gvshim.container.Detach;
import dev.gvshim.container.RunRequest;
import dev.gvshim.container.Sandboxes;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim run -d [--name N] [--rm] [RUN-OPTIONS] -- CMD}: `gvshim run`'s detached form
 * (its own class, to keep RunVerb to the foreground run): prints the sandbox's name and returns
 * at once; `gvshim ps`, `logs`, `exec`, `stop` and `rm` manage it.
 */
final class DetachedRun {
    private DetachedRun() {
    }

    static void options(CommandSpec s) {
        s.addOption(flag(names("-d", "--detach"), "Start the sandbox in the background and print its name; its output goes to"
                + " `gvshim logs NAME` (see gvshim ps, exec, stop, rm)."));
        s.addOption(value(names("--name"), "NAME", String.class,
                "With -d: the sandbox's name (unique among yours; default: a generated one such as calm_otter)."));
        s.addOption(flag(names("--rm"), "With -d: remove the sandbox, its state and its log when its command exits"
                + " (a foreground run is always removed)."));
    }

    /** Whether this run is the detached one (or asks for its options, refused without -d). */
    static boolean applies(ParseResult p) {
        return p.hasMatchedOption("--detach") || p.hasMatchedOption("--name");
    }

    static int call(ParseResult p, Call call, RunRequest req) {
        String refused = refusal(p, req);
        if (refused != null) {
            return ErrorSink.usage(call, "gvshim run", refused + " (see `gvshim run --help`)", Exit.GVSHIM);
        }
        if (call.home() == null) {
            return ErrorSink.usage(call, "gvshim", "cannot find the installation: start gvshim through its launcher,"
                    + " bin/gvshim", Exit.GVSHIM);
        }
        try {
            String name = Detach.start(call, new Detach.Request(req, p.matchedOptionValue("--name", null),
                    p.hasMatchedOption("--rm")));
            call.out().println(name);
            call.out().flush();
            return 0;
        } catch (GvshimException e) {
            // run's convention: its own failures exit 125 (the runtime verbs' diagnoses carry runc's 1)
            int status = ErrorSink.failure(call, e.failure());
            return status == Exit.RUNTIME ? Exit.GVSHIM : status;
        }
    }

    /** Why these options cannot make a detached sandbox (null: they can). */
    static String refusal(ParseResult p, RunRequest req) {
        if (!p.hasMatchedOption("--detach")) {
            return "--name names a detached sandbox: add -d";
        }
        String name = p.matchedOptionValue("--name", null);
        if (name != null && Sandboxes.invalidName(name) != null) {
            return "--name: " + Sandboxes.invalidName(name);
        }
        if (req.bundle() != null) {
            return "-d cannot be combined with --bundle: use the runtime verbs (gvshim create and start) for a bundle";
        }
        if (req.root() != null) {
            return "-d cannot be combined with --root: detached sandboxes live in the default state directory, where ps,"
                    + " logs, exec, stop and rm find them";
        }
        if (req.timeout() != null) {
            return "-d cannot be combined with --timeout: stop it with gvshim stop -t SECONDS NAME";
        }
        if (req.fallbackUnsandboxed()) {
            return "-d cannot be combined with --fallback unsandboxed";
        }
        if (req.tty() == RunRequest.Tty.ALWAYS) {
            return "-d cannot be combined with -t always: a detached sandbox has no terminal; its output goes to its log";
        }
        return null;
    }
}
