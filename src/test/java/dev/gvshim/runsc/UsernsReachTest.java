package dev.gvshim.runsc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gvshim.oci.Spec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A spec's own user namespace and what its root can reach: runsc's gofer looks the root file
 * system and bind sources up as the host uid the container's root maps to (runc opens them before
 * it joins the namespace). Mode bits of real directories, checked for another uid than the
 * test's (so the same as root or not).
 */
class UsernsReachTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MAPS = "'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
            + "'gidMappings':[{'containerID':0,'hostID':100000,'size':65536}]";

    @TempDir
    Path tmp;

    static Spec spec(String linux, String mounts) throws Exception {
        return Spec.parse(("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},'mounts':["
                + mounts + "],'linux':{" + linux + "}}").replace('\'', '"').getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theMappedRootIsThatOfANewUserNamespaceOnly() throws Exception {
        assertThat(UsernsReach.mappedRoot(spec("'namespaces':[{'type':'user'}]," + MAPS, "").json()))
                .containsExactly(100000, 100000);
        assertThat(UsernsReach.mappedRoot(spec("'namespaces':[{'type':'mount'}]", "").json())).as("none").isNull();
        assertThat(UsernsReach.mappedRoot(spec("'namespaces':[{'type':'user','path':'/proc/1/ns/user'}]," + MAPS, "").json()))
                .as("one joined: not the spec's to map").isNull();
        assertThat(UsernsReach.mappedRoot(spec("'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':1,'hostID':5,'size':9}]",
                "").json())).as("root unmapped").containsExactly(0, 0);
    }

    @Test
    void searchIsDecidedByTheModeBitsThatApplyToTheUid() throws Exception {
        Path closed = Files.createDirectory(tmp.resolve("closed"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Path open = Files.createDirectory(closed.resolve("open"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx--x--x")));
        assertThat(UsernsReach.searchable(closed, 100000, 100000)).isFalse();
        assertThat(UsernsReach.searchable(open, 100000, 100000)).isTrue();
        long owner = (Integer) Files.getAttribute(closed, "unix:uid");
        assertThat(UsernsReach.searchable(closed, owner, 100000)).as("its owner").isTrue();
        assertThat(UsernsReach.reaches(open, 100000, 100000)).as("a closed directory on the way").isFalse();
        assertThat(UsernsReach.firstUnsearchable(open.resolve("not-yet"), 100000, 100000)).as("the one that blocks")
                .isEqualTo(closed);
        assertThat(UsernsReach.firstUnsearchable(open, owner, 100000)).as("its owner searches it and all above (/tmp, /)")
                .isNull();
        assertThat(UsernsReach.searchable(tmp.resolve("missing"), 100000, 100000)).as("unknown: runsc says").isTrue();
    }

    @Test
    void aBindSourceTheNamespacesRootCannotReachGetsACopyWhereItCan() throws Exception {
        Path closed = Files.createDirectory(tmp.resolve("closed"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Path data = Files.createDirectory(closed.resolve("data"));
        Path state = Files.createDirectory(tmp.resolve("state"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx--x--x")));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
        String mounts = "{'destination':'/d','type':'bind','source':'" + data + "','options':['rbind']},"
                + "{'destination':'/e','type':'bind','source':'/etc','options':['rbind','ro']}";
        Spec s = spec("'namespaces':[{'type':'user'}]," + MAPS, mounts);
        SpecPolicy.Result r = SpecPolicy.check(s, ctx(state.resolve("ct.mounts")));
        assertThat(r.nodev()).extracting(SpecPolicy.NodevBind::source).as("only the one it cannot reach").containsExactly(data);
        assertThat(r.spec().mounts().getFirst().source()).isEqualTo(state.resolve("ct.mounts").resolve("m1").toString());
        assertThat(r.spec().mounts().get(1).source()).isEqualTo("/etc");
        assertThat(r.spec().root().path()).as("no device rules: the root as it is").isEqualTo("rootfs");

        // where the copy could not be reached either (a state directory under the closed one), nothing changes
        Path closedState = Files.createDirectory(closed.resolve("state"));
        assertThat(SpecPolicy.check(s, ctx(closedState.resolve("ct.mounts"))).nodev()).isEmpty();
        // no user namespace: runsc looks it up as root
        assertThat(SpecPolicy.check(spec("", mounts), ctx(state.resolve("ct.mounts"))).nodev()).isEmpty();
    }

    private static SpecPolicy.Context ctx(Path mountDir) {
        return SpecPolicy.Context.of(SpecPolicy.Mode.RUNTIME, "container ct", Path.of("/bundle"), true, null,
                () -> SpecPolicyTest.R2022, mountDir);
    }
}
