package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The seeds' scenario end to end (issue 5): docker/build-images.sh builds gvshim and the example
 * connector from this build, then each environment of docker/README.md's table runs the
 * connector with `docker run` and asks `gvshim doctor` in the same setting; both must agree.
 * The container user is the image's non-root `app` (uid 1000) throughout.
 */
class DockerImagesIT {
    static final String TAG = "it5";
    static final String GVSHIM = "gvshim:" + TAG;
    static final String CONNECTOR = "gvshim-connector:" + TAG;
    static final ObjectMapper JSON = new ObjectMapper();
    static Path repo;
    static Path profile;
    static Path tmp;

    @BeforeAll
    static void buildImages() throws IOException {
        Dockerd.ensure();
        repo = Path.of(System.getProperty("gvshim.basedir", ".")).toAbsolutePath();
        profile = repo.resolve("docker/seccomp-gvshim.json");
        tmp = Files.createTempDirectory("gvshim-it5-");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        // The base image is cached by build-images.sh (docker image inspect); the gvshim layers
        // by Docker's build cache, so an unchanged build costs seconds.
        Host.Result built = Host.build(List.of("env", "GVSHIM_TAG=" + TAG, repo.resolve("docker/build-images.sh").toString()),
                Duration.ofMinutes(15), repo);
        assertThat(built.code()).as("docker/build-images.sh\n%s", built).isZero();
        assertThat(Dockerd.docker("image", "inspect", GVSHIM, CONNECTOR).code()).isZero();
    }

    @AfterAll
    static void cleanUp() {
        if (tmp != null) {
            Host.sh("rm", "-rf", tmp.toString());
        }
    }

    /** The flags docker/README.md documents for Docker: gvshim's profile, /proc unmasked. */
    static List<String> documented() {
        return List.of("--security-opt", "seccomp=" + profile, "--security-opt", "systempaths=unconfined");
    }

    static Host.Result docker(List<String> options, String image, String... args) {
        List<String> cmd = new ArrayList<>(List.of("run", "--rm", "--name", "gvshim-it5-" + System.nanoTime()));
        cmd.addAll(options);
        cmd.add(image);
        cmd.addAll(Arrays.asList(args));
        return Dockerd.docker(Duration.ofMinutes(2), cmd.toArray(String[]::new));
    }

    /** `gvshim doctor --json` in a container started with these options. */
    static JsonNode doctor(List<String> options, int expectedExit) throws IOException {
        Host.Result r = docker(options, GVSHIM, "doctor", "--json");
        assertThat(r.code()).as("doctor\n%s", r).isEqualTo(expectedExit);
        return JSON.readTree(r.out());
    }

    static JsonNode finding(JsonNode report, String id) {
        return StreamSupport.stream(report.path("findings").spliterator(), false)
                .filter(f -> f.path("id").asText().equals(id)).findFirst().orElseThrow(() -> new AssertionError("no " + id + " in " + report));
    }

    /** The id of the first failing finding: the cause doctor gives as its verdict. */
    static String verdictCause(JsonNode report) {
        return StreamSupport.stream(report.path("findings").spliterator(), false)
                .filter(f -> f.path("status").asText().equals("fail")).map(f -> f.path("id").asText()).findFirst().orElse(null);
    }

    static void assertSpecLine(Host.Result r) throws IOException {
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.out().lines().toList()).as("%s", r).hasSize(1);
        JsonNode spec = JSON.readTree(r.out());
        assertThat(spec.path("type").asText()).isEqualTo("SPEC");
        assertThat(spec.path("spec").path("connectionSpecification").path("required").toString()).isEqualTo("[\"greeting\",\"count\"]");
        assertThat(r.err()).as("stderr is silent on success").isEmpty();
    }

    @Test
    void defaultFlagsFailClosedNamingSeccompAndTheFlagsToAdd() throws IOException {
        Host.Result r = docker(List.of(), CONNECTOR, "spec");
        assertThat(r.code()).as("%s", r).isEqualTo(125);
        assertThat(r.out()).as("never unsandboxed: no SPEC line").isEmpty();
        assertThat(r.err().lines().toList()).as("one line").hasSize(1);
        assertThat(r.err()).startsWith("gvshim: cannot create the user namespace [clone(CLONE_NEWUSER|CLONE_NEWNS|CLONE_VM): EPERM")
                .contains("--security-opt seccomp=docker/seccomp-gvshim.json --security-opt systempaths=unconfined")
                .endsWith("[USERNS_SECCOMP]\n");

        JsonNode report = doctor(List.of(), 1);
        assertThat(report.path("verdict").asText()).isEqualTo("fail");
        assertThat(report.path("environment").asText()).isEqualTo("Docker container");
        assertThat(verdictCause(report)).isEqualTo("USERNS_SECCOMP");
        assertThat(finding(report, "PROC_MASKED").path("status").asText()).isEqualTo("fail");
        // the live probe stopped at clone: what only it can test is "not tested", never ok (issue 15)
        for (String id : List.of("MOUNT_DENIED", "PIVOT_ROOT_DENIED", "PTRACE_DENIED", "NAMESPACE_DENIED", "IDMAP_FULL")) {
            assertThat(finding(report, id).path("status").asText()).as(id).isEqualTo("not tested");
            assertThat(finding(report, id).path("evidence").asText()).as(id).startsWith("the live probe stopped at clone (EPERM)");
        }
        assertThat(report.path("counts").path("ok").asInt() + report.path("counts").path("warn").asInt()
                + report.path("counts").path("fail").asInt() + report.path("counts").path("not tested").asInt())
                .isEqualTo(report.path("findings").size());
    }

    /**
     * --cap-add SYS_ADMIN gets past clone with Docker's default profile, then /proc is masked and
     * pivot_root is denied: run and doctor name the first and give one fix for both (issue 15:
     * following a fix that left out half led to a second round), and that fix works.
     */
    @Test
    void sysAdminAddedGetsOneFixForBothMaskedProcAndPivotRoot() throws IOException {
        List<String> sysAdmin = List.of("--cap-add", "SYS_ADMIN");
        Host.Result r = docker(sysAdmin, CONNECTOR, "spec");
        assertThat(r.code()).as("%s", r).isEqualTo(125);
        assertThat(r.err().lines().toList()).as("one line").hasSize(1);
        assertThat(r.err()).endsWith("[PROC_MASKED]\n").contains("PIVOT_ROOT_DENIED next (tested live)")
                .contains("Fix: run the container with --security-opt seccomp=docker/seccomp-gvshim.json --security-opt"
                        + " systempaths=unconfined");
        JsonNode report = doctor(sysAdmin, 1);
        assertThat(verdictCause(report)).isEqualTo("PROC_MASKED");
        assertThat(finding(report, "PROC_MASKED").path("fix").asText()).contains("--security-opt seccomp=docker/seccomp-gvshim.json"
                + " --security-opt systempaths=unconfined");
        assertSpecLine(docker(concat(sysAdmin, documented()), CONNECTOR, "spec")); // the fix, as printed
    }

    @Test
    void gvshimProfileWithSystempathsRunsTheConnectorInGvisorAsTheNonRootUser() throws IOException {
        assertSpecLine(docker(documented(), CONNECTOR, "spec"));

        // The same image and flags: the container's user, and what the sandboxed command sees.
        Host.Result r = docker(concat(documented(), List.of("--entrypoint", "/opt/gvshim/bin/gvshim")), CONNECTOR,
                "run", "--verbose", "--", "/bin/sh", "-c", "cat /proc/version; dmesg | head -1");
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.out()).as("gVisor's kernel, not the host's").startsWith("Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016\n")
                .contains("Starting gVisor");
        assertThat(r.err()).as("container user app (uid 1000) mapped to root, with its subordinate ids")
                .contains("gvshim: userns mode full (uid map 0 1000 1,1 100000 65536");
        assertThat(docker(concat(documented(), List.of("--entrypoint", "id")), CONNECTOR, "-u").out()).isEqualTo("1000\n");

        JsonNode report = doctor(documented(), 0);
        assertThat(report.path("verdict").asText()).isEqualTo("ok");
        assertThat(report.path("mode").asText()).isEqualTo("full");
        assertThat(report.path("user").asText()).isEqualTo("app");
    }

    @Test
    void noNewPrivilegesWorksInModeSingleAndSaysSo() throws IOException {
        List<String> nnp = concat(documented(), List.of("--security-opt", "no-new-privileges"));
        assertSpecLine(docker(nnp, CONNECTOR, "spec"));

        Host.Result r = docker(concat(nnp, List.of("--entrypoint", "/opt/gvshim/bin/gvshim")), CONNECTOR,
                "run", "--verbose", "--", "/bin/true");
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.err()).contains("gvshim: userns mode single (uid map 0 1000 1, gid map 0 1000 1, via direct /proc writes);"
                + " not full: NoNewPrivs is set");

        JsonNode report = doctor(nnp, 0);
        assertThat(report.path("verdict").asText()).isEqualTo("ok");
        assertThat(report.path("mode").asText()).isEqualTo("single");
        assertThat(finding(report, "NO_NEW_PRIVS").path("status").asText()).isEqualTo("warn");
    }

    @Test
    void readOnlyRootFileSystemNeedsATmpfsForTheStateDirectory() throws IOException {
        List<String> readOnly = concat(documented(), List.of("--read-only"));
        Host.Result r = docker(readOnly, CONNECTOR, "spec");
        assertThat(r.code()).as("%s", r).isEqualTo(125);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("gvshim: cannot create the state directory /tmp/gvshim-1000")
                .contains("Fix: run the container with --tmpfs /tmp").endsWith("[STATE_DIR_UNSAFE]\n");
        JsonNode failing = doctor(readOnly, 1);
        assertThat(verdictCause(failing)).isEqualTo("STATE_DIR_UNSAFE");
        assertThat(finding(failing, "STATE_DIR_UNSAFE").path("fix").asText()).startsWith("run the container with --tmpfs /tmp");

        List<String> withTmpfs = concat(readOnly, List.of("--tmpfs", "/tmp"));
        assertSpecLine(docker(withTmpfs, CONNECTOR, "spec"));
        JsonNode report = doctor(withTmpfs, 0);
        assertThat(report.path("verdict").asText()).isEqualTo("ok");
        assertThat(report.path("mode").asText()).isEqualTo("full");
    }

    @Test
    void connectorChecksAndReadsAConfigMountedReadOnly() throws IOException {
        Path config = tmp.resolve("config.json");
        String text = "{\"greeting\": \"hello from the config\", \"count\": 3}\n";
        Files.writeString(config, text);
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
        List<String> options = concat(documented(), List.of("--read-only", "--tmpfs", "/tmp",
                "-v", config + ":/secrets/config.json:ro"));

        Host.Result check = docker(options, CONNECTOR, "check", "--config", "/secrets/config.json");
        assertThat(check.code()).as("%s", check).isZero();
        assertThat(check.out()).isEqualTo("{\"type\":\"LOG\",\"log\":{\"level\":\"INFO\",\"message\":\"kernel Linux 4.4.0, uid 0\"}}\n"
                + "{\"type\":\"CONNECTION_STATUS\",\"connectionStatus\":{\"status\":\"SUCCEEDED\"}}\n");
        assertThat(check.err()).isEmpty();

        Host.Result read = docker(options, CONNECTOR, "read", "--config", "/secrets/config.json");
        assertThat(read.code()).as("%s", read).isZero();
        assertThat(read.out().lines().toList()).hasSize(3).allSatisfy(l -> {
            JsonNode m = JSON.readTree(l);
            assertThat(m.path("type").asText()).isEqualTo("RECORD");
            assertThat(m.path("record").path("data").path("greeting").asText()).isEqualTo("hello from the config");
        });
        assertThat(read.err()).isEmpty();

        // Arguments reach the connector unchanged, and its own failures keep their exit status.
        Host.Result missing = docker(options, CONNECTOR, "read", "--config", "/secrets/absent.json");
        assertThat(missing.code()).as("%s", missing).isEqualTo(1);
        assertThat(missing.out()).contains("\"type\":\"TRACE\"").contains("/secrets/absent.json");

        // Read-only from inside the sandbox too: the write fails and the file is unchanged.
        Host.Result write = docker(concat(options, List.of("--entrypoint", "/opt/gvshim/bin/gvshim")), CONNECTOR,
                "run", "--", "/bin/sh", "-c", "echo changed > /secrets/config.json");
        assertThat(write.code()).as("%s", write).isNotZero();
        assertThat(Files.readString(config)).isEqualTo(text);
    }

    /**
     * Each syscall docker/seccomp-gvshim.json adds to Docker's default is necessary: without it the
     * connector fails closed with the cause doctor predicts in the same container.
     */
    @ParameterizedTest(name = "without {0}: {1}")
    @CsvSource({"clone, USERNS_SECCOMP", "mount, MOUNT_DENIED", "umount2, MOUNT_DENIED", "pivot_root, PIVOT_ROOT_DENIED"})
    void everyAdditionToDockersDefaultProfileIsNeeded(String syscall, String cause) throws IOException {
        Path without = tmp.resolve("seccomp-without-" + syscall + ".json");
        ObjectNode p = (ObjectNode) JSON.readTree(profile.toFile());
        ArrayNode names = (ArrayNode) gvshimRule(p).path("names");
        int before = names.size();
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).asText().equals(syscall)) {
                names.remove(i);
            }
        }
        assertThat(names.size()).as("the profile adds %s", syscall).isEqualTo(before - 1);
        JSON.writeValue(without.toFile(), p);
        List<String> options = List.of("--security-opt", "seccomp=" + without, "--security-opt", "systempaths=unconfined");

        Host.Result r = docker(options, CONNECTOR, "spec");
        assertThat(r.code()).as("%s", r).isEqualTo(125);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).endsWith("[" + cause + "]\n").contains("seccomp");

        JsonNode report = doctor(options, 1);
        assertThat(verdictCause(report)).as("doctor predicts what `gvshim run` meets").isEqualTo(cause);
    }

    /** The profile adds exactly the syscalls the test above proves necessary, and nothing else. */
    @Test
    void theProfileIsDockersDefaultPlusOneRule() throws IOException {
        JsonNode p = JSON.readTree(profile.toFile());
        assertThat(p.path("defaultAction").asText()).isEqualTo("SCMP_ACT_ERRNO");
        assertThat(gvshimRule(p).path("names").toString()).isEqualTo("[\"clone\",\"mount\",\"umount2\",\"pivot_root\"]");
        assertThat(gvshimRule(p).path("includes").size()).as("unconditional").isZero();
        long gvshimRules = StreamSupport.stream(p.path("syscalls").spliterator(), false)
                .filter(s -> s.path("comment").asText().startsWith("gvshim")).count();
        assertThat(gvshimRules).isEqualTo(1);
    }

    static JsonNode gvshimRule(JsonNode profile) {
        JsonNode rules = profile.path("syscalls");
        JsonNode last = rules.get(rules.size() - 1);
        assertThat(last.path("comment").asText()).startsWith("gvshim:");
        return last;
    }

    @SafeVarargs
    static List<String> concat(List<String>... lists) {
        List<String> all = new ArrayList<>();
        for (List<String> l : lists) {
            all.addAll(l);
        }
        return all;
    }
}
