package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.failure.GvshimException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ps`'s host pids: the sandbox, its descendants and the container's gofer, read from a fake /proc. */
class HostPidsTest {
    static final Path ROOT = Path.of("/run/docker/runtime-runc/moby");
    static final String BUNDLE = "/run/containerd/io.containerd.runtime.v2.task/moby/c1";
    static final Path LOGS = ROOT.resolve("c1.gvshim/logs");

    @TempDir
    Path proc;

    void process(int pid, int ppid, String comm, String... argv) throws Exception {
        Path d = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        // comm is in parentheses and may itself hold ") ": the fields after it start at the last ')'
        Files.writeString(d.resolve("stat"), pid + " (" + comm + ") S " + ppid + " " + pid + " 0 0 -1 4194560 0 0 0 0\n");
        Files.writeString(d.resolve("cmdline"), argv.length == 0 ? "" : String.join("\0", argv) + "\0");
    }

    @BeforeEach
    void host() throws Exception {
        process(1, 0, "systemd", "/sbin/init");
        process(900, 1, "containerd-shim", "containerd-shim-runc-v2", "-id", "c1");
        process(1000, 900, "exe", "runsc-sandbox", "--root=" + ROOT, "boot", "--bundle=" + BUNDLE, "c1");
        process(1001, 1000, "exe", "runsc-sandbox"); // the ptrace platform's stubs
        process(1002, 1000, "exe) S 1 (x", "runsc-sandbox");
        process(1003, 1001, "exe", "runsc-sandbox");
        process(1010, 900, "exe", "runsc-gofer", "--root=" + ROOT, "--log-format=json", "gofer", "--bundle", BUNDLE,
                "--spec-fd=3");
        // another container's gofer, and one of another runsc root
        process(2010, 900, "exe", "runsc-gofer", "--root=" + ROOT, "gofer", "--bundle", "/other/bundle");
        process(2011, 900, "exe", "runsc-gofer", "--root=/var/run/runsc", "gofer", "--bundle", BUNDLE);
        process(2012, 900, "exe", "sh", "-c", "runsc-gofer --root=" + ROOT + " gofer --bundle " + BUNDLE);
        Files.createDirectories(proc.resolve("self"));
        Files.writeString(proc.resolve("uptime"), "1.0 1.0\n");
    }

    /** The sandbox first, its descendants (in /proc's order), then the gofers. */
    static void assertPids(List<Integer> pids, List<Integer> descendants, List<Integer> gofers) {
        assertThat(pids).hasSize(1 + descendants.size() + gofers.size()).doesNotHaveDuplicates();
        assertThat(pids.getFirst()).isEqualTo(1000);
        assertThat(pids.subList(1, 1 + descendants.size())).containsExactlyInAnyOrderElementsOf(descendants);
        assertThat(pids.subList(1 + descendants.size(), pids.size())).containsExactlyInAnyOrderElementsOf(gofers);
    }

    @Test
    void theSandboxItsDescendantsAndItsGofer() {
        assertPids(HostPids.of(proc, 1000, ROOT, BUNDLE, LOGS), List.of(1001, 1002, 1003), List.of(1010));
    }

    @Test
    void theGoferMayTakeItsBundleInOneArgument() throws Exception {
        process(3010, 900, "exe", "runsc-gofer", "--root=" + ROOT, "gofer", "--bundle=" + BUNDLE);
        assertPids(HostPids.of(proc, 1000, ROOT, BUNDLE, LOGS), List.of(1001, 1002, 1003), List.of(1010, 3010));
    }

    @Test
    void anotherContainerOfTheSameBundleKeepsItsGofer() throws Exception {
        // runc's tests (and `gvshim create` twice on one bundle): gofers that differ only in their debug-log directory
        process(3020, 1, "exe", "runsc-gofer", "--root=" + ROOT, "--debug-log=" + ROOT.resolve("c1.gvshim/logs") + "/",
                "gofer", "--bundle", BUNDLE);
        process(3021, 1, "exe", "runsc-gofer", "--root=" + ROOT, "--debug-log=" + ROOT.resolve("c2.gvshim/logs") + "/",
                "gofer", "--bundle", BUNDLE);
        assertPids(HostPids.of(proc, 1000, ROOT, BUNDLE, LOGS), List.of(1001, 1002, 1003), List.of(1010, 3020));
    }

    @Test
    void withoutASandboxOnlyTheGofer() {
        assertThat(HostPids.of(proc, 0, ROOT, BUNDLE, LOGS)).containsExactly(1010);
    }

    @Test
    void unreadableEntriesAreSkipped() throws Exception {
        Files.createDirectories(proc.resolve("4000")); // exited between listing and reading
        Files.writeString(Files.createDirectories(proc.resolve("4001")).resolve("stat"), "garbage");
        assertPids(HostPids.of(proc, 1000, ROOT, BUNDLE, LOGS), List.of(1001, 1002, 1003), List.of(1010));
    }

    @Test
    void noProcIsJustTheSandbox() {
        assertThat(HostPids.of(proc.resolve("missing"), 1000, ROOT, BUNDLE, LOGS)).containsExactly(1000);
    }

    static final String PS = """
            UID          PID    PPID  C STIME TTY          TIME CMD
            root           1       0  0 09:00 ?        00:00:01 /sbin/init
            root        1000     900  0 09:01 ?        00:00:00 runsc-sandbox --root=/x boot 1000
            root       10000    1000  0 09:01 ?        00:00:00 runsc-sandbox
            nobody      1010     900  0 09:01 ?        00:00:00 runsc-gofer gofer --bundle /b
            """;

    @Test
    void filterKeepsTheHeaderAndTheLinesOfThePids() throws Exception {
        assertThat(HostPids.filter(PS, List.of(1000, 1010))).isEqualTo("""
                UID          PID    PPID  C STIME TTY          TIME CMD
                root        1000     900  0 09:01 ?        00:00:00 runsc-sandbox --root=/x boot 1000
                nobody      1010     900  0 09:01 ?        00:00:00 runsc-gofer gofer --bundle /b
                """);
        assertThat(HostPids.filter(PS, List.of())).isEqualTo(PS.lines().findFirst().orElseThrow() + "\n");
    }

    @Test
    void filterFindsThePidColumnWhereverItIs() throws Exception {
        String ps = "  PID COMMAND\n    1 init\n 1000 runsc-sandbox\n";
        assertThat(HostPids.filter(ps, List.of(1000))).isEqualTo("  PID COMMAND\n 1000 runsc-sandbox\n");
    }

    @Test
    void filterNeedsAPidColumn() {
        assertThatThrownBy(() -> HostPids.filter("USER COMMAND\nroot init\n", List.of(1)))
                .isInstanceOfSatisfying(GvshimException.class, e -> assertThat(e.failure().oneLine())
                        .isEqualTo("gvshim: couldn't find PID field in ps output [PS_FAILED]"));
    }
}
