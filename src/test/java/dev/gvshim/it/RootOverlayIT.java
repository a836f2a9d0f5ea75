package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * gvshim run's root file system: writable by default behind gVisor's overlay in memory
 * (--overlay2=root:memory, with Debian 12's runsc as with Debian 13's), never the host's files,
 * and thrown away with the sandbox; --read-only turns the overlay off. As root (whose sandbox
 * root owns the host's system directories) and as the test user on a root file system of its own.
 */
class RootOverlayIT {
    private static final Duration T = Duration.ofSeconds(60);
    private static final String NAME = "gvshim-it-overlay";
    private static final List<Path> HOST_PATHS = List.of(Path.of("/etc", NAME), Path.of("/usr", NAME));
    private Host host;

    @BeforeEach
    void host() {
        host = Host.get();
    }

    @AfterEach
    void hostUnchanged() {
        // a failure must not leave the host written: remove, then fail (in the test) if it was there
        HOST_PATHS.forEach(p -> Host.sh("rm", "-rf", p.toString()));
    }

    private Host.Result asRoot(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(host.gvshim.toString()));
        cmd.addAll(List.of(args));
        return Host.run(cmd, null, T, host.work);
    }

    @Test
    void rootWritesToEtcAndUsrStayInTheSandboxAndAreGoneAfterTheRun() {
        Host.Result r = asRoot("run", "--verbose", "--", "/bin/sh", "-c", "echo x > /etc/" + NAME + " && mkdir /usr/" + NAME
                + " && echo y > /usr/" + NAME + "/f && cat /etc/" + NAME + " /usr/" + NAME + "/f");
        assertThat(HOST_PATHS).as("the host's files are never written\n" + r).allSatisfy(p -> assertThat(p).doesNotExist());
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("x\ny\n");
        assertThat(r.err()).contains("gvshim: root: /, writable through an overlay in memory: the host's files are never"
                + " written, the writes are gone after the run (--read-only: none)")
                .contains("gvshim passes --overlay2=root:memory");
        Host.Result next = asRoot("run", "--", "/bin/sh", "-c", "cat /etc/" + NAME + " 2>/dev/null || echo gone");
        assertThat(next.out()).as("the next run starts from the host's files: " + next).isEqualTo("gone\n");
    }

    @Test
    void readOnlyTurnsTheOverlayOff() {
        Host.Result r = asRoot("run", "--read-only", "--verbose", "--", "/bin/sh", "-c", "echo x > /etc/" + NAME
                + "; echo t > /tmp/t && echo tmp-writable");
        assertThat(HOST_PATHS.getFirst()).doesNotExist();
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("tmp-writable\n");
        assertThat(r.err()).contains("Read-only file system").contains("gvshim: root: /, read-only (--read-only)")
                .doesNotContain("root:memory");
    }

    @Test
    void theTestUsersOwnRootFileSystemIsWritableAndUnchanged() throws Exception {
        // the hello bundle's busybox root, the test user's: its sandbox root owns it, so it may write anywhere in it
        Path rootfs = host.work.resolve("hello/rootfs");
        Path etc = rootfs.resolve("etc");
        Host.Result r = host.gvshim(null, T, "run", "--rootfs", rootfs.toString(), "--", "/bin/sh", "-c",
                "mkdir -p /etc && echo x > /etc/" + NAME + " && echo z > /" + NAME + " && cat /etc/" + NAME + " /" + NAME);
        assertThat(etc.resolve(NAME)).doesNotExist();
        assertThat(rootfs.resolve(NAME)).doesNotExist();
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("x\nz\n");
        // the host's own system directories stay out of reach of a non-root caller's sandbox: owned by
        // an id outside its user namespace (nobody inside), writable by no one there
        Host.Result sys = host.gvshim(null, T, "run", "--", "/bin/sh", "-c", "echo x > /etc/" + NAME + " || echo denied");
        assertThat(Path.of("/etc", NAME)).doesNotExist();
        assertThat(sys.out()).as(sys.toString()).isEqualTo("denied\n");
        assertThat(Files.isDirectory(rootfs.resolve("bin"))).isTrue();
    }
}
