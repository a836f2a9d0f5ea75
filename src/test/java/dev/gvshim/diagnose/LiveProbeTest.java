package dev.gvshim.diagnose;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** gvshim-probe's report (native/gvshim_probe.c) read back into outcomes with causes. */
class LiveProbeTest {
    @Test
    void parsesTheProbesReport(@TempDir Path tmp) {
        Explain x = new Explain(Fixture.load("docker-default", tmp).facts());
        List<LiveProbe.Outcome> out = LiveProbe.parse("""
                unshare-mnt 0
                unshare-pid 0
                mount-private 0
                mount-tmpfs 0
                mount-proc 1
                mount-sysfs -1
                pivot-root 1
                something odd
                ptrace 0
                nest 28 31
                """, x);
        assertThat(out).extracting(LiveProbe.Outcome::step).containsExactly("unshare-mnt", "unshare-pid", "mount-private",
                "mount-tmpfs", "mount-proc", "mount-sysfs", "pivot-root", "ptrace", "nest");
        assertThat(out.get(4).failure().id()).isEqualTo("PROC_MASKED");
        assertThat(out.get(4).evidence()).isEqualTo("mount(\"proc\"): EPERM (Operation not permitted)");
        assertThat(out.get(5).ran()).isFalse();
        assertThat(out.get(6).failure().id()).isEqualTo("PIVOT_ROOT_DENIED");
        assertThat(out.get(7).ok()).isTrue();
        assertThat(out.get(8).value()).isEqualTo(31);
        assertThat(out.get(8).evidence()).contains("nested 31 times").contains("ENOSPC");
        LiveProbe.Result r = new LiveProbe.Result(out, dev.gvshim.userns.Mode.FULL);
        assertThat(r.firstFailure().step()).isEqualTo("mount-proc");
    }
}
