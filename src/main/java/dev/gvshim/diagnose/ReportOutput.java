package dev.gvshim.diagnose;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** `gvshim doctor`'s two outputs: text for a person, one JSON object for tools. */
public final class ReportOutput {
    private static final List<String> GROUPS = List.of("environment", "kernel", "process", "id mapping", "sandbox");

    private ReportOutput() {
    }

    /** The verdict first, then every finding by group; problems carry their fix. */
    public static String text(Doctor.Report r) {
        StringBuilder b = new StringBuilder();
        b.append("gvshim doctor: ").append(r.headline()).append('\n');
        b.append("  ").append(r.environment().label()).append(", user ").append(r.user() == null ? "(no passwd entry)" : r.user())
                .append('\n');
        List<Finding> problems = new ArrayList<>(r.failures());
        if (!problems.isEmpty()) {
            b.append("\nTo make it work, in this order:\n");
            int i = 1;
            for (Finding f : problems) {
                b.append("  ").append(i++).append(". ").append(f.id()).append(": ").append(f.fix() == null ? "(no fix known)" : f.fix())
                        .append('\n');
            }
        }
        if (problems.isEmpty() && !r.warnings().isEmpty()) {
            b.append("\nWorth knowing:\n");
            for (Finding f : r.warnings()) {
                b.append("  - ").append(f.id()).append(": ").append(f.summary()).append('\n');
            }
        }
        for (String group : GROUPS) {
            List<Finding> in = r.findings().stream().filter(f -> f.group().equals(group))
                    .sorted(Comparator.comparing(f -> -f.status().ordinal())).toList();
            if (in.isEmpty()) {
                continue;
            }
            b.append('\n').append(group).append('\n');
            for (Finding f : in) {
                b.append(String.format("  %-4s  %-24s %s%n", f.status().label(), f.id(), f.summary()));
                if (f.evidence() != null && !f.evidence().isBlank()) {
                    b.append(String.format("        %-24s [%s]%n", "", f.evidence().replace('\n', ' ')));
                }
                if (f.status() != Finding.Status.OK && f.fix() != null) {
                    b.append(String.format("        %-24s fix: %s%n", "", f.fix()));
                }
            }
        }
        return b.toString();
    }

    /** {"verdict", "mode", "environment", "findings": [{"id", "status", "evidence", "fix", ...}]} */
    public static String json(Doctor.Report r) throws IOException {
        ObjectNode o = JsonTree.nodes().objectNode();
        o.put("verdict", r.ok() ? "ok" : "fail");
        if (r.mode() == null) {
            o.putNull("mode");
        } else {
            o.put("mode", r.mode().label());
        }
        o.put("environment", r.environment().label());
        o.put("user", r.user());
        o.put("summary", r.headline());
        ArrayNode a = o.putArray("findings");
        for (Finding f : r.findings()) {
            ObjectNode n = a.addObject();
            n.put("id", f.id());
            n.put("status", f.status().label());
            n.put("group", f.group());
            n.put("summary", f.summary());
            n.put("evidence", f.evidence());
            n.put("fix", f.fix());
        }
        return new String(JsonTree.write(o), StandardCharsets.UTF_8) + "\n";
    }
}
