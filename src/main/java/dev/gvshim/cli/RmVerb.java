package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;

import dev.gvshim.call.Call;
import dev.gvshim.container.SandboxOps;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim rm [-f] NAME...}: removes detached sandboxes (runsc's state, the sandbox, a
 * rootless one's user namespace holder, the log, the name). A running one only with -f.
 * {@code --on-exit} (hidden) is what a --rm sandbox's relay execs when its output has ended.
 */
final class RmVerb implements Verb {
    @Override
    public String name() {
        return "rm";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("rm", "Remove detached sandboxes, their state and their logs.");
        s.addOption(flag(names("-f", "--force"), "Kill a sandbox that still runs (SIGKILL) and remove it."));
        s.addOption(OptionSpec.builder("--on-exit").arity("0").type(boolean.class).hidden(true)
                .description("Wait for the sandbox to stop, then remove it; nothing to remove is no failure (run -d --rm).")
                .build());
        s.addPositional(StopVerb.names("NAME", "The sandboxes' names or ids."));
        return s;
    }

    @Override
    public int call(ParseResult p, Call call) {
        boolean onExit = p.hasMatchedOption("--on-exit");
        int status = 0;
        for (String word : p.matchedPositionalValue(0, List.<String>of())) {
            try {
                String name = SandboxOps.rm(call, word, p.hasMatchedOption("--force"), onExit);
                if (!onExit) {
                    call.out().println(name);
                    call.out().flush();
                }
            } catch (GvshimException e) {
                ErrorSink.failure(call, e.failure());
                status = Exit.RUNTIME;
            }
        }
        return status;
    }
}
