package dev.gvshim.runsc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What runsc leaves behind when it fails: the last error of --log and the FATAL lines of its debug logs. */
class RunscLogsTest {
    @Test
    void lastErrorIsTheMsgOfTheLastErrorLine(@TempDir Path tmp) throws Exception {
        Path log = Files.writeString(tmp.resolve("log.json"), """
                {"level":"error","msg":"first","time":"2024-01-01T00:00:00Z"}
                {"level":"info","msg":"not an error","time":"2024-01-01T00:00:01Z"}
                {"level":"error","msg":"creating container: cannot create sandbox: \\"quoted\\"\\nnext","time":"2024-01-01T00:00:02Z"}
                {"level":"warning","msg":"later warning","time":"2024-01-01T00:00:03Z"}
                """);
        assertThat(RunscLogs.lastError(log)).isEqualTo("creating container: cannot create sandbox: \"quoted\"\nnext");
    }

    @Test
    void runscWritesNoNewlineBetweenObjects(@TempDir Path tmp) throws Exception {
        Path log = Files.writeString(tmp.resolve("log.json"),
                "{\"msg\":\"a\",\"level\":\"error\",\"time\":\"t\"}{\"msg\":\"b\",\"level\":\"error\",\"time\":\"t\"}");
        assertThat(RunscLogs.lastError(log)).isEqualTo("b");
    }

    @Test
    void aTornLastLineKeepsThePreviousError(@TempDir Path tmp) throws Exception {
        Path log = Files.writeString(tmp.resolve("log.json"),
                "{\"level\":\"error\",\"msg\":\"whole\",\"time\":\"t\"}\n{\"level\":\"error\",\"msg\":\"tor");
        assertThat(RunscLogs.lastError(log)).isEqualTo("whole");
    }

    @Test
    void noLogOrNoErrorIsEmpty(@TempDir Path tmp) throws Exception {
        assertThat(RunscLogs.lastError(tmp.resolve("missing"))).isEmpty();
        assertThat(RunscLogs.lastError(Files.writeString(tmp.resolve("l"), "{\"level\":\"info\",\"msg\":\"x\"}\n"))).isEmpty();
    }

    @Test
    void fatalAndPanicLinesOfTheDebugLogsOnceEach(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("runsc.log.20240101-000000.boot.txt"), """
                I0101 00:00:00.000000       1 main.go:1] ***************************
                W0101 00:00:00.100000       1 util.go:64] FATAL ERROR: error setting up chroot: permission denied\s
                W0101 00:00:00.100000       1 main.go:2] FATAL ERROR: error setting up chroot: permission denied
                """);
        Files.writeString(dir.resolve("runsc.log.20240101-000000.gofer.txt"), """
                panic: unable to attach: operation not permitted
                goroutine 1 [running]:
                """);
        Files.writeString(dir.resolve("other.log"), "FATAL ERROR: not a debug log\n");
        assertThat(RunscLogs.fatalLines(dir)).containsExactlyInAnyOrder("error setting up chroot: permission denied",
                "panic: unable to attach: operation not permitted");
        assertThat(RunscLogs.fatalLines(dir.resolve("missing"))).isEmpty();
    }

    @Test
    void aSpecDumpAfterAMessageIsDroppedAndOtherLinesJoined() {
        // runsc/specutils ReadSpecFromFile: "...: %v\n %s" with the whole config.json
        String msg = "reading spec: error unmarshaling spec from file \"/b/config.json\": json: cannot unmarshal number into Go"
                + " struct field Process.process.args of type string\n {\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [1, 2]},"
                + " \"linux\": {\"namespaces\": [{\"type\": \"uts\"}, {\"type\": \"mount\"}]}}";
        assertThat(RunscLogs.oneLine(msg)).isEqualTo("reading spec: error unmarshaling spec from file \"/b/config.json\": json:"
                + " cannot unmarshal number into Go struct field Process.process.args of type string");
        assertThat(RunscLogs.oneLine("stopping container: x\ndeleting container state files: y")).isEqualTo(
                "stopping container: x; deleting container state files: y");
        assertThat(RunscLogs.oneLine("panic: invalid state transition: paused => stopped\n\ngoroutine 1 [running]:\nmain.x()"))
                .isEqualTo("panic: invalid state transition: paused => stopped");
        assertThat(RunscLogs.oneLine("one line")).isEqualTo("one line");
        assertThat(RunscLogs.oneLine(null)).isEmpty();
    }

    @Test
    void newFatalLinesAreOnlyThoseNotReportedBefore(@TempDir Path dir) throws Exception {
        Path boot = dir.resolve("runsc.log.20240101-000000.000000.boot.txt");
        Files.writeString(boot, "I0101 starting\nW0101 FATAL ERROR: first failure\n");
        Files.writeString(dir.resolve("runsc.log.20240101-000001.000000.exec.txt"), "W0101 FATAL ERROR: exec in paused\n");
        assertThat(RunscLogs.newFatalLines(dir)).containsExactlyInAnyOrder("first failure", "exec in paused");
        assertThat(RunscLogs.newFatalLines(dir)).as("already reported").isEmpty();
        // the long-lived boot log grows, and a later call writes a log of its own
        Files.writeString(boot, "W0101 FATAL ERROR: sandbox died\n", java.nio.file.StandardOpenOption.APPEND);
        Files.writeString(dir.resolve("runsc.log.20240101-000002.000000.exec.txt"), "W0101 FATAL ERROR: exec in stopped\n");
        assertThat(RunscLogs.newFatalLines(dir)).containsExactlyInAnyOrder("sandbox died", "exec in stopped");
        assertThat(RunscLogs.fatalLines(dir)).as("all of them, for `gvshim explain`").hasSize(4);
        assertThat(RunscLogs.newFatalLines(dir.resolve("missing"))).isEmpty();
    }
}
