package dev.gvshim.cli;

import static dev.gvshim.cli.GlobalOptions.bool;
import static dev.gvshim.cli.GlobalOptions.go;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.container.Events;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** {@code events [--stats] [--interval D] ID}. */
final class EventsVerb extends RuntimeVerb {
    @Override
    String name() {
        return "events";
    }

    @Override
    void options(CommandSpec s) {
        s.addOption(bool(go("--stats"), "Print statistics once and exit."));
        s.addOption(value(go("--interval"), "DURATION", String.class, "Interval between statistics (5s)."));
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return Events.run(rc, id, p.matchedOptionValue("--stats", false), p.matchedOptionValue("--interval", null));
    }
}
