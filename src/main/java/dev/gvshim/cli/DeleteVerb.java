package dev.gvshim.cli;

import static dev.gvshim.cli.GlobalOptions.bool;
import static dev.gvshim.cli.GlobalOptions.go;

import dev.gvshim.container.Delete;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** {@code delete [--force] ID}. */
final class DeleteVerb extends RuntimeVerb {
    @Override
    String name() {
        return "delete";
    }

    @Override
    void options(CommandSpec s) {
        s.addOption(bool(go("-f", "--force"), "Kill the container first if it runs."));
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return Delete.run(rc, id, p.matchedOptionValue("--force", false));
    }
}
