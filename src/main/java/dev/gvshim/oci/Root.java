package dev.gvshim.oci;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** The "root" section: the container's root file system. */
public final class Root {
    private final ObjectNode json;

    Root(ObjectNode json) {
        this.json = json;
    }

    public String path() {
        return Nodes.text(json, "path");
    }

    public Root path(String path) {
        json.put("path", path);
        return this;
    }

    public boolean readonly() {
        return json.path("readonly").asBoolean(false);
    }

    public Root readonly(boolean ro) {
        json.put("readonly", ro);
        return this;
    }
}
