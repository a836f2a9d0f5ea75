package dev.gvshim.diagnose;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.container.RunRequest;
import dev.gvshim.container.RunSpec;
import dev.gvshim.failure.Failure;
import dev.gvshim.linux.Errno;
import dev.gvshim.oci.Spec;
import dev.gvshim.runsc.RunscCommand;
import dev.gvshim.runsc.RunscConfig;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --network sandbox: run's and doctor's checks, and what run gives runsc and gvshim-nsexec (no host effects). */
class SandboxNetworkTest {
    @TempDir
    Path root;

    private long me() throws Exception {
        return ((Number) Files.getAttribute(root, "unix:uid")).longValue();
    }

    private void file(String rel, String mode) throws Exception {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, "");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    }

    @Test
    void worksWithSlirp4netnsAndAnOpenableTun() throws Exception {
        file("usr/bin/slirp4netns", "rwxr-xr-x");
        file("dev/net/tun", "rw-rw-rw-");
        assertThat(SandboxNetwork.problem(root, "/nowhere", false, null, null, 1001, 1001)).isNull();
        assertThat(SandboxNetwork.slirp4netns(root, null)).as("found outside $PATH too").isEqualTo(Path.of("/usr/bin/slirp4netns"));
        file("opt/x/slirp4netns", "rwxr-xr-x");
        assertThat(SandboxNetwork.slirp4netns(root, "/opt/x:/usr/bin")).as("$PATH first").isEqualTo(Path.of("/opt/x/slirp4netns"));
        Finding f = SandboxNetwork.finding(null);
        assertThat(f.status()).isEqualTo(Finding.Status.OK);
        assertThat(f.summary()).contains("none (default), sandbox", "host");
    }

    @Test
    void singleModeIsRefusedWithWhyAndTheFixForFull() throws Exception {
        file("usr/bin/slirp4netns", "rwxr-xr-x");
        file("dev/net/tun", "rw-rw-rw-");
        Failure f = SandboxNetwork.problem(root, null, true, "no subordinate ids", "add a line to /etc/subuid", 1001, 1001);
        assertThat(f.id()).isEqualTo("NETWORK_SANDBOX_NEEDS_FULL");
        assertThat(f.why()).contains("--rootless", "single", "no subordinate ids");
        assertThat(f.fix()).contains("/etc/subuid", "--network none or host");
        Finding d = SandboxNetwork.finding(f);
        assertThat(d.status()).isEqualTo(Finding.Status.WARN);
        assertThat(d.summary()).startsWith("network modes that work: none (default), host; not sandbox");
        assertThat(d.fix()).isEqualTo(f.fix());
    }

    @Test
    void missingSlirp4netnsNamesItsPackage() throws Exception {
        file("dev/net/tun", "rw-rw-rw-");
        Failure f = SandboxNetwork.problem(root, "/usr/bin", false, null, null, 1001, 1001);
        assertThat(f.id()).isEqualTo("NETWORK_SANDBOX_NO_SLIRP4NETNS");
        assertThat(f.fix()).contains("apt-get install slirp4netns");
        assertThat(f.oneLine()).endsWith("[NETWORK_SANDBOX_NO_SLIRP4NETNS]").doesNotContain("\n");
    }

    @Test
    void aTunTheUserCannotOpenSaysModeOwnerAndFix() throws Exception {
        file("usr/bin/slirp4netns", "rwxr-xr-x");
        file("dev/net/tun", "rw-------");
        long me = me();
        Failure other = SandboxNetwork.problem(root, null, false, null, null, me + 1, me + 1);
        assertThat(other.id()).isEqualTo("NETWORK_SANDBOX_NO_TUN");
        assertThat(other.evidence()).contains("mode 0600").contains("you are " + (me + 1));
        assertThat(other.fix()).contains("chmod 0666 /dev/net/tun");
        assertThat(SandboxNetwork.problem(root, null, false, null, null, me, -1)).as("the owner may").isNull();
        Files.delete(root.resolve("dev/net/tun"));
        assertThat(SandboxNetwork.problem(root, null, false, null, null, me, me).fix()).contains("modprobe tun");
    }

    @Test
    void nsexecsNetworkStepsAreExplained() {
        assertThat(SandboxNetwork.helperFailed("slirp4netns: ready", Errno.ENOENT, "x").why()).contains("could not be started");
        assertThat(SandboxNetwork.helperFailed("slirp4netns: ready", Errno.ECHILD, "x").why()).contains("exited before");
        assertThat(SandboxNetwork.helperFailed("slirp4netns: ready", Errno.ETIMEDOUT, "x").why()).contains("10 s");
        Failure f = new Explain((Facts) null).nsexec("gvshim-nsexec: slirp4netns: ready: errno 10: No child processes");
        assertThat(f.id()).isEqualTo("NETWORK_SANDBOX_HELPER");
        assertThat(f.fix()).contains("slirp4netns.log");
    }

    @Test
    void runscGetsItsOwnNamespaceWithSlirp4netnsAndTheSpecJoinsIt() {
        RunscConfig cfg = new RunscConfig(Path.of("/r/runsc"), Path.of("/r/runsc.log"), null, Network.SANDBOX, null, false, false);
        List<String> argv = RunscCommand.forRun(Path.of("/g/gvshim-nsexec"), Path.of("/usr/bin/runsc"), cfg, Path.of("/r/nodev"),
                Path.of("/r/runsc.log"), Path.of("/r"), null, "gv1", Path.of("/usr/bin/slirp4netns"), Path.of("/r/slirp4netns.log"));
        int dashes = argv.indexOf("--");
        assertThat(argv.subList(0, dashes)).containsSequence("--hide-proc-net", "--slirp4netns", "/usr/bin/slirp4netns",
                "--net-log", "/r/slirp4netns.log");
        assertThat(argv.subList(dashes, argv.size())).contains("--network=sandbox");
        List<String> none = RunscCommand.forRun(Path.of("/g/gvshim-nsexec"), Path.of("/usr/bin/runsc"), cfg, Path.of("/r/nodev"),
                Path.of("/r/runsc.log"), Path.of("/r"), null, "gv1", null, null);
        assertThat(none).doesNotContain("--slirp4netns", "--hide-proc-net");

        Spec sandbox = RunSpec.generate(request(Network.SANDBOX), context());
        assertThat(sandbox.linux().namespacePath("network")).as("runsc's own, where tap0 is").isEqualTo("/proc/self/ns/net");
        Spec off = RunSpec.generate(request(Network.NONE), context());
        assertThat(off.linux().namespaces()).contains("network");
        assertThat(off.linux().namespacePath("network")).as("none: a new empty one").isNull();
    }

    private static RunRequest request(Network n) {
        return new RunRequest(List.of("/bin/true"), null, Path.of("/"), List.of(), List.of(), null, List.of(), false, n, null, 2,
                null, null, null, Mode.AUTO, RunRequest.Tty.NEVER, null, null, null, false, false, false, true);
    }

    private static RunSpec.Context context() {
        return new RunSpec.Context(Map.of("PATH", "/usr/bin"), Path.of("/home/u"), Path.of("/run/user/1000/gvshim"),
                "/opt/gvshim/libexec/gvshim-hook", List.of("gvshim-hook"), 1024, 4096);
    }
}
