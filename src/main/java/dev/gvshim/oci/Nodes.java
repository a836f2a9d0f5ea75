package dev.gvshim.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** Small helpers for the typed views: get-or-create children, string lists. */
final class Nodes {
    private Nodes() {
    }

    static ObjectNode object(ObjectNode parent, String name) {
        if (parent.get(name) instanceof ObjectNode o) {
            return o;
        }
        return parent.putObject(name);
    }

    static ArrayNode array(ObjectNode parent, String name) {
        if (parent.get(name) instanceof ArrayNode a) {
            return a;
        }
        return parent.putArray(name);
    }

    static String text(ObjectNode parent, String name) {
        JsonNode n = parent.get(name);
        return n != null && n.isTextual() ? n.textValue() : null;
    }

    static List<String> texts(ObjectNode parent, String name) {
        List<String> out = new ArrayList<>();
        if (parent.get(name) instanceof ArrayNode a) {
            for (JsonNode n : a) {
                out.add(n.asText());
            }
        }
        return out;
    }

    static ArrayNode strings(List<String> values) {
        ArrayNode a = JsonTree.nodes().arrayNode(values.size());
        values.forEach(a::add);
        return a;
    }
}
