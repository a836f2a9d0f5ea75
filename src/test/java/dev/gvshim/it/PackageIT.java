package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The package test (issue 21): target/gvshim_*.deb, built by this `mvn package`, installed with
 * apt-get in a fresh container of each Debian release, then `gvshim run -- /bin/echo ok` and `gvshim
 * doctor` as a new non-root user, then purged with nothing left behind. The work is
 * .ci/package-test.sh's (it says why the container is privileged); this class runs it once, in the
 * pass with the server off: inside the container no server is involved either way.
 */
class PackageIT {
    static Path repo;
    static Path deb;

    @BeforeAll
    static void prerequisites() throws IOException {
        assumeTrue(Host.serverMode() == null,
                "the package test runs once, in the pass with bin/gvshim's default mode (it tests the package, not the mode)");
        Dockerd.ensure();
        repo = Path.of(System.getProperty("gvshim.basedir", ".")).toAbsolutePath();
        try (Stream<Path> s = Files.list(repo.resolve("target"))) {
            deb = s.filter(p -> p.getFileName().toString().matches("gvshim_.*_amd64\\.deb")).findFirst().orElse(null);
        }
        assertThat(deb).as("mvn package makes target/gvshim_VERSION_amd64.deb").isNotNull();
    }

    @ParameterizedTest(name = "Debian {0}")
    @ValueSource(strings = {"bookworm", "trixie"})
    void installsRunsAndPurgesCleanly(String release) {
        Host.Result r = Host.build(List.of(repo.resolve(".ci/package-test.sh").toString(), release, deb.toString()),
                Duration.ofMinutes(10), repo);
        assumeTrue(r.code() != 3, () -> "cannot run here: " + r.err().strip());
        assertThat(r.out()).as(r.toString()).containsPattern("installed: gvshim [^,]+, \\d+ KiB\nrunsc: 0\\.0~")
                .contains("purged: nothing left");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).as(r.toString()).contains("\nok\n").contains("package test: ok");
    }
}
