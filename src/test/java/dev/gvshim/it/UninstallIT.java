package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * `gvshim uninstall` with the installed build: refused in one line without root, and, as root,
 * `install` then `uninstall` on the real containerd's default configuration gives back the file
 * byte for byte, which the real containerd still reads. daemon.json with the real dockerd:
 * {@link DockerRuntimeIT} (its clean-up is an uninstall).
 */
class UninstallIT {
    private static final Duration T = Duration.ofSeconds(60);
    static Host host;

    @BeforeAll
    static void prerequisites() {
        host = Host.get();
    }

    @Test
    void byAUserWithoutRootSaysRootIsNeededInOneLine() {
        Host.Result r = host.gvshim(null, T, "uninstall");
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("gvshim uninstall: writing /etc/docker/daemon.json needs root: run `gvshim uninstall`"
                + " as root (sudo), or add --dry-run to see what it would write [INSTALL_NEEDS_ROOT]\n");
        Host.Result dry = host.gvshim(null, T, "uninstall", "--dry-run", "--containerd");
        assertThat(dry.code()).as("--dry-run writes nothing, so it needs no root: " + dry).isZero();
    }

    @Test
    void installThenUninstallGivesContainerdItsConfigurationBackByteForByte() throws IOException {
        assumeTrue(Host.which("containerd") != null, "containerd is not installed (apt-get install containerd)");
        Path dir = Files.createTempDirectory(host.work, "uninstall-");
        Path config = dir.resolve("config.toml");
        Host.Result dflt = Host.sh("containerd", "config", "default");
        assertThat(dflt.code()).as(dflt.toString()).isZero();
        Files.writeString(config, dflt.out());
        byte[] before = Files.readAllBytes(config);

        Host.Result in = Host.sh(host.gvshim.toString(), "install", "--containerd-config", config.toString());
        assertThat(in.code()).as(in.toString()).isZero();
        assertThat(dump(config)).contains("BinaryName = \"" + host.gvshim + "\"");

        Host.Result out = Host.sh(host.gvshim.toString(), "uninstall", "--containerd-config", config.toString());
        assertThat(out.code()).as(out.toString()).isZero();
        assertThat(out.out()).startsWith("gvshim uninstall: restored " + config + " from " + config + ".gvshim-backup-");
        assertThat(Files.readAllBytes(config)).isEqualTo(before);
        assertThat(dump(config)).doesNotContain(host.gvshim.toString());
    }

    /** What the real containerd reads from the file. */
    private static String dump(Path config) {
        Host.Result r = Host.sh("containerd", "--config", config.toString(), "config", "dump");
        assertThat(r.code()).as(r.toString()).isZero();
        return r.out();
    }
}
