package dev.gvshim.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.failure.GvshimException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpecTest {
    @ParameterizedTest
    @ValueSource(strings = {"runc-spec.json", "runc-spec-rootless.json", "crun-spec.json", "runsc-spec.json", "docker-config.json"})
    void roundTripsLosslessly(String name) throws Exception {
        byte[] json = JsonTreeTest.fixture(name);
        Spec s = Spec.parse(json);
        JsonNode original = JsonTreeTest.MAPPER.readTree(json);
        assertThat(JsonTreeTest.MAPPER.readTree(s.toJson())).isEqualTo(original);
        assertThat(s.problems()).isEmpty();
    }

    @Test
    void editsLeaveEverythingElseAsItWas() throws Exception {
        Spec s = Spec.parse(JsonTreeTest.fixture("docker-config.json"));
        JsonNode before = s.json().deepCopy();
        s.process().args(List.of("/bin/echo", "hi")).setEnv("FOO", "1").setEnv("HOSTNAME", "x");
        s.addMount(Mount.bind("/src", "/dst", true));
        assertThat(s.process().args()).containsExactly("/bin/echo", "hi");
        assertThat(s.process().env()).contains("FOO=1", "HOSTNAME=x").doesNotContain("HOSTNAME=8844efdb6277");
        assertThat(s.mounts()).last().satisfies(m -> {
            assertThat(m.destination()).isEqualTo("/dst");
            assertThat(m.options()).containsExactly("rbind", "ro");
        });
        // unknown to the model, untouched: Docker's seccomp profile, hooks, sysctls, resources
        for (String field : List.of("seccomp", "sysctl", "resources", "maskedPaths", "cgroupsPath")) {
            assertThat(s.json().get("linux").get(field)).as(field).isEqualTo(before.get("linux").get(field));
        }
        assertThat(s.json().get("hooks")).isEqualTo(before.get("hooks"));
        assertThat(s.hookPaths("prestart")).hasSize(1).first().asString().endsWith("/exe");
    }

    @Test
    void typedAccessorsReadWhatIsThere() throws Exception {
        Spec s = Spec.parse(JsonTreeTest.fixture("runc-spec-rootless.json"));
        assertThat(s.ociVersion()).isEqualTo("1.0.2-dev");
        assertThat(s.root().path()).isEqualTo("rootfs");
        assertThat(s.root().readonly()).isTrue();
        assertThat(s.process().terminal()).isTrue();
        assertThat(s.linux().namespaces()).containsExactly("pid", "ipc", "uts", "mount", "user");
        assertThat(s.linux().namespacePath("pid")).isNull();
        assertThat(s.mounts()).extracting(Mount::destination).startsWith("/proc", "/dev");
    }

    @Test
    void reportsWhatMakesASpecUnusable() throws Exception {
        Spec s = Spec.parse("{\"process\":{\"args\":[],\"cwd\":\"rel\"},\"mounts\":[{\"type\":\"tmpfs\"}]}".getBytes());
        assertThat(s.problems()).containsExactly("\"ociVersion\" is missing", "\"process.args\" is empty: nothing to run",
                "\"process.cwd\" must be an absolute path", "\"root.path\" is missing", "a mount has no absolute \"destination\"");
        assertThatThrownBy(() -> Spec.parse("[1,2]".getBytes())).isInstanceOf(GvshimException.class)
                .hasMessageContaining("must hold a JSON object, found array");
    }
}
