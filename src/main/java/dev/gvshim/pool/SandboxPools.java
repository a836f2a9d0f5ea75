package dev.gvshim.pool;

import dev.gvshim.call.Call;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** The pools of one server, by name; `gvshim run --pool NAME` finds its pool here. */
public final class SandboxPools {
    private final Map<String, SandboxPool> pools = new LinkedHashMap<>();

    /**
     * Starts a pool per spec; each boots its sandboxes through `gvshim run`'s core with
     * {@code call} (the server's own environment, stdio to its log).
     */
    public static SandboxPools start(List<PoolSpec> specs, Call call, Consumer<String> log) {
        SandboxPools p = new SandboxPools();
        for (PoolSpec s : specs) {
            p.pools.put(s.name(), new SandboxPool(s, new Booter(call, s), log).start());
        }
        return p;
    }

    /** A test's pools. */
    public static SandboxPools of(List<SandboxPool> list) {
        SandboxPools p = new SandboxPools();
        list.forEach(x -> p.pools.put(x.spec().name(), x));
        return p;
    }

    /** The pool {@code name}, or null. */
    public SandboxPool find(String name) {
        return pools.get(name);
    }

    public List<String> names() {
        return List.copyOf(pools.keySet());
    }

    /** `gvshim server status`'s lines, one per pool ("" without pools). */
    public String status() {
        StringBuilder b = new StringBuilder();
        pools.values().forEach(p -> b.append(p.status()).append('\n'));
        return b.toString();
    }

    /** Destroys every pooled sandbox. */
    public void close() {
        pools.values().parallelStream().forEach(SandboxPool::close);
    }
}
