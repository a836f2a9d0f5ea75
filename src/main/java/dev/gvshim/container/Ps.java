package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.failure.GvshimException;
import java.util.List;

/** `ps [--format table|json] ID [PS-ARGS]`: the container's host processes (see {@link HostPids}). */
public final class Ps {
    private Ps() {
    }

    public static int run(RuntimeCall rc, String id, String format, List<String> psArgs) throws GvshimException {
        Container ct = rc.lookup.existing(id);
        JsonNode st = rc.lookup.runscState(ct);
        if (st == null || "stopped".equals(rc.lookup.effective(ct, st.path("status").asText()))) {
            throw RuntimeFailures.notRunning(id);
        }
        List<Integer> pids = HostPids.of(st.path("pid").asInt(0), rc.store.root(), st.path("bundle").asText(""));
        if ("json".equals(format)) {
            rc.call.out().println(pids.toString().replace(" ", ""));
            return 0;
        }
        if (format != null && !"table".equals(format)) {
            throw RuntimeFailures.args("invalid format option \"" + format + "\" (table or json)");
        }
        rc.call.out().print(HostPids.table(rc.call, pids, psArgs));
        return 0;
    }
}
