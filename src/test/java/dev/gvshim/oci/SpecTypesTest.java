package dev.gvshim.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * config.json fields of the wrong type: runsc's Go decoder refuses them with a message that
 * ends in the whole spec; gvshim names the field and the type it must have, once per field.
 */
class SpecTypesTest {
    /** A spec that is fine but for {@code process} and {@code root}, given as JSON text. */
    static List<String> problems(String process, String root) throws Exception {
        String json = "{\"ociVersion\":\"1.0.2\",\"process\":" + process + ",\"root\":" + root + "}";
        return Spec.parse(json.getBytes(StandardCharsets.UTF_8)).problems();
    }

    @Test
    void argsThatAreNotStringsAreNamedWithTheirType() throws Exception {
        assertThat(problems("{\"args\":[1,2],\"cwd\":\"/\"}", "{\"path\":\"rootfs\"}")).containsExactly(
                "\"process.args[0]\" must be a string, not the number 1",
                "\"process.args[1]\" must be a string, not the number 2");
        assertThat(problems("{\"args\":\"echo hi\",\"cwd\":\"/\"}", "{\"path\":\"rootfs\"}")).containsExactly(
                "\"process.args\" must be an array of strings, not a string");
        assertThat(problems("{\"args\":5,\"cwd\":\"/\"}", "{\"path\":\"rootfs\"}")).containsExactly(
                "\"process.args\" must be an array of strings, not the number 5");
        assertThat(problems("{\"args\":{\"a\":1},\"cwd\":\"/\"}", "{\"path\":\"rootfs\"}")).containsExactly(
                "\"process.args\" must be an array of strings, not an object");
        assertThat(problems("{\"args\":[\"/bin/true\",[\"x\"]],\"cwd\":\"/\"}", "{\"path\":\"rootfs\"}")).containsExactly(
                "\"process.args[1]\" must be a string, not an array");
    }

    @Test
    void aWrongTypeIsNeverReportedAsMissingOrEmpty() throws Exception {
        assertThat(problems("{\"args\":[\"sh\"],\"cwd\":\"/\"}", "{\"path\":5}")).containsExactly(
                "\"root.path\" must be a string, not the number 5");
        assertThat(problems("{\"args\":[\"sh\"],\"cwd\":\"/\"}", "[\"rootfs\"]")).containsExactly(
                "\"root\" must be an object, not an array");
        assertThat(problems("{\"args\":[\"sh\"],\"cwd\":7}", "{\"path\":\"rootfs\"}")).containsExactly(
                "\"process.cwd\" must be a string, not the number 7");
        assertThat(problems("\"sh\"", "{\"path\":\"rootfs\"}")).containsExactly("\"process\" must be an object, not a string");
        // null is what Go's decoder accepts for any field: then it is missing or empty, and said so
        assertThat(problems("{\"args\":null,\"cwd\":\"/\"}", "{\"path\":null}")).containsExactly(
                "\"process.args\" is empty: nothing to run", "\"root.path\" is missing");
    }

    @Test
    void integersMustFitTheGoType() throws Exception {
        assertThat(problems("{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":-1,\"gid\":4294967296}}", "{\"path\":\"r\"}"))
                .containsExactly("\"process.user.uid\" must be an integer from 0 to 4294967295, not the number -1",
                        "\"process.user.gid\" must be an integer from 0 to 4294967295, not the number 4294967296");
        assertThat(problems("{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":1.5,\"gid\":\"0\"}}", "{\"path\":\"r\"}"))
                .containsExactly("\"process.user.uid\" must be an integer from 0 to 4294967295, not the number 1.5",
                        "\"process.user.gid\" must be an integer from 0 to 4294967295, not a string");
        assertThat(problems("{\"args\":[\"sh\"],\"cwd\":\"/\",\"oomScoreAdj\":-1000,\"terminal\":\"yes\"}", "{\"path\":\"r\"}"))
                .containsExactly("\"process.terminal\" must be true or false, not a string");
    }

    @Test
    void nestedSectionsAndMapsAreChecked() throws Exception {
        String json = """
                {"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"},
                 "mounts": [{"destination": "/proc", "options": "ro"}, "tmpfs"],
                 "hooks": {"prestart": [{"path": 3}]},
                 "annotations": {"a": 1},
                 "linux": {"resources": {"memory": {"limit": "1g"}}, "namespaces": [{"type": "pid", "path": false}],
                           "seccomp": {"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": -1}]}]}}}
                """;
        assertThat(Spec.parse(json.getBytes(StandardCharsets.UTF_8)).problems()).containsExactly(
                "\"mounts[0].options\" must be an array of strings, not a string",
                "\"mounts[1]\" must be an object, not a string",
                "\"hooks.prestart[0].path\" must be a string, not the number 3",
                "\"annotations.a\" must be a string, not the number 1",
                "\"linux.resources.memory.limit\" must be an integer, not a string",
                "\"linux.namespaces[0].path\" must be a string, not false",
                "\"linux.seccomp.syscalls[0].args[0].index\" must be an integer from 0 to 18446744073709551615, not the number -1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"runc-spec.json", "runc-spec-rootless.json", "crun-spec.json", "runsc-spec.json", "docker-config.json"})
    void whatRuntimesAndDockerWriteHasNoWrongType(String name) throws Exception {
        assertThat(SpecTypes.problems(Spec.parse(JsonTreeTest.fixture(name)).json())).isEmpty();
    }

    @Test
    void fieldsOutsideTheSchemaAndUnknownFieldsAreLeftToRunsc() throws Exception {
        String json = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"x-vendor\":[1]},"
                + "\"root\":{\"path\":\"r\"},\"windows\":5,\"vendorField\":{\"a\":[1]}}";
        assertThat(Spec.parse(json.getBytes(StandardCharsets.UTF_8)).problems()).isEmpty();
    }

    @Test
    void gosDecoderMessageBecomesAFieldAndItsType() {
        assertThat(SpecTypes.fromGoError("reading spec: error unmarshaling spec from file \"/b/config.json\": json: cannot"
                + " unmarshal number into Go struct field Process.process.args of type string")).isEqualTo(
                        "\"process.args\" must be a string, not a number");
        assertThat(SpecTypes.fromGoError("json: cannot unmarshal number -1 into Go struct field User.process.user.uid of type"
                + " uint32")).isEqualTo("\"process.user.uid\" must be a non-negative integer, not -1");
        assertThat(SpecTypes.fromGoError("json: cannot unmarshal string into Go struct field Spec.root of type specs.Root"))
                .isEqualTo("\"root\" must be an object, not a string");
        assertThat(SpecTypes.fromGoError("json: cannot unmarshal array into Go struct field Linux.linux.sysctl of type"
                + " map[string]string")).isEqualTo("\"linux.sysctl\" must be an object, not an array");
        assertThat(SpecTypes.fromGoError("creating container: EOF")).isNull();
        assertThat(SpecTypes.fromGoError(null)).isNull();
    }
}
