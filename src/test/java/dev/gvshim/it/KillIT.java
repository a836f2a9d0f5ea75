package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * `kill` against the real runsc. The whole life of a container ({@link LifecycleIT}) and paused
 * containers ({@link PauseIT}) signal theirs too.
 */
class KillIT extends RuncFixture {
    @Test
    void killInCreatedStateEndsTheSandbox() throws Exception {
        Path b = bundle("created", "/bin/true");
        assertThat(create(b, "created").code()).isZero();
        int pid = Integer.parseInt(Files.readString(b.resolve("init.pid")).strip());
        Host.Result k = gv(b, "kill", "created", "SIGKILL");
        assertThat(k.code()).as(k.toString()).isZero();
        for (int i = 0; i < 50 && alive(pid); i++) {
            sleep(100);
        }
        assertThat(alive(pid)).isFalse();
        assertThat(gv(b, "delete", "--force", "created").code()).isZero();
        assertThat(rootEntries()).isEmpty();
    }
}
