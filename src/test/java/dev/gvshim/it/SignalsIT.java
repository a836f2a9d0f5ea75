package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Signals to a foreground `run` or `exec`, as scripts written for runc send them (`gvshim run ID &`
 * then `kill -TERM $!`): runc forwards every signal it receives to the container's process and
 * exits with that process's status (runc's signals.go). With real runsc, as root and as the
 * non-root test user, in the server mode of the run (-Dgvshim.server: CI runs the suite with the
 * server and without it, where the caller's process is the native client or the one-shot JVM).
 */
class SignalsIT {
    private static final Duration T = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Traps the signals the tests send and says so; TERM ends it with status 3. */
    private static final String TRAPS = "trap 'echo got-TERM; exit 3' TERM; trap 'echo got-INT' INT; trap 'echo got-HUP' HUP;"
            + " trap 'echo got-USR1' USR1; echo ready; while :; do sleep 0.1; done";
    /** Traps nothing: TERM's default action ends it (exit 143 = 128 + 15). */
    private static final String NO_TRAPS = "echo ready; exec sleep 600";

    enum Caller { ROOT, USER }

    private Host host;
    private Path dir;
    @TempDir
    Path root; // root's --root: a directory no other user can replace
    private final List<Process> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        host = Host.get();
        // in the test user's work directory: its bundles must be readable by it, and root's too
        dir = Files.createTempDirectory(host.work, "signals-");
        Host.sh("chown", host.uid + ":" + host.gid, dir.toString());
    }

    @AfterEach
    void cleanUp() {
        started.forEach(Process::destroyForcibly);
        // a failed test (or gvshim before forwarding: killed by the signal) leaves its container running
        for (String id : ids) {
            Host.run(command(caller, "delete", "--force", id), null, T, dir);
        }
        Host.sh("rm", "-rf", dir.toString());
    }

    // ------------------------------------------------------------------ tests

    @ParameterizedTest
    @EnumSource(Caller.class)
    void runForwardsEachSignalToTheInitAndExitsWithItsStatus(Caller c) throws Exception {
        Path b = bundle("sh", "-c", TRAPS);
        Path out = dir.resolve("run.out");
        Process p = start(c, out, "run", "--bundle", b.toString(), id("run"));
        await(out, "ready\n");
        for (String sig : List.of("USR1", "INT", "HUP")) {
            kill(p, sig);
            await(out, "got-" + sig + "\n"); // the container's process trapped it: gvshim forwarded it
        }
        kill(p, "TERM");
        assertThat(exit(p)).as(read(out) + read(err(out))).isEqualTo(3); // the process's own status, as runc exits
        assertThat(read(out)).isEqualTo("ready\ngot-USR1\ngot-INT\ngot-HUP\ngot-TERM\n");
        assertThat(read(err(out))).as("stderr silent").isEmpty();
        nothingLeft(c);
    }

    @ParameterizedTest
    @EnumSource(Caller.class)
    void runKilledByAForwardedSignalExits128PlusN(Caller c) throws Exception {
        Path b = bundle("sh", "-c", NO_TRAPS);
        Path out = dir.resolve("run.out");
        Process p = start(c, out, "run", "--bundle", b.toString(), id("run-term"));
        await(out, "ready\n");
        kill(p, "TERM");
        assertThat(exit(p)).as(read(out) + read(err(out))).isEqualTo(143);
        assertThat(read(err(out))).isEmpty();
        nothingLeft(c);
    }

    @ParameterizedTest
    @EnumSource(Caller.class)
    void execForwardsEachSignalToTheExecdProcess(Caller c) throws Exception {
        Path b = bundle("sleep", "600");
        String id = id("exec");
        Host.Result d = Host.run(List.of("/bin/sh", "-c", String.join(" ", command(c, "run", "-d", "--bundle", b.toString(), id))
                + " </dev/null >" + dir.resolve("detached.out") + " 2>&1"), null, T, dir);
        assertThat(d.code()).as(d + read(dir.resolve("detached.out"))).isZero();
        try {
            Path out = dir.resolve("exec.out");
            Process p = start(c, out, "exec", id, "/bin/sh", "-c", TRAPS);
            await(out, "ready\n");
            for (String sig : List.of("USR1", "INT", "HUP")) {
                kill(p, sig);
                await(out, "got-" + sig + "\n");
            }
            kill(p, "TERM");
            assertThat(exit(p)).as(read(out) + read(err(out))).isEqualTo(3);
            assertThat(read(out)).isEqualTo("ready\ngot-USR1\ngot-INT\ngot-HUP\ngot-TERM\n");
            assertThat(read(err(out))).isEmpty();

            Path out2 = dir.resolve("exec2.out");
            Process q = start(c, out2, "exec", id, "/bin/sh", "-c", NO_TRAPS);
            await(out2, "ready\n");
            kill(q, "TERM");
            assertThat(exit(q)).as(read(out2) + read(err(out2))).isEqualTo(143);
            assertThat(read(err(out2))).isEmpty();
            Host.Result st = Host.run(command(c, "state", id), null, T, dir);
            assertThat(JSON.readTree(st.out()).path("status").asText()).as("the container lives on: only the exec'd process got it")
                    .isEqualTo("running");
        } finally {
            Host.run(command(c, "delete", "--force", id), null, T, dir);
        }
        nothingLeft(c);
    }

    @ParameterizedTest
    @EnumSource(Caller.class)
    void aKilledGvshimLeavesTheContainerRunningForDeleteForceAsRuncDoes(Caller c) throws Exception {
        // SIGKILL cannot be caught, so it cannot be forwarded: the container outlives gvshim as it outlives a killed runc
        Path b = bundle("sh", "-c", TRAPS);
        Path out = dir.resolve("run.out");
        String id = id("kill9");
        Process p = start(c, out, "run", "--bundle", b.toString(), id);
        await(out, "ready\n");
        kill(p, "KILL");
        assertThat(exit(p)).isEqualTo(137);
        Host.Result st = Host.run(command(c, "state", id), null, T, dir);
        assertThat(st.code()).as(st.toString()).isZero();
        assertThat(JSON.readTree(st.out()).path("status").asText()).isEqualTo("running");
        Host.Result d = Host.run(command(c, "delete", "--force", id), null, T, dir);
        assertThat(d.code()).as(d.toString()).isZero();
        nothingLeft(c);
    }

    // ------------------------------------------------------------------ helpers

    /** The caller this test used (for the clean-up). */
    private Caller caller = Caller.ROOT;
    /** The container ids this test used. */
    private final List<String> ids = new ArrayList<>();

    /** A unique container id for this test run. */
    private String id(String what) {
        String id = "sig-" + what + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
        ids.add(id);
        return id;
    }

    /** A busybox bundle running {@code args} (no terminal), readable and owned by the test user. */
    private Path bundle(String... args) throws IOException {
        Path b = Files.createTempDirectory(dir, "bundle-");
        Host.check(Host.sh("cp", "-a", host.work.resolve("hello/rootfs").toString(), b.resolve("rootfs").toString()));
        ObjectNode spec = (ObjectNode) JSON.readTree(host.work.resolve("hello/config.json").toFile());
        ObjectNode process = (ObjectNode) spec.get("process");
        process.put("terminal", false);
        ArrayNode a = process.putArray("args");
        for (String s : args) {
            a.add(s);
        }
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        Host.check(Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString()));
        return b;
    }

    /**
     * gvshim with runc's global options, as a script written for runc calls it (without them `gvshim
     * run` is gvshim's own verb), and {@code args}: root's with --root in a directory of its own; the
     * test user's with its default state directory.
     */
    private List<String> command(Caller c, String... args) {
        caller = c;
        List<String> cmd = new ArrayList<>(List.of(host.gvshim.toString(), "--log", dir.resolve("log.json").toString(),
                "--log-format", "json"));
        if (c == Caller.ROOT) {
            cmd.addAll(List.of("--root", root.toString()));
        }
        cmd.addAll(List.of(args));
        return c == Caller.ROOT ? cmd : host.asUser(cmd);
    }

    /**
     * A foreground call whose process is the one a script's `$!` names (setpriv and env exec,
     * so the test user's call has the same pid): stdin an empty pipe, stdout and stderr to files.
     */
    private Process start(Caller c, Path out, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command(c, args)).directory(dir.toFile())
                .redirectOutput(out.toFile()).redirectError(err(out).toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        started.add(p);
        return p;
    }

    private static Path err(Path out) {
        return out.resolveSibling(out.getFileName() + ".err");
    }

    private static void kill(Process p, String sig) {
        Host.check(Host.sh("kill", "-" + sig, Long.toString(p.pid())));
    }

    private static int exit(Process p) throws InterruptedException {
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("gvshim exits once the container's process has").isTrue();
        return p.exitValue();
    }

    private void await(Path file, String text) throws InterruptedException {
        for (int i = 0; i < 300 && !read(file).contains(text); i++) {
            Thread.sleep(100);
        }
        assertThat(read(file)).as("stderr: " + read(err(file)) + "\n--log: " + read(dir.resolve("log.json"))).contains(text);
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    /** No runsc process of the caller, and no container in its state directory. */
    private void nothingLeft(Caller c) throws Exception {
        List<String> left = List.of();
        for (int i = 0; i < 50; i++) {
            left = c == Caller.ROOT
                    ? Host.sh("pgrep", "-af", "--", "--root=" + root).out().lines().filter(l -> l.contains("runsc")).toList()
                    : live(host.processes());
            if (left.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        assertThat(left).as("processes left").isEmpty();
        Host.Result list = Host.run(command(c, "list", "-q"), null, T, dir);
        assertThat(list.code()).as(list.toString()).isZero();
        assertThat(list.out().lines().filter(ids::contains).toList()).as("this test's containers left").isEmpty();
        if (c == Caller.ROOT && Files.isDirectory(root)) {
            try (var s = Files.list(root)) {
                assertThat(s.map(f -> f.getFileName().toString()).toList()).as("state left in " + root).isEmpty();
            }
        }
    }

    /** pgrep lines of processes that are not zombies (this machine's pid 1 reaps late). */
    private static List<String> live(List<String> pgrepLines) {
        return pgrepLines.stream().filter(l -> {
            try {
                return Files.readString(Path.of("/proc/" + l.split(" ")[0] + "/stat")).replaceAll("^.*\\) ", "").charAt(0) != 'Z';
            } catch (IOException e) {
                return false;
            }
        }).toList();
    }
}
