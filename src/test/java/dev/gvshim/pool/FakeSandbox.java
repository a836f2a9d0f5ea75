package dev.gvshim.pool;

/**
 * A pooled sandbox for unit tests: no runsc, no process. Alive until destroyed (or {@link #alive}
 * is cleared), its taker gone when a test says so; 10 MB resident. Subclassed where a test needs
 * a destroy that takes its time.
 */
public class FakeSandbox implements Sandbox {
    volatile boolean alive = true;
    volatile boolean takerGone;
    volatile boolean destroyed;
    volatile long taker = -1;

    @Override
    public boolean alive() {
        return alive && !destroyed;
    }

    @Override
    public boolean takerGone() {
        return takerGone;
    }

    @Override
    public void handTo(long pid) {
        taker = pid;
    }

    @Override
    public long rss() {
        return 10 << 20;
    }

    @Override
    public void destroy() {
        destroyed = true;
    }
}
