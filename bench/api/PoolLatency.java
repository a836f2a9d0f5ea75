import dev.gvshim.api.SandboxBuilder;
import java.io.File;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The Java API through a warm pool, for bench/run.sh: {@code SandboxBuilder.bundle(B, "/bin/true")
 * .pool(POOL)}, started and waited for N times in this JVM after W warm-up runs, each timed run
 * from a pool back at its min ready (READY-CHECK, a command that waits for it, is run before and
 * not timed: a warm pool's latency, not its refill rate). Prints one line: p50, p99, min, max and
 * mean in ms, and the same for the part until start() returned (the hand-over to gvshim-waiter).
 *
 *   java --enable-native-access=ALL-UNNAMED -cp 'HOME/lib/*:DIR' PoolLatency POOL BUNDLE N W READY-CHECK
 */
public final class PoolLatency {
    public static void main(String[] a) throws Exception {
        String pool = a[0];
        Path bundle = Path.of(a[1]);
        int n = Integer.parseInt(a[2]);
        int warm = Integer.parseInt(a[3]);
        String ready = a[4];
        double[] total = new double[n];
        double[] started = new double[n];
        for (int i = -warm; i < n; i++) {
            Process check = new ProcessBuilder(ready).inheritIO().start();
            if (check.waitFor() != 0) {
                throw new IllegalStateException("the pool did not refill: " + ready + " exited " + check.exitValue());
            }
            SandboxBuilder b = SandboxBuilder.bundle(bundle, "/bin/true").pool(pool)
                    .redirectInput(Redirect.from(new File("/dev/null"))).redirectOutput(Redirect.DISCARD).redirectError(Redirect.INHERIT);
            long t0 = System.nanoTime();
            Process p = b.start();
            long t1 = System.nanoTime();
            int status = p.waitFor();
            long t2 = System.nanoTime();
            if (status != 0) {
                throw new IllegalStateException("/bin/true exited " + status);
            }
            if (i >= 0) {
                started[i] = (t1 - t0) / 1e6;
                total[i] = (t2 - t0) / 1e6;
            }
        }
        System.out.printf("api pool: start+waitFor p50 %.1f ms, p99 %.1f ms (min %.1f, max %.1f, mean %.1f; %d runs after %d)"
                + "; start() alone p50 %.1f ms, p99 %.1f ms%n", pct(total, 50), pct(total, 99), min(total), max(total), mean(total), n,
                warm, pct(started, 50), pct(started, 99));
    }

    /** The nearest-rank percentile. */
    static double pct(double[] v, int p) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[Math.max(0, (int) Math.ceil(p / 100.0 * s.length) - 1)];
    }

    static double min(double[] v) {
        return Arrays.stream(v).min().orElse(0);
    }

    static double max(double[] v) {
        return Arrays.stream(v).max().orElse(0);
    }

    static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(0);
    }
}
