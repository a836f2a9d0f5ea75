package dev.gvshim.cli;

import static dev.gvshim.cli.GlobalOptions.bool;
import static dev.gvshim.cli.GlobalOptions.go;
import static dev.gvshim.cli.Options.repeated;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.container.Checkpoint;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** {@code checkpoint [--image-path DIR] [--work-path DIR] [--leave-running] ID}; CRIU's options accepted. */
final class CheckpointVerb extends RuntimeVerb {
    @Override
    String name() {
        return "checkpoint";
    }

    @Override
    void options(CommandSpec s) {
        s.addOption(value(go("--image-path"), "DIR", String.class, "Where to write the checkpoint."));
        s.addOption(value(go("--work-path"), "DIR", String.class, "Work directory."));
        s.addOption(bool(go("--leave-running"), "Keep the container running."));
        for (String o : List.of("--tcp-established", "--ext-unix-sk", "--shell-job", "--lazy-pages",
                "--file-locks", "--pre-dump", "--auto-dedup")) {
            s.addOption(bool(go(o), "Accepted (CRIU option)."));
        }
        for (String o : List.of("--parent-path", "--status-fd", "--page-server", "--manage-cgroups-mode")) {
            s.addOption(value(go(o), "VALUE", String.class, "Accepted (CRIU option)."));
        }
        s.addOption(repeated(go("--empty-ns"), "NS", "Accepted (CRIU option)."));
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return Checkpoint.checkpoint(rc, id, p.matchedOptionValue("--image-path", null),
                p.matchedOptionValue("--work-path", null), p.matchedOptionValue("--leave-running", false),
                matchedOthers(p, Set.of("--image-path", "--work-path", "--leave-running")));
    }
}
