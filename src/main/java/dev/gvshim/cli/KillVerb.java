package dev.gvshim.cli;

import static dev.gvshim.cli.GlobalOptions.bool;
import static dev.gvshim.cli.GlobalOptions.go;

import dev.gvshim.container.Kill;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.container.RuntimeFailures;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** {@code kill [--all] ID [SIGNAL]}: a number or a name (9, KILL, SIGKILL); SIGTERM by default. */
final class KillVerb extends RuntimeVerb {
    @Override
    String name() {
        return "kill";
    }

    @Override
    void options(CommandSpec s) {
        s.addOption(bool(go("-a", "--all"), "Signal every process of the container."));
    }

    @Override
    String afterId() {
        return ", then the signal (default SIGTERM).";
    }

    @Override
    boolean takesMore() {
        return true;
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        if (more.size() > 1) {
            throw RuntimeFailures.args("kill takes a container id and at most one signal, not "
                    + p.matchedPositionalValue(0, List.<String>of()));
        }
        return Kill.run(rc, id, more.isEmpty() ? null : more.getFirst(), p.matchedOptionValue("--all", false));
    }
}
