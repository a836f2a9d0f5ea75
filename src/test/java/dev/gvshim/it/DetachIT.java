package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Detached sandboxes against the real runsc, as the test user (rootless, subordinate ids) and as
 * root: `run -d` returns while the sandbox runs on, `ps`, `logs`, `exec`, `stop` and `rm` manage
 * it by name, and after `rm` (or --rm) nothing of it is left: no process, no state, no log.
 */
class DetachIT {
    private static final Duration T = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private Host host;

    @BeforeEach
    void host() {
        host = Host.get();
    }

    /** A failed test's sandboxes must not outlive it (the next test classes count the test user's processes). */
    @AfterEach
    void removeLeftovers() {
        for (boolean root : new boolean[] {false, true}) {
            List<String> names = gvshim(root, "ps", "-a", "-q").out().lines().filter(l -> !l.isBlank()).toList();
            if (!names.isEmpty()) {
                List<String> args = new ArrayList<>(List.of("rm", "-f"));
                args.addAll(names);
                gvshim(root, args.toArray(String[]::new));
            }
        }
    }

    /** The caller: the test user, or root (with the suite's GVSHIM_SERVER, as the test user's calls get it). */
    private Host.Result gvshim(boolean root, String... args) {
        if (!root) {
            return host.gvshim(null, T, args);
        }
        List<String> cmd = new ArrayList<>();
        if (Host.serverMode() != null) {
            cmd.addAll(List.of("env", "GVSHIM_SERVER=" + Host.serverMode()));
        }
        cmd.add(host.gvshim.toString());
        cmd.addAll(List.of(args));
        return Host.run(cmd, null, T, host.work);
    }

    /** The runtime state directory the detached sandboxes live in. */
    private Path root(boolean root) throws IOException {
        return root ? Path.of("/run/gvshim") : host.stateDir().resolve("runtime");
    }

    /** What the state directory holds (a failed test's evidence). */
    private String listing(boolean root) {
        try {
            return Host.sh("find", root(root).toString(), "-maxdepth", "2").out();
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static String name(String what) {
        return what + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
    }

    private JsonNode ps(boolean root) throws IOException {
        Host.Result r = gvshim(root, "ps", "-a", "--format", "json");
        assertThat(r.code()).as(r.toString()).isZero();
        return JSON.readTree(r.out());
    }

    private JsonNode entry(boolean root, String name) throws IOException {
        for (JsonNode s : ps(root)) {
            if (s.path("name").asText().equals(name)) {
                return s;
            }
        }
        return null;
    }

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        await(what, done, () -> "");
    }

    /** Waits up to 30 s (plus the checks' own time) for {@code done}; a failure says {@code detail}, computed then. */
    private static void await(String what, BooleanSupplier done, java.util.function.Supplier<String> detail)
            throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!done.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        if (!done.getAsBoolean()) {
            assertThat(false).as(what + ": " + detail.get()).isTrue();
        }
    }

    private String logs(boolean root, String name) {
        return gvshim(root, "logs", name).out();
    }

    /** Nothing of sandbox {@code id} is left: no process naming it, no file in the state directory naming it. */
    private void nothingLeft(boolean root, String id) throws Exception {
        await("no process of sandbox " + id + " (" + Host.sh("pgrep", "-af", id).out() + ")",
                () -> Host.sh("pgrep", "-f", id).out().isBlank());
        try (Stream<Path> files = Files.walk(root(root))) {
            assertThat(files.map(Path::toString).filter(p -> p.contains(id)).toList()).as("state of " + id).isEmpty();
        }
        assertThat(Host.sh("stat", "-c", "%U:%G", "/dev/null").out().strip()).isEqualTo("root:root");
    }

    @ParameterizedTest(name = "as root: {0}")
    @ValueSource(booleans = {false, true})
    void runDetachedThenPsLogsExecStopRm(boolean root) throws Exception {
        String n = name("life");
        long t0 = System.nanoTime();
        Host.Result r = gvshim(root, "run", "-d", "--name", n, "--", "/bin/sh", "-c", "echo out; echo err >&2; sleep 600");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).as("the name, and nothing else").isEqualTo(n + "\n");
        assertThat(r.err()).as(r.toString()).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("returns at once").isLessThan(Duration.ofSeconds(30));
        JsonNode s = entry(root, n);
        assertThat(s).as(ps(root).toString()).isNotNull();
        String id = s.path("id").asText();
        assertThat(s.path("status").asText()).isEqualTo("running");
        assertThat(s.path("command").toString()).isEqualTo("[\"/bin/sh\",\"-c\",\"echo out; echo err >&2; sleep 600\"]");
        assertThat(gvshim(root, "ps").out()).contains(n).contains(id).contains("running");
        await("logs: stdout and stderr, in order", () -> logs(root, n).equals("out\nerr\n"));
        Path log = root(root).resolve("detached").resolve(id + ".log");
        assertThat(Files.getPosixFilePermissions(log)).as("the log is private").hasToString("[OWNER_READ, OWNER_WRITE]");
        assertThat(Files.getAttribute(log, "unix:uid")).isEqualTo(root ? 0 : host.uid);
        Host.Result e = gvshim(root, "exec", n, "/bin/sh", "-c", "echo $((1+2)); exit 7");
        assertThat(e.code()).as("the command's exit status: " + e).isEqualTo(7);
        assertThat(e.out()).isEqualTo("3\n");
        assertThat(gvshim(root, "exec", id.substring(0, 6), "/bin/true").code()).as("by a unique id prefix").isZero();
        Host.Result env = gvshim(root, "exec", "-e", "FOO=bar", "-w", "/tmp", "-u", "1000:1000", n, "/bin/sh", "-c",
                "echo $FOO $(pwd) $(id -u); test -t 0 || echo no-terminal");
        assertThat(env.out()).as(env.toString()).isEqualTo("bar /tmp 1000\nno-terminal\n");
        // -t: a terminal of its own (script(1) gives this call one), the command's status
        String tty = (root && Host.serverMode() != null ? "env GVSHIM_SERVER=" + Host.serverMode() + " " : "") + host.gvshim
                + " exec -it " + n + " /bin/sh -c 'test -t 0 && test -t 1 && echo terminal; exit 4'";
        Host.Result t = root ? Host.run(List.of("script", "-qec", tty, "/dev/null"), null, T, host.work)
                : Host.run(host.asUser(List.of("script", "-qec", tty, "/dev/null")), null, T, host.work);
        assertThat(t.code()).as(t.toString()).isEqualTo(4);
        assertThat(t.out()).as(t.toString()).contains("terminal\r\n");
        Host.Result noTty = gvshim(root, "exec", "-t", n, "/bin/true");
        assertThat(noTty.code()).isEqualTo(255);
        assertThat(noTty.err()).endsWith("[TERMINAL_STDIN]\n");
        long t1 = System.nanoTime();
        Host.Result st = gvshim(root, "stop", n);
        assertThat(st.code()).as(st.toString()).isZero();
        assertThat(st.out()).isEqualTo(n + "\n");
        assertThat(Duration.ofNanos(System.nanoTime() - t1)).as("sleep ends on SIGTERM").isLessThan(Duration.ofSeconds(9));
        assertThat(entry(root, n).path("status").asText()).isEqualTo("stopped");
        assertThat(gvshim(root, "ps").out()).as("ps without -a: running ones only").doesNotContain(n);
        assertThat(logs(root, n)).as("the log stays until rm").isEqualTo("out\nerr\n");
        Host.Result rm = gvshim(root, "rm", n);
        assertThat(rm.code()).as(rm.toString()).isZero();
        assertThat(entry(root, n)).isNull();
        nothingLeft(root, id);
        Host.Result gone = gvshim(root, "logs", n);
        assertThat(gone.code()).isEqualTo(1);
        assertThat(gone.err()).startsWith("gvshim: cannot find sandbox " + n).endsWith("[SANDBOX_NOT_FOUND]\n");
    }

    @ParameterizedTest(name = "as root: {0}")
    @ValueSource(booleans = {false, true})
    void stopKillsACommandIgnoringSigtermAfterTheGraceTime(boolean root) throws Exception {
        String n = name("stubborn");
        Host.Result r = gvshim(root, "run", "-d", "--name", n, "--", "/bin/sh", "-c",
                "trap '' TERM; echo ready; while :; do sleep 1; done");
        assertThat(r.code()).as(r.toString()).isZero();
        String id = entry(root, n).path("id").asText();
        await("started", () -> logs(root, n).contains("ready"));
        long t0 = System.nanoTime();
        Host.Result st = gvshim(root, "stop", "--time", "3", n);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(st.code()).as(st.toString()).isZero();
        assertThat(took).as("SIGTERM ignored: SIGKILL after --time").isGreaterThanOrEqualTo(Duration.ofSeconds(3))
                .isLessThan(Duration.ofSeconds(15));
        assertThat(entry(root, n).path("status").asText()).isEqualTo("stopped");
        assertThat(gvshim(root, "rm", n).code()).isZero();
        nothingLeft(root, id);
    }

    @ParameterizedTest(name = "as root: {0}")
    @ValueSource(booleans = {false, true})
    void rmRefusesARunningSandboxUnlessForced(boolean root) throws Exception {
        String n = name("busy");
        assertThat(gvshim(root, "run", "-d", "--name", n, "--", "/bin/sleep", "600").code()).isZero();
        String id = entry(root, n).path("id").asText();
        Host.Result rm = gvshim(root, "rm", n);
        assertThat(rm.code()).isEqualTo(1);
        assertThat(rm.err()).isEqualTo("gvshim: cannot remove sandbox " + n + ": it is running. Fix: stop it first (gvshim stop " + n
                + "), or use gvshim rm -f " + n + " [SANDBOX_RUNNING]\n");
        assertThat(entry(root, n).path("status").asText()).isEqualTo("running");
        Host.Result forced = gvshim(root, "rm", "-f", n);
        assertThat(forced.code()).as(forced.toString()).isZero();
        assertThat(forced.out()).isEqualTo(n + "\n");
        assertThat(entry(root, n)).isNull();
        nothingLeft(root, id);
    }

    @ParameterizedTest(name = "as root: {0}")
    @ValueSource(booleans = {false, true})
    void rmOptionRemovesTheSandboxWhenItsCommandExits(boolean root) throws Exception {
        String n = name("once");
        Host.Result r = gvshim(root, "run", "-d", "--rm", "--name", n, "--", "/bin/sh", "-c", "sleep 2; echo bye");
        assertThat(r.code()).as(r.toString()).isZero();
        JsonNode s = entry(root, n);
        assertThat(s).isNotNull();
        assertThat(s.path("rm").asBoolean()).isTrue();
        String id = s.path("id").asText();
        await("removed after its exit", () -> {
            try {
                return entry(root, n) == null;
            } catch (IOException e) {
                return false;
            }
        }, () -> "ps: " + gvshim(root, "ps", "-a").out() + "; log: " + logs(root, n) + "; processes: "
                + Host.sh("pgrep", "-af", id).out() + "; state: " + listing(root));
        nothingLeft(root, id);
    }

    @ParameterizedTest(name = "as root: {0}")
    @ValueSource(booleans = {false, true})
    void namesAreUniqueAndGeneratedWhenNotGiven(boolean root) throws Exception {
        String n = name("uniq");
        assertThat(gvshim(root, "run", "-d", "--name", n, "--", "/bin/sleep", "600").code()).isZero();
        Host.Result again = gvshim(root, "run", "-d", "--name", n, "--", "/bin/true");
        assertThat(again.code()).isEqualTo(125);
        assertThat(again.out()).isEmpty();
        assertThat(again.err()).startsWith("gvshim: cannot start sandbox " + n + ": the name is in use").endsWith(
                "[SANDBOX_NAME_IN_USE]\n");
        Host.Result anon = gvshim(root, "run", "-d", "--", "/bin/sleep", "600");
        assertThat(anon.code()).as(anon.toString()).isZero();
        String generated = anon.out().strip();
        assertThat(generated).matches("[a-z]+_[a-z]+\\d*");
        assertThat(entry(root, generated).path("status").asText()).isEqualTo("running");
        List<String> ids = List.of(entry(root, n).path("id").asText(), entry(root, generated).path("id").asText());
        Host.Result rm = gvshim(root, "rm", "-f", n, generated);
        assertThat(rm.code()).as(rm.toString()).isZero();
        for (String id : ids) {
            nothingLeft(root, id);
        }
    }
}
