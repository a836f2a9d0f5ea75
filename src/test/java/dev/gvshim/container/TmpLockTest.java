package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.FakeSyscalls;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** /tmp's flock: taken when free, waited for a bounded time, given up without failing the call. */
class TmpLockTest {
    private static final Path TMP = Path.of("/tmp");

    @Test
    void aFreeLockIsTakenAndReleasedByClosing() {
        FakeSyscalls sys = new FakeSyscalls();
        try (TmpLock lock = TmpLock.take(sys, TMP, 1000)) {
            assertThat(sys.calls()).containsExactly("open /tmp -> 100", "flock 100 6");
            assertThat(sys.openFds()).containsExactly(100);
        }
        assertThat(sys.openFds()).isEmpty();
    }

    @Test
    void aHeldLockIsWaitedForThenTaken() {
        FakeSyscalls sys = new FakeSyscalls().failNext("flock", Errno.EAGAIN).failNext("flock", Errno.EAGAIN);
        try (TmpLock lock = TmpLock.take(sys, TMP, 1000)) {
            assertThat(sys.calls()).filteredOn(l -> l.startsWith("flock")).containsExactly("flock fd 100 -> EAGAIN",
                    "flock fd 100 -> EAGAIN", "flock 100 6");
        }
        assertThat(sys.openFds()).isEmpty();
    }

    @Test
    void aLockHeldForeverCostsOnlyTheWait() {
        FakeSyscalls sys = new FakeSyscalls();
        for (int i = 0; i < 1000; i++) {
            sys.failNext("flock", Errno.EAGAIN);
        }
        long t0 = System.nanoTime();
        try (TmpLock lock = TmpLock.take(sys, TMP, 50)) {
            assertThat(sys.openFds()).as("no lock: nothing held").isEmpty();
        }
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(50L, 2000L);
    }

    @Test
    void aDirectoryThatCannotBeOpenedMeansNoLock() {
        FakeSyscalls sys = new FakeSyscalls().failNext("open", Errno.EACCES);
        try (TmpLock lock = TmpLock.take(sys, TMP, 1000)) {
            assertThat(sys.calls()).containsExactly("open /tmp -> EACCES");
        }
        assertThat(sys.openFds()).isEmpty();
    }
}
