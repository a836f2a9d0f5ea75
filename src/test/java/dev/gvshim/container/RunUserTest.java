package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.Mount;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** -u NAME[:GROUP], resolved in the sandbox's own /etc/passwd and /etc/group as docker does. */
class RunUserTest {
    @TempDir
    Path root;

    @BeforeEach
    void etc() throws Exception {
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/passwd"), """
                root:x:0:0:root:/root:/bin/sh
                # a comment
                app:x:1000:1000:App:/home/app:/bin/sh
                web:x:33:33::/var/www:/usr/sbin/nologin
                nohome:x:2000:50:::/bin/sh
                """);
        Files.writeString(root.resolve("etc/group"), """
                root:x:0:
                staff:x:50:app,web
                app:x:1000:
                audio:x:29:web, app
                www:x:33:
                """);
    }

    private RunUser.Ids resolve(String spec) throws GvshimException {
        return RunUser.parse(spec).resolve(p -> RunSpec.sandboxFile(root, List.of(), p));
    }

    @Test
    void aNameGetsItsIdsPrimaryGroupSupplementaryGroupsAndHome() throws Exception {
        assertThat(resolve("app")).isEqualTo(new RunUser.Ids(1000, 1000, List.of(50L, 29L), "/home/app"));
        assertThat(resolve("web")).isEqualTo(new RunUser.Ids(33, 33, List.of(50L, 29L), "/var/www"));
        assertThat(resolve("app:staff")).as("the group replaces the primary one, the others stay")
                .isEqualTo(new RunUser.Ids(1000, 50, List.of(29L), "/home/app"));
        assertThat(resolve("app:7")).isEqualTo(new RunUser.Ids(1000, 7, List.of(50L, 29L), "/home/app"));
        assertThat(resolve("nohome").home()).isNull();
        assertThat(resolve("root")).isEqualTo(new RunUser.Ids(0, 0, List.of(), "/root"));
    }

    @Test
    void numbersNeedNoEntryButUseOneThatExists() throws Exception {
        assertThat(resolve("4242")).isEqualTo(new RunUser.Ids(4242, 4242, List.of(), null));
        assertThat(resolve("4242:5")).isEqualTo(new RunUser.Ids(4242, 5, List.of(), null));
        assertThat(resolve("1000")).as("docker: the entry's group and groups").isEqualTo(new RunUser.Ids(1000, 1000,
                List.of(50L, 29L), "/home/app"));
        assertThat(resolve("1000:www")).isEqualTo(new RunUser.Ids(1000, 33, List.of(50L, 29L), "/home/app"));
        Files.delete(root.resolve("etc/passwd"));
        assertThat(resolve("1000:50")).as("no passwd at all: numbers still work").isEqualTo(new RunUser.Ids(1000, 50, List.of(), null));
        assertThat(resolve("1000:staff")).as("a named group needs only /etc/group").isEqualTo(new RunUser.Ids(1000, 50, List.of(),
                null));
    }

    @Test
    void unknownNamesAreOneLineNamingTheFileSearched() {
        assertThatThrownBy(() -> resolve("bob")).isInstanceOfSatisfying(GvshimException.class, e -> {
            assertThat(e.failure().id()).isEqualTo("USER_UNKNOWN");
            assertThat(e.failure().exitCode()).isEqualTo(125);
            assertThat(e.failure().oneLine()).isEqualTo("gvshim: cannot run as user bob: no such user in " + root.resolve("etc/passwd")
                    + " (the sandbox's /etc/passwd; -u names are looked up there, not on this host, unless the root file system"
                    + " is /). Fix: use a name listed there, or a numeric id: -u UID[:GID] [USER_UNKNOWN]");
        });
        assertThatThrownBy(() -> resolve("app:wheel")).isInstanceOfSatisfying(GvshimException.class, e -> {
            assertThat(e.failure().id()).isEqualTo("GROUP_UNKNOWN");
            assertThat(e.failure().oneLine()).contains("no such group in " + root.resolve("etc/group"));
        });
    }

    @Test
    void aMissingOrStrangeFileIsSaid() throws Exception {
        Files.delete(root.resolve("etc/passwd"));
        assertThatThrownBy(() -> resolve("app")).isInstanceOfSatisfying(GvshimException.class, e -> {
            assertThat(e.failure().id()).isEqualTo("USER_FILE_UNREADABLE");
            assertThat(e.failure().oneLine()).contains(root.resolve("etc/passwd") + ": no such file");
        });
        Files.createDirectory(root.resolve("etc/passwd"));
        assertThatThrownBy(() -> resolve("app")).hasMessageContaining("not a regular file");
    }

    @Test
    void linksResolveInsideTheRootNeverOnTheHost() throws Exception {
        Path passwd = root.resolve("etc/passwd");
        Files.move(passwd, root.resolve("etc/passwd.real"));
        Files.createSymbolicLink(passwd, Path.of("/etc/passwd.real"));
        assertThat(RunUser.inRoot(root, "/etc/passwd")).isEqualTo(root.resolve("etc/passwd.real"));
        assertThat(resolve("app").uid()).isEqualTo(1000);
        Files.delete(passwd);
        Files.createSymbolicLink(passwd, Path.of("../../../../../../etc/passwd.real"));
        assertThat(RunUser.inRoot(root, "/etc/passwd")).as(".. stops at the root").isEqualTo(root.resolve("etc/passwd.real"));
        Files.delete(passwd);
        Files.createSymbolicLink(passwd, Path.of("passwd"));
        assertThat(RunUser.inRoot(root, "/etc/passwd")).as("a loop").isNull();
    }

    @Test
    void theCallersMountsAreWhereTheSandboxLooks(@TempDir Path other) throws Exception {
        Path mine = other.resolve("passwd");
        Files.writeString(mine, "bob:x:77:78::/b:/bin/sh\n");
        List<Mount> mounts = List.of(Mount.bind(mine.toString(), "/etc/passwd", true));
        RunUser.Ids ids = RunUser.parse("bob").resolve(p -> RunSpec.sandboxFile(root, mounts, p));
        assertThat(ids).isEqualTo(new RunUser.Ids(77, 78, List.of(), "/b"));
        List<Mount> tmpfs = List.of(Mount.of("/etc", "tmpfs", "tmpfs", List.of()));
        assertThat(RunSpec.sandboxFile(root, tmpfs, "/etc/passwd")).as("an empty tmpfs hides the file").isNull();
        assertThatThrownBy(() -> RunUser.parse("bob").resolve(p -> RunSpec.sandboxFile(root, tmpfs, p)))
                .hasMessageContaining("the sandbox has no such file");
    }
}
