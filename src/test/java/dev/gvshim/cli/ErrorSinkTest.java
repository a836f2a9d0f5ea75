package dev.gvshim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gvshim.call.Call;
import dev.gvshim.call.TestCalls;
import dev.gvshim.container.RuntimeError;
import dev.gvshim.container.RuntimeLog;
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

    void error(RuntimeLog log, String msg) {
        assertThat(ErrorSink.runtime(call, log, new RuntimeError(msg))).isEqualTo(1);
    }

    @Test
    void errorsAreAppendedAndTheLastErrorIsWhatContainerdReads(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("log.json");
        Files.writeString(file, "{\"level\":\"info\",\"msg\":\"from an earlier call\",\"time\":\"2024-01-01T00:00:00Z\"}\n");
        RuntimeLog log = new RuntimeLog(file, "json", false, err);
        error(log, "first \"failure\"");
        log.warning("a warning");
        error(log, "gvshim: second\nfailure");
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(4);
        assertThat(lines.getFirst()).contains("from an earlier call");
        for (String l : lines) {
            MAPPER.readTree(l); // each line is a JSON document
        }
        assertThat(MAPPER.readTree(lines.get(2)).path("level").asText()).isEqualTo("warning");
        assertThat(RunscLogs.lastError(file)).isEqualTo("gvshim: second\nfailure");
        assertThat(err()).as("errors also go to stderr, once each, prefixed once")
                .isEqualTo("gvshim: first \"failure\"\ngvshim: second\nfailure\n");
    }

    @Test
    void withoutALogFileWarningsGoToStderrAndErrorsOnlyOnce() {
        RuntimeLog log = new RuntimeLog(null, "json", false, err);
        log.warning("w");
        error(log, "e");
        assertThat(err()).isEqualTo("gvshim: warning: w\ngvshim: e\n");
    }

    @Test
    void anUnwritableLogDoesNotLoseTheMessage(@TempDir Path tmp) {
        RuntimeLog log = new RuntimeLog(tmp.resolve("no/such/dir/log.json"), "json", false, err);
        error(log, "the real error");
        assertThat(err()).contains("cannot write the log").contains("the message was: the real error")
                .endsWith("gvshim: the real error\n");
    }
}
