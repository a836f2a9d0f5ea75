package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A container's state as runc prints it (runc's containerState, utils_linux.go / list.go): the
 * fields in runc's order {@code ociVersion, id, pid, status, bundle, rootfs, created,
 * annotations (only if any), owner}; pid 0 once stopped. runsc prints fewer fields (no rootfs,
 * created or owner), pid -1 for a stopped container, and its own order; tools and runc's own
 * tests read runc's. The values gvshim cannot take from runsc's answer come from runsc's state
 * file (createdAt, the spec's root and annotations). {@code pid} is the sandbox's host pid, what
 * Docker needs for `top` and containerd for its shim: gVisor's container processes are not host
 * processes.
 */
final class RuncState {
    private RuncState() {
    }

    /** runsc's state file's fields runc's output needs (empty strings and null when unreadable). */
    record FileFacts(String created, String rootfs, JsonNode annotations) {
        static final FileFacts NONE = new FileFacts("", "", null);
    }

    /** Reads {@code stateFile} (runsc's CONTAINER_sandbox:SANDBOX.state); {@link FileFacts#NONE} if it cannot. */
    static FileFacts read(Path stateFile, Path bundle) {
        if (stateFile == null) {
            return FileFacts.NONE;
        }
        try {
            JsonNode f = JsonTree.read(Files.readAllBytes(stateFile));
            String root = f.path("spec").path("root").path("path").asText("");
            String rootfs = root.isEmpty() ? "" : bundle.resolve(root).normalize().toString();
            JsonNode ann = f.path("spec").path("annotations");
            return new FileFacts(f.path("createdAt").asText(""), rootfs, ann.isObject() && !ann.isEmpty() ? ann : null);
        } catch (IOException | RuntimeException e) {
            return FileFacts.NONE;
        }
    }

    /** runc's state object of a container. */
    static ObjectNode of(String ociVersion, String id, long pid, String status, String bundle, FileFacts f, String owner) {
        ObjectNode o = JsonTree.nodes().objectNode();
        o.put("ociVersion", ociVersion);
        o.put("id", id);
        o.put("pid", "stopped".equals(status) || pid < 0 ? 0 : pid);
        o.put("status", status);
        o.put("bundle", bundle);
        o.put("rootfs", f.rootfs());
        o.put("created", f.created());
        if (f.annotations() != null) {
            o.set("annotations", f.annotations());
        }
        o.put("owner", owner);
        return o;
    }

    /** `state`'s output: two-space indented, without a final newline (runc writes json.MarshalIndent's bytes as they are). */
    static String indented(ObjectNode o) {
        String s = new String(JsonTree.write(o, "  "), java.nio.charset.StandardCharsets.UTF_8);
        return s.substring(0, s.length() - 1);
    }
}
