package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.SyscallException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * `update`'s cgroup writes against a fake cgroup tree (files in a map, the kernel's refusals
 * injected): runc's files, order, conversions and words, and the values put back after a
 * refusal. Nothing of the host is touched.
 */
class CgroupWritesTest {
    /** A cgroup tree: files and their values; writes recorded; a file can refuse a value with an errno. */
    static final class FakeFs implements CgroupWrites.Fs {
        final Map<String, String> files = new LinkedHashMap<>();
        final List<String> writes = new ArrayList<>();
        /** path=value (or path alone: any value) refused with the errno. */
        final Map<String, Integer> refuse = new HashMap<>();
        /** What the kernel makes of a value written (cpu.shares is clamped). */
        final Map<String, java.util.function.UnaryOperator<String>> kernel = new HashMap<>();

        @Override
        public String read(String path) {
            return files.get(path);
        }

        @Override
        public boolean exists(String path) {
            return files.containsKey(path) || files.keySet().stream().anyMatch(f -> f.startsWith(path + "/"));
        }

        @Override
        public void write(String path, String value) throws SyscallException {
            Integer errno = refuse.getOrDefault(path + "=" + value, refuse.get(path));
            if (errno == null && !files.containsKey(path)) {
                errno = Errno.ENOENT;
            }
            if (errno != null) {
                throw new SyscallException("write", errno, path);
            }
            writes.add(path.substring(path.lastIndexOf('/') + 1) + "=" + value);
            files.put(path, kernel.getOrDefault(path, v -> v).apply(value) + "\n");
        }
    }

    static final String V1 = "/cg";
    static final String V2 = "/cg2/ct";

    static FakeFs v1Tree() {
        FakeFs fs = new FakeFs();
        for (String f : List.of("cpuset/x/cpuset.cpus=0-1", "cpuset/x/cpuset.mems=0", "memory/x/memory.limit_in_bytes=9223372036854771712",
                "memory/x/memory.memsw.limit_in_bytes=9223372036854771712", "memory/x/memory.soft_limit_in_bytes=9223372036854771712",
                "memory/x/memory.usage_in_bytes=300000000", "memory/x/memory.max_usage_in_bytes=400000000", "cpu/x/cpu.shares=1024",
                "cpu/x/cpu.cfs_period_us=100000", "cpu/x/cpu.cfs_quota_us=-1", "cpu/x/cpu.rt_period_us=1000000",
                "cpu/x/cpu.rt_runtime_us=0", "pids/x/pids.max=max", "blkio/x/blkio.bfq.weight=100",
                "blkio/x/blkio.throttle.read_bps_device=")) {
            String[] kv = f.split("=", 2);
            fs.files.put(V1 + "/" + kv[0], kv[1] + "\n");
        }
        return fs;
    }

    static CgroupWrites.Where v1() {
        Map<String, String> dirs = new LinkedHashMap<>();
        for (String c : List.of("cpuset", "memory", "cpu", "pids", "blkio")) {
            dirs.put(c, V1 + "/" + c + "/x");
        }
        return new CgroupWrites.Where(false, dirs);
    }

    static FakeFs v2Tree() {
        FakeFs fs = new FakeFs();
        for (String f : List.of("memory.max=max", "memory.swap.max=max", "memory.low=0", "cpu.max=max 100000", "cpu.weight=100",
                "cpuset.cpus=", "cpuset.mems=", "io.weight=default 100", "pids.max=max", "io.max=")) {
            String[] kv = f.split("=", 2);
            fs.files.put(V2 + "/" + kv[0], kv[1] + "\n");
        }
        return fs;
    }

    static UpdateRequest opts(String... kv) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            o.put(kv[i], kv[i + 1]);
        }
        return UpdateRequest.ofOptions(o);
    }

    static List<String> apply(UpdateRequest r, CgroupWrites.Where w, FakeFs fs) throws Exception {
        List<String> notBack = new ArrayList<>();
        CgroupWrites.apply(r, w, fs, notBack);
        assertThat(notBack).isEmpty();
        return fs.writes;
    }

    @Test
    void v1WritesRuncsFilesInRuncsOrder() throws Exception {
        FakeFs fs = v1Tree();
        assertThat(apply(opts("memory", "256M", "cpu-quota", "50000", "cpu-period", "200000", "cpu-share", "512", "cpuset-cpus",
                "1", "cpuset-mems", "0", "memory-reservation", "128m", "blkio-weight", "300", "pids-limit", "-1"), v1(), fs))
                .containsExactly("cpuset.cpus=1", "cpuset.mems=0", "memory.limit_in_bytes=268435456",
                        "memory.soft_limit_in_bytes=134217728", "cpu.shares=512", "cpu.cfs_period_us=200000",
                        "cpu.cfs_quota_us=50000", "pids.max=max", "blkio.bfq.weight=300");
        assertThat(fs.read(V1 + "/memory/x/memory.limit_in_bytes")).isEqualTo("268435456\n");
    }

    @Test
    void v1MemoryAndSwapAreWrittenInTheOrderTheKernelAccepts() throws Exception {
        // raising both above the old limit: memory+swap first (the kernel wants memory <= memory+swap at each step)
        FakeFs up = v1Tree();
        up.files.put(V1 + "/memory/x/memory.limit_in_bytes", "104857600\n");
        assertThat(apply(opts("memory", "256M", "memory-swap", "512M"), v1(), up))
                .containsExactly("memory.memsw.limit_in_bytes=536870912", "memory.limit_in_bytes=268435456");
        // lowering both below the old limit: memory first
        FakeFs down = v1Tree();
        assertThat(apply(opts("memory", "256M", "memory-swap", "512M"), v1(), down))
                .containsExactly("memory.limit_in_bytes=268435456", "memory.memsw.limit_in_bytes=536870912");
        // -1 alone lifts both, memory+swap first
        assertThat(apply(opts("memory", "-1"), v1(), v1Tree()))
                .containsExactly("memory.memsw.limit_in_bytes=-1", "memory.limit_in_bytes=-1");
    }

    @Test
    void v1MemoryBelowUsageIsRuncsWordsAndNothingIsLeftHalfDone() throws Exception {
        FakeFs fs = v1Tree();
        fs.refuse.put(V1 + "/memory/x/memory.limit_in_bytes", Errno.EBUSY);
        List<String> notBack = new ArrayList<>();
        assertThatThrownBy(() -> CgroupWrites.apply(opts("cpuset-cpus", "1", "memory", "1M"), v1(), fs, notBack))
                .isInstanceOf(CgroupWrites.Refused.class)
                .hasMessage(V1 + "/memory/x/memory.limit_in_bytes: EBUSY (Device or resource busy): unable to set memory"
                        + " limit to 1048576 (current usage: 300000000, peak usage: 400000000)");
        assertThat(fs.writes).as("cpuset.cpus put back as runc's Set does").containsExactly("cpuset.cpus=1", "cpuset.cpus=0-1");
        assertThat(notBack).isEmpty();
    }

    @Test
    void v1CpuSharesTheKernelClampsAreRuncsError() throws Exception {
        FakeFs fs = v1Tree();
        fs.kernel.put(V1 + "/cpu/x/cpu.shares", v -> Long.parseLong(v) > 262144 ? "262144" : v);
        List<String> notBack = new ArrayList<>();
        assertThatThrownBy(() -> CgroupWrites.apply(opts("cpu-share", "300000"), v1(), fs, notBack))
                .hasMessage("the maximum allowed cpu-shares is 262144");
        assertThat(fs.read(V1 + "/cpu/x/cpu.shares")).isEqualTo("1024\n");
    }

    @Test
    void v1PeriodRefusedBeforeTheQuotaIsWrittenAgainAfterIt() throws Exception {
        FakeFs fs = v1Tree();
        fs.refuse.put(V1 + "/cpu/x/cpu.cfs_period_us=10000", Errno.EINVAL);
        // the first write of the period is refused; once the quota fits, it is accepted
        fs.kernel.put(V1 + "/cpu/x/cpu.cfs_quota_us", v -> {
            fs.refuse.remove(V1 + "/cpu/x/cpu.cfs_period_us=10000");
            return v;
        });
        assertThat(apply(opts("cpu-period", "10000", "cpu-quota", "5000"), v1(), fs))
                .containsExactly("cpu.cfs_quota_us=5000", "cpu.cfs_period_us=10000");
    }

    @Test
    void aFileThatDoesNotExistIsNamedWithItsErrno() throws Exception {
        FakeFs fs = v1Tree();
        fs.files.remove(V1 + "/blkio/x/blkio.bfq.weight");
        assertThatThrownBy(() -> CgroupWrites.apply(opts("blkio-weight", "500"), v1(), fs, new ArrayList<>()))
                .hasMessage(V1 + "/blkio/x/blkio.bfq.weight: ENOENT (No such file or directory)");
    }

    @Test
    void v1HasNoUnified() throws Exception {
        UpdateRequest r = UpdateRequest.ofJson("{\"unified\": {\"memory.high\": \"1G\"}}".getBytes());
        assertThatThrownBy(() -> CgroupWrites.apply(r, v1(), v1Tree(), new ArrayList<>()))
                .hasMessage("invalid configuration: cannot use unified on cgroup v1");
    }

    @Test
    void v2WritesRuncsFilesConvertedInRuncsOrder() throws Exception {
        CgroupWrites.Where w = new CgroupWrites.Where(true, Map.of("", V2));
        FakeFs fs = v2Tree();
        assertThat(apply(opts("memory", "256M", "memory-swap", "512M", "cpu-quota", "50000", "cpu-share", "1024", "cpuset-cpus",
                "0", "blkio-weight", "500", "pids-limit", "-1"), w, fs)).containsExactly("pids.max=max",
                "memory.swap.max=268435456", "memory.max=268435456", "io.weight=4950", "cpu.weight=39", "cpu.max=50000 100000",
                "cpuset.cpus=0");
    }

    @Test
    void v2KeepsTheHalfOfCpuMaxThatIsNotGiven() throws Exception {
        CgroupWrites.Where w = new CgroupWrites.Where(true, Map.of("", V2));
        FakeFs fs = v2Tree();
        fs.files.put(V2 + "/cpu.max", "20000 50000\n");
        assertThat(apply(opts("cpu-period", "100000"), w, fs)).containsExactly("cpu.max=20000 100000");
        assertThat(apply(opts("cpu-quota", "-1"), w, fs)).last().isEqualTo("cpu.max=max 100000");
    }

    @Test
    void v2SwapNeedsAMemoryLimitInRuncsWords() throws Exception {
        CgroupWrites.Where w = new CgroupWrites.Where(true, Map.of("", V2));
        assertThatThrownBy(() -> CgroupWrites.apply(opts("memory-swap", "512M"), w, v2Tree(), new ArrayList<>()))
                .hasMessage("unable to set swap limit without memory limit");
        FakeFs limited = v2Tree();
        limited.files.put(V2 + "/memory.max", "268435456\n");
        assertThat(apply(opts("memory-swap", "512M"), w, limited)).as("the limit in force counts")
                .containsExactly("memory.swap.max=268435456");
        assertThatThrownBy(() -> CgroupWrites.apply(opts("memory", "512M", "memory-swap", "256M"), w, v2Tree(), new ArrayList<>()))
                .hasMessage("memory+swap limit should be >= memory limit");
        assertThat(apply(opts("memory", "-1"), w, v2Tree())).containsExactly("memory.swap.max=max", "memory.max=max");
        assertThat(apply(opts("memory", "256M", "memory-swap", "256M"), w, v2Tree())).as("no swap")
                .containsExactly("memory.swap.max=0", "memory.max=268435456");
    }

    @Test
    void v2UnifiedAndThrottlesFromTheResourcesFile() throws Exception {
        CgroupWrites.Where w = new CgroupWrites.Where(true, Map.of("", V2));
        FakeFs fs = v2Tree();
        fs.files.put(V2 + "/memory.high", "max\n");
        UpdateRequest r = UpdateRequest.ofJson(("{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\":"
                + " 1048576}]}, \"unified\": {\"memory.high\": \"1073741824\"}}").getBytes());
        assertThat(apply(r, w, fs)).containsExactly("io.max=8:0 rbps=1048576", "memory.high=1073741824");
        UpdateRequest slash = UpdateRequest.ofJson("{\"unified\": {\"../memory.max\": \"1\"}}".getBytes());
        assertThatThrownBy(() -> CgroupWrites.apply(slash, w, v2Tree(), new ArrayList<>()))
                .hasMessage("unified resource \"../memory.max\" must be a file name (no slashes)");
    }
}
