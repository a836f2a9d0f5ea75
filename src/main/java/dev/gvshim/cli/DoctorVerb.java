package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.call.Call;
import dev.gvshim.diagnose.AsUser;
import dev.gvshim.diagnose.Checkup;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.diagnose.ReportOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim doctor [--json] [--user NAME] [--runsc PATH]}: can a rootless gVisor sandbox
 * start here, in which mode, and if not, exactly why and what to change. Exit 0 when a sandbox
 * can start, 1 when it cannot, 2 on its own errors.
 */
final class DoctorVerb implements Verb {
    static final int EXIT_OK = 0;
    static final int EXIT_CANNOT = 1;
    static final int EXIT_ERROR = 2;

    @Override
    public String name() {
        return "doctor";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("doctor",
                "Check whether a rootless gVisor sandbox can start here, and why not: files read, then every step tried"
                        + " live in throwaway namespaces (user namespace, id maps, mounts, pivot_root, ptrace, nesting).",
                "Exit status: 0 a sandbox can start, 1 it cannot, 2 not everything could be tested (the live probe did not"
                        + " run), or doctor's own error.");
        s.addOption(flag(names("--json"), "Print one JSON object: verdict, mode, environment, findings."));
        s.addOption(value(names("--user"), "NAME", String.class, "Diagnose for this user (as root: runs the probes as that user)."));
        s.addOption(value(names("--runsc"), "PATH", String.class, "The runsc binary to check (default: runsc in $PATH)."));
        return s;
    }

    @Override
    public int call(ParseResult p, Call call) {
        boolean json = p.hasMatchedOption("--json");
        String user = p.matchedOptionValue("--user", null);
        String runscOption = p.matchedOptionValue("--runsc", null);
        try {
            if (user != null && AsUser.uid(user) != call.euid()) {
                List<String> argv = new ArrayList<>(List.of("gvshim", "doctor"));
                if (json) {
                    argv.add("--json");
                }
                if (runscOption != null) {
                    argv.add("--runsc");
                    argv.add(runscOption);
                }
                AsUser.Outcome o = AsUser.run(user, call.euid(), call.launcher(), argv, call.env());
                return o.error() == null ? o.status() : ErrorSink.usage(call, "gvshim doctor", o.error(), o.status());
            }
            Checkup c = Checkup.run(call.env(), call.home(), runscOption);
            if (c.error() != null) {
                return ErrorSink.usage(call, "gvshim doctor", c.error(), EXIT_ERROR);
            }
            call.out().print(json ? ReportOutput.json(c.report()) : ReportOutput.text(c.report()));
            call.out().flush();
            return switch (c.report().verdict()) {
                case OK -> EXIT_OK;
                case FAIL -> EXIT_CANNOT;
                case UNTESTED -> EXIT_ERROR; // "it can start" would be a guess, "it cannot" wrong
            };
        } catch (IOException e) {
            return ErrorSink.usage(call, "gvshim doctor", IoError.reason(e), EXIT_ERROR);
        }
    }

    @Override
    public int usageError() {
        return EXIT_ERROR;
    }
}
