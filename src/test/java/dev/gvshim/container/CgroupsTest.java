package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.container.Cgroups.Op;
import dev.gvshim.failure.GvshimException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Where --memory and --cpus can be applied: the decision, with fake cgroup trees (v1 as here, v2 delegated or not). */
class CgroupsTest {
    /** A fake host: file contents and the paths the caller may write. */
    static final class Fake implements Cgroups.Host {
        final Map<String, String> files = new HashMap<>();
        final Set<String> writable = new HashSet<>();

        @Override
        public String read(String path) {
            return files.get(path);
        }

        @Override
        public boolean writable(String path) {
            return writable.contains(path);
        }
    }

    static final String V1_MOUNTS = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """;
    static final String V1_SELF = "4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/\n";
    static final String V2_MOUNTS = "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
    static final String SCOPE = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope";
    static final String V2_SELF = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope\n";

    static final RunLimits MEM = new RunLimits(512L << 20, null, null);
    static final RunLimits BOTH = new RunLimits(512L << 20, 1.5, null);

    @Test
    void v1AsRootMakesACgroupPerController() throws Exception {
        Fake h = new Fake();
        h.writable.add("/sys/fs/cgroup/memory/process_api/abc");
        h.writable.add("/sys/fs/cgroup/cpu,cpuacct");
        Cgroups.Plan p = Cgroups.plan(BOTH, "r1", V1_SELF, V1_MOUNTS, 0, h);
        String mem = "/sys/fs/cgroup/memory/process_api/abc/gvshim-r1";
        String cpu = "/sys/fs/cgroup/cpu,cpuacct/gvshim-r1";
        assertThat(p.ops()).containsExactly(new Op.Mkdir(mem), new Op.Write(mem + "/memory.limit_in_bytes", "536870912"),
                new Op.Mkdir(cpu), new Op.Write(cpu + "/cpu.cfs_period_us", "100000"),
                new Op.Write(cpu + "/cpu.cfs_quota_us", "150000"));
        assertThat(p.join()).containsExactly(mem + "/cgroup.procs", cpu + "/cgroup.procs");
        assertThat(p.created()).containsExactly(cpu, mem);
        assertThat(p.note()).isEqualTo("limits: --memory 512m, --cpus 1.5 through the memory in " + mem + "; cpu in " + cpu);
        assertThat(p.waiterFile()).isEqualTo("return /sys/fs/cgroup/memory/process_api/abc/cgroup.procs\n"
                + "return /sys/fs/cgroup/cpu,cpuacct/cgroup.procs\n" + cpu + "\n" + mem + "\n");
    }

    @Test
    void v1AsAnotherUserIsRefusedWithTheReason() {
        assertThatThrownBy(() -> Cgroups.plan(MEM, "r1", V1_SELF, V1_MOUNTS, 1001, new Fake()))
                .isInstanceOfSatisfying(GvshimException.class, e -> {
                    assertThat(e.failure().id()).isEqualTo("LIMIT_NO_CGROUP");
                    assertThat(e.failure().oneLine()).startsWith("gvshim: cannot apply --memory: the cgroups here are version 1,"
                            + " which gives a user other than root no cgroup of their own (/sys/fs/cgroup/memory/process_api/abc"
                            + " is not writable by uid 1001), and gVisor has no memory limit of its own. Fix: run gvshim as root,")
                            .endsWith("or leave --memory out [LIMIT_NO_CGROUP]");
                });
    }

    @Test
    void v2DelegatedWithControllersEnabledMakesOneCgroup() throws Exception {
        Fake h = delegated("memory cpu pids", "memory cpu");
        Cgroups.Plan p = Cgroups.plan(BOTH, "r1", V2_SELF, V2_MOUNTS, 1000, h);
        String mine = SCOPE + "/gvshim-r1";
        assertThat(p.ops()).containsExactly(new Op.Mkdir(mine), new Op.Write(mine + "/memory.max", "536870912"),
                new Op.Write(mine + "/cpu.max", "150000 100000"));
        assertThat(p.join()).containsExactly(mine + "/cgroup.procs");
        assertThat(p.created()).containsExactly(mine);
    }

    @Test
    void v2DelegatedWithProcessesMovesThemToALeafFirst() throws Exception {
        Fake h = delegated("memory cpu pids", "");
        Cgroups.Plan p = Cgroups.plan(BOTH, "r1", V2_SELF, V2_MOUNTS, 1000, h);
        String mine = SCOPE + "/gvshim-r1";
        String leaf = SCOPE + "/gvshim-caller";
        assertThat(p.ops()).containsExactly(new Op.Mkdir(leaf), new Op.MoveAll(SCOPE + "/cgroup.procs", leaf + "/cgroup.procs"),
                new Op.Write(SCOPE + "/cgroup.subtree_control", "+memory"), new Op.Write(SCOPE + "/cgroup.subtree_control", "+cpu"),
                new Op.Mkdir(mine), new Op.Write(mine + "/memory.max", "536870912"), new Op.Write(mine + "/cpu.max", "150000 100000"));
        assertThat(p.origins()).as("the client goes back to the leaf, not the cgroup that gives controllers away")
                .containsExactly(leaf + "/cgroup.procs");
        assertThat(p.created()).containsExactly(mine);
    }

    @Test
    void v2WithoutDelegationOrControllerIsRefused() {
        Fake notMine = delegated("memory cpu", "memory cpu");
        notMine.writable.clear();
        assertThatThrownBy(() -> Cgroups.plan(MEM, "r1", V2_SELF, V2_MOUNTS, 1000, notMine))
                .hasMessageContaining("your cgroup " + SCOPE + " is not delegated to you (uid 1000 cannot write it)")
                .hasMessageContaining("systemd-run --user --scope -p MemoryMax=512M gvshim run");
        Fake noCpu = delegated("memory pids", "memory");
        assertThatThrownBy(() -> Cgroups.plan(new RunLimits(null, 2.0, null), "r1", V2_SELF, V2_MOUNTS, 1000, noCpu))
                .hasMessageContaining("cannot apply --cpus: the cpu controller is not delegated to your cgroup " + SCOPE
                        + " (its cgroup.controllers: memory pids)").hasMessageContaining("CPUQuota=200%");
    }

    @Test
    void noHierarchyAtAllIsRefused() {
        assertThatThrownBy(() -> Cgroups.plan(MEM, "r1", "", "", 1000, new Fake()))
                .hasMessageContaining("this host has no cgroup hierarchy with the memory controller");
    }

    @Test
    void aCgroupNamespaceRootIsStrippedFromThePath() {
        String mounts = "35 31 0:32 /docker/x /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        assertThat(Cgroups.place("memory", "4:memory:/docker/x/sub\n", mounts).dir()).isEqualTo("/sys/fs/cgroup/memory/sub");
        assertThat(Cgroups.place("memory", "4:memory:/\n", "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n")
                .dir()).isEqualTo("/sys/fs/cgroup/memory");
    }

    private static Fake delegated(String controllers, String subtree) {
        Fake h = new Fake();
        h.files.put(SCOPE + "/cgroup.controllers", controllers + "\n");
        h.files.put(SCOPE + "/cgroup.subtree_control", subtree + "\n");
        h.writable.addAll(List.of(SCOPE, SCOPE + "/cgroup.procs", SCOPE + "/cgroup.subtree_control"));
        return h;
    }
}
