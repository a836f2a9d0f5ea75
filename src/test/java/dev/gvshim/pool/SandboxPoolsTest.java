package dev.gvshim.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Pools added and removed while the server runs (`server add-pool`, the API's SandboxPool), with fake sandboxes. */
class SandboxPoolsTest {
    private final List<FakeSandbox> made = new CopyOnWriteArrayList<>();
    private final SandboxPools pools = SandboxPools.of(List.of(), s -> new SandboxPool(s, () -> {
        FakeSandbox f = new FakeSandbox();
        made.add(f);
        return f;
    }, x -> { }));

    @AfterEach
    void close() {
        pools.close();
    }

    private static PoolSpec spec(String s) {
        return PoolSpec.parse(s, Path.of("/"));
    }

    @Test
    void anAddedPoolFillsAndIsFoundAndItsRemovalDestroysItsSandboxes() throws Exception {
        SandboxPool p = pools.add(spec("py:min=2,max=3"), 0);
        p.awaitReady(5_000);
        assertThat(pools.find("py")).isSameAs(p);
        assertThat(pools.names()).containsExactly("py");
        assertThat(pools.status()).startsWith("pool py: ready 2,").doesNotContain("owner");
        assertThat(made).hasSize(2);
        assertThat(pools.remove("py")).isTrue();
        assertThat(pools.find("py")).isNull();
        assertThat(pools.isEmpty()).isTrue();
        assertThat(made).allMatch(f -> f.destroyed);
        assertThat(pools.remove("py")).as("a second removal finds nothing").isFalse();
    }

    @Test
    void theSameSpecAgainIsThePoolThereAndAnotherProfileUnderItsNameIsRefused() throws Exception {
        SandboxPool p = pools.add(spec("py:min=1,max=2"), 0);
        assertThat(pools.add(spec("py:min=1,max=2"), 0)).isSameAs(p);
        assertThatThrownBy(() -> pools.add(spec("py:min=1,max=2,network=host"), 0)).isInstanceOf(GvshimException.class)
                .satisfies(e -> {
                    Failure f = ((GvshimException) e).failure();
                    assertThat(f.id()).isEqualTo("POOL_EXISTS");
                    assertThat(f.why()).contains("another profile").contains("network=none");
                });
        assertThat(pools.find("py")).isSameAs(p);
    }

    @Test
    void aPoolIsRemovedWhenItsOwnerProcessEndsAndOnlyThen() throws Exception {
        Process owner = new ProcessBuilder("sleep", "60").start();
        try {
            pools.add(spec("own:min=1,max=1"), owner.pid()).awaitReady(5_000);
            pools.add(spec("keep:min=1,max=1"), 0);
            assertThat(pools.status()).contains("owner process " + owner.pid());
            assertThat(pools.removeOrphans()).isEmpty();
            owner.destroyForcibly();
            owner.waitFor(5, TimeUnit.SECONDS);
            assertThat(pools.removeOrphans()).containsExactly("own");
            assertThat(pools.names()).containsExactly("keep");
        } finally {
            owner.destroyForcibly();
        }
    }

    @Test
    void anOwnerThatIsNotRunningIsRefused() {
        assertThatThrownBy(() -> pools.add(spec("x:min=1,max=1"), 4_000_000_000L)).isInstanceOf(GvshimException.class)
                .satisfies(e -> assertThat(((GvshimException) e).failure().id()).isEqualTo("POOL_OWNER_GONE"));
        assertThat(pools.isEmpty()).isTrue();
    }

    @Test
    void addingWithoutAnOwnerKeepsAPoolAnOwnerAddedWhenItsOwnerEnds() throws Exception {
        Process owner = new ProcessBuilder("sleep", "60").start();
        try {
            pools.add(spec("py:min=1,max=1"), owner.pid());
            pools.add(spec("py:min=1,max=1"), 0);
            owner.destroyForcibly();
            owner.waitFor(5, TimeUnit.SECONDS);
            assertThat(pools.removeOrphans()).isEmpty();
            assertThat(pools.names()).containsExactly("py");
        } finally {
            owner.destroyForcibly();
        }
    }

    @Test
    void aPoolTwoOwnersAddedStaysUntilTheLastOfThemEnds() throws Exception {
        Process a = new ProcessBuilder("sleep", "60").start();
        Process b = new ProcessBuilder("sleep", "60").start();
        try {
            SandboxPool p = pools.add(spec("py:min=1,max=1"), a.pid());
            assertThat(pools.add(spec("py:min=1,max=1"), b.pid())).isSameAs(p);
            assertThat(pools.status()).contains("owner processes " + a.pid() + ", " + b.pid());
            a.destroyForcibly();
            a.waitFor(5, TimeUnit.SECONDS);
            assertThat(pools.removeOrphans()).as("b still holds it").isEmpty();
            assertThat(pools.find("py")).isSameAs(p);
            b.destroyForcibly();
            b.waitFor(5, TimeUnit.SECONDS);
            assertThat(pools.removeOrphans()).containsExactly("py");
        } finally {
            a.destroyForcibly();
            b.destroyForcibly();
        }
    }

    @Test
    void anOwnersReleaseEndsItsHoldOnlyAndAPlainRemoveEndsThePool() throws Exception {
        Process a = new ProcessBuilder("sleep", "60").start();
        Process b = new ProcessBuilder("sleep", "60").start();
        try {
            pools.add(spec("kept:min=0,max=1"), 0); // the server's own (--pool, add-pool without --owner)
            pools.add(spec("kept:min=0,max=1"), a.pid()); // a JVM's SandboxPool of the same profile
            assertThat(pools.release("kept", null, a.pid())).as("the JVM's close()").isFalse();
            assertThat(pools.names()).contains("kept");
            pools.add(spec("two:min=0,max=1"), a.pid());
            pools.add(spec("two:min=0,max=1"), b.pid());
            assertThat(pools.release("two", null, a.pid())).isFalse();
            assertThat(pools.release("two", null, b.pid())).isTrue();
            assertThat(pools.names()).containsExactly("kept");
            pools.add(spec("kept:min=0,max=1"), b.pid());
            assertThat(pools.release("kept", null, 0)).as("remove-pool NAME: whoever holds it").isTrue();
            assertThat(pools.release("kept", null, 0)).isNull();
            assertThat(pools.isEmpty()).isTrue();
        } finally {
            a.destroyForcibly();
            b.destroyForcibly();
        }
    }

    @Test
    void aReleaseForAnotherPoolOfTheNameLeavesItAlone() throws Exception {
        SandboxPool old = pools.add(spec("py:min=0,max=1"), 0);
        pools.remove("py");
        SandboxPool now = pools.add(spec("py:min=0,max=1"), 0);
        assertThat(pools.release("py", old, 0)).isNull();
        assertThat(pools.find("py")).isSameAs(now);
    }

    @Test
    void awaitReadySaysWhyAPoolCannotFill() {
        SandboxPools failing = SandboxPools.of(List.of(), s -> new SandboxPool(s, () -> {
            throw new GvshimException(Failure.of("SUBUID_MISSING", "cannot boot", null, "no subordinate ids", "add them"));
        }, x -> { }));
        try {
            assertThatThrownBy(() -> failing.add(spec("bad:min=1,max=1"), 0).awaitReady(10_000))
                    .isInstanceOf(GvshimException.class)
                    .satisfies(e -> assertThat(((GvshimException) e).failure().id()).isEqualTo("SUBUID_MISSING"));
        } finally {
            failing.close();
        }
    }

    @Test
    void awaitReadyGivesUpAfterItsTime() {
        SandboxPools slow = SandboxPools.of(List.of(), s -> new SandboxPool(s, () -> {
            try {
                Thread.sleep(3_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new FakeSandbox();
        }, x -> { }));
        try {
            assertThatThrownBy(() -> slow.add(spec("slow:min=1,max=1"), 0).awaitReady(200))
                    .isInstanceOf(GvshimException.class)
                    .satisfies(e -> assertThat(((GvshimException) e).failure().id()).isEqualTo("POOL_NOT_READY"));
        } finally {
            slow.close();
        }
    }
}
