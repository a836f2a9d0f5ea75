package dev.gvshim.pool;

/**
 * One sandbox of a {@link SandboxPool}, as the pool manages it: booted ahead ({@link PooledSandbox}
 * for real; the unit tests' fakes), used by one command at most, then destroyed.
 */
public interface Sandbox {
    /** Whether it still runs (a ready sandbox whose runsc died is destroyed and counted failed). */
    boolean alive();

    /** Once handed to a caller: whether that caller is gone (its sandbox must then go too). */
    boolean takerGone();

    /** Records the process that took it (the client that becomes its waiter). */
    void handTo(long pid);

    /** Its resident memory, all of its processes together, in bytes (measured when it became ready). */
    long rss();

    /** Kills what is left of it and removes its state: nothing of it stays. Idempotent. */
    void destroy();
}
