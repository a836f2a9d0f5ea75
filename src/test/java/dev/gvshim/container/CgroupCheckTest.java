package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.failure.GvshimException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** runc's frozen and non-empty checks of the spec's cgroup, where runsc will look for it (fake cgroup trees). */
class CgroupCheckTest {
    static final String V1_MOUNTS = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            33 31 0:30 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """;
    static final String V1_SELF = "7:freezer:/process_api\n4:memory:/process_api/abc\n0::/\n";
    static final String V2_MOUNTS = "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
    static final String V2_SELF = "0::/system.slice/containerd.service\n";

    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final RuntimeLog log = new RuntimeLog(null, "text", false, new PrintStream(err, true, StandardCharsets.UTF_8));

    @Test
    void whereRunscLooks() {
        assertThat(CgroupCheck.dir("/docker/abc", V1_SELF, V1_MOUNTS)).isEqualTo("/sys/fs/cgroup/freezer/docker/abc");
        assertThat(CgroupCheck.dir("k/c1", V1_SELF, V1_MOUNTS)).as("v1: below the caller's own cgroup")
                .isEqualTo("/sys/fs/cgroup/freezer/process_api/k/c1");
        assertThat(CgroupCheck.dir("/docker/abc", V2_SELF, V2_MOUNTS)).isEqualTo("/sys/fs/cgroup/docker/abc");
        assertThat(CgroupCheck.dir("c1", V2_SELF, V2_MOUNTS)).as("v2: below the parent of the caller's cgroup")
                .isEqualTo("/sys/fs/cgroup/system.slice/c1");
    }

    @Test
    void aFrozenCgroupIsRefusedInRuncsWords() {
        CgroupsTest.Fake h = new CgroupsTest.Fake();
        h.files.put("/sys/fs/cgroup/freezer/docker/abc/freezer.state", "FROZEN\n");
        assertThatThrownBy(() -> CgroupCheck.check("/docker/abc", V1_SELF, V1_MOUNTS, h, log))
                .isInstanceOfSatisfying(GvshimException.class, e -> {
                    assertThat(e.failure().id()).isEqualTo("CGROUP_FROZEN");
                    assertThat(e.failure().what()).startsWith("container's cgroup unexpectedly frozen (/sys/fs/cgroup/freezer/docker/abc)");
                });
        CgroupsTest.Fake v2 = new CgroupsTest.Fake();
        v2.files.put("/sys/fs/cgroup/system.slice/c1/cgroup.freeze", "1\n");
        assertThatThrownBy(() -> CgroupCheck.check("c1", V2_SELF, V2_MOUNTS, v2, log)).isInstanceOf(GvshimException.class);
    }

    @Test
    void aThawedOrMissingCgroupIsFine() {
        CgroupsTest.Fake h = new CgroupsTest.Fake();
        h.files.put("/sys/fs/cgroup/freezer/docker/abc/freezer.state", "THAWED\n");
        h.files.put("/sys/fs/cgroup/freezer/docker/abc/cgroup.procs", "");
        assertThatCode(() -> CgroupCheck.check("/docker/abc", V1_SELF, V1_MOUNTS, h, log)).doesNotThrowAnyException();
        assertThatCode(() -> CgroupCheck.check("/docker/new", V1_SELF, V1_MOUNTS, h, log)).doesNotThrowAnyException();
        assertThatCode(() -> CgroupCheck.check("", V1_SELF, V1_MOUNTS, h, log)).doesNotThrowAnyException();
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void aCgroupWithProcessesGetsRuncsWarning() throws Exception {
        CgroupsTest.Fake h = new CgroupsTest.Fake();
        h.files.put("/sys/fs/cgroup/freezer/docker/abc/freezer.state", "THAWED\n");
        h.files.put("/sys/fs/cgroup/freezer/docker/abc/cgroup.procs", "123\n456\n");
        CgroupCheck.check("/docker/abc", V1_SELF, V1_MOUNTS, h, log);
        assertThat(err.toString(StandardCharsets.UTF_8)).as("runc's logrus line on stderr when there is no --log").endsWith(
                " level=warning msg=\"container's cgroup is not empty: 2 process(es) found (/sys/fs/cgroup/freezer/docker/abc)\"\n");
    }
}
