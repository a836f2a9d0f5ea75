package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.Specs;
import dev.gvshim.runsc.RunscConfig.Network;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sandbox network when nobody chose one: sandbox with a namespace of its own, host without, none rootless. */
class NetworksTest {
    @TempDir
    Path tmp;

    RuntimeLog log() {
        return new RuntimeLog(tmp.resolve("log.json"), "json", false,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }

    String logged() throws Exception {
        Path f = tmp.resolve("log.json");
        return Files.exists(f) ? Files.readString(f) : "";
    }

    /** A spec that joins the network namespace at /proc/self/ns/net, as docker --network=host joins the host's. */
    static Spec joiningThisNetworkNamespace() {
        Spec spec = Specs.example(List.of("sh"), "h");
        spec.linux().addNamespace("network");
        for (var n : spec.json().withArray("/linux/namespaces")) {
            if (n.path("type").asText().equals("network")) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) n).put("path", "/proc/self/ns/net");
            }
        }
        return spec;
    }

    @Test
    void anExplicitChoiceIsKept() throws Exception {
        RuntimeConfig c = RuntimeConfig.defaults().withNetwork("sandbox", "");
        Spec spec = Specs.example(List.of("sh"), "h").addHook("prestart", "/usr/bin/docker-proxy", List.of());
        assertThat(Networks.choose(c, spec, false, log())).isSameAs(c);
        assertThat(logged()).isEmpty();
    }

    @Test
    void sandboxByDefaultForAContainerWithItsOwnNetworkNamespace() throws Exception {
        Spec spec = Specs.example(List.of("sh"), "h"); // a new, unnamed network namespace
        RuntimeConfig c = Networks.choose(RuntimeConfig.defaults(), spec, false, log());
        assertThat(c.network()).isEqualTo(Network.SANDBOX);
        assertThat(c.networkExplicit()).isTrue();
        assertThat(logged()).isEmpty();
    }

    @Test
    void hostWithAWarningWhenTheContainerJoinsThisProcesssNetworkNamespace() throws Exception {
        // docker --network=host: the spec names /var/run/docker/netns/default, which is the host's namespace
        Spec spec = joiningThisNetworkNamespace();
        assertThat(Networks.choose(RuntimeConfig.defaults(), spec, false, log()).network()).isEqualTo(Network.HOST);
        assertThat(logged()).contains("\"level\":\"warning\"").contains("network host");
    }

    @Test
    void noneForARootlessContainer() throws Exception {
        assertThat(Networks.choose(RuntimeConfig.defaults(), Specs.example(List.of("sh"), "h"), true, log()).network())
                .isEqualTo(Network.NONE);
    }

    @Test
    void anExplicitSandboxNetworkWithoutANamespaceOfItsOwnIsRefused() throws Exception {
        RuntimeConfig c = RuntimeConfig.defaults().withNetwork("sandbox", "");
        Spec spec = joiningThisNetworkNamespace();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Networks.choose(c, spec, false, log()))
                .isInstanceOf(GvshimException.class).hasMessageContaining("--network=host");
    }

    @Test
    void theProcNetWorkaroundOnlyAppliesToTheSandboxNetwork() {
        assertThat(Networks.hidesProcNet(List.of("--rootless"))).isTrue();
        assertThat(Networks.hidesProcNet(List.of("--network=sandbox"))).isTrue();
        assertThat(Networks.hidesProcNet(List.of("--network=none"))).isFalse();
        assertThat(Networks.hidesProcNet(List.of("--network=host"))).isFalse();
    }
}
