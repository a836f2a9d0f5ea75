package dev.gvshim.cli;

import static dev.gvshim.cli.GlobalOptions.bool;
import static dev.gvshim.cli.GlobalOptions.go;

import dev.gvshim.container.Create;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** runc's {@code run [--detach] ID}: create and start in one (not {@code gvshim run}: see {@link RunVerb}). */
final class RuntimeRunVerb extends RuntimeVerb {
    @Override
    String name() {
        return "run";
    }

    @Override
    void options(CommandSpec s) {
        CreateVerb.createOptions(s);
        s.addOption(bool(go("-d", "--detach"), "Return once the container has started."));
        s.addOption(bool(go("--keep"), "Refused: runsc deletes the container when its process exits (use create and start)."));
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return Create.run(rc, CreateVerb.args(p, id), p.matchedOptionValue("--detach", false),
                p.matchedOptionValue("--keep", false));
    }
}
