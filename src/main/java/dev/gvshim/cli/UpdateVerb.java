package dev.gvshim.cli;

import static dev.gvshim.cli.GlobalOptions.go;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.container.RuntimeCall;
import dev.gvshim.container.Update;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** {@code update [--resources FILE|-] ID}: refused (runsc has no update), after the resources are checked. */
final class UpdateVerb extends RuntimeVerb {
    @Override
    String name() {
        return "update";
    }

    @Override
    void options(CommandSpec s) {
        s.addOption(value(go("-r", "--resources"), "FILE", String.class, "Resources JSON, or - for stdin."));
        for (String o : List.of("--memory", "--memory-swap", "--memory-reservation", "--kernel-memory",
                "--kernel-memory-tcp", "--cpu-shares", "--cpu-period", "--cpu-quota", "--cpu-rt-period",
                "--cpu-rt-runtime", "--cpuset-cpus", "--cpuset-mems", "--pids-limit", "--blkio-weight",
                "--l3-cache-schema", "--mem-bw-schema")) {
            s.addOption(value(go(o), "VALUE", String.class, "Accepted (see update)."));
        }
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return Update.run(rc, id, p.matchedOptionValue("--resources", null));
    }
}
