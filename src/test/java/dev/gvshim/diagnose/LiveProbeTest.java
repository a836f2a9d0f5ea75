package dev.gvshim.diagnose;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.FakeSyscalls;
import dev.gvshim.userns.Mode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gvshim-probe's report (native/gvshim_probe.c) read back into outcomes with causes, and the
 * probe's sequence (clone, maps, release) against the recording fake of the system calls.
 */
class LiveProbeTest {
    private static final Path PROBE = Path.of("/opt/gvshim/libexec/gvshim-probe");
    private static final String REPORT = """
            unshare-mnt 0
            mount-tmpfs 0
            mount-proc 0
            pivot-root 0
            ptrace 0
            nest 0 30
            """;

    @Test
    void aDeniedCloneIsTheCauseRunWouldName(@TempDir Path tmp) {
        Facts facts = Fixture.load("docker-default", tmp).facts();
        FakeSyscalls sys = new FakeSyscalls().failNext("clone", Errno.EPERM);
        LiveProbe.Result r = LiveProbe.run(sys, facts, new Explain(facts), PROBE, tmp);
        assertThat(r.mode()).isNull();
        LiveProbe.Outcome clone = r.find("clone");
        assertThat(clone.errno()).isEqualTo(Errno.EPERM);
        assertThat(clone.evidence()).isEqualTo("clone(CLONE_NEWUSER|CLONE_VM): EPERM (Operation not permitted)");
        assertThat(clone.failure().id()).isEqualTo("USERNS_SECCOMP");
        assertThat(r.firstFailure()).isSameAs(clone);
        assertThat(sys.openFds()).isEmpty();
        assertThat(sys.unreaped()).isEmpty();
    }

    @Test
    void fullFailsThenSingleIsProbedInANewChild(@TempDir Path tmp) {
        Facts facts = Fixture.load("debian12-host", tmp).facts();
        FakeSyscalls sys = new FakeSyscalls().program("/usr/bin/newuidmap", 1,
                "newuidmap: uid range [1-65537) -> [100000-165536) not allowed").program(PROBE.toString(), 0, REPORT);
        LiveProbe.Result r = LiveProbe.run(sys, facts, new Explain(facts), PROBE, tmp);
        assertThat(r.mode()).isEqualTo(Mode.SINGLE);
        assertThat(r.outcomes()).extracting(LiveProbe.Outcome::step).containsExactly("clone", "map-full", "map-single",
                "unshare-mnt", "mount-tmpfs", "mount-proc", "pivot-root", "ptrace", "nest");
        assertThat(r.find("map-full").failure().id()).isEqualTo("SUBUID_MISSING");
        assertThat(r.find("map-single").ok()).isTrue();
        assertThat(r.find("nest").value()).isEqualTo(30);
        List<String> clones = sys.calls().stream().filter(l -> l.startsWith("clone " + PROBE)).toList();
        assertThat(clones).as("a map is written once: single needs a new child").hasSize(2);
        int first = Integer.parseInt(clones.get(0).substring(clones.get(0).lastIndexOf(' ') + 1));
        int second = Integer.parseInt(clones.get(1).substring(clones.get(1).lastIndexOf(' ') + 1));
        assertThat(sys.calls()).containsSubsequence("kill " + first + " 9", "waitpid " + first + " -> killed by signal 9",
                "clone " + PROBE + " CLONE_NEWUSER|CLONE_VM -> " + second, "waitpid " + second + " -> exit status 0");
        assertThat(sys.request(second).argv()).containsExactly("gvshim-probe", tmp.toString());
        assertThat(sys.openFds()).isEmpty();
        assertThat(sys.unreaped()).isEmpty();
    }

    @Test
    void nestingStoppedEarlyIsMeasuredSideBySide(@TempDir Path tmp) {
        Facts facts = Fixture.load("debian12-host", tmp).helpers("missing").facts();
        FakeSyscalls sys = new FakeSyscalls().program(PROBE.toString(), 0, "nest 28 1\n");
        sys.failNth("clone", 4, Errno.ENOSPC); // the probe's own, then two side by side: the third is refused
        for (int i = 0; i < 41; i++) {
            sys.failNext("clone", Errno.ENOSPC);
        }
        LiveProbe.Result r = LiveProbe.run(sys, facts, new Explain(facts), PROBE, tmp);
        LiveProbe.Outcome nest = r.find("nest");
        assertThat(nest.value()).isEqualTo(1);
        assertThat(nest.stop()).isEqualTo(Errno.ENOSPC);
        assertThat(nest.wide()).isEqualTo(2);
        assertThat(nest.evidence()).endsWith("; 2 side by side at the probe's level");
        assertThat(sys.openFds()).isEmpty();
        assertThat(sys.unreaped()).as("the namespaces held side by side are discarded").isEmpty();
    }

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
