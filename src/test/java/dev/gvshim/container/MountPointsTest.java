package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which mount points gvshim makes (nsexec's mirrors) for a generated spec's root, and what nsexec is told. */
class MountPointsTest {
    @TempDir
    Path root;
    @TempDir
    Path src;

    private RunRequest req(List<RunRequest.BindMount> mounts, List<String> tmpfs) {
        return new RunRequest(List.of("true"), null, root, mounts, tmpfs, null, List.of(), false, Network.NONE, null, 2, null,
                null, null, Mode.AUTO, RunRequest.Tty.AUTO, null, null, null, false, false, false);
    }

    @Test
    void missingDestinationsGetTheirNearestExistingDirectoryOuterFirst() throws Exception {
        // /tmp/in-memory: a tmpfs in the spec's own /tmp tmpfs, made by the sentry in memory
        Files.createDirectories(root.resolve("etc/ssl"));
        Files.createDirectories(root.resolve("mnt"));
        Files.createSymbolicLink(root.resolve("var"), Path.of("/etc"));
        Path file = Files.writeString(src.resolve("f"), "x");
        List<MountPoints.Point> p = MountPoints.missing(req(List.of(
                new RunRequest.BindMount(file, "/etc/ssl/new/x.pem", true),
                new RunRequest.BindMount(file, "/etc/app.conf", true),
                new RunRequest.BindMount(src, "/mnt", false),
                new RunRequest.BindMount(src, "/data", false),
                new RunRequest.BindMount(file, "/data/inside", true),
                new RunRequest.BindMount(file, "/var/linked.conf", true)), List.of("/scratch/a", "/tmp/in-memory")), List.of("/tmp"));
        assertThat(p).containsExactly(
                new MountPoints.Point("/data", "/", "data", true),
                new MountPoints.Point("/scratch/a", "/", "scratch/a", true),
                new MountPoints.Point("/etc/app.conf", "/etc", "app.conf", false),
                new MountPoints.Point("/var/linked.conf", "/etc", "linked.conf", false),
                new MountPoints.Point("/etc/ssl/new/x.pem", "/etc/ssl", "new/x.pem", false));
        Path file2 = src.resolve("mountpoints");
        MountPoints.write(p, Path.of("/run/copy"), file2);
        String[] f = new String(Files.readAllBytes(file2), StandardCharsets.UTF_8).split("\0", -1);
        assertThat(f).startsWith("/run/copy", "data", "d", "/run/copy", "scratch/a", "d", "/run/copy/etc", "app.conf", "f");
        assertThat(MountPoints.notes(p).get(2)).startsWith("made the mount point /etc/app.conf (an empty file, missing from the"
                + " root file system) in a read-only copy of /etc: ").endsWith("nothing is written on the host");
    }

    @Test
    void nothingIsMadeWhenEverythingExists() throws Exception {
        Files.createDirectories(root.resolve("mnt"));
        Path list = src.resolve("mountpoints");
        List<MountPoints.Point> none = MountPoints.missing(req(List.of(new RunRequest.BindMount(src, "/mnt", false)), List.of("/mnt")),
                List.of());
        assertThat(none).isEmpty();
        MountPoints.write(none, root, list);
        assertThat(list).doesNotExist();
    }

    @Test
    void aFileInTheWayIsRefused() throws Exception {
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/hostname"), "h");
        assertThatThrownBy(() -> MountPoints.missing(req(List.of(new RunRequest.BindMount(src, "/etc/hostname/sub", false)),
                List.of()), List.of())).isInstanceOfSatisfying(GvshimException.class, e -> {
                    assertThat(e.failure().id()).isEqualTo("MOUNT_POINT");
                    assertThat(e.failure().oneLine()).contains("/etc/hostname is a file in the root file system");
                });
    }
}
