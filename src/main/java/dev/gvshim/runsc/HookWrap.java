package dev.gvshim.runsc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.oci.Spec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A spec's own hooks given the state runc gives them. runsc runs prestart and createRuntime
 * hooks at create, poststart at start and poststop at delete (runsc/container/container.go), with
 * its own view of the container on stdin (hook.go: json.Marshal of specs.State): the runsc id
 * gvshim gave the container ({@code ContainerIds.runscIdFor}: "3-hk1" for hk1), the bundle and
 * annotations of the spec runsc reads (gvshim's rewrite of it, in gvshim's own directory when it
 * changed anything), and "pid": -1 once the sandbox is gone. runc 1.1 (libcontainer
 * currentOCIState) gives the caller's id, bundle and annotations, and no pid for a stopped container. Each such hook becomes native gvshim-hook (gvshim_hook.c), which
 * rewrites the state and execs the hook in place (same pid: runsc's timeout and env stay the
 * hook's); the rest is runsc's as it was. The pid stays runsc's: the sandbox's host pid, in
 * the container's network namespace (what Docker's libnetwork-setkey and CNI-style hooks join).
 */
public final class HookWrap {
    /** The hooks runsc runs on the host (createContainer and startContainer are refused: {@link OtherFields#hooks}). */
    static final List<String> KINDS = List.of("prestart", "createRuntime", "poststart", "poststop");
    /**
     * The longest annotations gvshim passes gvshim-hook as one argument: Linux limits one to
     * 128 KiB (MAX_ARG_STRLEN, execve(2)); larger ones are left as runsc gives them ("-").
     */
    static final int MAX_ANNOTATIONS = 64 * 1024;

    /**
     * Who the hooks are for.
     *
     * @param wrapper     libexec/gvshim-hook (hooks that already run it are gvshim's own: not wrapped)
     * @param id          the container's id as its caller knows it
     * @param bundle      the caller's bundle directory (runsc may read gvshim's copy of the spec), or null: runsc's
     * @param annotations the caller's spec's annotations (before gvshim rewrote any), or null
     */
    public record Target(String wrapper, String id, String bundle, JsonNode annotations) {
    }

    private HookWrap() {
    }

    /** {@code r} with each of its spec's hooks wrapped in gvshim-hook (unchanged when there is none). */
    public static SpecPolicy.Result wrap(SpecPolicy.Result r, Target t) {
        if (!(r.spec().json().get("hooks") instanceof ObjectNode original) || KINDS.stream().noneMatch(k -> wraps(original.get(k), t))) {
            return r;
        }
        ObjectNode json = r.spec().json().deepCopy();
        ObjectNode hooks = (ObjectNode) json.get("hooks");
        String annotations = annotations(t.annotations());
        List<String> rewrites = new ArrayList<>(r.rewrites());
        for (String kind : KINDS) {
            if (hooks.get(kind) instanceof ArrayNode list) {
                for (int i = 0; i < list.size(); i++) {
                    if (wraps(list.get(i), t)) {
                        list.set(i, wrapped((ObjectNode) list.get(i), kind, t, annotations));
                        rewrites.add("hooks." + kind + "[" + i + "] run by gvshim-hook, which gives it runc's state on stdin");
                    }
                }
            }
        }
        return new SpecPolicy.Result(Spec.of(json), true, r.ociSeccomp(), r.nodev(), r.emptyFile(), r.moot(), r.ignored(),
                List.copyOf(rewrites));
    }

    /**
     * Whether {@code h} is a hook (or a list of hooks, one of which is) that gvshim wraps: one with
     * an absolute path that is not gvshim-hook itself. Others runsc refuses as it did ("path for
     * hook is not absolute").
     */
    private static boolean wraps(JsonNode h, Target t) {
        if (h instanceof ArrayNode list) {
            for (JsonNode e : list) {
                if (wraps(e, t)) {
                    return true;
                }
            }
            return false;
        }
        return h instanceof ObjectNode o && o.get("path") != null && o.get("path").isTextual()
                && o.get("path").asText().startsWith("/") && !o.get("path").asText().equals(t.wrapper());
    }

    /** gvshim-hook [--timeout N] --oci-state KIND ID BUNDLE ANNOTATIONS -- PATH ARGV0 ARG... with the hook's env. */
    static ObjectNode wrapped(ObjectNode hook, String kind, Target t, String annotations) {
        ObjectNode w = hook.deepCopy();
        String path = hook.get("path").asText();
        List<String> args = new ArrayList<>(List.of("gvshim-hook"));
        if (hook.path("timeout").canConvertToInt() && hook.path("timeout").asInt() > 0) {
            // gvshim-hook keeps the timeout: runsc 2022-12's own can hang its create (gvshim_hook.c, main)
            args.addAll(List.of("--timeout", Integer.toString(hook.path("timeout").asInt())));
            w.remove("timeout");
        }
        args.addAll(List.of("--oci-state", kind, t.id(), t.bundle() == null ? "-" : t.bundle(), annotations, "--", path));
        JsonNode own = hook.get("args");
        if (own instanceof ArrayNode a && !a.isEmpty()) {
            a.forEach(s -> args.add(s.asText()));
        } else {
            args.add(path); // Go's exec.Cmd: no args runs Path with argv[0] = Path (runsc and runc alike)
        }
        w.put("path", t.wrapper());
        ArrayNode out = w.putArray("args");
        args.forEach(out::add);
        return w;
    }

    /**
     * The annotations as runc's state has them: Go's json.Marshal of a map[string]string (keys
     * sorted, compact, HTML-safe escapes); "" for none (runc omits them: omitempty), "-" when too
     * long for one argument (gvshim-hook then keeps runsc's).
     */
    static String annotations(JsonNode a) {
        if (!(a instanceof ObjectNode o) || o.isEmpty()) {
            return "";
        }
        Map<String, String> sorted = new TreeMap<>();
        o.properties().forEach(e -> sorted.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText()
                : JsonTree.compact(e.getValue())));
        StringBuilder b = new StringBuilder("{");
        sorted.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append(goString(k)).append(':').append(goString(v)));
        String json = b.append('}').toString();
        return json.length() > MAX_ANNOTATIONS ? "-" : json;
    }

    /** {@code s} as Go's encoding/json writes a string (encode.go appendString, escapeHTML on). */
    static String goString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
                        b.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
