package dev.gvshim.cli;

import dev.gvshim.container.PauseResume;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.ParseResult;

/** {@code resume ID}. */
final class ResumeVerb extends RuntimeVerb {
    @Override
    String name() {
        return "resume";
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return PauseResume.resume(rc, id);
    }
}
