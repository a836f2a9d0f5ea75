package dev.gvshim.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The local Docker daemon the Docker integration tests talk to. Started here when it is not
 * running (CI installs docker.io but starts nothing; a machine without systemd has no unit to
 * start it), left running afterwards, like a CI runner's. No registry is reachable: images are
 * built from local files ({@link #busyboxImage()}).
 */
final class Dockerd {
    static final String LOG = "/tmp/gvshim-dockerd.log";
    /** A busybox-static root file system imported as an image: small, built in a second. */
    static final String BUSYBOX_IMAGE = "gvshim-test/busybox:latest";
    private static boolean started;

    private Dockerd() {
    }

    /** Makes sure dockerd answers; skips the calling test class (with the reason) when it cannot. */
    static synchronized void ensure() {
        assumeTrue(Host.isRoot(), "Docker tests start dockerd and register runtimes: run them as root (CI does)");
        assumeTrue(Host.which("dockerd") != null && Host.which("docker") != null,
                "dockerd is not installed (apt-get install docker.io)");
        if (started || docker("version").code() == 0) {
            started = true;
            return;
        }
        try {
            new ProcessBuilder("dockerd").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of(LOG).toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (docker("version").code() != 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("dockerd did not answer within 60 s; see " + LOG);
            }
            sleep(250);
        }
        started = true;
    }

    /** Reloads daemon.json (dockerd re-reads `runtimes` on SIGHUP) and waits until it has. */
    static void reload() {
        Host.Result r = Host.sh("sh", "-c", "kill -HUP $(cat /var/run/docker.pid)");
        if (r.code() != 0) {
            throw new IllegalStateException("cannot signal dockerd: " + r);
        }
        sleep(500);
    }

    /** {@link #BUSYBOX_IMAGE}, imported once from oci-bundles/build-rootfs.sh's root file system. */
    static synchronized String busyboxImage() {
        ensure();
        if (docker("image", "inspect", BUSYBOX_IMAGE).code() == 0) {
            return BUSYBOX_IMAGE;
        }
        return importBusybox("docker");
    }

    /**
     * Imports {@link #BUSYBOX_IMAGE} into the daemon that {@code docker} (a command line: "docker",
     * or "docker -H unix:///SOCKET" for another daemon) talks to.
     */
    static String importBusybox(String docker) {
        try {
            Path dir = Files.createTempDirectory("gvshim-image-");
            Path bundles = Path.of(System.getProperty("gvshim.bundles", "oci-bundles"));
            check(Host.sh(bundles.resolve("build-rootfs.sh").toString(), dir.toString()));
            check(Host.sh("sh", "-c", "tar -C '" + dir.resolve("rootfs") + "' -c . | " + docker + " import - " + BUSYBOX_IMAGE));
            Host.sh("rm", "-rf", dir.toString());
            return BUSYBOX_IMAGE;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** `docker ARGS...` with a two-minute limit. */
    static Host.Result docker(String... args) {
        return docker(Duration.ofMinutes(2), args);
    }

    static Host.Result docker(Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>(List.of("docker"));
        cmd.addAll(Arrays.asList(args));
        return Host.run(cmd, null, timeout, null);
    }

    private static void check(Host.Result r) {
        if (r.code() != 0) {
            throw new IllegalStateException("docker setup failed: " + r);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
