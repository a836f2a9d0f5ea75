package dev.gvshim.cli;

import static dev.gvshim.cli.GlobalOptions.bool;
import static dev.gvshim.cli.GlobalOptions.go;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.container.ListOp;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** {@code list [--format table|json] [--quiet]}. */
final class ListVerb extends RuntimeVerb {
    @Override
    String name() {
        return "list";
    }

    @Override
    void options(CommandSpec s) {
        s.addOption(value(go("-f", "--format"), "FORMAT", String.class, "table or json."));
        s.addOption(bool(go("-q", "--quiet"), "Ids only."));
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return ListOp.run(rc, p.matchedOptionValue("--format", null), p.matchedOptionValue("--quiet", false));
    }
}
