package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.failure.GvshimException;
import java.util.List;

/** `ps [--format table|json] ID [PS-ARGS]`: the container's host processes (see {@link HostPids}); none once it has stopped. */
public final class Ps {
    private Ps() {
    }

    public static int run(RuntimeCall rc, String id, String format, List<String> psArgs) throws GvshimException {
        Container ct = rc.lookup.existing(id);
        if (format != null && !"table".equals(format) && !"json".equals(format)) {
            throw RuntimeFailures.args("invalid format option \"" + format + "\" (table or json)");
        }
        JsonNode st = rc.lookup.runscState(ct);
        // runc lists a stopped container's processes as none (exit 0): ps's header, or JSON null
        boolean stopped = st == null || "stopped".equals(rc.lookup.effective(ct, st.path("status").asText()));
        List<Integer> pids = stopped ? List.of() : HostPids.of(st.path("pid").asInt(0), rc.store.root(),
                st.path("bundle").asText(""), rc.store.debugLogs(ct.id()));
        if ("json".equals(format)) {
            rc.call.out().println(pids.isEmpty() ? "null" : pids.toString().replace(" ", ""));
            return 0;
        }
        rc.call.out().print(HostPids.table(rc.call, pids, psArgs));
        return 0;
    }
}
