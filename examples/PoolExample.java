import dev.gvshim.api.SandboxBuilder;
import dev.gvshim.api.SandboxException;
import dev.gvshim.api.SandboxPool;
import dev.gvshim.runsc.RunscConfig.Network;
import java.time.Duration;
import java.util.Arrays;

/**
 * Keeps sandboxes warm for untrusted one-off commands through gvshim's Java API: a pool of two
 * ready sandboxes (host root read-only, no network), five commands each in a fresh sandbox of
 * it, their start-to-exit times, and the pool gone at the end.
 *
 * Run it (JDK 25, gvshim installed in HOME, runsc in PATH), from the project's root:
 *   java --enable-native-access=ALL-UNNAMED -cp 'HOME/lib/*' examples/PoolExample.java
 * (after `mvn -B package -DskipTests`, HOME is target/gvshim). The pool lives in your gvshim
 * server (started if none runs): `gvshim server status` shows it while this runs.
 */
public class PoolExample {
    public static void main(String[] args) throws Exception {
        SandboxBuilder profile = new SandboxBuilder("sh").network(Network.NONE).timeout(Duration.ofSeconds(30));
        try (SandboxPool pool = SandboxPool.start("example", profile, 2, 4)) {
            System.out.println(pool.status().lines().findFirst().orElse(""));
            double[] ms = new double[5];
            for (int i = 0; i < ms.length; i++) {
                long t0 = System.nanoTime();
                Process p = pool.command("sh", "-c", "echo job $0 sees: $(ls /tmp | wc -l) files in /tmp; touch /tmp/left-by-$0", "" + i)
                        .start();
                p.getOutputStream().close();
                String out = new String(p.getInputStream().readAllBytes()).strip();
                int status = p.waitFor();
                ms[i] = (System.nanoTime() - t0) / 1e6;
                System.out.printf("%s (exit %d, %.0f ms)%n", out, status, ms[i]);
            }
            Arrays.sort(ms);
            System.out.printf("median %.0f ms%n", ms[ms.length / 2]);
        } catch (SandboxException e) {
            // the pool could not start, or a command could not: the one line, its id and fix
            System.err.println(e.getMessage());
            System.exit(125);
        }
        System.out.println("pool closed");
    }
}
