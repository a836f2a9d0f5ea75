package dev.gvshim.cli;

import dev.gvshim.container.Features;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.container.RuntimeFailures;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.ParseResult;

/** {@code features}: the OCI features document. */
final class FeaturesVerb extends RuntimeVerb {
    @Override
    String name() {
        return "features";
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        if (id != null) {
            throw RuntimeFailures.args("\"features\" takes no arguments, not " + p.matchedPositionalValue(0, List.<String>of()),
                    Exit.USAGE);
        }
        return Features.print(rc, Cli.version());
    }
}
