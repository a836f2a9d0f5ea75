package dev.gvshim.diagnose;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.container.StateDir;
import dev.gvshim.failure.Failure;
import dev.gvshim.userns.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every diagnosis id, on file trees of the machines that produce it (Ubuntu 24.04's AppArmor
 * restriction, Debian's unprivileged_userns_clone, SELinux enforcing in Podman, Docker's
 * default container, a restricted Kubernetes pod), with the live probe's outcome as it comes
 * out there.
 */
class DoctorTest {
    @TempDir
    Path tmp;

    /**
     * A runsc that a masked /proc still stops (gvshim's 2022-12 before 2024-03-05), without
     * 2022-12's statx warning: the tests of Docker's and Kubernetes' masked /proc use it.
     */
    static final String MOUNTS_PROC = "release-20231030.0";

    static Doctor.Report diagnose(Fixture f, String... live) {
        return diagnoseWith("0.0~20240729.0", f, live);
    }

    static Doctor.Report diagnoseWith(String runscVersion, Fixture f, String... live) {
        Facts facts = f.facts();
        Doctor.Report r = Doctor.diagnose(facts, Fixture.live(facts, live), runscVersion, null);
        // every report these tests make is audited as a user would read it
        dev.gvshim.Messages.check("doctor on " + f.root.getFileName(), ReportOutput.text(r));
        try {
            dev.gvshim.Messages.check("doctor --json on " + f.root.getFileName(), ReportOutput.json(r));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return r;
    }

    static Finding finding(Doctor.Report r, String id) {
        return r.findings().stream().filter(f -> f.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no finding " + id + " in " + r.findings()));
    }

    static void failsWith(Doctor.Report r, String id, String fix) {
        assertThat(r.ok()).as("verdict").isFalse();
        assertThat(r.mode()).isNull();
        assertThat(r.failures().getFirst().id()).as("first failure of " + r.failures()).isEqualTo(id);
        assertThat(r.headline()).startsWith("rootless gVisor can't start here, because ");
        assertThat(finding(r, id).fix()).contains(fix);
    }

    @Test
    void debian12sRunscIsAWarningThatNamesTheBrokenCommandsAndTheFix() {
        Fixture f = Fixture.load("debian12-host", tmp);
        Doctor.Report r = Doctor.diagnose(f.facts(), Fixture.live(f.facts(), "clone", "map-full"),
                "runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n", null);
        dev.gvshim.Messages.check("doctor with runsc 2022-12", ReportOutput.text(r));
        assertThat(r.ok()).as("a warning, not a failure: the sandbox starts").isTrue();
        assertThat(r.headline()).isEqualTo("rootless gVisor works here, mode full (1 warning below)");
        Finding w = finding(r, "RUNSC_OUTDATED");
        assertThat(w.status()).isEqualTo(Finding.Status.WARN);
        assertThat(w.summary()).contains("gVisor 2022-12-19").contains("`ls DIR`").contains("Invalid argument");
        assertThat(w.evidence()).endsWith("runsc version 0.0~20221219.0");
        assertThat(w.fix()).contains("Debian 13").contains("--runsc PATH");
        assertThat(diagnose(f, "clone", "map-full").findings()).as("2024-07: no such finding")
                .noneMatch(x -> x.id().equals("RUNSC_OUTDATED"));
    }

    @Test
    void aPlainHostWithSubordinateIdsWorksInModeFull() {
        Doctor.Report r = diagnose(Fixture.load("debian12-host", tmp), "clone", "map-full");
        assertThat(r.ok()).isTrue();
        assertThat(r.mode()).isEqualTo(Mode.FULL);
        assertThat(r.headline()).isEqualTo("rootless gVisor works here, mode full");
        assertThat(r.failures()).isEmpty();
        assertThat(finding(r, "USERNS_DISABLED").evidence()).contains("user.max_user_namespaces = 63362");
        assertThat(finding(r, "SUBUID_MISSING").status()).isEqualTo(Finding.Status.OK);
        assertThat(finding(r, "USERNS_NESTING").summary()).contains("initial user namespace");
        assertThat(r.environment().kind()).isEqualTo(Environment.Kind.HOST);
    }

    @Test
    void usernsSeccompInDefaultDockerNamesTheProfileAndTheMaskedProc() {
        Doctor.Report r = diagnoseWith(MOUNTS_PROC, Fixture.load("docker-default", tmp), "clone EPERM");
        failsWith(r, "USERNS_SECCOMP", "--security-opt seccomp=docker/seccomp-gvshim.json");
        assertThat(finding(r, "USERNS_SECCOMP").summary()).contains("the container's seccomp profile denies CLONE_NEWUSER")
                .contains("Seccomp: 2, Seccomp_filters: 1, no CAP_SYS_ADMIN in CapBnd");
        assertThat(r.environment().label()).isEqualTo("Docker container");
        // everything else that needs fixing is listed too, so one round of flags suffices
        assertThat(finding(r, "PROC_MASKED").status()).isEqualTo(Finding.Status.FAIL);
        assertThat(finding(r, "PROC_MASKED").fix()).contains("--security-opt systempaths=unconfined");
        assertThat(finding(r, "PROC_MASKED").evidence()).contains("/proc/kcore");
        assertThat(finding(r, "NEWUIDMAP_NEEDS_FCAPS").status()).isEqualTo(Finding.Status.WARN);
    }

    @Test
    void usernsSeccompInKubernetesNamesTheSeccompProfileField() {
        Fixture f = Fixture.load("kubernetes-restricted", tmp).write("proc/sys/user/max_user_namespaces", "63362");
        Doctor.Report r = diagnoseWith(MOUNTS_PROC, f, "clone EPERM");
        failsWith(r, "USERNS_SECCOMP", "seccompProfile");
        assertThat(finding(r, "PROC_MASKED").fix()).contains("procMount: Unmasked");
        assertThat(finding(r, "NO_NEW_PRIVS").fix()).contains("allowPrivilegeEscalation: true");
        assertThat(finding(r, "NEWUIDMAP_MISSING").status()).isEqualTo(Finding.Status.WARN);
        assertThat(finding(r, "SUBUID_MISSING").status()).isEqualTo(Finding.Status.WARN);
    }

    @Test
    void usernsDisabledByDebiansSysctl() {
        Doctor.Report r = diagnose(Fixture.load("debian-userns-clone-0", tmp), "clone EPERM");
        failsWith(r, "USERNS_DISABLED", "as root: sysctl -w kernel.unprivileged_userns_clone=1");
        assertThat(finding(r, "USERNS_DISABLED").summary()).contains("kernel.unprivileged_userns_clone = 0");
    }

    @Test
    void usernsDisabledByMaxUserNamespacesZeroOnAKubernetesNode() {
        Doctor.Report r = diagnose(Fixture.load("kubernetes-restricted", tmp), "clone ENOSPC");
        failsWith(r, "USERNS_DISABLED", "on the node, for example from a privileged DaemonSet: sysctl -w user.max_user_namespaces=15000");
    }

    @Test
    void usernsLimitWhenThePositiveLimitIsUsedUp() {
        Fixture f = Fixture.load("debian12-host", tmp).write("proc/sys/user/max_user_namespaces", "15");
        Doctor.Report r = diagnose(f, "clone ENOSPC");
        failsWith(r, "USERNS_LIMIT", "sysctl -w user.max_user_namespaces=15000");
        assertThat(finding(r, "USERNS_LIMIT").summary()).contains("user.max_user_namespaces = 15");
    }

    @Test
    void usernsApparmorOnUbuntu2404ForBothWaysItFails() {
        Fixture f = Fixture.load("ubuntu2404-apparmor", tmp);
        // without the unprivileged_userns profile: clone itself gets EACCES
        Doctor.Report r = diagnose(f, "clone EACCES");
        failsWith(r, "USERNS_APPARMOR",
                "add a step to the job before gvshim runs: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0");
        assertThat(r.environment().label()).isEqualTo("host (GitHub Actions runner)");
        // with it (the default): clone works, then the namespace has no capabilities to map ids
        Doctor.Report r2 = diagnose(f, "clone", "map-full newuidmap: write to uid_map failed: Operation not permitted",
                "map-single EPERM");
        failsWith(r2, "USERNS_APPARMOR", "kernel.apparmor_restrict_unprivileged_userns=0");
        assertThat(r2.findings()).extracting(Finding::id).containsOnlyOnce("USERNS_APPARMOR");
    }

    @Test
    void usernsSelinuxInAConfinedPodmanContainer() {
        Doctor.Report r = diagnose(Fixture.load("fedora-selinux-podman", tmp), "clone EACCES");
        failsWith(r, "USERNS_SELINUX", "--security-opt label=type:container_engine_t");
        assertThat(finding(r, "USERNS_SELINUX").summary()).contains("container_t");
        assertThat(r.environment().kind()).isEqualTo(Environment.Kind.PODMAN);
    }

    @Test
    void usernsNestingFromTheMeasuredLevelsLeft() {
        Fixture f = Fixture.load("debian12-host", tmp).write("proc/self/uid_map", "0 1000 1\n").write("proc/self/gid_map", "0 1000 1\n");
        Doctor.Report r = diagnose(f, "clone", "map-single", "nest 0");
        failsWith(r, "USERNS_NESTING", "less deeply nested");
        // not measured side by side: both causes, with the value read and where
        assertThat(finding(r, "USERNS_NESTING").summary()).contains("limit of 32 nested user namespaces (1 level left")
                .contains("or a user.max_user_namespaces above this namespace is used up")
                .contains("user.max_user_namespaces = 63362, read in the user namespace gvshim runs in (its uid_map: 0 1000 1),"
                        + " not the initial one");
        // at the limit the clone itself fails with ENOSPC, and a nested namespace says nesting
        failsWith(diagnose(f, "clone ENOSPC"), "USERNS_NESTING", "less deeply nested");
        // with levels to spare it is fine
        assertThat(finding(diagnose(f, "clone", "map-single", "nest 25"), "USERNS_NESTING").status()).isEqualTo(Finding.Status.OK);
    }

    @Test
    void aCountLimitIsToldFromTheDepthByWhatWasMeasuredOrRead() {
        Fixture f = Fixture.load("debian12-host", tmp).write("proc/self/uid_map", "0 1000 1\n").write("proc/self/gid_map", "0 1000 1\n");
        // more side by side than could be stacked: depth, and only depth is named
        Doctor.Report depth = diagnose(f, "clone", "map-single", "nest 0 wide 2");
        failsWith(depth, "USERNS_NESTING", "less deeply nested");
        assertThat(finding(depth, "USERNS_NESTING").summary()).contains("measured: 2 side by side, so it is the depth")
                .doesNotContain("max_user_namespaces");
        // as many side by side as stacked: a count, of a namespace above (the one read here is large)
        Doctor.Report above = diagnose(f, "clone", "map-single", "nest 0 wide 1");
        failsWith(above, "USERNS_LIMIT", "user.max_user_namespaces=15000");
        assertThat(finding(above, "USERNS_LIMIT").summary()).contains("only 1 user namespace could be created side by side where 1"
                + " were nested (measured)").contains("the limit is that of a namespace above this one");
        assertThat(finding(above, "USERNS_NESTING").status()).isEqualTo(Finding.Status.OK);
        // a limit read here that gvshim's namespace alone reaches: the count, named with its value and namespace
        Doctor.Report one = diagnose(f.write("proc/sys/user/max_user_namespaces", "1"), "clone", "map-single", "nest 0");
        failsWith(one, "USERNS_LIMIT", "sysctl -w user.max_user_namespaces=15000");
        assertThat(finding(one, "USERNS_LIMIT").summary()).contains("user.max_user_namespaces = 1, read in the user namespace gvshim"
                + " runs in (its uid_map: 0 1000 1), not the initial one, allows 1 user namespace there, and a sandbox needs 2");
        // two: one sandbox fits, and doctor says it is the last
        Doctor.Report two = diagnose(f.write("proc/sys/user/max_user_namespaces", "2"), "clone", "map-single", "nest 1 wide 2");
        assertThat(two.ok()).isTrue();
        assertThat(finding(two, "USERNS_LIMIT").status()).isEqualTo(Finding.Status.WARN);
        assertThat(finding(two, "USERNS_LIMIT").summary()).contains("user.max_user_namespaces = 2");
        // run's view of the same: runsc's ENOSPC, with the limit read here
        Failure run = new Explain(f.facts()).runsc("starting sandbox: fork/exec /proc/self/exe: no space left on device",
                java.util.List.of());
        assertThat(run.id()).isEqualTo("USERNS_NESTING"); // 2 here: both are possible, and both are named
        Failure runOne = new Explain(f.write("proc/sys/user/max_user_namespaces", "1").facts())
                .runsc("starting sandbox: fork/exec /proc/self/exe: no space left on device", java.util.List.of());
        assertThat(runOne.id()).isEqualTo("USERNS_LIMIT");
    }

    @Test
    void noNewPrivsLeavesModeSingleAndSaysWhatFullWouldNeed() {
        Fixture f = Fixture.load("debian12-host", tmp).status("NoNewPrivs", "1");
        Doctor.Report r = diagnose(f, "clone", "map-full newuidmap: write to uid_map failed: Operation not permitted", "map-single");
        assertThat(r.ok()).isTrue();
        assertThat(r.mode()).isEqualTo(Mode.SINGLE);
        Finding nnp = finding(r, "NO_NEW_PRIVS");
        assertThat(nnp.status()).isEqualTo(Finding.Status.WARN);
        assertThat(nnp.summary()).startsWith("mode full failed live").endsWith("(mode single works)");
        assertThat(nnp.evidence()).contains("newuidmap: write to uid_map failed: Operation not permitted");
        assertThat(nnp.fix()).contains("no_new_privs");
    }

    @Test
    void subuidAndSubgidMissing() {
        Fixture f = Fixture.load("debian12-host", tmp).write("etc/subuid", "").write("etc/subgid", "other:100000:65536\n");
        Doctor.Report r = diagnose(f, "clone", "map-single");
        assertThat(r.ok()).isTrue();
        assertThat(r.mode()).isEqualTo(Mode.SINGLE);
        assertThat(finding(r, "SUBUID_MISSING").status()).isEqualTo(Finding.Status.WARN);
        assertThat(finding(r, "SUBUID_MISSING").fix()).as("other holds 100000-165535").contains("usermod --add-subuids 165536-231071 --add-subgids 165536-231071 app");
        assertThat(finding(r, "SUBGID_MISSING").status()).isEqualTo(Finding.Status.WARN);
        // newuidmap's own words for it
        Doctor.Report live = diagnose(Fixture.load("debian12-host", tmp.resolve("b")), "clone",
                "map-full newuidmap: uid range [1-65537) -> [100000-165536) not allowed", "map-single");
        assertThat(finding(live, "SUBUID_MISSING").status()).isEqualTo(Finding.Status.WARN);
        assertThat(finding(live, "SUBUID_MISSING").evidence()).contains("not allowed");
    }

    @Test
    void newuidmapMissingUnprivilegedOrNeedingFileCapabilities() {
        Doctor.Report missing = diagnose(Fixture.load("debian12-host", tmp.resolve("a")).helpers("missing"), "clone", "map-single");
        assertThat(finding(missing, "NEWUIDMAP_MISSING").fix()).contains("apt-get install uidmap");
        assertThat(missing.mode()).isEqualTo(Mode.SINGLE);

        Doctor.Report plain = diagnose(Fixture.load("debian12-host", tmp.resolve("b")).helpers("plain"), "clone", "map-single");
        assertThat(finding(plain, "NEWUIDMAP_UNPRIVILEGED").status()).isEqualTo(Finding.Status.WARN);
        assertThat(finding(plain, "NEWUIDMAP_UNPRIVILEGED").fix()).contains("chmod u+s /usr/bin/newuidmap");

        Fixture docker = Fixture.load("docker-default", tmp.resolve("c")).status("Seccomp", "0").status("Seccomp_filters", "0");
        Doctor.Report fcaps = diagnoseWith(MOUNTS_PROC, docker, "clone", "map-full newuidmap: write to uid_map failed: Operation not permitted",
                "map-single", "mount-proc EPERM");
        Finding f = finding(fcaps, "NEWUIDMAP_NEEDS_FCAPS");
        assertThat(f.status()).isEqualTo(Finding.Status.WARN);
        assertThat(f.fix()).contains("chmod u-s /usr/bin/newuidmap && setcap cap_setuid+ep /usr/bin/newuidmap");
        failsWith(fcaps, "PROC_MASKED", "--security-opt systempaths=unconfined");
    }

    @Test
    void mountDeniedByDockersApparmorProfile() {
        Fixture f = Fixture.load("docker-apparmor", tmp).status("Seccomp", "0").status("Seccomp_filters", "0");
        Doctor.Report r = diagnose(f, "clone", "map-full", "mount-tmpfs EACCES", "mount-proc", "pivot-root");
        failsWith(r, "MOUNT_DENIED", "--security-opt apparmor=unconfined");
        assertThat(finding(r, "MOUNT_DENIED").summary()).contains("docker-default (enforce)");
        assertThat(r.findings()).extracting(Finding::id).containsOnlyOnce("MOUNT_DENIED");
    }

    @Test
    void procMaskedAndPivotRootDeniedAsInDockerWithSysAdminAdded() {
        // as measured in a container run with --cap-add SYS_ADMIN --security-opt systempaths=unconfined, default seccomp
        Fixture f = Fixture.load("docker-default", tmp).status("CapBnd", "00000000a82425fb")
                .write("proc/self/mountinfo", "600 500 0:52 / / rw - overlay overlay rw\n601 600 0:55 / /proc rw - proc proc rw\n");
        Doctor.Report r = diagnose(f, "clone", "map-single", "pivot-root EPERM");
        failsWith(r, "PIVOT_ROOT_DENIED", "--security-opt seccomp=docker/seccomp-gvshim.json");
        assertThat(finding(r, "PIVOT_ROOT_DENIED").summary()).contains("does not allow pivot_root");
        assertThat(finding(r, "PROC_MASKED").status()).isEqualTo(Finding.Status.OK);
        assertThat(finding(r, "USERNS_SECCOMP").status()).isEqualTo(Finding.Status.OK); // it allowed clone
    }

    @Test
    void ptraceDeniedByYamaOrSeccomp() {
        Fixture f = Fixture.load("debian12-host", tmp).write("proc/sys/kernel/yama/ptrace_scope", "3");
        Doctor.Report stat = diagnose(f, "clone", "map-full", "ptrace EPERM");
        failsWith(stat, "PTRACE_DENIED", "kernel.yama.ptrace_scope = 1");
        Fixture kvm = Fixture.load("debian12-host", tmp.resolve("k")).write("dev/kvm", "").status("Seccomp", "2");
        Doctor.Report r = diagnose(kvm, "clone", "map-full", "ptrace EPERM");
        failsWith(r, "PTRACE_DENIED", "--platform kvm");
        assertThat(finding(r, "PTRACE_DENIED").summary()).contains("seccomp filter denies ptrace");
    }

    @Test
    void cgroupReadOnlyForRootAndInRunscsError() {
        Fixture f = Fixture.load("docker-default", tmp).status("Uid", "0\t0\t0\t0").status("Gid", "0\t0\t0\t0")
                .status("CapEff", "00000000a80425fb").status("Seccomp", "0");
        Doctor.Report r = diagnose(f, "clone", "map-full");
        assertThat(finding(r, "CGROUP_READONLY").status()).isEqualTo(Finding.Status.WARN);
        assertThat(finding(r, "CGROUP_READONLY").evidence()).contains("read-only");
        Failure fromRunsc = new Explain(f.facts()).runsc("running container: creating container: cannot set up cgroup for root:"
                + " configuring cgroup: mkdir /sys/fs/cgroup/memory/ID: read-only file system", java.util.List.of());
        assertThat(fromRunsc.id()).isEqualTo("CGROUP_READONLY");
        // a non-root user's sandbox does not use it
        assertThat(finding(diagnose(Fixture.load("docker-default", tmp.resolve("u")), "clone", "map-single"), "CGROUP_READONLY")
                .status()).isEqualTo(Finding.Status.OK);
    }

    @Test
    void runscMissing() {
        Doctor.Report r = diagnose(Fixture.load("debian12-host", tmp).delete("usr/bin/runsc"), "clone", "map-full");
        failsWith(r, "RUNSC_MISSING", "apt-get install runsc");
    }

    @Test
    void stateDirUnsafe() throws Exception {
        // the user's own $XDG_RUNTIME_DIR/gvshim, opened to others: only the user (or root) can have done that
        Path xdg = Files.createDirectory(tmp.resolve("xdg"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path state = Files.createDirectory(xdg.resolve("gvshim"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxrwxrwx"));
        Facts facts = Fixture.load("debian12-host", tmp).status("Uid", uid() + "\t" + uid() + "\t" + uid() + "\t" + uid()).facts();
        StateDir.Choice choice = StateDir.find(Map.of("XDG_RUNTIME_DIR", xdg.toString()), uid(), -1);
        Doctor.Report r = Doctor.diagnose(facts, Fixture.live(facts, "clone", "map-single"), null, choice);
        failsWith(r, "STATE_DIR_UNSAFE", "chmod 700 " + state);
        assertThat(finding(r, "STATE_DIR_UNSAFE").summary()).isEqualTo("cannot use the state directory " + state
                + ": its mode is 0777, open to other users");
    }

    @Test
    void aStateDirectoryNameTakenByAnotherUserIsNamedButNoFailure() throws Exception {
        Facts facts = Fixture.load("debian12-host", tmp).facts();
        StateDir.Choice choice = new StateDir.Choice(null, "/tmp/gvshim-1004.XXXXXXXXXXXX", null,
                java.util.List.of("/tmp/gvshim-1004 (owner mallory (uid 1005), mode 0777)"));
        Doctor.Report r = Doctor.diagnose(facts, Fixture.live(facts, "clone", "map-full"), null, choice);
        Finding f = finding(r, "STATE_DIR_UNSAFE");
        assertThat(f.status()).isEqualTo(Finding.Status.OK);
        assertThat(f.summary()).isEqualTo("the state directory will be created, private to you, by the first run; ignored,"
                + " never used: /tmp/gvshim-1004 (owner mallory (uid 1005), mode 0777)");
    }

    private static int uid() throws Exception {
        return dev.gvshim.linux.ProcStatus.parse(Files.readString(Path.of("/proc/self/status"))).euid();
    }

    @Test
    void withoutTheLiveProbeNothingItTestsIsOkAndTheVerdictSaysSo() {
        Facts facts = Fixture.load("debian12-host", tmp).facts();
        Doctor.Report r = Doctor.diagnose(facts, null, null, null);
        assertThat(r.verdict()).isEqualTo(Doctor.Verdict.UNTESTED);
        assertThat(r.ok()).isFalse();
        assertThat(r.untested()).extracting(Finding::id).contains("MOUNT_DENIED", "PIVOT_ROOT_DENIED", "PTRACE_DENIED",
                "PROC_MASKED", "NAMESPACE_DENIED", "IDMAP_FULL");
        assertThat(finding(r, "MOUNT_DENIED").evidence()).contains("this installation has no libexec/gvshim-probe");
        assertThat(r.headline()).startsWith("doctor could not test everything: nothing that was tested failed, but 6 checks");
        assertThat(r.counts()).endsWith("0 failed, 6 not tested");
    }

    @Test
    void aMaskedProcDoesNotStopARunscThatBindsTheHostsProc() {
        // runsc >= 2024-03-05 (Debian 13's 2024-07-29) binds the existing /proc: Docker's masks stop it no longer
        Fixture f = Fixture.load("docker-default", tmp).status("CapBnd", "00000000a82425fb").helpers("fcaps");
        String[] live = {"clone", "map-full", "mount-proc EPERM", "pivot-root EPERM"};
        Doctor.Report r = diagnose(f, live);
        failsWith(r, "PIVOT_ROOT_DENIED", "seccomp-gvshim.json");
        assertThat(r.failures()).extracting(Finding::id).containsExactly("PIVOT_ROOT_DENIED");
        Finding proc = finding(r, "PROC_MASKED");
        assertThat(proc.status()).isEqualTo(Finding.Status.OK);
        assertThat(proc.summary()).contains("binds the host's /proc");
        assertThat(proc.evidence()).contains("EPERM").contains("gVisor 2024-07-29");
        // run's failure analysis reads the probe the same way: it names what doctor names
        Explain x = new Explain(f.facts());
        Failure run = x.refine(x.runsc("... waiting for sandbox to start: EOF", java.util.List.of("error setting up chroot:"
                + " pivot_root failed, make sure that the root mount has a parent: operation not permitted")),
                Fixture.live(f.facts(), live).forRunsc(dev.gvshim.runsc.RunscRelease.parse("runsc version 0.0~20240729.0")));
        assertThat(run.id()).isEqualTo("PIVOT_ROOT_DENIED");
        // without the live probe, the files alone: not a failure either (not tested, the files' reading kept)
        Doctor.Report files = Doctor.diagnose(f.facts(), null, "0.0~20240729.0", null);
        assertThat(finding(files, "PROC_MASKED").status()).isEqualTo(Finding.Status.NOT_TESTED);
        assertThat(finding(files, "PROC_MASKED").summary()).contains("binds the host's /proc");
        assertThat(Doctor.diagnose(f.facts(), null, MOUNTS_PROC, null).failures()).extracting(Finding::id).contains("PROC_MASKED");
    }

    @Test
    void checksTheProbeDidNotReachAreNotTestedNeverOk() {
        // inside a default Docker container the probe stops at clone: mount, pivot_root, ptrace are not tested
        Doctor.Report r = diagnoseWith(MOUNTS_PROC, Fixture.load("docker-default", tmp), "clone EPERM");
        failsWith(r, "USERNS_SECCOMP", "seccomp-gvshim.json");
        for (String id : java.util.List.of("MOUNT_DENIED", "PIVOT_ROOT_DENIED", "PTRACE_DENIED", "NAMESPACE_DENIED", "IDMAP_FULL")) {
            Finding f = finding(r, id);
            assertThat(f.status()).as(id).isEqualTo(Finding.Status.NOT_TESTED);
            assertThat(f.evidence()).as(id).isEqualTo("the live probe stopped at clone (EPERM): fix that and run doctor again");
        }
        assertThat(finding(r, "MOUNT_DENIED").summary()).isEqualTo("not tested; from files: no AppArmor confinement");
        // a static failure keeps its evidence and says it was not confirmed live
        assertThat(finding(r, "PROC_MASKED").status()).isEqualTo(Finding.Status.FAIL);
        assertThat(finding(r, "PROC_MASKED").summary()).contains("(from files; not tested live: the live probe stopped at clone");
        assertThat(r.counts()).contains("2 failed, 5 not tested");
        String text = ReportOutput.text(r);
        assertThat(text).contains("Not tested (the live probe stopped at clone (EPERM): fix that and run doctor again):\n"
                + "  ").contains("  not tested  MOUNT_DENIED ");
        assertThat(text).doesNotContainPattern("ok +(MOUNT_DENIED|PIVOT_ROOT_DENIED|PTRACE_DENIED) ");
    }

    @Test
    void environmentDetection(@TempDir Path root) throws Exception {
        assertThat(Environment.detect(root, java.util.Map.of()).kind()).isEqualTo(Environment.Kind.HOST);
        assertThat(Environment.detect(root, java.util.Map.of("GITLAB_CI", "true")).label()).isEqualTo("host (GitLab CI runner)");
        // a /.dockerenv left in an image that boots as a VM (this machine) is not a container
        Files.writeString(root.resolve(".dockerenv"), "");
        Files.createDirectories(root.resolve("proc/self"));
        Files.writeString(root.resolve("proc/self/mountinfo"), "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n");
        Environment vm = Environment.detect(root, java.util.Map.of());
        assertThat(vm.kind()).isEqualTo(Environment.Kind.HOST);
        assertThat(vm.evidence()).contains("left in the image");
        Environment docker = Fixture.load("docker-default", tmp).facts().env();
        assertThat(docker.kind()).isEqualTo(Environment.Kind.DOCKER);
        assertThat(docker.evidence()).contains("/etc/hostname is bind-mounted from /var/lib/docker/containers/0123abcd/hostname");
        assertThat(Environment.detect(root, java.util.Map.of("KUBERNETES_SERVICE_HOST", "10.0.0.1", "CI", "1")).label())
                .isEqualTo("Kubernetes pod (CI job)");
    }

    @Test
    void jsonCarriesVerdictModeEnvironmentAndFindings() throws Exception {
        Doctor.Report r = diagnose(Fixture.load("docker-default", tmp), "clone EPERM");
        var json = dev.gvshim.oci.JsonTree.read(ReportOutput.json(r).getBytes());
        assertThat(json.path("verdict").asText()).isEqualTo("fail");
        assertThat(json.path("mode").isNull()).isTrue();
        assertThat(json.path("environment").asText()).isEqualTo("Docker container");
        var first = json.path("findings").get(0);
        assertThat(first.path("id").asText()).isEqualTo("USERNS_SECCOMP");
        assertThat(first.path("status").asText()).isEqualTo("fail");
        assertThat(first.path("evidence").asText()).contains("EPERM");
        assertThat(first.path("fix").asText()).contains("seccomp-gvshim.json");
        String text = ReportOutput.text(r);
        assertThat(text.lines().findFirst().orElseThrow()).startsWith("gvshim doctor: rootless gVisor can't start here, because");
        assertThat(text).contains("To make it work, in this order:\n  1. USERNS_SECCOMP: ");
    }

    @Test
    void dockerWithSysAdminGetsOneFixForTheMaskedProcAndTheDeniedPivotRoot() {
        // docker run --cap-add SYS_ADMIN, default seccomp profile, /proc masked: both fail live
        Fixture f = Fixture.load("docker-default", tmp).status("CapBnd", "00000000a82425fb").helpers("fcaps");
        Doctor.Report r = diagnoseWith(MOUNTS_PROC, f, "clone", "map-full", "mount-proc EPERM", "pivot-root EPERM");
        failsWith(r, "PROC_MASKED", "--security-opt seccomp=docker/seccomp-gvshim.json --security-opt systempaths=unconfined");
        assertThat(r.failures()).extracting(Finding::id).containsExactly("PROC_MASKED", "PIVOT_ROOT_DENIED");
        // run meets the same: runsc's `error mounting proc`, completed with the probe's findings
        Explain x = new Explain(f.facts());
        Failure run = x.refine(x.runsc("... waiting for sandbox to start: EOF", java.util.List.of("error mounting proc: operation not"
                + " permitted")), Fixture.live(f.facts(), "clone", "map-full", "mount-proc EPERM", "pivot-root EPERM"));
        assertThat(run.id()).isEqualTo("PROC_MASKED");
        assertThat(run.fix()).isEqualTo(finding(r, "PROC_MASKED").fix());
        assertThat(run.why()).contains("and PIVOT_ROOT_DENIED next (tested live)");
        // runsc's gofer (pivot_root) and sandbox (mount proc) race: when its log holds only the gofer's
        // failure, run still names the cause doctor names first, with both fixes
        Failure raced = x.refine(x.runsc("... waiting for sandbox to start: EOF", java.util.List.of("error setting up chroot:"
                + " pivot_root failed, make sure that the root mount has a parent: operation not permitted")),
                Fixture.live(f.facts(), "clone", "map-full", "mount-proc EPERM", "pivot-root EPERM"));
        assertThat(raced.id()).isEqualTo("PROC_MASKED");
        assertThat(raced.evidence()).contains("pivot_root failed").contains("live: mount(\"proc\"): EPERM");
        assertThat(raced.fix()).isEqualTo(run.fix());
    }

    @Test
    void subordinateRangesAreNamedWithTheirSizesAndOverlapsWithOtherUsers() {
        Fixture f = Fixture.load("debian12-host", tmp).write("etc/subuid", "bob:150000:65536\napp:100000:65535\n");
        Doctor.Report r = diagnose(f, "clone", "map-full");
        assertThat(r.ok()).isTrue();
        assertThat(finding(r, "SUBUID_MISSING").summary()).contains("only 65535 ids");
        assertThat(finding(r, "SUBUID_MISSING").evidence()).isEqualTo("/etc/subuid: 100000-165534 (65535 ids)");
        Finding overlap = finding(r, "SUBUID_OVERLAP");
        assertThat(overlap.status()).isEqualTo(Finding.Status.WARN);
        assertThat(overlap.summary()).startsWith("/etc/subuid: app's 100000-165534 (65535 ids) overlaps bob's 150000-215535"
                + " (65536 ids) by 15535 ids");
        assertThat(finding(r, "SUBGID_MISSING").status()).isEqualTo(Finding.Status.OK);
    }

    @Test
    void helpersAreDescribedByWhatWasRead() {
        dev.gvshim.userns.Helper wrong = new dev.gvshim.userns.Helper("newgidmap", "/opt/newgidmap", true, true, false, false,
                0755, "root", "cap_setuid=ep");
        assertThat(wrong.describe()).isEqualTo("/opt/newgidmap (owner root, mode 0755) is not setuid root, and its file"
                + " capabilities cap_setuid=ep lack cap_setgid, which newgidmap needs");
        assertThat(new dev.gvshim.userns.Helper("newuidmap", "/usr/bin/newuidmap", true, true, true, false, 04755, "root", null)
                .describe()).isEqualTo("/usr/bin/newuidmap is setuid root (owner root, mode 4755)");
        assertThat(dev.gvshim.userns.Caller.describeFileCaps(new byte[] {1, 0, 0, 2, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0})).isEqualTo("cap_setuid=ep");
        // the bounding set without CAP_SETUID: mode full is impossible, and doctor says why before trying
        Fixture f = Fixture.load("debian12-host", tmp).status("CapBnd", "000001ffffffff3f");
        Doctor.Report r = Doctor.diagnose(f.facts(), Fixture.live(f.facts(), "clone", "map-single"), null, null);
        assertThat(r.mode()).isEqualTo(Mode.SINGLE);
        assertThat(r.notFull().id()).isEqualTo("NEWUIDMAP_CAPS_DROPPED");
        assertThat(r.notFull().summary()).contains("CAP_SETUID is not in the bounding set (CapBnd 000001ffffffff3f)");
        assertThat(finding(r, "NEWUIDMAP_CAPS_DROPPED").status()).isEqualTo(Finding.Status.WARN);
    }
}
