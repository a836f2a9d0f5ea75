package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** `update`'s options and resources file as runc reads them, and the cgroup runsc recorded for the sandbox. */
class UpdateRequestTest {
    @Test
    void sizesAreGoUnitsRamInBytes() {
        assertThat(UpdateRequest.ramInBytes("256M")).isEqualTo(256L << 20);
        assertThat(UpdateRequest.ramInBytes("256m")).isEqualTo(256L << 20);
        assertThat(UpdateRequest.ramInBytes("1.5g")).isEqualTo(3L << 29);
        assertThat(UpdateRequest.ramInBytes("512kb")).isEqualTo(512L << 10);
        assertThat(UpdateRequest.ramInBytes("1 GiB")).isEqualTo(1L << 30);
        assertThat(UpdateRequest.ramInBytes("100")).isEqualTo(100);
        assertThatThrownBy(() -> UpdateRequest.ramInBytes("lots")).hasMessage("invalid size: 'lots'");
    }

    @Test
    void badValuesAreRefusedInRuncsWords() {
        assertThatThrownBy(() -> UpdateRequest.ofOptions(Map.of("memory", "lots"))).isInstanceOf(GvshimException.class)
                .hasMessage("gvshim: invalid value for memory: invalid size: 'lots' [ARGS_INVALID]");
        assertThatThrownBy(() -> UpdateRequest.ofOptions(Map.of("cpu-period", "-5")))
                .hasMessage("gvshim: invalid value for cpu-period: strconv.ParseUint: parsing \"-5\": invalid syntax [ARGS_INVALID]");
        assertThatThrownBy(() -> UpdateRequest.ofOptions(Map.of("cpu-quota", "half")))
                .hasMessage("gvshim: invalid value for cpu-quota: strconv.ParseInt: parsing \"half\": invalid syntax [ARGS_INVALID]");
        assertThatThrownBy(() -> UpdateRequest.ofOptions(Map.of("cpu-quota", "99999999999999999999"))).hasMessageContaining(
                "value out of range");
        assertThatThrownBy(() -> UpdateRequest.checkInt("pids-limit", "abc"))
                .hasMessage("gvshim: invalid value \"abc\" for flag -pids-limit: parse error [ARGS_INVALID]");
    }

    @Test
    void optionsAndMinusOne() throws Exception {
        UpdateRequest r = UpdateRequest.ofOptions(Map.of("memory", "-1", "cpu-quota", "-1", "kernel-memory", "1M",
                "cpu-share", "512", "cpuset-cpus", "0-1"));
        assertThat(r.memory()).isEqualTo(-1);
        assertThat(r.quota()).isEqualTo(-1);
        assertThat(r.kernel()).isTrue();
        assertThat(r.shares()).isEqualTo(512);
        assertThat(r.v1Controllers()).containsExactly("cpuset", "memory", "cpu");
    }

    @Test
    void theResourcesFileIsLinuxResources() throws Exception {
        UpdateRequest r = UpdateRequest.ofJson(("{\"memory\": {\"limit\": 268435456, \"swap\": -1}, \"cpu\": {\"quota\": 50000,"
                + " \"period\": 100000, \"cpus\": \"0\", \"burst\": 0}, \"blockIO\": {\"weight\": 200}, \"pids\": {\"limit\": 0}}")
                .getBytes());
        assertThat(r.memory()).isEqualTo(268435456);
        assertThat(r.swap()).isEqualTo(-1);
        assertThat(r.quota()).isEqualTo(50000);
        assertThat(r.burst()).as("0 is a value for burst").isZero();
        assertThat(r.idle()).isNull();
        assertThat(r.blkioWeight()).isEqualTo(200);
        assertThat(r.unsupported()).isEmpty();
        UpdateRequest odd = UpdateRequest.ofJson("{\"memory\": {\"swappiness\": 10}, \"hugepageLimits\": [{\"pageSize\": \"2MB\"}]}"
                .getBytes());
        assertThat(odd.unsupported()).containsExactly("memory.swappiness", "hugepageLimits");
        assertThatThrownBy(() -> UpdateRequest.ofJson("{".getBytes())).hasMessageStartingWith("gvshim: cannot parse --resources:");
    }

    @Test
    void theSandboxsCgroupIsWhereRunscRecordedIt() throws Exception {
        JsonNode v1 = JsonTree.read(("{\"cgroupv1\": {\"name\": \"/docker/abc\", \"parents\": null, \"own\": {\"memory\": true}}}")
                .getBytes());
        CgroupWrites.Where w = Update.where(v1, "/sys/fs/cgroup");
        assertThat(w.v2()).isFalse();
        assertThat(w.dir("memory")).isEqualTo("/sys/fs/cgroup/memory/docker/abc");
        assertThat(w.dir("cpu")).isEqualTo("/sys/fs/cgroup/cpu/docker/abc");
        // a relative cgroupsPath: below the cgroup of the runsc that created it, per controller
        JsonNode rel = JsonTree.read("{\"cgroupv1\": {\"name\": \"ct\", \"parents\": {\"memory\": \"/user.slice\"}}}".getBytes());
        assertThat(Update.where(rel, "/sys/fs/cgroup").dir("memory")).isEqualTo("/sys/fs/cgroup/memory/user.slice/ct");
        assertThat(Update.where(rel, "/sys/fs/cgroup").dir("pids")).isEqualTo("/sys/fs/cgroup/pids/ct");
        JsonNode v2 = JsonTree.read("{\"cgroupv2\": {\"mountpoint\": \"/sys/fs/cgroup\", \"path\": \"/a/b\"}}".getBytes());
        assertThat(Update.where(v2, "/sys/fs/cgroup").dir("memory")).isEqualTo("/sys/fs/cgroup/a/b");
        for (String none : List.of("{\"cgroupunknown\": null}", "{}", "{\"cgroupsystemd\": {}}")) {
            assertThat(Update.where(JsonTree.read(none.getBytes()), "/sys/fs/cgroup")).as(none).isNull();
        }
    }

    @Test
    void aSandboxThatIsNotInTheRecordedCgroupIsSaid() throws Exception {
        String mountinfo = "35 25 0:30 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
                + "36 25 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n";
        CgroupWrites.Where w = Update.where(JsonTree.read("{\"cgroupv1\": {\"name\": \"/docker/abc\"}}".getBytes()),
                "/sys/fs/cgroup");
        // runsc's /sys/fs/cgroup/cpu is the cpu,cpuacct hierarchy's symlink: the same cgroup path counts, not the directory
        assertThat(Update.elsewhere(w, List.of("memory", "cpu"), "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n", mountinfo))
                .isNull();
        assertThat(Update.elsewhere(w, List.of("memory"), "4:memory:/abc\n", mountinfo)).isEqualTo("/sys/fs/cgroup/memory/abc");
        assertThat(Update.elsewhere(w, List.of("memory"), "4:memory:/\n", mountinfo)).as("the root cgroup")
                .isEqualTo("/sys/fs/cgroup/memory");
        String v2mounts = "30 25 0:26 / /sys/fs/cgroup rw shared:9 - cgroup2 cgroup2 rw\n";
        CgroupWrites.Where v2 = Update.where(JsonTree.read("{\"cgroupv2\": {\"mountpoint\": \"/sys/fs/cgroup\", \"path\": \"a/b\"}}"
                .getBytes()), "/sys/fs/cgroup");
        assertThat(v2.dir("")).isEqualTo("/sys/fs/cgroup/a/b");
        assertThat(Update.elsewhere(v2, List.of(), "0::/a/b\n", v2mounts)).isNull();
        assertThat(Update.elsewhere(v2, List.of(), "0::/a\n", v2mounts)).isEqualTo("/sys/fs/cgroup/a");
    }
}
