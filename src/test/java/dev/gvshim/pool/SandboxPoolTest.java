package dev.gvshim.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.container.RunRequest;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.runsc.RunscConfig.Network;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The pool's bookkeeping with fake sandboxes: no runsc, no processes. */
class SandboxPoolTest {
    private final List<FakeSandbox> made = new CopyOnWriteArrayList<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<SandboxPool> pools = new ArrayList<>();

    @AfterEach
    void close() {
        pools.forEach(SandboxPool::close);
    }

    private SandboxPool pool(String spec, SandboxPool.Maker maker) {
        SandboxPool p = new SandboxPool(PoolSpec.parse(spec, Path.of("/")), maker, log::add).start();
        pools.add(p);
        return p;
    }

    private SandboxPool pool(String spec) {
        return pool(spec, () -> {
            FakeSandbox f = new FakeSandbox();
            made.add(f);
            return f;
        });
    }

    private static void await(BooleanSupplier c) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (!c.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 5 s").isLessThan(end);
            Thread.sleep(5);
        }
    }

    private static Profile same(SandboxPool p) {
        return p.profile();
    }

    @Test
    void fillsToMinInTheBackgroundAndRefillsAfterUse() throws Exception {
        SandboxPool p = pool("p:min=2,max=4");
        await(() -> p.status().contains("ready 2,"));
        Sandbox s = p.take(same(p), 1000);
        assertThat(made).contains((FakeSandbox) s);
        await(() -> p.status().contains("ready 2, in use 1,"));
        assertThat(made).hasSize(3);
        assertThat(p.status()).contains("created 3").contains("served 1").contains("rss per ready sandbox 10.0 MB");
    }

    @Test
    void aSandboxServesOneCommandAndIsDestroyedWhenItsTakerIsGone() throws Exception {
        SandboxPool p = pool("p:min=1,max=3");
        Set<Sandbox> seen = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            FakeSandbox s = (FakeSandbox) p.take(same(p), 2000);
            assertThat(seen.add(s)).as("never given twice").isTrue();
            s.takerGone = true;
            await(() -> s.destroyed);
        }
        assertThat(made).hasSizeGreaterThanOrEqualTo(6);
    }

    @Test
    void neverMoreThanMaxAndACallerWaitsThenGivesUp() throws Exception {
        SandboxPool p = pool("p:min=1,max=2");
        FakeSandbox a = (FakeSandbox) p.take(same(p), 2000);
        FakeSandbox b = (FakeSandbox) p.take(same(p), 2000);
        Thread.sleep(300);
        assertThat(made).hasSize(2);
        assertThatThrownBy(() -> p.take(same(p), 300)).isInstanceOfSatisfying(GvshimException.class, e -> {
            assertThat(e.failure().id()).isEqualTo("POOL_EXHAUSTED");
            assertThat(e.failure().why()).contains("2 in use, max 2");
        });
        assertThat(made).hasSize(2);
        a.takerGone = true; // a place frees: the waiting caller gets a new sandbox
        FakeSandbox c = (FakeSandbox) p.take(same(p), 3000);
        assertThat(c).isNotSameAs(a).isNotSameAs(b);
        assertThat(a.destroyed).isTrue();
    }

    @Test
    void bootsBeyondMinWhileCallersWait() throws Exception {
        SandboxPool p = pool("p:min=0,max=5");
        List<Thread> ts = new ArrayList<>();
        AtomicInteger got = new AtomicInteger();
        for (int i = 0; i < 5; i++) {
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    p.take(same(p), 5000);
                    got.incrementAndGet();
                } catch (GvshimException e) {
                    // counted below
                }
            }));
        }
        for (Thread t : ts) {
            t.join();
        }
        assertThat(got.get()).isEqualTo(5);
        assertThat(made).hasSize(5);
    }

    @Test
    void aMismatchIsRefusedWithoutTakingASandbox() throws Exception {
        SandboxPool p = pool("p:min=1,max=1");
        await(() -> p.status().contains("ready 1,"));
        RunRequest host = new RunRequest(List.of("x"), null, Path.of("/"), List.of(), List.of(), null, List.of(), false, Network.HOST, null,
                2, null, null, null, dev.gvshim.userns.Mode.AUTO, RunRequest.Tty.AUTO, null, null, null, false, false, false);
        assertThatThrownBy(() -> p.take(Profile.of(host), 100)).isInstanceOfSatisfying(GvshimException.class, e -> {
            assertThat(e.failure().id()).isEqualTo("POOL_PROFILE_MISMATCH");
            assertThat(e.failure().oneLine()).contains("--network differs: the pool p's sandboxes have none, this run asks for host");
        });
        assertThat(p.status()).contains("ready 1, in use 0");
    }

    @Test
    void aPoolThatCannotFillSaysWhyOnTheCallAndInStatus() throws Exception {
        Failure why = Failure.of("SUBUID_MISSING", "cannot use --userns full", null, "/etc/subuid has no range", "usermod ...");
        SandboxPool p = pool("p:min=1,max=2", () -> {
            throw new GvshimException(why);
        });
        await(() -> p.status().contains("failed 1"));
        assertThatThrownBy(() -> p.take(same(p), 2000)).isInstanceOfSatisfying(GvshimException.class,
                e -> assertThat(e.failure().id()).isEqualTo("SUBUID_MISSING"));
        assertThat(p.status()).contains("cannot fill: " + why.oneLine());
        assertThat(log).anyMatch(l -> l.contains("[SUBUID_MISSING]"));
    }

    @Test
    void aReadySandboxThatDiesIsReplacedAndCloseDestroysAll() throws Exception {
        SandboxPool p = pool("p:min=1,max=2");
        await(() -> made.size() == 1 && p.status().contains("ready 1,"));
        made.getFirst().alive = false;
        await(() -> made.size() == 2 && made.getFirst().destroyed && p.status().contains("ready 1,"));
        FakeSandbox used = (FakeSandbox) p.take(same(p), 2000);
        p.close();
        assertThat(made).allMatch(f -> f.destroyed);
        assertThat(used.destroyed).isTrue();
    }

    @Test
    void aSandboxBeingDestroyedStillCountsAgainstMax() throws Exception {
        java.util.concurrent.CountDownLatch slow = new java.util.concurrent.CountDownLatch(1);
        SandboxPool p = pool("p:min=1,max=1", () -> {
            FakeSandbox f = new FakeSandbox() {
                @Override
                public void destroy() {
                    super.destroy();
                    try {
                        slow.await(); // a runsc that takes its time to die
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            made.add(f);
            return f;
        });
        try {
            FakeSandbox used = (FakeSandbox) p.take(same(p), 2000);
            used.takerGone = true;
            await(() -> used.destroyed);
            Thread.sleep(300);
            assertThat(made).as("no new sandbox while the used one is still dying (max 1)").hasSize(1);
        } finally {
            slow.countDown();
        }
        await(() -> made.size() == 2 && p.status().contains("ready 1,"));
    }
}
