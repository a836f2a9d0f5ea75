package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gvshim.runsc.RunscLogs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --log as containerd reads it: one JSON object per line, {"level","msg","time"}, appended;
 * the shim keeps the msg of the last "level":"error" line.
 */
class RuntimeLogTest {
    static final ObjectMapper MAPPER = new ObjectMapper();
    final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void jsonLineHasLevelMsgAndRfc3339Time() throws Exception {
        RuntimeLog log = new RuntimeLog(null, "json", false, err);
        String line = log.line("error", "container does not exist: x", Instant.parse("2024-01-02T03:04:05.123Z"));
        assertThat(line).as("logrus's RFC 3339 time, to the second, as runc's JSON lines")
                .isEqualTo("{\"level\":\"error\",\"msg\":\"container does not exist: x\",\"time\":\"2024-01-02T03:04:05Z\"}\n");
    }

    @Test
    void jsonEscapesQuotesBackslashesNewlinesAndControlCharacters() throws Exception {
        RuntimeLog log = new RuntimeLog(null, "json", false, err);
        String msg = "cannot open \"/a\\b\"\nsecond line\ttab\u0001 ü";
        String line = log.line("error", msg, Instant.EPOCH);
        assertThat(line).endsWith("\n");
        assertThat(line.substring(0, line.length() - 1)).doesNotContain("\n").doesNotContain("\t");
        JsonNode j = MAPPER.readTree(line);
        assertThat(j.path("msg").asText()).isEqualTo(msg);
        assertThat(j.path("level").asText()).isEqualTo("error");
        assertThat(Instant.parse(j.path("time").asText())).isEqualTo(Instant.EPOCH);
    }

    @Test
    void textFormatIsLogrusKeyValue() {
        RuntimeLog log = new RuntimeLog(null, "text", false, err);
        assertThat(log.line("warning", "say \"hi\"\nback\\slash", Instant.parse("2024-01-02T03:04:05Z")))
                .isEqualTo("time=\"2024-01-02T03:04:05Z\" level=warning msg=\"say \\\"hi\\\"\\nback\\\\slash\"\n");
    }

    @Test
    void anyFormatButTextIsJson() {
        assertThat(new RuntimeLog(null, null, false, err).line("error", "m", Instant.EPOCH)).startsWith("{");
        assertThat(new RuntimeLog(null, "JSON", false, err).line("error", "m", Instant.EPOCH)).startsWith("{");
    }

    @Test
    void debugLinesOnlyWithDebug(@TempDir Path tmp) throws Exception {
        Path quiet = tmp.resolve("quiet.json");
        RuntimeLog off = new RuntimeLog(quiet, "json", false, err);
        off.debug("runsc --root=/x create");
        assertThat(off.debugEnabled()).isFalse();
        assertThat(quiet).doesNotExist();
        Path loud = tmp.resolve("loud.json");
        RuntimeLog on = new RuntimeLog(loud, "json", true, err);
        on.debug("runsc --root=/x create");
        assertThat(on.debugEnabled()).isTrue();
        assertThat(MAPPER.readTree(Files.readString(loud)).path("level").asText()).isEqualTo("debug");
        assertThat(err()).as("debug and warning lines never reach stderr when there is a --log").isEmpty();
    }

    @Test
    void withoutALogDebugAndWarningLinesGoToStderrAsRuncsLogrusLines() throws Exception {
        RuntimeLog text = new RuntimeLog(null, "text", true, err);
        text.debug("runsc --root=/x state c");
        text.warning("container's cgroup is not empty: 2 process(es) found");
        String[] lines = err().split("\n");
        assertThat(lines).hasSize(2);
        assertThat(lines[0]).matches("time=\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(Z|[+-]\\d\\d:\\d\\d)\" level=debug"
                + " msg=\"runsc --root=/x state c\"");
        assertThat(lines[1]).endsWith(" level=warning msg=\"container's cgroup is not empty: 2 process(es) found\"");
        errBytes.reset();
        RuntimeLog json = new RuntimeLog(null, "json", true, err);
        json.debug("d");
        assertThat(MAPPER.readTree(err()).path("level").asText()).isEqualTo("debug");
        errBytes.reset();
        new RuntimeLog(null, "text", false, err).debug("not without --debug");
        assertThat(err()).isEmpty();
    }
}
