package dev.gvshim.cli;

import dev.gvshim.container.Start;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.ParseResult;

/** {@code start ID}: starts a created container. */
final class StartVerb extends RuntimeVerb {
    @Override
    String name() {
        return "start";
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return Start.run(rc, id);
    }
}
