package dev.gvshim.oci;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.failure.Versions;
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
        assertThat(ours.ociVersion()).isEqualTo(Versions.SPEC);
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

    /** A spec as Docker writes it: joins its own network namespace, asks for cgroup limits, a relative rootfs. */
    static Spec dockerLike() {
        Spec s = Specs.example(List.of("sh"), "x");
        s.linux().removeNamespace("network");
        s.linux().json().withArray("namespaces").addObject().put("type", "network").put("path", "/var/run/docker/netns/abc");
        s.linux().addNamespace("user").mappings("uidMappings", 0, 100000, 65536).mappings("gidMappings", 0, 100000, 65536);
        s.linux().json().put("cgroupsPath", "/docker/abc");
        s.linux().json().withObject("resources").put("pidsLimit", 100);
        return s;
    }

    @Test
    void toRootlessInUsernsLeavesTheNamespaceToTheHolder() {
        Spec s = Specs.toRootlessInUserns(dockerLike(), java.nio.file.Path.of("/bundles/c1"));
        LinuxSection l = s.linux();
        assertThat(l.namespaces()).as("runsc is uid 0 of the holder's namespace and maps nothing itself")
                .doesNotContain("user").containsOnlyOnce("network").contains("pid", "ipc", "uts", "mount");
        assertThat(l.has("uidMappings")).isFalse();
        assertThat(l.has("gidMappings")).isFalse();
        assertThat(l.namespacePath("network")).as("Docker's namespace is not ours to join").isNull();
        assertThat(l.has("cgroupsPath")).isFalse();
        assertThat(l.has("resources")).isFalse();
        assertThat(s.root().path()).isEqualTo("/bundles/c1/rootfs");
        assertThat(s.root().readonly()).isTrue();
    }

    @Test
    void toRootlessInUsernsKeepsGvisorsOwnSysfs() {
        Spec s = Specs.toRootlessInUserns(dockerLike(), java.nio.file.Path.of("/b"));
        Mount sys = s.mounts().stream().filter(m -> "/sys".equals(m.destination())).findFirst().orElseThrow();
        assertThat(sys.type()).isEqualTo("sysfs");
        assertThat(sys.source()).isEqualTo("sysfs");
        assertThat(s.mounts()).allSatisfy(m -> assertThat(m.options()).noneMatch(o -> o.startsWith("uid=") || o.startsWith("gid=")));
    }

    @Test
    void toRootlessInUsernsMakesRootPathAbsoluteAgainstTheBundle() {
        Spec rel = Specs.example(List.of("sh"), "x");
        rel.root().path("./images/../rootfs");
        assertThat(Specs.toRootlessInUserns(rel, java.nio.file.Path.of("/b/c")).root().path()).isEqualTo("/b/c/rootfs");
        Spec abs = Specs.example(List.of("sh"), "x");
        abs.root().path("/var/lib/docker/overlay2/abc/merged");
        assertThat(Specs.toRootlessInUserns(abs, java.nio.file.Path.of("/b/c")).root().path())
                .isEqualTo("/var/lib/docker/overlay2/abc/merged");
    }

    @Test
    void toRootlessInUsernsGivesAContainerWithoutANetworkNamespaceOne() {
        // Docker's --network host leaves the namespace out; inside the holder's user namespace the
        // sandbox still gets a namespace of its own (runsc --network decides what is in it)
        Spec s = Specs.example(List.of("sh"), "x");
        s.linux().removeNamespace("network");
        assertThat(Specs.toRootlessInUserns(s, java.nio.file.Path.of("/b")).linux().namespaces()).contains("network");
    }
}
