package dev.gvshim.cli;

import dev.gvshim.container.State;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.ParseResult;

/** {@code state ID}: the container's OCI state on stdout. */
final class StateVerb extends RuntimeVerb {
    @Override
    String name() {
        return "state";
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return State.run(rc, id);
    }
}
