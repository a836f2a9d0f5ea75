package dev.gvshim.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.UnixSockets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native client (native/gvshim_client.c) in an installation made in a temporary directory:
 * bin/gvshim is the client, libexec/gvshim-jvm a script standing in for the one-shot JVM (it
 * prints "cold ARGS"), the server the Java {@link Server} with a fake dispatcher, or a scripted
 * one for the failure cases. Where it finds its server (agreeing with {@link ServerDir}), the
 * mode (GVSHIM_SERVER, the config file), served and cold calls, SPAWN, and a server that dies
 * after accepting. No host effects beyond the temporary directory.
 */
@Timeout(60)
class ClientTest {
    @TempDir
    Path tmp;
    private Path home;
    private Path xdg;
    private int euid;

    @BeforeEach
    void install() throws Exception {
        Path client = Path.of(System.getProperty("gvshim.native.dir", "target/native"), "test/gvshim-client-test");
        assumeTrue(Files.isExecutable(client), "gvshim-client is not built at " + client + " (mvn builds it in generate-resources)");
        euid = Linux.geteuid();
        home = tmp.resolve("home");
        Files.createDirectories(home.resolve("bin"));
        Files.createDirectories(home.resolve("libexec"));
        Files.createDirectories(home.resolve("lib"));
        Files.copy(client, home.resolve("bin/gvshim"));
        Files.writeString(home.resolve("libexec/gvshim-jvm"), "#!/bin/sh\necho \"$*\" >>" + tmp.resolve("jvm-calls")
                + "\necho \"cold $*\"\nexit 42\n");
        Files.setPosixFilePermissions(home.resolve("libexec/gvshim-jvm"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(home.resolve("lib/build-id"), "0123456789abcdef0123456789\n");
        xdg = Files.createDirectory(tmp.resolve("xdg"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    record Ran(int status, String out, String err) {
    }

    private Ran run(Map<String, String> env, String... args) throws Exception {
        return run(List.of(), env, args);
    }

    /** bin/gvshim under {@code wrapper} (e.g. unshare -Ur), in {@code tmp}, with {@code env} on a small fixed one. */
    private Ran run(List<String> wrapper, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.add(home.resolve("bin/gvshim").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile());
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.environment().put("XDG_RUNTIME_DIR", xdg.toString());
        pb.environment().put("GVSHIM_CONFIG", tmp.resolve("no-config.json").toString());
        pb.environment().put("GVSHIM_CLIENT_RUN", tmp.resolve("run").toString()); // root's /run/gvshim
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Ran(p.exitValue(), out, err.get(30, TimeUnit.SECONDS));
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    /** Where the client looks: root's runtime root (here tmp/run), else the XDG_RUNTIME_DIR given. */
    private ServerDir where() throws IOException {
        return new ServerDir(euid == 0 ? tmp.resolve("run/server") : xdg.resolve("gvshim/server"),
                ServerDir.name("0123456789abcdef0123456789", home.toRealPath().toString(), ServerDir.ownUserns()));
    }

    @Test
    void rootInTheInitialUserNamespaceUsesTheRuntimeRoot() throws Exception {
        assumeTrue(euid == 0, "only root in the initial user namespace keeps its server in /run/gvshim (this test runs as uid "
                + euid + ")");
        assertThat(run(Map.of("GVSHIM_CLIENT_PRINT_DIR", "1")).out())
                .isEqualTo("mode auto\ndir " + tmp.resolve("run/server") + "\nname " + where().name() + "\nidle 600\n");
    }

    /**
     * Everyone else, as StateDir decides: run in a user namespace of its own (unshare -Ur: uid 0
     * inside, the test's uid outside; files of the test's uid are uid 0's there), so that root
     * and other users test the same rules. Java is asked about the same uid pair.
     */
    @Test
    void itFindsTheDirectoryAndNameJavaDoes() throws Exception {
        assumeTrue(new ProcessBuilder("unshare", "-Ur", "true").start().waitFor() == 0,
                "unshare -Ur does not work here (no unprivileged user namespaces)");
        List<String> userns = List.of("unshare", "-Ur");
        Path fakeTmp = Files.createDirectory(tmp.resolve("t"));
        Map<String, String> print = new HashMap<>(Map.of("GVSHIM_CLIENT_PRINT_DIR", "1", "GVSHIM_CLIENT_TMP", fakeTmp.toString()));
        // the name of a server of that namespace: this build and installation, that namespace's inode
        String name = "\nname " + where().name().substring(0, where().name().lastIndexOf('-') + 1);
        // XDG_RUNTIME_DIR usable
        assertThat(ServerDir.find(Map.of("XDG_RUNTIME_DIR", xdg.toString()), 0, euid, fakeTmp)).isEqualTo(xdg.resolve("gvshim/server"));
        assertThat(run(userns, print).out()).startsWith("mode auto\ndir " + xdg.resolve("gvshim/server") + name)
                .doesNotEndWith("-" + ServerDir.ownUserns() + "\n");
        // XDG_RUNTIME_DIR open to others: /tmp's rule; nothing there yet
        Path open = Files.createDirectory(tmp.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        print.put("XDG_RUNTIME_DIR", open.toString());
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", open.toString());
        assertThat(ServerDir.find(env, 0, euid, fakeTmp)).isNull();
        assertThat(run(userns, print).out()).startsWith("mode auto\ndir none" + name);
        // the smallest of the caller's random names, a file of such a name skipped, then the predictable one
        String base = "gvshim-0-outer" + euid;
        for (String n : List.of(base + ".zz", base + ".ab")) {
            Files.createDirectory(fakeTmp.resolve(n), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Files.writeString(fakeTmp.resolve(base + ".aa"), "a file, not a directory");
        Path java = ServerDir.find(env, 0, euid, fakeTmp);
        assertThat(java).isEqualTo(fakeTmp.resolve(base + ".ab/server"));
        assertThat(run(userns, print).out()).startsWith("mode auto\ndir " + java + name);
        Files.createDirectory(fakeTmp.resolve(base), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        java = ServerDir.find(env, 0, euid, fakeTmp);
        assertThat(java).isEqualTo(fakeTmp.resolve(base + "/server"));
        assertThat(run(userns, print).out()).startsWith("mode auto\ndir " + java + name);
    }

    @Test
    void theModeComesFromTheEnvironmentThenTheConfigFileAndIsAutoByDefault() throws Exception {
        Map<String, String> print = new HashMap<>(Map.of("GVSHIM_CLIENT_PRINT_DIR", "1"));
        assertThat(run(print).out()).startsWith("mode auto\n");
        Path config = tmp.resolve("config.json");
        Files.writeString(config, "{\"runsc\": {\"server\": \"off\", \"x\": [\"server\"]}, \"note\": \"server\",\n \"server\" : \"off\","
                + " \"serverIdleTimeout\": 30}");
        print.put("GVSHIM_CONFIG", config.toString());
        assertThat(run(print).out()).startsWith("mode off\n").endsWith("\nidle 30\n");
        print.put("GVSHIM_SERVER_IDLE_TIMEOUT", "0");
        assertThat(run(print).out()).endsWith("\nidle 0\n");
        print.remove("GVSHIM_SERVER_IDLE_TIMEOUT");
        print.put("GVSHIM_SERVER", "on");
        assertThat(run(print).out()).startsWith("mode on\n");
        Files.writeString(config, "{\"runsc\": {\"server\": \"on\"}}");
        print.remove("GVSHIM_SERVER");
        assertThat(run(print).out()).as("only the top-level key").startsWith("mode auto\n");
    }

    @Test
    void serverVerbsNeverStartAServer() throws Exception {
        for (String action : List.of("status", "stop", "run", "start")) {
            Ran r = run(Map.of("GVSHIM_SERVER", "on"), "server", action);
            assertThat(r.out()).as(action).isEqualTo("cold server " + action + "\n");
        }
        assertThat(Files.readAllLines(tmp.resolve("jvm-calls"))).as("the one-shot JVM, never a server started")
                .containsExactly("server status", "server stop", "server run", "server start");
    }

    @Test
    void aServerThatDoesNotStartIsOneLineUnderOnAndSilentUnderAuto() throws Exception {
        // the fake gvshim-jvm, started as a server, exits at once: EOF before ACCEPTED
        Ran on = run(Map.of("GVSHIM_SERVER", "on"), "state", "c1");
        assertThat(on.err()).startsWith("gvshim: the gvshim server did not start: it exited before it took the call; the call"
                + " runs without it. Fix: see ").endsWith("/server.log, or set GVSHIM_SERVER=off [SERVER_FAILED]\n");
        assertThat(on.out()).isEqualTo("cold state c1\n");
        Ran auto = run(Map.of("GVSHIM_SERVER", "auto"), "state", "c1");
        assertThat(auto.err()).isEmpty();
        assertThat(auto.out()).isEqualTo("cold state c1\n");
        assertThat(Files.readAllLines(tmp.resolve("jvm-calls"))).contains("server run --first-fd 3 --idle-timeout 600");
    }

    @Test
    void offRunsTheOneShotJvmWithTheSameArguments() throws Exception {
        Ran r = run(Map.of("GVSHIM_SERVER", "off"), "--root", "/x y", "state", "c1");
        assertThat(r.out()).isEqualTo("cold --root /x y state c1\n");
        assertThat(r.status()).isEqualTo(42);
        assertThat(r.err()).isEmpty();
    }

    /** The server directory, 0700, as ServerDir.prepare makes it. */
    private ServerDir prepare() throws IOException {
        ServerDir w = where();
        Files.createDirectories(w.dir());
        Files.setPosixFilePermissions(w.dir().getParent(), PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(w.dir(), PosixFilePermissions.fromString("rwx------"));
        return w;
    }

    private Server server() throws Exception {
        prepare();
        Server s = new Server(new Server.Config(where(), "0123456789abcdef0123456789", home.toRealPath(), 0, euid),
                new ServerTest.Fake());
        assertThat(s.bind()).isTrue();
        Thread.ofPlatform().daemon(true).start(() -> {
            try {
                s.loop();
            } catch (Exception e) {
                // the test fails on what the client saw
            }
        });
        return s;
    }

    @Test
    void aRunningServerServesTheCallAndTheClientSpawnsWhatItAsks() throws Exception {
        Server s = server();
        try {
            Ran r = run(Map.of("GVSHIM_SERVER", "auto", "X", "1"), "state", "c1");
            assertThat(r.err()).isEqualTo("to stderr\n");
            assertThat(r.out()).startsWith("args [state, c1] cwd " + tmp + " X=1 umask ");
            assertThat(r.status()).isEqualTo(7);
            Ran spawned = run(Map.of("GVSHIM_SERVER", "on"), "spawn", "/bin/echo", "hi");
            assertThat(spawned.out()).as(spawned.toString()).isEqualTo("ran 0: hi\ninherit 0\n");
            assertThat(spawned.status()).isZero();
            Ran missing = run(Map.of("GVSHIM_SERVER", "on"), "spawn", "/nonexistent");
            assertThat(missing.err()).isEqualTo("spawn failed: No such file or directory\n");
            assertThat(missing.status()).isEqualTo(125);
            Ran cold = run(Map.of("GVSHIM_SERVER", "on"), "cold", "x");
            assertThat(cold.out()).isEqualTo("cold cold x\n");
            assertThat(cold.status()).isEqualTo(42);
        } finally {
            s.stop("test over");
        }
    }

    @Test
    void aServerThatDiesAfterAcceptingIsOneLineAnd125AndTheLogLineOfARuncVerb() throws Exception {
        ServerDir w = prepare();
        int listener = UnixSockets.listen(w.socket().toString(), 4);
        try {
            // accepts, then goes away
            Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    int c = UnixSockets.accept(listener);
                    Wire.Frame f = Wire.read(c);
                    f.closeFds();
                    new Wire.Out().frame(Wire.ACCEPTED).write(c);
                    Linux.closeQuietly(c);
                } catch (Exception e) {
                    // the client's output says what happened
                }
            });
            Path log = tmp.resolve("log.json");
            Ran r = run(Map.of("GVSHIM_SERVER", "on"), "--root", "/r", "--log", log.toString(), "create", "c1");
            assertThat(r.status()).isEqualTo(125);
            assertThat(r.out()).isEmpty();
            assertThat(r.err()).isEqualTo("gvshim: the gvshim server died during the call: its connection closed. Fix: run the"
                    + " command again (a new server starts); why it died is in " + w.dir() + "/server.log [SERVER_DIED]\n");
            assertThat(Files.readString(log)).startsWith("{\"level\":\"error\",\"msg\":\"" + r.err().substring(8).strip()
                    + "\",\"time\":\"").endsWith("\"}\n");
            // goes away before accepting: nothing was done, the call runs cold
            Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    int c = UnixSockets.accept(listener);
                    Wire.Frame f = Wire.read(c);
                    f.closeFds();
                    Linux.closeQuietly(c);
                } catch (Exception e) {
                    // as above
                }
            });
            Ran cold = run(Map.of("GVSHIM_SERVER", "on"), "state", "c1");
            assertThat(cold.out()).isEqualTo("cold state c1\n");
        } finally {
            Linux.closeQuietly(listener);
        }
    }

    /**
     * `gvshim run`'s hand-over: the server sends the nsfs descriptors of a user and mount
     * namespace (here those of `unshare -Urm sleep`), the client forks the program into them as
     * its child, answers its pid, then execs what EXEC says with the descriptors on the numbers
     * given: here a shell that reports its namespaces, its child and descriptor 7.
     */
    @Test
    void runsHandOverForksIntoTheNamespacesThenExecsTheTaker() throws Exception {
        assumeTrue(new ProcessBuilder("unshare", "-Urm", "true").start().waitFor() == 0,
                "unshare -Urm does not work here (no unprivileged user namespaces)");
        Process holder = new ProcessBuilder("unshare", "-Urm", "sleep", "60").start();
        ServerDir w = prepare();
        int listener = UnixSockets.listen(w.socket().toString(), 4);
        int[] out = Linux.pipe2(Linux.O_CLOEXEC);
        int user = -1;
        int mnt = -1;
        try {
            String userns = "";
            for (int i = 0; i < 100 && !userns.contains("user:"); i++) { // unshare has forked and exec'd sleep
                Thread.sleep(20);
                userns = Files.readSymbolicLink(Path.of("/proc", Long.toString(holder.pid()), "ns/user")).toString();
                if (userns.equals(Files.readSymbolicLink(Path.of("/proc/self/ns/user")).toString())) {
                    userns = "";
                }
            }
            user = Linux.open("/proc/" + holder.pid() + "/ns/user", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
            mnt = Linux.open("/proc/" + holder.pid() + "/ns/mnt", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
            int u = user;
            int m = mnt;
            int o = out[1];
            CompletableFuture<String> server = CompletableFuture.supplyAsync(() -> {
                try {
                    int c = UnixSockets.accept(listener);
                    Session s = new Session(c, UnixSockets.peerCred(c).pid());
                    s.read();
                    s.accept();
                    Session.Forked f = s.spawnInto(List.of("/bin/sh", "-c", "readlink /proc/self/ns/user; cat /proc/self/uid_map"), List.of("PATH=/bin"), u, m, new int[] {o, o, o});
                    s.exec("/bin/sh", List.of("sh", "-c", "echo taker $$ child $0 parent $(cut -d' ' -f4 /proc/$0/stat); echo fd7 >&7; sleep 0.5",
                            Integer.toString(f.pid())), List.of("PATH=/bin"), null, new int[] {o}, new int[] {7}, -1);
                    s.close();
                    return "pid " + f.pid();
                } catch (Exception e) {
                    return e.toString();
                }
            });
            Ran r = run(Map.of("GVSHIM_SERVER", "on"), "run", "x");
            String forked = server.get(30, TimeUnit.SECONDS);
            Linux.closeQuietly(out[1]); // sent: the copies are the child's and the taker's now
            out[1] = -1;
            String got = new String(Linux.readAll(out[0], 1 << 16), StandardCharsets.UTF_8);
            assertThat(forked).startsWith("pid ");
            assertThat(got).contains(userns + "\n", "         0 ", "fd7\n");
            String taker = r.out().split(" ")[1];
            assertThat(r.out()).as("the forked child is the taker's (same pid as the client)")
                    .isEqualTo("taker " + taker + " child " + forked.substring(4) + " parent " + taker + "\n");
            assertThat(r.err()).isEmpty();
        } finally {
            Linux.closeQuietly(listener, user, mnt, out[0], out[1]);
            holder.destroyForcibly();
        }
    }

    @Test
    void fiftyClientsAtOnceAreAllServed() throws Exception {
        Server s = server();
        try {
            List<CompletableFuture<Ran>> calls = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String n = Integer.toString(i);
                calls.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return run(Map.of("GVSHIM_SERVER", "on", "X", n), "spawn", "/bin/echo", n);
                    } catch (Exception e) {
                        return new Ran(-1, "", e.toString());
                    }
                }, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()));
            }
            for (int i = 0; i < 50; i++) {
                Ran r = calls.get(i).get(60, TimeUnit.SECONDS);
                assertThat(r.out()).as("call " + i + ": " + r).isEqualTo("ran 0: " + i + "\ninherit 0\n");
                assertThat(r.status()).isZero();
            }
            assertThat(s.status()).contains("calls 50 served");
        } finally {
            s.stop("test over");
        }
    }
}
