package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.call.Launch;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * `list`: runsc's list, with the containers' own ids. runsc's table is Go's tabwriter
 * (minimum width 12, padding 3: runsc/cmd/list.go, as runc's), so its columns are cut at
 * the header's offsets and laid out again for the longer or shorter ids.
 */
public final class ListOp {
    private ListOp() {
    }

    private static final List<String> HEADER = List.of("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");

    public static int run(RuntimeCall rc, String format, boolean quiet) throws GvshimException {
        RuntimeConfig c = rc.config();
        if (format != null && !format.equals("json") && !format.equals("table")) {
            throw RuntimeFailures.args("invalid format option \"" + format + "\" (table or json)");
        }
        boolean json = "json".equals(format);
        List<String> args = new ArrayList<>(List.of("list"));
        if (quiet) {
            args.add("--quiet");
        } else {
            args.add("--format=" + (json ? "json" : "text")); // runc's "table" is runsc's "text"
        }
        Container any = new Container("", "", rc.store.root(), rc.rootless, rc.runscPath(c.runsc()).toString(), List.of(), 0, 0);
        PrintStream out = rc.call.out();
        if (!Files.isDirectory(rc.store.root())) {
            out.print(json && !quiet ? "[]\n" : quiet ? "" : tabulate(List.of(HEADER)));
            return 0;
        }
        Launch.Ran r = rc.runsc(any, args);
        if (!r.ok()) {
            throw RuntimeFailures.runsc("cannot list containers in " + rc.store.root() + ": runsc: " + r.output());
        }
        Map<String, Container> ids = rc.store.byRunscId();
        String o = r.output();
        if (quiet) {
            o.lines().filter(l -> !l.isBlank()).map(String::strip)
                    .forEach(l -> out.println(ids.containsKey(l) ? ids.get(l).id() : l));
        } else if (json) {
            out.println(json(rc, o, ids));
        } else {
            out.print(table(rc, o, ids));
        }
        return 0;
    }

    private static String json(RuntimeCall rc, String runscJson, Map<String, Container> ids) throws GvshimException {
        if (runscJson.strip().equals("null") || runscJson.isBlank()) {
            return "[]";
        }
        try {
            JsonNode a = JsonTree.read(runscJson.getBytes(StandardCharsets.UTF_8));
            for (JsonNode n : a) {
                Container ct = ids.get(n.path("id").asText());
                if (ct != null && n instanceof ObjectNode o) {
                    o.put("id", ct.id());
                    o.put("status", rc.lookup.effective(ct, o.path("status").asText()));
                    if (o.path("bundle").asText().equals(rc.store.dir(ct.id()).resolve("bundle").toString())) {
                        o.put("bundle", ct.bundle().toString());
                    }
                }
            }
            return JsonTree.compact(a);
        } catch (IOException e) {
            throw RuntimeFailures.runsc("cannot list containers in " + rc.store.root() + ": runsc printed no JSON: " + runscJson);
        }
    }

    /** runsc's table with gvshim's ids and statuses, laid out as Go's tabwriter would. */
    static String table(RuntimeCall rc, String runscTable, Map<String, Container> ids) {
        List<String> lines = runscTable.lines().toList();
        if (lines.isEmpty()) {
            return tabulate(List.of(HEADER));
        }
        String header = lines.getFirst();
        int[] at = new int[HEADER.size()];
        for (int i = 0; i < at.length; i++) {
            at[i] = i == 0 ? 0 : header.indexOf(HEADER.get(i), at[i - 1] + 1);
            if (at[i] < 0) {
                return runscTable.endsWith("\n") ? runscTable : runscTable + "\n"; // not the table this knows
            }
        }
        List<List<String>> rows = new ArrayList<>(List.of(HEADER));
        for (String l : lines.subList(1, lines.size())) {
            if (l.isBlank()) {
                continue;
            }
            List<String> row = new ArrayList<>();
            for (int i = 0; i < at.length; i++) {
                int from = Math.min(at[i], l.length());
                int to = i + 1 < at.length ? Math.min(at[i + 1], l.length()) : l.length();
                row.add(l.substring(from, to).strip());
            }
            Container ct = ids.get(row.getFirst());
            if (ct != null) {
                row.set(0, ct.id());
                row.set(2, rc.lookup.effective(ct, row.get(2)));
                if (row.get(3).equals(rc.store.dir(ct.id()).resolve("bundle").toString())) {
                    row.set(3, ct.bundle().toString());
                }
            }
            rows.add(row);
        }
        return tabulate(rows);
    }

    /** Go's tabwriter.NewWriter(out, 12, 1, 3, ' ', 0): each column as wide as its widest cell plus 3, at least 12. */
    static String tabulate(List<List<String>> rows) {
        int[] w = new int[rows.getFirst().size()];
        for (List<String> r : rows) {
            for (int i = 0; i < r.size() - 1; i++) {
                w[i] = Math.max(w[i], Math.max(12, r.get(i).length() + 3));
            }
        }
        StringBuilder b = new StringBuilder();
        for (List<String> r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.size(); i++) {
                line.append(r.get(i));
                if (i < r.size() - 1) {
                    line.append(" ".repeat(w[i] - r.get(i).length()));
                }
            }
            b.append(line).append('\n');
        }
        return b.toString();
    }
}
