package dev.gvshim.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.call.Call;
import dev.gvshim.call.Launch;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.UnixSockets;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server with a fake dispatcher and a client written in the test (the native client is
 * tested by ClientTest): what a call gets, COLD, SO_PEERCRED, descriptors closed, SPAWN through
 * the client, the lock, idle exit, build change, status and stop. No host effects beyond a
 * temporary directory.
 */
@Timeout(60)
class ServerTest {
    @TempDir
    Path tmp;
    private int euid;

    @BeforeEach
    void who() throws Exception {
        euid = Linux.geteuid();
    }

    /** Runs a call as the caller would see it: prints what it got, spawns what "spawn" asks for. */
    static final class Fake implements Dispatcher {
        @Override
        public String coldReason(List<String> args) {
            return !args.isEmpty() && args.getFirst().equals("cold") ? "cold asked for" : null;
        }

        @Override
        public void internalError(Call call, Throwable t) {
            call.err().println("internal error");
        }

        @Override
        public int run(Call call, String[] args) {
            if (args.length > 0 && args[0].equals("bug")) {
                throw new IllegalStateException("a bug");
            }
            if (args.length > 0 && args[0].equals("spawn")) {
                try {
                    Launch.Ran r = call.processes().run(new Launch(List.of(args).subList(1, args.length), Map.of("A", "1"),
                            Launch.Stdio.CAPTURE));
                    call.out().print("ran " + r.exitCode() + ": " + r.output());
                    Launch.Ran i = call.processes().run(new Launch(List.of("/bin/true"), Map.of(), Launch.Stdio.INHERIT));
                    call.out().println("inherit " + i.exitCode());
                    return 0;
                } catch (IOException e) {
                    call.err().println("spawn failed: " + e.getMessage());
                    return 125;
                }
            }
            int umask;
            try {
                umask = UnixSockets.umask(0);
                UnixSockets.umask(umask);
            } catch (Exception e) {
                umask = -1;
            }
            String threadCwd;
            try {
                threadCwd = Files.readSymbolicLink(Path.of("/proc/thread-self/cwd")).toString();
            } catch (IOException e) {
                threadCwd = "?";
            }
            call.out().println("args " + List.of(args) + " cwd " + call.cwd() + " X=" + call.env().get("X") + " umask "
                    + Integer.toOctalString(umask) + " thread cwd " + threadCwd);
            call.err().println("to stderr");
            return 7;
        }
    }

    /** What the test client saw of one call. */
    record Seen(String answer, int status, String out, String err, List<String> spawned) {
    }

    /**
     * A client: sends R (build id {@code build}, the given argv, env X=1, umask 027, cwd {@code tmp})
     * with pipes as stdio; answers SPAWN by writing "spawned ARGV" to the program's stdout
     * descriptor (when one was sent) and EXITED with status 3.
     */
    Seen client(int sock, String build, int protocol, String... args) throws Exception {
        int[] out = Linux.pipe2(Linux.O_CLOEXEC);
        int[] err = Linux.pipe2(Linux.O_CLOEXEC);
        int[] in = Linux.pipe2(Linux.O_CLOEXEC);
        int cwd = Linux.open(tmp.toString(), 0x200000 | 0x10000 | Linux.O_CLOEXEC, 0);
        List<String> argv = new ArrayList<>(List.of("gvshim"));
        argv.addAll(List.of(args));
        List<String> spawned = new ArrayList<>();
        try {
            boolean sent;
            try {
                new Wire.Out().i32(protocol).str(build).str("").i32(027).str(tmp.toString()).strs(argv).strs(List.of("X=1", "X=2"))
                        .frame(Wire.REQUEST, in[0], out[1], err[1], cwd).write(sock);
                sent = true;
            } catch (dev.gvshim.linux.SyscallException e) {
                sent = false; // EPIPE: the server closed the connection unread (a peer it does not serve)
            }
            Linux.closeQuietly(in[0], out[1], err[1], cwd);
            CompletableFuture<String> o = read(out[0]);
            CompletableFuture<String> e = read(err[0]);
            String answer = "EOF";
            int status = -1;
            loop:
            while (sent) {
                Wire.Frame f;
                try {
                    f = Wire.read(sock);
                } catch (dev.gvshim.linux.SyscallException x) {
                    break; // ECONNRESET: closed with our request unread
                }
                if (f == null) {
                    break;
                }
                Wire.In i = f.in();
                switch (f.type()) {
                    case Wire.ACCEPTED -> answer = "accepted";
                    case Wire.COLD -> {
                        answer = "cold: " + i.str();
                        break loop;
                    }
                    case Wire.EXIT -> {
                        status = i.i32();
                        break loop;
                    }
                    case Wire.SPAWN -> {
                        int id = i.i32();
                        String path = i.str();
                        List<String> a = i.strs();
                        List<String> env = i.strs();
                        i.str();
                        i.i32();
                        int stdout = List.of(i.i32(), i.i32(), i.i32()).get(1);
                        spawned.add(path + " " + a + " " + env + " fds " + f.fds().length);
                        if (stdout >= 0) {
                            Linux.write(f.fds()[stdout], ("spawned " + String.join(" ", a) + "\n").getBytes(StandardCharsets.UTF_8), "out");
                        }
                        new Wire.Out().i32(id).i32(Wire.EXITED_WAITED).i32(3 << 8).frame(Wire.EXITED).write(sock);
                    }
                    default -> throw new AssertionError("frame " + (char) f.type());
                }
                f.closeFds();
            }
            Linux.closeQuietly(sock, in[1]);
            sock = -1; // closed once: by the finally, the numbers may be the server threads'
            in[1] = -1;
            return new Seen(answer, status, o.get(10, TimeUnit.SECONDS), e.get(10, TimeUnit.SECONDS), spawned);
        } finally {
            Linux.closeQuietly(out[0], err[0], in[1], sock);
        }
    }

    /** On a thread of its own (not the common pool, which a blocked test would starve). */
    private static <T> CompletableFuture<T> async(java.util.function.Supplier<T> s) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon(true).start(() -> {
            try {
                f.complete(s.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    private static CompletableFuture<String> loop(Server srv) {
        return async(() -> {
            try {
                return srv.loop();
            } catch (Exception e) {
                return e.toString();
            }
        });
    }

    private static CompletableFuture<String> read(int fd) {
        return async(() -> {
            try {
                return new String(Linux.readAll(fd, 1 << 20), StandardCharsets.UTF_8);
            } catch (Exception e) {
                return "<" + e + ">";
            }
        });
    }

    private Server server(int uid, long idleMillis, Path home, String build) throws Exception {
        return new Server(new Server.Config(new ServerDir(tmp, "s-test"), build, home, idleMillis, uid), new Fake());
    }

    /** serveOnly on one end of a socketpair, the test client on the other. */
    private Seen oneCall(Server s, String build, int protocol, String... args) throws Exception {
        int[] sp = UnixSockets.pair();
        CompletableFuture<Object> served = async(() -> {
            s.serveOnly(sp[0]);
            return null;
        });
        Seen seen = client(sp[1], build, protocol, args);
        served.get(10, TimeUnit.SECONDS);
        return seen;
    }

    @Test
    void aCallGetsTheCallersStdioArgsEnvCwdAndUmaskAndItsStatusGoesBack() throws Exception {
        Seen s = oneCall(server(euid, 0, null, "b1"), "b1", Wire.PROTOCOL, "state", "x y");
        assertThat(s.answer()).isEqualTo("accepted");
        assertThat(s.status()).isEqualTo(7);
        assertThat(s.out()).isEqualTo("args [state, x y] cwd " + tmp + " X=1 umask 27 thread cwd " + tmp.toRealPath() + "\n");
        assertThat(s.err()).isEqualTo("to stderr\n");
        assertThat(Path.of(new File(".").getAbsolutePath()).normalize()).as("the process's own cwd is untouched")
                .isNotEqualTo(tmp);
    }

    @Test
    void anotherBuildAnotherProtocolOrAnUnservedVerbIsAnsweredColdBeforeAnythingRuns() throws Exception {
        Server srv = server(euid, 0, null, "b1");
        assertThat(oneCall(srv, "b2", Wire.PROTOCOL, "state").answer()).isEqualTo("cold: a server of another build");
        assertThat(oneCall(srv, "b1", 99, "state").answer()).startsWith("cold: protocol 99");
        Seen cold = oneCall(srv, "b1", Wire.PROTOCOL, "cold");
        assertThat(cold.answer()).isEqualTo("cold: cold asked for");
        assertThat(cold.out()).isEmpty();
        assertThat(Files.readString(srv.log().file())).contains("answered COLD: cold asked for");
    }

    @Test
    void aBugInACallIsTheCallersOneLineAnd125AndTheServerGoesOn() throws Exception {
        Server srv = server(euid, 0, null, "b1");
        Seen bug = oneCall(srv, "b1", Wire.PROTOCOL, "bug");
        assertThat(bug.status()).isEqualTo(125);
        assertThat(bug.err()).isEqualTo("internal error\n");
        assertThat(Files.readString(srv.log().file())).contains("internal error", "IllegalStateException: a bug");
        assertThat(oneCall(srv, "b1", Wire.PROTOCOL, "state").status()).isEqualTo(7);
    }

    @Test
    void aPeerOfAnotherUidIsClosedUnservedAndLogged() throws Exception {
        Server srv = server(euid + 1, 0, null, "b1");
        Seen s = oneCall(srv, "b1", Wire.PROTOCOL, "state");
        assertThat(s.answer()).isEqualTo("EOF");
        assertThat(s.out()).isEmpty();
        assertThat(Files.readString(srv.log().file())).contains("refused a connection of uid " + euid);
    }

    @Test
    void programsAreSpawnedByTheClientWithPipesForCapturedOutput() throws Exception {
        Seen s = oneCall(server(euid, 0, null, "b1"), "b1", Wire.PROTOCOL, "spawn", "/bin/echo", "hi");
        assertThat(s.status()).as(s.toString()).isZero();
        assertThat(s.out()).isEqualTo("ran 3: spawned /bin/echo hi\ninherit 3\n");
        assertThat(s.spawned()).containsExactly("/bin/echo [/bin/echo, hi] [A=1] fds 2", "/bin/true [/bin/true] [] fds 0");
    }

    /**
     * The client dies while the program it started holds the output pipe open (as `runsc events`
     * would when containerd kills the runtime call): the call ends, it does not wait for the pipe.
     */
    @Test
    void aCallEndsWhenItsClientDiesEvenIfTheProgramsPipeStaysOpen() throws Exception {
        Server srv = server(euid, 0, null, "b1");
        int[] sp = UnixSockets.pair();
        CompletableFuture<Object> served = async(() -> {
            srv.serveOnly(sp[0]);
            return null;
        });
        int[] out = Linux.pipe2(Linux.O_CLOEXEC);
        int cwd = Linux.open(tmp.toString(), 0x200000 | 0x10000 | Linux.O_CLOEXEC, 0);
        Wire.Frame spawn = null;
        try {
            new Wire.Out().i32(Wire.PROTOCOL).str("b1").str("").i32(022).str(tmp.toString())
                    .strs(List.of("gvshim", "spawn", "/bin/sleep", "60")).strs(List.of()).frame(Wire.REQUEST, out[0], out[1], out[1], cwd)
                    .write(sp[1]);
            assertThat((char) Wire.read(sp[1]).type()).isEqualTo('A');
            spawn = Wire.read(sp[1]);
            assertThat((char) spawn.type()).isEqualTo('S');
            // "the program" keeps spawn's descriptors (the pipe's write end) open; the client dies
            Linux.closeQuietly(sp[1]);
            sp[1] = -1; // closed once: by the finally, the number may be another thread's
            served.get(10, TimeUnit.SECONDS);
            assertThat(Files.readString(srv.log().file())).doesNotContain("internal error");
        } finally {
            if (spawn != null) {
                spawn.closeFds();
            }
            Linux.closeQuietly(sp[1], out[0], out[1], cwd);
        }
    }

    @Test
    void everyReceivedDescriptorIsClosedOnEveryPath() throws Exception {
        Server srv = server(euid, 0, null, "b1");
        Server foreign = server(euid + 1, 0, null, "b1"); // a server holds a pipe of its own (its loop's wake-up)
        oneCall(srv, "b1", Wire.PROTOCOL, "state"); // classes loaded, log open and closed once
        long before = openFds();
        oneCall(srv, "b1", Wire.PROTOCOL, "state");
        oneCall(srv, "b2", Wire.PROTOCOL, "state");
        oneCall(srv, "b1", 99, "state");
        oneCall(srv, "b1", Wire.PROTOCOL, "spawn", "/bin/echo");
        oneCall(foreign, "b1", Wire.PROTOCOL, "state");
        // a malformed request with descriptors
        int[] sp = UnixSockets.pair();
        int[] p = Linux.pipe2(Linux.O_CLOEXEC);
        CompletableFuture<Object> served = async(() -> {
            srv.serveOnly(sp[0]);
            return null;
        });
        new Wire.Out().i32(Wire.PROTOCOL).str("b1").frame(Wire.REQUEST, p[0], p[1]).write(sp[1]);
        served.get(10, TimeUnit.SECONDS);
        Linux.closeQuietly(sp[1], p[0], p[1]);
        assertThat(openFds()).isEqualTo(before);
    }

    private static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    @Test
    void oneServerPerNameAndItLeavesWhenIdle() throws Exception {
        Server first = server(euid, 1, null, "b1");
        assertThat(first.bind()).isTrue();
        assertThat(Files.getPosixFilePermissions(tmp.resolve("s-test.sock"))).asString().isEqualTo("[OWNER_READ, OWNER_WRITE]");
        assertThat(Files.readString(tmp.resolve("s-test.pid"))).startsWith(ProcessHandle.current().pid() + " ");
        Server second = server(euid, 0, null, "b1");
        assertThat(second.bind()).as("the lock is taken").isFalse();
        assertThat(first.loop()).startsWith("idle");
        assertThat(tmp.resolve("s-test.sock")).doesNotExist();
        assertThat(tmp.resolve("s-test.pid")).doesNotExist();
        assertThat(second.bind()).as("the lock was released").isTrue();
        second.stop("test");
        second.loop();
    }

    @Test
    void aStartingServerRemovesTheSocketsOfDeadServersNotOfLiveOnes() throws Exception {
        for (String n : List.of("s-dead", "s-live")) {
            Files.writeString(tmp.resolve(n + ".lock"), "");
            Files.writeString(tmp.resolve(n + ".sock"), "");
            Files.writeString(tmp.resolve(n + ".pid"), "1 1\n");
        }
        int held = Linux.open(tmp.resolve("s-live.lock").toString(), Linux.O_RDWR | Linux.O_CLOEXEC, 0);
        try {
            Linux.flock(held, 2);
            Server srv = server(euid, 0, null, "b1");
            assertThat(srv.bind()).isTrue();
            assertThat(tmp.resolve("s-dead.sock")).doesNotExist();
            assertThat(tmp.resolve("s-dead.pid")).doesNotExist();
            assertThat(tmp.resolve("s-dead.lock")).exists();
            assertThat(tmp.resolve("s-live.sock")).exists();
            assertThat(tmp.resolve("s-live.pid")).exists();
            srv.stop("test");
            srv.loop();
        } finally {
            Linux.closeQuietly(held);
        }
    }

    @Test
    void aServerWhoseSocketWasRemovedStops() throws Exception {
        Server srv = server(euid, 0, null, "b1");
        assertThat(srv.bind()).isTrue();
        CompletableFuture<String> loop = loop(srv);
        Files.delete(tmp.resolve("s-test.sock")); // as rm -rf of the state directory does
        assertThat(loop.get(10, TimeUnit.SECONDS)).startsWith("its socket ").endsWith(" is gone");
    }

    @Test
    void aChangedBuildOnDiskStopsTheServer() throws Exception {
        Files.createDirectories(tmp.resolve("home/lib"));
        Files.writeString(tmp.resolve("home/lib/build-id"), "b1\n");
        Server srv = server(euid, 0, tmp.resolve("home"), "b1");
        assertThat(srv.bind()).isTrue();
        CompletableFuture<String> loop = loop(srv);
        Thread.sleep(1200);
        assertThat(loop).isNotDone();
        Files.writeString(tmp.resolve("home/lib/build-id"), "b2\n");
        assertThat(loop.get(10, TimeUnit.SECONDS)).isEqualTo("the installation's build changed");
    }

    @Test
    void aStoppedServerLeavesItsNameBeforeItsPoolsCloseAndKeepsTheLockUntilTheyHave() throws Exception {
        CompletableFuture<Void> destroyed = new CompletableFuture<>();
        dev.gvshim.pool.Sandbox slow = new dev.gvshim.pool.FakeSandbox() {
            @Override
            public void destroy() {
                super.destroy();
                try {
                    Thread.sleep(3000); // a boot under way, or a sandbox slow to die
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                destroyed.complete(null);
            }
        };
        dev.gvshim.pool.SandboxPool pool = new dev.gvshim.pool.SandboxPool(dev.gvshim.pool.PoolSpec.parse("p:min=1,max=1",
                Path.of("/")), () -> slow, x -> { }).start();
        Server srv = server(euid, 0, null, "b1");
        java.lang.reflect.Field f = Server.class.getDeclaredField("pools"); // no seam in the server's code for this test
        f.setAccessible(true);
        f.set(srv, dev.gvshim.pool.SandboxPools.of(List.of(pool)));
        assertThat(srv.bind()).isTrue();
        pool.awaitReady(5_000);
        CompletableFuture<String> loop = loop(srv);
        srv.stop("test");
        long t0 = System.nanoTime();
        while (Files.exists(tmp.resolve("s-test.sock")) && System.nanoTime() - t0 < 2_000_000_000L) {
            Thread.sleep(10);
        }
        assertThat(tmp.resolve("s-test.sock")).as("the name goes first: no caller waits in a backlog nobody accepts").doesNotExist();
        assertThat(destroyed).as("the pool is still closing").isNotDone();
        assertThat(server(euid, 0, null, "b1").bind()).as("the lock is held until the pools are gone").isFalse();
        assertThat(loop.get(10, TimeUnit.SECONDS)).isEqualTo("test");
        assertThat(destroyed).isDone();
        Server next = server(euid, 0, null, "b1");
        assertThat(next.bind()).as("then released").isTrue();
        next.stop("test");
        next.loop();
    }

    @Test
    void statusAndStopThroughTheSocket() throws Exception {
        Server srv = server(euid, 0, null, "b1");
        assertThat(srv.bind()).isTrue();
        CompletableFuture<String> loop = loop(srv);
        try {
            statusAndStop(srv, loop);
        } finally {
            srv.stop("test over");
        }
    }

    private void statusAndStop(Server srv, CompletableFuture<String> loop) throws Exception {
        ServerDir where = new ServerDir(tmp, "s-test");
        assertThat(Client.running(where)).isTrue();
        Seen status = client(UnixSockets.connect(where.socket().toString()), "b1", Wire.PROTOCOL, "server", "status");
        assertThat(status.status()).isZero();
        // active: this call, and perhaps Client.running's probe, still closing
        assertThat(status.out()).contains("pid " + ProcessHandle.current().pid() + "\n", "calls 1 served, ",
                "idle timeout none\n", "rss ");
        Seen stop = client(UnixSockets.connect(where.socket().toString()), "b1", Wire.PROTOCOL, "server", "stop");
        assertThat(stop.out()).isEqualTo("stopping server " + ProcessHandle.current().pid() + "\n");
        assertThat(loop.get(10, TimeUnit.SECONDS)).isEqualTo("asked to by `gvshim server stop`");
        assertThat(Client.running(where)).isFalse();
    }
}
