package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.api.SandboxBuilder;
import dev.gvshim.api.SandboxException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java API (dev.gvshim.api) starting real sandboxes from this JVM (root), and from a JVM of
 * the test user: stdio redirects, concurrent starts, destroy, timeout, the failure exception, and
 * that nothing is left behind (no runsc process, no run directory).
 */
class ApiIT {
    private static final long T = 120;
    private Host host;
    @TempDir
    Path tmp;
    private Path state;

    @BeforeEach
    void setUp() throws Exception {
        host = Host.get();
        state = Files.createDirectory(tmp.resolve("state"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
    }

    @AfterEach
    void nothingLeft() throws Exception {
        List<String> left = List.of();
        for (int i = 0; i < 50; i++) {
            left = Host.sh("pgrep", "-af", state.toString()).out().lines().filter(l -> !l.contains("pgrep")).toList();
            if (left.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        assertThat(left).as("processes of the test's sandboxes").isEmpty();
        try (var s = Files.list(state)) {
            // the state directory keeps caches of runsc's answers (runsc-*.properties), not runs
            assertThat(s.map(Path::toString).filter(f -> !f.endsWith(".properties")).toList()).as("run directories left")
                    .isEmpty();
        }
        assertThat(ProcessHandle.current().children().filter(h -> h.info().commandLine().orElse("").contains("__sandbox")))
                .as("clients left").isEmpty();
        assertThat(Host.sh("stat", "-c", "%U:%G", "/dev/null").out().strip()).isEqualTo("root:root");
    }

    private SandboxBuilder sandbox(String... command) {
        return new SandboxBuilder(command).stateDirectory(state);
    }

    @Test
    void pipesCarryStdinStdoutStderrAndTheExitStatus() throws Exception {
        Process p = sandbox("/bin/sh", "-c", "read x; echo \"out $x\"; echo err >&2; exit 7").start();
        p.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        assertThat(read(p.getInputStream())).isEqualTo("out hello\n");
        assertThat(p.waitFor(T, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(7);
        assertThat(err.get()).isEqualTo("err\n");
        assertThat(p.onExit().get(T, TimeUnit.SECONDS)).isSameAs(p);
        assertThat(p.isAlive()).isFalse();
        assertThat(p.pid()).isPositive();
    }

    @Test
    void filesAsStdioKeepTheirOffsetAndTheirOwner() throws Exception {
        Path in = Files.writeString(tmp.resolve("in"), "line one\nline two\n");
        Path out = Files.writeString(tmp.resolve("out"), "before\n");
        Path err = tmp.resolve("err");
        Process p = sandbox("/bin/sh", "-c", "cat; echo to-err >&2").redirectInput(Redirect.from(in.toFile()))
                .redirectOutput(Redirect.appendTo(out.toFile())).redirectError(Redirect.to(err.toFile())).start();
        assertThat(p.waitFor(T, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        // gVisor writes a regular-file stdout at offset 0: the waiter's relay appends
        assertThat(Files.readString(out)).isEqualTo("before\nline one\nline two\n");
        assertThat(Files.readString(err)).isEqualTo("to-err\n");
        for (Path f : List.of(in, out, err)) {
            assertThat(Host.sh("stat", "-c", "%u:%g", f.toString()).out().strip()).as(f + " not chowned").isEqualTo("0:0");
        }
        Process merged = sandbox("/bin/sh", "-c", "echo a; echo b >&2").redirectErrorStream(true).start();
        merged.getOutputStream().close();
        assertThat(read(merged.getInputStream()).lines().sorted().toList()).containsExactly("a", "b");
        assertThat(merged.waitFor()).isZero();
    }

    @Test
    void inheritedStdioFromAJvmOfRoot() throws Exception {
        Host.Result r = Host.run(program(List.of(state.toString())), "typed\n", Duration.ofSeconds(T), tmp);
        assertThat(r.out()).as(r.toString()).isEqualTo("inherited 0\ntyped\nstatus 5\n");
        assertThat(r.err()).as(r.toString()).isEqualTo("to-stderr\n");
        assertThat(r.code()).isZero();
    }

    @Test
    void asTheNonRootTestUser() throws Exception {
        Path dir = Files.createDirectories(host.work.resolve("api-" + System.nanoTime()));
        Host.sh("chown", host.uid + ":" + host.gid, dir.toString());
        Host.Result r = Host.run(host.asUser(program(List.of())), "typed\n", Duration.ofSeconds(T), dir);
        assertThat(r.out()).as(r.toString()).isEqualTo("inherited 0\ntyped\nstatus 5\n");
        assertThat(r.err()).as(r.toString()).isEqualTo("to-stderr\n");
        assertThat(r.code()).isZero();
        assertThat(host.processes()).as("processes of the test user").isEmpty();
        assertThat(host.leftovers()).as("run directories of the test user").isEmpty();
    }

    @Test
    void theShippedExampleRunsAsTheReadmeSays() throws Exception {
        // examples/SandboxExample.java, run the way its comment tells a user to: the source launcher, the
        // installation's lib/ on the class path, as the non-root test user
        Path dir = Files.createDirectories(host.work.resolve("example-" + System.nanoTime()));
        Path src = dir.resolve("SandboxExample.java");
        Files.copy(Path.of(System.getProperty("gvshim.basedir", "."), "examples/SandboxExample.java"), src);
        Host.sh("chown", "-R", host.uid + ":" + host.gid, dir.toString());
        Host.Result r = Host.run(host.asUser(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-cp", host.home.resolve("lib") + "/*", src.toString())), null,
                Duration.ofSeconds(T), dir);
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).as(r.toString()).contains("hello from Linux 4.4.0 as uid").contains("job.sh has 1 line")
                .contains("exit status 3 (pid ");
        assertThat(host.processes()).as("processes of the test user").isEmpty();
        assertThat(host.leftovers()).as("run directories of the test user").isEmpty();
    }

    /**
     * A program in a JVM of its own that runs a sandbox with its stdio inherited, and prints its
     * status; the installation is found from the jar on its class path (no gvshim.home).
     */
    private List<String> program(List<String> args) throws Exception {
        Path src = host.work.resolve("ApiInherit.java");
        Files.writeString(src, """
                public class ApiInherit {
                    public static void main(String[] a) throws Exception {
                        var b = new dev.gvshim.api.SandboxBuilder("/bin/sh", "-c",
                                "echo inherited $(id -u); read x; echo $x; echo to-stderr >&2; exit 5").inheritIO();
                        if (a.length > 0) {
                            b.stateDirectory(java.nio.file.Path.of(a[0]));
                        }
                        Process p = b.start();
                        int status = p.waitFor();
                        System.out.println("status " + status);
                    }
                }
                """);
        Host.sh("chmod", "a+r", src.toString());
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(List.of("-cp", host.home.resolve("lib") + "/*", src.toString()));
        cmd.addAll(args);
        return cmd;
    }

    @Test
    void sixteenThreadsStartSandboxesAtOnce() throws Exception {
        int n = 16;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                results.add(pool.submit(() -> {
                    go.await();
                    Process p = sandbox("/bin/sh", "-c", "echo $0; exit $1", "job" + k, Integer.toString(k % 5)).start();
                    p.getOutputStream().close();
                    String out = read(p.getInputStream());
                    assertThat(p.waitFor(T, TimeUnit.SECONDS)).isTrue();
                    return out.strip() + " " + p.exitValue();
                }));
            }
            go.countDown();
            for (int i = 0; i < n; i++) {
                assertThat(results.get(i).get(2 * T, TimeUnit.SECONDS)).isEqualTo("job" + i + " " + i % 5);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void destroyIsSigtermForTheCommand() throws Exception {
        Process p = sandbox("/bin/sh", "-c", "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.1; done").start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
        assertThat(p.supportsNormalTermination()).isTrue();
        p.destroy();
        assertThat(out.readLine()).isEqualTo("got TERM");
        assertThat(p.waitFor(T, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(7);
    }

    @Test
    void destroyForciblyKillsTheSandboxAndRemovesItsState() throws Exception {
        Process p = sandbox("/bin/sh", "-c", "echo ready; while :; do sleep 0.1; done").start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
        try (var s = Files.list(state)) {
            assertThat(s.filter(f -> !f.toString().endsWith(".properties")).toList()).as("the run directory while it runs (and"
                    + " runsc's answer caches)").hasSize(1);
        }
        assertThat(Host.sh("pgrep", "-f", state.toString()).out().lines().count()).as("runsc's processes").isGreaterThan(1);
        long t0 = System.nanoTime();
        p.destroyForcibly();
        assertThat(p.waitFor(T, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(137);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("ms to die").isLessThan(10_000);
        // nothingLeft: no runsc process, no run directory
    }

    @Test
    void timeoutStopsTheCommandWith124() throws Exception {
        long t0 = System.nanoTime();
        Process p = sandbox("/bin/sleep", "60").timeout(Duration.ofSeconds(1)).killAfter(Duration.ofSeconds(1)).start();
        p.getOutputStream().close();
        assertThat(p.waitFor(T, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(124);
        assertThat((System.nanoTime() - t0) / 1_000_000_000).as("seconds").isLessThan(30);
    }

    @Test
    void aFailureBeforeTheCommandRunsIsOneExceptionWithItsId() throws Exception {
        assertThatThrownBy(() -> sandbox("/bin/true").runsc(tmp.resolve("no-runsc")).start())
                .isInstanceOfSatisfying(SandboxException.class, e -> {
                    assertThat(e.id()).isEqualTo("RUNSC_MISSING");
                    assertThat(e.fix()).contains("runsc");
                    assertThat(e.getMessage()).startsWith("gvshim: ").endsWith("[RUNSC_MISSING]");
                });
        Path open = Files.createDirectory(tmp.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> new SandboxBuilder("/bin/true").stateDirectory(open).start())
                .isInstanceOfSatisfying(SandboxException.class, e -> assertThat(e.id()).isEqualTo("STATE_DIR_UNSAFE"));
        // nothingLeft: the client was told to exit and was reaped
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
