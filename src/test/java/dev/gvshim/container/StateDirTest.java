package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDirTest {
    static int uid() throws Exception {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    @Test
    void defaultIsTheUsersRuntimeDirElseTmp(@TempDir Path xdg) throws Exception {
        assertThat(StateDir.defaultFor(Map.of("XDG_RUNTIME_DIR", xdg.toString()), uid())).isEqualTo(xdg.resolve("gvshim"));
        assertThat(StateDir.defaultFor(Map.of("XDG_RUNTIME_DIR", xdg.toString()), uid() + 1)).as("not ours")
                .isEqualTo(Path.of("/tmp/gvshim-" + (uid() + 1)));
        assertThat(StateDir.defaultFor(Map.of("XDG_RUNTIME_DIR", "relative"), 7)).isEqualTo(Path.of("/tmp/gvshim-7"));
        assertThat(StateDir.defaultFor(Map.of(), 7)).isEqualTo(Path.of("/tmp/gvshim-7"));
        // inside `unshare -r` as uid 1004: root there is not the host's root
        assertThat(StateDir.defaultFor(Map.of(), 0, dev.gvshim.userns.IdMap.outer(dev.gvshim.userns.IdMap.of(0, 1004, 1), 0)))
                .isEqualTo(Path.of("/tmp/gvshim-0-outer1004"));
        assertThat(dev.gvshim.userns.IdMap.outer(dev.gvshim.userns.IdMap.of(0, 0, 4294967295L), 0)).isEqualTo(-1);
    }

    @Test
    void createsIt0700AndAcceptsItAgain(@TempDir Path parent) throws Exception {
        Path d = StateDir.prepare(parent.resolve("s"), uid(), false);
        assertThat(Files.getPosixFilePermissions(d)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(StateDir.prepare(d, uid(), false)).isEqualTo(d);
    }

    @Test
    void refusesSymlinksOpenModesAndOtherOwners(@TempDir Path parent) throws Exception {
        Path target = Files.createDirectory(parent.resolve("target"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path link = Files.createSymbolicLink(parent.resolve("link"), target);
        assertThatThrownBy(() -> StateDir.prepare(link, uid(), false)).isInstanceOf(UnsafeStateDirException.class)
                .hasMessageContaining("symbolic link");
        Path open = Files.createDirectory(parent.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> StateDir.prepare(open, uid(), false)).isInstanceOfSatisfying(UnsafeStateDirException.class,
                e -> assertThat(e.fix()).isEqualTo("chmod 700 " + open));
        Path file = Files.writeString(parent.resolve("file"), "");
        assertThatThrownBy(() -> StateDir.prepare(file, uid(), false)).hasMessageContaining("not a directory");
        assertThatThrownBy(() -> StateDir.prepare(parent.resolve("no/such/parent"), uid(), false)).hasMessageContaining("parent");
        assertThatThrownBy(() -> StateDir.prepare(target, uid() + 1, false)).isInstanceOf(UnsafeStateDirException.class)
                .hasMessageContaining("owned by uid " + uid());
    }

    @Test
    void anExplicitRootIsNeverToBeChangedOnlyReplaced(@TempDir Path parent) throws Exception {
        Path open = Files.createDirectory(parent.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> StateDir.prepare(open, uid(), true)).isInstanceOfSatisfying(UnsafeStateDirException.class,
                e -> {
                    assertThat(e.why()).contains("open to other users");
                    assertThat(e.fix()).startsWith("pass a --root only you can use").doesNotContain("chmod", "rm ");
                });
        assertThatThrownBy(() -> StateDir.prepare(open, uid() + 1, true)).isInstanceOfSatisfying(
                UnsafeStateDirException.class, e -> assertThat(e.fix()).doesNotContain("rm -rf"));
    }

    @Test
    void aDirectoryPlantedByAnotherUserIsRefused(@TempDir Path parent) throws Exception {
        assumeTrue(uid() == 0, "needs root to create a directory owned by someone else");
        Path planted = Files.createDirectory(parent.resolve("gvshim-0"));
        Files.setAttribute(planted, "unix:uid", 12345);
        assertThatThrownBy(() -> StateDir.prepare(planted, 0, false)).hasMessageContaining("owned by uid 12345, not by you");
    }
}
