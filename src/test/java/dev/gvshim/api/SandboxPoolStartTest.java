package dev.gvshim.api;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SandboxPool.start's refusals, made before any gvshim is run. */
class SandboxPoolStartTest {
    @TempDir
    Path dir;

    @Test
    void aPathThatTheSpecWouldReadBackAsAnotherProfileIsRefused() throws Exception {
        Files.createDirectories(dir.resolve("x"));
        Path comma = Files.createDirectories(dir.resolve("x,min=0"));
        // said as NAME:...,rootfs=DIR/x,min=0,...: read back, another rootfs (DIR/x) and another min
        assertThatThrownBy(() -> SandboxPool.start("py", new SandboxBuilder("true").rootfs(comma), 1, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leave ',' out");
    }
}
