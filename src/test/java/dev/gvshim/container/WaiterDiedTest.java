package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When gvshim-waiter says "the sandbox died [its sandbox process killed by SIGN]" (waiter_end.c):
 * runsc run's debug log says it waited on the sandbox process instead of the container, AND the
 * status it exits with is a death by signal. runsc logs the first also when the sandbox merely
 * ended first — the command died by SIGKILL and the sandbox process exited normally with 137 —
 * which once made a command's own `kill -9 $$` read as a killed sandbox (a CI failure of RunIT).
 */
class WaiterDiedTest {
    private static final String WAITED = "W1207 06:16:43.123456   12345 sandbox.go:957] Wait RPC to container \"x\" failed: EOF."
            + " Will try waiting on the sandbox process instead.\n";

    @TempDir
    Path run;
    private Path probe;

    @BeforeEach
    void built() throws Exception {
        probe = Path.of(System.getProperty("gvshim.native.dir", "target/native"), "test/gvshim-waiter-died");
        assumeTrue(Files.isExecutable(probe), "gvshim-waiter-died is not built at " + probe + " (mvn builds it in generate-resources)");
        Files.createDirectories(run.resolve("debug"));
    }

    private String died(String runLog) throws Exception {
        Files.writeString(run.resolve("debug/runsc.log.20261207-061643.123456.run.txt"), runLog);
        Process p = new ProcessBuilder(probe.toString(), run.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    @Test
    void aSandboxProcessKilledBySigkillGivesASignaledStatus() throws Exception {
        assertThat(died(WAITED + "I1207 06:16:43.2   12345 main.go:266] Exiting with status: 9\n")).isEqualTo("died");
    }

    @Test
    void aSandboxProcessThatExitedWith137AfterTheCommandDiedIsNoDeathOfTheSandbox() throws Exception {
        // 137 << 8: exited, status 137 (runsc boot's own exit for a command killed by SIGKILL)
        assertThat(died(WAITED + "I1207 06:16:43.2   12345 main.go:266] Exiting with status: 35072\n")).isEqualTo("not");
    }

    private String destroyed(Path dir) throws Exception {
        Process p = new ProcessBuilder(probe.toString(), "--destroyed", dir.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    /** A pooled sandbox destroyed under its command (its pool removed): runsc exec's failure is explained as that. */
    @Test
    void aRunDirectoryRemovedOrMarkedWasDestroyed() throws Exception {
        assertThat(destroyed(run)).isEqualTo("not");
        Files.writeString(run.resolve(RunDir.DESTROYED_FILE), "");
        assertThat(destroyed(run)).isEqualTo("destroyed");
        assertThat(destroyed(run.resolve("gone"))).isEqualTo("destroyed");
    }

    private String logError(String log) throws Exception {
        Path f = run.resolve("runsc.log");
        Files.writeString(f, log);
        Process p = new ProcessBuilder(probe.toString(), "--log-error", f.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    /**
     * runsc's own failure is a {"level":"error"} line in its --log: found at the start and past the
     * first 64 KiB (a pooled sandbox's log holds its boot's lines before a failed runsc exec's error).
     */
    @Test
    void anErrorLineIsFoundAtTheStartOrAtTheEndOfALongLog() throws Exception {
        String error = "{\"level\":\"error\",\"msg\":\"executing processes for container: failed\",\"time\":\"t\"}\n";
        String info = "{\"level\":\"info\",\"msg\":\"" + "x".repeat(200) + "\",\"time\":\"t\"}\n";
        assertThat(logError(error)).isEqualTo("error");
        assertThat(logError(info.repeat(1000) + error)).as("after ~230 KB of the boot's lines").isEqualTo("error");
        assertThat(logError(info.repeat(1000))).isEqualTo("none");
        assertThat(logError("")).isEqualTo("none");
    }

    @Test
    void withoutTheWaitWarningNothingDied() throws Exception {
        assertThat(died("I1207 06:16:43.2   12345 main.go:266] Exiting with status: 9\n")).isEqualTo("not");
    }

    @Test
    void aRunscThatDoesNotLogItsStatusKeepsTheWarningAlone() throws Exception {
        assertThat(died(WAITED)).isEqualTo("died");
    }
}
