package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.api.SandboxBuilder;
import dev.gvshim.api.SandboxException;
import dev.gvshim.api.SandboxPool;
import dev.gvshim.runsc.RunscConfig.Network;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Java API in a warm pool ({@code SandboxBuilder.pool}, issue 18): commands of this JVM (root)
 * and of a JVM of the test user run in sandboxes of their server's pool, one sandbox each (a file
 * or a process of one command is never seen by the next), with stdio, exit status, timeout,
 * destroy and destroyForcibly as a sandbox of their own has them; a profile mismatch, an unknown
 * pool and no server are the CLI's failures with the same ids. Every test ends with no server,
 * runsc process, client or run directory left.
 */
class ApiPoolIT {
    private static final Duration T = Duration.ofSeconds(120);
    /** Leaves a file, a process and a variable for the next command, and shows whether an earlier one left them. */
    private static final String LEAVE = "echo /tmp/*; ps -e -o args | grep -c '^sleep 777'; echo x > /tmp/mark;"
            + " (sleep 777 >/dev/null 2>&1 &); read line; echo \"$line\" >&2; exit 3";
    private Host host;
    private List<String> rootBefore;

    @BeforeEach
    void host() throws Exception {
        host = Host.get();
        rootBefore = rootLeftovers();
        killServers(host.uid);
        killServers(0);
    }

    @AfterEach
    void nothingLeft() throws Exception {
        as(false, "GVSHIM_SERVER=off $G server stop >/dev/null");
        as(true, "GVSHIM_SERVER=off $G server stop >/dev/null");
        for (int i = 0; i < 100 && !(servers(host.uid).isEmpty() && servers(0).isEmpty() && runsc().isEmpty()); i++) {
            Thread.sleep(100);
        }
        List<String> left = new ArrayList<>(runsc());
        left.addAll(host.processes());
        killServers(host.uid);
        killServers(0);
        assertThat(left).as("processes left").isEmpty();
        assertThat(host.leftovers()).as("run directories left in " + host.stateDir()).isEmpty();
        List<String> rootLeft = new ArrayList<>(rootLeftovers());
        rootLeft.removeAll(rootBefore);
        assertThat(rootLeft).as("root's run directories left").isEmpty();
        assertThat(ProcessHandle.current().children().filter(h -> h.info().commandLine().orElse("").contains("__sandbox")))
                .as("clients left").isEmpty();
        assertThat(Host.sh("stat", "-c", "%U:%G", "/dev/null").out().strip()).isEqualTo("root:root");
    }

    // ------------------------------------------------------------------ helpers (PoolIT's)

    private Host.Result as(boolean root, String script) {
        String s = "export GVSHIM_SERVER=on; G=" + host.gvshim + "; cd /; " + script;
        return Host.run(root ? List.of("env", "-u", "XDG_RUNTIME_DIR", "/bin/sh", "-c", s) : List.of("setpriv", "--reuid=" + host.uid,
                "--regid=" + host.gid, "--init-groups", "--reset-env", "/bin/sh", "-c", s), null, T, host.work);
    }

    private List<Integer> servers(int uid) {
        String homes = "gvshim\\.home=" + host.home.toString().replace(".", "\\.") + " ";
        return Host.sh("pgrep", "-u", Integer.toString(uid), "-f", homes + ".*dev\\.gvshim\\.Main server run").out().lines()
                .filter(l -> !l.isBlank()).map(l -> Integer.parseInt(l.strip())).toList();
    }

    private void killServers(int uid) throws InterruptedException {
        for (int pid : servers(uid)) {
            Host.sh("kill", "-KILL", Integer.toString(pid));
        }
        for (int i = 0; i < 50 && !servers(uid).isEmpty(); i++) {
            Thread.sleep(100);
        }
    }

    private List<String> runsc() {
        return Host.sh("pgrep", "-af", "runsc").out().lines()
                .filter(l -> l.contains("/gvshim-" + host.uid) || l.contains("/gvshim-0/")).toList();
    }

    private static List<String> rootLeftovers() throws Exception {
        List<String> runs = new ArrayList<>();
        for (Path d : Host.stateDirs(0)) {
            try (var s = Files.list(d)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("gv")).forEach(n -> runs.add(d + "/" + n));
            }
        }
        return runs;
    }

    private void start(boolean root, String pool) {
        Host.Result r = as(root, "$G server start --idle-timeout 0 --pool " + pool + " >/dev/null && $G server status");
        assertThat(r.code()).as(r.toString()).isZero();
    }

    private String awaitStatus(boolean root, String regex) throws InterruptedException {
        String s = "";
        for (int i = 0; i < 300; i++) {
            s = as(root, "$G server status").out();
            if (Pattern.compile(regex).matcher(s).find()) {
                return s;
            }
            Thread.sleep(100);
        }
        assertThat(s).as("server status within 30 s").containsPattern(regex);
        return s;
    }

    private static int field(String status, String name) {
        Matcher m = Pattern.compile(name + " (\\d+)").matcher(status);
        assertThat(m.find()).as(name + " in " + status).isTrue();
        return Integer.parseInt(m.group(1));
    }

    /**
     * A builder of the copy the servers run (this JVM's gvshim.home is the build directory: another
     * server's name), in `/`: the default, this JVM's working directory, is the checkout's, and a
     * checkout under /tmp would be a pool mismatch (POOL_PROFILE_MISMATCH, as documented).
     */
    private SandboxBuilder pooled(String pool, String... command) {
        return new SandboxBuilder(command).home(host.home).pool(pool).directory("/");
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ root

    @Test
    void pooledCommandsOfRootAreIsolatedAndAreProcessesLikeAnyOther() throws Exception {
        start(true, "api:min=2,max=3");
        awaitStatus(true, "pool api: ready 2,");
        for (int i = 0; i < 3; i++) {
            Process p = pooled("api", "/bin/sh", "-c", LEAVE).start();
            p.getOutputStream().write(("line" + i + "\n").getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            assertThat(read(p.getInputStream())).as("a fresh sandbox: no file, no process of the one before").isEqualTo("/tmp/*\n0\n");
            assertThat(p.waitFor(T.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isEqualTo(3);
            assertThat(err.get()).isEqualTo("line" + i + "\n");
        }
        long t0 = System.nanoTime();
        Process slow = pooled("api", "/bin/sleep", "60").timeout(Duration.ofSeconds(1)).killAfter(Duration.ofSeconds(1)).start();
        assertThat(slow.waitFor(T.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(slow.exitValue()).as("--timeout").isEqualTo(124);
        assertThat((System.nanoTime() - t0) / 1_000_000_000).as("seconds").isLessThan(30);

        Process term = pooled("api", "/bin/sh", "-c", "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.1; done")
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(term.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
        term.destroy();
        assertThat(out.readLine()).isEqualTo("got TERM");
        assertThat(term.waitFor(T.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(term.exitValue()).isEqualTo(7);

        Process killed = pooled("api", "/bin/sh", "-c", "echo ready; while :; do sleep 0.1; done").start();
        assertThat(new BufferedReader(new InputStreamReader(killed.getInputStream(), StandardCharsets.UTF_8)).readLine()).isEqualTo("ready");
        assertThat(runsc()).as("runsc exec of the run").anyMatch(l -> l.contains(" exec --process="));
        killed.destroyForcibly();
        assertThat(killed.waitFor(T.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(killed.exitValue()).isEqualTo(137);
        assertThat(runsc()).as("no runsc exec once waitFor returned").noneMatch(l -> l.contains(" exec "));
        String s = awaitStatus(true, "pool api: ready 2, in use 0, starting 0");
        assertThat(field(s, "served")).isEqualTo(6);
        assertThat(field(s, "failed")).isZero();
    }

    @Test
    void sixteenThreadsShareAPoolOfThree() throws Exception {
        start(true, "many:min=2,max=3");
        awaitStatus(true, "pool many: ready 2,");
        ExecutorService threads = Executors.newFixedThreadPool(16);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int k = i;
                results.add(threads.submit(() -> {
                    Process p = pooled("many", "/bin/sh", "-c", "echo $0 /tmp/*; touch /tmp/k; exit $1", "job" + k, Integer.toString(k % 5))
                            .start();
                    p.getOutputStream().close();
                    String o = read(p.getInputStream());
                    assertThat(p.waitFor(T.toSeconds(), TimeUnit.SECONDS)).isTrue();
                    return o.strip() + " " + p.exitValue();
                }));
            }
            for (int i = 0; i < 16; i++) {
                assertThat(results.get(i).get(2 * T.toSeconds(), TimeUnit.SECONDS)).isEqualTo("job" + i + " /tmp/* " + i % 5);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(field(awaitStatus(true, "pool many: ready 2, in use 0, starting 0"), "served")).isEqualTo(16);
    }

    @Test
    void aMismatchAnUnknownPoolAndNoServerAreTheCliFailures() throws Exception {
        assertThatThrownBy(() -> pooled("p", "/bin/echo", "never").start()).isInstanceOfSatisfying(SandboxException.class, e -> {
            assertThat(e.id()).isEqualTo("POOL_NEEDS_SERVER");
            assertThat(e.fix()).isEqualTo("start one with the pool: gvshim server start --pool p:min=2,max=8");
        });
        start(true, "p:min=1,max=1");
        awaitStatus(true, "pool p: ready 1,");
        Host.Result cli = as(true, "$G run --pool p --network host -- /bin/echo never");
        assertThat(cli.code()).as(cli.toString()).isEqualTo(125);
        assertThatThrownBy(() -> pooled("p", "/bin/echo", "never").network(Network.HOST).start())
                .isInstanceOfSatisfying(SandboxException.class, e -> {
                    assertThat(e.id()).isEqualTo("POOL_PROFILE_MISMATCH");
                    assertThat(e.getMessage() + "\n").as("the CLI's line").isEqualTo(cli.err().lines().reduce((a, b) -> b).orElseThrow() + "\n");
                    assertThat(e.why()).startsWith("--network differs: the pool p's sandboxes have none, this run asks for host");
                    assertThat(e.failure().exitCode()).isEqualTo(125);
                });
        Host.Result unknownCli = as(true, "$G run --pool nope -- /bin/echo never");
        assertThatThrownBy(() -> pooled("nope", "/bin/echo", "never").start()).isInstanceOfSatisfying(SandboxException.class, e -> {
            assertThat(e.id()).isEqualTo("POOL_UNKNOWN");
            assertThat(e.getMessage() + "\n").isEqualTo(unknownCli.err());
        });
        assertThat(field(awaitStatus(true, "pool p: ready 1,"), "served")).as("nothing ran").isZero();
    }

    @Test
    void aPoolStartedFromJavaServesItsCommandsAndGoesAtClose() throws Exception {
        SandboxBuilder profile = new SandboxBuilder("unused").home(host.home).directory("/");
        String s;
        try (SandboxPool pool = SandboxPool.start("java", profile, 2, 3)) {
            assertThat(pool.status()).as("min ready when start returns").startsWith("pool java: ready 2,")
                    .contains("owner process " + ProcessHandle.current().pid());
            for (int i = 0; i < 2; i++) {
                Process p = pool.command("/bin/sh", "-c", LEAVE).start();
                p.getOutputStream().write(("j" + i + "\n").getBytes(StandardCharsets.UTF_8));
                p.getOutputStream().close();
                CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
                assertThat(read(p.getInputStream())).as("a fresh sandbox each time").isEqualTo("/tmp/*\n0\n");
                assertThat(p.waitFor(T.toSeconds(), TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).isEqualTo(3);
                assertThat(err.get()).isEqualTo("j" + i + "\n");
            }
            // the CLI's run --pool with the same options is served by the same pool
            Host.Result cli = as(true, "$G run --pool java -- /bin/echo from-cli");
            assertThat(cli.out()).as(cli.toString()).isEqualTo("from-cli\n");
            assertThatThrownBy(() -> SandboxPool.start("java", new SandboxBuilder("x").home(host.home).network(Network.HOST), 1, 1))
                    .isInstanceOfSatisfying(SandboxException.class, e -> {
                        assertThat(e.id()).isEqualTo("POOL_EXISTS");
                        assertThat(e.why()).contains("another profile");
                    });
            s = awaitStatus(true, "pool java: ready 2, in use 0, starting 0");
            assertThat(field(s, "served")).isEqualTo(3);
        }
        s = as(true, "$G server status").out();
        assertThat(s).as("removed at close").doesNotContain("pool java");
        for (int i = 0; i < 100 && !runsc().isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertThat(runsc()).as("its sandboxes destroyed").isEmpty();
        assertThat(as(true, "$G run --pool java -- /bin/true").err()).contains("[POOL_UNKNOWN]");
    }

    @Test
    void aPoolThatCannotFillSaysWhyWhenItStarts() throws Exception {
        SandboxBuilder profile = new SandboxBuilder("unused").home(host.home).directory("/").runsc(Path.of("/nonexistent/runsc"));
        assertThatThrownBy(() -> SandboxPool.start("broken", profile, 1, 1)).isInstanceOfSatisfying(SandboxException.class, e -> {
            assertThat(e.id()).as(e.getMessage()).doesNotStartWith("POOL_").isNotEqualTo("INTERNAL");
            assertThat(e.getMessage()).contains("/nonexistent/runsc");
        });
        Host.Result direct = as(true, "$G run --runsc /nonexistent/runsc -- /bin/true");
        assertThat(direct.err()).as("run's own diagnosis has the same id").containsPattern("\\[[A-Z_]+\\]");
    }

    // ------------------------------------------------------------------ the test user

    @Test
    void theShippedPoolExampleRunsAsItsCommentSays() throws Exception {
        Path dir = Files.createDirectories(host.work.resolve("poolexample-" + System.nanoTime()));
        Path src = dir.resolve("PoolExample.java");
        Files.copy(Path.of(System.getProperty("gvshim.basedir", "."), "examples/PoolExample.java"), src);
        Host.sh("chown", "-R", host.uid + ":" + host.gid, dir.toString());
        Host.Result r = Host.run(host.asUser(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-cp", host.home.resolve("lib") + "/*", src.toString())), null, T, dir);
        assertThat(r.code()).as(r.toString()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).as(r.toString()).hasSize(8);
        assertThat(lines.getFirst()).startsWith("pool example: ready 2,");
        for (int i = 0; i < 5; i++) {
            assertThat(lines.get(1 + i)).as("a fresh sandbox for each job").matches("job " + i + " sees: 0 files in /tmp \\(exit 0, \\d+ ms\\)");
        }
        assertThat(lines.get(6)).matches("median \\d+ ms");
        assertThat(lines.get(7)).isEqualTo("pool closed");
        assertThat(as(false, "$G server status").out()).doesNotContain("pool example");
    }

    @Test
    void aJavaPoolOfTheTestUserStartsItsServerAndGoesWhenItsJvmIsKilled() throws Exception {
        Path dir = Files.createDirectories(host.work.resolve("apipool-" + System.nanoTime()));
        Path src = dir.resolve("OwnPool.java");
        Files.writeString(src, """
                import dev.gvshim.api.SandboxBuilder;
                import dev.gvshim.api.SandboxPool;
                public class OwnPool {
                    public static void main(String[] a) throws Exception {
                        SandboxPool pool = SandboxPool.start("mine", new SandboxBuilder("x").directory("/"), 1, 2);
                        Process p = pool.command("/bin/sh", "-c", "id -u; echo in-pool").start();
                        p.getOutputStream().close();
                        System.out.print(new String(p.getInputStream().readAllBytes()));
                        System.out.println("status " + p.waitFor());
                        System.out.println("ready");
                        System.out.flush();
                        Thread.sleep(600_000); // killed by the test, the pool never closed
                    }
                }
                """);
        Host.sh("chown", "-R", host.uid + ":" + host.gid, dir.toString());
        Host.sh("chmod", "-R", "a+rX", dir.toString());
        ProcessBuilder pb = new ProcessBuilder(host.asUser(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-cp", host.home.resolve("lib") + "/*", src.toString())))
                .directory(new java.io.File("/")).redirectErrorStream(true);
        Process jvm = pb.start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
            List<String> lines = new ArrayList<>();
            for (String l = out.readLine(); l != null && !l.equals("ready"); l = out.readLine()) {
                lines.add(l);
            }
            assertThat(lines).as("the pooled command's output, as the test user in its own sandbox")
                    .containsExactly("0", "in-pool", "status 0");
            assertThat(servers(host.uid)).as("add-pool started the user's server").hasSize(1);
            assertThat(awaitStatus(false, "pool mine: ready 1,")).contains("owner process");
            // kill -9 of the JVM and of its process tree (setpriv may stand between): nothing closes the pool
            jvm.descendants().forEach(ProcessHandle::destroyForcibly);
            jvm.destroyForcibly();
            assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String s = "";
            for (int i = 0; i < 300 && (s = as(false, "$G server status").out()).contains("pool mine"); i++) {
                Thread.sleep(100);
            }
            assertThat(s).as("the server removed the pool of the dead JVM").doesNotContain("pool mine").contains("calls ");
            for (int i = 0; i < 100 && !runsc().isEmpty(); i++) {
                Thread.sleep(100);
            }
            assertThat(runsc()).as("its sandboxes destroyed").isEmpty();
        } finally {
            jvm.descendants().forEach(ProcessHandle::destroyForcibly);
            jvm.destroyForcibly();
        }
    }

    @Test
    void pooledCommandsOfTheNonRootTestUser() throws Exception {
        start(false, "u:min=1,max=2");
        awaitStatus(false, "pool u: ready 1,");
        Path dir = Files.createDirectories(host.work.resolve("apipool-" + System.nanoTime()));
        Path src = dir.resolve("ApiPool.java");
        Files.writeString(src, """
                import dev.gvshim.api.SandboxBuilder;
                import dev.gvshim.api.SandboxException;
import dev.gvshim.api.SandboxPool;
                public class ApiPool {
                    public static void main(String[] a) throws Exception {
                        for (int i = 0; i < 2; i++) {
                            Process p = new SandboxBuilder("/bin/sh", "-c", a[0] + "; id -u").pool("u").start();
                            p.getOutputStream().write(("in" + i + "\\n").getBytes());
                            p.getOutputStream().close();
                            String out = new String(p.getInputStream().readAllBytes()).replace('\\n', ' ');
                            String err = new String(p.getErrorStream().readAllBytes()).strip();
                            System.out.println(out + "| " + err + " | " + p.waitFor());
                        }
                        for (String pool : new String[] {"u", "nope"}) {
                            try {
                                new SandboxBuilder("/bin/true").pool(pool).network(dev.gvshim.runsc.RunscConfig.Network.HOST).start();
                            } catch (SandboxException e) {
                                System.out.println(e.id());
                            }
                        }
                    }
                }
                """);
        Host.sh("chown", "-R", host.uid + ":" + host.gid, dir.toString());
        Host.sh("chmod", "-R", "a+rX", dir.toString());
        String leave = LEAVE.replace("; exit 3", "");
        Host.Result r = Host.run(host.asUser(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-cp", host.home.resolve("lib") + "/*", src.toString(), leave)), null, T, Path.of("/"));
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).as(r.toString()).isEqualTo("/tmp/* 0 0 | in0 | 0\n/tmp/* 0 0 | in1 | 0\nPOOL_PROFILE_MISMATCH\nPOOL_UNKNOWN\n");
        String s = awaitStatus(false, "pool u: ready 1, in use 0, starting 0");
        assertThat(field(s, "served")).isEqualTo(2);
    }
}
