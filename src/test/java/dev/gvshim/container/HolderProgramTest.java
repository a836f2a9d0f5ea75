package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The native gvshim-holder's start (gvshim_holder.c): it stays only once its creator says the
 * container's record names it ('k' on stdin); EOF first — the creator was killed between cloning
 * it and recording it, or gave the create up — ends it, so that nothing can leak it.
 */
class HolderProgramTest {
    private Path holder;

    @BeforeEach
    void built() {
        holder = Path.of(System.getProperty("gvshim.native.dir", "target/native"), "gvshim-holder");
        assumeTrue(Files.isExecutable(holder), "gvshim-holder is not built at " + holder + " (mvn builds it in generate-resources)");
    }

    @Test
    void itEndsAtEndOfFileWithoutTheWord() throws Exception {
        Process p = new ProcessBuilder(holder.toString()).start();
        p.getOutputStream().close(); // the creator died: its write end closed with it
        assertThat(p.waitFor(5, TimeUnit.SECONDS)).as("the holder ended").isTrue();
        assertThat(p.exitValue()).isZero();
    }

    @Test
    void aWrongByteEndsItToo() throws Exception {
        Process p = new ProcessBuilder(holder.toString()).start();
        p.getOutputStream().write('x');
        p.getOutputStream().close();
        assertThat(p.waitFor(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void theWordMakesItStayInASessionOfItsOwnAfterItsCreatorLetGo() throws Exception {
        Process p = new ProcessBuilder(holder.toString()).start();
        try {
            p.getOutputStream().write('k');
            p.getOutputStream().close();
            assertThat(p.waitFor(500, TimeUnit.MILLISECONDS)).as("still holding after its creator let go").isFalse();
            String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertThat(f[3]).as("session id: its own (setsid)").isEqualTo(Long.toString(p.pid()));
            assertThat(Files.readSymbolicLink(Path.of("/proc/" + p.pid() + "/fd/0"))).as("no pipe held")
                    .isEqualTo(Path.of("/dev/null"));
        } finally {
            p.destroyForcibly().waitFor();
        }
    }
}
