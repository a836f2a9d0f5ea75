package dev.gvshim.cli;

import dev.gvshim.container.Features;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.container.RuntimeError;
import dev.gvshim.failure.Exit;
import java.util.List;
import picocli.CommandLine.ParseResult;

/** {@code features}: the OCI features document. */
final class FeaturesVerb extends RuntimeVerb {
    @Override
    String name() {
        return "features";
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws RuntimeError {
        if (id != null) {
            throw new RuntimeError("\"features\" takes no arguments, not " + p.matchedPositionalValue(0, List.<String>of()),
                    Exit.USAGE);
        }
        return Features.print(rc, Cli.version());
    }
}
