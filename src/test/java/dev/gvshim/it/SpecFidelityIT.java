package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The spec's isolation fields (issue 14, item 5), which runsc alone drops or applies otherwise:
 * seccomp, masked and read-only paths, a user namespace of the spec's own, capabilities, rlimits and
 * no_new_privs, device rules, an SELinux label; as root and rootless where both apply.
 */
class SpecFidelityIT extends RuncFixture {
    /** issue 14 item 5: linux.seccomp was dropped (runsc applies it only with --oci-seccomp). */
    @Test
    void seccompProfileIsAppliedAsRootAndRootless() throws Exception {
        for (boolean user : new boolean[] {false, true}) {
            Path b = specBundle("seccomp", s -> seccomp(s, "SCMP_ACT_ERRNO"),
                    "grep Seccomp: /proc/self/status; mkdir /tmp/d; echo mkdir=$?");
            Host.Result r = runBundle(user, b, "sc" + (user ? "u" : "r"));
            assertThat(r.code()).as((user ? "rootless " : "root ") + r + logOf(b)).isZero();
            assertThat(r.out()).as(r.toString()).contains("Seccomp:\t2").contains("mkdir=1");
            assertThat(r.err()).contains("Operation not permitted");
        }
    }

    @Test
    void seccompGvisorCannotApplyIsRefusedWithOneLine() throws Exception {
        for (String kind : List.of("notify", "listener")) {
            Path b = specBundle("sc-" + kind, s -> {
                seccomp(s, kind.equals("notify") ? "SCMP_ACT_NOTIFY" : "SCMP_ACT_ERRNO");
                if (kind.equals("listener")) {
                    s.withObject("linux").withObject("seccomp").put("listenerPath", "/run/seccomp-agent.sock");
                }
            }, "echo ran");
            Host.Result r = runBundle(false, b, "sc-" + kind);
            assertThat(r.code()).as(r.toString()).isEqualTo(1);
            assertThat(r.out()).doesNotContain("ran");
            assertThat(lastErrorOf(b)).as(kind).startsWith("gvshim: cannot honour linux.seccomp of container sc-" + kind + ": ")
                    .contains(kind.equals("notify") ? "SCMP_ACT_NOTIFY" : "listenerPath /run/seccomp-agent.sock")
                    .contains(". Fix: ").endsWith("[SECCOMP_UNSUPPORTED]");
            assertThat(r.err().lines()).as("one line on stderr").hasSize(1);
        }
        assertThat(rootEntries()).as("nothing was created").isEmpty();
    }

    /** runsc applies neither list: gvshim mounts what runc would, as root and rootless. */
    @Test
    void maskedAndReadOnlyPathsHoldAsRootAndRootless() throws Exception {
        for (boolean user : new boolean[] {false, true}) {
            Path b = specBundle("paths", s -> {
                s.withObject("root").put("readonly", false);
                ObjectNode linux = s.withObject("linux");
                linux.putArray("maskedPaths").add("/secret").add("/etc/passwd").add("/proc/kcore").add("/no/such");
                linux.putArray("readonlyPaths").add("/data").add("/proc/sys");
            }, "ls /secret | wc -l; wc -c < /etc/passwd; touch /data/new; echo touch=$?; touch /other; echo other=$?");
            Files.createDirectories(b.resolve("rootfs/secret"));
            Files.writeString(b.resolve("rootfs/secret/key"), "k");
            Files.createDirectories(b.resolve("rootfs/data"));
            Host.check(Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString()));
            // writable by anyone: only the read-only path may stop a write (root in the sandbox has no CAP_DAC_OVERRIDE)
            Host.check(Host.sh("chmod", "777", b.resolve("rootfs").toString(), b.resolve("rootfs/data").toString()));
            Host.Result r = runBundle(user, b, "paths" + (user ? "u" : "r"));
            assertThat(r.code()).as((user ? "rootless " : "root ") + r + logOf(b)).isZero();
            assertThat(r.out()).as(r.toString()).isEqualTo("0\n0\ntouch=1\nother=0\n");
            assertThat(r.err()).contains("Read-only file system");
            assertThat(b.resolve("rootfs/data/new")).doesNotExist();
            assertThat(b.resolve("rootfs/secret/key")).as("masked, not removed").hasContent("k");
            assertThat(logOf(b)).contains("\"level\":\"info\"").contains("linux.maskedPaths and readonlyPaths (2 under"
                    + " gVisor's own /proc and /sys");
        }
    }

    /**
     * A spec with a user namespace of its own (runc's userns.bats, "userns with simple mount"),
     * run in one step as root: runsc puts its gofer in that namespace, which must mount a procfs
     * under the /proc that --hide-proc-net has partly covered. The kernel refused it ("error
     * mounting proc", misread as PROC_MASKED) until gvshim-nsexec added a procfs nothing covers.
     */
    @Test
    void aSpecWithItsOwnUserNamespaceRunsInOneStep() throws Exception {
        Path b = specBundle("userns", s -> {
            ObjectNode linux = s.withObject("linux");
            linux.withArray("namespaces").addObject().put("type", "user");
            for (String maps : List.of("uidMappings", "gidMappings")) {
                linux.putArray(maps).addObject().put("containerID", 0).put("hostID", 100000).put("size", 65536);
            }
            s.withArray("mounts").addObject().put("destination", "/mnt").put("type", "bind").put("source", "/etc")
                    .putArray("options")
                    .add("bind").add("ro");
        }, "echo in-userns; test -s /mnt/passwd && echo mounted");
        Host.Result r = runBundle(false, b, "userns-run");
        assertThat(r.code()).as(r + logOf(b)).isZero();
        assertThat(r.out()).isEqualTo("in-userns\nmounted\n");
    }

    /**
     * `runc spec` with a user namespace (its device rules deny all: gvshim gives runsc nodev copies)
     * and a bind source under a directory only root may search: runc runs it (it opens sources
     * before it joins the namespace); runsc's gofer looks them up as the mapped root (host uid
     * 100000). The copies go where that uid can reach.
     */
    @Test
    void aUserNamespaceSpecWithDeviceRulesAndAnUnreachableBindSourceRunsAsUnderRunc() throws Exception {
        Path closed = tmp.resolve("closed");
        Files.createDirectories(closed.resolve("data"));
        Files.writeString(closed.resolve("data/f"), "from-the-host\n");
        Host.check(Host.sh("chmod", "700", closed.toString()));
        Path b = specBundle("userns-devices", s -> {
            ObjectNode linux = s.withObject("linux");
            linux.withArray("namespaces").addObject().put("type", "user");
            for (String maps : List.of("uidMappings", "gidMappings")) {
                linux.putArray(maps).addObject().put("containerID", 0).put("hostID", 100000).put("size", 65536);
            }
            linux.withObject("resources").putArray("devices").addObject().put("allow", false).put("access", "rwm");
            s.withArray("mounts").addObject().put("destination", "/mnt").put("type", "bind")
                    .put("source", closed.resolve("data").toString()).putArray("options").add("rbind");
        }, "cat /mnt/f; id -u");
        // this test's --root is below JUnit's 0700 directory, as gvshim's default /run/gvshim is 0700: root's copies go
        // in /run/gvshim-mounts
        Host.Result r = runBundle(false, b, "userns-devices");
        assertThat(r.code()).as(r + logOf(b)).isZero();
        assertThat(r.out()).isEqualTo("from-the-host\n0\n");
        assertThat(Host.sh("sh", "-c", "ls /run/gvshim-mounts 2>/dev/null | wc -l").out().trim()).as("removed with it").isEqualTo("0");
        Host.check(Host.sh("chmod", "711", tmp.toString())); // a --root others may search: the copies go next to the state
        Host.Result s = runBundle(false, b, "userns-devices2");
        assertThat(s.code()).as(s + logOf(b)).isZero();
        assertThat(s.out()).isEqualTo("from-the-host\n0\n");
        assertThat(rootEntries()).as("the copies' directory is removed with the container").isEmpty();
    }

    /** Capabilities, rlimits and no_new_privs as gVisor shows them; a capability runsc 2022-12 does not know no longer fails the container. */
    @Test
    void capabilitiesRlimitsAndNoNewPrivsAreTheSpecs() throws Exception {
        Path b = specBundle("caps", s -> {
            ObjectNode p = s.withObject("process");
            ObjectNode caps = p.putObject("capabilities");
            for (String set : List.of("bounding", "effective", "permitted")) {
                caps.putArray(set).add("CAP_KILL").add("CAP_PERFMON");
            }
            p.putArray("rlimits").addObject().put("type", "RLIMIT_NOFILE").put("hard", 64).put("soft", 64);
            p.put("noNewPrivileges", true);
        }, "grep -E 'Cap(Eff|Bnd)' /proc/self/status; ulimit -n; /probe nnp; chown 1 /tmp; echo chown=$?");
        Host.Result r = runBundle(false, b, "caps");
        assertThat(r.code()).as(r + logOf(b)).isZero();
        if (Host.runscRelease().knowsNewCapabilities()) {
            // runsc >= 2023-02-27 (Debian 13's) knows CAP_PERFMON (bit 38): the spec's set, exactly
            assertThat(r.out()).as(r.toString()).isEqualTo("CapEff:\t0000004000000020\nCapBnd:\t0000004000000020\n64\n"
                    + "nnp: 1\nchown=1\n");
            return;
        }
        assertThat(r.out()).as(r.toString()).isEqualTo("CapEff:\t0000000000000020\nCapBnd:\t0000000000000020\n64\nnnp: 1\n"
                + "chown=1\n");
        assertThat(logOf(b)).contains("CAP_PERFMON (removed: runsc");
    }

    @Test
    void selinuxLabelIsRefused() throws Exception {
        Path b = specBundle("selinux", s -> s.withObject("process").put("selinuxLabel", "system_u:system_r:container_t:s0:c1,c2"),
                "echo ran");
        Host.Result r = runBundle(false, b, "selinux");
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(lastErrorOf(b)).contains("process.selinuxLabel").endsWith("[SPEC_SELINUX]");
    }

    /**
     * A device node in the root file system reached the host's device through runsc's gofer,
     * whatever the spec's device rules: now the rules hold (1:7, /dev/full, denied).
     */
    @Test
    void deviceNodesInTheRootStayClosedAsRootAndRootless() throws Exception {
        for (boolean user : new boolean[] {false, true}) {
            Path b = specBundle("dev", s -> s.withObject("linux").withObject("resources").putArray("devices").addObject()
                    .put("allow", false).put("access", "rwm"), "/probe read=/fullnode");
            Host.check(Host.sh("mknod", "-m", "666", b.resolve("rootfs/fullnode").toString(), "c", "1", "7"));
            Host.Result r = runBundle(user, b, "dev" + (user ? "u" : "r"));
            assertThat(r.code()).as(r + logOf(b)).isZero();
            assertThat(r.out()).as("main: 'read: ok', from the host's /dev/full").isEqualTo("read: Permission denied\n");
        }
    }
}
