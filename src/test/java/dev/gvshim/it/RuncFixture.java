package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every test of the runc-compatible verbs shares (LifecycleIT, ExecIT, KillIT, PauseIT,
 * TerminalIT, StdioIT, IdsIT, SpecFidelityIT, NetworkNsIT, LauncherIT, UpdateIT, CgroupsIT,
 * EventsIT, HooksIT, RuncDetailsIT): the real runsc, called the way dockerd and containerd call a
 * runtime, {@code --root R --log L --log-format json VERB ...} as root, with R and L in the test's
 * own directory; bundles made from the hello bundle ({@link Host} builds its busybox root file
 * system once); the non-root user's bundles in its work directory, where runsc's own --rootless
 * would refuse `create`; and, after each test, the check that nothing is left: no runsc process of
 * R, and no Java words in what gvshim wrote where {@link Host#collect} does not see it (--log,
 * create's redirected stdio).
 */
abstract class RuncFixture {
    static final Duration T = Duration.ofSeconds(90);
    static final ObjectMapper JSON = new ObjectMapper();
    static final boolean V2 = Host.CGROUP_V2;
    Host host;
    @TempDir
    Path tmp;
    /** This test's --root (root's state directory). */
    Path root;
    /** This test's --log of root's calls. */
    Path log;

    /** Files gvshim wrote outside this test's directory, in bundles of the test user's work directory: audited after the test. */
    private final List<Path> audited = new ArrayList<>();

    @BeforeEach
    void setUpFixture() {
        host = Host.get();
        root = tmp.resolve("state");
        log = tmp.resolve("log.json");
    }

    @AfterEach
    void nothingLeft() throws IOException {
        // whatever a test did, no sandbox of its state directory may survive it
        awaitNoSandboxes();
        assertThat(sandboxes()).as("runsc processes of " + root).isEmpty();
        // what gvshim wrote where Host.collect does not see it: --log, and create's redirected stdio
        dev.gvshim.Messages.checkFile(log);
        try (Stream<Path> files = Files.walk(tmp, 2)) {
            files.filter(f -> List.of("err", "out").contains(f.getFileName().toString())).forEach(dev.gvshim.Messages::checkFile);
        }
        // the bundles in the test user's work directory, with their own --log
        audited.forEach(dev.gvshim.Messages::checkFile);
        audited.clear();
    }

    /** Waits up to 5 s for the runsc processes of this test's --root to end (a killed sandbox takes a moment). */
    void awaitNoSandboxes() {
        for (int i = 0; i < 50 && !sandboxes().isEmpty(); i++) {
            sleep(100);
        }
    }

    /** The pgrep lines of the runsc processes of this test's --root. */
    List<String> sandboxes() {
        return Host.sh("pgrep", "-af", "--", "--root=" + root).out().lines().filter(l -> l.contains("runsc")).toList();
    }

    // ------------------------------------------------------------------ bundles

    /** Audits a bundle's log.json, out, err and {@code more} of its files after the test (no Java words); returns the bundle. */
    Path audit(Path bundle, String... more) {
        for (String f : List.of("log.json", "out", "err")) {
            audited.add(bundle.resolve(f));
        }
        for (String f : more) {
            audited.add(bundle.resolve(f));
        }
        return bundle;
    }

    /** A bundle in this test's directory with the hello bundle's root file system and its spec changed by {@code edit}. */
    Path bundleOf(String name, Consumer<ObjectNode> edit) throws IOException {
        Path b = tmp.resolve(name);
        Files.createDirectories(b);
        Host.sh("cp", "-a", host.work.resolve("hello/rootfs").toString(), b.resolve("rootfs").toString());
        ObjectNode spec = (ObjectNode) JSON.readTree(host.work.resolve("hello/config.json").toFile());
        edit.accept(spec);
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        return b;
    }

    /** A bundle whose container runs {@code args}, with the busybox root file system of the hello bundle. */
    Path bundle(String name, String... args) throws IOException {
        return bundleOf(name, spec -> {
            ArrayNode a = ((ObjectNode) spec.get("process")).putArray("args");
            for (String s : args) {
                a.add(s);
            }
            spec.put("hostname", name);
        });
    }

    /** A bundle running {@code sh -c script}, with linux.cgroupsPath and a memory limit where not null. */
    Path cgroupBundle(String name, String script, String cgroupsPath, Long memoryLimit) throws IOException {
        return bundleOf(name, spec -> {
            ((ObjectNode) spec.get("process")).putArray("args").add("/bin/sh").add("-c").add(script);
            ObjectNode linux = (ObjectNode) spec.get("linux");
            if (cgroupsPath != null) {
                linux.put("cgroupsPath", cgroupsPath);
            }
            if (memoryLimit != null) {
                linux.putObject("resources").putObject("memory").put("limit", memoryLimit);
            }
        });
    }

    static void withCgroup(Path bundle, String cgroupsPath) throws IOException {
        ObjectNode spec = (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
        ((ObjectNode) spec.get("linux")).put("cgroupsPath", cgroupsPath);
        Files.writeString(bundle.resolve("config.json"), JSON.writeValueAsString(spec));
    }

    /** The hello bundle running {@code sh -c script}, in the test user's work directory and owned by it. */
    Path userBundle(String name, String script) throws IOException {
        Path b = host.work.resolve(name + "-" + System.nanoTime());
        Host.sh("cp", "-a", host.work.resolve("hello").toString(), b.toString());
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).putArray("args").add("/bin/sh").add("-c").add(script);
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString());
        return b;
    }

    /**
     * The start of a test user's gvshim command line ($G, the client, in {@link Host#userShell}) for a
     * {@link #userBundle}: the bundle's own --root, and its log.json in JSON.
     */
    static String userGv(Path bundle) {
        return "$G --root " + bundle.resolve("root") + " --log " + bundle.resolve("log.json") + " --log-format json ";
    }

    /**
     * The hello bundle in the test user's work directory with gvshim-specprobe at /probe and a
     * tmpfs at /tmp, running {@code sh -c script}, its spec changed by {@code edit}.
     */
    Path specBundle(String name, Consumer<ObjectNode> edit, String script) throws IOException {
        Path b = audit(host.work.resolve(name + "-" + System.nanoTime()));
        Host.check(Host.sh("cp", "-a", host.work.resolve("hello").toString(), b.toString()));
        Host.check(Host.sh("cp", Path.of(System.getProperty("gvshim.native.dir"), "test/gvshim-specprobe").toString(),
                b.resolve("rootfs/probe").toString()));
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).putArray("args").add("/bin/sh").add("-c").add(script);
        spec.withArray("mounts").addObject().put("destination", "/tmp").put("type", "tmpfs").put("source", "tmpfs");
        edit.accept(spec);
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        Files.writeString(b.resolve("in"), "");
        Host.check(Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString()));
        return b;
    }

    static void seccomp(ObjectNode spec, String action) {
        ObjectNode sc = ((ObjectNode) spec.get("linux")).putObject("seccomp");
        sc.put("defaultAction", "SCMP_ACT_ALLOW");
        sc.putArray("syscalls").addObject().put("action", action).putArray("names").add("mkdir").add("mkdirat");
    }

    // ------------------------------------------------------------------ calls

    /** `gvshim --root R --log L --log-format json ARGS` as root, in {@code cwd}, stdio to files (a sandbox keeps them). */
    Host.Result gv(Path cwd, String... args) {
        List<String> cmd = new ArrayList<>(List.of(host.gvshim.toString(), "--root", root.toString(), "--log",
                log.toString(), "--log-format", "json"));
        cmd.addAll(List.of(args));
        return Host.run(cmd, null, T, cwd);
    }

    /** {@link #gv(Path, String...)} in this test's directory. */
    Host.Result gv(String... args) {
        return gv(tmp, args);
    }

    /** create's stdio stays open in the sandbox: send it to files, as dockerd sends it to fifos. */
    Host.Result create(Path bundle, String id, String... extra) {
        StringBuilder cmd = new StringBuilder(host.gvshim + " --root " + root + " --log " + log + " --log-format json create --bundle "
                + bundle + " --pid-file " + bundle.resolve("init.pid"));
        for (String e : extra) {
            cmd.append(' ').append(e);
        }
        cmd.append(" '").append(id).append("' </dev/null >").append(bundle.resolve("out")).append(" 2>")
                .append(bundle.resolve("err"));
        return Host.run(List.of("/bin/sh", "-c", cmd.toString()), null, T, bundle);
    }

    /** {@link #create} and start, both succeeding. */
    void createAndStart(Path bundle, String id) {
        Host.Result c = create(bundle, id);
        assertThat(c.code()).as(c + read(bundle.resolve("err")) + read(log)).isZero();
        Host.Result s = gv("start", id);
        assertThat(s.code()).as(s + read(log)).isZero();
    }

    /** `run --bundle B ID` (create, start, wait) as root or as the test user; stdio are files of the bundle. */
    Host.Result runBundle(boolean user, Path b, String id) {
        String cmd = " --log " + b.resolve("log.json") + " --log-format json run --bundle " + b + " " + id + " <"
                + b.resolve("in") + " >" + b.resolve("out") + " 2>" + b.resolve("err");
        Host.Result r = user ? host.userShell("$G" + cmd, T)
                : Host.run(List.of("/bin/sh", "-c", host.gvshim + " --root " + root + cmd), null, T, b);
        return new Host.Result(r.code(), read(b.resolve("out")), read(b.resolve("err")) + r.err());
    }

    /** {@code sh -c SCRIPT} as root in {@code cwd}; $G is gvshim with this test's --root and --log. */
    Host.Result rootShell(Path cwd, String script) {
        return Host.run(List.of("/bin/sh", "-c", "G='" + host.gvshim + " --root " + root + " --log " + log
                + " --log-format json'; " + script), null, T, cwd);
    }

    JsonNode state(String id) throws IOException {
        Host.Result r = gv(tmp, "state", id);
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.err()).as("containerd parses state with stderr merged").isEmpty();
        return JSON.readTree(r.out());
    }

    int pid(String id) throws IOException {
        return state(id).path("pid").asInt();
    }

    String awaitStatus(String id, String want) throws IOException {
        String s = "";
        for (int i = 0; i < 100; i++) {
            s = state(id).path("status").asText();
            if (s.equals(want)) {
                return s;
            }
            sleep(100);
        }
        return s;
    }

    // ------------------------------------------------------------------ what gvshim left

    /** The message of the last error line of this test's --log (every line must be JSON with a time). */
    String lastError() throws IOException {
        String msg = "";
        for (String line : Files.readAllLines(log)) {
            JsonNode j = JSON.readTree(line);
            assertThat(j.has("time")).as(line).isTrue();
            if (j.path("level").asText().equals("error")) {
                msg = j.path("msg").asText();
            }
        }
        return msg;
    }

    /** The message of the last error line of a bundle's own log.json. */
    static String lastErrorOf(Path b) throws IOException {
        String msg = "";
        for (String line : Files.readAllLines(b.resolve("log.json"))) {
            JsonNode j = JSON.readTree(line);
            if (j.path("level").asText().equals("error")) {
                msg = j.path("msg").asText();
            }
        }
        return msg;
    }

    static String logOf(Path b) {
        return read(b.resolve("log.json"));
    }

    List<String> rootEntries() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ------------------------------------------------------------------ processes, files, time

    static boolean alive(int pid) {
        return Files.exists(Path.of("/proc/" + pid));
    }

    static boolean zombie(int pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/stat")).replaceAll("^.*\\) ", "").charAt(0) == 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    /** The pgrep lines of processes that are not zombies (zombies under this machine's pid 1 run nothing). */
    static List<String> live(List<String> pgrepLines) {
        return pgrepLines.stream().filter(l -> {
            String pid = l.split(" ")[0];
            try {
                return Files.readString(Path.of("/proc/" + pid + "/stat")).replaceAll("^.*\\) ", "").charAt(0) != 'Z';
            } catch (IOException e) {
                return false;
            }
        }).toList();
    }

    /** Polls {@code done} for up to 10 s. */
    static void await(java.util.function.BooleanSupplier done) {
        for (int i = 0; i < 100 && !done.getAsBoolean(); i++) {
            sleep(100);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "<" + e.getMessage() + ">";
        }
    }

    /** Owner, group and mode of a file, as stat(1) prints them. */
    static String owner(Path p) {
        return Host.sh("stat", "-c", "%U:%G:%a", p.toString()).out().strip();
    }

    /**
     * /dev/null as the machine should have it. runsc chowns the stdio it is given to the sandbox's
     * user, and containerd's shim passes /dev/null: the tests run under the integration-test lock,
     * so setting it right first is what makes "unchanged" mean something.
     */
    static void devNullAsItShouldBe() {
        Host.check(Host.sh("chown", "root:root", "/dev/null"));
        Host.check(Host.sh("chmod", "666", "/dev/null"));
    }
}
