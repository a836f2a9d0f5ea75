package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.oci.Spec;
import dev.gvshim.runsc.SpecPolicy;
import dev.gvshim.runsc.RunscRelease;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a runtime container's mount sources go when its spec has a user namespace of its own
 * (Bundle.mountDir): somewhere the namespace's root (host uid 100000 here) can search, and a
 * place it cannot is refused in one line. Real directories, mode bits checked for that uid.
 */
class UsernsMountsTest {
    static final String USERNS = "'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
            + "'gidMappings':[{'containerID':0,'hostID':100000,'size':65536}]";
    static final String DENY_DEVICES = "'resources':{'devices':[{'allow':false,'access':'rwm'}]}";

    @TempDir
    Path tmp;

    static Spec spec(String linux) {
        try {
            return Spec.parse(("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},'linux':{"
                    + linux + "}}").replace('\'', '"').getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    Path dir(String name, String mode) throws Exception {
        return Files.createDirectory(tmp.resolve(name), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
    }

    @Test
    void theSourcesGoWhereTheNamespacesRootCanSearch() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
        Containers open = new Containers(dir("open", "rwx--x--x"));
        Containers closed = new Containers(dir("closed", "rwx------"));
        assertThat(Bundle.mountDir(open, "c", spec(""), true)).as("no user namespace: the container's own directory")
                .isEqualTo(open.dir("c").resolve("mounts"));
        assertThat(Bundle.mountDir(open, "c", spec(USERNS), true)).isEqualTo(open.root().resolve("c.mounts"));
        Path shared = Bundle.mountDir(closed, "c", spec(USERNS), true);
        assertThat(shared.getParent()).as("root's, for a --root like /run/gvshim (0700)").isEqualTo(Path.of("/run/gvshim-mounts"));
        assertThat(shared).isEqualTo(Bundle.sharedMounts(closed.root(), "c")).isNotEqualTo(Bundle.sharedMounts(open.root(), "c"))
                .isNotEqualTo(Bundle.sharedMounts(closed.root(), "d"));
    }

    @Test
    void sourcesThatCannotBeReachedAreOneLine() throws Exception {
        Path closed = dir("closed", "rwx------");
        Path mountDir = closed.resolve("c.mounts");
        SpecPolicy.Result r = SpecPolicy.check(spec(USERNS + "," + DENY_DEVICES), SpecPolicy.Context.of(SpecPolicy.Mode.RUNTIME,
                "container c", tmp, true, null, () -> RunscRelease.parse("runsc version 0.0~20221219.0"), mountDir));
        assertThat(r.nodev()).as("device rules: a nodev copy of the root").isNotEmpty();
        assertThatThrownBy(() -> Bundle.checkReach(r, mountDir, "c"))
                .hasMessageContaining("its user namespace's root (host uid 100000, gid 100000) cannot search " + closed)
                .hasMessageContaining("chmod o+x " + closed).hasMessageEndingWith("[USERNS_UNREACHABLE]");
        SpecPolicy.Result none = SpecPolicy.check(spec(USERNS), SpecPolicy.Context.of(SpecPolicy.Mode.RUNTIME,
                "container c", tmp, true, null, () -> RunscRelease.parse("runsc version 0.0~20221219.0"), mountDir));
        Bundle.checkReach(none, mountDir, "c"); // nothing to mount from there: nothing to refuse
    }
}
