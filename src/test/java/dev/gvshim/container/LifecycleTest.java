package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.Messages;
import dev.gvshim.call.TestCalls;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.Specs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runc verbs' lifecycle against a fake runsc ({@link FakeRunsc}: no runsc, no sandbox):
 * the status transitions, runc's refusals before runsc is asked (a running container is never
 * destroyed by a second `start`, runsc never panics on `pause` of a created one), the cleanup
 * after a failed start, signals held while paused.
 */
class LifecycleTest {
    @TempDir
    Path tmp;
    Path root;
    Path proc;
    Path bundle;
    FakeRunsc runsc;
    /** What starts programs: {@link #runsc}, or a test's wrapper of it. */
    dev.gvshim.call.Processes processes;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @BeforeEach
    void setUp() throws Exception {
        // the caller is root (a rootless container needs a real holder: LifecycleIT); CI runs as root
        assumeTrue(((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0,
                "the runtime as root: a caller without root gets a user namespace holder, a real clone (LifecycleIT covers it)");
        root = tmp.resolve("root");
        proc = Files.createDirectories(tmp.resolve("proc"));
        bundle = Files.createDirectories(tmp.resolve("bundle"));
        Files.createDirectories(bundle.resolve("rootfs"));
        Spec spec = Specs.example(List.of("sh"), "c");
        spec.process().terminal(false);
        Files.write(bundle.resolve("config.json"), spec.toJson());
        Files.writeString(tmp.resolve("config.json"), "{}");
        runsc = new FakeRunsc(proc);
    }

    /** One runc verb, as one call: its exit status, or its failure's one line (as the sink prints it). */
    Object verb(Op op) {
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        RuntimeOptions opts = new RuntimeOptions(root.toString(), null, "json", false, false, "auto",
                tmp.resolve("config.json").toString(), "/bin/true", "none", null, List.of(), List.of(), null);
        try (RuntimeCall rc = new RuntimeCall(TestCalls.of(tmp, Map.of("PATH", "/usr/bin:/bin"), o, o,
                processes != null ? processes : runsc), opts, proc)) {
            return op.run(rc);
        } catch (GvshimException e) {
            Messages.check("a runc verb's failure", e.failure().oneLine());
            return e.failure().oneLine();
        }
    }

    interface Op {
        int run(RuntimeCall rc) throws GvshimException;
    }

    Object create() {
        return verb(rc -> Create.create(rc, new Create.Args("c1", bundle.toString(), null, null, false, false, null, null)));
    }

    Object start() {
        return verb(rc -> Start.run(rc, "c1"));
    }

    boolean recorded() {
        return Files.exists(root.resolve("c1.gvshim"));
    }

    @Test
    void createStartSignalDelete() throws Exception {
        assertThat(create()).isEqualTo(0);
        assertThat(runsc.containers.get("2-c1").status).isEqualTo("created");
        assertThat(recorded()).isTrue();
        assertThat(verb(rc -> State.run(rc, "c1"))).isEqualTo(0);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("\"id\": \"c1\"").contains("\"status\": \"created\"");
        assertThat(start()).isEqualTo(0);
        assertThat(verb(rc -> Kill.run(rc, "c1", "TERM", false))).isEqualTo(0);
        assertThat(runsc.containers.get("2-c1").status).isEqualTo("stopped");
        assertThat(verb(rc -> Delete.run(rc, "c1", false))).isEqualTo(0);
        assertThat(runsc.verbs()).containsExactly("create", "state", "start", "kill", "delete");
        assertThat(runsc.calls.get(3)).containsExactly("kill", "2-c1", "15");
        assertThat(runsc.containers).isEmpty();
        assertThat(recorded()).as("gvshim's record is gone too").isFalse();
        assertThat(verb(rc -> State.run(rc, "c1"))).isEqualTo("gvshim: container does not exist: c1 [CONTAINER_NOT_FOUND]");
    }

    @Test
    void aContainerRunscCallsStoppedIsDeletedWhenRunscStillRefusesAPlainDelete() {
        create();
        start();
        // the init has exited: runsc's state file still says running (only `runsc state` asks the
        // sandbox), and runsc 2024 refuses a plain delete while the sandbox winds down
        runsc.containers.get("2-c1").status = "stopped";
        runsc.refusedDeletes = 1;
        assertThat(verb(rc -> Delete.run(rc, "c1", false))).isEqualTo(0);
        assertThat(runsc.calls.subList(2, runsc.calls.size())).containsExactly(List.of("delete", "2-c1"),
                List.of("state", "2-c1"), List.of("delete", "--force", "2-c1"));
        assertThat(runsc.containers).isEmpty();
        assertThat(recorded()).isFalse();
    }

    @Test
    void aRunningContainerIsNotDeletedWithoutForce() {
        create();
        start();
        assertThat(verb(rc -> Delete.run(rc, "c1", false))).asString().contains("not stopped").contains("[CONTAINER_STATE]");
        assertThat(runsc.containers).containsKey("2-c1");
        assertThat(recorded()).isTrue();
    }

    /** Marks c1 as being created by this JVM with another start time: a process that is gone (its pid reused). */
    private void abandon() throws Exception {
        long self = ProcessHandle.current().pid();
        Files.writeString(root.resolve("c1.gvshim").resolve(Containers.CREATING), self + " "
                + (dev.gvshim.linux.ProcStat.startTime(self) + 1) + "\n");
    }

    @Test
    void aCreateIsMarkedWhileItRunsAndNotAfter() {
        List<Boolean> marked = new java.util.ArrayList<>();
        processes = launch -> {
            if (launch.argv().contains("create")) {
                marked.add(Files.exists(root.resolve("c1.gvshim").resolve(Containers.CREATING)));
            }
            return runsc.run(launch);
        };
        assertThat(create()).isEqualTo(0);
        assertThat(marked).as("the mark while runsc create runs").containsExactly(true);
        assertThat(root.resolve("c1.gvshim").resolve(Containers.CREATING)).as("after the create").doesNotExist();
        assertThat(new Containers(root).abandoned("c1")).isFalse();
    }

    @Test
    void aCreateWhoseProcessesAreAllGoneIsRemovedByTheNextVerb() throws Exception {
        assertThat(create()).isEqualTo(0);
        abandon();
        assertThat(verb(rc -> State.run(rc, "c1"))).isEqualTo("gvshim: container does not exist: c1 [CONTAINER_NOT_FOUND]");
        assertThat(runsc.calls.getLast()).containsExactly("delete", "--force", "2-c1");
        assertThat(runsc.containers).as("runsc's container").isEmpty();
        assertThat(recorded()).as("gvshim's record").isFalse();
    }

    @Test
    void listAndCreateRemoveAnAbandonedCreateAndDeleteSucceeds() throws Exception {
        assertThat(create()).isEqualTo(0);
        abandon();
        out.reset();
        assertThat(verb(rc -> ListOp.run(rc, "json", false))).isEqualTo(0);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("null\n");
        assertThat(runsc.containers).isEmpty();
        assertThat(recorded()).isFalse();

        assertThat(create()).as("the id is free again").isEqualTo(0);
        abandon();
        assertThat(create()).as("a create of the abandoned id").isEqualTo(0);
        assertThat(runsc.verbs()).containsSubsequence("create", "delete", "create");
        abandon();
        assertThat(verb(rc -> Delete.run(rc, "c1", false))).isEqualTo(0);
        assertThat(runsc.containers).isEmpty();
        assertThat(recorded()).isFalse();
    }

    @Test
    void aCreateWhoseCreatorLivesIsLeftAlone() throws Exception {
        assertThat(create()).isEqualTo(0);
        long self = ProcessHandle.current().pid();
        Files.writeString(root.resolve("c1.gvshim").resolve(Containers.CREATING), "999999999 1\n" + self + " "
                + dev.gvshim.linux.ProcStat.startTime(self) + "\n");
        assertThat(new Containers(root).abandoned("c1")).isFalse();
        assertThat(verb(rc -> State.run(rc, "c1"))).isEqualTo(0);
        assertThat(runsc.verbs()).containsExactly("create", "state");
        assertThat(recorded()).isTrue();
    }

    @Test
    void aSecondStartIsRefusedAndTheRunningContainerKept() {
        create();
        start();
        assertThat(start()).isEqualTo("gvshim: cannot start an already running container [CONTAINER_STATE]");
        assertThat(runsc.verbs()).as("runsc is asked whether it still runs, not told to start it").containsExactly("create",
                "start", "state");
        assertThat(runsc.containers.get("2-c1").status).isEqualTo("running");
        assertThat(recorded()).isTrue();
    }

    @Test
    void aStartThatFailsIsCleanedUp() {
        create();
        runsc.failing.put("start", "starting container: starting root container: EOF");
        assertThat((String) start()).startsWith("gvshim: cannot start container c1");
        assertThat(runsc.verbs()).containsExactly("create", "start", "delete");
        assertThat(runsc.calls.getLast()).containsExactly("delete", "--force", "2-c1");
        assertThat(recorded()).as("containerd never deletes what did not start").isFalse();
    }

    @Test
    void aCreatedContainerWhoseSandboxDiedIsStoppedAndItsStartCleansUp() throws Exception {
        create();
        runsc.sandboxDies("2-c1");
        assertThat(start()).isEqualTo("gvshim: cannot start a container that has stopped [CONTAINER_STATE]");
        assertThat(runsc.verbs()).containsExactly("create", "delete");
        assertThat(recorded()).isFalse();
    }

    @Test
    void pauseOfACreatedContainerIsNotRunningWithoutAskingRunsc() {
        create();
        assertThat(verb(rc -> PauseResume.pause(rc, "c1"))).as("runsc 2022-12 would panic").isEqualTo(
                "gvshim: container not running: c1 [CONTAINER_NOT_RUNNING]");
        assertThat(runsc.verbs()).containsExactly("create");
        start();
        assertThat(verb(rc -> PauseResume.pause(rc, "c1"))).isEqualTo(0);
        assertThat(verb(rc -> PauseResume.pause(rc, "c1"))).as("runc's answer for a paused one").isEqualTo(
                "gvshim: container not running: c1 [CONTAINER_NOT_RUNNING]");
        assertThat(runsc.verbs()).containsExactly("create", "start", "pause");
    }

    @Test
    void eventsOfAStoppedContainerIsRuncsRefusalNotAnEndlessStream() throws Exception {
        create();
        runsc.sandboxDies("2-c1");
        assertThat(verb(rc -> Events.run(rc, "c1", false, "5s"))).as("runsc would print nothing, every 5 s, forever")
                .isEqualTo("gvshim: container with id c1 is not running [CONTAINER_NOT_RUNNING]");
        assertThat(runsc.verbs()).as("its state is asked, no events").containsExactly("create", "state");
    }

    @Test
    void eventsStatsIsOneEventWithTheContainersIdAndACreatedContainersIsRefusedClearly() throws Exception {
        create();
        assertThat(verb(rc -> Events.run(rc, "c1", true, null))).as("runsc 2022-12 panics before start")
                .isEqualTo("gvshim: cannot get the stats of container c1 before it is started: gVisor counts a container's"
                        + " usage from its start; start it first [CONTAINER_STATE]");
        assertThat(start()).isEqualTo(0);
        out.reset();
        assertThat(verb(rc -> Events.run(rc, "c1", true, null))).isEqualTo(0);
        assertThat(out.toString()).isEqualTo("{\"type\":\"stats\",\"id\":\"c1\",\"data\":{\"pids\":{\"current\":2}}}\n");
    }

    @Test
    void theEventStreamEndsWithStatusZeroWhenTheContainerIsDeletedBetweenTwoPolls() throws Exception {
        create();
        start();
        out.reset();
        runsc.goneAfterEvents = true;
        assertThat(verb(rc -> Events.run(rc, "c1", false, "100ms"))).as("runc's stream ends with the container").isEqualTo(0);
        assertThat(out.toString()).isEqualTo("{\"type\":\"stats\",\"id\":\"c1\",\"data\":{\"pids\":{\"current\":2}}}\n");
    }

    @Test
    void signalZeroIsALivenessCheckAndKillAllOfAStoppedContainerIsDone() throws Exception {
        create();
        assertThat(verb(rc -> Kill.run(rc, "c1", "0", false))).as("created").isEqualTo(0);
        start();
        assertThat(verb(rc -> Kill.run(rc, "c1", "0", true))).as("running").isEqualTo(0);
        assertThat(runsc.verbs()).as("signal 0 is answered from the state: runsc has no signal 0").doesNotContain("kill");
        assertThat(verb(rc -> Kill.run(rc, "c1", "KILL", false))).isEqualTo(0);
        assertThat(runsc.containers.get("2-c1").status).isEqualTo("stopped");
        assertThat(verb(rc -> Kill.run(rc, "c1", "0", false))).isEqualTo("gvshim: container not running: c1 [CONTAINER_NOT_RUNNING]");
        assertThat(verb(rc -> Kill.run(rc, "c1", "KILL", true))).as("runc: kill -a of a stopped container").isEqualTo(0);
        assertThat(verb(rc -> Kill.run(rc, "c1", "KILL", false))).isEqualTo("gvshim: container not running: c1 [CONTAINER_NOT_RUNNING]");
        out.reset();
        assertThat(verb(rc -> Ps.run(rc, "c1", "json", List.of()))).as("runc: a stopped container has no processes").isEqualTo(0);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("null\n");
    }

    /** runc 1.1.5: `kill -a ID 0` of a stopped container exits 0 (no process left to check), `kill ID 0` does not. */
    @Test
    void killAllWithSignalZeroOfAStoppedContainerIsDone() throws Exception {
        create();
        start();
        assertThat(verb(rc -> Kill.run(rc, "c1", "KILL", false))).isEqualTo(0);
        assertThat(verb(rc -> Kill.run(rc, "c1", "0", true))).isEqualTo(0);
        assertThat(verb(rc -> Kill.run(rc, "c1", "0", false))).isEqualTo("gvshim: container not running: c1 [CONTAINER_NOT_RUNNING]");
        assertThat(runsc.verbs()).as("signal 0 never reaches runsc").containsOnlyOnce("kill");
    }

    /** runc's ps of a stopped container (runc 1.1.5): ps's header only, exit 0; with -f json, null. */
    @Test
    void psOfAStoppedContainerIsTheHeaderOnly() throws Exception {
        create();
        start();
        verb(rc -> Kill.run(rc, "c1", "KILL", false));
        List<List<String>> ps = new java.util.ArrayList<>();
        processes = launch -> {
            if (!launch.argv().getFirst().endsWith("ps")) {
                return runsc.run(launch);
            }
            ps.add(launch.argv().subList(1, launch.argv().size()));
            return new dev.gvshim.call.Launch.Ran(0, "UID        PID  PPID  C STIME TTY          TIME CMD\n"
                    + "root         1     0  0 12:00 ?        00:00:01 /sbin/init\n");
        };
        out.reset();
        assertThat(verb(rc -> Ps.run(rc, "c1", "table", List.of()))).isEqualTo(0);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("UID        PID  PPID  C STIME TTY          TIME CMD\n");
        out.reset();
        assertThat(verb(rc -> Ps.run(rc, "c1", null, List.of()))).isEqualTo(0);
        assertThat(out.toString(StandardCharsets.UTF_8)).as("table is the default").startsWith("UID ").hasLineCount(1);
        assertThat(ps).as("runc's default ps arguments").containsExactly(List.of("-ef"), List.of("-ef"));
    }

    /**
     * exec --ignore-paused (runc 1.1.5: `runc exec` blocks while the container is frozen and its
     * process runs after `resume`): gvshim waits for the resume, then asks runsc (which refuses a
     * paused sandbox), never before.
     */
    @Test
    void execIgnorePausedWaitsForTheResumeThenRuns() throws Exception {
        create();
        start();
        verb(rc -> PauseResume.pause(rc, "c1"));
        var exec = java.util.concurrent.CompletableFuture.supplyAsync(() -> verb(rc -> Exec.run(rc, exec(true))));
        Thread.sleep(4 * Exec.RESUME_POLL_MS);
        assertThat(exec).as("waiting for the resume").isNotDone();
        assertThat(runsc.verbs()).containsExactly("create", "start", "pause");
        assertThat(verb(rc -> PauseResume.resume(rc, "c1"))).isEqualTo(0);
        assertThat(exec.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(0);
        // the fake rewrites its state file in place, as runsc does (os.WriteFile): a poll that read it mid-resume asks
        // runsc's `state` once more (CI's unit run saw it), which is the point of that re-check
        assertThat(runsc.verbs().stream().filter(v -> !v.equals("state")).toList())
                .containsExactly("create", "start", "pause", "resume", "exec");

        verb(rc -> PauseResume.pause(rc, "c1"));
        var stopped = java.util.concurrent.CompletableFuture.supplyAsync(() -> verb(rc -> Exec.run(rc, exec(true))));
        Thread.sleep(2 * Exec.RESUME_POLL_MS);
        runsc.sandboxDies("2-c1"); // killed while paused: the exec is refused as for any stopped container
        assertThat(stopped.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(
                "gvshim: cannot exec in a stopped container [CONTAINER_STATE]");
        assertThat(runsc.verbs()).containsOnlyOnce("exec");
    }

    /** exec's options gVisor makes moot (--apparmor, --process-label, --pidfd-socket, --cgroup): accepted, never passed to runsc. */
    @Test
    void execsMootOptionsAreAcceptedAndNotPassedOn() throws Exception {
        create();
        start();
        assertThat(verb(rc -> Exec.run(rc, new Exec.Args("c1", null, true, null, null, false, null, List.of(), null, List.of(),
                List.of(), true, "my-profile", "system_u:system_r:container_t:s0", 0, tmp.resolve("pidfd.sock").toString(),
                false, "pids:/sub", List.of("true"))))).isEqualTo(0);
        assertThat(runsc.calls.getLast()).containsExactly("exec", "--detach", "2-c1", "true");
    }

    /** runsc before release-20240415 cannot leave a checkpointed container running: refused, not a hang. */
    @Test
    void checkpointLeaveRunningIsRefusedWhereRunscWouldReplaceTheContainer() throws Exception {
        var r2022 = dev.gvshim.runsc.RunscRelease.parse("runsc version 0.0~20221219.0");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Checkpoint.checkLeaveRunning("c1", r2022))
                .isInstanceOfSatisfying(GvshimException.class, e -> assertThat(e.failure().oneLine()).isEqualTo(
                        "gvshim: cannot checkpoint container c1 with --leave-running: runsc 2022-12-19 does not leave it running:"
                        + " it destroys the container, restores the checkpoint into a new sandbox and waits there until that"
                        + " exits (gVisor resumes in place from release-20240415). Fix: checkpoint without --leave-running, then"
                        + " `restore` it from the same --image-path [CHECKPOINT_LEAVE_RUNNING]"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Checkpoint.checkLeaveRunning("c1",
                dev.gvshim.runsc.RunscRelease.UNKNOWN)).hasMessageContaining("runsc unknown");
        Checkpoint.checkLeaveRunning("c1", dev.gvshim.runsc.RunscRelease.parse("runsc version release-20240415.0"));
    }

    @Test
    void resumeOfAContainerThatIsNotPausedIsRuncsRefusal() {
        create();
        start();
        assertThat(verb(rc -> PauseResume.resume(rc, "c1"))).isEqualTo("gvshim: container not paused: c1 [CONTAINER_STATE]");
        assertThat(runsc.verbs()).containsExactly("create", "start");
    }

    @Test
    void execIntoAPausedOrStoppedContainerIsRefusedAsRuncDoes() throws Exception {
        create();
        assertThat(verb(rc -> Exec.run(rc, exec(false)))).as("runsc: container not started").isEqualTo(
                "gvshim: cannot exec in a created container: gVisor runs a container's processes only once it is started"
                        + " (runc would run it in the created container's namespaces) [CONTAINER_STATE]");
        start();
        verb(rc -> PauseResume.pause(rc, "c1"));
        assertThat(verb(rc -> Exec.run(rc, exec(false)))).isEqualTo(
                "gvshim: cannot exec in a paused container (use --ignore-paused to override) [CONTAINER_STATE]");
        assertThat(verb(rc -> PauseResume.resume(rc, "c1"))).isEqualTo(0);
        assertThat(verb(rc -> Exec.run(rc, exec(false)))).isEqualTo(0);
        runsc.sandboxDies("2-c1");
        runsc.containers.get("2-c1").status = "stopped";
        verb(rc -> State.run(rc, "c1")); // runsc records the stopped status when it learns it
        assertThat(verb(rc -> Exec.run(rc, exec(false)))).isEqualTo("gvshim: cannot exec in a stopped container [CONTAINER_STATE]");
        assertThat(runsc.verbs()).containsExactly("create", "start", "pause", "resume", "exec", "state");
    }

    @Test
    void execsOptionsAreCheckedAsRuncChecksThem() {
        create();
        start();
        assertThat(verb(rc -> Exec.run(rc, new Exec.Args("c1", null, true, null, null, false, "rel", List.of(), null,
                List.of(), List.of(), false, null, null, null, null, false, null, List.of("true"))))).isEqualTo(
                "gvshim: Cwd must be an absolute path [ARGS_INVALID]");
        assertThat(verb(rc -> Exec.run(rc, new Exec.Args("c1", null, true, null, null, false, null, List.of(), "abc",
                List.of(), List.of(), false, null, null, null, null, false, null, List.of("true"))))).isEqualTo(
                "gvshim: parsing abc as int for uid failed (a number: exec -u UID[:GID]) [ARGS_INVALID]");
        assertThat(verb(rc -> Exec.run(rc, new Exec.Args("c1", null, true, null, null, false, null, List.of(), "0:x",
                List.of(), List.of(), false, null, null, null, null, false, null, List.of("true"))))).isEqualTo(
                "gvshim: parsing x as int for gid failed (a number: exec -u UID[:GID]) [ARGS_INVALID]");
        assertThat(verb(rc -> Exec.run(rc, new Exec.Args("c1", null, true, null, null, false, null, List.of(), null,
                List.of(), List.of(), false, null, null, 1, null, false, null, List.of("true"))))).isEqualTo(
                "gvshim: cannot pass 1 extra descriptor to the process: runsc exec has no way to pass them into the gVisor"
                + " sandbox. Fix: run without --preserve-fds (a listening socket can be bind-mounted into the container instead)"
                + " [PRESERVE_FDS_UNSUPPORTED]");
        assertThat(runsc.verbs()).as("runsc prints its usage for these").doesNotContain("exec");
    }

    @Test
    void execTtyGivesTheProcessATerminalThroughAProcessFileAsRunscNeeds() throws Exception {
        create();
        start();
        assertThat(verb(rc -> Exec.run(rc, new Exec.Args("c1", null, false, null, null, true, "/w", List.of("A=1"), "1000:5",
                List.of("7"), List.of("CAP_CHOWN"), false, null, null, null, null, false, null, List.of("sh", "-c", "tty"))))).isEqualTo(0);
        List<String> call = runsc.calls.getLast();
        assertThat(call.getFirst()).isEqualTo("exec");
        assertThat(call).as("runsc takes only the id with --process").endsWith("2-c1").contains("--env=A=1")
                .anyMatch(x -> x.startsWith("--process="));
        JsonNode p = dev.gvshim.oci.JsonTree.read(runsc.processFiles.getLast().getBytes(StandardCharsets.UTF_8));
        assertThat(p.path("terminal").asBoolean()).isTrue();
        assertThat(p.path("args").toString()).isEqualTo("[\"sh\",\"-c\",\"tty\"]");
        assertThat(p.path("cwd").asText()).isEqualTo("/w");
        assertThat(p.path("user").toString()).isEqualTo("{\"uid\":1000,\"gid\":5,\"additionalGids\":[7]}");
        assertThat(p.path("capabilities").path("ambient").toString()).isEqualTo("[\"CAP_CHOWN\"]");
        assertThat(p.has("env")).as("runsc fills it from the container's, with --env").isFalse();
        String file = call.stream().filter(x -> x.startsWith("--process=")).findFirst().orElseThrow().substring(10);
        assertThat(Path.of(file)).as("removed after the exec").doesNotExist();
        assertThat(verb(rc -> Exec.run(rc, new Exec.Args("c1", null, true, null, null, true, null, List.of(), null, List.of(),
                List.of(), false, null, null, null, null, false, null, List.of("true"))))).asString()
                .contains("cannot allocate tty if runc will detach without setting console socket");
        Path notJson = Files.writeString(tmp.resolve("process.txt"), "not json");
        assertThat(verb(rc -> Exec.run(rc, new Exec.Args("c1", notJson.toString(), false, null, null, true, null, List.of(), null,
                List.of(), List.of(), false, null, null, null, null, false, null, List.of())))).asString()
                .startsWith("gvshim: cannot read --process " + notJson + ": ").endsWith("[ARGS_INVALID]");
    }

    private static Exec.Args exec(boolean ignorePaused) {
        return new Exec.Args("c1", null, true, null, null, false, null, List.of(), null, List.of(), List.of(), false, null,
                null, null, null, ignorePaused, null, List.of("true"));
    }

    @Test
    void aSignalForAPausedContainerWaitsForResume() {
        create();
        start();
        verb(rc -> PauseResume.pause(rc, "c1"));
        assertThat(verb(rc -> Kill.run(rc, "c1", "SIGTERM", false))).isEqualTo(0);
        assertThat(runsc.verbs()).as("held, not sent: runsc refuses to signal a paused container")
                .containsExactly("create", "start", "pause");
        assertThat(verb(rc -> Delete.run(rc, "c1", false))).isEqualTo("gvshim: cannot delete container c1 that is not stopped: paused [CONTAINER_STATE]");
        assertThat(verb(rc -> PauseResume.resume(rc, "c1"))).isEqualTo(0);
        assertThat(runsc.calls.subList(3, runsc.calls.size())).containsExactly(List.of("resume", "2-c1"),
                List.of("kill", "2-c1", "15"));
        assertThat(runsc.containers.get("2-c1").status).isEqualTo("stopped");
    }

    /**
     * `update` writes the sandbox's cgroup where runsc's state records it (here a v2 tree in the
     * test's directory), running and paused alike, and never asks runsc (2022-12 has no update);
     * a stopped container, a pids limit and a sandbox without a cgroup are refused in one line.
     */
    @Test
    void updateWritesTheSandboxsCgroupAndRefusesWhatCannotHold() throws Exception {
        Path cg = Files.createDirectories(tmp.resolve("cg/ct"));
        for (String f : List.of("memory.max=max", "memory.swap.max=max", "cpu.max=max 100000", "pids.max=max")) {
            Files.writeString(cg.resolve(f.split("=")[0]), f.split("=")[1] + "\n");
        }
        runsc.cgroup = "{\"cgroupv2\":{\"mountpoint\":\"" + tmp.resolve("cg") + "\",\"path\":\"/ct\",\"own\":null}}";
        create();
        assertThat(verb(rc -> Update.run(rc, "c1", null, Map.of("memory", "1G")))).as("created: runc updates it too").isEqualTo(0);
        assertThat(Files.readString(cg.resolve("memory.max"))).isEqualTo("1073741824");
        start();
        Map<String, String> o = Map.of("memory", "256M", "cpu-quota", "50000");
        assertThat(verb(rc -> Update.run(rc, "c1", null, o))).isEqualTo(0);
        assertThat(Files.readString(cg.resolve("memory.max"))).isEqualTo("268435456");
        assertThat(Files.readString(cg.resolve("cpu.max"))).isEqualTo("50000 100000");
        verb(rc -> PauseResume.pause(rc, "c1"));
        assertThat(verb(rc -> Update.run(rc, "c1", null, Map.of("memory", "128m")))).as("paused: updated as runc does").isEqualTo(0);
        assertThat(Files.readString(cg.resolve("memory.max"))).isEqualTo("134217728");
        assertThat(verb(rc -> Update.run(rc, "c1", null, Map.of("pids-limit", "100")))).asString()
                .startsWith("gvshim: cannot update container c1 with a pids limit (100): the sandbox's host cgroup counts"
                        + " gVisor's own threads").endsWith("[SPEC_PIDS_LIMIT]");
        assertThat(Files.readString(cg.resolve("pids.max"))).isEqualTo("max\n");
        assertThat(verb(rc -> Update.run(rc, "c1", null, Map.of("memory", "lots"))))
                .isEqualTo("gvshim: invalid value for memory: invalid size: 'lots' [ARGS_INVALID]");
        Files.delete(cg.resolve("memory.swap.max"));
        assertThat(verb(rc -> Update.run(rc, "c1", null, Map.of("memory", "64m", "memory-swap", "128m"))))
                .isEqualTo("gvshim: cannot update container c1: " + cg.resolve("memory.swap.max") + ": ENOENT (No such file or"
                        + " directory); the limits were left as they were [UPDATE_WRITE_FAILED]");
        assertThat(Files.readString(cg.resolve("memory.max"))).isEqualTo("134217728");
        runsc.cgroup = null;
        verb(rc -> PauseResume.resume(rc, "c1"));
        assertThat(verb(rc -> Update.run(rc, "c1", null, o))).isEqualTo("gvshim: cannot update container c1: runsc's state"
                + " records no cgroup for its sandbox; recreate the container [UPDATE_NO_CGROUP]");
        runsc.containers.get("2-c1").status = "stopped";
        assertThat(verb(rc -> Update.run(rc, "c1", null, o))).isEqualTo("gvshim: container not running: c1 [CONTAINER_NOT_RUNNING]");
        assertThat(runsc.verbs()).doesNotContain("update");
    }
}
