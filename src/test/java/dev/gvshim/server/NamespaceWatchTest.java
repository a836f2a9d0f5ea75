package dev.gvshim.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server's "no caller can be left" test, on a /proc made of files. */
class NamespaceWatchTest {
    private static final String NESTED_MAP = "         0       1001          1\n";

    private static void process(Path proc, long pid, long ppid, String userns, String uidMap) throws Exception {
        Path d = Files.createDirectories(proc.resolve(pid + "/ns"));
        Files.createSymbolicLink(d.resolve("user"), Path.of(userns));
        Files.writeString(proc.resolve(pid + "/stat"), pid + " (a (b) c) S " + ppid + " 1 1 0 -1\n");
        Files.writeString(proc.resolve(pid + "/uid_map"), uidMap);
    }

    @Test
    void aServerWithAnotherProcessInItsNamespaceStays(@TempDir Path proc) throws Exception {
        process(proc, 100, 1, "user:[7]", NESTED_MAP);
        process(proc, 50, 1, "user:[7]", NESTED_MAP); // the shell that ran unshare -Ur
        process(proc, 60, 1, "user:[8]", NESTED_MAP);
        assertThat(NamespaceWatch.alone(proc, 100)).isFalse();
    }

    @Test
    void aServerWhoseNamespaceHasOnlyItsOwnChildrenLeaves(@TempDir Path proc) throws Exception {
        process(proc, 100, 1, "user:[7]", NESTED_MAP);
        process(proc, 101, 100, "user:[7]", NESTED_MAP); // a helper it started
        process(proc, 102, 100, "user:[9]", NESTED_MAP); // a rootless container's holder: a namespace of its own
        process(proc, 60, 1, "user:[8]", NESTED_MAP);
        Files.createDirectories(proc.resolve("self"));
        Files.createDirectories(proc.resolve("70")); // gone or another user's: no ns/user to read
        assertThat(NamespaceWatch.alone(proc, 100)).isTrue();
    }

    @Test
    void theInitialNamespaceAndWhatCannotBeReadNeverCount(@TempDir Path proc) throws Exception {
        process(proc, 100, 1, "user:[4026531837]", "         0          0 4294967295\n");
        assertThat(NamespaceWatch.alone(proc, 100)).as("a host's server waits for its idle timeout").isFalse();
        assertThat(NamespaceWatch.alone(proc, 5)).as("its own entry unreadable").isFalse();
        assertThat(NamespaceWatch.initial("0 0 4294967295")).isTrue();
        assertThat(NamespaceWatch.initial(NESTED_MAP)).isFalse();
    }
}
