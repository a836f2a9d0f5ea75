package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.call.Call;
import dev.gvshim.container.Fallback;
import dev.gvshim.container.RunFailed;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim __explain --run-dir DIR --status N}: exec'd by gvshim-waiter (same pid) when
 * runsc itself failed (see {@link RunFailed}).
 */
final class ExplainVerb implements Verb {
    @Override
    public String name() {
        return "__explain";
    }

    @Override
    public int usageError() {
        return Exit.GVSHIM;
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("__explain", "Internal: explain why runsc failed in a run directory.");
        s.usageMessage().hidden(true);
        s.addOption(value(names("--run-dir"), "DIR", String.class, "The run directory."));
        s.addOption(value(names("--status"), "N", Integer.class, "runsc's exit status."));
        s.addOption(flag(names("--keep"), "Do not remove the run directory."));
        return s;
    }

    @Override
    public int call(ParseResult p, Call call) {
        String dir = p.matchedOptionValue("--run-dir", null);
        if (dir == null) {
            return ErrorSink.usage(call, "gvshim __explain", "--run-dir is required", Exit.GVSHIM);
        }
        RunFailed.Outcome o = RunFailed.explain(call, call.absolute(dir), p.hasMatchedOption("--keep"));
        int status = ErrorSink.failure(call, o.failure());
        o.debug().forEach(call.err()::println);
        if (o.fallback() == null) {
            return status;
        }
        try {
            Fallback.exec(call, o.fallback(), o.fallbackCwd(), o.failure().id());
            return 0;
        } catch (GvshimException e) {
            return ErrorSink.failure(call, e.failure());
        }
    }
}
