package dev.gvshim.runtime;

import static org.assertj.core.api.Assertions.assertThat;

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

/** The sandbox network when nobody chose one: none, with a warning when the container expected networking. */
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

    @Test
    void anExplicitChoiceIsKept() throws Exception {
        RuntimeConfig c = RuntimeConfig.defaults().withNetwork("sandbox", "");
        Spec spec = Specs.example(List.of("sh"), "h").addHook("prestart", "/usr/bin/docker-proxy", List.of());
        assertThat(Networks.choose(c, spec, false, log())).isSameAs(c);
        assertThat(logged()).isEmpty();
    }

    @Test
    void noneByDefaultQuietlyForAPlainContainer() throws Exception {
        RuntimeConfig c = Networks.choose(RuntimeConfig.defaults(), Specs.example(List.of("sh"), "h"), false, log());
        assertThat(c.network()).isEqualTo(Network.NONE);
        assertThat(c.networkExplicit()).isTrue();
        assertThat(logged()).isEmpty();
    }

    @Test
    void aNetworkingHookMeansTheContainerExpectedANetwork() throws Exception {
        for (String kind : List.of("prestart", "createRuntime")) {
            Spec spec = Specs.example(List.of("sh"), "h").addHook(kind, "/usr/bin/dockerd", List.of("libnetwork-setkey"));
            assertThat(Networks.choose(RuntimeConfig.defaults(), spec, true, log()).network()).isEqualTo(Network.NONE);
        }
        assertThat(logged().lines()).hasSize(2).allSatisfy(l -> assertThat(l).contains("\"level\":\"warning\"")
                .contains("network none: the container has loopback only").contains("/etc/gvshim/config.json"));
    }
}
