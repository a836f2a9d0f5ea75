package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.oci.JsonTree;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * `gvshim run --network sandbox` (gVisor's netstack over slirp4netns) as root and as the test
 * user, offline: the sandbox reaches a TCP listener on this host's non-loopback address, never
 * one on the host's 127.0.0.1 (slirp's 10.0.2.2 with --disable-host-loopback), and slirp4netns
 * is gone after the run and after a SIGKILL of gvshim. /dev/net/tun is made 0666 (udev's
 * default, which a minimal /dev may lack) for the tests that need it and restored afterwards.
 */
class NetworkIT {
    private static final Duration T = Duration.ofSeconds(60);
    private static final Path TUN = Path.of("/dev/net/tun");
    private static ServerSocket outside;
    private static ServerSocket loopback;
    private static Set<PosixFilePermission> tunMode;
    private Host host;

    @BeforeAll
    static void listeners() throws Exception {
        InetAddress addr = null;
        for (NetworkInterface i : NetworkInterface.networkInterfaces().toList()) {
            if (i.isUp() && !i.isLoopback()) {
                addr = i.inetAddresses().filter(a -> a instanceof Inet4Address).findFirst().orElse(addr);
            }
        }
        assumeTrue(addr != null, "no non-loopback IPv4 address on this host for the sandbox to reach");
        outside = serve(addr, "token-outside");
        loopback = serve(InetAddress.getLoopbackAddress(), "token-loopback");
        tunMode = Files.exists(TUN) ? Files.getPosixFilePermissions(TUN) : null;
    }

    private static ServerSocket serve(InetAddress addr, String token) throws Exception {
        ServerSocket s = new ServerSocket(0, 50, addr);
        Thread.ofVirtual().start(() -> {
            while (!s.isClosed()) {
                try (Socket c = s.accept(); OutputStream o = c.getOutputStream()) {
                    o.write((token + "\n").getBytes(StandardCharsets.UTF_8));
                } catch (Exception e) {
                    return; // closed
                }
            }
        });
        return s;
    }

    @AfterAll
    static void close() throws Exception {
        if (outside != null) {
            outside.close();
            loopback.close();
        }
        if (tunMode != null) {
            Files.setPosixFilePermissions(TUN, tunMode);
        }
    }

    @BeforeEach
    void host() {
        host = Host.get();
        assumeTrue(Host.which("slirp4netns") != null, "slirp4netns is not installed (apt-get install slirp4netns)");
        assumeTrue(tunMode != null, "no /dev/net/tun (modprobe tun)");
    }

    @AfterEach
    void nothingLeft() throws Exception {
        for (int i = 0; i < 50 && !host.processes().isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertThat(host.processes()).as("processes of the test user after the run").isEmpty();
        assertThat(host.leftovers()).as("run directories left in " + host.stateDir()).isEmpty();
        assertThat(Host.sh("pgrep", "-x", "slirp4netns").out()).as("no slirp4netns left").isEmpty();
    }

    private static void tun(String mode) throws Exception {
        Files.setPosixFilePermissions(TUN, PosixFilePermissions.fromString(mode));
    }

    private static String probe() {
        return "busybox nc -w 5 " + outside.getInetAddress().getHostAddress() + " " + outside.getLocalPort()
                + " </dev/null; echo outside=$?; busybox nc -w 3 10.0.2.2 " + loopback.getLocalPort()
                + " </dev/null; echo hostloop=$?; busybox nc -w 3 127.0.0.1 " + loopback.getLocalPort() + " </dev/null; echo ownloop=$?";
    }

    private static void reachesOutsideOnly(Host.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).as(r.toString()).contains("token-outside\noutside=0\n").doesNotContain("token-loopback")
                .doesNotContain("hostloop=0").doesNotContain("ownloop=0");
        assertThat(r.err()).as("stderr silent but for nc's own failures").doesNotContain("gvshim");
    }

    @Test
    void theSandboxReachesTheHostsAddressButNotItsLoopbackAsTheUserAndAsRoot() throws Exception {
        tun("rw-rw-rw-");
        reachesOutsideOnly(host.gvshim(null, T, "run", "--network", "sandbox", "--", "/bin/sh", "-c", probe()));
        reachesOutsideOnly(Host.run(List.of(host.gvshim.toString(), "run", "--network", "sandbox", "--", "/bin/sh", "-c",
                probe()), null, T, host.work));
        // none stays the default: loopback only
        Host.Result none = host.gvshim(null, T, "run", "--", "/bin/sh", "-c", probe());
        assertThat(none.out()).doesNotContain("token-outside").doesNotContain("outside=0");
    }

    @Test
    void slirp4netnsDiesWithTheRunAndWithAKilledGvshim() throws Exception {
        tun("rw-rw-rw-");
        Process p = new ProcessBuilder(host.asUser(List.of(host.gvshim.toString(), "run", "--network", "sandbox", "--",
                "/bin/sh", "-c", "echo ready; sleep 120"))).directory(host.work.toFile()).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("ready");
            List<String> helpers = Host.sh("pgrep", "-a", "-u", Integer.toString(host.uid), "-x", "slirp4netns").out().lines().toList();
            assertThat(helpers).as("the sandbox's user-mode network runs as the user").hasSize(1);
            assertThat(helpers.getFirst()).contains("--disable-host-loopback");
            p.toHandle().destroyForcibly(); // SIGKILL to gvshim (the waiter, same pid)
            p.waitFor();
        }
        for (int i = 0; i < 50 && !Host.sh("pgrep", "-x", "slirp4netns").out().isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertThat(Host.sh("pgrep", "-x", "slirp4netns").out()).as("slirp4netns after SIGKILL of gvshim").isEmpty();
        // the killed run's directory is the next run's to collect (its owner is dead: RunDir.collectGarbage)
        assertThat(host.gvshim(null, T, "run", "--", "/bin/true").code()).isZero();
    }

    @Test
    void refusalsAreOneLineWithTheirCause() throws Exception {
        tun("rw-------");
        oneLine(host.gvshim(null, T, "run", "--network", "sandbox", "--", "/bin/true"), "NETWORK_SANDBOX_NO_TUN", "chmod 0666");
        tun("rw-rw-rw-");
        oneLine(host.gvshim(null, T, "run", "--userns", "single", "--network", "sandbox", "--", "/bin/true"),
                "NETWORK_SANDBOX_NEEDS_FULL", "drop --userns single");
        oneLine(host.gvshim(null, T, "run", "-d", "--network", "sandbox", "--", "/bin/true"), "NETWORK_SANDBOX_DETACHED",
                "without -d");
    }

    private static void oneLine(Host.Result r, String id, String fix) {
        assertThat(r.code()).as(r.toString()).isEqualTo(125);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().strip()).as(r.toString()).startsWith("gvshim: ").contains(fix).endsWith("[" + id + "]");
        assertThat(r.err().lines().count()).as("one line").isEqualTo(1);
    }

    @Test
    void doctorSaysWhichNetworkModesWork() throws Exception {
        tun("rw-rw-rw-");
        JsonNode ok = network(host.gvshim(null, T, "doctor", "--json"));
        assertThat(ok.path("id").asText()).isEqualTo("NETWORK_MODES");
        assertThat(ok.path("status").asText()).isEqualTo("ok");
        assertThat(ok.path("summary").asText()).contains("none (default), sandbox", "host");
        tun("rw-------");
        JsonNode no = network(host.gvshim(null, T, "doctor", "--json"));
        assertThat(no.path("id").asText()).isEqualTo("NETWORK_SANDBOX_NO_TUN");
        assertThat(no.path("status").asText()).isEqualTo("warn");
        assertThat(no.path("fix").asText()).contains("chmod 0666 /dev/net/tun");
        Host.Result text = host.gvshim(null, T, "doctor");
        assertThat(text.out()).contains("\nnetwork\n").contains("NETWORK_SANDBOX_NO_TUN");
    }

    private static JsonNode network(Host.Result r) throws Exception {
        assertThat(r.code()).as(r.toString()).isZero();
        List<JsonNode> in = new ArrayList<>();
        JsonTree.read(r.out().getBytes(StandardCharsets.UTF_8)).path("findings").forEach(f -> {
            if (f.path("group").asText().equals("network")) {
                in.add(f);
            }
        });
        assertThat(in).as("one network line").hasSize(1);
        return in.getFirst();
    }
}
