import dev.gvshim.api.ReadOnly;
import dev.gvshim.api.SandboxBuilder;
import dev.gvshim.api.SandboxException;
import dev.gvshim.runsc.RunscConfig.Network;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Runs untrusted shell code in a gVisor sandbox through gvshim's Java API: a job directory
 * mounted read-only, no network, a 30-second limit, its output read through a pipe.
 *
 * Run it (JDK 25, gvshim installed in HOME, runsc in PATH), from the project's root:
 *   java --enable-native-access=ALL-UNNAMED -cp 'HOME/lib/*' examples/SandboxExample.java
 * (after `mvn -B package -DskipTests`, HOME is target/gvshim)
 */
public class SandboxExample {
    public static void main(String[] args) throws Exception {
        Path job = Files.createTempDirectory("job");
        Files.writeString(job.resolve("job.sh"), "echo \"hello from $(uname -sr) as uid $(id -u); job.sh has $(wc -l < job.sh) line\"; exit 3\n");
        try {
            Process p = new SandboxBuilder("sh", "job.sh")
                    .mount(job, "/mnt", ReadOnly.YES)
                    .directory("/mnt")
                    .network(Network.NONE)
                    .timeout(Duration.ofSeconds(30))
                    .redirectError(Redirect.INHERIT)
                    .start();
            p.getOutputStream().close(); // no input
            String out = new String(p.getInputStream().readAllBytes());
            int status = p.waitFor();
            System.out.print(out);
            System.out.println("exit status " + status + " (pid " + p.pid() + ")");
        } catch (SandboxException e) {
            // nothing ran: the one line of `gvshim run`, and its parts
            System.err.println(e.getMessage());
            System.err.println("id " + e.id() + "; fix: " + e.fix());
            System.exit(125);
        } finally {
            Files.delete(job.resolve("job.sh"));
            Files.delete(job);
        }
    }
}
