package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Paused containers (issue 14, item 7), as root and rootless: what Docker sends for `rm -f`, `kill`
 * and `stop` of one (kill, resume, delete).
 */
class PauseIT extends RuncFixture {
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
        String g = userGv(b);
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
}
