package dev.gvshim.runsc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What every family of spec fields shares while {@link SpecPolicy#check} runs: the context, the
 * copy of the spec being rewritten, what is said about it, and typed access to its fields (a
 * field of the wrong type is refused as SPEC_INVALID, naming it).
 */
abstract class SpecFields {
    /** What the families find, together. */
    static final class Out {
        final List<String> moot = new ArrayList<>();
        final List<String> ignored = new ArrayList<>();
        final List<String> rewrites = new ArrayList<>();
        final List<SpecPolicy.NodevBind> nodev = new ArrayList<>();
        boolean changed;
        boolean emptyFile;
        RunscRelease release;
    }

    final SpecPolicy.Context c;
    final ObjectNode json;
    final Out out;
    final List<String> moot;
    final List<String> ignored;
    final List<String> rewrites;
    final List<SpecPolicy.NodevBind> nodev;

    SpecFields(SpecPolicy.Context c, ObjectNode json, Out out) {
        this.c = c;
        this.json = json;
        this.out = out;
        this.moot = out.moot;
        this.ignored = out.ignored;
        this.rewrites = out.rewrites;
        this.nodev = out.nodev;
    }

    /** runsc must read the rewritten copy, not the bundle's own config.json. */
    void changed() {
        out.changed = true;
    }

    /** Masked files get a read-only bind of an empty file gvshim creates. */
    void needEmptyFile() {
        out.emptyFile = true;
    }

    /** The runsc release, asked once, only when a field's treatment depends on it. */
    RunscRelease release() {
        if (out.release == null) {
            RunscRelease r = c.release() == null ? null : c.release().get();
            out.release = r == null ? RunscRelease.UNKNOWN : r;
        }
        return out.release;
    }

    GvshimException refuse(String id, String field, String why, String fix) {
        return new GvshimException(Failure.of(id, "cannot honour " + field + " of " + c.subject(), null, why, fix));
    }

    static boolean absent(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode();
    }

    ObjectNode object(JsonNode parent, String field, String name) throws GvshimException {
        JsonNode n = parent == null ? null : parent.get(field);
        if (absent(n)) {
            return null;
        }
        if (!n.isObject()) {
            throw refuse("SPEC_INVALID", name, "it must be a JSON object, not " + kind(n), "fix the spec");
        }
        return (ObjectNode) n;
    }

    ArrayNode array(JsonNode parent, String field, String name) throws GvshimException {
        JsonNode n = parent == null ? null : parent.get(field);
        if (absent(n)) {
            return null;
        }
        if (!n.isArray()) {
            throw refuse("SPEC_INVALID", name, "it must be a JSON array, not " + kind(n), "fix the spec");
        }
        return (ArrayNode) n;
    }

    List<String> strings(JsonNode parent, String field, String name) throws GvshimException {
        ArrayNode a = array(parent, field, name);
        List<String> values = new ArrayList<>();
        if (a != null) {
            for (JsonNode n : a) {
                if (!n.isTextual()) {
                    throw refuse("SPEC_INVALID", name, "it must be an array of strings, not hold " + kind(n), "fix the spec");
                }
                values.add(n.textValue());
            }
        }
        return values;
    }

    String text(JsonNode parent, String field, String name) throws GvshimException {
        JsonNode n = parent == null ? null : parent.get(field);
        if (absent(n)) {
            return null;
        }
        if (!n.isTextual()) {
            throw refuse("SPEC_INVALID", name, "it must be a string, not " + kind(n), "fix the spec");
        }
        return n.textValue();
    }

    static String kind(JsonNode n) {
        return n.isTextual() ? "a string" : n.isNumber() ? "a number" : n.isBoolean() ? "a boolean"
                : n.isArray() ? "an array" : n.isObject() ? "an object" : "null";
    }

    static ArrayNode strings(List<String> values) {
        ArrayNode a = JsonTree.nodes().arrayNode();
        values.forEach(a::add);
        return a;
    }

    Path hostPath(String p) {
        return c.bundle() == null ? Path.of(p) : c.bundle().resolve(p).normalize();
    }

    GvshimException selinux(String field, String label) {
        return refuse("SPEC_SELINUX", field, "runsc cannot put an SELinux label on the sandbox (" + label + "), so the"
                + " separation between containers the label keeps on the host would not hold", "run this container"
                + " without a label (--security-opt label=disable) or with runc");
    }
}
