package dev.gvshim.diagnose;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.MappingFailed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each start-up failure becomes one line with its step, its errno and the fix for where gvshim runs. */
class ExplainTest {
    static final ProcStatus DOCKER_APP = new ProcStatus(1000, 1000, 1000, 1000, 0, 0xa80425fbL, false, 2);
    static final ProcStatus HOST_USER = new ProcStatus(1000, 1000, 1000, 1000, 0, 0x1ffffffffffL, false, 0);

    static Path sysctls(Path root, Map<String, String> values) throws Exception {
        for (var e : values.entrySet()) {
            Path p = root.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, e.getValue() + "\n");
        }
        return root;
    }

    static SyscallException clone(int errno) {
        return new SyscallException("clone", errno, "CLONE_NEWUSER|CLONE_VM").in(Step.CREATE_USERNS);
    }

    @Test
    void seccompInDockerNamesTheFlagsToAdd(@TempDir Path root) throws Exception {
        Failure f = new Explain(Environment.DOCKER, DOCKER_APP, sysctls(root, Map.of("proc/sys/user/max_user_namespaces", "96365")))
                .syscall(clone(Errno.EPERM));
        assertThat(f.id()).isEqualTo("USERNS_SECCOMP");
        assertThat(f.exitCode()).isEqualTo(125);
        assertThat(f.oneLine()).isEqualTo("gvshim: cannot create the user namespace [clone(CLONE_NEWUSER|CLONE_VM): EPERM (Operation not"
                + " permitted)]: a seccomp filter denies CLONE_NEWUSER (Seccomp: 2 and no CAP_SYS_ADMIN in the bounding set;"
                + " Docker's and containerd's default profiles do this). Fix: run the container with --security-opt"
                + " seccomp=unconfined --security-opt systempaths=unconfined (or a seccomp profile that allows user namespaces,"
                + " mount, pivot_root and ptrace)");
        assertThat(new Explain(Environment.KUBERNETES, DOCKER_APP, root).syscall(clone(Errno.EPERM)).fix())
                .contains("seccompProfile.type: Unconfined");
    }

    @Test
    void debiansSysctlIsNamed(@TempDir Path root) throws Exception {
        Failure f = new Explain(Environment.HOST, HOST_USER, sysctls(root, Map.of("proc/sys/kernel/unprivileged_userns_clone", "0")))
                .syscall(clone(Errno.EPERM));
        assertThat(f.id()).isEqualTo("USERNS_DISABLED");
        assertThat(f.fix()).contains("sysctl -w kernel.unprivileged_userns_clone=1");
    }

    @Test
    void enospcTellsDisabledFromLimit(@TempDir Path root) throws Exception {
        Failure off = new Explain(Environment.HOST, HOST_USER, sysctls(root, Map.of("proc/sys/user/max_user_namespaces", "0")))
                .syscall(clone(Errno.ENOSPC));
        assertThat(off.id()).isEqualTo("USERNS_DISABLED");
        assertThat(off.why()).contains("user.max_user_namespaces = 0");
        Failure limit = new Explain(Environment.HOST, HOST_USER, sysctls(root, Map.of("proc/sys/user/max_user_namespaces", "15")))
                .syscall(clone(Errno.ENOSPC));
        assertThat(limit.id()).isEqualTo("USERNS_LIMIT");
        assertThat(limit.why()).contains("= 15");
    }

    @Test
    void otherErrnosOfClone(@TempDir Path root) {
        Explain x = new Explain(Environment.HOST, HOST_USER, root);
        assertThat(x.syscall(clone(Errno.EACCES)).id()).isEqualTo("USERNS_APPARMOR");
        assertThat(x.syscall(clone(Errno.EINVAL)).id()).isEqualTo("USERNS_UNSUPPORTED");
        assertThat(x.syscall(new SyscallException("execve", Errno.ENOENT, "/usr/bin/runsc").in(Step.EXEC_RUNSC)).id())
                .isEqualTo("RUNSC_MISSING");
        assertThat(x.syscall(new SyscallException("pipe2", 24, "").in(Step.STDIO)).oneLine())
                .startsWith("gvshim: cannot prepare stdio pipes [pipe2: ");
    }

    static MappingFailed newuidmap(String output) {
        return new MappingFailed("newuidmap", List.of("newuidmap", "4242", "0", "1000", "1", "1", "100000", "65536"),
                new Linux.WaitStatus(4242, 1 << 8), output);
    }

    static final Helper SETUID = new Helper("newuidmap", "/usr/bin/newuidmap", true, true, true, false);

    @Test
    void fiveCausesOfOneNewuidmapMessage(@TempDir Path root) {
        String eperm = "newuidmap: write to uid_map failed: Operation not permitted";
        Explain docker = new Explain(Environment.DOCKER, DOCKER_APP, root);
        Failure fcaps = docker.mapping(newuidmap(eperm), SETUID, "app");
        assertThat(fcaps.id()).isEqualTo("NEWUIDMAP_NEEDS_FCAPS");
        assertThat(fcaps.evidence()).contains("newuidmap 4242 0 1000 1 1 100000 65536: exit status 1: " + eperm);
        assertThat(fcaps.fix()).contains("setcap cap_setuid+ep /usr/bin/newuidmap");
        ProcStatus nnp = new ProcStatus(1000, 1000, 1000, 1000, 0, 0x1ffffffffffL, true, 0);
        assertThat(new Explain(Environment.KUBERNETES, nnp, root).mapping(newuidmap(eperm), SETUID, "app").fix())
                .contains("allowPrivilegeEscalation: true");
        Helper plain = new Helper("newuidmap", "/usr/bin/newuidmap", true, true, false, false);
        assertThat(new Explain(Environment.HOST, HOST_USER, root).mapping(newuidmap(eperm), plain, "app").id())
                .isEqualTo("NEWUIDMAP_UNPRIVILEGED");
        assertThat(new Explain(Environment.HOST, HOST_USER, root).mapping(newuidmap(eperm), SETUID, "app").id())
                .isEqualTo("IDMAP_HELPER_FAILED");
        Failure missing = new Explain(Environment.HOST, HOST_USER, root)
                .mapping(newuidmap("newuidmap: uid range [1-65537) -> [100000-165536) not allowed"), SETUID, "app");
        assertThat(missing.id()).isEqualTo("SUBUID_MISSING");
        assertThat(missing.fix()).contains("usermod --add-subuids 100000-165535 --add-subgids 100000-165535 app");
    }

    @Test
    void runscsOwnErrorsBecomeCausesAndExitCodes(@TempDir Path root) {
        Explain x = new Explain(Environment.DOCKER, DOCKER_APP, root);
        Failure notFound = x.runsc("running container: starting container: starting root container: starting sandbox:"
                + " error finding executable \"nosuch\" in PATH [/usr/bin /bin]: no such file or directory", List.of());
        assertThat(notFound.exitCode()).isEqualTo(127);
        assertThat(notFound.oneLine()).startsWith("gvshim: cannot run `nosuch`: not found");
        assertThat(x.runsc("... creating process: failed to load /bin/nonexist: no such file or directory", List.of()).exitCode())
                .isEqualTo(127);
        assertThat(x.runsc("... failed to load /etc/passwd: permission denied", List.of()).exitCode()).isEqualTo(126);
        Failure proc = x.runsc("running container: creating container: cannot create sandbox: cannot read client sync file:"
                + " waiting for sandbox to start: EOF", List.of("error mounting proc: operation not permitted"));
        assertThat(proc.id()).isEqualTo("PROC_MASKED");
        assertThat(proc.fix()).isEqualTo("add --security-opt systempaths=unconfined");
        assertThat(proc.evidence()).isEqualTo("runsc: waiting for sandbox to start: EOF; error mounting proc: operation not permitted");
        assertThat(x.runsc("... EOF", List.of("error setting up chroot: pivot_root failed, make sure that the root mount has a parent:"
                + " operation not permitted")).id()).isEqualTo("PIVOT_ROOT_DENIED");
        assertThat(x.runsc("sandbox network isn't supported with --rootless, use --network=none or --network=host", List.of()).id())
                .isEqualTo("NETWORK_SANDBOX_UNSUPPORTED");
        assertThat(x.runsc("starting sandbox: fork/exec /proc/self/exe: no space left on device", List.of()).id())
                .isEqualTo("USERNS_LIMIT");
        Failure other = x.runsc("something new", List.of());
        assertThat(other.id()).isEqualTo("RUNSC_FAILED");
        assertThat(other.fix()).contains("--debug");
    }

    @Test
    void detectsWhereItRuns(@TempDir Path root) throws Exception {
        assertThat(Environment.detect(root, Map.of())).isEqualTo(Environment.HOST);
        assertThat(Environment.detect(root, Map.of("GITHUB_ACTIONS", "true"))).isEqualTo(Environment.CI);
        Files.writeString(root.resolve(".dockerenv"), "");
        assertThat(Environment.detect(root, Map.of("CI", "1"))).isEqualTo(Environment.DOCKER);
        assertThat(Environment.detect(root, Map.of("KUBERNETES_SERVICE_HOST", "10.0.0.1"))).isEqualTo(Environment.KUBERNETES);
    }
}
