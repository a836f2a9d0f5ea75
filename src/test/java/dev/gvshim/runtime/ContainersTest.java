package dev.gvshim.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.runtime.Containers.Container;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Container ids as runc accepts them, and gvshim's per-container record in the state directory. */
class ContainersTest {
    @Test
    void idsRuncAccepts() {
        for (String id : List.of("a", "web", "my_container-1", "a.b", "v1.2+build", "A-Z_0.9+", "...", ".hidden",
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "x".repeat(Containers.MAX_ID))) {
            assertThat(Containers.invalidId(id)).as(id).isNull();
        }
    }

    @Test
    void emptyIdHasRuncsOwnMessage() {
        assertThat(Containers.invalidId("")).isEqualTo("container id cannot be empty");
        assertThat(Containers.invalidId(null)).isEqualTo("container id cannot be empty");
    }

    @Test
    void idsThatWouldLeaveTheStateDirectoryAreRejected() {
        for (String id : List.of(".", "..", "../x", "a/b", "/abs", "x/..", "a b", "a\nb", "a:b", "a,b", "a*", "é", "a\0b")) {
            assertThat(Containers.invalidId(id)).as(id).startsWith("invalid container id format: ");
        }
        assertThat(Containers.invalidId("../x")).contains("\"../x\"").contains("letters, digits, and _ + - . only");
    }

    @Test
    void tooLongIdsAreRejectedWithoutEchoingThemWhole() {
        String id = "a".repeat(Containers.MAX_ID + 1);
        assertThat(Containers.invalidId(id)).startsWith("invalid container id format: ").contains("121 characters long")
                .contains("at most " + Containers.MAX_ID).doesNotContain(id);
        // runsc's state file is SANDBOX_sandbox:ID.state, and a file name has at most 255 bytes
        assertThat(("x".repeat(Containers.MAX_ID) + "_sandbox:" + "x".repeat(Containers.MAX_ID) + ".state").length())
                .isLessThanOrEqualTo(255);
    }

    @Test
    void createSaveLoadRemove(@TempDir Path tmp) throws Exception {
        Containers store = new Containers(tmp.resolve("root"));
        Container c = new Container("c1", "2-c1", Path.of("/bundles/c1"), true, "/usr/bin/runsc",
                List.of("--network=none", "--ignore-cgroups"), 0, 0);
        assertThat(store.exists("c1")).isFalse();
        assertThat(store.load("c1")).isNull();
        store.create(c);
        assertThat(store.exists("c1")).isTrue();
        assertThat(store.load("c1")).isEqualTo(c);
        assertThat(Files.isDirectory(store.debugLogs("c1"))).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.dir("c1")))).isEqualTo("rwx------");
        assertThatThrownBy(() -> store.create(c)).as("the id is taken atomically").isInstanceOf(FileAlreadyExistsException.class);

        Container held = c.withHolder(4242, 987654321L);
        store.save(held);
        assertThat(store.load("c1")).isEqualTo(held);
        assertThat(Files.exists(store.dir("c1").resolve("state.json.tmp"))).isFalse();

        store.remove("c1");
        assertThat(store.exists("c1")).isFalse();
        assertThat(Files.exists(store.dir("c1"))).isFalse();
        store.remove("c1"); // nothing left: no error
    }

    @Test
    void aContainerOnlyRunscKnowsExists(@TempDir Path root) throws Exception {
        Containers store = new Containers(root);
        Files.writeString(root.resolve("sb1_sandbox:c2.state"), "{}");
        assertThat(store.exists("c2")).isTrue();
        assertThat(store.runscState("c2")).isEqualTo(root.resolve("sb1_sandbox:c2.state"));
        assertThat(store.exists("c")).as("no prefix match").isFalse();
        assertThat(new Containers(root.resolve("missing")).runscState("c2")).isNull();
    }

    @Test
    void aRecordWithoutAHolderHasNoHolderFields(@TempDir Path tmp) throws Exception {
        Containers store = new Containers(tmp);
        store.create(new Container("c", "1-c", Path.of("/b"), false, "/r", List.of(), 0, 0));
        String props = Files.readString(store.dir("c").resolve(Containers.STATE));
        assertThat(props).doesNotContain("holderPid").contains("rootless=false");
        assertThat(store.load("c")).isEqualTo(new Container("c", "1-c", Path.of("/b"), false, "/r", List.of(), 0, 0));
    }
}
