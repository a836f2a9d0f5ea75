package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;

import dev.gvshim.call.Call;
import dev.gvshim.container.SandboxOps;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import java.io.IOException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/** {@code gvshim logs [-f] NAME}: a detached sandbox's stdout and stderr since it started. */
final class LogsVerb implements Verb {
    @Override
    public String name() {
        return "logs";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("logs", "Print a detached sandbox's output (its stdout and stderr, in the order written)"
                + " since it started.");
        s.addOption(flag(names("-f", "--follow"), "Then print what it writes until it stops (Ctrl-C ends only this)."));
        s.addPositional(PositionalParamSpec.builder().paramLabel("NAME").type(String.class).arity("1").required(true)
                .description("The sandbox's name or id.").build());
        return s;
    }

    @Override
    public int call(ParseResult p, Call call) {
        String word = p.matchedPositionalValue(0, "");
        try {
            SandboxOps.logs(call, word, p.hasMatchedOption("--follow"), call.out());
            return 0;
        } catch (GvshimException e) {
            ErrorSink.failure(call, e.failure());
            return Exit.RUNTIME;
        } catch (IOException e) {
            return ErrorSink.usage(call, "gvshim logs", "cannot read the log of " + word + ": " + IoError.reason(e), Exit.RUNTIME);
        }
    }
}
