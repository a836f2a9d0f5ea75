package dev.gvshim.linux;

/**
 * Start-up timing for performance work: with GVSHIM_TRACE=1, {@link #mark} records the time
 * since this class was initialised (first thing in main) and {@link #dump} prints the marks
 * on the call's stderr (gvshim calls it just before it hands over to gvshim-waiter). Recording is an
 * array store, so tracing barely perturbs what it measures; off, it is one field read.
 */
public final class Trace {
    // Process-wide, set once by Main before any call (FFM is linked once per process, so its
    // marks are the process's, not a call's); calls keep their own marks in call.Trace.
    private static volatile boolean on;
    /** GVSHIM_TRACE=wait: wait for runsc in the JVM instead of handing over, so that a profiler
     *  attached to the JVM (async-profiler, JFR) writes its output at a normal exit. */
    private static volatile boolean waitForChild;
    private static volatile boolean profileLinking;
    private static volatile Sampler sampler;
    private static final long T0 = System.nanoTime();
    private static final long[] TIMES = new long[64];
    private static final String[] WHAT = new String[64];
    private static final String[] THREAD = new String[64];
    private static int n;

    private Trace() {
    }

    /**
     * Main's switches, from GVSHIM_TRACE (1: marks; wait: marks, and no hand-over) and
     * GVSHIM_PROFILE (1: sample the main thread; ffm: the linking thread).
     */
    public static void configure(String trace, String profile) {
        on = enabled(trace);
        waitForChild = "wait".equals(trace);
        profileLinking = "ffm".equals(profile);
        if (enabled(profile) && sampler == null) {
            sampler = Sampler.launch();
        }
    }

    /**
     * Whether a switch variable turns its feature on: set to something other than empty or 0.
     * `GVSHIM_TRACE= cmd` and `export GVSHIM_TRACE=` are how a shell user switches it off
     * (sh(1) has no other way to clear a variable for one command), so empty means off.
     */
    public static boolean enabled(String value) {
        return value != null && !value.isEmpty() && !value.equals("0");
    }

    public static boolean waitInsteadOfHandover() {
        return waitForChild;
    }

    /**
     * GVSHIM_PROFILE=1: a poor man's sampling profiler for start-up work. It samples the main
     * thread's stack every ~100 us and {@link #dump} prints the frames seen most often; JFR's
     * minimum period (1 ms) and its own start-up cost make it useless for a 50 ms window.
     */
    private static final class Sampler extends Thread {
        private volatile Thread target = Thread.currentThread();
        private final java.util.Map<String, Integer> counts = new java.util.HashMap<>();
        private volatile boolean stop;
        private int samples;

        static Sampler launch() {
            Sampler s = new Sampler();
            s.setDaemon(true);
            s.start();
            return s;
        }

        @Override
        public void run() {
            while (!stop) {
                if (profileLinking && !target.getName().equals("gvshim-ffm-link")) {
                    for (Thread t : Thread.getAllStackTraces().keySet()) {
                        if (t.getName().equals("gvshim-ffm-link")) {
                            target = t;
                        }
                    }
                }
                StackTraceElement[] st = target.getStackTrace();
                java.util.Set<String> seen = new java.util.HashSet<>();
                synchronized (counts) {
                    samples++;
                    for (int i = 0; i < Math.min(st.length, 60); i++) {
                        String k = st[i].getClassName() + "." + st[i].getMethodName();
                        if (seen.add(k)) {
                            counts.merge(k, 1, Integer::sum);
                        }
                    }
                }
                try {
                    Thread.sleep(0, 100_000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        String report() {
            stop = true;
            StringBuilder b = new StringBuilder("gvshim: profile: " + samples + " samples of the main thread\n");
            synchronized (counts) {
                counts.entrySet().stream().sorted((x, y) -> y.getValue() - x.getValue()).limit(60)
                        .forEach(e -> b.append("gvshim: profile ").append(e.getValue()).append(' ').append(e.getKey()).append('\n'));
            }
            return b.toString();
        }
    }

    public static synchronized void mark(String what) {
        if (on && n < TIMES.length) {
            TIMES[n] = System.nanoTime() - T0;
            WHAT[n] = what;
            THREAD[n++] = Thread.currentThread().getName();
        }
    }

    /**
     * The marks as both recorders print them: "gvshim: trace WHOSE started at monotonic T0 us",
     * then "gvshim: trace MS ms [THREAD] WHAT" for each of the first {@code n}.
     */
    public static String format(String whose, long t0, long[] times, String[] thread, String[] what, int n) {
        StringBuilder b = new StringBuilder("gvshim: trace ").append(whose).append(" started at monotonic ").append(t0 / 1000)
                .append(" us\n");
        for (int i = 0; i < n; i++) {
            long us = times[i] / 1000;
            b.append("gvshim: trace ").append(us / 1000).append('.').append((us % 1000) / 100).append(" ms [")
                    .append(thread[i]).append("] ").append(what[i]).append('\n');
        }
        return b.toString();
    }

    /** Prints the marks (and the profile) on {@code err}, the call's stderr. */
    public static synchronized void dump(java.io.PrintStream err) {
        if (!on) {
            return;
        }
        err.print(format("main", T0, TIMES, THREAD, WHAT, n));
        Sampler s = sampler;
        if (s != null) {
            err.print(s.report());
        }
        err.flush();
        n = 0;
    }
}
