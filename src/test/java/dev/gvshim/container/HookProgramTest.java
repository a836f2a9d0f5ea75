package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The native gvshim-hook's --oci-state (gvshim_hook.c, hook_state.c): runsc's state of a container
 * on stdin (runsc/container/hook.go: Go's json.Marshal of specs.State) becomes runc's
 * (libcontainer currentOCIState) on the hook's stdin, and the hook runs in its place.
 */
class HookProgramTest {
    private Path hook;

    @BeforeEach
    void built() {
        hook = Path.of(System.getProperty("gvshim.native.dir", "target/native"), "gvshim-hook");
        assumeTrue(Files.isExecutable(hook), "gvshim-hook is not built at " + hook + " (mvn builds it in generate-resources)");
    }

    record Ran(int status, String out, String err, long pid) {
    }

    private Ran run(String stdin, String kind, String annotations, String... hookArgv) throws Exception {
        return runIn(stdin, kind, "-", annotations, hookArgv);
    }

    private Ran runIn(String stdin, String kind, String bundle, String annotations, String... hookArgv) throws Exception {
        List<String> argv = new ArrayList<>(List.of(hook.toString(), "--oci-state", kind, "hk1", bundle, annotations, "--"));
        argv.addAll(List.of(hookArgv));
        return ran(argv, stdin);
    }

    private static Ran ran(List<String> argv, String stdin) throws Exception {
        Process p = new ProcessBuilder(argv).start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return new Ran(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8), p.pid());
    }

    /** What the hook read on stdin (the line after gvshim-hook's own first line). */
    private static String state(Ran r) {
        assertThat(r.out()).startsWith("gvshim-hook: running the ");
        return r.out().substring(r.out().indexOf('\n') + 1);
    }

    @Test
    void theHookReadsRuncsStateWithTheCallersIdAndAnnotations() throws Exception {
        // measured: runsc 2022-12's state for `gvshim --root R run hk1`'s prestart hook
        Ran r = runIn("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"3-hk1\",\"status\":\"created\",\"pid\":21621,\"bundle\":\"/tmp/hk/b\","
                + "\"annotations\":{\"dev.gvisor.flag.oci-seccomp\":\"true\",\"x\":\"}\\\"{\"}}", "prestart", "/home/u/my \"b\"",
                "{\"a\":\"1\"}", "/bin/cat", "cat");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("gvshim-hook: running the prestart hook /bin/cat\n");
        assertThat(state(r)).isEqualTo("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"hk1\",\"status\":\"created\",\"pid\":21621,"
                + "\"bundle\":\"/home/u/my \\\"b\\\"\",\"annotations\":{\"a\":\"1\"}}");
    }

    @Test
    void aStoppedContainerHasNoPidAndNoAnnotationsAreNone() throws Exception {
        Ran r = run("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"3-hk1\",\"status\":\"stopped\",\"pid\":-1,\"bundle\":\"/b\"}",
                "poststop", "", "/bin/cat", "cat");
        assertThat(state(r)).isEqualTo("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"hk1\",\"status\":\"stopped\",\"bundle\":\"/b\"}");
        Ran kept = run("{ \"ociVersion\" : \"1.0.2-dev\", \"status\": \"running\", \"pid\": 7, \"bundle\": \"/b\", "
                + "\"annotations\": {\"k\": \"v\"} }", "poststart", "-", "/bin/cat", "cat");
        assertThat(state(kept)).as("- keeps runsc's annotations").isEqualTo("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"hk1\","
                + "\"status\":\"running\",\"pid\":7,\"bundle\":\"/b\",\"annotations\":{\"k\": \"v\"}}");
    }

    @Test
    void theHookRunsInPlaceWithItsOwnArgv() throws Exception {
        Ran r = run("{\"ociVersion\":\"1\",\"status\":\"created\",\"pid\":3,\"bundle\":\"/b\"}", "createRuntime", "",
                "/bin/sh", "sh", "-c", "echo \"$0 $1 $$\"; cat >/dev/null", "myhook", "arg1");
        assertThat(r.status()).isZero();
        assertThat(state(r)).as("same pid: runsc's timeout kills the hook").isEqualTo("myhook arg1 " + r.pid() + "\n");
    }

    @Test
    void withATimeoutTheHookIsKilledThereAndSaidSoOtherwiseItsStatusIsItsOwn() throws Exception {
        String st = "{\"ociVersion\":\"1\",\"status\":\"created\",\"pid\":3,\"bundle\":\"/b\"}";
        long t0 = System.nanoTime();
        Ran slow = timed(st, "1", "/bin/sh", "sh", "-c", "cat >/dev/null; sleep 30 & sleep 30");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("killed at 1 s, with its child").isLessThan(5000);
        assertThat(slow.status()).isEqualTo(1);
        assertThat(slow.err()).isEqualTo("gvshim-hook: the prestart hook /bin/sh ran past its timeout of 1 s: killed\n");
        Ran quick = timed(st, "5", "/bin/sh", "sh", "-c", "cat; exit 7");
        assertThat(quick.status()).isEqualTo(7);
        assertThat(state(quick)).as("the state as without a timeout").startsWith("{\"ociVersion\":\"1\",\"id\":\"hk1\"");
    }

    private Ran timed(String stdin, String seconds, String... hookArgv) throws Exception {
        List<String> argv = new ArrayList<>(List.of(hook.toString(), "--timeout", seconds, "--oci-state", "prestart", "hk1", "-", "",
                "--"));
        argv.addAll(List.of(hookArgv));
        return ran(argv, stdin);
    }

    @Test
    void itsOwnFailuresAreOneLineNamingTheHook() throws Exception {
        Ran bad = run("{\"ociVersion\":\"1.0.2-dev\",\"status\":", "prestart", "", "/bin/cat", "cat");
        assertThat(bad.status()).isEqualTo(1);
        assertThat(bad.err()).startsWith("gvshim-hook: cannot run the prestart hook /bin/cat: the container's state on stdin")
                .hasLineCount(1);
        Ran missing = run("{\"ociVersion\":\"1\",\"status\":\"created\",\"pid\":3,\"bundle\":\"/b\"}", "prestart", "",
                "/nonexistent/hook", "hook");
        assertThat(missing.status()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("gvshim-hook: cannot run the prestart hook /nonexistent/hook: execve: No such file"
                + " or directory\n");
    }
}
