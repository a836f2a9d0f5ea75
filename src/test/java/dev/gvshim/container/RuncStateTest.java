package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** runc's state object: its fields in runc's order, from runsc's answer and runsc's state file. */
class RuncStateTest {
    @TempDir
    Path tmp;

    @Test
    void runcsFieldsInRuncsOrderWithTheStateFilesCreatedRootfsAndAnnotations() throws Exception {
        Path file = tmp.resolve("3-st1_sandbox:3-st1.state");
        Files.writeString(file, "{\"id\":{\"cid\":\"3-st1\"},\"spec\":{\"root\":{\"path\":\"rootfs\"},"
                + "\"annotations\":{\"a\":\"1\"}},\"bundleDir\":\"/b\",\"createdAt\":\"2026-12-07T00:25:59.66802029Z\","
                + "\"status\":\"running\"}");
        RuncState.FileFacts f = RuncState.read(file, Path.of("/b"));
        assertThat(RuncState.indented(RuncState.of("1.0.2-dev", "st1", 24114, "running", "/b", f, ""))).isEqualTo("""
                {
                  "ociVersion": "1.0.2-dev",
                  "id": "st1",
                  "pid": 24114,
                  "status": "running",
                  "bundle": "/b",
                  "rootfs": "/b/rootfs",
                  "created": "2026-12-07T00:25:59.66802029Z",
                  "annotations": {
                    "a": "1"
                  },
                  "owner": ""
                }""");
    }

    @Test
    void aStoppedContainerHasPidZeroAndAnUnreadableStateFileLeavesFieldsEmpty() {
        RuncState.FileFacts f = RuncState.read(tmp.resolve("gone.state"), Path.of("/b"));
        assertThat(f).isEqualTo(RuncState.FileFacts.NONE);
        assertThat(dev.gvshim.oci.JsonTree.compact(RuncState.of("1.0.2-dev", "x", -1, "stopped", "/b", f, "root")))
                .isEqualTo("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"x\",\"pid\":0,\"status\":\"stopped\",\"bundle\":\"/b\","
                        + "\"rootfs\":\"\",\"created\":\"\",\"owner\":\"root\"}");
        Path abs = Path.of("/abs/rootfs");
        assertThat(Path.of("/b").resolve(abs)).as("an absolute root.path is taken as it is").isEqualTo(abs);
    }
}
