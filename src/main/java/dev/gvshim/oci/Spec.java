package dev.gvshim.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * An OCI runtime spec (config.json, runtime-spec 1.x) as typed views over a Jackson tree.
 * The tree is the source of truth, so anything this model does not know (other
 * platforms' sections, vendor annotations, fields from newer spec versions) survives a
 * read-modify-write unchanged, explicit nulls included.
 */
public final class Spec {
    private final ObjectNode json;

    private Spec(ObjectNode json) {
        this.json = json;
    }

    public static Spec of(ObjectNode json) {
        return new Spec(json);
    }

    public static Spec empty() {
        return new Spec(JsonTree.nodes().objectNode());
    }

    /** Parses config.json; a document that is not a JSON object is rejected. */
    public static Spec parse(byte[] bytes) throws JsonProcessingException, GvshimException {
        JsonNode n = JsonTree.read(bytes);
        if (!n.isObject()) {
            // the path is the caller's to name (Bundle.load): "cannot use config.json" until then
            throw new GvshimException(Failure.of("BUNDLE_INVALID", "cannot use config.json", null, "config.json must hold a JSON"
                    + " object, found " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT), null));
        }
        return new Spec((ObjectNode) n);
    }

    public ObjectNode json() {
        return json;
    }

    public byte[] toJson() {
        return JsonTree.write(json);
    }

    public Spec copy() {
        return new Spec(json.deepCopy());
    }

    public String ociVersion() {
        return Nodes.text(json, "ociVersion");
    }

    public Spec ociVersion(String v) {
        json.put("ociVersion", v);
        return this;
    }

    public String hostname() {
        return Nodes.text(json, "hostname");
    }

    public Spec hostname(String h) {
        json.put("hostname", h);
        return this;
    }

    public Process process() {
        return new Process(Nodes.object(json, "process"));
    }

    public boolean hasProcess() {
        return json.get("process") instanceof ObjectNode;
    }

    public Root root() {
        return new Root(Nodes.object(json, "root"));
    }

    public boolean hasRoot() {
        return json.get("root") instanceof ObjectNode;
    }

    public LinuxSection linux() {
        return new LinuxSection(Nodes.object(json, "linux"));
    }

    public List<Mount> mounts() {
        List<Mount> out = new ArrayList<>();
        if (json.get("mounts") instanceof ArrayNode a) {
            for (JsonNode m : a) {
                if (m instanceof ObjectNode o) {
                    out.add(new Mount(o));
                }
            }
        }
        return out;
    }

    public Spec addMount(Mount m) {
        Nodes.array(json, "mounts").add(m.json());
        return this;
    }

    /** Removes mounts matching {@code which}; returns how many. */
    public int removeMounts(Predicate<Mount> which) {
        if (!(json.get("mounts") instanceof ArrayNode a)) {
            return 0;
        }
        int removed = 0;
        for (int i = a.size() - 1; i >= 0; i--) {
            if (a.get(i) instanceof ObjectNode o && which.test(new Mount(o))) {
                a.remove(i);
                removed++;
            }
        }
        return removed;
    }

    /** OCI hooks ("hooks": {"poststart": [...]}, ...). */
    public Spec addHook(String kind, String path, List<String> args) {
        ObjectNode hook = JsonTree.nodes().objectNode();
        hook.put("path", path);
        hook.set("args", Nodes.strings(args));
        Nodes.array(Nodes.object(json, "hooks"), kind).add(hook);
        return this;
    }

    public List<String> hookPaths(String kind) {
        List<String> out = new ArrayList<>();
        if (json.get("hooks") instanceof ObjectNode hooks && hooks.get(kind) instanceof ArrayNode a) {
            for (JsonNode h : a) {
                out.add(h.path("path").asText());
            }
        }
        return out;
    }

    public String annotation(String key) {
        return json.get("annotations") instanceof ObjectNode a ? Nodes.text(a, key) : null;
    }

    public Spec annotation(String key, String value) {
        Nodes.object(json, "annotations").put(key, value);
        return this;
    }

    /**
     * Problems that make the spec unusable for a run, in one line each (empty when fine):
     * fields of the wrong type first ({@link SpecTypes}: the field and the type it must have),
     * then missing or empty ones, never both for one field.
     */
    public List<String> problems() {
        List<String> p = new ArrayList<>();
        java.util.Set<String> mistyped = new java.util.HashSet<>();
        for (SpecTypes.Problem t : SpecTypes.problems(json)) {
            p.add(t.message());
            for (String path = t.path(); !path.isEmpty(); path = parent(path)) {
                mistyped.add(path);
            }
        }
        if (ociVersion() == null && !mistyped.contains("ociVersion")) {
            p.add("\"ociVersion\" is missing");
        }
        if (!hasProcess()) {
            if (!mistyped.contains("process")) {
                p.add("\"process\" is missing");
            }
        } else {
            if (!mistyped.contains("process.args") && process().args().isEmpty()) {
                p.add("\"process.args\" is empty: nothing to run");
            }
            String cwd = process().cwd();
            if (!mistyped.contains("process.cwd") && (cwd == null || !cwd.startsWith("/"))) {
                p.add("\"process.cwd\" must be an absolute path");
            }
        }
        if (!mistyped.contains("root") && !mistyped.contains("root.path") && (!hasRoot() || root().path() == null)) {
            p.add("\"root.path\" is missing");
        }
        if (json.get("mounts") instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                String d = a.get(i) instanceof ObjectNode o ? new Mount(o).destination() : null;
                if (!mistyped.contains("mounts[" + i + "]") && !mistyped.contains("mounts[" + i + "].destination")
                        && (d == null || !d.startsWith("/"))) {
                    p.add("a mount has no absolute \"destination\"");
                }
            }
        }
        return p;
    }

    /** {@code process.args[0]} to {@code process.args}, {@code process.args} to {@code process}, {@code process} to "". */
    private static String parent(String path) {
        int cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
        return cut < 0 ? "" : path.substring(0, cut);
    }

    @Override
    public String toString() {
        return JsonTree.compact(json);
    }
}
