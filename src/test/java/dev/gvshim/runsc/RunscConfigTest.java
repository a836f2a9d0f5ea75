package dev.gvshim.runsc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunscConfigTest {
    @Test
    void rendersFlags() {
        RunscConfig c = new RunscConfig(Path.of("/s/r"), Path.of("/s/runsc.log"), Path.of("/s/debug"), RunscConfig.Network.NONE,
                null, false, false);
        assertThat(c.toFlags()).containsExactly("--root=/s/r", "--log=/s/runsc.log", "--log-format=json", "--debug-log=/s/debug/",
                "--ignore-cgroups", "--network=none");
        RunscConfig all = new RunscConfig(Path.of("/r"), Path.of("/l"), Path.of("/d"), RunscConfig.Network.HOST, "kvm", true, true);
        assertThat(all.toFlags()).contains("--debug", "--network=host", "--platform=kvm", "--rootless");
    }

    @Test
    void locatesRunsc(@TempDir Path dir) throws Exception {
        Path fake = Files.writeString(dir.resolve("runsc"), "#!/bin/sh\n");
        fake.toFile().setExecutable(true);
        assertThat(Runsc.locate(null, dir.toString())).isEqualTo(fake);
        assertThat(Runsc.locate(fake.toString(), null)).isEqualTo(fake);
        assertThatThrownBy(() -> Runsc.locate(dir.resolve("nope").toString(), null)).hasMessageContaining("does not exist");
        Path notExec = Files.writeString(dir.resolve("plain"), "");
        assertThatThrownBy(() -> Runsc.locate(notExec.toString(), null)).hasMessageContaining("not an executable");
    }

    @Test
    void rootRuntimeLeavesCgroupsToRunscAndRootlessIgnoresThem() {
        RunscConfig root = new RunscConfig(Path.of("/r"), Path.of("/l"), Path.of("/d"), RunscConfig.Network.SANDBOX, null,
                false, false, false, java.util.Map.of(), java.util.List.of());
        assertThat(root.toFlags()).as("runsc puts the sandbox in the spec's cgroupsPath (docker stats)")
                .doesNotContain("--ignore-cgroups", "--rootless").contains("--network=sandbox");
        RunscConfig rootless = new RunscConfig(Path.of("/r"), Path.of("/l"), Path.of("/d"), RunscConfig.Network.NONE, null,
                false, false, true, java.util.Map.of(), java.util.List.of());
        assertThat(rootless.toFlags()).contains("--ignore-cgroups").doesNotContain("--rootless");
    }

    @Test
    void extraFlagsInOrderThenRawArguments() {
        java.util.Map<String, String> extra = new java.util.LinkedHashMap<>();
        extra.put("overlay", "true");
        extra.put("file-access", "shared");
        RunscConfig c = new RunscConfig(Path.of("/r"), Path.of("/l"), Path.of("/d"), RunscConfig.Network.HOST, "systrap",
                false, true, true, extra, java.util.List.of("--strace", "--strace-syscalls=open"));
        assertThat(c.toFlags()).containsExactly("--root=/r", "--log=/l", "--log-format=json", "--debug-log=/d/", "--debug",
                "--ignore-cgroups", "--network=host", "--platform=systrap", "--overlay=true", "--file-access=shared",
                "--strace", "--strace-syscalls=open");
    }

    @Test
    void networkNames() {
        assertThat(RunscConfig.Network.parse("none")).isEqualTo(RunscConfig.Network.NONE);
        assertThat(RunscConfig.Network.parse("Sandbox")).isEqualTo(RunscConfig.Network.SANDBOX);
        assertThat(RunscConfig.Network.parse("HOST")).isEqualTo(RunscConfig.Network.HOST);
        assertThat(RunscConfig.Network.parse("bridge")).isNull();
        assertThat(RunscConfig.Network.parse(null)).isNull();
        assertThat(RunscConfig.Network.HOST.flag()).isEqualTo("host");
    }
}
