package dev.gvshim.container;

import dev.gvshim.call.Launch;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** `state`: runsc's OCI state, in the caller's terms (its ids, its bundle) and with runc's status of a dead sandbox. */
public final class State {
    private State() {
    }

    private static final Pattern STATUS = Pattern.compile("\"status\":\\s*\"(\\w+)\"");
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
        Matcher m = STATUS.matcher(o);
        if (m.find() && !rc.lookup.effective(ct, m.group(1)).equals(m.group(1))) {
            o = o.substring(0, m.start(1)) + "stopped" + o.substring(m.end(1));
        }
        rc.call.out().println(o);
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
