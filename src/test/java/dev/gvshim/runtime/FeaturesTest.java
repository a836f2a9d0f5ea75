package dev.gvshim.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gvshim.oci.Specs;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `features` (runtime-spec features.md): valid, and no claim gvshim over runsc does not honour. */
class FeaturesTest {
    static JsonNode features() throws Exception {
        return new ObjectMapper().readTree(Features.json("1.2.3", false));
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        assertThat(array.isArray()).as("an array").isTrue();
        array.forEach(n -> out.add(n.textValue()));
        return out;
    }

    @Test
    void versionsAreTheSpecGvshimWritesAndRunscImplements() throws Exception {
        JsonNode f = features();
        assertThat(f.path("ociVersionMin").asText()).isEqualTo("1.0.0");
        assertThat(f.path("ociVersionMax").asText()).isEqualTo(Specs.OCI_VERSION).isEqualTo("1.0.2");
        assertThat(f.at("/annotations/dev.gvshim.version").asText()).isEqualTo("1.2.3");
    }

    @Test
    void hooksAreSpecNamesAndOnlyThoseRunscRuns() throws Exception {
        List<String> hooks = strings(features().path("hooks"));
        assertThat(hooks).doesNotHaveDuplicates().contains("prestart", "poststart", "poststop")
                .isSubsetOf("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")
                .as("runsc 2022-12 runs no hook inside the container's namespaces")
                .doesNotContain("createContainer", "startContainer");
    }

    @Test
    void mountOptionsIncludeWhatDockerAndRuncSpecPass() throws Exception {
        List<String> opts = strings(features().path("mountOptions"));
        assertThat(opts).doesNotHaveDuplicates().contains("bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec",
                "rprivate", "mode", "size");
        assertThat(opts).allSatisfy(o -> assertThat(o).matches("[a-z_]+"));
        // runsc 2022-12's tmpfs rejects options it does not parse (EINVAL): claiming one breaks the mount
        assertThat(opts).doesNotContain("nr_inodes", "huge", "mpol");
    }

    @Test
    void namespacesAreOciTypesGvisorImplements() throws Exception {
        List<String> ns = strings(features().at("/linux/namespaces"));
        assertThat(ns).doesNotHaveDuplicates().contains("pid", "network", "ipc", "uts", "mount")
                .isSubsetOf("cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time")
                .as("gVisor has no time namespace").doesNotContain("time");
    }

    @Test
    void capabilitiesAreKnownNamesIncludingRuncsDefaults() throws Exception {
        List<String> caps = strings(features().at("/linux/capabilities"));
        assertThat(caps).doesNotHaveDuplicates().containsAll(Specs.DEFAULT_CAPS)
                .allSatisfy(c -> assertThat(c).matches("CAP_[A-Z_]+"));
        // capability numbers 0..40 (CAP_CHECKPOINT_RESTORE, Linux 5.9): one name each
        assertThat(caps).hasSize(41);
    }

    @Test
    void noCgroupSystemdAppArmorOrSelinuxClaims() throws Exception {
        JsonNode linux = features().path("linux");
        // gvshim does not pass --systemd-cgroup on to runsc (experimental there): the sandbox is placed with cgroupfs
        assertThat(linux.at("/cgroup/systemd").asBoolean(true)).isFalse();
        assertThat(linux.at("/cgroup/systemdUser").asBoolean(true)).isFalse();
        assertThat(linux.at("/apparmor/enabled").asBoolean(true)).isFalse();
        assertThat(linux.at("/selinux/enabled").asBoolean(true)).isFalse();
        assertThat(linux.has("intelRdt")).isFalse();
    }

    @Test
    void seccompNamesAreLibseccompsForThisRuntimesArchitectures() throws Exception {
        JsonNode sc = features().at("/linux/seccomp");
        assertThat(strings(sc.path("actions"))).doesNotHaveDuplicates().contains("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO")
                .allSatisfy(a -> assertThat(a).startsWith("SCMP_ACT_"));
        assertThat(strings(sc.path("operators"))).doesNotHaveDuplicates()
                .containsExactlyInAnyOrder("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                        "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ");
        assertThat(strings(sc.path("archs"))).containsExactlyInAnyOrder("SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64");
    }

    @Test
    void seccompIsClaimedOnlyWhenRunscAppliesTheSpecsProfile() throws Exception {
        assertThat(features().at("/linux/seccomp/enabled").isBoolean()).isTrue();
        assertThat(features().at("/linux/seccomp/enabled").booleanValue()).as("runsc ignores it without --oci-seccomp").isFalse();
        JsonNode on = new ObjectMapper().readTree(Features.json("1.2.3", true));
        assertThat(on.at("/linux/seccomp/enabled").booleanValue()).isTrue();
        RuntimeConfig c = RuntimeConfig.defaults();
        assertThat(OciRuntime.ociSeccomp(c)).isFalse();
        assertThat(OciRuntime.ociSeccomp(c.withFlag("oci-seccomp", "true", ""))).isTrue();
        assertThat(OciRuntime.ociSeccomp(c.withFlag("oci-seccomp", "false", ""))).isFalse();
    }
}
