package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.runsc.RunscConfig.Network;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /etc/gvshim/config.json, the runtime's options, and the dev.gvisor.flag.* annotations, merged. */
class RuntimeConfigTest {
    @TempDir
    Path tmp;

    RuntimeConfig load(String json) throws GvshimException {
        try {
            return RuntimeConfig.load(Files.writeString(tmp.resolve("config.json"), json), true);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    String loadError(String json) {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> load(json));
        assertThat(t).as(json).isInstanceOf(GvshimException.class);
        assertThat(((GvshimException) t).failure().id()).isEqualTo("CONFIG_INVALID");
        return ((GvshimException) t).failure().what();
    }

    @Test
    void everyKeyIsRead() throws Exception {
        RuntimeConfig c = load("""
                {"runsc": "/opt/runsc", "network": "sandbox", "platform": "kvm", "debug": true,
                 "runscFlags": {"overlay": "true", "--file-access": "shared", "num-network-channels": 4},
                 "allowFlagOverride": true}""");
        assertThat(c.runsc()).isEqualTo("/opt/runsc");
        assertThat(c.network()).isEqualTo(Network.SANDBOX);
        assertThat(c.networkExplicit()).isTrue();
        assertThat(c.platform()).isEqualTo("kvm");
        assertThat(c.debug()).isTrue();
        assertThat(c.allowFlagOverride()).isTrue();
        assertThat(c.flags()).containsExactly(Map.entry("overlay", "true"), Map.entry("file-access", "shared"),
                Map.entry("num-network-channels", "4"));
        assertThat(c.raw()).isEmpty();
    }

    @Test
    void defaultsWhenNothingIsSet() throws Exception {
        RuntimeConfig c = load("{}");
        assertThat(c).isEqualTo(RuntimeConfig.defaults());
        assertThat(c.runsc()).isNull();
        assertThat(c.network()).isEqualTo(Network.NONE);
        assertThat(c.networkExplicit()).as("the default network is chosen later, per container").isFalse();
        assertThat(c.platform()).isNull();
        assertThat(c.debug()).isFalse();
        assertThat(c.allowFlagOverride()).as("annotations may not set runsc flags unless the node says so").isFalse();
    }

    @Test
    void aMissingDefaultFileIsNoConfigurationButAMissingExplicitOneIsAnError() throws Exception {
        Path missing = tmp.resolve("nope.json");
        assertThat(RuntimeConfig.load(missing, false)).isEqualTo(RuntimeConfig.defaults());
        assertThatThrownBy(() -> RuntimeConfig.load(missing, true)).isInstanceOf(GvshimException.class)
                .hasMessage("gvshim: configuration file " + missing + " does not exist [CONFIG_INVALID]");
    }

    @Test
    void anUnreadableFileSaysSo() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("dir.json"));
        assertThatThrownBy(() -> RuntimeConfig.load(dir, false)).isInstanceOf(GvshimException.class)
                .hasMessageStartingWith("gvshim: cannot read the configuration file " + dir + ": ");
    }

    @Test
    void theServersKeysAreAcceptedForBinGvshim() throws Exception {
        assertThat(load("{\"server\": \"auto\", \"serverIdleTimeout\": 0}")).isEqualTo(load("{}"));
    }

    @Test
    void malformedFilesAreOneClearLineNamingTheFile() {
        String file = tmp.resolve("config.json").toString();
        assertThat(loadError("{\"runsc\": ")).startsWith("configuration file " + file + " is not valid JSON: ")
                .doesNotContain("[Source:").doesNotContain("\n");
        assertThat(loadError("")).startsWith("configuration file " + file + " is not valid JSON: ");
        assertThat(loadError("{} {}")).contains("is not valid JSON");
        assertThat(loadError("[\"runsc\"]")).isEqualTo("configuration file " + file + " must hold a JSON object");
        assertThat(loadError("{\"netwrok\": \"host\"}")).isEqualTo("unknown key \"netwrok\" in " + file
                + " (known: runsc, network, platform, debug, runscFlags, allowFlagOverride, execWithoutSeccomp, server,"
                + " serverIdleTimeout, pools)");
        assertThat(loadError("{\"server\": \"yes\"}")).isEqualTo("\"server\" in " + file + " must be \"auto\", \"on\" or \"off\"");
        assertThat(loadError("{\"serverIdleTimeout\": -1}"))
                .isEqualTo("\"serverIdleTimeout\" in " + file + " must be a number of seconds, 0 (never) or more");
        assertThat(loadError("{\"serverIdleTimeout\": \"10\"}")).startsWith("\"serverIdleTimeout\" in ");
        assertThat(loadError("{\"network\": \"bridge\"}"))
                .isEqualTo("network \"bridge\" in " + file + " is not one of none, sandbox, host");
        assertThat(loadError("{\"runsc\": 5}")).isEqualTo("\"runsc\" in " + file + " must be a non-empty string");
        assertThat(loadError("{\"runsc\": \" \"}")).isEqualTo("\"runsc\" in " + file + " must be a non-empty string");
        assertThat(loadError("{\"platform\": null}")).isEqualTo("\"platform\" in " + file + " must be a non-empty string");
        assertThat(loadError("{\"network\": true}")).isEqualTo("\"network\" in " + file + " must be a non-empty string");
        assertThat(loadError("{\"runscFlags\": [\"overlay\"]}"))
                .isEqualTo("\"runscFlags\" in " + file + " must be an object of flag names to values");
        // Jackson's asBoolean() read these as false (or "true" and 1 as true) without a word
        assertThat(loadError("{\"debug\": \"yes\"}")).isEqualTo("\"debug\" in " + file + " must be true or false, not \"yes\"");
        assertThat(loadError("{\"allowFlagOverride\": \"true\"}"))
                .isEqualTo("\"allowFlagOverride\" in " + file + " must be true or false, not \"true\"");
        assertThat(loadError("{\"allowFlagOverride\": 1}")).contains("must be true or false, not 1");
    }

    /** The operator's opt-in to exec without the container's seccomp profile: off unless the file says true. */
    @Test
    void execWithoutSeccompIsTheOperatorsAndStrictlyBoolean() throws Exception {
        assertThat(RuntimeConfig.defaults().execWithoutSeccomp()).isFalse();
        assertThat(load("{}").execWithoutSeccomp()).isFalse();
        assertThat(load("{\"execWithoutSeccomp\": true}").execWithoutSeccomp()).isTrue();
        assertThat(load("{\"execWithoutSeccomp\": false}").execWithoutSeccomp()).isFalse();
        String file = tmp.resolve("config.json").toString();
        assertThat(loadError("{\"execWithoutSeccomp\": \"true\"}"))
                .isEqualTo("\"execWithoutSeccomp\" in " + file + " must be true or false, not \"true\"");
        // kept through every other change of the configuration
        RuntimeConfig c = load("{\"execWithoutSeccomp\": true, \"allowFlagOverride\": true}").withRunsc("/r")
                .withFlag("overlay", "true", "").withDebug(true).withRaw(List.of("--strace")).withPlatform("systrap");
        assertThat(c.execWithoutSeccomp()).isTrue();
        // a container cannot choose it: an annotation is a runsc flag, never gvshim's setting
        List<String> ignored = new ArrayList<>();
        RuntimeConfig annotated = load("{\"allowFlagOverride\": true}").withAnnotations(
                Map.of("dev.gvisor.flag.exec-without-seccomp", "true"), ignored);
        assertThat(annotated.execWithoutSeccomp()).isFalse();
    }

    @Test
    void networkIsCaseInsensitive() throws Exception {
        assertThat(load("{\"network\": \"HOST\"}").network()).isEqualTo(Network.HOST);
    }

    @Test
    void flagsGvshimOwnsAreRejectedWherEverTheyComeFrom() {
        String file = tmp.resolve("config.json").toString();
        for (String f : List.of("root", "log", "log-format", "debug-log", "rootless", "ignore-cgroups", "--root")) {
            assertThat(loadError("{\"runscFlags\": {\"" + f + "\": \"x\"}}")).as(f).isEqualTo("runsc flag --"
                    + f.replaceFirst("^--", "") + " in " + file + " is set by gvshim itself for every container; remove it");
        }
        assertThatThrownBy(() -> RuntimeConfig.defaults().withFlag("rootless", "true", " (--runsc-flag)"))
                .isInstanceOf(GvshimException.class).hasMessageContaining("--rootless (--runsc-flag) is set by gvshim");
    }

    @Test
    void flagNamesThatRunscCouldNotTakeAreRejected() {
        String file = tmp.resolve("config.json").toString();
        for (String f : List.of("", "--", "Overlay", "a b", "x=y", "-debug")) {
            assertThat(loadError("{\"runscFlags\": {\"" + f + "\": \"x\"}}")).as(f)
                    .startsWith("runsc flag name \"" + f + "\" in " + file + " is not a flag name");
        }
    }

    @Test
    void typedFlagsGoToTheirFields() throws Exception {
        RuntimeConfig c = RuntimeConfig.defaults().withFlag("network", "host", "").withFlag("--platform", "systrap", "")
                .withFlag("debug", "true", "");
        assertThat(c.network()).isEqualTo(Network.HOST);
        assertThat(c.networkExplicit()).isTrue();
        assertThat(c.platform()).isEqualTo("systrap");
        assertThat(c.debug()).isTrue();
        assertThat(c.flags()).isEmpty();
        assertThatThrownBy(() -> RuntimeConfig.defaults().withFlag("network", "bridge", " (--runsc-flag)"))
                .hasMessage("gvshim: network \"bridge\" (--runsc-flag) is not one of none, sandbox, host [CONFIG_INVALID]");
    }

    @Test
    void laterSourcesWinButDebugOnlyAccumulates() throws Exception {
        RuntimeConfig file = load("{\"network\": \"host\", \"debug\": true, \"runscFlags\": {\"overlay\": \"true\"}}");
        RuntimeConfig c = file.withNetwork("sandbox", " (--network)").withFlag("overlay", "false", "").withDebug(false)
                .withRaw(List.of("--strace")).withRaw(List.of("--x"));
        assertThat(c.network()).isEqualTo(Network.SANDBOX);
        assertThat(c.flags()).containsExactly(Map.entry("overlay", "false"));
        assertThat(c.debug()).as("--debug on either side").isTrue();
        assertThat(c.raw()).containsExactly("--strace", "--x");
        assertThat(file.flags()).as("the records do not share their maps").containsExactly(Map.entry("overlay", "true"));
        assertThat(file.raw()).isEmpty();
    }

    @Test
    void annotationsAreIgnoredWithoutAllowFlagOverride() throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("dev.gvisor.flag.network", "host");
        a.put("org.opencontainers.image.title", "x");
        a.put("dev.gvisor.flag.overlay", "false");
        List<String> ignored = new ArrayList<>();
        RuntimeConfig c = load("{}").withAnnotations(a, ignored);
        assertThat(c).isEqualTo(RuntimeConfig.defaults());
        assertThat(ignored).containsExactly("dev.gvisor.flag.network", "dev.gvisor.flag.overlay");
    }

    @Test
    void annotationsSetFlagsWithAllowFlagOverride() throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("dev.gvisor.flag.network", "host");
        a.put("dev.gvisor.flag.overlay", "false");
        a.put("io.kubernetes.cri.container-type", "container");
        List<String> ignored = new ArrayList<>();
        RuntimeConfig c = load("{\"allowFlagOverride\": true}").withAnnotations(a, ignored);
        assertThat(ignored).isEmpty();
        assertThat(c.network()).isEqualTo(Network.HOST);
        assertThat(c.flags()).containsExactly(Map.entry("overlay", "false"));
    }

    @Test
    void annotationsCannotSetReservedFlagsEvenWhenAllowed() throws Exception {
        RuntimeConfig c = load("{\"allowFlagOverride\": true}");
        assertThatThrownBy(() -> c.withAnnotations(Map.of("dev.gvisor.flag.root", "/tmp/evil"), new ArrayList<>()))
                .isInstanceOf(GvshimException.class)
                .hasMessage("gvshim: runsc flag --root in annotation dev.gvisor.flag.root is set by gvshim itself for every container;"
                        + " remove it [CONFIG_INVALID]");
    }
}
