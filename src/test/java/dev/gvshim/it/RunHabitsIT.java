package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * docker's and podman's habits on `gvshim run` against the real runsc (issue 20 item 3): -it, -u
 * NAME[:GROUP], mount points missing from the root file system, --memory/--cpus/--pids-limit,
 * and --network host's warning; as the non-root test user, and as root where a limit needs it.
 */
class RunHabitsIT {
    private static final Duration T = Duration.ofSeconds(90);
    private Host host;

    @BeforeEach
    void host() {
        host = Host.get();
    }

    @AfterEach
    void nothingLeft() throws Exception {
        for (int i = 0; i < 50 && !host.processes().isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertThat(host.processes()).as("processes of the test user after the run").isEmpty();
        assertThat(host.leftovers()).as("run directories left in " + host.stateDir()).isEmpty();
        assertThat(gvshimCgroups()).as("cgroups gvshim made, after the runs").isEmpty();
    }

    /** `gvshim ARGS` as root, with the suite's server mode. */
    private Host.Result root(String... args) {
        List<String> cmd = new ArrayList<>();
        if (Host.serverMode() != null) {
            cmd.addAll(List.of("env", "GVSHIM_SERVER=" + Host.serverMode()));
        }
        cmd.add(host.gvshim.toString());
        cmd.addAll(Arrays.asList(args));
        return Host.run(cmd, null, T, host.work);
    }

    @Test
    void dashItIsDockersTerminalAndIsRefusedWithoutOne() {
        for (String[] opts : new String[][] {{"-it"}, {"-ti"}, {"-i", "-t"}, {"-t"}}) {
            List<String> args = new ArrayList<>(List.of("run"));
            args.addAll(List.of(opts));
            args.addAll(List.of("/bin/true"));
            Host.Result r = host.gvshim("", T, args.toArray(String[]::new));
            assertThat(r.code()).as(String.join(" ", opts) + "\n" + r).isEqualTo(125);
            assertThat(r.err().lines()).as(r.toString()).singleElement().asString()
                    .startsWith("gvshim: cannot give the command a terminal (-t always)").endsWith("[TERMINAL_STDIN]");
        }
        Host.Result never = host.gvshim("in\n", T, "run", "-i", "-t", "never", "/bin/cat");
        assertThat(never.out()).as(never.toString()).isEqualTo("in\n");
    }

    @Test
    void userNamesAreTheSandboxsOwn() throws Exception {
        Host.Result nobody = host.gvshim(null, T, "run", "-u", "nobody", "--", "/bin/sh", "-c", "id -u; id -g; echo $HOME");
        assertThat(nobody.out()).as(nobody.toString()).isEqualTo("65534\n65534\n/nonexistent\n");
        Host.Result group = host.gvshim(null, T, "run", "-u", "daemon:nogroup", "--", "/bin/sh", "-c", "id -u; id -g");
        assertThat(group.out()).as(group.toString()).isEqualTo("1\n65534\n");
        Host.Result rootfs = host.gvshim(null, T, "run", "--rootfs", "hello/rootfs", "-u", "nobody", "--", "/bin/busybox", "id", "-u");
        assertThat(rootfs.out()).as(rootfs.toString()).isEqualTo("65534\n");
        Host.Result hostOnly = host.gvshim(null, T, "run", "--rootfs", "hello/rootfs", "-u", "daemon", "--", "/bin/true");
        assertThat(hostOnly.code()).as(hostOnly.toString()).isEqualTo(125);
        assertThat(hostOnly.err().lines()).as("daemon is the host's, not the root file system's").singleElement().asString()
                .startsWith("gvshim: cannot run as user daemon: no such user in " + host.work.resolve("hello/rootfs/etc/passwd"))
                .endsWith("[USER_UNKNOWN]");
        Path passwd = host.work.resolve("habits-passwd");
        Files.writeString(passwd, "bob:x:4242:4343:Bob:/home/bob:/bin/sh\n");
        Host.sh("chmod", "644", passwd.toString());
        Host.Result mounted = host.gvshim(null, T, "run", "-v", passwd + ":/etc/passwd:ro", "-u", "bob", "--", "/bin/sh", "-c",
                "id -u; id -g");
        assertThat(mounted.out()).as("looked up where the sandbox finds it\n" + mounted).isEqualTo("4242\n4343\n");
    }

    @Test
    void missingMountPointsAreMadeForTheSandboxOnlyAsUserAndRoot() throws Exception {
        Path file = host.work.resolve("habits.conf");
        Files.writeString(file, "from the host\n");
        Path dir = Files.createDirectories(host.work.resolve("habits-data"));
        Files.writeString(dir.resolve("in.txt"), "data\n");
        Host.sh("chmod", "-R", "a+rX", file.toString(), dir.toString());
        String[] run = {"run", "--verbose", "-v", file + ":/etc/gvshim-habits/app.conf:ro", "-v", dir + ":/gvshim-habits-data",
            "--tmpfs", "/gvshim-habits-scratch", "--", "/bin/sh", "-c", "cat /etc/gvshim-habits/app.conf /gvshim-habits-data/in.txt;"
                + " touch /gvshim-habits-scratch/x && echo scratch; head -c 5 /etc/passwd; echo; touch /etc/new 2>/dev/null; echo done"};
        for (boolean asRoot : new boolean[] {false, true}) {
            Host.Result r = asRoot ? root(run) : host.gvshim(null, T, run);
            assertThat(r.code()).as(r.toString()).isZero();
            // a write to /etc goes to the root's overlay in memory (root) or is refused (the user: /etc is root's): never the host
            assertThat(r.out()).as(r.toString()).isEqualTo("from the host\ndata\nscratch\nroot:\ndone\n");
            assertThat(r.err()).contains("gvshim: made the mount point /etc/gvshim-habits/app.conf (an empty file, missing from the"
                    + " root file system) in a read-only copy of /etc: ").contains("made the mount point /gvshim-habits-data (a"
                    + " directory, missing from the root file system) in a read-only copy of /:");
            for (String p : List.of("/etc/gvshim-habits", "/gvshim-habits-data", "/gvshim-habits-scratch", "/etc/new")) {
                assertThat(Path.of(p)).as("nothing made on the host (as root: " + asRoot + ")").doesNotExist();
            }
        }
    }

    @Test
    void pidsLimitIsGvisorsOwnCountOfTheCommandsTasks() {
        Host.Result fits = host.gvshim(null, T, "run", "--pids-limit", "4", "--", "/bin/sh", "-c",
                "sleep 1 & sleep 1 & sleep 1 & wait; echo fits");
        assertThat(fits.out()).as(fits.toString()).isEqualTo("fits\n");
        Host.Result over = host.gvshim(null, T, "run", "--pids-limit", "4", "--", "/bin/sh", "-c",
                "sleep 1 & sleep 1 & sleep 1 & sleep 1 & wait; echo unreachable");
        assertThat(over.code()).as(over.toString()).isNotZero();
        assertThat(over.err()).as(over.toString()).contains("Cannot fork");
    }

    @Test
    void memoryAndCpusNeedACgroupAndAreNeverIgnored() throws Exception {
        boolean v2 = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));
        Assumptions.assumeFalse(v2, "this host has cgroup v2: what the test user may do depends on delegation");
        Host.Result user = host.gvshim(null, T, "run", "--memory", "64m", "--", "/bin/true");
        assertThat(user.code()).as(user.toString()).isEqualTo(125);
        assertThat(user.err().lines()).as(user.toString()).singleElement().asString()
                .startsWith("gvshim: cannot apply --memory: the cgroups here are version 1, which gives a user other than root no"
                        + " cgroup of their own").endsWith("[LIMIT_NO_CGROUP]");
        assertThat(host.gvshim(null, T, "run", "--cpus", "1", "--", "/bin/true").err()).contains("cannot apply --cpus: ");
        JsonNode report = new ObjectMapper().readTree(host.gvshim(null, T, "doctor", "--json").out());
        assertThat(AgreementIT.finding(report, "LIMIT_NO_CGROUP").path("summary").asText())
                .as("doctor agrees").contains("cannot be applied here");

        Host.Result oom = root("run", "--memory", "64m", "--", "/bin/sh", "-c", "head -c 300m /dev/zero | tail | wc -c");
        assertThat(oom.code()).as(oom.toString()).isEqualTo(137);
        assertThat(oom.err()).as(oom.toString()).contains("it reached its --memory limit").contains("[SANDBOX_DIED]");
        Host.Result fits = root("run", "--memory", "512m", "--cpus", "0.5", "--", "/bin/sh", "-c",
                "head -c 100m /dev/zero | tail | wc -c");
        assertThat(fits.out()).as(fits.toString()).isEqualTo("104857600\n");
        JsonNode rootReport = new ObjectMapper().readTree(root("doctor", "--json").out());
        assertThat(AgreementIT.finding(rootReport, "LIMIT_NO_CGROUP").path("summary").asText()).contains("can be applied here");
    }

    @Test
    void networkHostWarnsInOneLine() {
        Host.Result r = host.gvshim(null, T, "run", "--network", "host", "--", "/bin/echo", "out");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("out\n");
        assertThat(r.err().lines()).singleElement().asString()
                .startsWith("gvshim: warning: --network host: the sandbox shares this host's network interfaces").endsWith("[NETWORK_HOST]");
    }

    /**
     * gvshim-RUNID cgroups below this process's own v1 memory and cpu cgroups and its v2 one
     * (where root's runs make them: the caller's cgroup); none may outlive a run.
     */
    private static List<String> gvshimCgroups() throws Exception {
        List<String> found = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            String dir = f[1].isEmpty() ? "/sys/fs/cgroup" + f[2] : List.of(f[1].split(",")).contains("memory")
                    ? "/sys/fs/cgroup/memory" + f[2] : List.of(f[1].split(",")).contains("cpu") ? "/sys/fs/cgroup/cpu" + f[2] : null;
            if (dir == null || !Files.isDirectory(Path.of(dir))) {
                continue;
            }
            try (var s = Files.list(Path.of(dir))) {
                s.filter(p -> p.getFileName().toString().matches("gvshim-gv[0-9a-f]+")).forEach(p -> found.add(p.toString()));
            }
        }
        return found;
    }
}
