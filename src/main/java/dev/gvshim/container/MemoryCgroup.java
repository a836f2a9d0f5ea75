package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.oci.JsonTree;
import java.math.BigInteger;

/**
 * The sandbox's memory cgroup, for `events`: runc's OOM events and the memory figures runsc
 * leaves out of its stats.
 *
 * <p>gVisor has no OOM killer of its own: the host's kills the sandbox's largest process, the
 * Sentry, whose memory file holds the container's memory, when the cgroup reaches its limit
 * (measured: a container writing 600 MiB to /dev/shm under a 200 MiB limit; the kernel's
 * "Memory cgroup out of memory: Killed process (exe) ... shmem-rss:192536kB"), and the container
 * stops. The cgroup counts it: cgroup v1's memory.oom_control {@code oom_kill} (Linux 4.13;
 * {@code under_oom} 1 while it is out of memory with the killer disabled), v2's memory.events
 * {@code oom_kill} (cgroup-v2.rst). runc waits on an eventfd (v1) or inotify (v2); gvshim reads
 * the counters every {@link #POLL_MS} ms, which sees an OOM well before containerd deletes the
 * stopped container.
 */
final class MemoryCgroup {
    static final long POLL_MS = 100;

    private final String dir;
    private final boolean v2;
    private final Cgroups.Host h;
    private long kills;
    private boolean under;

    private MemoryCgroup(String dir, boolean v2, Cgroups.Host h) {
        this.dir = dir;
        this.v2 = v2;
        this.h = h;
    }

    /**
     * The memory cgroup of the process whose /proc/PID/cgroup is {@code procCgroup}; null when it
     * has none that can be read.
     */
    static MemoryCgroup of(String procCgroup, String mountinfo, Cgroups.Host h) {
        Cgroups.Place p = Cgroups.place("memory", procCgroup, mountinfo);
        if (p == null) {
            return null;
        }
        MemoryCgroup m = new MemoryCgroup(p.dir(), p.v2(), h);
        return m.poll() < 0 ? null : m;
    }

    String dir() {
        return dir;
    }

    /**
     * The OOM events since the last poll (the first poll counts from there); -1 when runc's
     * `events` would end: the cgroup is gone (v1: deleted; runc's eventfd fires on removal), or
     * on v2 none of its processes is left (runc watches cgroup.events' populated).
     */
    int poll() {
        String text = h.read(dir + (v2 ? "/memory.events" : "/memory.oom_control"));
        if (text == null || v2 && "0".equals(value(h.read(dir + "/cgroup.events"), "populated"))) {
            return -1;
        }
        String k = value(text, "oom_kill");
        long now = k == null ? 0 : Long.parseLong(k);
        boolean nowUnder = "1".equals(value(text, "under_oom"));
        int events = (int) Math.max(0, now - kills) + (nowUnder && !under && now == kills ? 1 : 0);
        kills = now;
        under = nowUnder;
        return events;
    }

    /** The value of {@code key} in a cgroup file of "key value" lines (null: none). */
    static String value(String text, String key) {
        if (text == null) {
            return null;
        }
        for (String line : text.split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length == 2 && f[0].equals(key)) {
                return f[1];
            }
        }
        return null;
    }

    /**
     * {@code stats}, runsc's stats event, with the memory figures it leaves out or at zero, in runc's
     * fields and order (types.Memory): cache, usage's limit, max and failcnt, swap's limit, raw
     * (memory.stat). runsc's usage is kept: it is the container's own, without gVisor's.
     */
    String withMemory(String stats) {
        JsonNode ev;
        try {
            ev = JsonTree.read(stats.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            return stats;
        }
        if (!(ev.path("data").path("memory") instanceof ObjectNode mem)) {
            return stats;
        }
        String stat = h.read(dir + "/memory.stat");
        ObjectNode out = JsonTree.nodes().objectNode();
        String cache = value(stat, v2 ? "file" : "cache");
        if (cache != null && !mem.has("cache")) {
            out.put("cache", new BigInteger(cache));
        }
        fill(mem, "usage", v2 ? "memory.max" : "memory.limit_in_bytes", v2 ? null : "memory.max_usage_in_bytes",
                v2 ? null : "memory.failcnt");
        fill(mem, "swap", v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes", v2 ? null : "memory.memsw.max_usage_in_bytes",
                v2 ? null : "memory.memsw.failcnt");
        mem.properties().forEach(e -> out.set(e.getKey(), e.getValue()));
        if (stat != null && !out.has("raw")) {
            ObjectNode raw = out.putObject("raw");
            for (String line : stat.split("\n")) {
                String[] f = line.strip().split("\\s+");
                if (f.length == 2 && f[1].matches("\\d+")) {
                    raw.put(f[0], new BigInteger(f[1]));
                }
            }
        }
        ((ObjectNode) ev.path("data")).set("memory", out);
        return JsonTree.compact(ev);
    }

    /** One of runc's MemoryEntry {limit, usage, max, failcnt}: the cgroup's figures where runsc's are zero or missing. */
    private void fill(ObjectNode mem, String name, String limitFile, String maxFile, String failFile) {
        if (!(mem.path(name) instanceof ObjectNode e)) {
            return;
        }
        ObjectNode in = e.deepCopy();
        e.removeAll();
        String limit = h.read(dir + "/" + limitFile);
        // v2's "max" is no limit: runc's math.MaxUint64
        BigInteger l = limit == null ? null : limit.strip().equals("max") ? BigInteger.TWO.pow(64).subtract(BigInteger.ONE)
                : limit.strip().matches("\\d+") ? new BigInteger(limit.strip()) : null;
        put(e, "limit", zero(in.path("limit")) && l != null ? JsonTree.nodes().numberNode(l) : in.path("limit"));
        put(e, "usage", in.path("usage"));
        String max = maxFile == null ? null : h.read(dir + "/" + maxFile);
        if (!in.has("max") && max != null && max.strip().matches("\\d+") && !max.strip().equals("0")) {
            e.put("max", new BigInteger(max.strip()));
        } else {
            put(e, "max", in.path("max"));
        }
        String fail = failFile == null ? null : h.read(dir + "/" + failFile);
        put(e, "failcnt", zero(in.path("failcnt")) && fail != null && fail.strip().matches("\\d+")
                ? JsonTree.nodes().numberNode(new BigInteger(fail.strip())) : in.path("failcnt"));
        in.properties().forEach(p -> {
            if (!e.has(p.getKey())) {
                e.set(p.getKey(), p.getValue());
            }
        });
    }

    private static void put(ObjectNode o, String key, JsonNode n) {
        if (!n.isMissingNode()) {
            o.set(key, n);
        }
    }

    private static boolean zero(JsonNode n) {
        return n.isMissingNode() || n.isNumber() && n.asLong() == 0;
    }
}
