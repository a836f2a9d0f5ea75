package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.container.Container;
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
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "x".repeat(ContainerIds.MAX_ID))) {
            assertThat(ContainerIds.invalidId(id)).as(id).isNull();
        }
    }

    @Test
    void emptyIdHasRuncsOwnMessage() {
        assertThat(ContainerIds.invalidId("")).isEqualTo("container id cannot be empty");
        assertThat(ContainerIds.invalidId(null)).isEqualTo("container id cannot be empty");
    }

    @Test
    void idsThatWouldLeaveTheStateDirectoryAreRejected() {
        for (String id : List.of(".", "..", "../x", "a/b", "/abs", "x/..", "a b", "a\nb", "a:b", "a,b", "a*", "é", "a\0b")) {
            assertThat(ContainerIds.invalidId(id)).as(id).startsWith("invalid container ID format: ");
        }
        assertThat(ContainerIds.invalidId("../x")).contains("\"../x\"").contains("letters, digits, and _ + - . only");
    }

    @Test
    void tooLongIdsAreRejectedWithoutEchoingThemWhole() {
        String id = "a".repeat(ContainerIds.MAX_ID + 1);
        assertThat(ContainerIds.invalidId(id)).startsWith("invalid container ID format: ").contains("249 characters long")
                .contains("at most " + ContainerIds.MAX_ID).doesNotContain(id);
        // gvshim's directory ID.gvshim is a file name: at most 255 bytes
        assertThat(("a".repeat(ContainerIds.MAX_ID) + ".gvshim").length()).isEqualTo(255);
    }

    @Test
    void idsStartingWithADashAreRefusedAsRuncWouldWordIt() {
        // runsc's flag parser would take "-x" for an option and print its usage
        for (String id : List.of("-x", "--root", "-", "-1")) {
            assertThat(ContainerIds.invalidId(id)).as(id).startsWith("invalid container ID format: \"" + id + "\"")
                    .contains("cannot start with -");
        }
        assertThat(ContainerIds.invalidId("x-")).isNull();
        assertThat(ContainerIds.invalidId("a-b")).isNull();
    }

    @Test
    void runscIdsAreNeverAPrefixOfAnother() {
        List<String> ids = new java.util.ArrayList<>(List.of("relpfx", "relpfx2", "relw", "relw-victim", "a", "a-1",
                "1-a", "2-1-a", "10", "1", "h", "h-0", "web", "web2", "web-1", "x".repeat(88), "x".repeat(89),
                "x".repeat(90), "x".repeat(91), "x".repeat(ContainerIds.MAX_ID), "y".repeat(ContainerIds.MAX_ID),
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        for (int n = 1; n <= 100; n++) {
            ids.add("c" + "9".repeat(n - 1));
        }
        java.util.Set<String> runscIds = new java.util.HashSet<>();
        for (String id : ids) {
            String r = ContainerIds.runscIdFor(id);
            assertThat(r).as(id).matches("[A-Za-z0-9_+.-]+"); // runsc's own rule (container.go validateID)
            assertThat(r.length()).as(id).isLessThanOrEqualTo(ContainerIds.MAX_RUNSC_ID);
            // runsc's state file CONTAINER_sandbox:SANDBOX.state is a file name
            assertThat((r + "_sandbox:" + r + ".state").length()).as(id).isLessThanOrEqualTo(255);
            assertThat(ContainerIds.looksLikeRunscId(r)).as(r).isTrue();
            assertThat(runscIds.add(r)).as("distinct: " + id).isTrue();
        }
        for (String a : runscIds) {
            for (String b : runscIds) {
                if (!a.equals(b)) {
                    assertThat(b.startsWith(a)).as(a + " is a prefix of " + b).isFalse();
                }
            }
        }
        assertThat(ContainerIds.runscIdFor("relpfx")).as("readable where it fits").isEqualTo("6-relpfx");
        assertThat(ContainerIds.runscIdFor("relw-victim")).isEqualTo("11-relw-victim");
        assertThat(ContainerIds.runscIdFor("x".repeat(89))).isEqualTo("89-" + "x".repeat(89));
        assertThat(ContainerIds.runscIdFor("x".repeat(90))).matches("h-[0-9a-f]{40}");
        assertThat(ContainerIds.runscIdFor("x".repeat(90))).as("stable").isEqualTo(ContainerIds.runscIdFor("x".repeat(90)));
    }

    @Test
    void aReadableRunscIdNamesItsContainer() {
        assertThat(ContainerIds.idOfReadable("6-relpfx")).isEqualTo("relpfx");
        assertThat(ContainerIds.idOfReadable("3-a-b")).isEqualTo("a-b");
        for (String notOne : List.of("relpfx", "5-relpfx", "06-relpfx", "-relpfx", "6relpfx", "x-relpfx", "1234-a")) {
            assertThat(ContainerIds.idOfReadable(notOne)).as(notOne).isNull();
        }
        assertThat(ContainerIds.looksLikeRunscId("h-" + "0".repeat(40))).isTrue();
        assertThat(ContainerIds.looksLikeRunscId("h-" + "0".repeat(39))).isFalse();
        assertThat(ContainerIds.looksLikeRunscId("relpfx")).isFalse();
    }

    @Test
    void createSaveLoadRemove(@TempDir Path tmp) throws Exception {
        Containers store = new Containers(tmp.resolve("root"));
        Container c = new Container("c1", "2-c1", Path.of("/bundles/c1"), true, "/usr/bin/runsc",
                List.of("--network=none", "--ignore-cgroups"), 0, 0);
        assertThat(store.exists("c1")).isFalse();
        assertThat(store.load("c1")).isNull();
        store.create(c);
        assertThat(Files.readString(store.dir("c1").resolve(Containers.STATE))).contains("runscId=2-c1");
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
    void runscsStateFilesAreFoundByExactContainerIdAndByPrefixAsRunscDoes(@TempDir Path root) throws Exception {
        Containers store = new Containers(root);
        // CONTAINER_sandbox:SANDBOX.state (runsc/container/state_file.go buildPath)
        for (String f : List.of("c2_sandbox:sb1.state", "c2_sandbox:sb1.lock", "c22_sandbox:c22.state", "c_x_sandbox:c_x.state",
                "6-relpfx_sandbox:6-relpfx.state", "7-relpfx2_sandbox:7-relpfx2.state", "notes.txt")) {
            Files.writeString(root.resolve(f), "{}");
        }
        assertThat(store.runscState("c2")).isEqualTo(root.resolve("c2_sandbox:sb1.state"));
        assertThat(store.runscState("sb1")).as("a sandbox id is not a container id").isNull();
        assertThat(store.runscState("c")).as("no prefix match").isNull();
        assertThat(new Containers(root.resolve("missing")).runscState("c2")).isNull();
        // what runsc's findContainerID would match for each id
        assertThat(store.prefixMatches("c2")).containsExactly("c2", "c22");
        assertThat(store.prefixMatches("c")).containsExactly("c2", "c22", "c_x");
        assertThat(store.prefixMatches("c22")).containsExactly("c22");
        assertThat(store.prefixMatches("6-relpfx")).containsExactly("6-relpfx");
        assertThat(store.prefixMatches("relpfx")).isEmpty();
        assertThat(store.runscIds()).containsExactly("6-relpfx", "7-relpfx2", "c2", "c22", "c_x");
        assertThat(Containers.containerOf("a_b_sandbox:a_b.state")).isEqualTo("a_b");
        assertThat(Containers.containerOf("a_sandbox:b.lock")).isNull();
        assertThat(Containers.containerOf("x.state")).isNull();
    }

    @Test
    void aRecordOfTheGvshimBeforeRunscIdsIsAddressedByItsOwnId(@TempDir Path root) throws Exception {
        Containers store = new Containers(root);
        Files.createDirectories(store.dir("old"));
        Files.writeString(store.dir("old").resolve(Containers.STATE),
                "id=old\nbundle=/b\nrootless=false\nrunsc=/usr/bin/runsc\nflags=1\nflag.0=--network=none\n");
        Container c = store.load("old");
        assertThat(c.runscId()).isEqualTo("old");
        assertThat(c.hasOwnRunscId()).isFalse();
        assertThat(c.flags()).containsExactly("--network=none");
        Container fresh = new Container("new", ContainerIds.runscIdFor("new"), Path.of("/b"), false, "/r", List.of(), 0, 0);
        store.create(fresh);
        assertThat(store.load("new").runscId()).isEqualTo("3-new");
        assertThat(store.byRunscId()).containsOnlyKeys("old", "3-new");
    }

    @Test
    void theSandboxAndStatusComeFromRunscsStateFile(@TempDir Path root) throws Exception {
        Containers store = new Containers(root);
        // as runsc 2022-12 writes it (Go's compact JSON; the spec may hold a "status" of its own)
        Files.writeString(root.resolve("4-app1_sandbox:6-pause1.state"), "{\"id\":\"4-app1\",\"spec\":{\"annotations\":"
                + "{\"status\":\"x\"}},\"status\":\"paused\",\"goferPid\":7,\"sandbox\":{\"id\":\"6-pause1\","
                + "\"pid\":4242,\"cgroup\":null}}");
        assertThat(store.sandbox("4-app1")).isEqualTo(new Containers.Sandbox("6-pause1", 4242));
        assertThat(store.sandboxPid("4-app1")).isEqualTo(4242);
        assertThat(store.recordedStatus("4-app1")).isEqualTo("paused");
        assertThat(store.sandbox("6-pause1")).isNull();
        assertThat(store.recordedStatus("6-pause1")).isEmpty();
    }

    @Test
    void signalsForAPausedContainerAreHeldUntilTaken(@TempDir Path root) throws Exception {
        Containers store = new Containers(root);
        store.create(new Container("p", "1-p", Path.of("/b"), false, "/r", List.of(), 0, 0));
        assertThat(store.takeHeldSignals("p")).isEmpty();
        store.holdSignal("p", new Containers.HeldSignal(15, false));
        store.holdSignal("p", new Containers.HeldSignal(10, true));
        assertThat(store.takeHeldSignals("p")).containsExactly(new Containers.HeldSignal(15, false),
                new Containers.HeldSignal(10, true));
        assertThat(store.takeHeldSignals("p")).as("delivered once").isEmpty();
    }

    @Test
    void onlyALiveRunscSandboxIsThatSandbox(@TempDir Path root) {
        Containers store = new Containers(root);
        assertThat(store.sandboxAlive((int) ProcessHandle.current().pid(), "x")).as("another program").isFalse();
        assertThat(store.sandboxAlive(0, "x")).isFalse();
        assertThat(store.sandboxAlive(Integer.MAX_VALUE, "x")).as("no such pid").isFalse();
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
