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
    /** Within a group: what stops a sandbox first, then what is worth knowing, what was not tested, what is fine. */
    private static final List<Finding.Status> RANK = List.of(Finding.Status.FAIL, Finding.Status.WARN, Finding.Status.NOT_TESTED,
            Finding.Status.OK);
    private static final List<String> GROUPS = List.of("environment", "kernel", "process", "id mapping", "sandbox", "network");

    private ReportOutput() {
    }

    /** The verdict first, then every finding by group; problems carry their fix. */
    public static String text(Doctor.Report r) {
        StringBuilder b = new StringBuilder();
        b.append("gvshim doctor: ").append(r.headline()).append('\n');
        b.append("  ").append(r.environment().label()).append(", user ").append(r.user() == null ? "(no passwd entry)" : r.user())
                .append("; checks: ").append(r.counts()).append('\n');
        if (r.notFull() != null && r.mode() != null) {
            b.append("  not mode full: ").append(r.notFull().id()).append(": ").append(r.notFull().summary()).append('\n');
        }
        List<Finding> problems = new ArrayList<>(r.failures());
        if (!problems.isEmpty()) {
            b.append("\nTo make it work, in this order:\n");
            int i = 1;
            for (Finding f : problems) {
                b.append("  ").append(i++).append(". ").append(f.id()).append(": ").append(f.fix() == null ? "(no fix known)" : f.fix())
                        .append('\n');
            }
        }
        if (!r.untested().isEmpty()) {
            b.append("\nNot tested (").append(r.untested().getFirst().evidence()).append("):\n  ")
                    .append(String.join(", ", r.untested().stream().map(Finding::id).toList())).append('\n');
        }
        if (problems.isEmpty() && !r.warnings().isEmpty()) {
            b.append("\nWorth knowing:\n");
            for (Finding f : r.warnings()) {
                b.append("  - ").append(f.id()).append(": ").append(f.summary()).append('\n');
            }
        }
        for (String group : GROUPS) {
            List<Finding> in = r.findings().stream().filter(f -> f.group().equals(group))
                    .sorted(Comparator.comparing(f -> RANK.indexOf(f.status()))).toList();
            if (in.isEmpty()) {
                continue;
            }
            b.append('\n').append(group).append('\n');
            for (Finding f : in) {
                b.append(String.format("  %-10s  %-24s %s%n", f.status().label(), f.id(), f.summary()));
                if (f.evidence() != null && !f.evidence().isBlank()) {
                    b.append(String.format("              %-24s [%s]%n", "", f.evidence().replace('\n', ' ')));
                }
                if (f.status() != Finding.Status.OK && f.fix() != null) {
                    b.append(String.format("              %-24s fix: %s%n", "", f.fix()));
                }
            }
        }
        return b.toString();
    }

    /** {"verdict", "mode", "environment", "findings": [{"id", "status", "evidence", "fix", ...}]} */
    public static String json(Doctor.Report r) throws IOException {
        ObjectNode o = JsonTree.nodes().objectNode();
        o.put("verdict", r.verdict().label());
        o.put("cause", r.cause());
        if (r.mode() == null) {
            o.putNull("mode");
        } else {
            o.put("mode", r.mode().label());
        }
        o.put("environment", r.environment().label());
        o.put("user", r.user());
        o.put("summary", r.headline());
        ObjectNode counts = o.putObject("counts");
        for (Finding.Status st : Finding.Status.values()) {
            counts.put(st.label(), r.findings().stream().filter(f -> f.status() == st).count());
        }
        if (r.notFull() == null) {
            o.putNull("notFull");
        } else {
            ObjectNode nf = o.putObject("notFull");
            nf.put("id", r.notFull().id());
            nf.put("summary", r.notFull().summary());
            nf.put("fix", r.notFull().fix());
        }
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
