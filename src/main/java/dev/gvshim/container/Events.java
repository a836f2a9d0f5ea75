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
        long every = interval == null ? 5000 : millis(interval); // runc's default: 5 s
        // runc's checks and texts (events.go): runsc would stream forever for both, printing
        // nothing for a stopped container (it retries every interval)
        Status status = Status.of(rc.lookup.status(ct));
        if (status == null || status == Status.STOPPED) {
            throw RuntimeFailures.of("CONTAINER_NOT_RUNNING", "container with id " + id + " is not running"); // runc's text
        }
        MemoryCgroup memory = memory(rc, ct);
        if (stats) {
            print(rc, stats(rc, ct, memory, true, status == Status.CREATED));
            return 0;
        }
        if (memory == null) {
            rc.log.debug("container " + id + ": no memory cgroup of its own (rootless): no oom events");
        }
        // runc's two goroutines: the OOM watch is never late behind a runsc call (one asking a sandbox the
        // OOM killer is ending can take seconds), and ends the stream
        java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
        Thread watch = memory == null ? null : Thread.ofPlatform().daemon().name("events-oom-" + id).start(() -> {
            while (!ended.get()) {
                int ooms = memory.poll();
                if (ooms < 0) {
                    ended.set(true); // runc's events ends with the container's cgroup
                    return;
                }
                for (int i = 0; i < ooms; i++) {
                    print(rc, "{\"type\":\"oom\",\"id\":\"" + id + "\"}"); // runc's types.Event; ids need no escaping
                }
                sleep(MemoryCgroup.POLL_MS);
            }
        });
        // a server's call: its client (^C, a killed caller) is gone; the handle knows the process's start time
        java.util.Optional<ProcessHandle> caller = ProcessHandle.of(rc.call.callerPid());
        try {
            while (true) {
                for (long waited = 0; waited < every; waited += MemoryCgroup.POLL_MS) {
                    // without a cgroup of its own, the stream ends with the container
                    if (ended.get() || memory == null && rc.store.load(id) == null
                            || caller.isPresent() && !caller.get().isAlive() || !sleep(Math.min(MemoryCgroup.POLL_MS, every - waited))) {
                        return 0;
                    }
                }
                String line;
                try {
                    line = stats(rc, ct, memory, false, false);
                } catch (GvshimException e) {
                    if (rc.store.load(id) == null || rc.store.runscState(ct.runscId()) == null) {
                        return 0; // deleted between two polls (runc's stream ends with the container, status 0)
                    }
                    throw e;
                }
                if (line != null && !ended.get()) {
                    print(rc, line);
                }
            }
        } finally {
            ended.set(true);
            if (watch != null) {
                try {
                    watch.join(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
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
        String procCgroup = h.read(rc.store.proc() + "/" + sb.pid() + "/cgroup");
        String mountinfo = h.read(rc.store.proc() + "/self/mountinfo");
        return procCgroup == null || mountinfo == null ? null : MemoryCgroup.of(procCgroup, mountinfo, h);
    }

    /**
     * One stats event: runsc's, its id the container's own, memory figures completed. A failure
     * ends `events --stats`; in the stream it is skipped, as runc logs and goes on (a sandbox the
     * OOM killer ended has no stats until the container is deleted).
     */
    private static String stats(RuntimeCall rc, Container ct, MemoryCgroup memory, boolean once, boolean created)
            throws GvshimException {
        Launch.Ran r = rc.runsc(ct, List.of("events", "--stats", ct.runscId()));
        String line = r.output().lines().filter(l -> l.startsWith("{")).findFirst().orElse(null);
        if (!r.ok() || line == null) {
            if (once && created) {
                // runc reads a created container's cgroup; runsc 2022-12 panics ("integer divide by zero"): its
                // stats are the Sentry's, which has run nothing yet
                throw RuntimeFailures.state("cannot get the stats of container " + ct.id() + " before it is started: gVisor"
                        + " counts a container's usage from its start; start it first");
            }
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
        synchronized (rc.call.out()) {
            rc.call.out().println(line);
            rc.call.out().flush();
        }
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

    private static final Pattern DURATION = Pattern.compile("((?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:ns|us|µs|ms|s|m|h))+|\\d+");
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

    /**
     * runc's --interval, a Go duration (time.ParseDuration: 5s, 1m30s, 1.5s, 500ms), in
     * milliseconds, at least 1; a bare number is seconds, as gvshim always took it.
     */
    static long millis(String d) throws GvshimException {
        String t = d.strip();
        if (!DURATION.matcher(t).matches()) {
            throw RuntimeFailures.args("invalid --interval \"" + d + "\" (a duration such as 5s, 1m or 500ms)");
        }
        java.math.BigDecimal ms = java.math.BigDecimal.ZERO;
        Matcher m = PART.matcher(t);
        if (!m.find()) {
            ms = new java.math.BigDecimal(t).multiply(java.math.BigDecimal.valueOf(1000));
        } else {
            do {
                double unit = switch (m.group(2)) {
                    case "ns" -> 1e-6;
                    case "us", "µs" -> 1e-3;
                    case "ms" -> 1;
                    case "s" -> 1000;
                    case "m" -> 60_000;
                    default -> 3_600_000;
                };
                ms = ms.add(new java.math.BigDecimal(m.group(1)).multiply(java.math.BigDecimal.valueOf(unit)));
            } while (m.find());
        }
        if (ms.signum() == 0) {
            throw RuntimeFailures.args("duration interval must be greater than 0"); // runc's text
        }
        return Math.max(1, ms.setScale(0, java.math.RoundingMode.CEILING).min(java.math.BigDecimal.valueOf(Long.MAX_VALUE / 2))
                .longValue());
    }
}
