package dev.gvshim.userns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.FakeSyscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CallerTest {
    /** vfs_cap_data v2 for `setcap cap_setuid+ep`: magic 0x02000001 (effective), permitted bit 7. */
    static final byte[] CAP_SETUID_EP = {0x01, 0, 0, 0x02, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

    @Test
    void decodesFileCapabilities() {
        assertThat(Caller.fileCapGrants(CAP_SETUID_EP, 7)).isTrue();
        assertThat(Caller.fileCapGrants(CAP_SETUID_EP, 6)).as("cap_setgid not granted").isFalse();
        byte[] notEffective = CAP_SETUID_EP.clone();
        notEffective[0] = 0;
        assertThat(Caller.fileCapGrants(notEffective, 7)).as("+p without +e").isFalse();
        assertThat(Caller.fileCapGrants(new byte[4], 7)).isFalse();
    }

    @Test
    void aHelpersFileCapabilitiesAreReadWithGetxattr(@TempDir Path root) throws Exception {
        tree(root);
        Path helper = root.resolve("usr/bin/newuidmap");
        Caller plain = Caller.read(new FakeSyscalls(), root, "/usr/bin");
        assertThat(plain.newuidmap().fileCap()).isFalse();
        assertThat(plain.newuidmap().fileCaps()).isNull();
        Caller fcaps = Caller.read(new FakeSyscalls().xattr(helper.toString(), "security.capability", CAP_SETUID_EP), root,
                "/usr/bin");
        assertThat(fcaps.newuidmap().fileCap()).isTrue();
        assertThat(fcaps.newuidmap().privileged()).isTrue();
        assertThat(fcaps.newuidmap().fileCaps()).isEqualTo("cap_setuid=ep");
        Caller unreadable = Caller.read(new FakeSyscalls().failNext("getxattr", Errno.EACCES), root, "/usr/bin");
        assertThat(unreadable.newuidmap().fileCap()).as("an xattr that cannot be read grants nothing").isFalse();
    }

    private static void tree(Path root) throws Exception {
        Files.createDirectories(root.resolve("proc/self"));
        Files.createDirectories(root.resolve("etc"));
        Files.createDirectories(root.resolve("usr/bin"));
        Files.writeString(root.resolve("proc/self/status"), "Name:\tjava\nUid:\t1001\t1001\t1001\t1001\nGid:\t1001\t1001\t1001\t1001\n"
                + "NoNewPrivs:\t0\nSeccomp:\t0\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n");
        Files.writeString(root.resolve("proc/self/uid_map"), "         0          0 4294967295\n");
        Files.writeString(root.resolve("etc/subuid"), "1001:100000:65536\n");
        Path helper = root.resolve("usr/bin/newuidmap");
        Files.writeString(helper, "#!/bin/sh\n");
        Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void readsAFixtureTree(@TempDir Path root) throws Exception {
        tree(root);
        Caller h = Caller.read(root, "/usr/bin");
        assertThat(h.status().uid()).isEqualTo(1001);
        assertThat(h.subuid().rangesFor(null, 1001)).hasSize(1);
        assertThat(h.subgid().entries()).as("missing /etc/subgid").isEmpty();
        assertThat(h.newuidmap().present()).isTrue();
        assertThat(h.newuidmap().path()).isEqualTo("/usr/bin/newuidmap");
        assertThat(h.newuidmap().setuid()).isFalse();
        assertThat(h.newuidmap().privileged()).isFalse();
        assertThat(h.newgidmap().present()).isFalse();
        assertThat(h.ownUidMap().size()).isEqualTo(4294967295L);
        assertThat(h.ownGidMap()).as("no gid_map in the fixture").isNull();
    }
}
