package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * create, start, state, ps, list and delete against the real runsc, as dockerd calls them (root) and
 * as a non-root caller, where runsc's own --rootless refuses `create`: the whole life of a container,
 * a failed start, unknown containers, bad input, a killed user-namespace holder, an unreachable rootfs,
 * another user's containers.
 */
class LifecycleIT extends RuncFixture {
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
}
