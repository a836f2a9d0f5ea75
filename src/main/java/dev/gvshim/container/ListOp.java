package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.call.Launch;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * `list`: runsc's list, with the containers' own ids, as runc prints it: sorted by id, stopped
 * containers with pid 0, runc's fields in runc's order ({@link RuncState}), the table laid out
 * by Go's tabwriter (minimum width 12, padding 3: runc's list.go), OWNER the user who owns the
 * container's state; none is JSON null or, with -q, nothing.
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
        PrintStream out = rc.call.out();
        List<ObjectNode> states = new ArrayList<>();
        if (Files.isDirectory(rc.store.root())) {
            Delete.abandoned(rc); // creates whose JVM or server was killed: never listed, removed
            // runsc's list for what only it knows for sure (a running container's status: it asks the sandbox)
            Container any = new Container("", "", rc.store.root(), rc.rootless, rc.runscPath(c.runsc()).toString(), List.of(),
                    0, 0);
            Launch.Ran r = rc.runsc(any, List.of("list", "--format=json"));
            if (!r.ok()) {
                throw RuntimeFailures.runsc("cannot list containers in " + rc.store.root() + ": runsc: " + r.output());
            }
            states = states(rc, r.output(), rc.store.byRunscId());
        }
        if (quiet) {
            states.forEach(st -> out.println(st.path("id").asText())); // nothing at all for none, as runc
        } else if (json) {
            ArrayNode a = JsonTree.nodes().arrayNode();
            states.forEach(a::add);
            out.println(states.isEmpty() ? "null" : JsonTree.compact(a)); // Go encodes runc's empty list as null
        } else {
            List<List<String>> rows = new ArrayList<>(List.of(HEADER));
            for (ObjectNode st : states) {
                rows.add(List.of(st.path("id").asText(), st.path("pid").asText(), st.path("status").asText(),
                        st.path("bundle").asText(), st.path("created").asText(), st.path("owner").asText()));
            }
            out.print(tabulate(rows));
        }
        return 0;
    }

    /** runc's state objects of runsc's list, with the containers' own ids, sorted by id (runc reads its root in order). */
    static List<ObjectNode> states(RuntimeCall rc, String runscJson, Map<String, Container> ids) throws GvshimException {
        List<ObjectNode> out = new ArrayList<>();
        if (runscJson.strip().equals("null") || runscJson.isBlank()) {
            return out;
        }
        JsonNode a;
        try {
            a = JsonTree.read(runscJson.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw RuntimeFailures.runsc("cannot list containers in " + rc.store.root() + ": runsc printed no JSON: " + runscJson);
        }
        for (JsonNode n : a) {
            String runscId = n.path("id").asText();
            Container ct = ids.get(runscId);
            String status = n.path("status").asText();
            String bundle = n.path("bundle").asText();
            String id = runscId;
            if (ct != null) {
                id = ct.id();
                status = rc.lookup.effective(ct, status);
                if (bundle.equals(rc.store.dir(ct.id()).resolve("bundle").toString())) {
                    bundle = ct.bundle().toString();
                }
            }
            Path stateFile = rc.store.runscState(runscId);
            RuncState.FileFacts f = RuncState.read(stateFile, Path.of(bundle));
            out.add(RuncState.of(n.path("ociVersion").asText(), id, n.path("pid").asLong(0), status, bundle, f,
                    owner(ct != null ? rc.store.dir(ct.id()) : stateFile)));
        }
        out.sort(java.util.Comparator.comparing(o -> o.path("id").asText()));
        return out;
    }

    /** runc's OWNER: the user name of the container's state directory's owner, "#UID" without one. */
    static String owner(Path p) {
        if (p == null) {
            return "";
        }
        try {
            String name = Files.getOwner(p, java.nio.file.LinkOption.NOFOLLOW_LINKS).getName();
            return name.chars().allMatch(Character::isDigit) ? "#" + name : name;
        } catch (IOException e) {
            return "";
        }
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
