package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** runc's oom events and memory stats from the sandbox's memory cgroup (fake cgroup files). */
class MemoryCgroupTest {
    static final String V1_MOUNTS = CgroupsTest.V1_MOUNTS;
    static final String SANDBOX_V1 = "4:memory:/2-c1\n1:cpu,cpuacct:/2-c1\n0::/\n";
    static final String V2_MOUNTS = CgroupsTest.V2_MOUNTS;
    static final String SANDBOX_V2 = "0::/docker/c1\n";
    static final String M1 = "/sys/fs/cgroup/memory/2-c1";
    static final String M2 = "/sys/fs/cgroup/docker/c1";

    private static String oomControl(int under, int kills) {
        return "oom_kill_disable 0\nunder_oom " + under + "\noom_kill " + kills + "\n";
    }

    @Test
    void v1CountsOomKillsFromTheFirstPollAndEndsWhenTheCgroupIsDeleted() {
        CgroupsTest.Fake h = new CgroupsTest.Fake();
        h.files.put(M1 + "/memory.oom_control", oomControl(0, 2)); // kills before events started are not its events
        MemoryCgroup m = MemoryCgroup.of(SANDBOX_V1, V1_MOUNTS, h);
        assertThat(m).isNotNull();
        assertThat(m.dir()).isEqualTo(M1);
        assertThat(m.poll()).isZero();
        h.files.put(M1 + "/memory.oom_control", oomControl(0, 3));
        assertThat(m.poll()).as("one kill, one event").isEqualTo(1);
        assertThat(m.poll()).isZero();
        h.files.put(M1 + "/memory.oom_control", oomControl(1, 3));
        assertThat(m.poll()).as("out of memory with the killer disabled: runc's eventfd fires too").isEqualTo(1);
        assertThat(m.poll()).isZero();
        h.files.put(M1 + "/memory.oom_control", oomControl(0, 5));
        assertThat(m.poll()).isEqualTo(2);
        h.files.remove(M1 + "/memory.oom_control");
        assertThat(m.poll()).as("deleted: runc's events ends").isEqualTo(-1);
    }

    @Test
    void v2CountsMemoryEventsOomKillAndEndsWhenNoProcessIsLeft() {
        CgroupsTest.Fake h = new CgroupsTest.Fake();
        h.files.put(M2 + "/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 0\n");
        h.files.put(M2 + "/cgroup.events", "populated 1\nfrozen 0\n");
        MemoryCgroup m = MemoryCgroup.of(SANDBOX_V2, V2_MOUNTS, h);
        assertThat(m.dir()).isEqualTo(M2);
        h.files.put(M2 + "/memory.events", "low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n");
        assertThat(m.poll()).isEqualTo(1);
        h.files.put(M2 + "/cgroup.events", "populated 0\nfrozen 0\n");
        assertThat(m.poll()).as("its processes are gone: runc's events ends").isEqualTo(-1);
    }

    @Test
    void noMemoryCgroupNoWatch() {
        assertThat(MemoryCgroup.of(SANDBOX_V1, V1_MOUNTS, new CgroupsTest.Fake())).as("unreadable").isNull();
        assertThat(MemoryCgroup.of("", "", new CgroupsTest.Fake())).isNull();
    }

    @Test
    void statsGetTheMemoryFiguresRunscLeavesOutInRuncsOrder() {
        CgroupsTest.Fake h = new CgroupsTest.Fake();
        h.files.put(M1 + "/memory.oom_control", oomControl(0, 0));
        h.files.put(M1 + "/memory.limit_in_bytes", "209715200\n");
        h.files.put(M1 + "/memory.max_usage_in_bytes", "175000000\n");
        h.files.put(M1 + "/memory.failcnt", "12\n");
        h.files.put(M1 + "/memory.memsw.limit_in_bytes", "9223372036854771712\n");
        h.files.put(M1 + "/memory.stat", "cache 4096\nrss 8192\ntotal_cache 4096\n");
        MemoryCgroup m = MemoryCgroup.of(SANDBOX_V1, V1_MOUNTS, h);
        String runsc = "{\"type\":\"stats\",\"id\":\"c1\",\"data\":{\"cpu\":{\"usage\":{\"total\":81872132}},\"memory\":{\"usage\":"
                + "{\"limit\":0,\"usage\":2547712,\"failcnt\":0},\"swap\":{\"limit\":0,\"failcnt\":0},\"kernel\":{\"limit\":0,"
                + "\"failcnt\":0},\"kernelTCP\":{\"limit\":0,\"failcnt\":0}},\"pids\":{\"current\":2}}}";
        assertThat(m.withMemory(runsc)).isEqualTo("{\"type\":\"stats\",\"id\":\"c1\",\"data\":{\"cpu\":{\"usage\":{\"total\":81872132}},"
                + "\"memory\":{\"cache\":4096,\"usage\":{\"limit\":209715200,\"usage\":2547712,\"max\":175000000,\"failcnt\":12},"
                + "\"swap\":{\"limit\":9223372036854771712,\"failcnt\":0},\"kernel\":{\"limit\":0,\"failcnt\":0},\"kernelTCP\":"
                + "{\"limit\":0,\"failcnt\":0},\"raw\":{\"cache\":4096,\"rss\":8192,\"total_cache\":4096}},\"pids\":{\"current\":2}}}");
        assertThat(m.withMemory("not json")).isEqualTo("not json");
    }

    @Test
    void v2NoLimitIsRuncsMaxUint64() {
        CgroupsTest.Fake h = new CgroupsTest.Fake();
        h.files.put(M2 + "/memory.events", "oom_kill 0\n");
        h.files.put(M2 + "/memory.max", "max\n");
        h.files.put(M2 + "/memory.stat", "anon 100\nfile 200\n");
        MemoryCgroup m = MemoryCgroup.of(SANDBOX_V2, V2_MOUNTS, h);
        assertThat(m.withMemory("{\"type\":\"stats\",\"id\":\"c1\",\"data\":{\"memory\":{\"usage\":{\"limit\":0,\"usage\":5}}}}"))
                .isEqualTo("{\"type\":\"stats\",\"id\":\"c1\",\"data\":{\"memory\":{\"cache\":200,\"usage\":{\"limit\":"
                        + "18446744073709551615,\"usage\":5},\"raw\":{\"anon\":100,\"file\":200}}}}");
    }
}
