package dev.gvshim.userns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.FakeSyscalls;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The user-namespace child's lifecycle (start, map, release, abandon) against the recording fake. */
class NamespaceChildTest {
    private static final Helper NEWUIDMAP = new Helper("newuidmap", "/usr/bin/newuidmap", true, true, true, false);
    private static final Helper NEWGIDMAP = new Helper("newgidmap", "/usr/bin/newgidmap", true, true, true, false);
    private static final MappingPlan FULL = new MappingPlan(Mode.FULL, new IdMap(List.of(new IdMap.Line(0, 1000, 1),
            new IdMap.Line(1, 100000, 65536))), new IdMap(List.of(new IdMap.Line(0, 1000, 1), new IdMap.Line(1, 100000,
            65536))), true, false, null, null);
    private static final MappingPlan SINGLE = new MappingPlan(Mode.SINGLE, IdMap.of(0, 1000, 1), IdMap.of(0, 1000, 1), false,
            true, null, null);
    private static final NamespaceChild.Program RUNSC = new NamespaceChild.Program("/usr/bin/runsc", List.of("runsc", "run"),
            List.of("PATH=/bin"), -1, -1, -1, Spawner.PDEATHSIG);

    @Test
    void startMapReleaseDetach() throws Exception {
        FakeSyscalls sys = new FakeSyscalls();
        int pid;
        try (NamespaceChild c = NamespaceChild.start(sys, RUNSC, Linux.CLONE_NEWNS)) {
            c.map(FULL, NEWUIDMAP, NEWGIDMAP);
            c.release(Step.EXEC_RUNSC);
            pid = c.detach();
        }
        Spawner.Request r = sys.request(pid);
        assertThat(r.syncFd()).as("the child reads the sync pipe").isEqualTo(100);
        assertThat(r.syncPeer()).as("and closes our end of it").isEqualTo(101);
        assertThat(sys.written(101)).as("released with one byte").isEqualTo("G");
        assertThat(sys.calls()).containsSubsequence(
                "pipe2 -> 100,101",
                "clone /usr/bin/runsc CLONE_NEWUSER|CLONE_NEWNS|CLONE_VM -> " + pid,
                "close 100",
                "clone /usr/bin/newuidmap CLONE_VM|CLONE_VFORK -> " + (pid + 1),
                "clone /usr/bin/newgidmap CLONE_VM|CLONE_VFORK -> " + (pid + 2),
                "waitpid " + (pid + 1) + " -> exit status 0",
                "waitpid " + (pid + 2) + " -> exit status 0",
                "write 101 \"G\" (sync pipe)",
                "close 101");
        assertThat(sys.calls()).noneMatch(l -> l.startsWith("kill"));
        assertThat(sys.openFds()).as("every descriptor closed").isEmpty();
        assertThat(sys.unreaped()).as("the detached program is the caller's").containsExactly(pid);
    }

    @Test
    void theHelpersGetThePlannedMaps() throws Exception {
        FakeSyscalls sys = new FakeSyscalls();
        try (NamespaceChild c = NamespaceChild.start(sys, RUNSC, 0)) {
            c.map(FULL, NEWUIDMAP, NEWGIDMAP);
            assertThat(sys.request(c.pid() + 1).argv()).containsExactly("newuidmap", Integer.toString(c.pid()), "0", "1000",
                    "1", "1", "100000", "65536");
            assertThat(sys.request(c.pid() + 1).env()).contains("LC_ALL=C");
        }
    }

    @Test
    void aDeniedCloneLeavesNothingBehind() {
        FakeSyscalls sys = new FakeSyscalls().failNext("clone", Errno.EPERM);
        assertThatThrownBy(() -> NamespaceChild.start(sys, RUNSC, 0)).isInstanceOfSatisfying(SyscallException.class, e -> {
            assertThat(e.step()).isEqualTo(Step.CREATE_USERNS);
            assertThat(e.call()).isEqualTo("clone");
            assertThat(e.errno()).isEqualTo(Errno.EPERM);
            assertThat(e.detail()).isEqualTo("CLONE_NEWUSER|CLONE_VM");
        });
        assertThat(sys.openFds()).isEmpty();
        assertThat(sys.unreaped()).isEmpty();
    }

    @Test
    void aFailedHelperIsReportedAndTheChildKilledAndReaped() throws Exception {
        FakeSyscalls sys = new FakeSyscalls().program("/usr/bin/newuidmap", 1,
                "newuidmap: write to uid_map failed: Operation not permitted\n");
        NamespaceChild c = NamespaceChild.start(sys, RUNSC, 0);
        assertThatThrownBy(() -> c.map(FULL, NEWUIDMAP, NEWGIDMAP)).isInstanceOfSatisfying(GvshimException.class, e -> {
            // the helper, its argv, status and message: the evidence diagnose/MappingCauses reads
            Failure m = e.failure();
            assertThat(m.id()).isEqualTo("IDMAP_HELPER_FAILED");
            assertThat(Mapper.helper(m)).isEqualTo("newuidmap");
            assertThat(m.what()).isEqualTo("cannot map user ids with newuidmap");
            assertThat(m.evidence()).startsWith("newuidmap " + c.pid() + " ")
                    .endsWith(": exit status 1: newuidmap: write to uid_map failed: Operation not permitted");
        });
        c.abandon();
        c.abandon();
        assertThat(sys.calls()).containsSubsequence("kill " + c.pid() + " 9", "waitpid " + c.pid() + " -> killed by signal 9");
        assertThat(sys.calls()).as("never released").noneMatch(l -> l.startsWith("write 101"));
        assertThat(sys.calls().stream().filter(l -> l.startsWith("kill")).count()).as("abandon is idempotent").isEqualTo(1);
        assertThat(sys.openFds()).isEmpty();
        assertThat(sys.unreaped()).isEmpty();
    }

    @Test
    void singleModeWritesTheMapsItselfAfterDenyingSetgroups() throws Exception {
        FakeSyscalls sys = new FakeSyscalls();
        try (NamespaceChild c = NamespaceChild.start(sys, RUNSC, 0)) {
            c.map(SINGLE, NEWUIDMAP, NEWGIDMAP);
            String p = "/proc/" + c.pid() + "/";
            assertThat(sys.calls().stream().filter(l -> l.startsWith("write")).map(l -> l.substring(l.indexOf(' ', 6) + 1))
                    .toList()).containsExactly("\"deny\\n\" (" + p + "setgroups)", "\"0 1000 1\\n\" (" + p + "uid_map)",
                    "\"0 1000 1\\n\" (" + p + "gid_map)");
        }
        assertThat(sys.openFds()).isEmpty();
    }

    @Test
    void aRefusedMapWriteCarriesItsStep() throws Exception {
        FakeSyscalls denied = new FakeSyscalls();
        try (NamespaceChild c = NamespaceChild.start(denied, RUNSC, 0)) {
            denied.failNext("open", Errno.EACCES);
            assertThatThrownBy(() -> c.map(SINGLE, NEWUIDMAP, NEWGIDMAP)).isInstanceOfSatisfying(SyscallException.class,
                    e -> {
                        assertThat(e.step()).isEqualTo(Step.WRITE_SETGROUPS);
                        assertThat(e.errno()).isEqualTo(Errno.EACCES);
                    });
        }
        assertThat(denied.unreaped()).isEmpty();
        assertThat(denied.openFds()).isEmpty();
    }

    @Test
    void aFailedExecIsReportedWithTheCallersStep() throws Exception {
        FakeSyscalls sys = new FakeSyscalls().execFails("/usr/bin/runsc", Errno.ENOENT);
        NamespaceChild c = NamespaceChild.start(sys, RUNSC, 0);
        c.map(SINGLE, NEWUIDMAP, NEWGIDMAP);
        assertThatThrownBy(() -> c.release(Step.EXEC_RUNSC)).isInstanceOfSatisfying(SyscallException.class, e -> {
            assertThat(e.step()).isEqualTo(Step.EXEC_RUNSC);
            assertThat(e.call()).isEqualTo("execve");
            assertThat(e.errnoName()).isEqualTo("ENOENT");
            assertThat(e.detail()).isEqualTo("/usr/bin/runsc");
        });
        c.close();
        assertThat(sys.unreaped()).isEmpty();
        assertThat(sys.openFds()).isEmpty();
    }

    @Test
    void aChildNeverReleasedNeverExecs() throws Exception {
        FakeSyscalls sys = new FakeSyscalls();
        NamespaceChild c = NamespaceChild.start(sys, RUNSC, 0);
        sys.failNext("kill", Errno.ESRCH); // as if it had exited on the sync pipe's EOF already
        c.abandon();
        assertThat(sys.calls()).contains("close 101", "waitpid " + c.pid() + " -> exit status 126");
        assertThat(sys.unreaped()).isEmpty();
        assertThatThrownBy(() -> c.release(Step.EXEC_RUNSC)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anAwaitedProgramIsNotKilledOnClose() throws Exception {
        FakeSyscalls sys = new FakeSyscalls().program("/usr/bin/runsc", 3, "");
        try (NamespaceChild c = NamespaceChild.start(sys, RUNSC, 0)) {
            c.release(Step.PROBE);
            assertThat(c.await().exitCode()).isEqualTo(3);
        }
        assertThat(sys.calls()).noneMatch(l -> l.startsWith("kill"));
        assertThat(sys.unreaped()).isEmpty();
        assertThat(sys.openFds()).isEmpty();
    }
}
