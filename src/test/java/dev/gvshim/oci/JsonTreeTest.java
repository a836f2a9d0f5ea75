package dev.gvshim.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The streaming tree codec must agree with jackson-databind's ObjectMapper in both directions. */
class JsonTreeTest {
    static final ObjectMapper MAPPER = new ObjectMapper();

    static byte[] fixture(String name) throws IOException {
        return Files.readAllBytes(Path.of("src/test/resources/specs", name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"runc-spec.json", "runc-spec-rootless.json", "crun-spec.json", "runsc-spec.json",
        "docker-config.json", "docker-exec-process.json"})
    void readsWhatObjectMapperReadsAndWritesWhatItCanReadBack(String name) throws Exception {
        byte[] json = fixture(name);
        JsonNode ours = JsonTree.read(json);
        assertThat(ours).isEqualTo(MAPPER.readTree(json));
        assertThat(MAPPER.readTree(JsonTree.write(ours))).isEqualTo(ours);
        assertThat(MAPPER.readTree(JsonTree.compact(ours))).isEqualTo(ours);
    }

    @Test
    void errorMessagesLoseJacksonsSourceDescriptions() {
        assertThatThrownBy(() -> JsonTree.read("{\"process\": {\n".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(JsonProcessingException.class, e -> assertThat(JsonTree.plainMessage(e))
                        .startsWith("Unexpected end-of-input")
                        .contains("start marker at line 1, column 13")
                        .doesNotContain("Source", "REDACTED", "\n"));
    }

    @Test
    void keepsNullsOrderAndExactNumbers() throws Exception {
        String in = "{\"z\":1,\"a\":null,\"big\":18446744073709551615,\"dec\":1.10,\"neg\":-5,\"t\":true,\"s\":\"é\\n\"}";
        JsonNode n = JsonTree.read(in.getBytes(StandardCharsets.UTF_8));
        assertThat(n.get("a").isNull()).isTrue();
        assertThat(n.properties()).extracting(java.util.Map.Entry::getKey).containsExactly("z", "a", "big", "dec", "neg", "t", "s");
        assertThat(JsonTree.compact(n)).isEqualTo(in);
    }

    @Test
    void writesTabsLikeRuncSpec() throws Exception {
        assertThat(new String(JsonTree.write(JsonTree.read("{\"a\":[1]}".getBytes())), StandardCharsets.UTF_8))
                .isEqualTo("{\n\t\"a\": [\n\t\t1\n\t]\n}\n");
    }

    @Test
    void rejectsBrokenDocumentsWithTheirPosition() {
        assertThatThrownBy(() -> JsonTree.read("{\"a\": \n".getBytes())).isInstanceOf(JsonProcessingException.class)
                .satisfies(e -> assertThat(((JsonProcessingException) e).getLocation().getLineNr()).isEqualTo(2));
        assertThatThrownBy(() -> JsonTree.read("{} {}".getBytes())).isInstanceOf(JsonProcessingException.class)
                .hasMessageContaining("after the document");
        assertThatThrownBy(() -> JsonTree.read(new byte[0])).isInstanceOf(JsonProcessingException.class);
    }
}
