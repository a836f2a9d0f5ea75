package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each user-namespace failure produced for real on this machine, as a non-root user: `gvshim
 * doctor` names it, `gvshim run` exits 125 with the same id, and the fix, applied, makes
 * `gvshim run` work where it can.
 */
class DoctorIT {
    private static final Duration T = Duration.ofSeconds(90);
    private static final String RUN = "run --rootfs hello/rootfs -- /bin/busybox echo sandboxed";
    private Host host;

    @BeforeEach
    void host() {
        host = Host.get();
    }

    private static JsonNode json(Host.Result r) {
        try {
            return JsonTree.read(r.out().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("doctor --json printed no JSON: " + r, e);
        }
    }

    private static JsonNode finding(JsonNode report, String id) {
        for (JsonNode f : report.path("findings")) {
            if (f.path("id").asText().equals(id)) {
                return f;
            }
        }
        throw new AssertionError("no finding " + id + " in " + report.toPrettyString());
    }

    /** doctor fails with this first id; run exits 125 naming it. */
    private static void bothSay(Host.Result doctor, Host.Result run, String id) {
        JsonNode report = json(doctor);
        assertThat(doctor.code()).as(doctor.toString()).isEqualTo(1);
        assertThat(report.path("verdict").asText()).isEqualTo("fail");
        assertThat(report.path("mode").isNull()).isTrue();
        assertThat(report.path("findings").get(0).path("id").asText()).as(report.toPrettyString()).isEqualTo(id);
        assertThat(report.path("findings").get(0).path("status").asText()).isEqualTo("fail");
        assertThat(report.path("findings").get(0).path("fix").asText()).isNotBlank();
        assertThat(run.code()).as(run.toString()).isEqualTo(125);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().strip()).as(run.toString()).startsWith("gvshim: ").endsWith("[" + id + "]");
        assertThat(run.err().lines().count()).as("one line").isEqualTo(1);
    }

    private static void works(Host.Result run) {
        assertThat(run.code()).as(run.toString()).isZero();
        assertThat(run.out()).isEqualTo("sandboxed\n");
    }

    @Test
    void aUserWithSubordinateIdsGetsModeFull() {
        Host.Result text = host.gvshim(null, T, "doctor");
        assertThat(text.code()).as(text.toString()).isZero();
        JsonNode report = json(host.gvshim(null, T, "doctor", "--json"));
        // Debian 12's runsc (2022-12) adds RUNSC_OUTDATED's warning to the headline, Debian 13's does not; a
        // /dev/net/tun the user cannot open adds NETWORK_SANDBOX_NO_TUN's (NetworkIT)
        long warns = report.path("counts").path("warn").asLong();
        assertThat(warns).isEqualTo((Host.runscRelease().breaksStatx() ? 1 : 0)
                + (report.path("findings").findValuesAsText("id").contains("NETWORK_SANDBOX_NO_TUN") ? 1 : 0));
        assertThat(text.out().lines().findFirst().orElseThrow()).isEqualTo("gvshim doctor: rootless gVisor works here, mode full"
                + (warns == 0 ? "" : " (" + warns + " warning" + (warns == 1 ? "" : "s") + " below)"));
        assertThat(report.path("verdict").asText()).isEqualTo("ok");
        assertThat(report.path("mode").asText()).isEqualTo("full");
        for (String id : List.of("USERNS_SECCOMP", "PROC_MASKED", "PIVOT_ROOT_DENIED", "PTRACE_DENIED", "MOUNT_DENIED",
                "USERNS_NESTING", "SUBUID_MISSING", "IDMAP_FULL", "RUNSC_MISSING")) {
            assertThat(finding(report, id).path("status").asText()).as(id).isEqualTo("ok");
        }
        assertThat(finding(report, "RUNSC_MISSING").path("summary").asText()).contains(Host.runscVersion());
        if (Host.runscRelease().breaksStatx()) {
            assertThat(finding(report, "RUNSC_OUTDATED").path("status").asText()).as("Debian 12's runsc breaks ls").isEqualTo("warn");
        } else {
            assertThat(report.path("findings").findValuesAsText("id")).doesNotContain("RUNSC_OUTDATED");
        }
        // as root, for that user: the same verdict
        Host.Result asRoot = Host.run(List.of(host.gvshim.toString(), "doctor", "--json", "--user", Host.USER), null, T, host.work);
        assertThat(asRoot.code()).as(asRoot.toString()).isZero();
        assertThat(json(asRoot).path("user").asText()).isEqualTo(Host.USER);
        assertThat(json(asRoot).path("mode").asText()).isEqualTo("full");
        // doctor's own errors: exit 2, one line
        Host.Result other = host.gvshim(null, T, "doctor", "--user", "root");
        assertThat(other.code()).as(other.toString()).isEqualTo(2);
        assertThat(other.err()).startsWith("gvshim doctor: --user root needs root");
        Host.Result unknown = Host.run(List.of(host.gvshim.toString(), "doctor", "--user", "no-such-user"), null, T, host.work);
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("no such user");
        assertThat(host.gvshim(null, T, "doctor", "--bogus").code()).isEqualTo(2);
    }

    // ---- seccomp: the filter is installed as root without no_new_privs, as Docker does ----

    private List<String> jailed(String deny, String... gvshimArgs) {
        Path jail = Path.of(System.getProperty("gvshim.native.dir"), "test/gvshim-jail");
        assumeTrue(Files.isExecutable(jail), "no " + jail + " (built by native/Makefile)");
        List<String> cmd = new ArrayList<>(List.of(jail.toString(), "--deny", deny, "--", "setpriv", "--reuid=" + host.uid,
                "--regid=" + host.gid, "--init-groups", "--reset-env", "--bounding-set=-sys_admin", host.gvshim.toString()));
        Collections.addAll(cmd, gvshimArgs);
        return cmd;
    }

    private Host.Result jailedRun(String deny, String... args) {
        return Host.run(jailed(deny, args), null, T, host.work);
    }

    @Test
    void seccompDenyingUserNamespacesIsUsernsSeccomp() {
        Host.Result doctor = jailedRun("userns", "doctor", "--json");
        bothSay(doctor, jailedRun("userns", RUN.split(" ")), "USERNS_SECCOMP");
        assertThat(finding(json(doctor), "USERNS_SECCOMP").path("summary").asText())
                .contains("a seccomp filter denies CLONE_NEWUSER (Seccomp: 2, Seccomp_filters: 1, no CAP_SYS_ADMIN in CapBnd)");
        works(host.gvshim(null, T, RUN.split(" "))); // the fix: no such filter
    }

    @Test
    void dockersDefaultProfileIsUsernsSeccomp() {
        bothSay(jailedRun("docker", "doctor", "--json"), jailedRun("docker", RUN.split(" ")), "USERNS_SECCOMP");
    }

    @Test
    void seccompDenyingMountPivotRootOrPtrace() {
        bothSay(jailedRun("mount", "doctor", "--json"), jailedRun("mount", RUN.split(" ")), "MOUNT_DENIED");
        bothSay(jailedRun("pivot_root", "doctor", "--json"), jailedRun("pivot_root", RUN.split(" ")), "PIVOT_ROOT_DENIED");
        bothSay(jailedRun("ptrace", "doctor", "--json"), jailedRun("ptrace", RUN.split(" ")), "PTRACE_DENIED");
    }

    // ---- no_new_privs, subordinate ids, newuidmap ----

    @Test
    void noNewPrivsLeavesModeSingle() {
        List<String> nnp = List.of("setpriv", "--reuid=" + host.uid, "--regid=" + host.gid, "--init-groups", "--reset-env",
                "--no-new-privs", host.gvshim.toString());
        Host.Result doctor = Host.run(concat(nnp, "doctor", "--json"), null, T, host.work);
        assertThat(doctor.code()).as(doctor.toString()).isZero();
        JsonNode report = json(doctor);
        assertThat(report.path("mode").asText()).isEqualTo("single");
        assertThat(finding(report, "NO_NEW_PRIVS").path("status").asText()).isEqualTo("warn");
        assertThat(finding(report, "NO_NEW_PRIVS").path("fix").asText()).contains("no_new_privs");
        Host.Result full = Host.run(concat(nnp, ("run --userns full " + RUN.substring(4)).split(" ")), null, T, host.work);
        assertThat(full.code()).as(full.toString()).isEqualTo(125);
        assertThat(full.err().strip()).endsWith("[NO_NEW_PRIVS]");
        works(Host.run(concat(nnp, RUN.split(" ")), null, T, host.work)); // auto: single
        works(host.gvshim(null, T, ("run --userns full " + RUN.substring(4)).split(" "))); // the fix applied
    }

    @Test
    void aUserWithoutSubordinateIdsIsSubuidMissingUntilUsermod() throws Exception {
        String user = "gvshim-it-nosub";
        Host.sh("userdel", "-r", user);
        assertThat(Host.sh("useradd", "--create-home", "--shell", "/bin/sh", user).code()).isZero();
        try {
            Host.sh("sed", "-i", "/^" + user + ":/d", "/etc/subuid", "/etc/subgid"); // useradd may allocate some
            int uid = Integer.parseInt(Host.sh("id", "-u", user).out().strip());
            List<String> as = List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--init-groups", "--reset-env",
                    host.gvshim.toString());
            JsonNode report = json(Host.run(concat(as, "doctor", "--json"), null, T, host.work));
            assertThat(report.path("mode").asText()).isEqualTo("single");
            assertThat(finding(report, "SUBUID_MISSING").path("status").asText()).isEqualTo("warn");
            assertThat(finding(report, "SUBGID_MISSING").path("status").asText()).isEqualTo("warn");
            String fix = finding(report, "SUBUID_MISSING").path("fix").asText();
            java.util.regex.Matcher usermod = java.util.regex.Pattern.compile("usermod --add-subuids (\\d+)-(\\d+) --add-subgids"
                    + " \\1-\\2 " + user).matcher(fix);
            assertThat(usermod.find()).as(fix).isTrue();
            assertThat(Long.parseLong(usermod.group(2)) - Long.parseLong(usermod.group(1)) + 1).isEqualTo(65536);
            assertThat(Files.readString(Path.of("/etc/subuid")) + Files.readString(Path.of("/etc/subgid")))
                    .as("a range no other user has").doesNotContain(":" + usermod.group(1) + ":");
            Host.Result full = Host.run(concat(as, ("run --userns full " + RUN.substring(4)).split(" ")), null, T, host.work);
            assertThat(full.code()).as(full.toString()).isEqualTo(125);
            assertThat(full.err().strip()).endsWith("[SUBUID_MISSING]");
            // the fix, exactly as printed
            assertThat(Host.sh("sh", "-c", usermod.group()).code()).isZero();
            assertThat(json(Host.run(concat(as, "doctor", "--json"), null, T, host.work)).path("mode").asText()).isEqualTo("full");
            works(Host.run(concat(as, ("run --userns full " + RUN.substring(4)).split(" ")), null, T, host.work));
        } finally {
            Host.sh("pkill", "-u", user);
            Host.sh("userdel", "-r", user);
            Host.sh("sed", "-i", "/^" + user + ":/d", "/etc/subuid", "/etc/subgid");
        }
    }

    @Test
    void aNewuidmapWithoutItsSetuidBitIsUnprivilegedUntilChmod() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "gvshim-it-helpers-");
        try {
            Host.sh("chmod", "755", dir.toString());
            for (String h : List.of("newuidmap", "newgidmap")) {
                assertThat(Host.sh("cp", Host.which(h).toString(), dir.resolve(h).toString()).code()).isZero(); // cp drops setuid
            }
            String path = "PATH=" + dir + ":/usr/local/bin:/usr/bin:/bin ";
            JsonNode report = json(host.userShell(path + "$G doctor --json", T));
            assertThat(report.path("mode").asText()).isEqualTo("single");
            JsonNode f = finding(report, "NEWUIDMAP_UNPRIVILEGED");
            assertThat(f.path("status").asText()).isEqualTo("warn");
            assertThat(f.path("fix").asText()).contains("chmod u+s " + dir.resolve("newuidmap"));
            Host.Result full = host.userShell(path + "$G run --userns full " + RUN.substring(4), T);
            assertThat(full.code()).as(full.toString()).isEqualTo(125);
            assertThat(full.err().strip()).endsWith("[NEWUIDMAP_UNPRIVILEGED]");
            Host.sh("chmod", "u+s", dir.resolve("newuidmap").toString(), dir.resolve("newgidmap").toString()); // the fix
            assertThat(json(host.userShell(path + "$G doctor --json", T)).path("mode").asText()).isEqualTo("full");
            works(host.userShell(path + "$G run --userns full " + RUN.substring(4), T));
        } finally {
            Host.sh("rm", "-rf", dir.toString());
        }
    }

    // ---- kernel limits, produced safely inside user namespaces ----

    @Test
    void maxUserNamespacesZeroIsUsernsDisabled() {
        String setLimit = "unshare -Ur sh -c 'echo %s > /proc/sys/user/max_user_namespaces && " + host.gvshim + " %s'";
        Host.Result doctor = host.userShell(setLimit.formatted("0", "doctor --json"), T);
        Host.Result run = host.userShell(setLimit.formatted("0", RUN), T);
        bothSay(doctor, run, "USERNS_DISABLED");
        assertThat(json(doctor).path("findings").get(0).path("fix").asText()).contains("sysctl -w user.max_user_namespaces=15000");
        works(host.userShell(setLimit.formatted("15000", RUN), T)); // the fix applied there
    }

    @Test
    void nestingToTheKernelsLimitIsUsernsNesting() {
        String deep = "unshare -Ur ".repeat(32);
        bothSay(host.userShell(deep + "$G doctor --json", T), host.userShell(deep + "$G " + RUN, T), "USERNS_NESTING");
        String lessDeep = "unshare -Ur ".repeat(31);
        JsonNode report = json(host.userShell(lessDeep + "$G doctor --json", T));
        assertThat(report.path("verdict").asText()).isEqualTo("ok");
        assertThat(finding(report, "USERNS_NESTING").path("status").asText()).isEqualTo("warn");
        works(host.userShell(lessDeep + "$G " + RUN, T)); // the fix: one level less
    }

    @Test
    void maskedProcIsProcMasked() {
        // Docker's masks, made as root in a private mount namespace, then the test user
        String masks = "mount --bind /dev/null /proc/timer_list && mount -t tmpfs -o ro tmpfs /proc/bus && exec setpriv"
                + " --reuid=" + host.uid + " --regid=" + host.gid + " --init-groups --reset-env " + host.gvshim + " ";
        Host.Result doctor = Host.run(List.of("unshare", "-m", "--propagation", "private", "sh", "-c", masks + "doctor --json"),
                null, T, host.work);
        Host.Result run = Host.run(List.of("unshare", "-m", "--propagation", "private", "sh", "-c", masks + RUN), null, T, host.work);
        if (Host.runscRelease().bindsProc()) {
            // runsc >= 2024-03-05 binds the host's /proc: doctor says ok, and run works
            assertThat(json(doctor).path("verdict").asText()).as(doctor.toString()).isEqualTo("ok");
            assertThat(finding(json(doctor), "PROC_MASKED").path("status").asText()).isEqualTo("ok");
            assertThat(finding(json(doctor), "PROC_MASKED").path("summary").asText()).contains("binds the host's /proc");
            works(run);
            return;
        }
        bothSay(doctor, run, "PROC_MASKED");
        assertThat(finding(json(doctor), "PROC_MASKED").path("summary").asText()).contains("/proc/timer_list").contains("/proc/bus");
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> out = new ArrayList<>(a);
        Collections.addAll(out, b);
        return out;
    }
}
