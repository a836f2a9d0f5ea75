package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.call.Launch;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** `state`: runsc's OCI state, in the caller's terms (its ids, its bundle), as runc prints it ({@link RuncState}), with runc's status of a dead sandbox. */
public final class State {
    private State() {
    }

    private static final Pattern SANDBOX_ANNOTATION = Pattern.compile(
            "\"(?:io\\.kubernetes\\.cri\\.sandbox-id|io\\.kubernetes\\.cri-o\\.SandboxID)\":\\s*\"([^\"]+)\"");

    public static int run(RuntimeCall rc, String id) throws GvshimException {
        Container ct = rc.lookup.existing(id);
        rc.call.trace().mark("state: loaded");
        Launch.Ran r = rc.runsc(ct, List.of("state", ct.runscId()));
        if (!r.ok()) {
            throw Diagnosis.plain(rc, ct, "state", r);
        }
        String o = humanState(rc, ct, r.output());
        JsonNode runsc;
        try {
            runsc = JsonTree.read(o.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw RuntimeFailures.runsc("cannot read the state of " + id + ": runsc printed no JSON: " + o.strip());
        }
        String status = rc.lookup.effective(ct, runsc.path("status").asText());
        RuncState.FileFacts f = RuncState.read(rc.store.runscState(ct.runscId()), ct.bundle());
        JsonNode said = runsc.path("annotations");
        if (f.annotations() == null && said.isObject() && !said.isEmpty()) {
            f = new RuncState.FileFacts(f.created(), f.rootfs(), said); // the state file unreadable: runsc's own answer
        }
        ObjectNode state = RuncState.of(runsc.path("ociVersion").asText(), id, runsc.path("pid").asLong(0), status,
                runsc.path("bundle").asText(ct.bundle().toString()), f, "");
        rc.call.out().print(RuncState.indented(state));
        rc.call.out().flush();
        return 0;
    }

    /** runsc's state output with the container's own id and bundle, and its pod sandbox's own id. */
    private static String humanState(RuntimeCall rc, Container ct, String json) {
        String o = callersBundle(rc.store, ct, ct.human(json));
        Matcher m = SANDBOX_ANNOTATION.matcher(o);
        if (m.find() && ContainerIds.looksLikeRunscId(m.group(1))) {
            Container owner = rc.store.byRunscId().get(m.group(1));
            if (owner != null) {
                o = o.substring(0, m.start(1)) + owner.id() + o.substring(m.end(1));
            }
        }
        return o;
    }

    /**
     * runsc reports the bundle it read; where that is gvshim's rewrite of the spec (in the
     * container's directory), the caller's bundle instead, as runc reports it.
     */
    static String callersBundle(Containers store, Container ct, String state) {
        String own = store.dir(ct.id()).resolve("bundle").toString();
        if (ct.bundle().toString().equals(own) || !state.contains(own)) {
            return state;
        }
        var q = com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance();
        return state.replaceFirst("(\"bundle\":\\s*)\"" + Pattern.quote(new String(q.quoteAsString(own)))
                + "\"", "$1\"" + Matcher.quoteReplacement(new String(q.quoteAsString(ct.bundle().toString()))) + "\"");
    }
}
