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
 * A root runtime's container's cgroup against the real runsc, as runc handles it: `delete` removes
 * it in every hierarchy with the sub-cgroups made in it on the host, and `events` reports the OOM
 * kill of a container that allocates past linux.resources.memory.limit. Root only: a rootless
 * container has no cgroup of its own (its spec's resources are refused, SPEC_RESOURCES).
 */
class CgroupsIT {
    private static final Duration T = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final boolean V2 = Host.CGROUP_V2;
    private Host host;
    @TempDir
    Path tmp;
    private Path root;
    private Path log;
    private final List<String> names = new ArrayList<>();

    @BeforeEach
    void setUp() {
        host = Host.get();
        root = tmp.resolve("state");
        log = tmp.resolve("log.json");
    }

    @AfterEach
    void nothingLeft() throws IOException {
        for (int i = 0; i < 50 && !sandboxes().isEmpty(); i++) {
            sleep(100);
        }
        assertThat(sandboxes()).as("runsc processes of " + root).isEmpty();
        dev.gvshim.Messages.checkFile(log);
        for (String n : names) { // whatever a failed test left
            for (Path d : cgroups(n)) {
                Host.sh("sh", "-c", "find " + d + " -depth -type d -exec rmdir {} + 2>/dev/null");
            }
        }
    }

    private List<String> sandboxes() {
        return Host.sh("pgrep", "-af", "--", "--root=" + root).out().lines().filter(l -> l.contains("runsc")).toList();
    }

    /** The directories named {@code name} directly below each hierarchy's root (v1: /sys/fs/cgroup/H/name). */
    private static List<Path> cgroups(String name) throws IOException {
        if (V2) {
            Path d = Path.of("/sys/fs/cgroup", name);
            return Files.isDirectory(d) ? List.of(d) : List.of();
        }
        try (Stream<Path> s = Files.list(Path.of("/sys/fs/cgroup"))) {
            return s.filter(h -> !Files.isSymbolicLink(h)).map(h -> h.resolve(name)).filter(Files::isDirectory).sorted().toList();
        }
    }

    private static Path memoryHierarchy() {
        return V2 ? Path.of("/sys/fs/cgroup") : Path.of("/sys/fs/cgroup/memory");
    }

    private Path bundle(String name, String script, String cgroupsPath, Long memoryLimit) throws IOException {
        Path b = tmp.resolve(name);
        Files.createDirectories(b);
        Host.sh("cp", "-a", host.work.resolve("hello/rootfs").toString(), b.resolve("rootfs").toString());
        ObjectNode spec = (ObjectNode) JSON.readTree(host.work.resolve("hello/config.json").toFile());
        ArrayNode a = ((ObjectNode) spec.get("process")).putArray("args");
        a.add("/bin/sh").add("-c").add(script);
        ObjectNode linux = (ObjectNode) spec.get("linux");
        if (cgroupsPath != null) {
            linux.put("cgroupsPath", cgroupsPath);
        }
        if (memoryLimit != null) {
            linux.putObject("resources").putObject("memory").put("limit", memoryLimit);
        }
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        return b;
    }

    private Host.Result gv(String... args) {
        List<String> cmd = new ArrayList<>(List.of(host.gvshim.toString(), "--root", root.toString(), "--log", log.toString(),
                "--log-format", "json"));
        cmd.addAll(List.of(args));
        return Host.run(cmd, null, T, tmp);
    }

    /** create's stdio stays open in the sandbox: to files, as dockerd sends it to fifos. */
    private void createAndStart(Path bundle, String id) throws IOException {
        Host.Result c = Host.run(List.of("/bin/sh", "-c", host.gvshim + " --root " + root + " --log " + log + " --log-format json"
                + " create --bundle " + bundle + " '" + id + "' </dev/null >" + bundle.resolve("out") + " 2>" + bundle.resolve("err")),
                null, T, bundle);
        assertThat(c.code()).as(c + Files.readString(bundle.resolve("err"))).isZero();
        Host.Result s = gv("start", id);
        assertThat(s.code()).as(s.toString()).isZero();
    }

    private String status(String id) throws IOException {
        Host.Result r = gv("state", id);
        return r.code() != 0 ? "" : JSON.readTree(r.out()).path("status").asText();
    }

    /** The id runsc knows the container by: its state file's name, RUNSC_ID_sandbox:RUNSC_ID.state. */
    private String runscId() throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".state")).map(f -> f.substring(0, f.indexOf('_')))
                    .findFirst().orElseThrow();
        }
    }

    /**
     * runc's delete removes the container's cgroup with its sub-cgroups (RemovePath), also one that
     * existed before create; runsc removed only the directories it made, and none that a host made a
     * sub-cgroup in. A sub-cgroup with a process of its own stays, said in --log, and the delete
     * still succeeds (runc logs the error of its destroy).
     */
    @Test
    void deleteRemovesTheContainersCgroupsWithTheirSubCgroups() throws Exception {
        String name = "gvshim-it-cg-" + ProcessHandle.current().pid();
        names.add(name);
        names.add(name + "-held");
        Files.createDirectories(memoryHierarchy().resolve(name)); // pre-existing: runsc does not own it, runc removes it
        Path b = bundle("cg", "exec sleep 600", "/" + name, null);
        createAndStart(b, "cg");
        assertThat(cgroups(name)).as("runsc's cgroups").isNotEmpty().contains(memoryHierarchy().resolve(name));
        List<Path> subs = new ArrayList<>();
        for (Path d : cgroups(name)) {
            subs.add(Files.createDirectories(d.resolve("sub/deeper")));
            subs.add(Files.createDirectories(d.resolve("other")));
        }
        Host.Result d = gv("delete", "--force", "cg");
        assertThat(d.code()).as(d.toString()).isZero();
        assertThat(d.err()).isEmpty();
        assertThat(cgroups(name)).as("every hierarchy's cgroup, sub-cgroups first").isEmpty();

        // no cgroupsPath: runsc's /RUNSC_ID, with a sub-cgroup
        Path b2 = bundle("dflt", "exec sleep 600", null, null);
        createAndStart(b2, "dflt");
        String runscId = runscId();
        assertThat(cgroups(runscId)).isNotEmpty();
        Files.createDirectories(memoryHierarchy().resolve(runscId).resolve("sub"));
        assertThat(gv("delete", "--force", "dflt").code()).isZero();
        assertThat(cgroups(runscId)).isEmpty();

        // a sub-cgroup that still has a process: it stays (so does its parent), the delete succeeds with runc's logged error
        Path b3 = bundle("held", "exec sleep 600", "/" + name + "-held", null);
        createAndStart(b3, "held");
        Path held = Files.createDirectories(memoryHierarchy().resolve(name + "-held/busy"));
        Process sleeper = new ProcessBuilder("sleep", "120").start();
        try {
            Files.writeString(held.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
            Host.Result h = gv("delete", "--force", "held");
            assertThat(h.code()).as(h.toString()).isZero();
            assertThat(gv("state", "held").code()).as("deleted").isEqualTo(1);
            assertThat(Files.isDirectory(held)).isTrue();
            assertThat(Files.readString(log)).contains("\"level\":\"warning\",\"msg\":\"container held: its cgroup stays: " + held
                    + ": EBUSY (Device or resource busy): processes are still in it or in a sub-cgroup\"");
            assertThat(cgroups(name + "-held")).as("the other hierarchies' cgroups are removed").containsExactly(held.getParent());
        } finally {
            sleeper.destroyForcibly().waitFor();
        }
    }

    /**
     * A container that allocates past its memory limit: the host's OOM killer ends the sandbox (gVisor
     * has none of its own), the container stops, and `events` says {"type":"oom","id":ID} as runc's,
     * its stats carry the cgroup's limit, and it ends once the container is deleted.
     */
    @Test
    void anOomKillIsAnEventAndTheStreamEndsWithTheContainer() throws Exception {
        long limit = 200L << 20;
        Path b = bundle("oom", "sleep 2; head -c 600m /dev/zero > /dev/shm/big; echo survived; sleep 600", null, limit);
        createAndStart(b, "oom");
        Host.Result once = gv("events", "--stats", "oom");
        assertThat(once.code()).as(once.toString()).isZero();
        JsonNode stats = JSON.readTree(once.out());
        assertThat(stats.path("type").asText()).isEqualTo("stats");
        assertThat(stats.path("id").asText()).isEqualTo("oom");
        assertThat(stats.at("/data/memory/usage/limit").asLong()).as(once.out()).isEqualTo(limit);
        assertThat(stats.at("/data/memory/raw").isObject()).as(once.out()).isTrue();

        Path out = tmp.resolve("events.out");
        Process events = new ProcessBuilder(host.gvshim.toString(), "--root", root.toString(), "--log", log.toString(),
                "--log-format", "json", "events", "--interval", "1s", "oom").redirectOutput(out.toFile())
                .redirectError(tmp.resolve("events.err").toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        try {
            for (int i = 0; i < 600 && !status("oom").equals("stopped"); i++) {
                sleep(100);
            }
            assertThat(status("oom")).as("the sandbox was OOM-killed").isEqualTo("stopped");
            for (int i = 0; i < 50 && !Files.readString(out).contains("\"type\":\"oom\""); i++) {
                sleep(100);
            }
            List<String> lines = Files.readAllLines(out);
            assertThat(lines).as("events' stdout").contains("{\"type\":\"oom\",\"id\":\"oom\"}");
            assertThat(lines).anyMatch(l -> l.startsWith("{\"type\":\"stats\",\"id\":\"oom\","));
            assertThat(Files.readString(b.resolve("out"))).doesNotContain("survived");
            assertThat(events.isAlive()).as("runc's events runs until the container's cgroup is gone").isTrue();
            Host.Result d = gv("delete", "oom");
            assertThat(d.code()).as(d.toString()).isZero();
            assertThat(events.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("events ended with the container").isTrue();
            assertThat(events.exitValue()).as("events' stderr: " + Files.readString(tmp.resolve("events.err"))).isZero();
            assertThat(Files.readString(tmp.resolve("events.err"))).isEmpty();
        } finally {
            events.destroyForcibly().waitFor();
            gv("delete", "--force", "oom");
        }
    }

    /**
     * A caller without root: its container has no cgroup of its own (its sandbox runs in the caller's,
     * runsc --ignore-cgroups), so `events` streams stats with no oom watch, and ends with the container's
     * delete (runc's ends with the cgroup); `delete` removes no cgroup.
     */
    @Test
    void aRootlessContainersEventsEndWithItsDelete() throws Exception {
        Path b = host.work.resolve("cg-rl-" + System.nanoTime());
        Host.sh("cp", "-a", host.work.resolve("hello").toString(), b.toString());
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).putArray("args").add("/bin/sh").add("-c").add("exec sleep 600");
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString());
        String g = "$G --log " + b.resolve("log.json") + " --log-format json ";
        try {
            // waits up to 15 s for events to exit (a zombie until the shell's wait reaps it), then says its status
            Host.Result r = host.userShell("cd " + b + " && " + g + "create --bundle . cgrl </dev/null >out 2>err && " + g
                    + "start cgrl && { " + g + "events --interval 500ms cgrl >events.out 2>events.err </dev/null & EV=$!; }"
                    + " && sleep 3 && " + g + "delete --force cgrl && i=0 && while [ $i -lt 75 ] && [ -e /proc/$EV ] && ! grep -q"
                    + " '^State:[[:space:]]*Z' /proc/$EV/status; do sleep 0.2; i=$((i+1)); done; if [ $i -lt 75 ]; then wait $EV;"
                    + " echo \"events: $?\"; else kill $EV; echo 'events still running'; fi", T);
            assertThat(r.code()).as(r + read(b.resolve("err")) + read(b.resolve("log.json"))).isZero();
            assertThat(r.out()).as("events ended with the delete, exit 0").contains("events: 0");
            List<String> lines = Files.readAllLines(b.resolve("events.out"));
            assertThat(lines).as("stats every 500 ms for ~3 s").hasSizeGreaterThanOrEqualTo(2)
                    .allMatch(l -> l.startsWith("{\"type\":\"stats\",\"id\":\"cgrl\","));
            assertThat(read(b.resolve("events.err"))).isEmpty();
            dev.gvshim.Messages.checkFile(b.resolve("log.json"));
        } finally {
            host.userShell(g + "delete --force cgrl", T);
        }
        // a zombie under this machine's pid 1 (a holder init reaps late) runs nothing
        for (int i = 0; i < 50 && host.processes().stream().anyMatch(l -> !l.endsWith("<defunct>")); i++) {
            sleep(100);
        }
        assertThat(host.processes()).as("the test user's processes").allMatch(l -> l.endsWith("<defunct>"));
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "<" + e.getMessage() + ">";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
