package dev.gvshim.pool;

import dev.gvshim.call.Call;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.ProcStat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The pools of one server, by name; `gvshim run --pool NAME` finds its pool here. Pools come
 * from the server's start (`--pool`, the configuration file) and are added and removed while it
 * runs (`gvshim server add-pool`, `remove-pool`, the Java API's {@code SandboxPool}). A pool added
 * for an owner process (the API's JVM) is removed when that process is gone, so a JVM that dies
 * without closing its pool leaves no sandboxes behind.
 */
public final class SandboxPools {
    /** A pool, and the process whose end removes it (pid 0: none). */
    private record Entry(SandboxPool pool, long ownerPid, long ownerStart) {
        boolean orphaned() {
            return ownerPid > 0 && !ProcStat.running(ownerPid, ownerStart);
        }
    }

    private final Map<String, Entry> pools = new LinkedHashMap<>();
    private final Function<PoolSpec, SandboxPool> maker;
    private final Consumer<String> log;

    private SandboxPools(Function<PoolSpec, SandboxPool> maker, Consumer<String> log) {
        this.maker = maker;
        this.log = log;
    }

    /**
     * Starts a pool per spec; each (and each added later) boots its sandboxes through `gvshim
     * run`'s core with {@code call} (the server's own environment, stdio to its log).
     */
    public static SandboxPools start(List<PoolSpec> specs, Call call, Consumer<String> log) {
        SandboxPools p = new SandboxPools(s -> new SandboxPool(s, new Booter(call, s), log), log);
        for (PoolSpec s : specs) {
            p.pools.put(s.name(), new Entry(p.maker.apply(s).start(), 0, -1));
        }
        return p;
    }

    /** A test's pools; {@code maker} makes the ones added. */
    public static SandboxPools of(List<SandboxPool> list, Function<PoolSpec, SandboxPool> maker) {
        SandboxPools p = new SandboxPools(maker, s -> { });
        list.forEach(x -> p.pools.put(x.spec().name(), new Entry(x, 0, -1)));
        return p;
    }

    /** A test's pools. */
    public static SandboxPools of(List<SandboxPool> list) {
        return of(list, s -> {
            throw new IllegalStateException("this test adds no pool");
        });
    }

    /**
     * Adds and starts the pool {@code spec}; with {@code ownerPid} > 0 it is removed when that
     * process ends. The same spec again is kept as it is (an application that starts again finds
     * its pool; its new owner is added); another spec under the name is refused.
     *
     * @return the pool (new or already there)
     */
    public SandboxPool add(PoolSpec spec, long ownerPid) throws GvshimException {
        long start = ownerPid > 0 ? ProcStat.liveStartTime(ownerPid) : -1;
        if (ownerPid > 0 && start < 0) {
            throw new GvshimException(Failure.of("POOL_OWNER_GONE", "cannot add the pool " + spec.name(), null,
                    "its owner, process " + ownerPid + ", is not running (in the server's pid namespace)",
                    "name a running process with --owner, or none (the pool stays until `gvshim server remove-pool`)"));
        }
        SandboxPool made;
        synchronized (this) {
            Entry e = pools.get(spec.name());
            if (e != null) {
                if (!e.pool().spec().toString().equals(spec.toString())) {
                    throw new GvshimException(Failure.of("POOL_EXISTS", "cannot add the pool " + spec.name(), null,
                            "the server has a pool of that name with another profile (" + e.pool().spec() + ")",
                            "choose another name, or `gvshim server remove-pool " + spec.name() + "` first"));
                }
                if (e.ownerPid() > 0 && ownerPid <= 0) {
                    pools.put(spec.name(), new Entry(e.pool(), 0, -1)); // asked for without an owner: it stays
                }
                return e.pool();
            }
            made = maker.apply(spec);
            pools.put(spec.name(), new Entry(made, ownerPid, start));
        }
        log.accept("pool " + spec + " added" + (ownerPid > 0 ? " for process " + ownerPid : ""));
        return made.start();
    }

    /** Removes the pool {@code name} and destroys its sandboxes (those in use end too); false: none such. */
    public boolean remove(String name) {
        Entry e;
        synchronized (this) {
            e = pools.remove(name);
        }
        if (e == null) {
            return false;
        }
        e.pool().close();
        log.accept("pool " + name + " removed");
        return true;
    }

    /** Removes the pools whose owner process is gone; their names. */
    public List<String> removeOrphans() {
        List<String> gone = new ArrayList<>();
        synchronized (this) {
            pools.forEach((n, e) -> {
                if (e.orphaned()) {
                    gone.add(n);
                }
            });
        }
        for (String n : gone) {
            log.accept("pool " + n + ": its owner process is gone");
            remove(n);
        }
        return gone;
    }

    /** The pool {@code name}, or null. */
    public synchronized SandboxPool find(String name) {
        Entry e = pools.get(name);
        return e == null ? null : e.pool();
    }

    public synchronized List<String> names() {
        return List.copyOf(pools.keySet());
    }

    public synchronized boolean isEmpty() {
        return pools.isEmpty();
    }

    /** `gvshim server status`'s lines, one per pool ("" without pools). */
    public String status() {
        List<Entry> all;
        synchronized (this) {
            all = List.copyOf(pools.values());
        }
        StringBuilder b = new StringBuilder();
        all.forEach(e -> b.append(e.pool().status()).append(e.ownerPid() > 0 ? "\n  owner process " + e.ownerPid() : "")
                .append('\n'));
        return b.toString();
    }

    /** Destroys every pooled sandbox. */
    public void close() {
        List<Entry> all;
        synchronized (this) {
            all = List.copyOf(pools.values());
            pools.clear();
        }
        all.parallelStream().forEach(e -> e.pool().close());
    }
}
