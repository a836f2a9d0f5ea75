package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * `events` against the real runsc: the OOM kill of a root runtime's container that allocates past
 * linux.resources.memory.limit, reported as runc reports it, with stats and the stream's end; and a
 * rootless container's stats, whose stream ends with its delete (it has no cgroup of its own).
 */
class EventsIT extends RuncFixture {
    private String status(String id) throws IOException {
        Host.Result r = gv("state", id);
        return r.code() != 0 ? "" : JSON.readTree(r.out()).path("status").asText();
    }

    /**
     * A container that allocates past its memory limit: the host's OOM killer ends the sandbox (gVisor
     * has none of its own), the container stops, and `events` says {"type":"oom","id":ID} as runc's,
     * its stats carry the cgroup's limit, and it ends once the container is deleted.
     */
    @Test
    void anOomKillIsAnEventAndTheStreamEndsWithTheContainer() throws Exception {
        long limit = 200L << 20;
        Path b = cgroupBundle("oom", "sleep 2; head -c 600m /dev/zero > /dev/shm/big; echo survived; sleep 600", null, limit);
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
        Path b = userBundle("cg-rl", "exec sleep 600");
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
}
