package dev.gvshim.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's sweep of dead gvshim-holder children: only those, each by its pid. */
class ReaperTest {
    @TempDir
    Path tmp;

    @Test
    void aDeadChildNamedGvshimHolderIsReapedAndOthersAreLeftToTheirOwners() throws Exception {
        assumeTrue(Files.exists(Path.of("/proc/self/task/" + Linux.getpid() + "/children")), "no /proc/PID/task/TID/children here");
        // a copy of /bin/sleep named gvshim-holder: its comm (proc(5)) is the file's name; cloned
        // as Holder clones it (not through the JDK, whose reaper thread would wait for it)
        Path holder = tmp.resolve("gvshim-holder");
        Files.copy(Path.of("/bin/sleep"), holder);
        assertThat(holder.toFile().setExecutable(true)).isTrue();
        Path other = tmp.resolve("other");
        Files.copy(Path.of("/bin/sleep"), other);
        assertThat(other.toFile().setExecutable(true)).isTrue();
        Spawner.Started h = Spawner.start(holder.toString(), List.of("gvshim-holder", "60"), List.of(), Step.EXEC_RUNSC);
        Spawner.Started o = Spawner.start(other.toString(), List.of("other", "60"), List.of(), Step.EXEC_RUNSC);
        try {
            Reaper r = new Reaper(Path.of("/proc"));
            assertThat(r.sweep()).as("alive: nothing to reap").isEmpty();
            Linux.kill(h.pid(), Linux.SIGKILL);
            Linux.kill(o.pid(), Linux.SIGKILL);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            List<Integer> reaped = List.of();
            while (reaped.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
                reaped = r.sweep();
            }
            assertThat(reaped).containsExactly(h.pid());
            assertThat(Files.readString(Path.of("/proc", Integer.toString(o.pid()), "stat"))).as("another child's zombie stays its owner's")
                    .contains(") Z ");
        } finally {
            Linux.closeQuietly(h.outputFd(), o.outputFd());
            Linux.kill(o.pid(), Linux.SIGKILL);
            Linux.waitpid(o.pid(), 0);
            try {
                Linux.waitpid(h.pid(), 0);
            } catch (dev.gvshim.linux.SyscallException e) {
                // reaped by the sweep
            }
        }
    }
}
