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
    /**
     * A pool, whether it was added without an owner ({@code kept}: it stays until remove-pool), and
     * the processes that added it with one (pid to start time): each caller of the same spec is an
     * owner of its own, so that one JVM's end or close() does not take the pool from another, nor
     * from the server's own configuration.
     */
    private record Entry(SandboxPool pool, boolean kept, Map<Long, Long> owners) {
        /** Forgets the owners that are gone; true when none is left and nothing else keeps the pool. */
        boolean orphaned() {
            owners.entrySet().removeIf(o -> !ProcStat.running(o.getKey(), o.getValue()));
            return !kept && owners.isEmpty();
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
            p.pools.put(s.name(), new Entry(p.maker.apply(s).start(), true, new LinkedHashMap<>()));
        }
        return p;
    }

    /** A test's pools; {@code maker} makes the ones added. */
    public static SandboxPools of(List<SandboxPool> list, Function<PoolSpec, SandboxPool> maker) {
        SandboxPools p = new SandboxPools(maker, s -> { });
        list.forEach(x -> p.pools.put(x.spec().name(), new Entry(x, true, new LinkedHashMap<>())));
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
     * process ends (and every other owner's has, and no caller added it without one). The same spec
     * again is the pool there, with this caller as one more owner (an application that starts again,
     * or a second JVM of the same profile, finds the pool); another spec under the name is refused.
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
                if (ownerPid <= 0) {
                    pools.put(spec.name(), new Entry(e.pool(), true, e.owners())); // asked for without an owner: it stays
                } else {
                    e.owners().put(ownerPid, start);
                }
                return e.pool();
            }
            made = maker.apply(spec);
            Map<Long, Long> owners = new LinkedHashMap<>();
            if (ownerPid > 0) {
                owners.put(ownerPid, start);
            }
            pools.put(spec.name(), new Entry(made, ownerPid <= 0, owners));
        }
        log.accept("pool " + spec + " added" + (ownerPid > 0 ? " for process " + ownerPid : ""));
        return made.start();
    }

    /** Removes the pool {@code name} and destroys its sandboxes (those in use end too); false: none such. */
    public boolean remove(String name) {
        return release(name, null, 0) != null;
    }

    /**
     * The owner {@code ownerPid}'s end of the pool {@code name} (the API's close()): the pool is
     * removed when no other owner is left and no caller added it without an owner; pid 0 removes
     * it whoever else holds it (`gvshim server remove-pool NAME`). {@code only}: act only if the
     * pool of that name is this one (an add that failed, undoing itself), or null.
     *
     * @return null when there is no such pool (or not {@code only}), else whether it was removed
     */
    public Boolean release(String name, SandboxPool only, long ownerPid) {
        Entry e;
        synchronized (this) {
            e = pools.get(name);
            if (e == null || only != null && e.pool() != only) {
                return null;
            }
            if (ownerPid > 0) {
                e.owners().remove(ownerPid);
                if (e.kept() || !e.owners().isEmpty()) {
                    return false;
                }
            }
            pools.remove(name);
        }
        e.pool().close();
        log.accept("pool " + name + " removed");
        return true;
    }

    /** Removes the pools whose owner processes are all gone (and that no caller keeps); their names. */
    public List<String> removeOrphans() {
        List<Entry> gone = new ArrayList<>();
        synchronized (this) {
            // decided and taken out at once: an owner added meanwhile (a JVM that starts again) keeps its pool
            pools.values().removeIf(e -> e.orphaned() && gone.add(e));
        }
        for (Entry e : gone) {
            log.accept("pool " + e.pool().spec().name() + ": its owner process is gone");
            e.pool().close();
            log.accept("pool " + e.pool().spec().name() + " removed");
        }
        return gone.stream().map(e -> e.pool().spec().name()).toList();
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
        all.forEach(e -> {
            b.append(e.pool().status());
            List<Long> owners;
            synchronized (this) {
                owners = List.copyOf(e.owners().keySet());
            }
            if (!owners.isEmpty()) {
                b.append("\n  owner process").append(owners.size() > 1 ? "es " : " ").append(owners.stream().map(String::valueOf)
                        .collect(java.util.stream.Collectors.joining(", "))).append(e.kept() ? " (and kept without one)" : "");
            }
            b.append('\n');
        });
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
