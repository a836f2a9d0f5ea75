package dev.gvshim.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.UnixSockets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java API's pooled run, relayed ({@link PoolRelay}): this JVM is the API, the native client
 * (native/gvshim_client.c, `__sandbox`) its child, and a scripted server stands in for the user's
 * gvshim server. The client connects to the server itself (CONNECT), so the server's peer, the
 * pooled sandbox's taker, is the client; a refusal comes back as the server's line; USERNS_SPAWN
 * and EXEC reach the client with their descriptors. No host effects beyond the temporary directory.
 */
@Timeout(60)
class PoolRelayTest {
    @TempDir
    Path tmp;
    private Path client;
    private int euid;

    @BeforeEach
    void install() throws Exception {
        Path built = Path.of(System.getProperty("gvshim.native.dir", "target/native"), "test/gvshim-client-test");
        assumeTrue(Files.isExecutable(built), "gvshim-client is not built at " + built + " (mvn builds it in generate-resources)");
        Path home = tmp.resolve("home");
        Files.createDirectories(home.resolve("bin"));
        client = Files.copy(built, home.resolve("bin/gvshim"));
        euid = Linux.geteuid();
    }

    private ServerDir serverDir(String mode) throws Exception {
        Path d = Files.createDirectory(tmp.resolve("server"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString(mode)); // past the umask
        return new ServerDir(d, "s-test");
    }

    /** The client of one API call, accepted; {@code body} relays with it; the client's stdout and exit status after. */
    private <T> T withClient(Function<ApiSession, T> body, Process[] started) throws Exception {
        try (ApiSession api = ApiSession.listen(tmp)) {
            Process p = new ProcessBuilder(client.toString(), "__sandbox", api.socket().toString()).directory(tmp.toFile()).start();
            started[0] = p;
            api.accept(p.toHandle(), euid);
            return body.apply(api);
        }
    }

    /** A scripted server at {@code w}: accepts one call and answers it with {@code script}; the peer's pid and argv. */
    private static CompletableFuture<String> server(ServerDir w, int listener, Script script) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                int c = UnixSockets.accept(listener);
                try (Session s = new Session(c, UnixSockets.peerCred(c).pid())) {
                    Request r = s.read();
                    s.accept();
                    script.answer(s, r);
                    return "peer " + s.peerPid() + " argv " + String.join(" ", r.args());
                }
            } catch (Exception e) {
                return e.toString();
            }
        });
    }

    interface Script {
        void answer(Session s, Request r) throws Exception;
    }

    @Test
    void theServersPeerIsTheClientAndARefusalIsItsLine() throws Exception {
        ServerDir w = serverDir("rwx------");
        int listener = UnixSockets.listen(w.socket().toString(), 4);
        String line = "gvshim: cannot run in the pool p: --network differs: the pool p's sandboxes have none, this run asks for"
                + " host. Fix: run with the pool's options [POOL_PROFILE_MISMATCH]\n";
        try {
            CompletableFuture<String> seen = server(w, listener, (s, r) -> {
                Linux.write(r.fds()[Request.STDERR], line.getBytes(StandardCharsets.UTF_8), "stderr");
                s.exit(125);
            });
            Process[] p = new Process[1];
            PoolRelay.Outcome o = withClient(api -> {
                try {
                    PoolRelay.Outcome out = PoolRelay.call(api, w, "b", "/h", tmp.toString(), List.of("gvshim", "run", "--pool=p",
                            "--", "/bin/true"), Map.of("PATH", "/bin"));
                    api.fail(125);
                    return out;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, p);
            assertThat(o).isEqualTo(new PoolRelay.Refused(125, line));
            assertThat(seen.get(30, TimeUnit.SECONDS)).as("the server's peer: the client, not this JVM")
                    .isEqualTo("peer " + p[0].pid() + " argv run --pool=p -- /bin/true");
            assertThat(p[0].waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p[0].exitValue()).isEqualTo(125);
            assertThat(new String(p[0].getErrorStream().readAllBytes(), StandardCharsets.UTF_8)).as("the client says nothing").isEmpty();
        } finally {
            Linux.closeQuietly(listener);
        }
    }

    @Test
    void noServerAndADirectoryOthersMayEnterAreNotServed() throws Exception {
        ServerDir none = serverDir("rwx------");
        Process[] p = new Process[1];
        PoolRelay.Outcome o = withClient(api -> call(api, none), p);
        assertThat(o).isEqualTo(new PoolRelay.NotServed("none runs"));
        Files.delete(none.dir());
        ServerDir open = serverDir("rwxr-xr-x");
        int listener = UnixSockets.listen(open.socket().toString(), 4);
        try {
            PoolRelay.Outcome refused = withClient(api -> call(api, open), p);
            assertThat(refused).isEqualTo(new PoolRelay.NotServed("cannot connect to it: EACCES"));
        } finally {
            Linux.closeQuietly(listener);
        }
    }

    private static PoolRelay.Outcome call(ApiSession api, ServerDir w) {
        try {
            PoolRelay.Outcome out = PoolRelay.call(api, w, "b", "/h", "/", List.of("gvshim", "run"), Map.of());
            api.fail(125);
            return out;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** USERNS_SPAWN and EXEC reach the client with their descriptors; the client becomes the taker, the child its own. */
    @Test
    void theHandOverIsRelayedToTheClient() throws Exception {
        assumeTrue(new ProcessBuilder("unshare", "-Urm", "true").start().waitFor() == 0,
                "unshare -Urm does not work here (no unprivileged user namespaces)");
        Process holder = new ProcessBuilder("unshare", "-Urm", "sleep", "60").start();
        ServerDir w = serverDir("rwx------");
        int listener = UnixSockets.listen(w.socket().toString(), 4);
        int[] out = Linux.pipe2(Linux.O_CLOEXEC);
        int[] ns = {-1, -1};
        try {
            for (int i = 0; i < 100 && Files.readSymbolicLink(Path.of("/proc", Long.toString(holder.pid()), "ns/user"))
                    .equals(Files.readSymbolicLink(Path.of("/proc/self/ns/user"))); i++) {
                Thread.sleep(20); // unshare has not unshared yet
            }
            ns[0] = Linux.open("/proc/" + holder.pid() + "/ns/user", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
            ns[1] = Linux.open("/proc/" + holder.pid() + "/ns/mnt", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
            int o = out[1];
            CompletableFuture<String> seen = server(w, listener, (s, r) -> {
                Session.Forked f = s.spawnInto(List.of("/bin/sh", "-c", "cat /proc/self/uid_map"), List.of("PATH=/bin"), ns[0], ns[1],
                        new int[] {o, o, o});
                // the taker waits for its child (PR_SET_PDEATHSIG: the child dies with it), until it is a zombie or reaped
                s.exec("/bin/sh", List.of("sh", "-c", "echo taker $$ child $0; echo fd7 >&7; while kill -0 $0 2>/dev/null"
                        + " && [ \"$(cut -d' ' -f3 /proc/$0/stat)\" != Z ]; do sleep 0.01; done", Integer.toString(f.pid())),
                        List.of("PATH=/bin"), null, new int[] {o}, new int[] {7}, -1);
            });
            Process[] p = new Process[1];
            PoolRelay.Outcome got = withClient(api -> call(api, w), p);
            assertThat(seen.get(30, TimeUnit.SECONDS)).startsWith("peer " + p[0].pid() + " ");
            assertThat(got).isInstanceOf(PoolRelay.HandedOver.class);
            PoolRelay.HandedOver h = (PoolRelay.HandedOver) got;
            assertThat(h.exec().program()).isEqualTo("/bin/sh");
            assertThat(h.exec().child()).isPositive();
            assertThat(p[0].waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(p[0].getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .isEqualTo("taker " + p[0].pid() + " child " + h.exec().child() + "\n");
            Linux.closeQuietly(out[1]);
            out[1] = -1;
            assertThat(new String(Linux.readAll(out[0], 1 << 16), StandardCharsets.UTF_8)).contains("         0 ", "fd7\n");
        } finally {
            Linux.closeQuietly(listener, ns[0], ns[1], out[0], out[1]);
            holder.destroyForcibly();
        }
    }
}
