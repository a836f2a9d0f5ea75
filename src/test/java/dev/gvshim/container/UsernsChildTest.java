package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.call.OneShotProcesses;
import dev.gvshim.call.TestCalls;
import dev.gvshim.call.Trace;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.FakeSyscalls;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.IdMap;
import dev.gvshim.userns.MappingPlan;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.SubIds;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `gvshim run`'s namespace child against the recording fake: the --userns auto fallback loop
 * (full refused by newuidmap at run time: a new child, single), no fallback for an explicit
 * mode, and a refused mount namespace told apart from a refused user namespace. Nothing of a
 * discarded child is left: every clone reaped, every descriptor closed.
 */
class UsernsChildTest {
    private static final Helper NEWUIDMAP = new Helper("newuidmap", "/usr/bin/newuidmap", true, true, true, false);
    private static final Helper NEWGIDMAP = new Helper("newgidmap", "/usr/bin/newgidmap", true, true, true, false);
    private static final Caller ALICE = new Caller(ProcStatus.parse("Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"),
            "alice", SubIds.parse("alice:100000:65536\n"), SubIds.parse("alice:100000:65536\n"), NEWUIDMAP, NEWGIDMAP,
            IdMap.of(0, 0, 4294967295L), IdMap.of(0, 0, 4294967295L));
    private static final MappingPlan FULL = new MappingPlan(Mode.FULL, new IdMap(List.of(new IdMap.Line(0, 1000, 1),
            new IdMap.Line(1, 100000, 65536))), new IdMap(List.of(new IdMap.Line(0, 1000, 1), new IdMap.Line(1, 100000,
            65536))), true, false, null, null);

    @TempDir
    Path tmp;

    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private UsernsChild start(FakeSyscalls sys, Mode mode) throws Exception {
        RunRequest req = new RunRequest(List.of("/bin/true"), null, Path.of("/"), List.of(), List.of(), null, List.of(),
                false, null, null, 2, null, null, null, mode, RunRequest.Tty.NEVER, null, null, null, false, false, false, false);
        var call = TestCalls.of(tmp, Map.of("PATH", "/usr/bin:/bin"), new PrintStream(new ByteArrayOutputStream(), true),
                new PrintStream(err, true, StandardCharsets.UTF_8), new OneShotProcesses(Trace.off()));
        Explain explain = new Explain(() -> Facts.read(Path.of("/"), call.env(), ALICE, "/usr/bin/runsc"));
        return UsernsChild.start(sys, call, req, ALICE, explain, FULL,
                p -> List.of("/usr/bin/runsc", "--userns=" + p.mode().name().toLowerCase()), new RunStdio());
    }

    @Test
    void autoFallsBackToSingleInANewChildWhenNewuidmapRefusesFull() throws Exception {
        FakeSyscalls sys = new FakeSyscalls().program("/usr/bin/newuidmap", 1,
                "newuidmap: write to uid_map failed: Operation not permitted\n");
        UsernsChild c = start(sys, Mode.AUTO);
        assertThat(c.plan().mode()).isEqualTo(Mode.SINGLE);
        List<String> clones = sys.calls().stream().filter(l -> l.startsWith("clone /usr/bin/runsc")).toList();
        assertThat(clones).as("the refused child is not reused: a map is written once").hasSize(2);
        int first = Integer.parseInt(clones.get(0).substring(clones.get(0).lastIndexOf(' ') + 1));
        assertThat(sys.calls()).contains("kill " + first + " 9");
        assertThat(sys.request(c.pid()).argv()).as("runsc's argv follows the plan").containsExactly("/usr/bin/runsc",
                "--userns=single");
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith(
                "gvshim: warning: userns mode full failed, falling back to single: ").contains("newuidmap");
        c.release();
        c.handedOver();
        assertThat(sys.unreaped()).as("only the released child, now the waiter's").containsExactly(c.pid());
        assertThat(sys.openFds()).isEmpty();
    }

    @Test
    void anExplicitModeDoesNotFallBack() {
        FakeSyscalls sys = new FakeSyscalls().program("/usr/bin/newuidmap", 1,
                "newuidmap: write to uid_map failed: Operation not permitted\n");
        assertThatThrownBy(() -> start(sys, Mode.FULL)).isInstanceOfSatisfying(dev.gvshim.failure.GvshimException.class,
                e -> assertThat(e.failure().what()).isNotBlank());
        assertThat(sys.calls().stream().filter(l -> l.startsWith("clone /usr/bin/runsc"))).hasSize(1);
        assertThat(sys.unreaped()).isEmpty();
        assertThat(sys.openFds()).isEmpty();
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void aRefusedMountNamespaceIsToldApartFromARefusedUserNamespace() {
        FakeSyscalls sys = new FakeSyscalls().failNext("clone", Errno.EPERM); // NEWUSER|NEWNS refused, NEWUSER alone not
        assertThatThrownBy(() -> start(sys, Mode.AUTO)).isInstanceOfSatisfying(dev.gvshim.failure.GvshimException.class,
                e -> assertThat(e.failure().id()).isEqualTo("NAMESPACE_DENIED"));
        assertThat(sys.unreaped()).as("the user-namespace-only probe child is reaped").isEmpty();
        assertThat(sys.openFds()).isEmpty();

        FakeSyscalls both = new FakeSyscalls().failNext("clone", Errno.EPERM).failNext("clone", Errno.EPERM);
        assertThatThrownBy(() -> start(both, Mode.AUTO)).as("the user namespace itself: the caller explains the errno")
                .isInstanceOfSatisfying(SyscallException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EPERM));
        assertThat(both.unreaped()).isEmpty();
        assertThat(both.openFds()).isEmpty();
    }

    @Test
    void killDiscardsAChildNeverReleased() throws Exception {
        FakeSyscalls sys = new FakeSyscalls();
        UsernsChild c = start(sys, Mode.AUTO);
        assertThat(c.plan()).isSameAs(FULL);
        c.kill();
        assertThat(sys.calls()).as("never released").noneMatch(l -> l.contains("\"G\""));
        assertThat(sys.unreaped()).isEmpty();
        assertThat(sys.openFds()).isEmpty();
    }
}
