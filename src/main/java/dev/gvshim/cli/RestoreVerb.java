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

/** {@code restore [--image-path DIR] [CREATE-OPTIONS] ID}; CRIU's options accepted. */
final class RestoreVerb extends RuntimeVerb {
    @Override
    String name() {
        return "restore";
    }

    @Override
    void options(CommandSpec s) {
        CreateVerb.createOptions(s);
        s.addOption(value(go("--image-path"), "DIR", String.class, "The checkpoint."));
        s.addOption(value(go("--work-path"), "DIR", String.class, "Work directory."));
        s.addOption(bool(go("-d", "--detach"), "Return once restored."));
        for (String o : List.of("--tcp-established", "--ext-unix-sk", "--shell-job", "--lazy-pages",
                "--file-locks", "--auto-dedup", "--no-subreaper")) {
            s.addOption(bool(go(o), "Accepted (CRIU option)."));
        }
        s.addOption(value(go("--manage-cgroups-mode"), "MODE", String.class, "Accepted (CRIU option)."));
        s.addOption(repeated(go("--empty-ns"), "NS", "Accepted (CRIU option)."));
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return Checkpoint.restore(rc, CreateVerb.args(p, id), p.matchedOptionValue("--image-path", null),
                p.matchedOptionValue("--work-path", null), p.matchedOptionValue("--detach", false),
                matchedOthers(p, Set.of("--image-path", "--work-path", "--detach", "--bundle", "--pid-file",
                        "--console-socket", "--no-pivot", "--no-new-keyring", "--preserve-fds", "--pidfd-socket")));
    }
}
