package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.failure.GvshimException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The detached sandboxes' records: names (unique, valid, generated), lookup by name, id or prefix, removal. */
class SandboxesTest {
    @TempDir
    Path root;

    private Sandboxes store() throws Exception {
        Sandboxes sb = new Sandboxes(root);
        sb.prepare();
        return sb;
    }

    @Test
    void namesFollowDockersRule() {
        for (String ok : List.of("web", "w", "web-1", "a.b_c", "0x", "x".repeat(64))) {
            assertThat(Sandboxes.invalidName(ok)).as(ok).isNull();
        }
        for (String bad : List.of("", "-web", ".web", "_web", "a/b", "a b", "x".repeat(65), "..", "a:b")) {
            assertThat(Sandboxes.invalidName(bad)).as(bad).contains("invalid sandbox name");
        }
    }

    @Test
    void aNameIsTakenOnceAndGeneratedOnesAreFree() throws Exception {
        Sandboxes sb = store();
        assertThat(Files.getPosixFilePermissions(sb.dir())).hasToString("[OWNER_READ, OWNER_WRITE, OWNER_EXECUTE]");
        assertThat(sb.reserve("web", "aaaaaaaaaaaa")).isEqualTo("web");
        sb.save(new Sandboxes.Record("aaaaaaaaaaaa", "web", List.of("sleep", "1"), "2026-01-01T00:00:00Z", false));
        assertThatThrownBy(() -> sb.reserve("web", "bbbbbbbbbbbb")).isInstanceOf(GvshimException.class)
                .hasMessage("gvshim: cannot start sandbox web: the name is in use by sandbox aaaaaaaaaaaa (names are unique per"
                        + " user, exited sandboxes included). Fix: choose another --name, or remove that one: gvshim rm -f web"
                        + " [SANDBOX_NAME_IN_USE]");
        java.util.Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < 300; i++) {
            names.add(sb.reserve(null, "c" + i));
        }
        assertThat(names).as("300 generated names, all different").hasSize(300)
                .allSatisfy(n -> assertThat(n).matches("[a-z]+_[a-z]+\\d*"));
        assertThat(Sandboxes.generatedName(new SplittableRandom(1), 0)).matches("[a-z]+_[a-z]+");
        assertThat(Sandboxes.generatedName(new SplittableRandom(1), 3)).matches("[a-z]+_[a-z]+3");
        assertThat(Sandboxes.newId()).matches("[0-9a-f]{12}");
    }

    @Test
    void foundByNameIdOrUniquePrefixAndRemovedWithEverything() throws Exception {
        Sandboxes sb = store();
        for (String[] s : List.of(new String[] {"abc123000000", "one"}, new String[] {"abd456000000", "two"})) {
            sb.reserve(s[1], s[0]);
            sb.save(new Sandboxes.Record(s[0], s[1], List.of("sh", "-c", "echo \"x\""), "2026-01-0" + s[1].length() + "T00:00:00Z",
                    true));
            Files.createDirectories(sb.bundle(s[0]));
            Files.writeString(sb.bundle(s[0]).resolve("config.json"), "{}");
            Files.writeString(sb.log(s[0]), "out\n");
        }
        assertThat(sb.find("one").id()).isEqualTo("abc123000000");
        assertThat(sb.find("one").command()).containsExactly("sh", "-c", "echo \"x\"");
        assertThat(sb.find("one").rm()).isTrue();
        assertThat(sb.find("abd456000000").name()).isEqualTo("two");
        assertThat(sb.find("abc1").name()).as("a unique prefix").isEqualTo("one");
        assertThat(sb.find("ab")).as("an ambiguous prefix").isNull();
        assertThat(sb.find("../x")).isNull();
        assertThatThrownBy(() -> SandboxOps.find(sb, "three")).isInstanceOf(GvshimException.class)
                .hasMessage("gvshim: cannot find sandbox three: no detached sandbox of yours has this name or id. Fix:"
                        + " `gvshim ps -a` lists them [SANDBOX_NOT_FOUND]");
        assertThat(sb.all()).extracting(Sandboxes.Record::name).containsExactly("one", "two");
        sb.remove("abc123000000", "one");
        assertThat(sb.find("one")).isNull();
        try (var files = Files.list(sb.dir())) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("abd456000000.bundle", "abd456000000.json", "abd456000000.log", "name.two");
        }
        assertThat(sb.reserve("one", "eeeeeeeeeeee")).as("a removed sandbox's name is free again").isEqualTo("one");
    }
}
