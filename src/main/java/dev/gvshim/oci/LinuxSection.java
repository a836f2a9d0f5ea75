package dev.gvshim.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** The "linux" section: namespaces, id mappings, masked paths, resources. */
public final class LinuxSection {
    private final ObjectNode json;

    LinuxSection(ObjectNode json) {
        this.json = json;
    }

    /** Namespace types in order ("pid", "network", ...). */
    public List<String> namespaces() {
        List<String> out = new ArrayList<>();
        if (json.get("namespaces") instanceof ArrayNode a) {
            for (JsonNode n : a) {
                out.add(n.path("type").asText());
            }
        }
        return out;
    }

    /** The "path" of a namespace entry (joining an existing namespace), or null. */
    public String namespacePath(String type) {
        if (json.get("namespaces") instanceof ArrayNode a) {
            for (JsonNode n : a) {
                if (type.equals(n.path("type").asText()) && n.get("path") != null) {
                    return n.get("path").asText();
                }
            }
        }
        return null;
    }

    public LinuxSection namespaces(List<String> types) {
        ArrayNode a = json.putArray("namespaces");
        for (String t : types) {
            a.addObject().put("type", t);
        }
        return this;
    }

    public LinuxSection addNamespace(String type) {
        if (!namespaces().contains(type)) {
            Nodes.array(json, "namespaces").addObject().put("type", type);
        }
        return this;
    }

    /** A namespace entry that joins the namespace at {@code path} (replacing any entry of that type). */
    public LinuxSection addNamespace(String type, String path) {
        removeNamespace(type);
        Nodes.array(json, "namespaces").addObject().put("type", type).put("path", path);
        return this;
    }

    public LinuxSection removeNamespace(String type) {
        if (json.get("namespaces") instanceof ArrayNode a) {
            for (int i = a.size() - 1; i >= 0; i--) {
                if (type.equals(a.get(i).path("type").asText())) {
                    a.remove(i);
                }
            }
        }
        return this;
    }

    /** uidMappings/gidMappings: {containerID, hostID, size} each. */
    public LinuxSection mappings(String field, long containerId, long hostId, long size) {
        ArrayNode a = json.putArray(field);
        ObjectNode m = a.addObject();
        m.put("containerID", containerId);
        m.put("hostID", hostId);
        m.put("size", size);
        return this;
    }

    public LinuxSection paths(String field, List<String> paths) {
        json.set(field, Nodes.strings(paths));
        return this;
    }

    public LinuxSection remove(String field) {
        json.remove(field);
        return this;
    }

    public boolean has(String field) {
        return json.has(field);
    }

    public ObjectNode json() {
        return json;
    }
}
