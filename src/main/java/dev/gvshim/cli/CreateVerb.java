package dev.gvshim.cli;

import static dev.gvshim.cli.GlobalOptions.bool;
import static dev.gvshim.cli.GlobalOptions.go;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.container.Create;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** {@code create [--bundle DIR] [--pid-file F] [--console-socket S] ID}. */
final class CreateVerb extends RuntimeVerb {
    @Override
    String name() {
        return "create";
    }

    @Override
    void options(CommandSpec s) {
        createOptions(s);
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return Create.create(rc, args(p, id));
    }

    /** The options of create, run and restore. */
    static void createOptions(CommandSpec s) {
        s.addOption(value(go("-b", "--bundle"), "DIR", String.class, "The bundle (default: the current directory)."));
        s.addOption(value(go("--pid-file"), "FILE", String.class, "Write the sandbox's host pid here."));
        s.addOption(value(go("--console-socket"), "PATH", String.class, "Send the terminal's master over this socket."));
        s.addOption(bool(go("--no-pivot"), "Accepted (gVisor never pivots on the host)."));
        s.addOption(bool(go("--no-new-keyring"), "Accepted (gVisor has no keyrings)."));
        s.addOption(value(go("--preserve-fds"), "N", Integer.class, "0 only: runsc cannot pass descriptors into the sandbox (N > 0 is refused)."));
        s.addOption(value(go("--pidfd-socket"), "PATH", String.class, "Accepted and dropped."));
    }

    static Create.Args args(ParseResult p, String id) {
        return new Create.Args(id, p.matchedOptionValue("--bundle", null), p.matchedOptionValue("--pid-file", null),
                p.matchedOptionValue("--console-socket", null), p.matchedOptionValue("--no-pivot", false),
                p.matchedOptionValue("--no-new-keyring", false), p.matchedOptionValue("--preserve-fds", null),
                p.matchedOptionValue("--pidfd-socket", null));
    }
}
