package dev.gvshim.cli;

import dev.gvshim.container.PauseResume;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.ParseResult;

/** {@code pause ID}. */
final class PauseVerb extends RuntimeVerb {
    @Override
    String name() {
        return "pause";
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return PauseResume.pause(rc, id);
    }
}
