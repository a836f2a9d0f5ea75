package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** oci-bundles/: each example bundle, its rootfs built by its recipe, run as the test user. */
class BundlesIT {
    static Host host;
    static Path bundles;

    @BeforeAll
    static void setUp() {
        host = Host.get();
        bundles = Path.of(System.getProperty("gvshim.bundles", "oci-bundles")).toAbsolutePath();
    }

    /** Copies the bundle into the test user's work directory and runs its recipe there. */
    static String prepare(String name, String recipe) {
        Path dest = host.work.resolve(name);
        if (!Files.isDirectory(dest)) {
            assertThat(Host.sh("cp", "-r", bundles.resolve(name).toString(), dest.toString()).code()).isZero();
            Host.Result r = Host.build(java.util.List.of(bundles.resolve(recipe).toString(), dest.toString()),
                    Duration.ofMinutes(10), null);
            assertThat(r.code()).as("%s", r).isZero();
            assertThat(Host.sh("chown", "-R", host.uid + ":" + host.gid, dest.toString()).code()).isZero();
        }
        return name;
    }

    @Test
    void readOnlyRootFileSystem() {
        Host.Result r = host.gvshim(null, Duration.ofMinutes(1), "run", "--bundle", prepare("readonly-rootfs", "build-rootfs.sh"));
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.out()).isEqualTo("read-only root file system: touch /probe was refused\n/tmp is writable: ok\n");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void networkNone() {
        Host.Result r = host.gvshim(null, Duration.ofMinutes(1), "run", "--bundle", prepare("network-none", "build-rootfs.sh"));
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.out()).isEqualTo("interfaces: lo \nno network: wget failed\n");
    }

    @Test
    void mountedWorkDirectory() throws IOException {
        String b = prepare("workdir", "build-rootfs.sh");
        Path work = host.work.resolve(b).resolve("work");
        Host.Result r = host.gvshim(null, Duration.ofMinutes(1), "run", "--bundle", b, "--mount", work + ":/work");
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.out()).startsWith("input.txt\n").endsWith("3\nwrote /work/sorted.txt\n");
        assertThat(Files.readString(work.resolve("sorted.txt"))).isEqualTo("apple\nfig\npear\n");
    }

    @Test
    void connectorSpec() {
        Host.Result r = host.gvshim(null, Duration.ofMinutes(1), "run", "--bundle", prepare("connector", "connector/build-rootfs.sh"));
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.out()).startsWith("{\"type\":\"SPEC\",\"spec\":{").endsWith("}}\n");
        assertThat(r.out().lines().count()).isOne();
    }
}
