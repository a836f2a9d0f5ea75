package dev.gvshim.container;

import dev.gvshim.call.Launch;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * `events [--stats] [--interval D] ID`, as runc's: with --stats one stats event; else a stats event
 * every interval (runc's default 5 s, the first after one interval) and an {@code oom} event as soon
 * as the sandbox's memory cgroup records an OOM kill ({@link MemoryCgroup}), until the container's
 * cgroup is deleted (cgroup v1) or has no processes left (v2). The stats are runsc's ({@code runsc
 * events --stats}, with the container's own id) with the memory figures runsc leaves out taken from
 * the cgroup.
 */
public final class Events {
    private Events() {
    }

    public static int run(RuntimeCall rc, String id, boolean stats, String interval) throws GvshimException {
        Container ct = rc.lookup.existing(id);
        int every = interval == null ? 5 : seconds(interval);
        // runc's checks and texts (events.go): runsc would stream forever for both, printing
        // nothing for a stopped container (it retries every interval)
        Status status = Status.of(rc.lookup.status(ct));
        if (status == null || status == Status.STOPPED) {
            throw RuntimeFailures.of("CONTAINER_NOT_RUNNING", "container with id " + id + " is not running"); // runc's text
        }
        MemoryCgroup memory = memory(rc, ct);
        if (stats) {
            print(rc, stats(rc, ct, memory, true));
            return 0;
        }
        if (memory == null) {
            rc.log.debug("container " + id + ": no memory cgroup of its own (rootless): no oom events");
        }
        while (true) {
            for (long waited = 0; waited < every * 1000L; waited += MemoryCgroup.POLL_MS) {
                int ooms = memory == null ? 0 : memory.poll();
                if (ooms < 0 || memory == null && rc.store.load(id) == null) {
                    return 0; // runc's events ends with the container's cgroup; without one, with the container
                }
                for (int i = 0; i < ooms; i++) {
                    print(rc, "{\"type\":\"oom\",\"id\":\"" + id + "\"}"); // runc's types.Event; ids need no escaping
                }
                if (!sleep(MemoryCgroup.POLL_MS)) {
                    return 0; // the call is being ended (a server shutting down)
                }
            }
            String line = stats(rc, ct, memory, false);
            if (line != null) {
                print(rc, line);
            }
        }
    }

    /**
     * The memory cgroup runsc put the sandbox in (its process's, read while it runs); null for a
     * rootless container, whose sandbox runs in its caller's cgroup (runsc --ignore-cgroups).
     */
    private static MemoryCgroup memory(RuntimeCall rc, Container ct) {
        Containers.Sandbox sb = rc.store.sandbox(ct.runscId());
        if (ct.rootless() || sb == null || sb.pid() <= 0) {
            return null;
        }
        Cgroups.Host h = Cgroups.Host.system();
        String procCgroup = h.read("/proc/" + sb.pid() + "/cgroup");
        String mountinfo = h.read("/proc/self/mountinfo");
        return procCgroup == null || mountinfo == null ? null : MemoryCgroup.of(procCgroup, mountinfo, h);
    }

    /**
     * One stats event: runsc's, its id the container's own, memory figures completed. A failure
     * ends `events --stats`; in the stream it is skipped, as runc logs and goes on (a sandbox the
     * OOM killer ended has no stats until the container is deleted).
     */
    private static String stats(RuntimeCall rc, Container ct, MemoryCgroup memory, boolean once) throws GvshimException {
        Launch.Ran r = rc.runsc(ct, List.of("events", "--stats", ct.runscId()));
        String line = r.output().lines().filter(l -> l.startsWith("{")).findFirst().orElse(null);
        if (!r.ok() || line == null) {
            if (once) {
                throw Diagnosis.plain(rc, ct, "events", r);
            }
            rc.log.debug("container " + ct.id() + ": no stats from runsc (exit status " + r.exitCode() + ")");
            return null;
        }
        line = ct.human(line);
        return memory == null ? line : memory.withMemory(line);
    }

    private static void print(RuntimeCall rc, String line) {
        rc.call.out().println(line);
        rc.call.out().flush();
    }

    private static boolean sleep(long ms) {
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");

    /** runc takes a Go duration (5s, 1m, 500ms); runsc whole seconds (a shorter interval is 1 s). */
    static int seconds(String d) throws GvshimException {
        Matcher m = DURATION.matcher(d.strip());
        if (!m.matches()) {
            throw RuntimeFailures.args("invalid --interval \"" + d + "\" (a duration such as 5s or 1m)");
        }
        long n = Long.parseLong(m.group(1));
        if (n == 0) {
            throw RuntimeFailures.args("duration interval must be greater than 0"); // runc's text
        }
        String u = m.group(2) == null ? "s" : m.group(2);
        long s = switch (u) {
            case "ms" -> (n + 999) / 1000;
            case "m" -> n * 60;
            case "h" -> n * 3600;
            default -> n;
        };
        return (int) Math.max(1, Math.min(s, Integer.MAX_VALUE));
    }
}
