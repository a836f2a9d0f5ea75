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
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runc-compatible verbs against the real runsc, called the way dockerd and containerd call
 * a runtime: {@code --root R --log B/log.json --log-format json VERB ...} from the bundle, as
 * root; and as a non-root user, where runsc's own --rootless refuses `create`.
 */
class RuntimeIT {
    private static final Duration T = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private Host host;
    @TempDir
    Path tmp;
    private Path root;
    private Path log;

    @BeforeEach
    void setUp() {
        host = Host.get();
        root = tmp.resolve("state");
        log = tmp.resolve("log.json");
    }

    @AfterEach
    void nothingLeft() throws IOException {
        // whatever a test did, no sandbox of its state directory may survive it
        for (int i = 0; i < 50 && !sandboxes().isEmpty(); i++) {
            sleep(100);
        }
        assertThat(sandboxes()).as("runsc processes of " + root).isEmpty();
        // what gvshim wrote where Host.collect does not see it: --log, and create's redirected stdio
        dev.gvshim.Messages.checkFile(log);
        try (Stream<Path> files = Files.walk(tmp, 2)) {
            files.filter(f -> List.of("err", "out").contains(f.getFileName().toString())).forEach(dev.gvshim.Messages::checkFile);
        }
    }

    private List<String> sandboxes() {
        return Host.sh("pgrep", "-af", "--", "--root=" + root).out().lines().filter(l -> l.contains("runsc")).toList();
    }

    // ------------------------------------------------------------------ helpers

    /** A bundle whose container runs {@code args}, with the busybox root file system of the hello bundle. */
    private Path bundle(String name, String... args) throws IOException {
        Path b = tmp.resolve(name);
        Files.createDirectories(b);
        Host.sh("cp", "-a", host.work.resolve("hello/rootfs").toString(), b.resolve("rootfs").toString());
        ObjectNode spec = (ObjectNode) JSON.readTree(host.work.resolve("hello/config.json").toFile());
        ArrayNode a = ((ObjectNode) spec.get("process")).putArray("args");
        for (String s : args) {
            a.add(s);
        }
        spec.put("hostname", name);
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        return b;
    }

    /** `gvshim --root R --log L --log-format json ARGS` as root, in {@code cwd}, stdio to files (a sandbox keeps them). */
    private Host.Result gv(Path cwd, String... args) {
        List<String> cmd = new ArrayList<>(List.of(host.gvshim.toString(), "--root", root.toString(), "--log",
                log.toString(), "--log-format", "json"));
        cmd.addAll(List.of(args));
        return Host.run(cmd, null, T, cwd);
    }

    /** create's stdio stays open in the sandbox: send it to files, as dockerd sends it to fifos. */
    private Host.Result create(Path bundle, String id, String... extra) {
        StringBuilder cmd = new StringBuilder(host.gvshim + " --root " + root + " --log " + log + " --log-format json create --bundle "
                + bundle + " --pid-file " + bundle.resolve("init.pid"));
        for (String e : extra) {
            cmd.append(' ').append(e);
        }
        cmd.append(" '").append(id).append("' </dev/null >").append(bundle.resolve("out")).append(" 2>")
                .append(bundle.resolve("err"));
        return Host.run(List.of("/bin/sh", "-c", cmd.toString()), null, T, bundle);
    }

    private JsonNode state(String id) throws IOException {
        Host.Result r = gv(tmp, "state", id);
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.err()).as("containerd parses state with stderr merged").isEmpty();
        return JSON.readTree(r.out());
    }

    private String lastError() throws IOException {
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

    private List<String> rootEntries() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static boolean alive(int pid) {
        return Files.exists(Path.of("/proc/" + pid));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String awaitStatus(String id, String want) throws IOException {
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

    // ------------------------------------------------------------------ tests

    /**
     * The launcher picks the runtime verbs' own AOT cache for calls that start with a global option
     * (as every dockerd and containerd call does), gvshim's general one otherwise, and both exist.
     */
    @Test
    void launcherUsesTheRuntimeCacheForRuntimeCalls() {
        Path home = host.gvshim.getParent().getParent();
        assertThat(home.resolve("lib/runtime.aot")).isNotEmptyFile();
        assertThat(home.resolve("lib/gvshim.aot")).isNotEmptyFile();
        Host.Result rt = Host.sh("sh", "-x", host.gvshim.toString(), "--root", root.toString(), "state", "nosuch");
        assertThat(rt.err()).contains("-XX:AOTCache=" + home.resolve("lib/runtime.aot")).contains("container does not exist");
        assertThat(rt.code()).isEqualTo(1);
        Host.Result own = Host.sh("sh", "-x", host.gvshim.toString(), "--version");
        assertThat(own.err()).contains("-XX:AOTCache=" + home.resolve("lib/gvshim.aot"));
        assertThat(own.out()).startsWith("gvshim version ");
        assertThat(own.code()).isZero();
    }

    @Test
    void versionIsRuncsThreeLineForm() {
        Host.Result r = Host.run(List.of(host.gvshim.toString(), "--version"), null, T, null);
        assertThat(r.code()).isZero();
        assertThat(r.err()).isEmpty();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(3);
        // dockerd splits the first line at "version" (moby parseRuntimeVersion)
        assertThat(lines.get(0)).matches("\\S+ version \\S+");
        assertThat(lines.get(1)).startsWith("commit: ");
        assertThat(lines.get(2)).startsWith("spec: 1.");
    }

    @Test
    void fullLifecycleAsDockerdCallsIt() throws Exception {
        Path b = bundle("life", "/bin/sh", "-c", "echo started; exec sleep 600");
        Host.Result c = create(b, "life");
        assertThat(c.code()).as(c + Files.readString(b.resolve("err"))).isZero();
        int pid = Integer.parseInt(Files.readString(b.resolve("init.pid")).strip());
        assertThat(alive(pid)).as("the --pid-file process lives as long as the container").isTrue();
        JsonNode st = state("life");
        assertThat(st.path("status").asText()).isEqualTo("created");
        assertThat(st.path("id").asText()).isEqualTo("life");
        assertThat(st.path("pid").asInt()).isEqualTo(pid);
        assertThat(st.path("bundle").asText()).isEqualTo(b.toString());

        Host.Result s = gv(b, "start", "life");
        assertThat(s.code()).as(s.toString()).isZero();
        assertThat(s.err()).isEmpty();
        assertThat(awaitStatus("life", "running")).isEqualTo("running");

        // ps: host pids (Docker filters the host's `ps -ef` with them)
        Host.Result ps = gv(b, "ps", "--format", "json", "life");
        assertThat(ps.code()).as(ps.toString()).isZero();
        List<Integer> pids = new ArrayList<>();
        JSON.readTree(ps.out()).forEach(n -> pids.add(n.asInt()));
        assertThat(pids).contains(pid).allSatisfy(p -> assertThat(alive(p)).as("host pid " + p).isTrue());

        // exec, as containerd does: --process file, exit status of the command
        Path proc = tmp.resolve("process.json");
        ObjectNode p = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile()).get("process");
        p.putArray("args").add("/bin/sh").add("-c").add("hostname; exit 7");
        Files.writeString(proc, JSON.writeValueAsString(p));
        Host.Result ex = gv(b, "exec", "--process", proc.toString(), "life");
        assertThat(ex.code()).as(ex.toString()).isEqualTo(7);
        assertThat(ex.out()).isEqualTo("life\n");
        Host.Result ex2 = gv(b, "exec", "life", "/bin/echo", "args", "work");
        assertThat(ex2.out()).as(ex2.toString()).isEqualTo("args work\n");

        Host.Result pause = gv(b, "pause", "life");
        assertThat(pause.code()).as(pause.toString()).isZero();
        assertThat(awaitStatus("life", "paused")).isEqualTo("paused");
        assertThat(gv(b, "resume", "life").code()).isZero();
        assertThat(awaitStatus("life", "running")).isEqualTo("running");

        Host.Result again = create(b, "life");
        assertThat(again.code()).isEqualTo(1);
        assertThat(lastError()).isEqualTo("container with given ID already exists: life");

        Host.Result k = gv(b, "kill", "life", "KILL");
        assertThat(k.code()).as(k.toString()).isZero();
        assertThat(awaitStatus("life", "stopped")).isEqualTo("stopped");
        Host.Result k2 = gv(b, "kill", "life", "9");
        assertThat(k2.code()).isEqualTo(1);
        assertThat(lastError()).startsWith("container not running");

        Host.Result d = gv(b, "delete", "life");
        assertThat(d.code()).as(d.toString()).isZero();
        assertThat(rootEntries()).as("state after delete").isEmpty();
        for (int i = 0; i < 50 && alive(pid); i++) {
            sleep(100);
        }
        assertThat(alive(pid)).as("sandbox after delete").isFalse();
        Host.Result gone = gv(b, "state", "life");
        assertThat(gone.code()).isEqualTo(1);
        assertThat(gone.err()).contains("container does not exist");
        assertThat(lastError()).isEqualTo("container does not exist: life");
    }

    @Test
    void killInCreatedStateEndsTheSandbox() throws Exception {
        Path b = bundle("created", "/bin/true");
        assertThat(create(b, "created").code()).isZero();
        int pid = Integer.parseInt(Files.readString(b.resolve("init.pid")).strip());
        Host.Result k = gv(b, "kill", "created", "SIGKILL");
        assertThat(k.code()).as(k.toString()).isZero();
        for (int i = 0; i < 50 && alive(pid); i++) {
            sleep(100);
        }
        assertThat(alive(pid)).isFalse();
        assertThat(gv(b, "delete", "--force", "created").code()).isZero();
        assertThat(rootEntries()).isEmpty();
    }

    @Test
    void failedStartCleansUpAndExplains() throws Exception {
        Path b = bundle("broken", "/no/such/program");
        assertThat(create(b, "broken").code()).isZero();
        int pid = Integer.parseInt(Files.readString(b.resolve("init.pid")).strip());
        Host.Result s = gv(b, "start", "broken");
        assertThat(s.code()).isEqualTo(1);
        String msg = lastError();
        assertThat(msg).contains("/no/such/program").contains("[COMMAND_NOT_FOUND]").contains("Fix:")
                .doesNotContain("EOF");
        assertThat(s.err()).as("a line where a person sees it").contains("COMMAND_NOT_FOUND");
        // Docker never calls delete after a failed start: nothing may be left
        for (int i = 0; i < 50 && alive(pid); i++) {
            sleep(100);
        }
        assertThat(alive(pid)).as("sandbox of a failed start").isFalse();
        assertThat(rootEntries()).isEmpty();
        assertThat(gv(b, "state", "broken").code()).isEqualTo(1);
    }

    @Test
    void containerNetworkGoesThroughTheSandboxStack() throws Exception {
        // what Docker's bridge gives a container: a network namespace with a veth whose peer is on the host.
        // runsc 2022-12 refuses its sandbox network at start on this kernel; gvshim must make it work.
        String ns = "gvshim-it-" + ProcessHandle.current().pid();
        String veth = "gvit" + (ProcessHandle.current().pid() % 100000);
        try (java.net.ServerSocket server = new java.net.ServerSocket()) {
            for (String[] c : List.of(new String[] {"ip", "netns", "add", ns},
                    new String[] {"ip", "link", "add", veth, "type", "veth", "peer", "name", veth + "c"},
                    new String[] {"ip", "link", "set", veth + "c", "netns", ns},
                    new String[] {"ip", "addr", "add", "10.123.0.1/24", "dev", veth},
                    new String[] {"ip", "link", "set", veth, "up"},
                    new String[] {"ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"},
                    new String[] {"ip", "netns", "exec", ns, "ip", "addr", "add", "10.123.0.5/24", "dev", veth + "c"},
                    new String[] {"ip", "netns", "exec", ns, "ip", "link", "set", veth + "c", "up"})) {
                Host.Result r = Host.sh(c);
                assertThat(r.code()).as(String.join(" ", c) + ": " + r).isZero();
            }
            server.bind(new java.net.InetSocketAddress("10.123.0.1", 0));
            Thread answer = Thread.ofVirtual().start(() -> {
                try (java.net.Socket s = server.accept()) {
                    s.getOutputStream().write("hello over the sandbox network\n".getBytes());
                } catch (IOException e) {
                    // the assertion below reports it
                }
            });
            Path b = bundle("net", "/bin/sh", "-c", "ip addr | grep -o 10.123.0.5/24; nc 10.123.0.1 " + server.getLocalPort()
                    + " </dev/null");
            ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
            for (JsonNode n : spec.path("linux").path("namespaces")) {
                if (n.path("type").asText().equals("network")) {
                    ((ObjectNode) n).put("path", "/var/run/netns/" + ns);
                }
            }
            Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
            Host.Result c = create(b, "net");
            assertThat(c.code()).as(c.toString()).isZero();
            Host.Result s = gv(b, "start", "net");
            assertThat(s.code()).as(s + "\n" + read(log)).isZero();
            assertThat(awaitStatus("net", "stopped")).isEqualTo("stopped");
            answer.join(Duration.ofSeconds(10));
            assertThat(read(b.resolve("out"))).isEqualTo("10.123.0.5/24\nhello over the sandbox network\n");
            assertThat(gv(b, "delete", "net").code()).isZero();
        } finally {
            Host.sh("ip", "netns", "del", ns);
            Host.sh("ip", "link", "del", veth);
        }
    }

    @Test
    void hostNetworkNamespaceIsNeverTakenOver() throws Exception {
        // a spec that joins this host's own network namespace (docker --network=host does, via
        // /var/run/docker/netns/default): the sandbox network would strip the host's interfaces
        String ns = "gvshim-it-host-" + ProcessHandle.current().pid();
        Host.Result attach = Host.sh("ip", "netns", "attach", ns, Long.toString(ProcessHandle.current().pid()));
        assertThat(attach.code()).as(attach.toString()).isZero();
        try {
            hostNetwork(ns);
        } finally {
            Host.sh("ip", "netns", "del", ns);
        }
    }

    private void hostNetwork(String ns) throws Exception {
        Path b = bundle("hostnet", "/bin/true");
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        for (JsonNode n : spec.path("linux").path("namespaces")) {
            if (n.path("type").asText().equals("network")) {
                ((ObjectNode) n).put("path", "/var/run/netns/" + ns);
            }
        }
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        Host.Result c = Host.run(List.of(host.gvshim.toString(), "--root", root.toString(), "--log", log.toString(),
                "--log-format", "json", "--network", "sandbox", "create", "--bundle", b.toString(), "hostnet"), null, T, b);
        assertThat(c.code()).as(c.toString()).isEqualTo(1);
        assertThat(lastError()).contains("sandbox network").contains("--network=host");
        assertThat(rootEntries()).isEmpty();
        String addrs = Host.sh("ip", "-4", "addr").out();
        // and by default gvshim picks gVisor's hostinet for such a container, as runc would share the network
        Host.Result d = create(b, "hostnet");
        assertThat(d.code()).as(d + read(log)).isZero();
        assertThat(gv(b, "start", "hostnet").code()).isZero();
        assertThat(awaitStatus("hostnet", "stopped")).isEqualTo("stopped");
        assertThat(gv(b, "delete", "hostnet").code()).isZero();
        assertThat(Host.sh("ip", "-4", "addr").out()).as("the host's addresses").isEqualTo(addrs);
    }

    @Test
    void unknownContainerIsRuncsSentinel() throws IOException {
        for (String verb : List.of("state", "start", "kill", "delete", "pause", "resume", "ps")) {
            Host.Result r = gv(tmp, verb, "nope");
            assertThat(r.code()).as(verb + ": " + r).isEqualTo(1);
            assertThat(lastError()).as(verb).isEqualTo("container does not exist: nope");
        }
        assertThat(gv(tmp, "delete", "--force", "nope").code()).as("delete --force of nothing").isZero();
        assertThat(rootEntries()).isEmpty();
    }

    @Test
    void badInputIsRefusedAndChangesNothing() throws Exception {
        Path good = bundle("good", "/bin/true");
        Path noRootfs = tmp.resolve("norootfs");
        Files.createDirectories(noRootfs);
        Files.copy(good.resolve("config.json"), noRootfs.resolve("config.json"));
        Path malformed = tmp.resolve("malformed");
        Files.createDirectories(malformed);
        Files.writeString(malformed.resolve("config.json"), "{\"ociVersion\": \"1.0.2\", \"process\": ");
        Path noConfig = tmp.resolve("noconfig");
        Files.createDirectories(noConfig);
        Files.createDirectories(root);
        List<String> before = rootEntries();
        record Case(Path bundle, String id, String expect) {
        }
        for (Case c : List.of(new Case(good, "../x", "invalid container id"), new Case(good, "", "container id cannot be empty"),
                new Case(good, "a".repeat(1025), "invalid container id"), new Case(good, "a/b", "invalid container id"),
                new Case(malformed, "m", "config.json"), new Case(noConfig, "n", "config.json"),
                new Case(noRootfs, "r", "rootfs"))) {
            Files.deleteIfExists(log);
            Host.Result r = Host.run(List.of(host.gvshim.toString(), "--root", root.toString(), "--log", log.toString(),
                    "--log-format", "json", "create", "--bundle", c.bundle().toString(), c.id()), null, T, c.bundle());
            assertThat(r.code()).as(c + ": " + r).isEqualTo(1);
            assertThat(lastError()).as(c.toString()).containsIgnoringCase(c.expect());
            assertThat(r.err()).as(c.toString()).isNotEmpty();
            assertThat(rootEntries()).as("state directory after " + c).isEqualTo(before);
        }
    }

    @Test
    void rootlessCallerCreatesStartsAndDeletes() throws Exception {
        // a non-root CI job: runsc --rootless would refuse `create`; gvshim holds the user namespace itself
        Path b = host.work.resolve("rl-" + System.nanoTime());
        Host.sh("cp", "-a", host.work.resolve("hello").toString(), b.toString());
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).putArray("args").add("/bin/sh").add("-c").add("echo rootless; exec sleep 600");
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString());
        String g = "$G --log " + b.resolve("log.json") + " --log-format json ";
        Host.Result r = host.userShell("cd " + b + " && " + g + "create --bundle . --pid-file init.pid rl </dev/null >out 2>err"
                + " && " + g + "start rl && " + g + "state rl", T);
        assertThat(r.code()).as(r + "\nlog: " + read(b.resolve("log.json")) + "\nerr: " + read(b.resolve("err"))).isZero();
        assertThat(JSON.readTree(r.out()).path("status").asText()).isIn("running", "created");
        int pid = Integer.parseInt(Files.readString(b.resolve("init.pid")).strip());
        assertThat(alive(pid)).isTrue();
        for (int i = 0; i < 50 && !read(b.resolve("out")).contains("rootless"); i++) {
            sleep(100);
        }
        assertThat(read(b.resolve("out"))).isEqualTo("rootless\n");
        Host.Result ex = host.userShell(g + "exec rl /bin/id -u", T);
        assertThat(ex.out()).as(ex.toString()).isEqualTo("0\n");
        Host.Result d = host.userShell(g + "kill rl KILL && " + g + "delete --force rl && " + g + "state rl", T);
        assertThat(d.code()).isEqualTo(1);
        assertThat(d.err()).contains("container does not exist: rl");
        for (int i = 0; i < 50 && alive(pid); i++) {
            sleep(100);
        }
        assertThat(alive(pid)).isFalse();
        // zombies under this machine's pid 1 are not processes that run anything
        for (int i = 0; i < 50 && !live(host.processes()).isEmpty(); i++) {
            sleep(100);
        }
        assertThat(live(host.processes())).as("processes of the test user").isEmpty();
    }

    @Test
    void rootlessCreateNamesAnUnreachableRootfs() throws Exception {
        // root's 0700 rootfs (a tarball of mktemp's directory): runsc would say only "failed to chroot"
        Path b = host.work.resolve("rl-locked-" + System.nanoTime());
        Host.sh("cp", "-a", host.work.resolve("hello").toString(), b.toString());
        Host.sh("chown", host.uid + ":" + host.gid, b.toString(), b.resolve("config.json").toString());
        Host.check(Host.sh("chown", "-R", "0:0", b.resolve("rootfs").toString()));
        Host.check(Host.sh("chmod", "700", b.resolve("rootfs").toString()));
        String g = "$G --log " + b.resolve("log.json") + " --log-format json ";
        Host.Result r = host.userShell("cd " + b + " && " + g + "create --bundle . --pid-file init.pid locked </dev/null >out 2>err", T);
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        String log = read(b.resolve("log.json"));
        assertThat(log.lines().filter(l -> l.contains("\"level\":\"error\"")).reduce((x, y) -> y)).as(log).hasValueSatisfying(l ->
                assertThat(l).contains("ROOTFS_NOT_ACCESSIBLE").contains("chmod a+rx " + b.resolve("rootfs")));
        assertThat(b.resolve("init.pid")).doesNotExist();
        Host.Result s = host.userShell(g + "state locked", T);
        assertThat(s.err()).contains("container does not exist: locked");
    }

    // ------------------------------------------------------------------ the caller's stdio (issue 14)

    /** Owner, group and mode of a file, as stat(1) prints them. */
    private static String owner(Path p) {
        return Host.sh("stat", "-c", "%U:%G:%a", p.toString()).out().strip();
    }

    /**
     * /dev/null as the machine should have it. runsc chowns the stdio it is given to the sandbox's
     * user, and containerd's shim passes /dev/null: the tests run under the integration-test lock,
     * so setting it right first is what makes "unchanged" mean something.
     */
    private static void devNullAsItShouldBe() {
        Host.check(Host.sh("chown", "root:root", "/dev/null"));
        Host.check(Host.sh("chmod", "666", "/dev/null"));
    }

    /** {@code sh -c SCRIPT} as root in {@code cwd}; $G is gvshim with this test's --root and --log. */
    private Host.Result rootShell(Path cwd, String script) {
        return Host.run(List.of("/bin/sh", "-c", "G='" + host.gvshim + " --root " + root + " --log " + log
                + " --log-format json'; " + script), null, T, cwd);
    }

    @Test
    void runtimeVerbsLeaveTheCallersFilesDevNullAndTerminalAlone() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Host.which("script") != null, "no script(1) for a terminal (util-linux)");
        devNullAsItShouldBe();
        Path b = bundle("stdio", "/bin/sh", "-c", "echo out-line; echo err-line >&2; exec sleep 600");
        // files of the caller's, written at their offset; create's stdin /dev/null, as dockerd's shim gives it
        Host.Result c = rootShell(b, ": > out; : > err; chmod 640 out err; (echo LINE-1; $G create --bundle . stdio </dev/null)"
                + " >out 2>err");
        assertThat(c.code()).as(c + read(b.resolve("err"))).isZero();
        Host.Result s = gv(b, "start", "stdio");
        assertThat(s.code()).as(s.toString()).isZero();
        for (int i = 0; i < 50 && !read(b.resolve("err")).contains("err-line"); i++) {
            sleep(100);
        }
        assertThat(read(b.resolve("out"))).as("the container's output after the caller's").isEqualTo("LINE-1\nout-line\n");
        assertThat(read(b.resolve("err"))).isEqualTo("err-line\n");
        assertThat(owner(b.resolve("out"))).as("create's stdout file").isEqualTo("root:root:640");
        assertThat(owner(b.resolve("err"))).as("create's stderr file").isEqualTo("root:root:640");
        assertThat(owner(Path.of("/dev/null"))).as("/dev/null after create and start").isEqualTo("root:root:666");

        Host.Result e = rootShell(b, "$G exec stdio /bin/echo to-null </dev/null >/dev/null 2>/dev/null && (echo LINE-1; $G exec"
                + " stdio /bin/echo exec-line) > exec.txt");
        assertThat(e.code()).as(e.toString()).isZero();
        assertThat(read(b.resolve("exec.txt"))).isEqualTo("LINE-1\nexec-line\n");
        assertThat(owner(Path.of("/dev/null"))).as("/dev/null after exec").isEqualTo("root:root:666");

        // a root terminal (script(1)'s pty) as the stdio of exec, create and run
        Path t = bundle("stdio-tty", "/bin/sh", "-c", "test -t 1 || echo not-a-tty-but-relayed");
        Host.Result tty = rootShell(b, "script -qec \"before=\\$(stat -c %U:%G:%a \\$(tty)); $G exec stdio /bin/echo on-the-terminal;"
                + " $G create --bundle " + t + " tty-create; $G delete --force tty-create; $G run --bundle " + t + " tty-run;"
                + " echo result \\$before \\$(stat -c %U:%G:%a \\$(tty))\" /dev/null");
        assertThat(tty.out()).as(tty.toString()).contains("on-the-terminal").contains("not-a-tty-but-relayed");
        String result = tty.out().lines().filter(l -> l.startsWith("result ")).findFirst().orElseThrow().strip();
        String[] owners = result.split(" ");
        assertThat(owners).hasSize(3);
        assertThat(owners[2]).as("the caller's terminal after exec, create and run").isEqualTo(owners[1]);

        assertThat(gv(b, "delete", "--force", "stdio").code()).isZero();
        assertThat(owner(Path.of("/dev/null"))).as("/dev/null after delete").isEqualTo("root:root:666");

        // run: `(echo LINE-1; gvshim run ...) > f` keeps LINE-1 (gVisor wrote a file it is given at offset 0)
        Path r = bundle("stdio-run", "/bin/echo", "run-line");
        Host.Result run = rootShell(r, ": > f; chmod 600 f; (echo LINE-1; $G run --bundle . file-run </dev/null) > f");
        assertThat(run.code()).as(run.toString()).isZero();
        assertThat(read(r.resolve("f"))).isEqualTo("LINE-1\nrun-line\n");
        assertThat(owner(r.resolve("f"))).isEqualTo("root:root:600");
        assertThat(owner(Path.of("/dev/null"))).as("/dev/null after run").isEqualTo("root:root:666");
        assertThat(rootEntries()).isEmpty();
    }

    @Test
    void rootlessCallersFilesAndTerminalKeepTheirOwner() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Host.which("script") != null, "no script(1) for a terminal (util-linux)");
        Path b = host.work.resolve("rl-stdio-" + System.nanoTime());
        Host.sh("cp", "-a", host.work.resolve("hello").toString(), b.toString());
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).putArray("args").add("/bin/sh").add("-c")
                .add("echo out-line; echo err-line >&2; exec sleep 600");
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString());
        String g = "$G --log " + b.resolve("log.json") + " --log-format json ";
        // runsc inside the container's user namespace chowned these to a subordinate id: the caller lost them
        Host.Result r = host.userShell("cd " + b + " && : > out && : > err && chmod 640 out err && (echo LINE-1; " + g
                + "create --bundle . rls-main </dev/null) >out 2>err && " + g + "start rls-main", T);
        assertThat(r.code()).as(r + "\nlog: " + read(b.resolve("log.json")) + "\nerr: " + read(b.resolve("err"))).isZero();
        for (int i = 0; i < 50 && !read(b.resolve("err")).contains("err-line"); i++) {
            sleep(100);
        }
        assertThat(read(b.resolve("out"))).isEqualTo("LINE-1\nout-line\n");
        String mine = Host.USER + ":" + Host.USER + ":640";
        assertThat(owner(b.resolve("out"))).isEqualTo(mine);
        assertThat(owner(b.resolve("err"))).isEqualTo(mine);
        Host.Result w = host.userShell("cd " + b + " && echo more >> out && echo writable", T);
        assertThat(w.out()).contains("writable");

        Host.Result tty = host.userShell("cd " + b + " && script -qec \"before=\\$(stat -c %U:%G:%a \\$(tty)); " + g
                + "exec rls-main /bin/echo on-the-terminal; " + g + "create --bundle . rls-tty; " + g + "delete --force rls-tty;"
                + " echo result \\$before \\$(stat -c %U:%G:%a \\$(tty))\" /dev/null", T);
        assertThat(tty.out()).as(tty.toString()).contains("on-the-terminal");
        String[] owners = tty.out().lines().filter(l -> l.startsWith("result ")).findFirst().orElseThrow().strip().split(" ");
        assertThat(owners).hasSize(3);
        assertThat(owners[1]).startsWith(Host.USER + ":");
        assertThat(owners[2]).as("the caller's terminal after exec and create").isEqualTo(owners[1]);

        Host.Result d = host.userShell(g + "delete --force rls-main", T);
        assertThat(d.code()).as(d.toString()).isZero();
        for (int i = 0; i < 50 && !live(host.processes()).isEmpty(); i++) {
            sleep(100);
        }
        assertThat(live(host.processes())).as("processes of the test user (a relay left behind?)").isEmpty();
    }

    @Test
    void consoleSocketStillGetsTheContainersTerminal() throws Exception {
        Path helper = Path.of(System.getProperty("gvshim.native.dir", "target/native"), "test/gvshim-console");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(helper), "no " + helper);
        devNullAsItShouldBe();
        Path b = bundle("console", "/bin/sh", "-c", "test -t 0 && test -t 1 && echo on-a-tty");
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).put("terminal", true);
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));

        // runc's rule: a detached container with a terminal needs someone to take the pty
        Host.Result refused = create(b, "console");
        assertThat(refused.code()).isEqualTo(1);
        assertThat(lastError()).startsWith("cannot allocate tty if runc will detach without setting console socket");
        assertThat(rootEntries()).isEmpty();

        Path sock = tmp.resolve("console.sock");
        Process console = new ProcessBuilder(helper.toString(), sock.toString())
                .redirectOutput(b.resolve("console.out").toFile()).redirectError(b.resolve("console.err").toFile()).start();
        try {
            for (int i = 0; i < 50 && !Files.exists(sock); i++) {
                sleep(100);
            }
            Host.Result c = create(b, "console", "--console-socket", sock.toString());
            assertThat(c.code()).as(c + read(log)).isZero();
            assertThat(gv(b, "start", "console").code()).isZero();
            assertThat(console.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("the console helper ended").isTrue();
            assertThat(read(b.resolve("console.err"))).contains("received a terminal");
            assertThat(read(b.resolve("console.out"))).contains("on-a-tty");
            assertThat(awaitStatus("console", "stopped")).isEqualTo("stopped");
            assertThat(gv(b, "delete", "console").code()).isZero();
        } finally {
            console.destroyForcibly();
        }
        assertThat(owner(Path.of("/dev/null"))).isEqualTo("root:root:666");
    }

    private static List<String> live(List<String> pgrepLines) {
        return pgrepLines.stream().filter(l -> {
            String pid = l.split(" ")[0];
            try {
                return Files.readString(Path.of("/proc/" + pid + "/stat")).replaceAll("^.*\\) ", "").charAt(0) != 'Z';
            } catch (IOException e) {
                return false;
            }
        }).toList();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "<" + e.getMessage() + ">";
        }
    }
}
