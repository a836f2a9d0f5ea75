package dev.gvshim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.Messages;
import dev.gvshim.call.Call;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.pool.FakeSandbox;
import dev.gvshim.pool.SandboxPool;
import dev.gvshim.pool.SandboxPools;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** `gvshim server add-pool` / `remove-pool` as the server serves them, on pools of fake sandboxes. */
class PoolActionsTest {
    /** Pools whose sandboxes boot, except those of profiles with network=host, which fail as runsc missing would. */
    private final SandboxPools pools = SandboxPools.of(List.of(), s -> new SandboxPool(s, () -> {
        if (s.toString().contains("network=host")) {
            throw new GvshimException(Failure.of("RUNSC_MISSING", "cannot use runsc", null, "not found", "install it"));
        }
        return new FakeSandbox();
    }, x -> { }));

    @AfterEach
    void close() {
        pools.close();
    }

    private CliTest.Out served(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Call call = Cli.thisProcess(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).withPools(pools);
        int code = Cli.execute(call, args);
        CliTest.Out o = new CliTest.Out(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        Messages.check("gvshim " + String.join(" ", args), o.err());
        return o;
    }

    @Test
    void anAddThatCannotFillTakesItsPoolBackSoThatACorrectedProfileCanBeAdded() {
        CliTest.Out bad = served("server", "add-pool", "--wait", "10", "py:min=1,max=1,network=host");
        assertThat(bad.code()).isEqualTo(125);
        assertThat(bad.err()).endsWith("[RUNSC_MISSING]\n");
        assertThat(pools.names()).as("the pool that cannot fill is not left behind").isEmpty();
        CliTest.Out good = served("server", "add-pool", "--wait", "10", "py:min=1,max=1");
        assertThat(good.code()).as(good.err()).isZero();
        assertThat(good.out()).isEqualTo("py\n");
    }

    @Test
    void anAddWithoutWaitReturnsAtOnceAndThePoolFillsInTheBackground() throws Exception {
        CliTest.Out o = served("server", "add-pool", "py:min=2,max=2");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).isEqualTo("py\n");
        pools.find("py").awaitReady(5_000);
    }

    @Test
    void aFailedAddTakesBackEveryPoolItMadeButNotOneThatWasThere() {
        assertThat(served("server", "add-pool", "old:min=0,max=1").code()).isZero();
        CliTest.Out o = served("server", "add-pool", "--wait", "10", "old:min=0,max=1", "new:min=0,max=1",
                "bad:min=1,max=1,network=host");
        assertThat(o.code()).isEqualTo(125);
        assertThat(pools.names()).containsExactly("old");
    }

    @Test
    void removePoolWithAnOwnerEndsThatOwnersHoldOnly() throws Exception {
        Process a = new ProcessBuilder("sleep", "60").start();
        Process b = new ProcessBuilder("sleep", "60").start();
        try {
            assertThat(served("server", "add-pool", "--owner", Long.toString(a.pid()), "py:min=0,max=1").code()).isZero();
            assertThat(served("server", "add-pool", "--owner", Long.toString(b.pid()), "py:min=0,max=1").code()).isZero();
            assertThat(served("server", "remove-pool", "--owner", Long.toString(a.pid()), "py").code()).isZero();
            assertThat(pools.names()).as("b's JVM still uses it").containsExactly("py");
            b.destroyForcibly();
            b.waitFor(5, TimeUnit.SECONDS);
            assertThat(pools.removeOrphans()).containsExactly("py");
            CliTest.Out gone = served("server", "remove-pool", "py");
            assertThat(gone.code()).isEqualTo(125);
            assertThat(gone.err()).startsWith("gvshim: no pool py:").endsWith("[POOL_UNKNOWN]\n");
        } finally {
            a.destroyForcibly();
            b.destroyForcibly();
        }
    }
}
