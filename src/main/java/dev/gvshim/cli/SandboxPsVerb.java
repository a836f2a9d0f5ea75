package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.value;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.call.Call;
import dev.gvshim.container.SandboxOps;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim ps [-a] [-q] [--format table|json]}: the caller's detached sandboxes. runc's
 * {@code ps ID} (a container's processes) keeps its meaning: it always names a container, and
 * dockerd and containerd put their global options (--root ...) first ({@link #ownForm}).
 */
final class SandboxPsVerb implements Verb {
    @Override
    public String name() {
        return "ps";
    }

    /**
     * Whether {@code args} (starting with "ps") are this verb's: only its own options, no
     * container id. Anything else is runc's {@code ps [--format F] ID}.
     */
    static boolean ownForm(String[] args) {
        Set<String> flags = Set.of("-a", "--all", "-q", "--quiet", "-h", "--help", "-aq", "-qa");
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--format") || a.equals("-f")) {
                i++;
            } else if (!flags.contains(a) && !a.startsWith("--format=")) {
                return false;
            }
        }
        return true;
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("ps", "List your detached sandboxes (gvshim run -d): name, id, status, created, command.",
                "runc's form, gvshim ps [--format table|json] CONTAINER-ID, lists a container's processes.");
        s.addOption(flag(names("-a", "--all"), "Include stopped sandboxes (default: created, running and paused ones)."));
        s.addOption(flag(names("-q", "--quiet"), "Print the names only."));
        s.addOption(value(names("-f", "--format"), "FORMAT", String.class, "table (default) or json."));
        return s;
    }

    @Override
    public int call(ParseResult p, Call call) {
        String format = p.matchedOptionValue("--format", "table");
        if (!format.equals("table") && !format.equals("json")) {
            return ErrorSink.usage(call, "gvshim ps", "--format " + format + ": expected table or json", Exit.USAGE);
        }
        List<SandboxOps.Listed> all;
        try {
            all = SandboxOps.list(call);
        } catch (GvshimException e) {
            ErrorSink.failure(call, e.failure());
            return Exit.RUNTIME;
        }
        boolean every = p.hasMatchedOption("--all");
        List<SandboxOps.Listed> shown = all.stream().filter(l -> every || l.active()).toList();
        if (p.hasMatchedOption("--quiet")) {
            shown.forEach(l -> call.out().println(l.record().name()));
        } else if (format.equals("json")) {
            ArrayNode a = JsonTree.nodes().arrayNode();
            for (SandboxOps.Listed l : shown) {
                ObjectNode o = a.addObject().put("name", l.record().name()).put("id", l.record().id())
                        .put("status", l.status()).put("created", l.record().created()).put("rm", l.record().rm());
                ArrayNode cmd = o.putArray("command");
                l.record().command().forEach(cmd::add);
            }
            call.out().println(JsonTree.compact(a));
        } else {
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("NAME", "ID", "STATUS", "CREATED", "COMMAND"));
            for (SandboxOps.Listed l : shown) {
                rows.add(List.of(l.record().name(), l.record().id(), l.status(), l.record().created(),
                        String.join(" ", l.record().command())));
            }
            call.out().print(table(rows));
        }
        call.out().flush();
        return 0;
    }

    /** Columns padded to their widest cell, three spaces apart (docker ps's look); the last one as it is. */
    static String table(List<List<String>> rows) {
        int[] w = new int[rows.getFirst().size()];
        for (List<String> r : rows) {
            for (int i = 0; i < r.size(); i++) {
                w[i] = Math.max(w[i], r.get(i).length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (List<String> r : rows) {
            for (int i = 0; i < r.size(); i++) {
                b.append(i == r.size() - 1 ? r.get(i) : String.format("%-" + (w[i] + 3) + "s", r.get(i)));
            }
            b.append('\n');
        }
        return b.toString();
    }
}
