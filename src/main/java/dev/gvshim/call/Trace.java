package dev.gvshim.call;

import java.io.PrintStream;
import java.util.Map;

/**
 * Start-up timing of one call, for performance work: with GVSHIM_TRACE set (in the caller's
 * environment) {@link #mark} records the time since the call began and {@link #dump} prints the
 * marks to the call's stderr, followed by the process-wide marks of FFM linking
 * ({@link dev.gvshim.linux.Trace}). Recording is an array store, so tracing barely perturbs what
 * it measures; off, it is one field read. Per call: concurrent calls never mix their marks.
 */
public final class Trace {
    private static final int MAX = 64;
    private final boolean on;
    private final boolean wait;
    private final PrintStream err;
    private final long t0 = System.nanoTime();
    private final long[] times = new long[MAX];
    private final String[] what = new String[MAX];
    private final String[] thread = new String[MAX];
    private int n;

    public Trace(Map<String, String> env, PrintStream err) {
        this.on = enabled(env.get("GVSHIM_TRACE"));
        this.wait = "wait".equals(env.get("GVSHIM_TRACE"));
        this.err = err;
    }

    /** A trace that records nothing. */
    public static Trace off() {
        return new Trace(Map.of(), null);
    }

    /**
     * Whether a switch variable turns its feature on: set to something other than empty or 0.
     * `GVSHIM_TRACE= cmd` and `export GVSHIM_TRACE=` are how a shell user switches it off
     * (sh(1) has no other way to clear a variable for one command), so empty means off.
     */
    public static boolean enabled(String value) {
        return value != null && !value.isEmpty() && !value.equals("0");
    }

    /** GVSHIM_TRACE=wait: wait for runsc instead of handing over (see {@link WaitingHandover}). */
    public boolean waitInsteadOfHandover() {
        return wait;
    }

    public synchronized void mark(String what) {
        if (on && n < MAX) {
            times[n] = System.nanoTime() - t0;
            this.what[n] = what;
            thread[n++] = Thread.currentThread().getName();
        }
    }

    public synchronized void dump() {
        if (!on) {
            return;
        }
        String b = dev.gvshim.linux.Trace.format("call", t0, times, thread, what, n);
        n = 0;
        err.print(b);
        err.flush();
        dev.gvshim.linux.Trace.dump(err); // the process's FFM linking marks (process-wide: linked once per process)
    }
}
