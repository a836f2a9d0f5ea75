package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * `update` against the real runsc (which has no update of its own): the new limits land in the
 * host cgroup that holds the sandbox's processes, read back from the kernel's files, for a
 * running and a paused container, with and without linux.cgroupsPath; what cannot hold is
 * refused in one line (a stopped container in runc's words, a pids limit, a limit the kernel
 * refuses, a rootless container, which has no cgroup of its own).
 */
class UpdateIT extends RuncFixture {
    /** A bundle whose container says ready and sleeps, in linux.cgroupsPath where not null. */
    private Path sleeper(String name, String cgroupsPath) throws IOException {
        return cgroupBundle(name, "echo ready; exec sleep 600", cgroupsPath, null);
    }

    private static String memoryLimit(int pid) throws IOException {
        return Files.readString(Host.cgroupOf(pid, "memory").resolve(V2 ? "memory.max" : "memory.limit_in_bytes")).strip();
    }

    private static String cpuQuota(int pid) throws IOException {
        return Files.readString(Host.cgroupOf(pid, "cpu").resolve(V2 ? "cpu.max" : "cpu.cfs_quota_us")).strip().split(" ")[0];
    }

    @Test
    void theNewLimitsAreInTheSandboxsCgroupRunningAndPaused() throws Exception {
        String own = "gvshim-it-update-" + ProcessHandle.current().pid();
        // with linux.cgroupsPath (as Docker gives one), and without (runsc then makes /RUNSC-ID)
        for (String cgroupsPath : new String[] {"/" + own, null}) {
            String id = cgroupsPath == null ? "upd-none" : "upd-path";
            try {
                limitsOf(id, cgroupsPath, own);
            } finally {
                gv("delete", "--force", id); // a failed assertion leaves no sandbox (runsc's socket names are host-wide)
            }
        }
        Path made = Path.of(V2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory", own);
        assertThat(made).as("runsc removed the cgroup it made").doesNotExist();
    }

    private void limitsOf(String id, String cgroupsPath, String own) throws Exception {
        createAndStart(sleeper(id, cgroupsPath), id);
        int pid = state(id).path("pid").asInt();
        assertThat(pid).isPositive();
        if (cgroupsPath != null) {
            assertThat(Host.cgroupOf(pid, "memory")).as("runsc put the sandbox in the spec's cgroup")
                    .isEqualTo(Path.of(V2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory", own));
        } else {
            assertThat(Host.cgroupOf(pid, "memory").getFileName().toString()).as("runsc's own cgroup for it").endsWith("-" + id);
        }
        Host.Result u = gv("update", "--memory", "256M", "--cpu-quota", "50000", id);
        assertThat(u.code()).as(u + read(log)).isZero();
        assertThat(u.out()).isEmpty();
        assertThat(u.err()).isEmpty();
        assertThat(memoryLimit(pid)).isEqualTo("268435456");
        assertThat(cpuQuota(pid)).isEqualTo("50000");
        // every process of the sandbox (runsc-sandbox, its gofer) is in that cgroup
        assertThat(Files.readString(Host.cgroupOf(pid, "memory").resolve("cgroup.procs")).lines().toList())
                .contains(Integer.toString(pid)).hasSizeGreaterThan(1);

        assertThat(gv("pause", id).code()).isZero();
        assertThat(state(id).path("status").asText()).isEqualTo("paused");
        Host.Result p = gv("update", "--memory", "200m", "--cpu-quota", "25000", id);
        assertThat(p.code()).as(p + read(log)).isZero();
        assertThat(memoryLimit(pid)).isEqualTo(Long.toString(200L << 20));
        assertThat(cpuQuota(pid)).isEqualTo("25000");
        assertThat(state(id).path("status").asText()).as("still paused").isEqualTo("paused");
        assertThat(gv("resume", id).code()).isZero();

        assertThat(gv("kill", id, "KILL").code()).isZero();
        for (int i = 0; i < 50 && !state(id).path("status").asText().equals("stopped"); i++) {
            sleep(100);
        }
        Host.Result s = gv("update", "--memory", "256M", id);
        assertThat(s.code()).isEqualTo(1);
        assertThat(s.err()).isEqualTo("gvshim: container not running: " + id + " [CONTAINER_NOT_RUNNING]\n");
        assertThat(lastError()).isEqualTo("gvshim: container not running: " + id + " [CONTAINER_NOT_RUNNING]");
        assertThat(gv("delete", id).code()).isZero();
    }

    @Test
    void whatCannotHoldIsRefusedInOneLineAndChangesNothing() throws Exception {
        try {
            refusals();
        } finally {
            gv("delete", "--force", "upd-no");
        }
    }

    private void refusals() throws Exception {
        createAndStart(sleeper("upd-no", null), "upd-no");
        int pid = state("upd-no").path("pid").asInt();
        assertThat(gv("update", "--memory", "300M", "upd-no").code()).isZero();
        String pidsBefore = Files.readString(Host.cgroupOf(pid, "pids").resolve("pids.max")).strip();

        Host.Result pids = gv("update", "--pids-limit", "100", "upd-no");
        assertThat(pids.code()).isEqualTo(1);
        assertThat(pids.err().lines()).hasSize(1).first().asString().startsWith(
                "gvshim: cannot update container upd-no with a pids limit (100): the sandbox's host cgroup counts gVisor's own"
                + " threads").endsWith("[SPEC_PIDS_LIMIT]");
        assertThat(Files.readString(Host.cgroupOf(pid, "pids").resolve("pids.max")).strip()).isEqualTo(pidsBefore);

        Host.Result bad = gv("update", "--memory", "lots", "upd-no");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).isEqualTo("gvshim: invalid value for memory: invalid size: 'lots' [ARGS_INVALID]\n");

        if (!V2) {
            // v1: the kernel cannot reclaim the sandbox down to 1 MiB and refuses (EBUSY); v2 would OOM-kill it instead
            Host.Result low = gv("update", "--cpu-quota", "40000", "--memory", "1M", "upd-no");
            assertThat(low.code()).isEqualTo(1);
            assertThat(low.err().lines()).hasSize(1).first().asString().startsWith("gvshim: cannot update container upd-no: "
                    + Host.cgroupOf(pid, "memory").resolve("memory.limit_in_bytes") + ": EBUSY (Device or resource busy): unable to"
                    + " set memory limit to 1048576 (current usage: ").endsWith("the limits were left as they were"
                    + " [UPDATE_WRITE_FAILED]");
            assertThat(memoryLimit(pid)).isEqualTo(Long.toString(300L << 20));
        }
        assertThat(gv("delete", "--force", "upd-no").code()).isZero();
    }

    @Test
    void aRootlessContainerHasNoCgroupToUpdate() throws Exception {
        Path b = userBundle("upd-rl", "exec sleep 600");
        String g = userGv(b);
        try {
            Host.Result c = host.userShell("cd " + b + " && " + g + "create --bundle . rlu </dev/null >out 2>err && " + g
                    + "start rlu", T);
            assertThat(c.code()).as(c + read(b.resolve("err")) + read(b.resolve("log.json"))).isZero();
            Host.Result u = host.userShell(g + "update --memory 256M rlu", T);
            assertThat(u.code()).isEqualTo(1);
            assertThat(u.out()).isEmpty();
            assertThat(u.err().lines()).hasSize(1).first().asString().isEqualTo("gvshim: cannot update container rlu: it runs"
                    + " without cgroups of its own (a runtime caller without root cannot create them: runsc runs its sandbox"
                    + " with --ignore-cgroups, in the caller's cgroup), so the limits would not exist; recreate the container"
                    + " with the runtime run as root, or limit the runtime from outside (systemd-run --user --scope -p"
                    + " MemoryMax=512M ...) [UPDATE_NO_CGROUP]");
            dev.gvshim.Messages.checkFile(b.resolve("log.json"));
        } finally {
            host.userShell(g + "delete --force rlu", T);
        }
    }
}
