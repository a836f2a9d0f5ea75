package dev.gvshim.oci;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** One entry of "mounts". */
public final class Mount {
    private final ObjectNode json;

    Mount(ObjectNode json) {
        this.json = json;
    }

    public static Mount of(String destination, String type, String source, List<String> options) {
        ObjectNode o = JsonTree.nodes().objectNode();
        o.put("destination", destination);
        o.put("type", type);
        o.put("source", source);
        if (!options.isEmpty()) {
            o.set("options", Nodes.strings(options));
        }
        return new Mount(o);
    }

    /** A bind mount of a host path, read-only or not. */
    public static Mount bind(String source, String destination, boolean readOnly) {
        return of(destination, "bind", source, readOnly ? List.of("rbind", "ro") : List.of("rbind", "rw"));
    }

    public String destination() {
        return Nodes.text(json, "destination");
    }

    public String type() {
        return Nodes.text(json, "type");
    }

    public String source() {
        return Nodes.text(json, "source");
    }

    public List<String> options() {
        return Nodes.texts(json, "options");
    }

    public Mount options(List<String> options) {
        json.set("options", Nodes.strings(options));
        return this;
    }

    public Mount type(String type) {
        json.put("type", type);
        return this;
    }

    public Mount source(String source) {
        json.put("source", source);
        return this;
    }

    public ObjectNode json() {
        return json;
    }
}
