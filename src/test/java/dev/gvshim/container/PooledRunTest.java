package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.call.TestCalls;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What `run --pool` compares of the generated spec: the mount points, which only a working
 * directory under /tmp changes (its tree is bind-mounted); the state directory is the server's for
 * a pooled sandbox, never the caller's working directory.
 */
class PooledRunTest {
    private static RunRequest request() {
        return new RunRequest(List.of("/bin/true"), null, Path.of("/"), List.of(), List.of(), null, List.of(), false, Network.NONE,
                null, 2.0, null, null, null, Mode.AUTO, RunRequest.Tty.AUTO, null, null, null, false, false, false);
    }

    private static Set<String> points(String cwd) throws Exception {
        return PooledRun.mountPoints(TestCalls.of(Path.of(cwd), Map.of("PATH", "/bin")), request());
    }

    @Test
    void aRunFromAnotherDirectoryOutsideTmpHasThePoolsMounts() throws Exception {
        Set<String> pool = points("/"); // a server started from /
        assertThat(PooledRun.mountsDiffer(PooledRun.commandSpec(TestCalls.of(Path.of("/work/project"), Map.of("PATH", "/bin")),
                request()), pool, "p")).as("a JVM's working directory, /home/u, /work...").isNull();
        assertThat(points("/srv/x")).isEqualTo(pool).doesNotContain("/srv/x", "/");
    }

    @Test
    void aWorkingDirectoryUnderTmpIsStillAMismatch() throws Exception {
        Set<String> pool = points("/");
        String d = PooledRun.mountsDiffer(PooledRun.commandSpec(TestCalls.of(Path.of("/tmp/job/src"), Map.of("PATH", "/bin")),
                request()), pool, "p");
        assertThat(d).startsWith("the mounts differ from the pool p's: this run's sandbox would mount /tmp/job");
    }
}
