package dev.gvshim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExplainVerbTest {
    @Test
    void readsTheLastErrorOfRunscsLogWrittenWithoutNewlines(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("runsc.log");
        Files.writeString(log, "{\"msg\":\"first\",\"level\":\"error\",\"time\":\"t\"}{\"msg\":\"just info\",\"level\":\"info\"}"
                + "{\"msg\":\"running container: creating container: cannot create sandbox: EOF\",\"level\":\"error\",\"time\":\"t\"}");
        assertThat(dev.gvshim.runsc.RunscLogs.lastError(log)).isEqualTo("running container: creating container: cannot create sandbox: EOF");
        assertThat(dev.gvshim.runsc.RunscLogs.lastError(dir.resolve("missing"))).isEmpty();
    }

    @Test
    void collectsFatalLinesOfTheDebugLogsOnce(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("x.boot.txt"), "I1122 10:00:00 boot.go:1] starting\n"
                + "W1122 10:00:00 main.go:2] FATAL ERROR: error mounting proc: operation not permitted\n");
        Files.writeString(dir.resolve("x.gofer.txt"), "W1122 main.go:2] FATAL ERROR: error mounting proc: operation not permitted\n");
        Files.writeString(dir.resolve("ignored.log"), "FATAL ERROR: not a debug log\n");
        assertThat(dev.gvshim.runsc.RunscLogs.fatalLines(dir)).containsExactly("error mounting proc: operation not permitted");
    }
}
