package dev.gvshim.cli;

import static dev.gvshim.cli.GlobalOptions.bool;
import static dev.gvshim.cli.GlobalOptions.go;
import static dev.gvshim.cli.Options.repeated;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.container.Exec;
import dev.gvshim.container.RuntimeCall;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** {@code exec [--process FILE | OPTIONS] ID [COMMAND...]}. */
final class ExecVerb extends RuntimeVerb {
    @Override
    String name() {
        return "exec";
    }

    @Override
    void options(CommandSpec s) {
        s.addOption(value(go("-p", "--process"), "FILE", String.class, "process.json of the new process."));
        s.addOption(bool(go("-d", "--detach"), "Do not wait for the process."));
        s.addOption(value(go("--pid-file"), "FILE", String.class, "Write the exec helper's host pid here."));
        s.addOption(value(go("--console-socket"), "PATH", String.class, "Send the terminal's master here."));
        s.addOption(bool(go("-t", "--tty"), "Allocate a terminal."));
        s.addOption(value(go("--cwd"), "DIR", String.class, "Working directory."));
        s.addOption(repeated(go("-e", "--env"), "K=V", "Environment variable."));
        s.addOption(value(go("-u", "--user"), "UID[:GID]", String.class, "User."));
        s.addOption(repeated(go("-g", "--additional-gids"), "GID", "Additional group."));
        s.addOption(repeated(go("-c", "--cap"), "CAP", "Capability."));
        s.addOption(bool(go("--no-new-privs"), "Accepted."));
        s.addOption(value(go("--apparmor"), "PROFILE", String.class, "Accepted and dropped."));
        s.addOption(value(go("--process-label"), "LABEL", String.class, "Accepted and dropped."));
        s.addOption(value(go("--preserve-fds"), "N", Integer.class, "0 only: runsc cannot pass descriptors into the sandbox (N > 0 is refused)."));
        s.addOption(value(go("--pidfd-socket"), "PATH", String.class, "Accepted and dropped."));
        s.addOption(bool(go("--ignore-paused"), "Into a paused container: wait for its resume, then exec (as runc's process)."));
        s.addOption(value(go("--cgroup"), "PATH", String.class, "Accepted and dropped."));
    }

    @Override
    String afterId() {
        return ", then the command.";
    }

    @Override
    boolean takesMore() {
        return true;
    }

    @Override
    int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        try {
            return exec(rc, p, id, more);
        } catch (GvshimException e) {
            throw new GvshimException(e.failure().withExit(Exit.EXEC_FAILED)); // runc's status for exec's own failures
        }
    }

    private static int exec(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException {
        return Exec.run(rc, new Exec.Args(id, p.matchedOptionValue("--process", null),
                p.matchedOptionValue("--detach", false), p.matchedOptionValue("--pid-file", null),
                p.matchedOptionValue("--console-socket", null), p.matchedOptionValue("--tty", false),
                p.matchedOptionValue("--cwd", null), p.matchedOptionValue("--env", List.<String>of()),
                p.matchedOptionValue("--user", null), p.matchedOptionValue("--additional-gids", List.<String>of()),
                p.matchedOptionValue("--cap", List.<String>of()), p.matchedOptionValue("--no-new-privs", false),
                p.matchedOptionValue("--apparmor", null), p.matchedOptionValue("--process-label", null),
                p.matchedOptionValue("--preserve-fds", null), p.matchedOptionValue("--pidfd-socket", null),
                p.matchedOptionValue("--ignore-paused", false), p.matchedOptionValue("--cgroup", null), more));
    }
}
