package dev.gvshim.cli;

import static dev.gvshim.cli.GlobalOptions.go;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.container.Ps;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** {@code ps [--format table|json] ID [PS-OPTIONS]}: the container's host processes. */
final class PsVerb extends RuntimeVerb {
    @Override
    String name() {
        return "ps";
    }

    @Override
    void options(CommandSpec s) {
        s.addOption(value(go("-f", "--format"), "FORMAT", String.class, "table or json."));
    }

    @Override
    String afterId() {
        return ", then ps options.";
    }

    @Override
    boolean takesMore() {
        return true;
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return Ps.run(rc, id, p.matchedOptionValue("--format", "table"), more);
    }
}
