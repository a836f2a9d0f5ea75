package dev.gvshim.cli;

import dev.gvshim.container.RuntimeCall;
import dev.gvshim.container.RuntimeFailures;
import dev.gvshim.failure.GvshimException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * One runc verb: its options as runc's callers pass them, and the core operation it calls.
 * The container id is the first positional; exec, ps and kill take more after it.
 */
abstract class RuntimeVerb {
    abstract String name();

    /** The verb's own options (none by default). */
    void options(CommandSpec s) {
    }

    /** What the id's description goes on with. */
    String afterId() {
        return ".";
    }

    /** Whether arguments follow the id (exec's command, kill's signal, ps's options). */
    boolean takesMore() {
        return false;
    }

    /** Runs the verb on container {@code id} (null only for verbs that need none); the exit status. */
    abstract int call(RuntimeCall rc, ParseResult p, String id, List<String> more) throws GvshimException;

    /** Every runc verb, by name (null: not one). */
    static RuntimeVerb of(String name) {
        return switch (name) {
            case "create" -> new CreateVerb();
            case "run" -> new RuntimeRunVerb();
            case "start" -> new StartVerb();
            case "state" -> new StateVerb();
            case "kill" -> new KillVerb();
            case "delete" -> new DeleteVerb();
            case "pause" -> new PauseVerb();
            case "resume" -> new ResumeVerb();
            case "exec" -> new ExecVerb();
            case "ps" -> new PsVerb();
            case "events" -> new EventsVerb();
            case "update" -> new UpdateVerb();
            case "list" -> new ListVerb();
            case "features" -> new FeaturesVerb();
            case "checkpoint" -> new CheckpointVerb();
            case "restore" -> new RestoreVerb();
            default -> null;
        };
    }

    /** The picocli model: {@code gvshim VERB [OPTIONS] ID...}. */
    final CommandSpec spec() {
        CommandSpec s = Options.command(name(), Usage.runcSummary(name()));
        s.interpolateVariables(false);
        s.name("gvshim " + name());
        options(s);
        s.addPositional(Options.rest("ID", "The container id" + afterId()));
        return s;
    }

    /** Checks the positionals as runc does, then runs the verb. */
    final int dispatch(RuntimeCall rc, ParseResult p) throws GvshimException {
        List<String> pos = p.matchedPositionalValue(0, List.<String>of());
        String id = pos.isEmpty() ? null : pos.getFirst();
        if (id == null && !Set.of("list", "features").contains(name())) {
            throw RuntimeFailures.args("\"" + name() + "\" requires a container id (gvshim " + name() + " --help)");
        }
        List<String> more = pos.isEmpty() ? List.of() : pos.subList(1, pos.size());
        if (!more.isEmpty() && !takesMore()) {
            throw RuntimeFailures.args("\"" + name() + "\" takes one container id, not " + pos);
        }
        return call(rc, p, id, more);
    }

    /** Options matched that the verb does not handle (CRIU's, dropped with a debug line). */
    static List<String> matchedOthers(ParseResult p, Set<String> handled) {
        List<String> o = new ArrayList<>();
        for (OptionSpec s : p.matchedOptions()) {
            if (!handled.contains(s.longestName()) && !s.usageHelp()) {
                o.add(s.longestName());
            }
        }
        return o;
    }
}
