package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.failure.GvshimException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pure parts of the verbs: the flags a container keeps, runc durations as runsc seconds, options merged. */
class RuntimeVerbsTest {
    @TempDir
    Path tmp;

    RuntimeCall runtime(List<String> runscFlags, List<String> runscArgs, String network) throws GvshimException {
        return runtime(runscFlags, runscArgs, network, tmp.resolve("no-config.json"), null);
    }

    RuntimeCall runtime(List<String> runscFlags, List<String> runscArgs, String network, Path config, Boolean execWithoutSeccomp)
            throws GvshimException {
        RuntimeOptions g = new RuntimeOptions(tmp.resolve("root").toString(), null, "json", false, false, "auto",
                config.toString(), "/opt/runsc", network, "systrap", runscArgs, runscFlags, execWithoutSeccomp);
        Map<String, String> env = new LinkedHashMap<>();
        return new RuntimeCall(dev.gvshim.call.TestCalls.of(tmp, env), g);
    }

    @Test
    void containerFlagsDropThePerCallOnes() throws Exception {
        RuntimeCall rt = runtime(List.of(), List.of(), null);
        RuntimeConfig c = RuntimeConfig.defaults().withFlag("overlay", "true", "").withRaw(List.of("--strace"));
        assertThat(rt.containerFlags(c, true)).containsExactly("--ignore-cgroups", "--network=none", "--overlay=true",
                "--strace");
        assertThat(rt.containerFlags(c, false)).containsExactly("--network=none", "--overlay=true", "--strace");
    }

    @Test
    void runKeepIsRefusedBeforeAnythingIsCreated() throws Exception {
        RuntimeCall rt = runtime(List.of(), List.of(), null);
        assertThatThrownBy(() -> Create.run(rt, new Create.Args("k1", tmp.toString(), null, null, false, false, null, null),
                false, true)).isInstanceOf(GvshimException.class)
                .hasMessageStartingWith("gvshim: cannot run container k1 with --keep: runsc's run deletes the container")
                .hasMessageEndingWith("[KEEP_UNSUPPORTED]");
        assertThat(tmp.resolve("root")).as("nothing created").doesNotExist();
    }

    @Test
    void anExplicitConfigFileThatDoesNotExistIsAnError() throws Exception {
        assertThatThrownBy(() -> runtime(List.of(), List.of(), null).config()).isInstanceOf(GvshimException.class)
                .hasMessage("gvshim: configuration file " + tmp.resolve("no-config.json") + " does not exist [CONFIG_INVALID]");
    }

    @Test
    void optionsOverrideTheConfigFile() throws Exception {
        java.nio.file.Files.writeString(tmp.resolve("no-config.json"),
                "{\"runsc\": \"/usr/bin/runsc\", \"network\": \"host\", \"runscFlags\": {\"overlay\": \"false\"}}");
        RuntimeConfig c = runtime(List.of("overlay=true", "file-access=shared"), List.of("--strace"), "sandbox").config();
        assertThat(c.runsc()).isEqualTo("/opt/runsc");
        assertThat(c.network()).isEqualTo(dev.gvshim.runsc.RunscConfig.Network.SANDBOX);
        assertThat(c.platform()).isEqualTo("systrap");
        assertThat(c.flags()).containsExactly(Map.entry("overlay", "true"), Map.entry("file-access", "shared"));
        assertThat(c.raw()).containsExactly("--strace");
    }

    @Test
    void execWithoutSeccompComesFromTheFileOrTheRuntimeOption() throws Exception {
        Path cfg = java.nio.file.Files.writeString(tmp.resolve("on.json"), "{\"execWithoutSeccomp\": true}");
        Path none = java.nio.file.Files.writeString(tmp.resolve("none.json"), "{}");
        assertThat(runtime(List.of(), List.of(), null, none, null).config().execWithoutSeccomp()).as("the default").isFalse();
        assertThat(runtime(List.of(), List.of(), null, cfg, null).config().execWithoutSeccomp()).isTrue();
        assertThat(runtime(List.of(), List.of(), null, none, true).config().execWithoutSeccomp()).as("--exec-without-seccomp")
                .isTrue();
        assertThat(runtime(List.of(), List.of(), null, cfg, false).config().execWithoutSeccomp())
                .as("--exec-without-seccomp=false: the option overrides the file, as the others do").isFalse();
    }

    /**
     * runsc before release-20260330 starts exec'd processes without the container's seccomp
     * filter: refused ([SECCOMP_EXEC]) unless the operator opted in, then a warning for --log.
     */
    @Test
    void execWhereRunscWouldDropTheProfileIsRefusedUnlessTheOperatorAcceptsIt() throws Exception {
        dev.gvshim.runsc.RunscRelease r2022 = dev.gvshim.runsc.RunscRelease.parse("runsc version 0.0~20221219.0");
        assertThatThrownBy(() -> Exec.execWithoutProfile("ex", r2022, false, "`sh`")).isInstanceOf(GvshimException.class)
                .satisfies(e -> {
                    String m = ((GvshimException) e).failure().oneLine();
                    dev.gvshim.Messages.check("exec refusal", m);
                    assertThat(m).contains("cannot exec in container ex").contains("runsc 2022-12-19 does not apply the"
                            + " container's seccomp profile to a process started with exec")
                            .contains("Fix: run the container without a profile (docker run --security-opt seccomp=unconfined")
                            .contains("use a runsc from release-20260330 on")
                            .contains("\"execWithoutSeccomp\": true in /etc/gvshim/config.json")
                            .contains("the runtime option --exec-without-seccomp").endsWith("[SECCOMP_EXEC]");
                    assertThat(m.lines()).hasSize(1);
                });
        String w = Exec.execWithoutProfile("ex", r2022, true, "`sh -c id`");
        dev.gvshim.Messages.check("exec warning", w);
        assertThat(w).isEqualTo("container ex: exec of `sh -c id` runs without the container's seccomp profile"
                + " (linux.seccomp): runsc 2022-12-19 does not apply the container's seccomp profile to a process started"
                + " with exec (gVisor does from release-20260330); allowed by execWithoutSeccomp (/etc/gvshim/config.json or"
                + " --exec-without-seccomp)");
        dev.gvshim.runsc.RunscRelease filters = dev.gvshim.runsc.RunscRelease.parse("runsc version release-20260330.0");
        assertThat(Exec.execWithoutProfile("ex", filters, false, "`sh`")).as("runsc filters it itself").isNull();
        assertThat(Exec.execWithoutProfile("ex", filters, true, "`sh`")).as("nothing dropped, nothing to say").isNull();
        assertThatThrownBy(() -> Exec.execWithoutProfile("ex", dev.gvshim.runsc.RunscRelease.UNKNOWN, false, "`sh`"))
                .as("an unknown runsc gets the answer that cannot weaken isolation").hasMessageEndingWith("[SECCOMP_EXEC]");
    }

    @Test
    void theExecdProcessIsNamedByItsCommandOrItsProcessFile() throws Exception {
        Path proc = java.nio.file.Files.writeString(tmp.resolve("process.json"), "{\"args\": [\"/bin/sh\", \"-c\", \"id\"]}");
        assertThat(Exec.execProcess(tmp, execArgs(null, List.of("echo", "hi")))).isEqualTo("`echo hi`");
        assertThat(Exec.execProcess(tmp, execArgs(proc.toString(), List.of()))).isEqualTo("`/bin/sh -c id`");
        Path bad = java.nio.file.Files.writeString(tmp.resolve("bad.json"), "{");
        assertThat(Exec.execProcess(tmp, execArgs(bad.toString(), List.of()))).isEqualTo("the process of " + bad);
    }

    private static Exec.Args execArgs(String process, List<String> command) {
        return new Exec.Args("ex", process, false, null, null, false, null, List.of(), null, List.of(), List.of(),
                false, null, null, null, null, false, null, command);
    }

    @Test
    void runscFlagOptionsNeedNameEqualsValue() throws Exception {
        java.nio.file.Files.writeString(tmp.resolve("no-config.json"), "{}");
        assertThatThrownBy(() -> runtime(List.of("overlay"), List.of(), null).config()).isInstanceOf(GvshimException.class)
                .hasMessageStartingWith("gvshim: --runsc-flag overlay: expected NAME=VALUE")
                .satisfies(e -> assertThat(((GvshimException) e).failure().exitCode()).isEqualTo(2));
        assertThatThrownBy(() -> runtime(List.of("log=/tmp/x"), List.of(), null).config())
                .hasMessage("gvshim: runsc flag --log (--runsc-flag) is set by gvshim itself for every container; remove it"
                        + " [CONFIG_INVALID]");
    }

    @Test
    void runcsGoDurations() throws Exception {
        assertThat(Events.millis("5s")).isEqualTo(5000);
        assertThat(Events.millis("5")).as("a bare number: seconds").isEqualTo(5000);
        assertThat(Events.millis("2m")).isEqualTo(120_000);
        assertThat(Events.millis("1h")).isEqualTo(3_600_000);
        assertThat(Events.millis("1500ms")).isEqualTo(1500);
        assertThat(Events.millis("1.5s")).isEqualTo(1500);
        assertThat(Events.millis("1m30s")).isEqualTo(90_000);
        assertThat(Events.millis("10us")).as("at least 1 ms").isEqualTo(1);
        for (String zero : List.of("0", "0s", "0ms", "0h0m")) {
            assertThatThrownBy(() -> Events.millis(zero)).as(zero).hasMessage("gvshim: duration interval must be greater than 0 [ARGS_INVALID]");
        }
        for (String bad : List.of("", "5x", "-1s", "1.5", "s", "5s5")) {
            assertThatThrownBy(() -> Events.millis(bad)).as(bad).isInstanceOf(GvshimException.class)
                    .hasMessageContaining("invalid --interval");
        }
    }

    @Test
    void stateNamesTheCallersBundleWhereRunscReadsGvshimsRewrite() throws Exception {
        RuntimeCall rt = runtime(List.of(), List.of(), null);
        Path own = tmp.resolve("root").resolve("c1.gvshim").resolve("bundle");
        Container ct = new Container("c1", "2-c1", Path.of("/run/containerd/b \"1\""), false,
                "/opt/runsc", List.of(), 0, 0);
        String state = "{\n  \"ociVersion\": \"1.0.2\",\n  \"id\": \"c1\",\n  \"status\": \"created\",\n  \"bundle\": \""
                + own + "\",\n  \"pid\": 7\n}";
        assertThat(State.callersBundle(rt.store, ct, state)).contains("\"bundle\": \"/run/containerd/b \\\"1\\\"\",")
                .doesNotContain(own.toString());
        String plain = state.replace(own.toString(), "/run/containerd/b");
        assertThat(State.callersBundle(rt.store, ct, plain)).as("runsc read the caller's own bundle").isEqualTo(plain);
    }

    @Test
    void theRewrittenSpecResolvesPathsAgainstTheCallersBundle() throws Exception {
        dev.gvshim.oci.Spec s = dev.gvshim.oci.Specs.example(List.of("sh"), "h");
        s.addMount(dev.gvshim.oci.Mount.bind("data", "/data", false));
        s.addMount(dev.gvshim.oci.Mount.of("/t", "tmpfs", "tmpfs", List.of()));
        Path dir = Create.writeRunBundle(s, Path.of("/bundles/b1"), tmp.resolve("copy"));
        dev.gvshim.oci.Spec w = dev.gvshim.oci.Spec.parse(java.nio.file.Files.readAllBytes(dir.resolve("config.json")));
        assertThat(w.root().path()).isEqualTo("/bundles/b1/rootfs");
        assertThat(w.mounts()).anySatisfy(m -> assertThat(m.source()).isEqualTo("/bundles/b1/data"))
                .anySatisfy(m -> assertThat(m.source()).as("not a bind: no path").isEqualTo("tmpfs"));
        assertThat(s.root().path()).as("the caller's spec is not modified").isEqualTo("rootfs");
    }

    @Test
    void anExecAsksForATerminalOnlyInItsProcessJson() throws Exception {
        Path tty = tmp.resolve("tty.json");
        java.nio.file.Files.writeString(tty, "{\"terminal\" :\n true, \"args\": [\"sh\"]}");
        Path plain = tmp.resolve("plain.json");
        java.nio.file.Files.writeString(plain, "{\"terminal\": false, \"env\": [\"X=\\\"terminal\\\": true\"]}");
        assertThat(Exec.wantsTerminal(tty)).isTrue();
        assertThat(Exec.wantsTerminal(plain)).as("the word in a string is not the field").isFalse();
        assertThat(Exec.wantsTerminal(tmp.resolve("missing.json"))).as("runsc reports it").isFalse();
        assertThat(Exec.noConsole().failure().oneLine()).startsWith("gvshim: cannot allocate tty if runc will detach without setting console socket")
                .endsWith("[TERMINAL_NEEDS_CONSOLE_SOCKET]");
    }

    @Test
    void runscsIdsInItsOutputBecomeTheContainersOwn() throws Exception {
        RuntimeCall rt = runtime(List.of(), List.of(), null);
        Container ct = new Container("relpfx", "6-relpfx", Path.of("/b"), false, "/r", List.of(), 0, 0);
        assertThat(ct.human("cannot signal container \"6-relpfx\" in state paused")).isEqualTo(
                "cannot signal container \"relpfx\" in state paused");
        assertThat(ct.human("{\"id\":\"6-relpfx\",\"x\":\"16-relpfx 6-relpfx2 a6-relpfx 6-relpfx.x\"}")).as("whole ids only")
                .isEqualTo("{\"id\":\"relpfx\",\"x\":\"16-relpfx 6-relpfx2 a6-relpfx 6-relpfx.x\"}");
        Container legacy = new Container("old", "old", Path.of("/b"), false, "/r", List.of(), 0, 0);
        assertThat(legacy.human("container \"old\"")).isEqualTo("container \"old\"");
    }

    @Test
    void listIsRuncsStatesWithTheContainersIdsSortedAndPidZeroOnceStopped() throws Exception {
        RuntimeCall rt = runtime(List.of(), List.of(), null);
        // runsc 2022-12's `list --format=json` of two gvshim containers and a foreign one
        String runsc = "[{\"ociVersion\":\"1.0.2-dev\",\"id\":\"7-relpfx2\",\"status\":\"running\",\"pid\":11139,"
                + "\"bundle\":\"/tmp/my bundle\"},{\"ociVersion\":\"1.0.2-dev\",\"id\":\"foreign1\",\"status\":\"stopped\","
                + "\"pid\":-1,\"bundle\":\"/f\"},{\"ociVersion\":\"1.0.2-dev\",\"id\":\"6-relpfx\",\"status\":\"created\","
                + "\"pid\":10859,\"bundle\":\"/tmp/ids-exp/hello\"}]";
        Map<String, Container> ids = Map.of(
                "6-relpfx", new Container("relpfx", "6-relpfx", Path.of("/b"), false, "/r", List.of(), 0, 0),
                "7-relpfx2", new Container("relpfx2", "7-relpfx2", Path.of("/b"), false, "/r", List.of(), 0, 0));
        // pid 10859 is not relpfx's sandbox here: a created container whose sandbox is gone is stopped
        assertThat(ListOp.states(rt, runsc, ids).stream().map(dev.gvshim.oci.JsonTree::compact)).containsExactly(
                "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"foreign1\",\"pid\":0,\"status\":\"stopped\",\"bundle\":\"/f\","
                        + "\"rootfs\":\"\",\"created\":\"\",\"owner\":\"\"}",
                "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"relpfx\",\"pid\":0,\"status\":\"stopped\",\"bundle\":\"/tmp/ids-exp/hello\","
                        + "\"rootfs\":\"\",\"created\":\"\",\"owner\":\"\"}",
                "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"relpfx2\",\"pid\":11139,\"status\":\"running\",\"bundle\":\"/tmp/my bundle\","
                        + "\"rootfs\":\"\",\"created\":\"\",\"owner\":\"\"}");
        assertThat(ListOp.states(rt, "null", ids)).isEmpty();
        assertThat(ListOp.tabulate(List.of(List.of("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")))).as("runc's"
                + " empty list").isEqualTo("ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
        assertThat(ListOp.tabulate(List.of(List.of("ID", "PID", "OWNER"), List.of("x".repeat(20), "1", "")))).isEqualTo(
                "ID                     PID         OWNER\n" + "x".repeat(20) + "   1           \n");
    }
}
