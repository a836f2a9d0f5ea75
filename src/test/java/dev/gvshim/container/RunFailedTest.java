package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.call.TestCalls;
import dev.gvshim.failure.Failure;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `__explain` of a run whose directory is already gone: the sandbox was destroyed under the command. */
class RunFailedTest {
    @TempDir
    Path tmp;

    @Test
    void aRunWhoseDirectoryIsGoneWasDestroyedNotRefused() {
        Path gone = tmp.resolve("gv-123-abc");
        RunFailed.Outcome o = RunFailed.explain(TestCalls.of(tmp, Map.of()), gone, false);
        Failure f = o.failure();
        assertThat(f.id()).isEqualTo("SANDBOX_DIED");
        assertThat(f.oneLine()).isEqualTo("gvshim: the sandbox was destroyed while the command ran: its run directory " + gone
                + " is gone: its pool was removed, its server stopped, or `gvshim rm -f` removed it. Fix: run again; keep a"
                + " pool while its commands run [SANDBOX_DIED]");
        assertThat(o.fallback()).as("never run unsandboxed for it").isNull();
        assertThat(o.debug()).isEmpty();
    }

    @Test
    void aRunWhoseSandboxWasMarkedDestroyedWasDestroyedNotRefused() throws Exception {
        Path dir = java.nio.file.Files.createDirectories(tmp.resolve("gv-456-def"));
        java.nio.file.Files.writeString(dir.resolve(RunDir.DESTROYED_FILE), ""); // before the pool's kill and removal
        assertThat(RunFailed.explain(TestCalls.of(tmp, Map.of()), dir, false).failure().id()).isEqualTo("SANDBOX_DIED");
    }
}
