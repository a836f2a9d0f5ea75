package dev.gvshim.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The C child of clone(2), through FFM: no Java runs in it. */
class SpawnerTest {
    @Test
    void theStructJavaLaysOutIsTheOneCReads() throws Throwable {
        assertThat(Native.Gvshim.abiVersion()).isEqualTo(6);
        assertThat(Native.Gvshim.spawnSize()).isEqualTo(FfmClone.SPAWN_SIZE);
    }

    @Test
    void runsAHelperAndCapturesItsOutputAndStatus() throws Exception {
        Spawner.Completed c = Spawner.run("/bin/sh", List.of("sh", "-c", "echo out; echo err >&2; exit 3"), List.of("A=1"), Step.PROBE);
        assertThat(c.ok()).isFalse();
        assertThat(c.status().exitCode()).isEqualTo(3);
        assertThat(c.output()).isEqualTo("out\nerr");
        assertThat(Spawner.run("/bin/sh", List.of("sh", "-c", "echo $A"), List.of("A=from-envp"), Step.PROBE).output())
                .isEqualTo("from-envp");
    }

    @Test
    void anExecFailureIsReportedWithItsStepAndErrno() {
        assertThatThrownBy(() -> Spawner.run("/no/such/program", List.of("x"), List.of(), Step.RUN_NEWUIDMAP))
                .isInstanceOfSatisfying(SyscallException.class, e -> {
                    assertThat(e.step()).isEqualTo(Step.RUN_NEWUIDMAP);
                    assertThat(e.call()).isEqualTo("execve");
                    assertThat(e.errnoName()).isEqualTo("ENOENT");
                    assertThat(e.detail()).isEqualTo("/no/such/program");
                });
    }

    @Test
    void aSynchronisedChildWaitsForTheParentAndSeesEofAsAbort() throws Exception {
        int[] out = Linux.pipe2(Linux.O_CLOEXEC);
        int[] sync = Linux.pipe2(Linux.O_CLOEXEC);
        Spawner.Child c = Spawner.clone(new Spawner.Request("/bin/echo", List.of("echo", "released"), List.of(), -1, out[1], -1,
                sync[0], sync[1], Spawner.PDEATHSIG), Linux.CLONE_VM, Step.PROBE);
        Linux.close(sync[0]);
        Linux.close(out[1]);
        Thread.sleep(50);
        assertThat(Linux.waitpid(c.pid(), 1 /* WNOHANG */).pid()).as("still waiting for the go").isZero();
        Linux.write(sync[1], new byte[] {'G'}, "sync");
        Linux.close(sync[1]);
        c.awaitExec(Step.PROBE);
        assertThat(new String(Linux.readAll(out[0], 100), StandardCharsets.UTF_8)).isEqualTo("released\n");
        assertThat(Linux.waitpid(c.pid(), 0).exitCode()).isZero();
        Linux.close(out[0]);

        int[] sync2 = Linux.pipe2(Linux.O_CLOEXEC);
        Spawner.Child aborted = Spawner.clone(new Spawner.Request("/bin/true", List.of("true"), List.of(), -1, -1, -1, sync2[0],
                sync2[1], 0), 0, Step.PROBE);
        Linux.close(sync2[0]);
        Linux.close(sync2[1]);
        assertThat(Linux.waitpid(aborted.pid(), 0).exitCode()).as("EOF: never exec").isEqualTo(126);
        aborted.release();
    }

    @Test
    void describesCloneFlags() {
        assertThat(Spawner.describe(Linux.CLONE_NEWUSER | Linux.CLONE_VM)).isEqualTo("CLONE_NEWUSER|CLONE_VM");
        assertThat(Spawner.describe(Linux.CLONE_NEWUSER | Linux.CLONE_NEWNS | Linux.CLONE_VM))
                .isEqualTo("CLONE_NEWUSER|CLONE_NEWNS|CLONE_VM");
        assertThat(Spawner.childCall(8)).isEqualTo("execve");
    }
}
