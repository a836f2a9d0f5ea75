package dev.gvshim.diagnose;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.failure.Failure;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.Mapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each start-up failure of `gvshim run` becomes one line with its step, its errno, the cause and the fix. */
class ExplainTest {
    @TempDir
    Path tmp;

    static SyscallException clone(int errno) {
        return new SyscallException("clone", errno, "CLONE_NEWUSER|CLONE_VM").in(Step.CREATE_USERNS);
    }

    Explain at(String fixture) {
        return new Explain(Fixture.load(fixture, tmp.resolve(fixture + System.nanoTime())).facts());
    }

    @Test
    void seccompInDockerNamesTheProfileToUse() {
        Failure f = at("docker-default").syscall(clone(Errno.EPERM));
        assertThat(f.id()).isEqualTo("USERNS_SECCOMP");
        assertThat(f.exitCode()).isEqualTo(125);
        assertThat(f.oneLine()).isEqualTo("gvshim: cannot create the user namespace [clone(CLONE_NEWUSER|CLONE_VM): EPERM (Operation not"
                + " permitted)]: the container's seccomp profile denies CLONE_NEWUSER (Docker's default profile does this for"
                + " processes without CAP_SYS_ADMIN) (Seccomp: 2, Seccomp_filters: 1, no CAP_SYS_ADMIN in CapBnd). Fix: run the"
                + " container with --security-opt seccomp=docker/seccomp-gvshim.json --security-opt systempaths=unconfined"
                + " (gvshim's profile: Docker's default plus clone with namespace flags, mount, umount2 and pivot_root;"
                + " systempaths: runsc mounts a fresh /proc, which Docker's masked paths forbid), or --security-opt"
                + " seccomp=unconfined --security-opt systempaths=unconfined [USERNS_SECCOMP]");
    }

    @Test
    void otherErrnosOfCloneAndOwnSteps() {
        assertThat(at("ubuntu2404-apparmor").syscall(clone(Errno.EACCES)).id()).isEqualTo("USERNS_APPARMOR");
        assertThat(at("fedora-selinux-podman").syscall(clone(Errno.EACCES)).id()).isEqualTo("USERNS_SELINUX");
        Fixture noUserns = Fixture.load("debian12-host", tmp.resolve("n")).delete("proc/self/ns/user");
        assertThat(new Explain(noUserns.facts()).syscall(clone(Errno.EINVAL)).id()).isEqualTo("USERNS_UNSUPPORTED");
        Explain host = at("debian12-host");
        assertThat(host.syscall(new SyscallException("execve", Errno.ENOENT, "/usr/bin/runsc").in(Step.EXEC_RUNSC)).id())
                .isEqualTo("RUNSC_MISSING");
        assertThat(host.syscall(new SyscallException("pipe2", 24, "").in(Step.STDIO)).oneLine())
                .startsWith("gvshim: cannot prepare stdio pipes [pipe2: ");
    }

    @Test
    void factsAreReadOnlyWhenAFailureNeedsThem() {
        int[] reads = {0};
        Explain lazy = new Explain(() -> {
            reads[0]++;
            return Fixture.load("debian12-host", tmp).facts();
        });
        assertThat(reads[0]).isZero();
        lazy.syscall(clone(Errno.EPERM));
        lazy.syscall(clone(Errno.ENOSPC));
        assertThat(reads[0]).isEqualTo(1);
    }

    static Failure newuidmap(String output) {
        return Mapper.failed("newuidmap", List.of("newuidmap", "4242", "0", "1000", "1", "1", "100000", "65536"),
                new Linux.WaitStatus(4242, 1 << 8), output).failure();
    }

    static final Helper SETUID = new Helper("newuidmap", "/usr/bin/newuidmap", true, true, true, false);

    @Test
    void fiveCausesOfOneNewuidmapMessage() {
        String eperm = "newuidmap: write to uid_map failed: Operation not permitted";
        Failure fcaps = at("docker-default").mapping(newuidmap(eperm), SETUID, "app");
        assertThat(fcaps.id()).isEqualTo("NEWUIDMAP_NEEDS_FCAPS");
        assertThat(fcaps.evidence()).contains("newuidmap 4242 0 1000 1 1 100000 65536: exit status 1: " + eperm);
        assertThat(fcaps.fix()).contains("setcap cap_setuid+ep /usr/bin/newuidmap");
        assertThat(at("kubernetes-restricted").mapping(newuidmap(eperm), SETUID, "app").fix())
                .contains("allowPrivilegeEscalation: true");
        Helper plain = new Helper("newuidmap", "/usr/bin/newuidmap", true, true, false, false);
        assertThat(at("debian12-host").mapping(newuidmap(eperm), plain, "app").id()).isEqualTo("NEWUIDMAP_UNPRIVILEGED");
        assertThat(at("debian12-host").mapping(newuidmap(eperm), SETUID, "app").id()).isEqualTo("IDMAP_HELPER_FAILED");
        Failure missing = at("debian12-host").mapping(newuidmap("newuidmap: uid range [1-65537) -> [100000-165536) not allowed"),
                SETUID, "app");
        assertThat(missing.id()).isEqualTo("SUBUID_MISSING");
        // the ranges read are named with their sizes, and the fix is a range nobody has (app holds 100000-165535)
        assertThat(missing.why()).isEqualTo("/etc/subuid gives app 100000-165535 (65536 ids), which does not cover the ids asked"
                + " for");
        assertThat(missing.fix()).startsWith("as root: usermod --add-subuids 165536-231071 app (65536 ids no other user has)");
    }

    @Test
    void runscsOwnErrorsBecomeCausesAndExitCodes() {
        Explain x = at("docker-default");
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
        assertThat(proc.fix()).contains("add --security-opt systempaths=unconfined");
        assertThat(proc.why()).contains("/proc/bus");
        assertThat(proc.evidence()).isEqualTo("runsc: waiting for sandbox to start: EOF; error mounting proc: operation not permitted");
        assertThat(x.runsc("... EOF", List.of("error setting up chroot: pivot_root failed, make sure that the root mount has a parent:"
                + " operation not permitted")).id()).isEqualTo("PIVOT_ROOT_DENIED");
        assertThat(x.runsc("... EOF", List.of("panic: unable to initialize systrap source: unable to attach: operation not permitted"))
                .id()).isEqualTo("PTRACE_DENIED");
        assertThat(x.runsc("sandbox network isn't supported with --rootless, use --network=none or --network=host", List.of()).id())
                .isEqualTo("NETWORK_SANDBOX_UNSUPPORTED");
        assertThat(x.runsc("starting sandbox: fork/exec /proc/self/exe: no space left on device", List.of()).id())
                .isEqualTo("USERNS_LIMIT");
        Fixture nested = Fixture.load("debian12-host", tmp.resolve("nested")).write("proc/self/uid_map", "0 1000 1\n");
        assertThat(new Explain(nested.facts()).runsc("starting sandbox: fork/exec /proc/self/exe: no space left on device",
                List.of()).id()).isEqualTo("USERNS_NESTING");
        Failure chroot = x.runsc("running container: creating container: cannot create gofer process: setting up mount namespace:"
                + " input/output error", List.of("failed to chroot to \"/root\": permission denied"));
        assertThat(chroot.id()).isEqualTo("ROOTFS_NOT_ACCESSIBLE");
        assertThat(chroot.fix()).contains("chmod a+rx");
        assertThat(x.runsc("... EOF", List.of("error setting up chroot: permission denied")).id()).isNotEqualTo("ROOTFS_NOT_ACCESSIBLE");
        Failure other = x.runsc("something new", List.of());
        assertThat(other.id()).isEqualTo("RUNSC_FAILED");
        assertThat(other.fix()).contains("--debug");
    }

    /** gvshim-nsexec's own failures get the ids doctor gives the same denial (a jailed mount is MOUNT_DENIED). */
    @Test
    void nsexecFailuresAreTheLiveProbesSteps() {
        Explain explain = at("docker-default");
        assertThat(explain.nsexec("gvshim-nsexec: mount(/, MS_REC|MS_PRIVATE): errno 1: Operation not permitted").id())
                .isEqualTo("MOUNT_DENIED");
        assertThat(explain.nsexec("gvshim-nsexec: unshare(CLONE_NEWNS): errno 1: Operation not permitted").id())
                .isEqualTo("NAMESPACE_DENIED");
        Failure other = explain.nsexec("gvshim-nsexec: mount(MS_BIND|MS_REC): errno 2: No such file or directory");
        assertThat(other.id()).isEqualTo("NODEV_MOUNT");
        assertThat(other.oneLine()).startsWith("gvshim: cannot prepare the sandbox's mounts [mount(MS_BIND|MS_REC): errno 2:")
                .endsWith("[NODEV_MOUNT]");
    }

    /** gvshim run's clone execs gvshim-nsexec, which execs runsc: a failed execve of runsc is still runsc's, not a mount's. */
    @Test
    void nsexecsExecveOfRunscIsToldAsRunscsOwn() {
        Explain explain = at("debian12-host");
        Failure missing = explain.nsexec("gvshim-nsexec: execve: errno 2: No such file or directory");
        assertThat(missing.id()).isEqualTo("RUNSC_MISSING");
        assertThat(missing.oneLine()).contains("execve").doesNotContain("mounts");
        assertThat(explain.nsexec("gvshim-nsexec: execve: errno 13: Permission denied").id()).isEqualTo("RUNSC_NOT_EXECUTABLE");
    }

    @Test
    void aWorkingDirectoryRunscCouldNotCreateIsNotAMountDenial() {
        Explain x = at("debian12-host");
        Failure f = x.runsc("running container: creating container: cannot create sandbox: cannot read client sync file: waiting"
                + " for sandbox to start: EOF", List.of("Error reading mounts file: error unmarshaling mounts: unexpected end of JSON"
                + " input", "Error setting up root FS: creating working directory \"/nonexist\": mkdir /proc/root/nonexist:"
                + " permission denied"));
        assertThat(f.id()).isEqualTo("CWD_MISSING");
        assertThat(f.why()).contains("/nonexist").contains("permission denied");
        assertThat(x.runsc("starting container: failed to find initial working directory \"/mnt/sub\": no such file or directory",
                List.of()).id()).isEqualTo("CWD_MISSING");
    }

    @Test
    void workdirNamesThePathWhatBlocksItAndWhetherTheSandboxMayCreateIt() throws Exception {
        java.nio.file.Files.createDirectories(tmp.resolve("root"));
        Failure missing = Explain.workdir("--cwd /x", tmp.resolve("root/x"), false);
        assertThat(missing.id()).isEqualTo("CWD_MISSING");
        assertThat(missing.oneLine()).startsWith("gvshim: cannot use --cwd /x: " + tmp.resolve("root/x") + " does not exist, and the"
                + " sandbox may not create it (" + tmp.resolve("root") + ": owner ").contains("mkdir -p " + tmp.resolve("root/x"));
        assertThat(Explain.workdir("--cwd /x", tmp.resolve("root/x"), true)).as("a bundle's root the caller may write").isNull();
        assertThat(Explain.workdir("--cwd /", tmp.resolve("root"), false)).isNull();
        java.nio.file.Files.writeString(tmp.resolve("root/file"), "");
        assertThat(Explain.workdir("--cwd /file", tmp.resolve("root/file"), true).why()).endsWith("is not a directory");
    }

    @Test
    void runscMissingNamesTheFlagGivenOrEveryPlaceSearched() throws Exception {
        Path root = Fixture.load("debian12-host", tmp).root;
        Failure given = Explain.runscMissing("/nope", "/usr/bin:/bin", root);
        assertThat(given.oneLine()).isEqualTo("gvshim: cannot use runsc: --runsc /nope does not exist. Fix: pass --runsc"
                + " /usr/bin/runsc (the runsc in $PATH), or leave --runsc out [RUNSC_MISSING]");
        java.nio.file.Files.setPosixFilePermissions(root.resolve("usr/bin/runsc"),
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Failure none = Explain.runscMissing(null, "/opt/bin", root);
        assertThat(none.why()).startsWith("no runsc in /opt/bin, /usr/local/bin, /usr/bin, /usr/sbin, /bin ($PATH, then the usual"
                + " directories); /usr/bin/runsc (owner ").endsWith("mode rw-r--r--) is not an executable file");
        // doctor says the same, not "runsc is not installed"
        Fixture f = Fixture.load("debian12-host", tmp.resolve("d"));
        Facts facts = Facts.read(f.root, f.env, "/nope");
        Doctor.Report r = Doctor.diagnose(facts, Fixture.live(facts, "clone", "map-full"), null, null);
        assertThat(r.cause()).isEqualTo("RUNSC_MISSING");
        assertThat(r.failures().getFirst().summary()).isEqualTo("cannot use runsc: --runsc /nope does not exist");
        assertThat(r.failures().getFirst().fix()).contains("leave --runsc out");
    }

    @Test
    void aChrootIsToldFromASecurityModule() {
        Fixture chroot = Fixture.load("debian12-host", tmp.resolve("c")).status("Seccomp", "0")
                .write("proc/self/mountinfo", "40 30 0:5 /srv/jail/proc /proc rw - proc proc rw\n");
        Failure c = new Explain(chroot.facts()).syscall(clone(Errno.EPERM));
        assertThat(c.id()).isEqualTo("USERNS_DENIED");
        assertThat(c.why()).startsWith("gvshim runs in a chroot: no mount is at / in /proc/self/mountinfo");
        Fixture plain = Fixture.load("debian12-host", tmp.resolve("p")).status("Seccomp", "0");
        Failure p = new Explain(plain.facts()).syscall(clone(Errno.EPERM));
        assertThat(p.why()).contains("not a chroot").doesNotContain("runs in a chroot");
    }

    @Test
    void runscNotExecutableIsToldFromANoexecMount() throws Exception {
        Path runsc = java.nio.file.Files.writeString(tmp.resolve("runsc"), "");
        java.nio.file.Files.setPosixFilePermissions(runsc, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Fixture noexec = Fixture.load("debian12-host", tmp.resolve("n")).write("proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1"
                + " rw\n40 22 0:40 / " + tmp + " rw,nosuid,nodev,noexec - tmpfs tmpfs rw\n");
        SyscallException denied = new SyscallException("execve", Errno.EACCES, runsc.toString()).in(Step.EXEC_RUNSC);
        Failure f = new Explain(noexec.facts()).syscall(denied);
        assertThat(f.id()).isEqualTo("RUNSC_NOT_EXECUTABLE");
        assertThat(f.why()).isEqualTo(runsc + " is on a file system mounted noexec (" + tmp + ", /proc/self/mountinfo)");
        java.nio.file.Files.setPosixFilePermissions(runsc, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Failure mode = new Explain(noexec.facts()).syscall(denied);
        assertThat(mode.why()).startsWith(runsc + " (owner ").endsWith("mode rw-r--r--) is not executable by you");
    }
}
