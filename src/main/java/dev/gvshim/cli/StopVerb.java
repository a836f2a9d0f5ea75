package dev.gvshim.cli;

import static dev.gvshim.cli.Options.value;

import dev.gvshim.call.Call;
import dev.gvshim.container.SandboxOps;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim stop [-t SECONDS] NAME...}: docker stop's order: SIGTERM to the sandbox's command,
 * SIGKILL when it still runs after the grace time (a command that traps or ignores SIGTERM; runsc's
 * kill reaches the sandbox's PID 1 even without a handler, measured with `sh -c 'sleep 600'`).
 * Prints each name stopped; exit 1 if any failed.
 */
final class StopVerb implements Verb {
    @Override
    public String name() {
        return "stop";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("stop", "Stop detached sandboxes: SIGTERM, then SIGKILL after the grace time.");
        s.addOption(value(new String[] {"-t", "--time", "--timeout"}, "SECONDS", Duration.class,
                "Grace time before SIGKILL (default 10, as docker; 0: at once; units as in 2s, 1m)."));
        s.addPositional(names("NAME", "The sandboxes' names or ids."));
        return s;
    }

    /** A positional of one or more names. */
    static PositionalParamSpec names(String label, String description) {
        return PositionalParamSpec.builder().paramLabel(label).type(List.class).auxiliaryTypes(String.class).arity("1..*").required(true)
                .description(description).build();
    }

    @Override
    public int call(ParseResult p, Call call) {
        Duration grace = p.matchedOptionValue("--time", Duration.ofSeconds(10));
        if (grace.isNegative()) {
            return ErrorSink.usage(call, "gvshim stop", "--time must be zero or more seconds", Exit.USAGE);
        }
        int status = 0;
        for (String word : p.matchedPositionalValue(0, List.<String>of())) {
            try {
                call.out().println(SandboxOps.stop(call, word, grace));
                call.out().flush();
            } catch (GvshimException e) {
                ErrorSink.failure(call, e.failure());
                status = Exit.RUNTIME;
            }
        }
        return status;
    }
}
