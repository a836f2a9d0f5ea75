package dev.gvshim.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.container.RunRequest;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProfileTest {
    private static RunRequest run(List<String> command, Path rootfs, List<RunRequest.BindMount> mounts, Network net, Mode userns,
            String platform, String cwd, List<String> env, Double timeout) {
        return new RunRequest(command, null, rootfs, mounts, List.of(), cwd, env, false, net, timeout, 2, platform, null, null, userns,
                RunRequest.Tty.AUTO, null, null, null, false, false, false);
    }

    private static final Profile POOL = Profile.of(PoolSpec.parse("p:min=1,max=2", Path.of("/")).template());

    @Test
    void theCommandItsEnvironmentWorkdirAndTimeoutAreTheRunsOwn() {
        Profile mine = Profile.of(run(List.of("python3", "job.py"), Path.of("/"), List.of(), Network.NONE, Mode.AUTO, null, "/srv",
                List.of("A=1"), 30.0));
        assertThat(POOL.differs(mine, "p")).isNull();
    }

    @Test
    void eachSandboxOptionThatDiffersIsNamedWithBothValues() {
        assertThat(POOL.differs(Profile.of(run(List.of("x"), Path.of("/"), List.of(), Network.HOST, Mode.AUTO, null, null, List.of(),
                null)), "p")).isEqualTo("--network differs: the pool p's sandboxes have none, this run asks for host");
        assertThat(POOL.differs(Profile.of(run(List.of("x"), Path.of("/"), List.of(), Network.NONE, Mode.SINGLE, null, null, List.of(),
                null)), "p")).isEqualTo("--userns differs: the pool p's sandboxes have auto, this run asks for single");
        assertThat(POOL.differs(Profile.of(run(List.of("x"), Path.of("/srv/root"), List.of(), Network.NONE, Mode.AUTO, null, null,
                List.of(), null)), "p")).isEqualTo("--rootfs differs: the pool p's sandboxes have /, this run asks for /srv/root");
        assertThat(POOL.differs(Profile.of(run(List.of("x"), Path.of("/"), List.of(), Network.NONE, Mode.AUTO, "ptrace", null,
                List.of(), null)), "p")).isEqualTo("--platform differs: the pool p's sandboxes have none (the default), this run asks for"
                        + " ptrace");
        assertThat(POOL.differs(Profile.of(run(List.of("x"), Path.of("/"), List.of(new RunRequest.BindMount(Path.of("/data"), "/mnt",
                true)), Network.NONE, Mode.AUTO, null, null, List.of(), null)), "p"))
                .isEqualTo("--mount differs: the pool p's sandboxes have none (the default), this run asks for /data:/mnt:ro");
    }

    @Test
    void theFirstDifferenceIsTheOneSaid() {
        String d = POOL.differs(Profile.of(run(List.of("x"), Path.of("/"), List.of(), Network.HOST, Mode.SINGLE, "kvm", null, List.of(),
                null)), "p");
        assertThat(d).startsWith("--network differs");
    }
}
