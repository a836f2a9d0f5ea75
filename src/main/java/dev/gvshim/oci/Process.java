package dev.gvshim.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** The "process" section: what runs in the container. */
public final class Process {
    private final ObjectNode json;

    Process(ObjectNode json) {
        this.json = json;
    }

    public List<String> args() {
        return Nodes.texts(json, "args");
    }

    public Process args(List<String> args) {
        json.set("args", Nodes.strings(args));
        return this;
    }

    public List<String> env() {
        return Nodes.texts(json, "env");
    }

    public Process env(List<String> env) {
        json.set("env", Nodes.strings(env));
        return this;
    }

    /** Sets KEY=VALUE, replacing an existing KEY. */
    public Process setEnv(String key, String value) {
        ArrayNode a = Nodes.array(json, "env");
        String prefix = key + "=";
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i).asText().startsWith(prefix)) {
                a.set(i, JsonTree.nodes().textNode(prefix + value));
                return this;
            }
        }
        a.add(prefix + value);
        return this;
    }

    public String cwd() {
        return Nodes.text(json, "cwd");
    }

    public Process cwd(String cwd) {
        json.put("cwd", cwd);
        return this;
    }

    public boolean terminal() {
        JsonNode t = json.get("terminal");
        return t != null && t.asBoolean();
    }

    public Process terminal(boolean terminal) {
        json.put("terminal", terminal);
        return this;
    }

    public long uid() {
        return json.path("user").path("uid").asLong(0);
    }

    public long gid() {
        return json.path("user").path("gid").asLong(0);
    }

    public Process user(long uid, long gid) {
        ObjectNode user = Nodes.object(json, "user");
        user.put("uid", uid);
        user.put("gid", gid);
        return this;
    }

    /** process.user.additionalGids (none: removed). */
    public Process additionalGids(List<Long> gids) {
        ObjectNode user = Nodes.object(json, "user");
        if (gids.isEmpty()) {
            user.remove("additionalGids");
        } else {
            ArrayNode a = user.putArray("additionalGids");
            gids.forEach(a::add);
        }
        return this;
    }

    /** The same capability list in every set (bounding, effective, permitted, and optionally ambient). */
    public Process capabilities(List<String> caps, boolean ambient) {
        ObjectNode c = json.putObject("capabilities");
        for (String set : ambient ? List.of("bounding", "effective", "permitted", "ambient")
                : List.of("bounding", "effective", "permitted")) {
            c.set(set, Nodes.strings(caps));
        }
        return this;
    }

    public Process rlimit(String type, long soft, long hard) {
        ArrayNode a = Nodes.array(json, "rlimits");
        for (int i = a.size() - 1; i >= 0; i--) {
            if (type.equals(a.get(i).path("type").asText())) {
                a.remove(i);
            }
        }
        ObjectNode r = a.addObject();
        r.put("type", type);
        r.put("hard", hard);
        r.put("soft", soft);
        return this;
    }

    public Process noNewPrivileges(boolean nnp) {
        json.put("noNewPrivileges", nnp);
        return this;
    }

    public ObjectNode json() {
        return json;
    }
}
