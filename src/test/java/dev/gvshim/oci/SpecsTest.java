package dev.gvshim.oci;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `gvshim spec` must write what `runc spec` writes (runc 1.1.5, captured in src/test/resources/specs). */
class SpecsTest {
    /** As JSON text says it (a built tree holds longs where a parsed one holds ints). */
    static JsonNode comparable(JsonNode n) throws Exception {
        ObjectNode o = (ObjectNode) JsonTreeTest.MAPPER.readTree(JsonTree.write(n));
        o.remove("ociVersion");
        o.remove("hostname");
        return o;
    }

    @Test
    void exampleIsRuncSpec() throws Exception {
        JsonNode runc = JsonTreeTest.MAPPER.readTree(JsonTreeTest.fixture("runc-spec.json"));
        Spec ours = Specs.example(List.of("sh"), "gvshim");
        assertThat(comparable(ours.json())).isEqualTo(comparable(runc));
        assertThat(ours.ociVersion()).isEqualTo(Specs.OCI_VERSION);
    }

    @Test
    void toRootlessIsRuncSpecRootless() throws Exception {
        // the fixture was written by root, so it maps 0 to 0
        JsonNode runc = JsonTreeTest.MAPPER.readTree(JsonTreeTest.fixture("runc-spec-rootless.json"));
        Spec ours = Specs.toRootless(Specs.example(List.of("sh"), "gvshim"), 0, 0);
        assertThat(comparable(ours.json())).isEqualTo(comparable(runc));
    }

    @Test
    void toRootlessMapsTheCaller() {
        Spec s = Specs.toRootless(Specs.example(List.of("sh"), "x"), 1001, 1002);
        assertThat(s.json().at("/linux/uidMappings/0/hostID").asLong()).isEqualTo(1001);
        assertThat(s.json().at("/linux/gidMappings/0/hostID").asLong()).isEqualTo(1002);
        assertThat(s.linux().namespaces()).contains("user").doesNotContain("network");
        assertThat(s.linux().has("resources")).isFalse();
    }
}
