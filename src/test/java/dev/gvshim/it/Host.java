package dev.gvshim.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The machine the integration tests run on: an installed copy of gvshim (as a user would
 * install it: the build directory may not be reachable by other users), a non-root user with
 * subordinate id ranges, and a way to run commands as that user. Tests that cannot run here
 * (not root, no runsc, no newuidmap) are skipped with the reason; CI runs them as root.
 */
final class Host {
    static final String USER = "gvshim-it";
    static final String OTHER_USER = "gvshim-it2";
    static final String SUBID_RANGE = "300000-365535";
    private static Host instance;

    final Path home;
    final Path gvshim;
    final Path work;
    final int uid;
    final int gid;

    private Host(Path home, Path work, int uid, int gid) {
        this.home = home;
        this.gvshim = home.resolve("bin/gvshim");
        this.work = work;
        this.uid = uid;
        this.gid = gid;
    }

    /** Prepares the host once per JVM (skips the calling test class when it cannot). */
    static synchronized Host get() {
        assumeTrue(isRoot(), "integration tests create a test user and run gvshim as it: run them as root (CI does)");
        assumeTrue(which("runsc") != null, "runsc is not installed (apt-get install runsc)");
        assumeTrue(which("newuidmap") != null, "newuidmap is not installed (apt-get install uidmap)");
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")),
                "no /bin/busybox for the test bundles' root file system (apt-get install busybox-static)");
        String built = System.getProperty("gvshim.home");
        assumeTrue(built != null && Files.isExecutable(Path.of(built, "bin/gvshim")),
                "no built installation at " + built + " (run through `mvn verify`)");
        runscVersion();
        if (instance == null) {
            instance = prepare(Path.of(built));
        }
        return instance;
    }

    private static String runscVersion;

    /**
     * The version of the runsc under test ("0.0~20240729.0"): the first in $PATH, which the
     * test user's gvshim finds too. {@code -Dgvshim.it.runsc-version=V} (CI's legs) makes a
     * different one fail every class rather than test the wrong runsc silently.
     */
    static synchronized String runscVersion() {
        if (runscVersion == null) {
            Path runsc = which("runsc");
            Result r = sh(runsc.toString(), "--version");
            check(r);
            runscVersion = r.out().lines().findFirst().orElse("").replaceFirst("^runsc version ", "").strip();
            String want = System.getProperty("gvshim.it.runsc-version", "");
            System.out.println("integration tests with runsc " + runscVersion + " (" + runsc + ")");
            if (!want.isEmpty() && !runscVersion.contains(want)) {
                throw new AssertionError("-Dgvshim.it.runsc-version=" + want + " but " + runsc + " is " + runscVersion);
            }
        }
        return runscVersion;
    }

    /** The gVisor release of the runsc under test. */
    static dev.gvshim.runsc.RunscRelease runscRelease() {
        return dev.gvshim.runsc.RunscRelease.parse("runsc version " + runscVersion());
    }

    static boolean isRoot() {
        try {
            return Files.readString(Path.of("/proc/self/status")).lines()
                    .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[2].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    static Path which(String name) {
        for (String dir : (System.getenv("PATH") + ":/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            Path p = Path.of(dir, name);
            if (!dir.isEmpty() && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static Host prepare(Path built) {
        try {
            if (sh("id", "-u", USER).code() != 0) {
                check(sh("useradd", "--create-home", "--shell", "/bin/sh", USER));
            }
            if (!Files.readString(Path.of("/etc/subuid")).contains(USER + ":")) {
                check(sh("usermod", "--add-subuids", SUBID_RANGE, "--add-subgids", SUBID_RANGE, USER));
            }
            int uid = Integer.parseInt(sh("id", "-u", USER).out().strip());
            int gid = Integer.parseInt(sh("id", "-g", USER).out().strip());
            Path base = Files.createTempDirectory(Path.of("/tmp"), "gvshim-it-");
            Files.setPosixFilePermissions(base, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Path home = base.resolve("gvshim");
            check(sh("cp", "-r", built.toString(), home.toString()));
            check(sh("chmod", "-R", "a+rX", home.toString()));
            Path work = base.resolve("work");
            Files.createDirectories(work);
            Path bundles = Path.of(System.getProperty("gvshim.bundles", "oci-bundles"));
            check(sh("cp", "-r", bundles.resolve("hello").toString(), work.resolve("hello").toString()));
            check(sh(bundles.resolve("build-rootfs.sh").toString(), work.resolve("hello").toString()));
            check(sh("chown", "-R", uid + ":" + gid, work.toString()));
            Host h = new Host(home, work, uid, gid);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> sh("rm", "-rf", base.toString())));
            return h;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The test user's first /etc/subuid range as "start count" (useradd may have allocated one). */
    String subuidRange() throws IOException {
        return Files.readString(Path.of("/etc/subuid")).lines().filter(l -> l.startsWith(USER + ":")).findFirst()
                .map(l -> l.split(":")[1] + " " + l.split(":")[2]).orElseThrow();
    }

    /**
     * The state directories a user has in /tmp (no XDG_RUNTIME_DIR in its environment): real
     * directories of that user named {@code gvshim-UID} (used when it is theirs) or
     * {@code gvshim-UID.RANDOM}; entries of those names that another user planted are not theirs.
     */
    static List<Path> stateDirs(int uid) throws IOException {
        List<Path> dirs = new ArrayList<>();
        try (var s = Files.newDirectoryStream(Path.of("/tmp"), "gvshim-" + uid + "{,.*}")) {
            for (Path p : s) {
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        && (Integer) Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS) == uid) {
                    dirs.add(p);
                }
            }
        }
        dirs.sort(null);
        return dirs;
    }

    /** The test user's state directory that gvshim uses: the old name if it is theirs, else the smallest (null: none yet). */
    Path stateDir() throws IOException {
        List<Path> dirs = stateDirs(uid);
        return dirs.isEmpty() ? null : dirs.getFirst(); // "gvshim-UID" sorts before "gvshim-UID.*"
    }

    /** Run directories left in any of the user's state directories (must be none after every run). */
    List<String> leftovers() throws IOException {
        List<String> runs = new ArrayList<>();
        for (Path d : stateDirs(uid)) {
            try (var s = Files.list(d)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("gv")).forEach(n -> runs.add(d + "/" + n));
            }
        }
        return runs;
    }

    /**
     * A second user without subordinate ids, {@value #OTHER_USER}: the local attacker who plants
     * things in /tmp before the test user's first run. Its uid.
     */
    static synchronized int otherUser() {
        if (sh("id", "-u", OTHER_USER).code() != 0) {
            check(sh("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER_USER));
        }
        return Integer.parseInt(sh("id", "-u", OTHER_USER).out().strip());
    }

    /** `sh -c SCRIPT` as {@link #otherUser()}. */
    static Result asOtherUser(String script) {
        otherUser();
        return run(List.of("setpriv", "--reuid=" + OTHER_USER, "--regid=" + OTHER_USER, "--init-groups", "--reset-env", "/bin/sh",
                "-c", script), null, Duration.ofSeconds(60), Path.of("/"));
    }

    /**
     * Processes of the test user still alive (a sandbox, gofer or waiter left behind); not the
     * user's gvshim server, which outlives calls by design (it exits when idle).
     */
    List<String> processes() {
        Result r = sh("pgrep", "-a", "-u", Integer.toString(uid));
        return r.out().lines().filter(l -> !l.isBlank() && !l.contains(" server run ") && !orphanedZombie(l)).toList();
    }

    /**
     * A zombie whose parent is init: an exited server (double-forked, so init's child), which init
     * reaps when it gets to it. This machine's init (process_api) reaps every second or two, later
     * under load; the zombie holds nothing but its pid. A zombie of a gvshim process stays counted
     * (its live parent is listed as well).
     */
    private static boolean orphanedZombie(String pgrepLine) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pgrepLine.split(" ")[0] + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return f[0].equals("Z") && f[1].equals("1");
        } catch (IOException | RuntimeException e) {
            return true; // gone since pgrep listed it
        }
    }

    /**
     * The GVSHIM_SERVER the test user's calls get: {@code -Dgvshim.server=auto|on|off} (CI runs the
     * suite with on and with off), else none (bin/gvshim's default).
     */
    static String serverMode() {
        String m = System.getProperty("gvshim.server", "");
        return m.isBlank() || m.startsWith("${") ? null : m;
    }

    /** A command line run as the test user, with a clean login environment, in {@link #work}. */
    List<String> asUser(List<String> command) {
        List<String> argv = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups",
                "--reset-env"));
        if (serverMode() != null) {
            argv.addAll(List.of("env", "GVSHIM_SERVER=" + serverMode()));
        }
        argv.addAll(command);
        return argv;
    }

    /** `gvshim ARGS...` as the test user. */
    Result gvshim(String stdin, Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>(List.of(gvshim.toString()));
        cmd.addAll(Arrays.asList(args));
        return run(asUser(cmd), stdin, timeout, work);
    }

    /** `sh -c SCRIPT` as the test user; $G is the gvshim launcher. */
    Result userShell(String script, Duration timeout) {
        return run(asUser(List.of("/bin/sh", "-c", "G=" + gvshim + "; " + script)), null, timeout, work);
    }

    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Result sh(String... cmd) {
        return run(List.of(cmd), null, Duration.ofSeconds(60), null);
    }

    static void check(Result r) {
        if (r.code() != 0) {
            throw new IllegalStateException("host setup failed: " + r);
        }
    }

    static Result run(List<String> cmd, String stdin, Duration timeout, Path cwd) {
        return run(cmd, stdin, timeout, cwd, true);
    }

    /** A build script's run (debootstrap, docker build, apt): its output is not gvshim's, so it is not audited. */
    static Result build(List<String> cmd, Duration timeout, Path cwd) {
        return run(cmd, null, timeout, cwd, false);
    }

    private static Result run(List<String> cmd, String stdin, Duration timeout, Path cwd, boolean audit) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            if (cwd != null) {
                pb.directory(cwd.toFile());
            }
            Process p = pb.start();
            return collect(p, stdin, timeout, audit);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits for {@code p} and collects its output, which is audited for Java's words
     * ({@link dev.gvshim.Messages}): every process an integration test starts passes here, so
     * every message gvshim prints in the suite, directly or relayed by docker and ctr, is seen.
     */
    static Result collect(Process p, String stdin, Duration timeout) {
        return collect(p, stdin, timeout, true);
    }

    static Result collect(Process p, String stdin, Duration timeout, boolean audit) {
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        try {
            if (stdin != null) {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out after " + timeout + ": " + p.info().commandLine().orElse("?"));
            }
            Result r = new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
            if (audit) {
                String what = p.info().commandLine().orElse("a process of the test");
                dev.gvshim.Messages.check(what, r.err());
                dev.gvshim.Messages.check(what, r.out());
            }
            return r;
        } catch (AssertionError e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String read(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    static Map<String, String> env() {
        return System.getenv();
    }

    /** Whether the host's cgroups are version 2 only (one hierarchy at /sys/fs/cgroup). */
    static final boolean CGROUP_V2 = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));

    /**
     * The cgroup directory of {@code pid} for {@code controller}, as the kernel says
     * (/proc/PID/cgroup): where a sandbox's processes are, independent of how gvshim finds it.
     */
    static Path cgroupOf(int pid, String controller) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
            String[] f = line.split(":", 3);
            if (CGROUP_V2 ? f[0].equals("0") : List.of(f[1].split(",")).contains(controller)) {
                return Path.of(CGROUP_V2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/" + controller, f[2]);
            }
        }
        throw new AssertionError("pid " + pid + " has no " + controller + " cgroup");
    }
}
