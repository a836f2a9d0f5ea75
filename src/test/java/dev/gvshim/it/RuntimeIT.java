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
        // the spec tests' bundles live in the test user's work directory, with their own --log
        for (Path b : specBundles) {
            for (String f : List.of("log.json", "out", "err")) {
                dev.gvshim.Messages.checkFile(b.resolve(f));
            }
        }
        specBundles.clear();
    }

    /** The bundles {@link #specBundle} made in this test (their --log and stdio files are audited after it). */
    private final List<Path> specBundles = new ArrayList<>();

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
        // bin/gvshim is the native client; the JVM's launcher (its cold path) is libexec/gvshim-jvm
        Path jvm = home.resolve("libexec/gvshim-jvm");
        Host.Result rt = Host.sh("sh", "-x", jvm.toString(), "--root", root.toString(), "state", "nosuch");
        assertThat(rt.err()).contains("-XX:AOTCache=" + home.resolve("lib/runtime.aot")).contains("container does not exist");
        assertThat(rt.code()).isEqualTo(1);
        Host.Result own = Host.sh("sh", "-x", jvm.toString(), "--version");
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
        // runc's fields, in runc's order, and its layout (no final newline)
        List<String> fields = new ArrayList<>();
        st.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).containsExactly("ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner");
        assertThat(st.path("rootfs").asText()).isEqualTo(b.resolve("rootfs").toString());
        assertThat(java.time.Instant.parse(st.path("created").asText())).isBefore(java.time.Instant.now());
        assertThat(gv(b, "state", "life").out()).startsWith("{\n  \"ociVersion\": ").endsWith("\n}");
        assertThat(gv(b, "kill", "life", "0").code()).as("signal 0: the container is there").isZero();

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
        assertThat(lastError()).isEqualTo("gvshim: container with given ID already exists: life [CONTAINER_EXISTS]");

        Host.Result k = gv(b, "kill", "life", "KILL");
        assertThat(k.code()).as(k.toString()).isZero();
        assertThat(awaitStatus("life", "stopped")).isEqualTo("stopped");
        Host.Result k2 = gv(b, "kill", "life", "9");
        assertThat(k2.code()).isEqualTo(1);
        assertThat(lastError()).startsWith("gvshim: container not running");
        assertThat(gv(b, "kill", "--all", "life", "9").code()).as("runc: kill -a of a stopped container").isZero();
        assertThat(gv(b, "kill", "life", "0").code()).as("signal 0: not running").isEqualTo(1);
        assertThat(state("life").path("pid").asInt()).as("runc's pid of a stopped container").isZero();
        Host.Result stoppedPs = gv(b, "ps", "--format", "json", "life");
        assertThat(stoppedPs.code()).as(stoppedPs.toString()).isZero();
        assertThat(stoppedPs.out()).isEqualTo("null\n");
        Host.Result listed = gv(b, "list");
        assertThat(listed.out().lines().skip(1).toList()).singleElement().asString().startsWith("life ")
                .contains(" 0 ").contains(" stopped ").endsWith(" root");

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
        assertThat(lastError()).isEqualTo("gvshim: container does not exist: life [CONTAINER_NOT_FOUND]");
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
    void aCreatedContainerHoldsNoneOfItsCallersOtherDescriptors() throws Exception {
        // runc's detached container keeps its stdio (and --preserve-fds); a descriptor the caller merely let
        // create inherit must not be held for the container's life. flock(1) runs its command with the lock's
        // descriptor open: held by the container's relay (with the server, the client spawned it with every
        // descriptor of its caller), the lock stayed taken until the container exited
        Path b = bundle("fds", "/bin/sleep", "600");
        Path lock = tmp.resolve("fds.lock");
        try {
            Host.Result r = Host.run(List.of("timeout", "20", "flock", lock.toString(), "/bin/sh", "-c", host.gvshim + " --root "
                    + root + " --log " + log + " --log-format json create --bundle " + b + " fds </dev/null >" + b.resolve("out")
                    + " 2>" + b.resolve("err")), null, T, b);
            assertThat(r.code()).as(r + "\nerr: " + read(b.resolve("err"))).isZero();
            assertThat(Host.run(List.of("flock", "-n", lock.toString(), "true"), null, T, b).code())
                    .as("the caller's lock is free again while the container runs").isZero();
            assertThat(state("fds").path("status").asText()).isEqualTo("created");
        } finally {
            gv(b, "delete", "--force", "fds");
        }
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
            assertThat(lastError()).as(verb).isEqualTo("gvshim: container does not exist: nope [CONTAINER_NOT_FOUND]");
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
        // runsc's Go decoder refuses it with the whole spec after its message (gvshim quoted a fragment of it)
        Path badArgs = bundle("badargs", "/bin/true");
        ObjectNode spec = (ObjectNode) JSON.readTree(badArgs.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).putArray("args").add(1).add(2);
        Files.writeString(badArgs.resolve("config.json"), JSON.writeValueAsString(spec));
        Files.createDirectories(root);
        List<String> before = rootEntries();
        record Case(Path bundle, String id, String expect) {
        }
        for (Case c : List.of(new Case(good, "../x", "invalid container id"), new Case(good, "", "container id cannot be empty"),
                new Case(good, "a".repeat(1025), "invalid container id"), new Case(good, "a/b", "invalid container id"),
                new Case(good, "-x", "invalid container ID format: \"-x\" (an id cannot start with -"),
                new Case(malformed, "m", "config.json"), new Case(noConfig, "n", "config.json"),
                new Case(noRootfs, "r", "rootfs"),
                new Case(badArgs, "t", "\"process.args[0]\" must be a string, not the number 1"))) {
            Files.deleteIfExists(log);
            Host.Result r = Host.run(List.of(host.gvshim.toString(), "--root", root.toString(), "--log", log.toString(),
                    "--log-format", "json", "create", "--bundle", c.bundle().toString(), "--", c.id()), null, T, c.bundle());
            assertThat(r.code()).as(c + ": " + r).isEqualTo(1);
            assertThat(lastError()).as(c.toString()).containsIgnoringCase(c.expect()).doesNotContain("\"uts\"");
            assertThat(r.err().lines()).as(c + ": one line from gvshim, no runsc usage or spec").hasSize(1)
                    .allSatisfy(l -> assertThat(l).startsWith("gvshim: "));
            assertThat(rootEntries()).as("state directory after " + c).isEqualTo(before);
        }
    }

    /** The hello bundle running {@code sh -c script}, in the test user's work directory and owned by it. */
    private Path userBundle(String name, String script) throws IOException {
        Path b = host.work.resolve(name + "-" + System.nanoTime());
        Host.sh("cp", "-a", host.work.resolve("hello").toString(), b.toString());
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).putArray("args").add("/bin/sh").add("-c").add(script);
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString());
        return b;
    }

    @Test
    void rootlessCallerCreatesStartsAndDeletes() throws Exception {
        // a non-root CI job: runsc --rootless would refuse `create`; gvshim holds the user namespace itself
        Path b = userBundle("rl", "echo rootless; exec sleep 600");
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

    /**
     * A rootless container whose namespace holder was killed: no runsc call can enter its user
     * namespace any more, so `delete --force` (which the USERNS_HOLDER_GONE line tells the user to
     * run) ends the sandbox and removes runsc's state and gvshim's itself. It failed with
     * USERNS_HOLDER_GONE and left the sandbox running.
     */
    @Test
    void aRootlessContainerWhoseHolderWasKilledIsDeletedByForce() throws Exception {
        Path b = userBundle("rlh", "exec sleep 600");
        String g = "$G --log " + b.resolve("log.json") + " --log-format json ";
        Host.Result r = host.userShell("cd " + b + " && " + g + "create --bundle . --pid-file init.pid rlh </dev/null >out 2>err"
                + " && " + g + "start rlh", T);
        assertThat(r.code()).as(r + "\nlog: " + read(b.resolve("log.json")) + "\nerr: " + read(b.resolve("err"))).isZero();
        int pid = Integer.parseInt(Files.readString(b.resolve("init.pid")).strip());
        Host.Result d;
        try {
            String holders = Host.sh("pgrep", "-u", Integer.toString(host.uid), "-x", "gvshim-holder").out().strip();
            assertThat(holders).as("the container's holder").matches("\\d+");
            Host.check(Host.sh("kill", "-KILL", holders));
            Host.Result plain = host.userShell(g + "delete rlh", T);
            assertThat(plain.code()).as(plain.toString()).isEqualTo(1);
            assertThat(plain.err()).contains("that is not stopped: running").contains("delete --force rlh");
        } finally {
            d = host.userShell(g + "delete --force rlh && " + g + "list -q", T);
        }
        assertThat(d.code()).as(d + "\nlog: " + read(b.resolve("log.json"))).isZero();
        assertThat(d.out()).as("nothing listed").isEmpty();
        for (int i = 0; i < 50 && alive(pid); i++) {
            sleep(100);
        }
        assertThat(alive(pid)).as("the sandbox").isFalse();
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

    // ------------------------------------------------------------------ the spec's isolation fields (issue 14 item 5)

    /**
     * The hello bundle in the test user's work directory with gvshim-specprobe at /probe and a
     * tmpfs at /tmp, running {@code sh -c script}, its spec changed by {@code edit}.
     */
    private Path specBundle(String name, java.util.function.Consumer<ObjectNode> edit, String script) throws IOException {
        Path b = host.work.resolve(name + "-" + System.nanoTime());
        specBundles.add(b);
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

    /** `run --bundle B ID` (create, start, wait) as root or as the test user; stdio are files of the bundle. */
    private Host.Result runBundle(boolean user, Path b, String id) {
        String cmd = " --log " + b.resolve("log.json") + " --log-format json run --bundle " + b + " " + id + " <"
                + b.resolve("in") + " >" + b.resolve("out") + " 2>" + b.resolve("err");
        Host.Result r = user ? host.userShell("$G" + cmd, T)
                : Host.run(List.of("/bin/sh", "-c", host.gvshim + " --root " + root + cmd), null, T, b);
        return new Host.Result(r.code(), read(b.resolve("out")), read(b.resolve("err")) + r.err());
    }

    private static String logOf(Path b) {
        return read(b.resolve("log.json"));
    }

    private static void seccomp(ObjectNode spec, String action) {
        ObjectNode sc = ((ObjectNode) spec.get("linux")).putObject("seccomp");
        sc.put("defaultAction", "SCMP_ACT_ALLOW");
        sc.putArray("syscalls").addObject().put("action", action).putArray("names").add("mkdir").add("mkdirat");
    }

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

    private String lastErrorOf(Path b) throws IOException {
        String msg = "";
        for (String line : Files.readAllLines(b.resolve("log.json"))) {
            JsonNode j = JSON.readTree(line);
            if (j.path("level").asText().equals("error")) {
                msg = j.path("msg").asText();
            }
        }
        return msg;
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
     * `exec -t` gives the process a terminal, also when the caller has none (runc allocates one and
     * copies it to its stdio); without -t the process has pipes. It was accepted and dropped: runsc
     * 2022-12 gives an exec'd process a terminal only through its process.json.
     */
    @Test
    void execTtyGivesTheProcessATerminalAsRootAndRootless() throws Exception {
        String probe = "[ -t 0 ] && [ -t 1 ] && echo tty-yes || echo tty-no";
        Path b = bundle("exectty", "/bin/sleep", "600");
        assertThat(create(b, "exectty").code()).isZero();
        try {
            assertThat(gv(b, "start", "exectty").code()).isZero();
            Host.Result t = gv(b, "exec", "-t", "exectty", "/bin/sh", "-c", probe);
            assertThat(t.code()).as(t + read(log)).isZero();
            assertThat(t.out()).as("a terminal: output through it (\\r\\n)").isEqualTo("tty-yes\r\n");
            Host.Result p = gv(b, "exec", "exectty", "/bin/sh", "-c", probe);
            assertThat(p.out()).isEqualTo("tty-no\n");
            Host.Result d = gv(b, "exec", "-t", "-d", "exectty", "/bin/true");
            assertThat(d.code()).as("exec's own failure: runc's 255").isEqualTo(255);
            assertThat(d.err()).contains("cannot allocate tty if runc will detach without setting console socket");
        } finally {
            gv(b, "delete", "--force", "exectty");
        }

        Path u = userBundle("rlexectty", "exec sleep 600");
        String g = "$G --log " + u.resolve("log.json") + " --log-format json ";
        Host.Result r = host.userShell("cd " + u + " && " + g + "create --bundle . rlt </dev/null >out 2>err && " + g + "start rlt && "
                + g + "exec -t rlt /bin/sh -c '" + probe + "' </dev/null; " + g + "delete --force rlt", T);
        assertThat(r.out()).as(r + read(u.resolve("log.json"))).startsWith("tty-yes");
    }

    /** process.consoleSize: runsc ignores it; gvshim's terminal starts with it (the caller has none to give). */
    @Test
    void aTerminalStartsWithTheSpecsConsoleSize() throws Exception {
        Path b = specBundle("console", s -> {
            ObjectNode p = s.withObject("process");
            p.put("terminal", true);
            p.putObject("consoleSize").put("height", 37).put("width", 101);
        }, "stty size");
        Host.Result r = runBundle(false, b, "console-size");
        assertThat(r.code()).as(r + logOf(b)).isZero();
        assertThat(r.out().strip()).isEqualTo("37 101");
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

    /** runsc 2022-12 starts exec'd processes without the container's seccomp filter: refused. The rewritten spec stays invisible. */
    @Test
    void execIsRefusedWhereRunscWouldDropTheProfile() throws Exception {
        Path b = specBundle("exec", s -> {
            seccomp(s, "SCMP_ACT_ERRNO");
            s.withObject("linux").withObject("resources").putArray("devices").addObject().put("allow", false).put("access", "rwm");
        }, "exec sleep 600");
        String cmd = host.gvshim + " --root " + root + " --log " + b.resolve("log.json") + " --log-format json create --bundle "
                + b + " ex <" + b.resolve("in") + " >" + b.resolve("out") + " 2>" + b.resolve("err");
        Host.Result c = Host.run(List.of("/bin/sh", "-c", cmd), null, T, b);
        assertThat(c.code()).as(c + logOf(b)).isZero();
        assertThat(state("ex").path("bundle").asText()).as("runsc reads gvshim's rewrite; state names the caller's bundle")
                .isEqualTo(b.toString());
        assertThat(gv(b, "start", "ex").code()).isZero();
        Host.Result ex = gv(b, "exec", "ex", "/bin/echo", "from exec");
        assertThat(ex.code()).as("runc's status for exec's own failures: " + ex).isEqualTo(255);
        assertThat(ex.out()).doesNotContain("from exec");
        assertThat(lastError()).contains("cannot exec in container ex").endsWith("[SECCOMP_EXEC]");
        assertThat(gv(b, "delete", "--force", "ex").code()).isZero();
    }

    /**
     * The operator's opt-in (lead's decision on issue 14 item 5): with "execWithoutSeccomp" in the
     * configuration file or --exec-without-seccomp, exec runs without the profile (measured inside:
     * Seccomp 0, the denied mkdir succeeds) and each such exec is a warning in --log naming it;
     * without it, refused as before, call by call.
     */
    @Test
    void execWithoutTheProfileRunsOnlyWithTheOperatorsOptInAndEachIsLogged() throws Exception {
        Path b = specBundle("exec-opt", s -> seccomp(s, "SCMP_ACT_ERRNO"), "exec sleep 600");
        String cmd = host.gvshim + " --root " + root + " --log " + b.resolve("log.json") + " --log-format json create --bundle "
                + b + " eo <" + b.resolve("in") + " >" + b.resolve("out") + " 2>" + b.resolve("err");
        Host.Result c = Host.run(List.of("/bin/sh", "-c", cmd), null, T, b);
        assertThat(c.code()).as(c + logOf(b)).isZero();
        assertThat(gv(b, "start", "eo").code()).isZero();

        Host.Result refused = gv(b, "exec", "eo", "/bin/echo", "refused");
        assertThat(refused.code()).as(refused.toString()).isEqualTo(255);
        assertThat(refused.out()).doesNotContain("refused");
        assertThat(lastError()).endsWith("[SECCOMP_EXEC]").contains("--security-opt seccomp=unconfined")
                .contains("release-20260330").contains("\"execWithoutSeccomp\": true in /etc/gvshim/config.json")
                .contains("--exec-without-seccomp");

        Path cfg = tmp.resolve("exec-config.json");
        Files.writeString(cfg, "{\"execWithoutSeccomp\": true}");
        Host.Result viaFile = gv(b, "--config", cfg.toString(), "exec", "eo", "/bin/sh", "-c",
                "grep Seccomp: /proc/self/status; mkdir /tmp/x; echo mkdir=$?");
        assertThat(viaFile.code()).as(viaFile + read(log)).isZero();
        assertThat(viaFile.out()).as("what the opt-in drops, seen from inside").contains("Seccomp:\t0").contains("mkdir=0");
        Host.Result viaOption = gv(b, "--exec-without-seccomp", "exec", "eo", "/bin/echo", "via option");
        assertThat(viaOption.code()).as(viaOption + read(log)).isZero();
        assertThat(viaOption.out()).isEqualTo("via option\n");

        List<String> warnings = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            JsonNode j = JSON.readTree(line);
            if (j.path("level").asText().equals("warning") && j.path("msg").asText().contains("without the container's seccomp")) {
                warnings.add(j.path("msg").asText());
            }
        }
        assertThat(warnings).as("one warning per exec run without the profile").hasSize(2);
        assertThat(warnings.get(0)).startsWith("container eo: exec of `/bin/sh -c grep Seccomp: /proc/self/status; mkdir"
                + " /tmp/x; echo mkdir=$?` runs without the container's seccomp profile (linux.seccomp): runsc " + Host.runscRelease().label()
                + " does not apply").contains("allowed by execWithoutSeccomp");
        assertThat(warnings.get(1)).startsWith("container eo: exec of `/bin/echo via option` runs without");

        Host.Result again = gv(b, "exec", "eo", "/bin/true");
        assertThat(again.code()).as("the opt-in is per call, from the configuration: not remembered").isEqualTo(255);
        assertThat(lastError()).endsWith("[SECCOMP_EXEC]");
        assertThat(gv(b, "delete", "--force", "eo").code()).isZero();
    }

    // ------------------------------------------------------------------ runsc ids (issue 14, item 3)

    private int pid(String id) throws IOException {
        return state(id).path("pid").asInt();
    }

    private void await(java.util.function.BooleanSupplier done) {
        for (int i = 0; i < 100 && !done.getAsBoolean(); i++) {
            sleep(100);
        }
    }

    /**
     * runsc finds a container by id prefix: with relpfx and relpfx2, `runsc delete relpfx` is
     * "ambiguous" (and the container leaked). Each call must reach its own container, whichever
     * was created first, and state, list and events show the containers' own ids.
     */
    @Test
    void idsThatArePrefixesOfOthersReachOnlyTheirOwnContainer() throws Exception {
        Path b = bundle("pfx", "/bin/sh", "-c", "exec sleep 600");
        for (List<String> order : List.of(List.of("relpfx", "relpfx2"), List.of("other2", "other"))) {
            for (String id : order) {
                Host.Result c = create(b, id);
                assertThat(c.code()).as(id + ": " + c + read(b.resolve("err"))).isZero();
                assertThat(gv(b, "start", id).code()).isZero();
            }
            String shorter = order.get(0).length() < order.get(1).length() ? order.get(0) : order.get(1);
            String longer = order.get(0).equals(shorter) ? order.get(1) : order.get(0);
            int longPid = pid(longer);
            assertThat(state(shorter).path("id").asText()).isEqualTo(shorter);
            assertThat(state(longer).path("id").asText()).isEqualTo(longer);
            Host.Result ev = gv(b, "events", "--stats", longer);
            assertThat(ev.code()).as(ev.toString()).isZero();
            assertThat(JSON.readTree(ev.out().lines().findFirst().orElse("{}")).path("id").asText()).isEqualTo(longer);
            List<String> listed = new ArrayList<>();
            JSON.readTree(gv(b, "list", "--format", "json").out()).forEach(n -> listed.add(n.path("id").asText()));
            assertThat(listed).containsExactlyInAnyOrder(shorter, longer);
            assertThat(gv(b, "list").out()).startsWith("ID ").contains("\n" + shorter + " ").contains("\n" + longer + " ");

            Host.Result k = gv(b, "kill", shorter, "KILL");
            assertThat(k.code()).as(k.toString()).isZero();
            assertThat(awaitStatus(shorter, "stopped")).isEqualTo("stopped");
            Host.Result d = gv(b, "delete", "--force", shorter);
            assertThat(d.code()).as(d + "\n" + read(log)).isZero();
            assertThat(gv(b, "state", shorter).code()).isEqualTo(1);
            assertThat(lastError()).isEqualTo("gvshim: container does not exist: " + shorter + " [CONTAINER_NOT_FOUND]");
            assertThat(state(longer).path("status").asText()).as(longer + " after " + shorter + "'s kill and delete")
                    .isEqualTo("running");
            assertThat(alive(longPid)).isTrue();
            assertThat(gv(b, "list", "-q").out()).isEqualTo(longer + "\n");
            assertThat(gv(b, "delete", "--force", longer).code()).isZero();
            assertThat(rootEntries()).isEmpty();
        }
    }

    /** runsc's sandbox ids stop at 92 characters (its control socket's name); gvshim's ids go to 248. */
    @Test
    void aLongIdWorksPastRunscsOwnLimit() throws Exception {
        String id = "long-" + "x".repeat(195);
        Path b = bundle("long", "/bin/sh", "-c", "echo long; exec sleep 600");
        Host.Result c = create(b, id);
        assertThat(c.code()).as(c + read(b.resolve("err")) + read(log)).isZero();
        assertThat(gv(b, "start", id).code()).isZero();
        assertThat(state(id).path("id").asText()).isEqualTo(id);
        assertThat(awaitStatus(id, "running")).isEqualTo("running");
        assertThat(gv(b, "list", "-q").out()).isEqualTo(id + "\n");
        assertThat(gv(b, "delete", "--force", id).code()).isZero();
        assertThat(rootEntries()).isEmpty();
    }

    /**
     * runc's checks of the spec's cgroup: a frozen one is refused in runc's words (runsc alone joins
     * it, freezes with it, and create hangs forever, leaking the state), one with processes gets
     * runc's warning in --log. Root's containers: runsc places their sandbox in linux.cgroupsPath.
     */
    @Test
    void aFrozenCgroupIsRefusedAndOneWithProcessesIsWarnedAbout() throws Exception {
        boolean v2 = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));
        Path hierarchy = v2 ? Path.of("/sys/fs/cgroup") : Path.of("/sys/fs/cgroup/freezer");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(hierarchy), "no freezer hierarchy at " + hierarchy);
        String name = "gvshim-it-frozen-" + ProcessHandle.current().pid();
        Path frozen = hierarchy.resolve(name);
        Path busy = hierarchy.resolve(name + "-busy");
        Process sleeper = null;
        try {
            Files.createDirectories(frozen);
            Files.writeString(frozen.resolve(v2 ? "cgroup.freeze" : "freezer.state"), v2 ? "1" : "FROZEN");
            Path b = bundle("frozen", "/bin/true");
            withCgroup(b, "/" + name);
            Host.Result c = create(b, "frozen");
            assertThat(c.code()).as(c + read(b.resolve("err"))).isEqualTo(1);
            assertThat(lastError()).startsWith("gvshim: container's cgroup unexpectedly frozen (" + frozen + ")").endsWith("[CGROUP_FROZEN]");
            assertThat(rootEntries()).as("nothing created").isEmpty();

            Files.createDirectories(busy);
            sleeper = new ProcessBuilder("sleep", "120").start();
            Files.writeString(busy.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
            Path b2 = bundle("busy", "/bin/true");
            withCgroup(b2, "/" + name + "-busy");
            Host.Result c2 = create(b2, "busy");
            assertThat(c2.code()).as(c2 + read(b2.resolve("err")) + read(log)).isZero();
            assertThat(read(log)).contains("\"level\":\"warning\",\"msg\":\"container's cgroup is not empty: 1 process(es) found ("
                    + busy + ")\"");
            assertThat(gv(b2, "delete", "--force", "busy").code()).isZero();
        } finally {
            if (sleeper != null) {
                sleeper.destroyForcibly().waitFor();
            }
            if (Files.isDirectory(frozen)) {
                Files.writeString(frozen.resolve(v2 ? "cgroup.freeze" : "freezer.state"), v2 ? "0" : "THAWED");
            }
            for (Path d : List.of(frozen, busy)) {
                for (int i = 0; i < 50 && Files.isDirectory(d); i++) {
                    Host.sh("rmdir", d.toString());
                    sleep(100);
                }
            }
        }
    }

    private static void withCgroup(Path bundle, String cgroupsPath) throws IOException {
        ObjectNode spec = (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
        ((ObjectNode) spec.get("linux")).put("cgroupsPath", cgroupsPath);
        Files.writeString(bundle.resolve("config.json"), JSON.writeValueAsString(spec));
    }

    /**
     * A create interrupted after gvshim's record was written and before runsc's: then runsc has
     * no "relw", and `runsc kill relw` killed relw-victim, `runsc delete --force relw` deleted it.
     */
    @Test
    void aCreateInterruptedBeforeRunscsStateNeverReachesAnotherContainer() throws Exception {
        Path victim = bundle("victim", "/bin/sh", "-c", "exec sleep 600");
        assertThat(create(victim, "relw-victim").code()).isZero();
        assertThat(gv(victim, "start", "relw-victim").code()).isZero();
        int victimPid = pid("relw-victim");

        // a runsc whose create never finishes: gvshim is killed meanwhile, as a crash or an OOM kill would
        Path mark = tmp.resolve("create-started");
        Path slow = tmp.resolve("runsc-slow-create");
        Files.writeString(slow, "#!/bin/sh\ncase \" $* \" in *\" create \"*) echo $$ > " + mark + "; exec sleep 120;; esac\n"
                + "exec " + Host.which("runsc") + " \"$@\"\n");
        Files.setPosixFilePermissions(slow, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path b = bundle("relw", "/bin/true");
        Process p = new ProcessBuilder(host.gvshim.toString(), "--root", root.toString(), "--log", log.toString(),
                "--log-format", "json", "--runsc", slow.toString(), "create", "--bundle", b.toString(), "relw")
                .redirectInput(b.resolve("config.json").toFile()).redirectOutput(b.resolve("out").toFile())
                .redirectError(b.resolve("err").toFile()).start();
        await(() -> Files.exists(mark) && !read(mark).isBlank());
        assertThat(mark).as("gvshim reached runsc create").exists();
        p.destroyForcibly(); // the launcher execs java: this is gvshim itself
        p.waitFor();
        ProcessHandle.of(Long.parseLong(read(mark).strip())).ifPresent(ProcessHandle::destroyForcibly);
        // a one-shot gvshim leaves its record without runsc's; a server outlives its killed client and may undo
        // the create first (its record is marked `creating`, see docs/server.md): either way no runsc state of relw
        List<String> entries = rootEntries();
        if (Host.serverMode() != null && Host.serverMode().equals("off")) {
            assertThat(entries).as("gvshim's record without runsc's").contains("relw.gvshim");
        }
        assertThat(entries).noneMatch(e -> e.contains("relw_") || e.startsWith("4-relw"));

        Host.Result k = gv(b, "kill", "relw", "KILL");
        assertThat(k.code()).as(k.toString()).isEqualTo(1);
        assertThat(lastError()).isEqualTo("gvshim: container does not exist: relw [CONTAINER_NOT_FOUND]");
        assertThat(gv(b, "state", "relw").code()).isEqualTo(1);
        assertThat(lastError()).isEqualTo("gvshim: container does not exist: relw [CONTAINER_NOT_FOUND]");
        Host.Result d = gv(b, "delete", "--force", "relw");
        assertThat(d.code()).as(d.toString()).isZero();
        assertThat(rootEntries()).doesNotContain("relw.gvshim");
        sleep(300);
        assertThat(state("relw-victim").path("status").asText()).as("the other container").isEqualTo("running");
        assertThat(alive(victimPid)).isTrue();
        assertThat(gv(victim, "delete", "--force", "relw-victim").code()).isZero();
        assertThat(rootEntries()).isEmpty();
    }

    /**
     * Containers gvshim did not name (runsc's own in a shared --root, or one an earlier gvshim
     * created under the caller's id, whose record has no runsc id): addressed by their id when
     * that reaches them alone, refused with a line when runsc would also match another.
     */
    @Test
    void containersGvshimDidNotNameAreAddressedOnlyWhenUnambiguous() throws Exception {
        Path b = bundle("foreign", "/bin/sh", "-c", "exec sleep 600");
        for (String id : List.of("relf", "relf2")) {
            Host.Result r = Host.run(List.of("/bin/sh", "-c", Host.which("runsc") + " --root=" + root + " create --bundle="
                    + b + " " + id + " <" + b.resolve("config.json") + " >" + b.resolve("out") + " 2>&1"), null, T, b);
            assertThat(r.code()).as(id + ": " + r + read(b.resolve("out"))).isZero();
        }
        // what the gvshim before runsc ids recorded for a container: no runscId
        Files.createDirectories(root.resolve("relf.gvshim/logs"));
        Files.writeString(root.resolve("relf.gvshim/gvshim.state"), "id=relf\nbundle=" + b + "\nrootless=false\nrunsc="
                + Host.which("runsc") + "\nflags=0\n");
        Host.Result amb = gv(b, "delete", "--force", "relf");
        assertThat(amb.code()).as(amb.toString()).isEqualTo(1);
        assertThat(lastError()).startsWith("gvshim: cannot address container relf: runsc finds containers by id prefix")
                .contains("relf2").contains("[RUNSC_ID_AMBIGUOUS]");
        assertThat(amb.err().lines()).hasSize(1);
        assertThat(rootEntries()).as("nothing was deleted").contains("relf_sandbox:relf.state", "relf2_sandbox:relf2.state");
        assertThat(gv(b, "state", "relf").code()).as("nor is anything else sent to runsc for it").isEqualTo(1);
        assertThat(lastError()).contains("[RUNSC_ID_AMBIGUOUS]");
        assertThat(state("relf2").path("id").asText()).isEqualTo("relf2");
        assertThat(gv(b, "delete", "--force", "relf2").code()).isZero();
        assertThat(state("relf").path("id").asText()).isEqualTo("relf");
        assertThat(gv(b, "delete", "--force", "relf").code()).isZero();
        assertThat(rootEntries()).isEmpty();
        // and a new container whose runsc id one of them would be a prefix of is refused before anything runs
        Host.Result r = Host.run(List.of("/bin/sh", "-c", Host.which("runsc") + " --root=" + root + " create --bundle="
                + b + " 4-ab <" + b.resolve("config.json") + " >" + b.resolve("out") + " 2>&1"), null, T, b);
        assertThat(r.code()).isZero();
        Host.Result clash = create(b, "abcd");
        assertThat(clash.code()).isEqualTo(1);
        assertThat(lastError()).contains("4-ab").contains("[RUNSC_ID_CLASH]");
        assertThat(gv(b, "delete", "--force", "4-ab").code()).isZero();
        assertThat(rootEntries()).isEmpty();
    }

    @Test
    void rootlessIdsThatArePrefixesOfOthersReachOnlyTheirOwnContainer() throws Exception {
        Path b = userBundle("rl-pfx", "exec sleep 600");
        String g = "$G --root " + b.resolve("root") + " --log " + b.resolve("log.json") + " --log-format json ";
        try {
            // stdio to a file per container: runsc hands a file it is given to the sandbox's user (issue 14, item 1)
            Host.Result r = host.userShell("cd " + b + " && for id in pfx pfx2; do " + g + "create --bundle . $id </dev/null"
                    + " >out-$id 2>err-$id && " + g + "start $id || exit 1; done && " + g + "kill pfx KILL && " + g
                    + "delete --force pfx && " + g + "state pfx2", T);
            assertThat(r.code()).as(r + "\nlog: " + read(b.resolve("log.json"))).isZero();
            assertThat(JSON.readTree(r.out()).path("status").asText()).isEqualTo("running");
            assertThat(JSON.readTree(r.out()).path("id").asText()).isEqualTo("pfx2");
            Host.Result s = host.userShell(g + "state pfx", T);
            assertThat(s.err()).contains("container does not exist: pfx");
            assertThat(host.userShell(g + "delete --force pfx2", T).code()).isZero();
        } finally {
            host.userShell(g + "delete --force pfx; " + g + "delete --force pfx2", T);
        }
        await(() -> live(host.processes()).isEmpty());
        assertThat(live(host.processes())).as("processes of the test user").isEmpty();
    }

    // ------------------------------------------------------------------ paused containers (issue 14, item 7)

    /**
     * What Docker sends for `rm -f`, `kill` and `stop` of a paused container: `kill 9` (or 15,
     * then `resume`), `resume` of what may be dead by then, `delete`. runsc 2022-12 refuses to
     * signal a paused container, keeps "paused" for a dead one, and panics on `delete --force`.
     */
    @Test
    void aPausedContainerIsKilledResumedAndDeletedAsRuncWould() throws Exception {
        java.util.Map<String, Path> bundles = new java.util.HashMap<>();
        for (String id : List.of("p-kill", "p-term", "p-del")) {
            Path b = bundle(id, "/bin/sh", "-c", "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 1; done");
            bundles.put(id, b);
            assertThat(create(b, id).code()).isZero();
            assertThat(gv(b, "start", id).code()).isZero();
            assertThat(gv(b, "pause", id).code()).isZero();
            assertThat(awaitStatus(id, "paused")).isEqualTo("paused");
        }
        // SIGKILL: at once, as the kernel kills a frozen cgroup's tasks
        Path b = bundles.get("p-kill");
        int pid = pid("p-kill");
        long t0 = System.nanoTime();
        Host.Result k = gv(b, "kill", "p-kill", "KILL");
        assertThat(k.code()).as(k + read(log)).isZero();
        await(() -> !alive(pid) || zombie(pid));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("kill of a paused container").isLessThan(Duration.ofSeconds(5));
        assertThat(state("p-kill").path("status").asText()).as("a dead sandbox is stopped, not paused").isEqualTo("stopped");
        Host.Result again = gv(b, "kill", "p-kill", "KILL");
        assertThat(again.code()).isEqualTo(1);
        assertThat(lastError()).isEqualTo("gvshim: container not running: p-kill [CONTAINER_NOT_RUNNING]");
        Host.Result res = gv(b, "resume", "p-kill"); // containerd resumes a paused container that has exited
        assertThat(res.code()).isEqualTo(1);
        assertThat(lastError()).isEqualTo("gvshim: container not paused: p-kill [CONTAINER_STATE]");
        Host.Result del = gv(b, "delete", "p-kill");
        assertThat(del.code()).as(del + read(log)).isZero();
        assertThat(del.err()).isEmpty();

        // another signal waits for resume, as for a frozen task
        b = bundles.get("p-term");
        Host.Result t = gv(b, "kill", "p-term", "TERM");
        assertThat(t.code()).as(t + read(log)).isZero();
        sleep(500);
        assertThat(state("p-term").path("status").asText()).isEqualTo("paused");
        assertThat(read(b.resolve("out"))).doesNotContain("got-term");
        assertThat(gv(b, "resume", "p-term").code()).isZero();
        assertThat(awaitStatus("p-term", "stopped")).as("TERM delivered at resume").isEqualTo("stopped");
        assertThat(read(b.resolve("out"))).isEqualTo("ready\ngot-term\n");
        assertThat(gv(b, "delete", "p-term").code()).isZero();

        // delete: refused while paused, as runc does, and done by --force
        Host.Result no = gv(b, "delete", "p-del");
        assertThat(no.code()).isEqualTo(1);
        assertThat(lastError()).isEqualTo("gvshim: cannot delete container p-del that is not stopped: paused [CONTAINER_STATE]");
        Host.Result force = gv(b, "delete", "--force", "p-del");
        assertThat(force.code()).as(force + read(log)).isZero();
        assertThat(force.err()).as("runsc's panic is not the caller's").isEmpty();
        assertThat(rootEntries()).isEmpty();
    }

    @Test
    void rootlessPausedContainerIsKilledAndDeleted() throws Exception {
        Path b = userBundle("rl-paused", "exec sleep 600");
        String g = "$G --root " + b.resolve("root") + " --log " + b.resolve("log.json") + " --log-format json ";
        try {
            Host.Result r = host.userShell("cd " + b + " && " + g + "create --bundle . --pid-file init.pid rp </dev/null >out"
                    + " 2>err && " + g + "start rp && " + g + "pause rp && " + g + "kill rp KILL", T);
            assertThat(r.code()).as(r + "\nlog: " + read(b.resolve("log.json")) + "\nerr: " + read(b.resolve("err"))).isZero();
            int pid = Integer.parseInt(read(b.resolve("init.pid")).strip());
            await(() -> !alive(pid) || zombie(pid));
            Host.Result s = host.userShell(g + "state rp", T);
            assertThat(JSON.readTree(s.out()).path("status").asText()).as(s.toString()).isEqualTo("stopped");
            Host.Result d = host.userShell(g + "resume rp; " + g + "delete rp && " + g + "state rp", T);
            assertThat(d.err()).contains("container not paused: rp").contains("container does not exist: rp");
        } finally {
            host.userShell(g + "delete --force rp", T);
        }
        await(() -> live(host.processes()).isEmpty());
        assertThat(live(host.processes())).as("processes of the test user").isEmpty();
    }

    private static boolean zombie(int pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/stat")).replaceAll("^.*\\) ", "").charAt(0) == 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    // ------------------------------------------------------------------ smaller ones (issue 14, item 8)

    /** Root's containers in root's --root do not exist for another user; deleting one must not "succeed". */
    @Test
    void aNonRootDeleteOfRootsContainerFailsAsRuncSays() throws Exception {
        Path b = bundle("rootowned", "/bin/sh", "-c", "exec sleep 600");
        assertThat(create(b, "rootc").code()).isZero();
        Host.sh("chmod", "755", tmp.toString()); // the user can reach root's --root (gvshim makes it 0711)
        String g = "$G --root " + root + " ";
        Host.Result d = host.userShell(g + "delete --force rootc", T);
        assertThat(d.code()).as(d.toString()).isEqualTo(1);
        assertThat(d.err().lines()).hasSize(1).first().asString().startsWith("gvshim: container does not exist: rootc (")
                .contains("uid 0");
        Host.Result s = host.userShell(g + "state rootc", T);
        assertThat(s.code()).isEqualTo(1);
        assertThat(s.err()).contains("container does not exist: rootc");
        assertThat(host.userShell(g + "delete --force nosuch", T).code()).as("deleting nothing by force, as runc").isZero();
        assertThat(state("rootc").path("status").asText()).as("root's container untouched").isEqualTo("created");
        assertThat(gv(b, "delete", "--force", "rootc").code()).isZero();
    }

    /** exec's message is about this exec: the debug logs keep every earlier call's errors. */
    @Test
    void execFailureNamesOnlyItsOwnError() throws Exception {
        Path b = bundle("execmsg", "/bin/sh", "-c", "exec sleep 600");
        assertThat(create(b, "em").code()).isZero();
        assertThat(gv(b, "start", "em").code()).isZero();
        assertThat(gv(b, "pause", "em").code()).isZero();
        Host.Result p = gv(b, "exec", "em", "/bin/true");
        assertThat(p.code()).as("runc's status for exec's own failures").isEqualTo(255);
        assertThat(lastError()).contains("paused");
        assertThat(gv(b, "resume", "em").code()).isZero();
        assertThat(gv(b, "kill", "em", "KILL").code()).isZero();
        assertThat(awaitStatus("em", "stopped")).isEqualTo("stopped");
        Host.Result s = gv(b, "exec", "em", "/bin/true");
        assertThat(s.code()).isEqualTo(255);
        assertThat(lastError()).contains("stopped").doesNotContain("paused").doesNotContain("3-em");
        List<String> own = s.err().lines().filter(l -> l.startsWith("gvshim")).toList();
        assertThat(own).hasSize(1);
        assertThat(own.getFirst()).doesNotContain("paused");
        assertThat(gv(b, "delete", "em").code()).isZero();
    }

    @Test
    void anEmptyGvshimTraceIsOff() {
        for (String v : List.of("GVSHIM_TRACE=", "GVSHIM_TRACE=0")) {
            Host.Result r = Host.run(List.of("env", v, host.gvshim.toString(), "--root", root.toString(), "state", "nosuch"),
                    null, T, tmp);
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.err()).as(v).isEqualTo("gvshim: container does not exist: nosuch [CONTAINER_NOT_FOUND]\n");
        }
        Host.Result on = Host.run(List.of("env", "GVSHIM_TRACE=1", host.gvshim.toString(), "--root", root.toString(), "state",
                "nosuch"), null, T, tmp);
        assertThat(on.err()).contains("gvshim: trace ");
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
        Path b = userBundle("rl-stdio", "echo out-line; echo err-line >&2; exec sleep 600");
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
        assertThat(lastError()).startsWith("gvshim: cannot allocate tty if runc will detach without setting console socket");
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
}
