package dev.gvshim.install;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;

/**
 * Registers a runtime in dockerd's {@code daemon.json}: {@code runtimes.NAME = {"path": P,
 * "runtimeArgs": [...]}}. Pure: bytes in, bytes out. Every other key, every other runtime and
 * their order survive (the tree is {@link JsonTree}'s, which keeps order and number forms);
 * the result is pretty-printed with two spaces, as Docker's documentation writes the file.
 */
public final class DaemonJson {
    /** The runtime's entry as it was before (null if none), and the file's content afterwards (the original when unchanged). */
    public record Result(Change change, JsonNode previous, byte[] content) {
    }

    private DaemonJson() {
    }

    /**
     * @param original the file's bytes, or null when it does not exist
     * @param file     the file's name, for messages
     */
    public static Result register(byte[] original, String file, RuntimeEntry rt) throws GvshimException {
        ObjectNode root = parse(original, file);
        ObjectNode entry = entry(rt);
        JsonNode runtimes = root.get("runtimes");
        if (runtimes == null) {
            runtimes = root.putObject("runtimes");
        } else if (!runtimes.isObject()) {
            throw InstallFailure.config(file + ": \"runtimes\" is " + article(runtimes) + ", not an object; dockerd"
                    + " expects {\"NAME\": {\"path\": ...}}: fix or remove it, then run gvshim install again (nothing was changed)");
        }
        JsonNode previous = runtimes.get(rt.name());
        if (entry.equals(previous)) { // ObjectNode equality ignores key order: {"runtimeArgs", "path"} is the same entry
            return new Result(Change.UNCHANGED, previous, original);
        }
        ((ObjectNode) runtimes).replace(rt.name(), entry); // an existing key keeps its place among the runtimes
        Change change = original == null ? Change.CREATED : previous == null ? Change.ADDED : Change.REPLACED;
        return new Result(change, previous, JsonTree.write(root, "  "));
    }

    /**
     * daemon.json as {@link Unregister} sees it, for the runtime {@code name}. A runtime that is
     * also the {@code "default-runtime"} is refused: dockerd does not start with a default runtime
     * it does not know.
     */
    public static Unregister.Format format(String file, String name) {
        return new Unregister.Format() {
            @Override
            public RuntimeEntry entry(byte[] content) throws GvshimException {
                ObjectNode root = parse(content, file);
                JsonNode runtimes = root.get("runtimes");
                if (runtimes == null || runtimes.get(name) == null) {
                    return null;
                }
                if (!runtimes.isObject()) {
                    throw InstallFailure.config(file + ": \"runtimes\" is " + article(runtimes) + ", not an object; fix or"
                            + " remove it, then run gvshim uninstall again (nothing was changed)");
                }
                if (root.path("default-runtime").asText("").equals(name)) {
                    throw InstallFailure.config(file + " makes " + name + " the \"default-runtime\"; dockerd does not"
                            + " start without it: set another default runtime there first, then run gvshim uninstall"
                            + " again (nothing was changed)");
                }
                JsonNode e = runtimes.get(name);
                java.util.List<String> args = new java.util.ArrayList<>();
                e.path("runtimeArgs").forEach(a -> args.add(a.asText()));
                return new RuntimeEntry(name, e.path("path").asText(""), args);
            }

            @Override
            public byte[] register(byte[] original, RuntimeEntry rt) throws GvshimException {
                return DaemonJson.register(original, file, rt).content();
            }

            @Override
            public byte[] remove(byte[] content) throws GvshimException {
                ObjectNode root = parse(content, file);
                ObjectNode runtimes = (ObjectNode) root.get("runtimes");
                runtimes.remove(name);
                if (runtimes.isEmpty()) {
                    root.remove("runtimes"); // install adds the key when it is missing
                }
                return JsonTree.write(root, "  ");
            }
        };
    }

    /** {@code {"path": P}}, with {@code "runtimeArgs"} only when there are any. */
    public static ObjectNode entry(RuntimeEntry rt) {
        ObjectNode entry = JsonTree.nodes().objectNode();
        entry.put("path", rt.path());
        if (!rt.args().isEmpty()) {
            ArrayNode a = entry.putArray("runtimeArgs");
            rt.args().forEach(a::add);
        }
        return entry;
    }

    private static ObjectNode parse(byte[] original, String file) throws GvshimException {
        if (original == null || new String(original, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
            return JsonTree.nodes().objectNode(); // dockerd, too, reads an empty daemon.json as no settings
        }
        JsonNode root;
        try {
            root = JsonTree.read(original);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw InstallFailure.config(file + " is not valid JSON" + where + " (" + JsonTree.plainMessage(e)
                    + "); dockerd cannot read it either: fix it there, then run gvshim install again (nothing was changed)");
        }
        if (!root.isObject()) {
            throw InstallFailure.config(file + " holds " + article(root) + ", not a JSON object; dockerd expects"
                    + " {\"key\": value, ...}: fix it, then run gvshim install again (nothing was changed)");
        }
        return (ObjectNode) root;
    }

    private static String article(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> "a " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
