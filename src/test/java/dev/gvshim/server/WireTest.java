package dev.gvshim.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.UnixSockets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The frames of the client/server protocol: Java alone, and Java against the C side (native/wire.c). */
class WireTest {
    @TempDir
    Path tmp;

    @Test
    void aFrameWithFieldsAndDescriptorsGoesThroughASocketpair() throws Exception {
        int[] sp = UnixSockets.pair();
        int[] pipe = Linux.pipe2(Linux.O_CLOEXEC);
        try {
            new Wire.Out().i32(-7).str("héllo").strs(List.of("a", "", "b\n")).frame(Wire.SPAWN, pipe[1]).write(sp[0]);
            new Wire.Out().frame(Wire.ACCEPTED).write(sp[0]);
            Wire.Frame f = Wire.read(sp[1]);
            assertThat((char) f.type()).isEqualTo('S');
            assertThat(f.fds()).hasSize(1);
            Wire.In in = f.in();
            assertThat(in.i32()).isEqualTo(-7);
            assertThat(in.str()).isEqualTo("héllo");
            assertThat(in.strs()).containsExactly("a", "", "b\n");
            assertThat(in.done()).isTrue();
            assertThatThrownBy(in::i32).isInstanceOf(IOException.class).hasMessageContaining("too short");
            Linux.write(f.fds()[0], "x".getBytes(StandardCharsets.US_ASCII), "received fd");
            f.closeFds();
            Linux.closeQuietly(pipe[1]);
            pipe[1] = -1;
            assertThat(new String(Linux.readAll(pipe[0], 10), StandardCharsets.US_ASCII)).isEqualTo("x");
            Wire.Frame a = Wire.read(sp[1]);
            assertThat((char) a.type()).isEqualTo('A');
            assertThat(a.payload()).isEmpty();
            Linux.closeQuietly(sp[0]);
            sp[0] = -1;
            assertThat(Wire.read(sp[1])).as("EOF between frames").isNull();
        } finally {
            Linux.closeQuietly(sp);
            Linux.closeQuietly(pipe);
        }
    }

    /** A second closeFds closes nothing: the number may be another thread's descriptor by then. */
    @Test
    void closingAFramesDescriptorsTwiceLeavesAReusedNumberOpen() throws Exception {
        int[] pipe = Linux.pipe2(Linux.O_CLOEXEC);
        int reused = -1;
        try {
            int fd = pipe[1];
            Wire.Frame f = new Wire.Frame(Wire.SPAWN, new byte[0], new int[] {fd});
            f.closeFds();
            assertThat(f.fds()).containsExactly(-1);
            reused = Linux.open("/dev/zero", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
            assumeTrue(reused == fd, "another thread of this JVM took the number just closed (open(2) gives the lowest free)");
            f.closeFds();
            assertThat(Linux.read(reused, new byte[1], 0, 1)).as("still open").isEqualTo(1);
        } finally {
            Linux.closeQuietly(pipe[0], reused);
        }
    }

    @Test
    void aBrokenFrameIsAProtocolErrorAndItsDescriptorsAreClosed() throws Exception {
        int[] sp = UnixSockets.pair();
        int[] pipe = Linux.pipe2(Linux.O_CLOEXEC);
        try {
            // a header that announces 100 bytes, then EOF: the descriptor that came with it must not stay open
            UnixSockets.send(sp[0], new byte[] {100, 0, 0, 0, 'S', 1, 2}, new int[] {pipe[1]});
            Linux.closeQuietly(sp[0], pipe[1]);
            sp[0] = -1;
            pipe[1] = -1;
            assertThatThrownBy(() -> Wire.read(sp[1])).isInstanceOf(IOException.class).hasMessageContaining("end of stream");
            // the read end sees EOF only when every write end is closed: the received copy was closed too
            assertThat(Linux.readAll(pipe[0], 10)).isEmpty();
        } finally {
            Linux.closeQuietly(sp);
            Linux.closeQuietly(pipe);
        }
    }

    @Test
    void aFrameOverTheLimitIsRefusedBeforeItsPayloadIsRead() throws Exception {
        int[] sp = UnixSockets.pair();
        try {
            int over = Wire.MAX_PAYLOAD + 1;
            UnixSockets.send(sp[0], new byte[] {(byte) over, (byte) (over >> 8), (byte) (over >> 16), (byte) (over >> 24), 'R'},
                    new int[0]);
            assertThatThrownBy(() -> Wire.read(sp[1])).isInstanceOf(IOException.class).hasMessageContaining("8388609 bytes");
        } finally {
            Linux.closeQuietly(sp);
        }
    }

    private Path wiretest() {
        Path p = Path.of(System.getProperty("gvshim.native.dir", "target/native"), "test/gvshim-wiretest");
        assumeTrue(Files.isExecutable(p), "gvshim-wiretest is not built at " + p + " (mvn builds it in generate-resources)");
        return p;
    }

    @Test
    void theCSideRoundTripsItsOwnFrames() throws Exception {
        Process p = new ProcessBuilder(wiretest().toString(), "self").redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("ok\n");
        assertThat(p.exitValue()).isZero();
    }

    @Test
    void javaAndCReadEachOthersFrames() throws Exception {
        Path sock = tmp.resolve("s");
        int listener = UnixSockets.listen(sock.toString(), 1);
        Process p = new ProcessBuilder(wiretest().toString(), "echo", sock.toString()).redirectErrorStream(true).start();
        int conn = -1;
        int[] pipe = Linux.pipe2(Linux.O_CLOEXEC);
        try {
            conn = UnixSockets.accept(listener);
            new Wire.Out().i32(0x12345678).str("ünïcode ok").strs(List.of("x=1", "", "PATH=/bin"))
                    .frame(Wire.EXEC, pipe[1], pipe[1]).write(conn);
            Linux.closeQuietly(pipe[1]);
            pipe[1] = -1;
            Wire.Frame back = Wire.read(conn);
            assertThat((char) back.type()).isEqualTo('e');
            Wire.In in = back.in();
            assertThat((char) in.i32()).isEqualTo('X');
            assertThat(in.i32()).isEqualTo(0x12345678);
            assertThat(in.str()).isEqualTo("ünïcode ok");
            assertThat(in.strs()).containsExactly("x=1", "", "PATH=/bin");
            assertThat(in.i32()).as("C read the payload exactly").isZero();
            assertThat(new String(Linux.readAll(pipe[0], 100), StandardCharsets.US_ASCII)).as("both descriptors arrived, in order")
                    .isEqualTo("fd 0\nfd 1\n");
            // a frame whose list claims more than its payload holds: C marks it bad, reads nothing past it
            new Wire.Out().i32(1).str("s").i32(1000).frame(Wire.SPAWN).write(conn);
            Wire.In bad = Wire.read(conn).in();
            bad.i32();
            bad.i32();
            bad.str();
            assertThat(bad.strs()).isEmpty();
            assertThat(bad.i32()).isEqualTo(1);
            // a frame over the limit: C refuses it (EPROTO) without reading it
            int over = Wire.MAX_PAYLOAD + 1;
            UnixSockets.send(conn, new byte[] {(byte) over, (byte) (over >> 8), (byte) (over >> 16), (byte) (over >> 24), 'R'},
                    new int[0]);
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("error 71\n");
        } finally {
            Linux.closeQuietly(conn, listener);
            Linux.closeQuietly(pipe);
            p.destroyForcibly();
        }
    }
}
