package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A spec's network namespace (linux.namespaces' network path), root only (the namespaces are root's):
 * a veth namespace as Docker's bridge gives one goes through the sandbox's network stack, and the
 * host's own namespace is never taken over.
 */
class NetworkNsIT extends RuncFixture {
    @Test
    void containerNetworkGoesThroughTheSandboxStack() throws Exception {
        // what Docker's bridge gives a container: a network namespace with a veth whose peer is on the host.
        // runsc 2022-12 refuses its sandbox network at start on this kernel; gvshim must make it work.
        String ns = "gvshim-it-" + ProcessHandle.current().pid();
        String veth = "gvit" + (ProcessHandle.current().pid() % 100000);
        try (java.net.ServerSocket server = new java.net.ServerSocket()) {
            for (String[] c : List.of(new String[] {"ip", "netns", "add", ns},
                    new String[] {"ip", "link", "add", veth, "type", "veth", "peer", "name", veth + "c"},
                    new String[] {"ip", "link", "set", veth + "c", "netns", ns},
                    new String[] {"ip", "addr", "add", "10.123.0.1/24", "dev", veth},
                    new String[] {"ip", "link", "set", veth, "up"},
                    new String[] {"ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"},
                    new String[] {"ip", "netns", "exec", ns, "ip", "addr", "add", "10.123.0.5/24", "dev", veth + "c"},
                    new String[] {"ip", "netns", "exec", ns, "ip", "link", "set", veth + "c", "up"})) {
                Host.Result r = Host.sh(c);
                assertThat(r.code()).as(String.join(" ", c) + ": " + r).isZero();
            }
            server.bind(new java.net.InetSocketAddress("10.123.0.1", 0));
            Thread answer = Thread.ofVirtual().start(() -> {
                try (java.net.Socket s = server.accept()) {
                    s.getOutputStream().write("hello over the sandbox network\n".getBytes());
                } catch (IOException e) {
                    // the assertion below reports it
                }
            });
            Path b = bundle("net", "/bin/sh", "-c", "ip addr | grep -o 10.123.0.5/24; nc 10.123.0.1 " + server.getLocalPort()
                    + " </dev/null");
            ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
            for (JsonNode n : spec.path("linux").path("namespaces")) {
                if (n.path("type").asText().equals("network")) {
                    ((ObjectNode) n).put("path", "/var/run/netns/" + ns);
                }
            }
            Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
            Host.Result c = create(b, "net");
            assertThat(c.code()).as(c.toString()).isZero();
            Host.Result s = gv(b, "start", "net");
            assertThat(s.code()).as(s + "\n" + read(log)).isZero();
            assertThat(awaitStatus("net", "stopped")).isEqualTo("stopped");
            answer.join(Duration.ofSeconds(10));
            assertThat(read(b.resolve("out"))).isEqualTo("10.123.0.5/24\nhello over the sandbox network\n");
            assertThat(gv(b, "delete", "net").code()).isZero();
        } finally {
            Host.sh("ip", "netns", "del", ns);
            Host.sh("ip", "link", "del", veth);
        }
    }

    @Test
    void hostNetworkNamespaceIsNeverTakenOver() throws Exception {
        // a spec that joins this host's own network namespace (docker --network=host does, via
        // /var/run/docker/netns/default): the sandbox network would strip the host's interfaces
        String ns = "gvshim-it-host-" + ProcessHandle.current().pid();
        Host.Result attach = Host.sh("ip", "netns", "attach", ns, Long.toString(ProcessHandle.current().pid()));
        assertThat(attach.code()).as(attach.toString()).isZero();
        try {
            hostNetwork(ns);
        } finally {
            Host.sh("ip", "netns", "del", ns);
        }
    }

    private void hostNetwork(String ns) throws Exception {
        Path b = bundle("hostnet", "/bin/true");
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        for (JsonNode n : spec.path("linux").path("namespaces")) {
            if (n.path("type").asText().equals("network")) {
                ((ObjectNode) n).put("path", "/var/run/netns/" + ns);
            }
        }
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        Host.Result c = Host.run(List.of(host.gvshim.toString(), "--root", root.toString(), "--log", log.toString(),
                "--log-format", "json", "--network", "sandbox", "create", "--bundle", b.toString(), "hostnet"), null, T, b);
        assertThat(c.code()).as(c.toString()).isEqualTo(1);
        assertThat(lastError()).contains("sandbox network").contains("--network=host");
        assertThat(rootEntries()).isEmpty();
        String addrs = Host.sh("ip", "-4", "addr").out();
        // and by default gvshim picks gVisor's hostinet for such a container, as runc would share the network
        Host.Result d = create(b, "hostnet");
        assertThat(d.code()).as(d + read(log)).isZero();
        assertThat(gv(b, "start", "hostnet").code()).isZero();
        assertThat(awaitStatus("hostnet", "stopped")).isEqualTo("stopped");
        assertThat(gv(b, "delete", "hostnet").code()).isZero();
        assertThat(Host.sh("ip", "-4", "addr").out()).as("the host's addresses").isEqualTo(addrs);
    }
}
