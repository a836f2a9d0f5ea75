package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Docker with {@code --userns-remap}: every spec it writes has a user namespace and uid/gid
 * mappings (the container's root is the remap user's first subordinate id), a root file system
 * owned by that id and bind sources the mapped root may or may not reach. gvshim must run it as
 * runc does: the same ids inside, the same files readable and writable, files written through a
 * volume owned by the mapped id on the host, and runsc's gofer (the process that touches the
 * host's files) running as that id, not as root. Each check runs the same command with runc on
 * the same daemon and compares.
 *
 * A dockerd of its own (socket, data and exec roots, no bridge, no iptables: the shared one of
 * {@link Dockerd} stays as it is), remapping to the test user {@link Host#USER}, whose
 * subordinate ids {@link Host} makes sure of. Stopped and removed afterwards.
 */
class DockerUsernsRemapIT {
    private static final String SOCKET = "/run/gvshim-it-remap.sock";
    private static final Path EXEC_ROOT = Path.of("/run/gvshim-it-remap");
    private static final Path DATA_ROOT = Path.of("/var/lib/gvshim-it-remap");
    private static final Path PID_FILE = Path.of("/run/gvshim-it-remap.pid");
    private static final String LOG = "/tmp/gvshim-dockerd-remap.log";
    /**
     * Its bridge, made here: with {@code --bridge=none} dockerd deletes the host's docker0
     * (moby daemon_unix.go, removeDefaultBridgeInterface), which the shared dockerd's containers
     * need (measured: every later `docker run` of the shared daemon failed).
     */
    private static final String BRIDGE = "gvshim-remap0";
    private static Host host;
    private static Path tmp;
    private static Process dockerd;
    private static boolean prepared;
    /** The host uid and gid the container's root is (the remap user's first subordinate ids). */
    private static long mappedRoot;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Host.isRoot(), "a dockerd with --userns-remap is started here: run as root (CI does)");
        assumeTrue(Host.which("dockerd") != null && Host.which("docker") != null,
                "dockerd is not installed (apt-get install docker.io)");
        host = Host.get();
        Dockerd.ensure(); // the shared daemon, whose docker0 this class must leave alone (checked at the end)
        mappedRoot = Long.parseLong(host.subuidRange().split(" ")[0]);
        stopLeftover();
        prepared = true; // from here on, @AfterAll removes what this class made
        Host.check(Host.sh("ip", "link", "add", BRIDGE, "type", "bridge"));
        Host.check(Host.sh("ip", "addr", "add", "10.213.47.1/24", "dev", BRIDGE));
        Host.check(Host.sh("ip", "link", "set", BRIDGE, "up"));
        tmp = Files.createTempDirectory(Path.of("/tmp"), "gvshim-remap-");
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        String runsc = System.getProperty("gvshim.it.runsc", "");
        Path config = tmp.resolve("daemon.json");
        Files.writeString(config, "{\"runtimes\": {\"gvshim\": {\"path\": \"" + host.gvshim + "\""
                + (runsc.isEmpty() ? "" : ", \"runtimeArgs\": [\"--runsc=" + runsc + "\"]") + "}}}\n");
        dockerd = new ProcessBuilder("dockerd", "--userns-remap=" + Host.USER, "--data-root", DATA_ROOT.toString(),
                "--exec-root", EXEC_ROOT.toString(), "--pidfile", PID_FILE.toString(), "-H", "unix://" + SOCKET,
                "--bridge=" + BRIDGE, "--iptables=false", "--ip-masq=false", "--config-file", config.toString(),
                // its own containerd namespaces: a host whose dockerd uses the system containerd would share "moby"
                "--containerd-namespace", "gvshim-it-remap", "--containerd-plugins-namespace", "gvshim-it-remap-plugins")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of(LOG).toFile())).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (docker("version").code() != 0) {
            assertThat(dockerd.isAlive()).as("dockerd --userns-remap exited; see " + LOG).isTrue();
            assertThat(System.nanoTime()).as("dockerd --userns-remap answers within 60 s; see " + LOG).isLessThan(deadline);
            Thread.sleep(250);
        }
        assertThat(docker("info", "--format", "{{.SecurityOptions}}").out()).contains("userns");
        Dockerd.importBusybox("docker -H unix://" + SOCKET);
    }

    /** A dockerd of an interrupted run of this class (its pid file names it): stopped, and all of it removed. */
    private static void stopLeftover() throws Exception {
        if (Files.exists(PID_FILE)) {
            String pid = Files.readString(PID_FILE).strip();
            if (Host.sh("sh", "-c", "tr '\\0' ' ' < /proc/" + pid + "/cmdline").out().contains(SOCKET)) {
                Host.sh("kill", pid);
                for (int i = 0; i < 150 && Files.exists(Path.of("/proc", pid)); i++) {
                    Thread.sleep(200);
                }
            }
        }
        removeAll();
    }

    /**
     * What may be left of this class's dockerd: its containerd, shims and runsc processes (their
     * command lines name its exec root), its mounts, its roots (with --userns-remap dockerd also
     * makes ROOT.UID.GID beside each), its bridge.
     */
    private static void removeAll() {
        Host.sh("pkill", "-KILL", "-f", EXEC_ROOT.toString());
        Host.sh("sh", "-c", "awk '{print $2}' /proc/mounts | grep -E '^(" + EXEC_ROOT + "|" + DATA_ROOT
                + ")' | sort -r | xargs -r -n1 umount -l");
        Host.sh("sh", "-c", "rm -rf " + EXEC_ROOT + " " + EXEC_ROOT + ".[0-9]*.[0-9]* " + DATA_ROOT + " " + DATA_ROOT
                + ".[0-9]*.[0-9]*");
        Host.sh("ip", "link", "del", BRIDGE);
    }

    @AfterAll
    static void stop() throws Exception {
        if (!prepared) {
            return;
        }
        boolean stopped = true;
        try {
            if (dockerd != null) {
                docker("rm", "-f", "gvshim-remap-detached");
                dockerd.destroy(); // SIGTERM: dockerd stops its containers and its containerd
                stopped = dockerd.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
                if (!stopped) {
                    dockerd.destroyForcibly();
                    dockerd.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
                }
            }
        } finally {
            removeAll();
            if (tmp != null) {
                Host.sh("rm", "-rf", tmp.toString());
            }
        }
        assertThat(stopped).as("dockerd --userns-remap stops on SIGTERM within 60 s; see " + LOG).isTrue();
        assertThat(Host.sh("ip", "link", "show", "docker0").code()).as("the shared dockerd's docker0 is still there")
                .isZero();
        assertThat(Host.sh("pgrep", "-af", "runsc").out()).as("no runsc left of the remapped containers")
                .doesNotContain(EXEC_ROOT.toString());
        assertThat(Host.sh("sh", "-c", "ls -d " + EXEC_ROOT + "* " + DATA_ROOT + "* 2>/dev/null").out())
                .as("nothing of its dockerd left in /run and /var/lib but its socket and pid file, which it removes").isBlank();
    }

    /** `docker ARGS...` of this class's dockerd. */
    private static Host.Result docker(String... args) {
        List<String> cmd = new ArrayList<>(List.of("-H", "unix://" + SOCKET));
        cmd.addAll(Arrays.asList(args));
        return Dockerd.docker(cmd.toArray(String[]::new));
    }

    /** `docker run --rm` of {@code script} with {@code runtime}, a volume of its own at /vol and {@code more} options. */
    private static Host.Result run(String runtime, Path vol, List<String> more, String script) {
        List<String> args = new ArrayList<>(List.of("run", "--rm", "--runtime=" + runtime, "-v", vol + ":/vol"));
        args.addAll(more);
        args.addAll(List.of(Dockerd.BUSYBOX_IMAGE, "sh", "-c", script));
        return docker(args.toArray(String[]::new));
    }

    /** A directory for one runtime's volume, owned by {@code uid}. */
    private static Path volume(String name, long uid) throws IOException {
        Path v = Files.createDirectory(tmp.resolve(name));
        Host.check(Host.sh("chown", uid + ":" + uid, v.toString()));
        return v;
    }

    /**
     * The container's ids, what it may read and write in a volume owned by the mapped root and in
     * a root-owned bind source under a 0700 directory (runc mounts it before it enters the user
     * namespace; gvshim reroutes it, as the mapped root cannot reach it), and whom the host sees
     * as the owner of what it wrote: the same with gvshim as with runc.
     */
    @Test
    void aRemappedContainerSeesAndWritesWhatItWouldUnderRunc() throws Exception {
        Path closed = Files.createDirectory(tmp.resolve("closed"), java.nio.file.attribute.PosixFilePermissions
                .asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        Path data = Files.createDirectory(closed.resolve("data"));
        Files.setPosixFilePermissions(data, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(data.resolve("secret"), "root's file\n");
        Files.setPosixFilePermissions(data.resolve("secret"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        String script = "id -u; id -g; cat /in/secret; echo x > /in/new 2>/dev/null || echo 'cannot write /in';"
                + " echo w > /vol/written; mkdir /vol/dir; stat -c '%u %g %n' /in/secret /vol/written /vol/dir /";
        String[] outs = new String[2];
        int i = 0;
        for (String runtime : List.of("runc", "gvshim")) {
            Path vol = volume("vol-" + runtime, mappedRoot);
            Host.Result r = run(runtime, vol, List.of("-v", data + ":/in"), script);
            assertThat(r.code()).as(runtime + ": " + r).isZero();
            outs[i++] = r.out();
            for (String f : List.of("written", "dir")) {
                assertThat(Files.getAttribute(vol.resolve(f), "unix:uid")).as(runtime + ": the host owner of /vol/" + f)
                        .isEqualTo((int) mappedRoot);
            }
            assertThat(data.resolve("new")).as(runtime + ": nothing written in root's bind source").doesNotExist();
        }
        assertThat(outs[0]).as("runc's output").startsWith("0\n0\nroot's file\ncannot write /in\n").contains("65534 65534 /in/secret");
        assertThat(outs[1]).as("gvshim's, the same as runc's").isEqualTo(outs[0]);
    }

    /** `--userns=host` on a remapping daemon: no mappings, the container's root is the host's root, with either runtime. */
    @Test
    void userNsHostOnARemappingDaemonRunsUnmappedAsUnderRunc() throws Exception {
        for (String runtime : List.of("runc", "gvshim")) {
            Path vol = volume("host-" + runtime, 0);
            Host.Result r = run(runtime, vol, List.of("--userns=host"), "id -u; echo w > /vol/f");
            assertThat(r.code()).as(runtime + ": " + r).isZero();
            assertThat(r.out()).isEqualTo("0\n");
            assertThat(Files.getAttribute(vol.resolve("f"), "unix:uid")).as(runtime).isEqualTo(0);
        }
    }

    /** runsc's gofer, which opens the host's files for the sandbox, runs as the mapped root, never as the host's root. */
    @Test
    void theGoferOfARemappedContainerRunsAsTheMappedRoot() throws Exception {
        Path vol = volume("gofer", mappedRoot);
        Host.Result r = docker("run", "-d", "--name", "gvshim-remap-detached", "--runtime=gvshim", "-v", vol + ":/vol",
                Dockerd.BUSYBOX_IMAGE, "sh", "-c", "echo up > /vol/up; sleep 300");
        assertThat(r.code()).as(r.toString()).isZero();
        String id = r.out().strip();
        for (int i = 0; i < 100 && !Files.exists(vol.resolve("up")); i++) {
            Thread.sleep(100);
        }
        List<String> gofers = Host.sh("pgrep", "-f", "runsc-gofer.*" + id).out().lines().toList();
        assertThat(gofers).as("the container's gofer").hasSize(1);
        assertThat(Files.getAttribute(Path.of("/proc", gofers.getFirst()), "unix:uid")).as("its host uid").isEqualTo((int) mappedRoot);
        Host.Result rm = docker("rm", "-f", id);
        assertThat(rm.code()).as(rm.toString()).isZero();
        for (int i = 0; i < 50 && !Host.sh("pgrep", "-f", "runsc.*" + id).out().isBlank(); i++) {
            Thread.sleep(100);
        }
        assertThat(Host.sh("pgrep", "-af", "runsc.*" + id).out()).as("nothing of it left").isBlank();
    }
}
