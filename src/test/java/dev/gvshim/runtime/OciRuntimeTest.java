package dev.gvshim.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pure parts of the verbs: the flags a container keeps, runc durations as runsc seconds, options merged. */
class OciRuntimeTest {
    @TempDir
    Path tmp;

    OciRuntime runtime(List<String> runscFlags, List<String> runscArgs, String network) throws RuntimeError {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        Globals g = new Globals(tmp.resolve("root").toString(), null, "json", false, false, "auto",
                tmp.resolve("no-config.json").toString(), "/opt/runsc", network, "systrap", runscArgs, runscFlags);
        Map<String, String> env = new LinkedHashMap<>();
        return new OciRuntime(g, env, sink, sink);
    }

    @Test
    void containerFlagsDropThePerCallOnes() throws Exception {
        OciRuntime rt = runtime(List.of(), List.of(), null);
        RuntimeConfig c = RuntimeConfig.defaults().withFlag("overlay", "true", "").withRaw(List.of("--strace"));
        assertThat(rt.containerFlags(c, true)).containsExactly("--ignore-cgroups", "--network=none", "--overlay=true",
                "--strace");
        assertThat(rt.containerFlags(c, false)).containsExactly("--network=none", "--overlay=true", "--strace");
    }

    @Test
    void anExplicitConfigFileThatDoesNotExistIsAnError() throws Exception {
        assertThatThrownBy(() -> runtime(List.of(), List.of(), null).config()).isInstanceOf(RuntimeError.class)
                .hasMessage("configuration file " + tmp.resolve("no-config.json") + " does not exist");
    }

    @Test
    void optionsOverrideTheConfigFile() throws Exception {
        java.nio.file.Files.writeString(tmp.resolve("no-config.json"),
                "{\"runsc\": \"/usr/bin/runsc\", \"network\": \"host\", \"runscFlags\": {\"overlay\": \"false\"}}");
        RuntimeConfig c = runtime(List.of("overlay=true", "file-access=shared"), List.of("--strace"), "sandbox").config();
        assertThat(c.runsc()).isEqualTo("/opt/runsc");
        assertThat(c.network()).isEqualTo(dev.gvshim.runsc.RunscConfig.Network.SANDBOX);
        assertThat(c.platform()).isEqualTo("systrap");
        assertThat(c.flags()).containsExactly(Map.entry("overlay", "true"), Map.entry("file-access", "shared"));
        assertThat(c.raw()).containsExactly("--strace");
    }

    @Test
    void runscFlagOptionsNeedNameEqualsValue() throws Exception {
        java.nio.file.Files.writeString(tmp.resolve("no-config.json"), "{}");
        assertThatThrownBy(() -> runtime(List.of("overlay"), List.of(), null).config()).isInstanceOf(RuntimeError.class)
                .hasMessageStartingWith("--runsc-flag overlay: expected NAME=VALUE")
                .satisfies(e -> assertThat(((RuntimeError) e).exitCode()).isEqualTo(2));
        assertThatThrownBy(() -> runtime(List.of("log=/tmp/x"), List.of(), null).config())
                .hasMessage("runsc flag --log (--runsc-flag) is set by gvshim itself for every container; remove it");
    }

    @Test
    void runcDurationsBecomeWholeSecondsForRunsc() throws Exception {
        assertThat(OciRuntime.seconds("5s")).isEqualTo(5);
        assertThat(OciRuntime.seconds("5")).isEqualTo(5);
        assertThat(OciRuntime.seconds("2m")).isEqualTo(120);
        assertThat(OciRuntime.seconds("1h")).isEqualTo(3600);
        assertThat(OciRuntime.seconds("1500ms")).as("rounded up").isEqualTo(2);
        assertThat(OciRuntime.seconds("0s")).as("at least one second").isEqualTo(1);
        for (String bad : List.of("", "5x", "-1s", "1.5s", "s")) {
            assertThatThrownBy(() -> OciRuntime.seconds(bad)).as(bad).isInstanceOf(RuntimeError.class)
                    .hasMessageContaining("invalid --interval");
        }
    }

    @Test
    void anExecAsksForATerminalOnlyInItsProcessJson() throws Exception {
        Path tty = tmp.resolve("tty.json");
        java.nio.file.Files.writeString(tty, "{\"terminal\" :\n true, \"args\": [\"sh\"]}");
        Path plain = tmp.resolve("plain.json");
        java.nio.file.Files.writeString(plain, "{\"terminal\": false, \"env\": [\"X=\\\"terminal\\\": true\"]}");
        assertThat(OciRuntime.wantsTerminal(tty)).isTrue();
        assertThat(OciRuntime.wantsTerminal(plain)).as("the word in a string is not the field").isFalse();
        assertThat(OciRuntime.wantsTerminal(tmp.resolve("missing.json"))).as("runsc reports it").isFalse();
        assertThat(OciRuntime.NO_CONSOLE).startsWith("cannot allocate tty if runc will detach without setting console socket")
                .endsWith("[TERMINAL_NEEDS_CONSOLE_SOCKET]");
    }
}
