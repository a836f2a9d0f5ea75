package dev.gvshim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gvshim.call.Call;
import dev.gvshim.call.TestCalls;
import dev.gvshim.container.RuntimeLog;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.runsc.RunscLogs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one place failures are printed: a runc verb's goes to --log (containerd reads the last error) and to stderr, once. */
class ErrorSinkTest {
    static final ObjectMapper MAPPER = new ObjectMapper();
    final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    final Call call = TestCalls.of(Path.of("/"), Map.of(), err, err, l -> {
        throw new AssertionError("nothing is started");
    });

    String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    /** A runc verb's failure through the sink: runc's exit status 1. */
    void error(RuntimeLog log, String what) {
        assertThat(ErrorSink.runtime(call, log, Failure.runtime("TEST_ID", what))).isEqualTo(1);
    }

    @Test
    void errorsAreAppendedAndTheLastErrorIsWhatContainerdReads(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("log.json");
        Files.writeString(file, "{\"level\":\"info\",\"msg\":\"from an earlier call\",\"time\":\"2024-01-01T00:00:00Z\"}\n");
        RuntimeLog log = new RuntimeLog(file, "json", false, err);
        error(log, "first \"failure\"");
        log.warning("a warning");
        error(log, "second\nfailure");
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(4);
        assertThat(lines.getFirst()).contains("from an earlier call");
        for (String l : lines) {
            MAPPER.readTree(l); // each line is a JSON document
        }
        assertThat(MAPPER.readTree(lines.get(2)).path("level").asText()).isEqualTo("warning");
        assertThat(RunscLogs.lastError(file)).isEqualTo("gvshim: second\nfailure [TEST_ID]");
        assertThat(err()).as("errors also go to stderr, once each, prefixed once")
                .isEqualTo("gvshim: first \"failure\" [TEST_ID]\ngvshim: second\nfailure [TEST_ID]\n");
    }

    @Test
    void aRuncVerbsFailureIsTheSameOneLineOnStderrAndInTheLog(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("log.json");
        RuntimeLog log = new RuntimeLog(file, "json", false, err);
        Failure f = Failure.runtime("CONTAINER_NOT_FOUND", "container does not exist: web");
        assertThat(ErrorSink.runtime(call, log, f)).isEqualTo(1);
        assertThat(err()).isEqualTo("gvshim: container does not exist: web [CONTAINER_NOT_FOUND]\n");
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(1);
        assertThat(MAPPER.readTree(lines.getFirst()).path("level").asText()).isEqualTo("error");
        assertThat(MAPPER.readTree(lines.getFirst()).path("msg").asText()).as("containerd's text is stderr's line")
                .isEqualTo("gvshim: container does not exist: web [CONTAINER_NOT_FOUND]");
    }

    @Test
    void aLineThatStartsWithGvshimsNameStillGetsItsPrefixOnce(@TempDir Path tmp) {
        // the old sink added "gvshim: " only to text that did not start with "gvshim": a helper's name lost it
        RuntimeLog log = new RuntimeLog(tmp.resolve("log.json"), "json", false, err);
        error(log, "gvshim-holder of container web exited");
        assertThat(err()).isEqualTo("gvshim: gvshim-holder of container web exited [TEST_ID]\n");
    }

    @Test
    void aRuncVerbExitsAsRuncWhateverLayerFoundTheFailure() {
        RuntimeLog log = new RuntimeLog(null, "json", false, err);
        assertThat(ErrorSink.runtime(call, log, Failure.of("SUBUID_MISSING", "cannot create rootless container c", null,
                "no range", "usermod"))).as("a diagnosis made for gvshim run (125)").isEqualTo(Exit.RUNTIME);
        assertThat(ErrorSink.runtime(call, log, Failure.of("COMMAND_NOT_FOUND", "cannot start container c", null, null, null)
                .withExit(Exit.NOT_FOUND))).isEqualTo(Exit.RUNTIME);
        assertThat(ErrorSink.runtime(call, log, Failure.usage("ARGS_INVALID", "--rootless must be true, false or auto")))
                .as("runc's usage status").isEqualTo(Exit.USAGE);
        assertThat(err().lines()).hasSize(3).allMatch(l -> l.startsWith("gvshim: ") && !l.startsWith("gvshim: gvshim: "));
    }

    @Test
    void gvshimsOwnVerbsExitWithTheFailuresStatus() {
        assertThat(ErrorSink.failure(call, Failure.of("RUNSC_MISSING", "cannot find runsc", null, null, "install it")))
                .isEqualTo(Exit.GVSHIM);
        assertThat(ErrorSink.failure(call, new Failure("COMMAND_NOT_FOUND", "cannot run `x`: not found in $PATH", null, null,
                null, Exit.NOT_FOUND))).isEqualTo(Exit.NOT_FOUND);
        assertThat(err()).isEqualTo("gvshim: cannot find runsc. Fix: install it [RUNSC_MISSING]\n"
                + "gvshim: cannot run `x`: not found in $PATH [COMMAND_NOT_FOUND]\n");
    }

    @Test
    void theExceptionCarriesTheFailureAndItsLine() {
        Failure f = Failure.runtime("CONTAINER_NOT_RUNNING", "container not running: web");
        GvshimException e = new GvshimException(f);
        assertThat(e.failure()).isSameAs(f);
        assertThat(e.getMessage()).isEqualTo("gvshim: container not running: web [CONTAINER_NOT_RUNNING]");
        assertThat(e.failure().exitCode()).isEqualTo(Exit.RUNTIME);
    }

    @Test
    void withoutALogFileWarningsGoToStderrAndErrorsOnlyOnce() {
        RuntimeLog log = new RuntimeLog(null, "json", false, err);
        log.warning("w");
        error(log, "e");
        assertThat(err()).startsWith("{\"level\":\"warning\",\"msg\":\"w\",\"time\":\"").endsWith("\"}\ngvshim: e [TEST_ID]\n");
    }

    @Test
    void anUnwritableLogDoesNotLoseTheMessage(@TempDir Path tmp) {
        RuntimeLog log = new RuntimeLog(tmp.resolve("no/such/dir/log.json"), "json", false, err);
        error(log, "the real error");
        assertThat(err()).contains("cannot write the log").contains("the message was: gvshim: the real error [TEST_ID]")
                .endsWith("gvshim: the real error [TEST_ID]\n");
    }
}
