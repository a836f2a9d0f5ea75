package dev.gvshim.diagnose;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MountsTest {
    static final String TEXT = """
            600 500 0:52 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/a
            601 600 0:55 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
            501 601 0:55 /bus /proc/bus ro,nosuid - proc proc rw
            507 601 0:56 /null /proc/kcore rw,nosuid - tmpfs tmpfs rw
            605 600 0:59 / /sys ro,nosuid - sysfs sysfs ro
            606 605 0:30 / /sys/fs/cgroup ro,nosuid optional:3 - cgroup2 cgroup rw
            700 600 0:70 / /mnt/with\\040space rw - tmpfs tmpfs rw
            garbage line
            """;

    @Test
    void parsesMasksReadOnlyMountsAndEscapes() {
        Mounts m = Mounts.parse(TEXT);
        assertThat(m.entries()).hasSize(7);
        assertThat(m.below("/proc")).containsExactly("/proc/bus", "/proc/kcore");
        assertThat(m.readOnly("/proc")).isFalse();
        assertThat(m.readOnly("/proc/bus")).isTrue();
        assertThat(m.readOnly("/sys/fs/cgroup/memory")).isTrue();
        assertThat(m.readOnly("/etc")).isFalse();
        assertThat(m.at("/mnt/with space").fsType()).isEqualTo("tmpfs");
        assertThat(m.at("/sys/fs/cgroup").fsType()).isEqualTo("cgroup2");
        assertThat(m.at("/").root()).isEqualTo("/");
    }
}
