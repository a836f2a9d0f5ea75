package dev.gvshim.pool;

import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * A warm pool of sandboxes of one {@link PoolSpec} (issue 18): at least {@code min} ready, at most
 * {@code max} in all (ready, being booted and in use), the ready ones within {@code memory}.
 * {@link #take} gives a ready sandbox to exactly one command; once its taker is gone the sandbox
 * is destroyed, never given again: no file, process or state crosses from one command to the
 * next. A keeper thread refills in the background (beyond {@code min} while callers wait, up to
 * {@code max}), destroys ready sandboxes that died and used ones whose taker left; filler threads
 * boot sandboxes. Both are platform threads that live as long as the pool: a booted runsc dies
 * with the thread that cloned it (PR_SET_PDEATHSIG), so none may retire while its sandbox lives.
 * A pool that cannot fill keeps the failure (with doctor's id) and gives it to the call that
 * needed a sandbox, and retries with a back-off up to 30 s.
 */
public final class SandboxPool {
    /** How a sandbox is made: {@link Booter}, or a test's fake. */
    @FunctionalInterface
    public interface Maker {
        Sandbox make() throws GvshimException;

        /** The mount points of the spec its sandboxes boot with (none known: a fake's). */
        default java.util.Set<String> mountPoints() {
            return java.util.Set.of();
        }
    }

    private final PoolSpec spec;
    private final Profile profile;
    private final Maker maker;
    private final Consumer<String> log;
    private final Deque<Sandbox> ready = new ArrayDeque<>();
    private final Set<Sandbox> inUse = new LinkedHashSet<>();
    private final ExecutorService fillers;
    private final Thread keeper;
    private int starting;
    private int destroying;
    private int waiting;
    private long created;
    private long failed;
    private long served;
    private int failuresInARow;
    private long retryAtNanos;
    private Failure lastFailure;
    private boolean closed;

    public SandboxPool(PoolSpec spec, Maker maker, Consumer<String> log) {
        this.spec = spec;
        this.profile = Profile.of(spec.template());
        this.maker = maker;
        this.log = log;
        this.fillers = Executors.newFixedThreadPool(Math.min(spec.max(), 4),
                Thread.ofPlatform().name("gvshim-pool-" + spec.name() + "-", 1).daemon(true).factory());
        this.keeper = Thread.ofPlatform().name("gvshim-pool-" + spec.name()).daemon(true).unstarted(this::keep);
    }

    /** Starts booting its first sandboxes. */
    public SandboxPool start() {
        keeper.start();
        return this;
    }

    public PoolSpec spec() {
        return spec;
    }

    public Profile profile() {
        return profile;
    }

    /** The mount points of its sandboxes' spec (a run's must be the same: a generated spec's depend on the working directory). */
    public java.util.Set<String> mountPoints() {
        return maker.mountPoints();
    }

    /**
     * A ready sandbox for a run asking for {@code want}, now its caller's alone; waits up to
     * {@code waitMillis} for one. Refused with one line when the profile differs, when the pool
     * cannot fill (the failure that stops it), or when none became ready in time.
     */
    public Sandbox take(Profile want, long waitMillis) throws GvshimException {
        String differs = profile.differs(want, spec.name());
        if (differs != null) {
            throw new GvshimException(Failure.of("POOL_PROFILE_MISMATCH", "cannot run in the pool " + spec.name(), null, differs,
                    "run with the pool's options (`gvshim server status` lists them), or start a pool with this run's"));
        }
        long end = System.nanoTime() + waitMillis * 1_000_000L;
        synchronized (this) {
            waiting++;
            notifyAll(); // the keeper boots beyond min for a caller that waits
            try {
                while (true) {
                    if (closed) {
                        throw new GvshimException(Failure.of("POOL_EXHAUSTED", "cannot run in the pool " + spec.name(), null,
                                "the pool was removed, or the server is stopping", "run again (a new server starts; add the pool"
                                        + " again if it was removed)"));
                    }
                    Sandbox s = ready.pollFirst();
                    if (s != null) {
                        inUse.add(s);
                        served++;
                        notifyAll();
                        return s;
                    }
                    if (cannotFill()) {
                        throw new GvshimException(lastFailure);
                    }
                    long left = (end - System.nanoTime()) / 1_000_000L;
                    if (left <= 0) {
                        throw new GvshimException(Failure.of("POOL_EXHAUSTED", "cannot run in the pool " + spec.name(), null,
                                "no sandbox became ready within " + waitMillis / 1000 + " s (" + inUse.size() + " in use, max "
                                        + spec.max() + ")", "raise max (`--pool " + spec.name() + ":max=N`), or run fewer at once"));
                    }
                    wait(Math.min(left, 1000));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GvshimException(Failure.of("POOL_EXHAUSTED", "cannot run in the pool " + spec.name(), null,
                        "interrupted while waiting for a sandbox", "run again"));
            } finally {
                waiting--;
            }
        }
    }

    /**
     * Waits until {@code min} sandboxes are ready (or {@code max}, when less), up to {@code
     * waitMillis}; refused with the failure that keeps the pool from filling, or when the time
     * is up (how many are ready then).
     */
    public void awaitReady(long waitMillis) throws GvshimException, InterruptedException {
        long end = System.nanoTime() + waitMillis * 1_000_000L;
        synchronized (this) {
            while (ready.size() < Math.min(spec.min(), spec.max())) {
                if (closed) {
                    throw new GvshimException(Failure.of("POOL_EXHAUSTED", "the pool " + spec.name() + " is gone", null,
                            "it was removed, or the server is stopping", "add it again"));
                }
                if (cannotFill()) {
                    throw new GvshimException(lastFailure);
                }
                long left = (end - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    throw new GvshimException(Failure.of("POOL_NOT_READY", "the pool " + spec.name() + " is not ready", null,
                            ready.size() + " of " + spec.min() + " sandboxes ready after " + waitMillis / 1000 + " s ("
                                    + starting + " starting)", "wait longer, or see `gvshim server status`"));
                }
                wait(Math.min(left, 1000));
            }
        }
    }

    /**
     * Whether the pool's failure is the answer now: a pool that never filled, or fails again and
     * again, says why at once; one failed boot of a pool that works is retried (its callers wait).
     */
    private boolean cannotFill() {
        return lastFailure != null && starting == 0 && (created == 0 || failuresInARow >= 2);
    }

    /** A taken sandbox that was never handed over (its call failed first): destroyed, off the caller's path. */
    public void discard(Sandbox s) {
        synchronized (this) {
            inUse.remove(s);
            destroying++;
        }
        try {
            fillers.execute(() -> destroy(List.of(s)));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            destroy(List.of(s)); // closed meanwhile
        }
    }

    /** Destroys sandboxes counted in {@link #destroying}: until they are gone they count against max. */
    private void destroy(List<Sandbox> over) {
        over.forEach(Sandbox::destroy);
        synchronized (this) {
            destroying -= over.size();
            notifyAll();
        }
    }

    /** Destroys every sandbox (ready and in use) and stops refilling. */
    public void close() {
        List<Sandbox> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(ready);
            all.addAll(inUse);
            ready.clear();
            inUse.clear();
            notifyAll();
        }
        fillers.shutdown(); // a boot under way finishes and sees closed: it destroys its sandbox
        all.forEach(Sandbox::destroy);
        try {
            fillers.awaitTermination(65, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One line for `gvshim server status`. */
    public synchronized String status() {
        long rss = 0;
        for (Sandbox s : ready) {
            rss += Math.max(0, s.rss());
        }
        StringBuilder b = new StringBuilder("pool ").append(spec.name()).append(": ready ").append(ready.size()).append(", in use ")
                .append(inUse.size()).append(", starting ").append(starting).append(", created ").append(created)
                .append(", failed ").append(failed).append(", served ").append(served).append(" (min ").append(spec.min())
                .append(", max ").append(spec.max());
        if (spec.memoryBytes() > 0) {
            b.append(", memory ").append(mb(spec.memoryBytes()));
        }
        b.append("); rss per ready sandbox ").append(ready.isEmpty() ? "-" : mb(rss / ready.size()));
        if (lastFailure != null) {
            b.append("; cannot fill: ").append(lastFailure.oneLine());
        }
        return b.append("\n  profile ").append(spec).toString();
    }

    private static String mb(long bytes) {
        return String.format("%.1f MB", bytes / 1048576.0);
    }

    /** The keeper: destroys what is over, and boots what is missing. */
    private void keep() {
        while (true) {
            List<Sandbox> over = new ArrayList<>();
            synchronized (this) {
                if (closed) {
                    return;
                }
                for (var it = ready.iterator(); it.hasNext();) {
                    Sandbox s = it.next();
                    if (!s.alive()) {
                        it.remove();
                        failed++;
                        over.add(s);
                        log.accept("pool " + spec.name() + ": a ready sandbox died; destroyed");
                    }
                }
                for (var it = inUse.iterator(); it.hasNext();) {
                    Sandbox s = it.next();
                    if (s.takerGone()) {
                        it.remove();
                        over.add(s);
                    }
                }
                destroying += over.size();
                while (wanted() > 0 && System.nanoTime() - retryAtNanos >= 0) {
                    starting++;
                    fillers.execute(this::fillOne);
                }
            }
            destroy(over);
            synchronized (this) {
                if (!closed) {
                    try {
                        wait(over.isEmpty() ? 100 : 1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }

    /** How many more to boot now: up to min ready, or as many as callers wait for; within max and memory. */
    private int wanted() {
        int goal = Math.max(spec.min(), waiting);
        int want = goal - ready.size() - starting;
        int room = spec.max() - ready.size() - starting - inUse.size() - destroying;
        if (spec.memoryBytes() > 0 && !ready.isEmpty()) {
            long rss = 0;
            for (Sandbox s : ready) {
                rss += Math.max(0, s.rss());
            }
            long per = rss / ready.size();
            room = (int) Math.min(room, per == 0 ? room : (spec.memoryBytes() - rss) / per - starting);
        }
        return Math.min(want, room);
    }

    private void fillOne() {
        Sandbox s = null;
        Failure f = null;
        synchronized (this) {
            if (closed) {
                starting--;
                return;
            }
        }
        try {
            s = maker.make();
        } catch (GvshimException e) {
            f = e.failure();
        } catch (RuntimeException e) {
            f = Failure.of("POOL_FILL_FAILED", "cannot fill the pool " + spec.name(), null, "an internal error: " + e,
                    "see the server's log");
        }
        if (f != null) {
            log.accept("pool " + spec.name() + ": " + f.oneLine()); // logged before a waiting caller is told
        }
        boolean destroy = false;
        synchronized (this) {
            starting--;
            if (s != null) {
                created++;
                failuresInARow = 0;
                lastFailure = null;
                if (closed) {
                    destroy = true;
                } else {
                    ready.addLast(s);
                }
            } else {
                failed++;
                failuresInARow++;
                lastFailure = f;
                retryAtNanos = System.nanoTime() + Math.min(30_000L, 500L << Math.min(failuresInARow, 6)) * 1_000_000L;
            }
            notifyAll();
        }
        if (destroy) {
            s.destroy();
        }
    }
}
