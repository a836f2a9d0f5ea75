package dev.gvshim.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gvshim.call.Call;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.UnixSockets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java API's session with its client, {@code bin/gvshim __sandbox SOCKET} (the test build of
 * native/gvshim_client.c), without runsc: the socket's directory, the peer check, the call's
 * stdio being the client's, a failure's exit status, and a client without its JVM.
 */
@Timeout(60)
class ApiSessionTest {
    @TempDir
    Path tmp;
    private Path client;

    @BeforeEach
    void install() throws Exception {
        Path built = Path.of(System.getProperty("gvshim.native.dir", "target/native"), "test/gvshim-client-test");
        assumeTrue(Files.isExecutable(built), "gvshim-client is not built at " + built + " (mvn builds it in generate-resources)");
        Path home = tmp.resolve("home");
        Files.createDirectories(home.resolve("bin"));
        Files.createDirectories(home.resolve("libexec"));
        client = Files.copy(built, home.resolve("bin/gvshim"));
        // never called: `__sandbox` has no cold path
        Files.writeString(home.resolve("libexec/gvshim-jvm"), "#!/bin/sh\necho cold\nexit 42\n");
        Files.setPosixFilePermissions(home.resolve("libexec/gvshim-jvm"), PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private Process start(Path socket) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(client.toString(), "__sandbox", socket.toString());
        pb.environment().put("GVSHIM_SERVER", "on"); // ignored: the JVM that asked is the server
        return pb.start();
    }

    @Test
    void theSessionTakesOnlyItsClientAndItsStdioIsTheCalls() throws Exception {
        try (ApiSession s = ApiSession.listen(tmp)) {
            Path dir = s.socket().getParent();
            assertThat(Files.getPosixFilePermissions(dir)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
            // another process of this user connects first: refused (the peer is not the client)
            int intruder = UnixSockets.connect(s.socket().toString());
            Process p = start(s.socket());
            try {
                s.accept(p.toHandle(), Linux.geteuid());
                assertThat(s.socket()).as("the socket is removed once taken").doesNotExist();
                assertThat(dir).doesNotExist();
                Call call = s.call(Map.of("PATH", "/bin"), tmp, tmp.resolve("home"), Linux.geteuid());
                call.err().print("from the JVM\n");
                assertThat(call.handover().forksIntoNamespaces()).isTrue();
                assertThat(call.handover().taker()).isEqualTo(p.pid());
                assertThat(s.handedOver()).isNull();
                s.fail(3);
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).isEqualTo(3);
                // the session holds the client's stdio until it is closed (as the API's does before the caller
                // reads): without this, EOF came only if the JDK's reaper drained the pipes before this read
                // began (it hung when the read won that race)
                s.close();
                assertThat(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("from the JVM\n");
                assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEmpty();
            } finally {
                p.destroyForcibly();
                Linux.closeQuietly(intruder);
            }
        }
    }

    @Test
    void aClientThatExitsBeforeConnectingIsAnIOException() throws Exception {
        try (ApiSession s = ApiSession.listen(tmp)) {
            Process p = start(tmp.resolve("elsewhere/s"));
            assertThatThrownBy(() -> s.accept(p.toHandle(), Linux.geteuid())).isInstanceOf(IOException.class)
                    .hasMessageContaining("exited before it connected");
            assertThat(p.exitValue()).isEqualTo(125);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(err).startsWith("gvshim: cannot reach the JVM that starts this sandbox at " + tmp.resolve("elsewhere/s"))
                    .endsWith("[SERVER_DIED]\n").hasLineCount(1);
            assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).as("never cold").isEmpty();
        }
    }
}
