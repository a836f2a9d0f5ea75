package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gvshim.failure.Versions;
import dev.gvshim.oci.Specs;
import dev.gvshim.runsc.RunscRelease;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `features` (runtime-spec features.md): valid, and no claim gvshim over runsc does not honour. */
class FeaturesTest {
    static final RunscRelease R2022 = RunscRelease.parse("runsc version 0.0~20221219.0");

    static JsonNode features() throws Exception {
        return new ObjectMapper().readTree(Features.json("1.2.3", true, R2022));
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
        assertThat(f.path("ociVersionMax").asText()).isEqualTo(Versions.SPEC).isEqualTo("1.0.2");
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
        // runsc 2022-12 knows capabilities 0..37 (CAP_AUDIT_READ) and fails a container on others: gvshim removes those
        assertThat(caps).hasSize(38).doesNotContain("CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE");
        JsonNode newer = new ObjectMapper().readTree(Features.json("1", true, RunscRelease.parse("release-20240715.0")));
        assertThat(strings(newer.at("/linux/capabilities"))).hasSize(41).contains("CAP_CHECKPOINT_RESTORE");
    }

    @Test
    void noCgroupSystemdAppArmorOrSelinuxClaims() throws Exception {
        JsonNode linux = features().path("linux");
        // gvshim does not pass --systemd-cgroup on to runsc (experimental there): the sandbox is placed with cgroupfs
        assertThat(linux.at("/cgroup/systemd").asBoolean(true)).isFalse();
        assertThat(linux.at("/cgroup/systemdUser").asBoolean(true)).isFalse();
        assertThat(linux.at("/apparmor/enabled").asBoolean(true)).isFalse();
        assertThat(linux.at("/selinux/enabled").asBoolean(true)).isFalse();
        assertThat(linux.at("/intelRdt/enabled").asBoolean(true)).isFalse();
    }

    @Test
    void seccompNamesAreLibseccompsForThisRuntimesArchitectures() throws Exception {
        JsonNode sc = features().at("/linux/seccomp");
        // only what runsc applies as the profile means it: NOTIFY, LOG, TRACE and KILL_PROCESS are refused
        assertThat(strings(sc.path("actions"))).containsExactlyInAnyOrder("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO",
                "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP");
        assertThat(strings(sc.path("knownFlags"))).contains("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG");
        assertThat(strings(sc.path("supportedFlags"))).contains("SECCOMP_FILTER_FLAG_TSYNC")
                .doesNotContain("SECCOMP_FILTER_FLAG_LOG");
        assertThat(strings(sc.path("operators"))).doesNotHaveDuplicates()
                .containsExactlyInAnyOrder("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                        "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ");
        assertThat(strings(sc.path("archs"))).contains("SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", "SCMP_ARCH_X86");
    }

    @Test
    void seccompIsClaimedUnlessTheOperatorTurnedItOff() throws Exception {
        assertThat(features().at("/linux/seccomp/enabled").booleanValue()).as("gvshim passes --oci-seccomp").isTrue();
        JsonNode off = new ObjectMapper().readTree(Features.json("1.2.3", false, R2022));
        assertThat(off.at("/linux/seccomp/enabled").booleanValue()).isFalse();
        RuntimeConfig c = RuntimeConfig.defaults();
        assertThat(c.ociSeccomp()).as("not configured").isNull();
        assertThat(c.withFlag("oci-seccomp", "true", "").ociSeccomp()).isTrue();
        assertThat(c.withFlag("oci-seccomp", "false", "").ociSeccomp()).isFalse();
        assertThat(c.withRaw(List.of("--oci-seccomp=false")).ociSeccomp()).isFalse();
        assertThat(c.withRaw(List.of("--oci-seccomp")).ociSeccomp()).isTrue();
    }

    @Test
    void annotationsSayWhatIsMootIgnoredAndRefused() throws Exception {
        JsonNode a = features().path("annotations");
        assertThat(a.path("dev.gvshim.runscRelease").asText()).isEqualTo("2022-12-19");
        assertThat(a.path("dev.gvshim.specMoot").asText()).contains("maskedPaths", "apparmorProfile docker-default");
        assertThat(a.path("dev.gvshim.specRefused").asText()).contains("selinuxLabel", "SCMP_ACT_NOTIFY", "intelRdt");
        assertThat(a.path("dev.gvshim.specIgnored").asText()).contains("linux.sysctl", "errnoRet");
        assertThat(a.path("dev.gvshim.seccompExec").asText()).startsWith("refused").contains("does not filter exec'd processes");
        JsonNode optIn = new ObjectMapper().readTree(Features.json("1", true, R2022, true)).path("annotations");
        assertThat(optIn.path("dev.gvshim.seccompExec").asText()).as("the operator's execWithoutSeccomp")
                .startsWith("allowed without the profile (execWithoutSeccomp").contains("does not filter exec'd processes");
        JsonNode newest = new ObjectMapper().readTree(Features.json("1", true, RunscRelease.parse("release-20260330.0")));
        assertThat(newest.path("annotations").has("dev.gvshim.seccompExec")).isFalse();
    }
}
