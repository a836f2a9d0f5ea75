package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gvshim.runsc.RunscCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gvshim-nsexec's signal forwarding (--signal-argv, native/nsexec_signals.c) with /bin/sh in
 * runsc's place and a script in `runsc kill`'s, which records its arguments and signals the
 * "container" (the script's process) itself. No root, no runsc, no host effects.
 */
class NsExecSignalsTest {
    @TempDir
    Path tmp;
    private Path nsexec;
    private final List<Process> started = new ArrayList<>();

    /** The "container": traps what the tests send, says so, TERM ends it with 3; its pid in $T/pid. */
    private static final String CONTAINER = "echo $$ > pid; trap 'echo got-TERM; exit 3' TERM; trap 'echo got-INT' INT;"
            + " trap 'echo got-HUP' HUP; trap 'echo got-USR1' USR1; echo ready; while :; do sleep 0.05; done";

    @BeforeEach
    void binary() {
        nsexec = Path.of(System.getProperty("gvshim.native.dir", "target/native"), "gvshim-nsexec");
        assumeTrue(Files.isExecutable(nsexec), "gvshim-nsexec is not built at " + nsexec + " (mvn builds it in generate-resources)");
    }

    @AfterEach
    void stop() {
        started.forEach(Process::destroyForcibly);
    }

    /**
     * The "runsc kill" argv file: a script that appends its arguments to $T/kills, fails while
     * $T/refuse holds a positive count (decremented: a created container runsc will not signal
     * yet), then sends the signal (its last argument) to the pid in $T/pid.
     */
    private Path killArgv() throws IOException {
        Path argv = tmp.resolve("argv");
        String script = "cd " + tmp + "; echo \"$@\" >> kills; n=$(cat refuse 2>/dev/null || echo 0);"
                + " if [ \"$n\" -gt 0 ]; then echo $((n - 1)) > refuse; exit 1; fi;"
                + " for a; do sig=$a; done; kill -$sig $(cat pid)";
        Files.write(argv, RunscCommand.nulSeparated(List.of("/bin/sh", "-c", script, "kill", "CT")));
        return argv;
    }

    private Process relay(String... options) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(nsexec.toString(), "--relay", "wait", "--id", "CT", "--error-file",
                tmp.resolve("err-file").toString()));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("--", "/bin/sh", "-c", CONTAINER));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectOutput(tmp.resolve("out").toFile())
                .redirectError(tmp.resolve("stderr").toFile()).start();
        p.getOutputStream().close();
        started.add(p);
        return p;
    }

    private void await(String file, String text) throws Exception {
        for (int i = 0; i < 200 && !read(file).contains(text); i++) {
            Thread.sleep(50);
        }
        assertThat(read(file)).contains(text);
    }

    private String read(String file) throws IOException {
        Path f = tmp.resolve(file);
        return Files.exists(f) ? Files.readString(f) : "";
    }

    private static void kill(Process p, String sig) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).start().waitFor()).isZero();
    }

    private static int exit(Process p) throws InterruptedException {
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    @Test
    void eachSignalReachesTheProcessInOrderAndTheStatusIsItsOwn() throws Exception {
        Process p = relay("--signal-argv", killArgv().toString());
        await("out", "ready\n");
        for (String sig : List.of("USR1", "INT", "HUP")) {
            kill(p, sig);
            await("out", "got-" + sig + "\n");
        }
        kill(p, "TERM");
        assertThat(exit(p)).isEqualTo(3);
        assertThat(read("out")).isEqualTo("ready\ngot-USR1\ngot-INT\ngot-HUP\ngot-TERM\n");
        assertThat(read("kills")).as("`runsc kill ID SIG` once per signal").isEqualTo("CT 10\nCT 2\nCT 1\nCT 15\n");
        assertThat(read("stderr")).isEmpty();
    }

    @Test
    void aProcessKilledByTheSignalIsStatus128PlusN() throws Exception {
        Process p = new ProcessBuilder(nsexec.toString(), "--relay", "wait", "--signal-argv", killArgv().toString(), "--error-file",
                tmp.resolve("err-file").toString(), "--", "/bin/sh", "-c", "echo $$ > pid; echo ready; exec sleep 60")
                .directory(tmp.toFile()).redirectOutput(tmp.resolve("out").toFile()).start();
        started.add(p);
        await("out", "ready\n");
        kill(p, "TERM");
        assertThat(exit(p)).isEqualTo(143);
    }

    @Test
    void anExecdProcessIsNamedByItsPidOnceRunscWroteIt() throws Exception {
        // runsc exec writes --internal-pid-file once the process runs: `runsc kill --pid=N ID SIG` names that process
        Process p = relay("--signal-argv", killArgv().toString(), "--signal-pid-file", tmp.resolve("pid").toString());
        await("out", "ready\n");
        String pid = read("pid").strip();
        kill(p, "TERM");
        assertThat(exit(p)).isEqualTo(3);
        assertThat(read("kills")).isEqualTo("--pid=" + pid + " CT 15\n");
    }

    @Test
    void aSignalRunscRefusesAtFirstIsTriedAgain() throws Exception {
        // before `runsc run` has started the container, runsc kill refuses it ("created")
        Files.writeString(tmp.resolve("refuse"), "2\n");
        Process p = relay("--signal-argv", killArgv().toString());
        await("out", "ready\n");
        kill(p, "USR1");
        await("out", "got-USR1\n");
        assertThat(read("kills")).isEqualTo("CT 10\nCT 10\nCT 10\n");
        kill(p, "TERM");
        assertThat(exit(p)).isEqualTo(3);
    }

    @Test
    void runscHasAProcessGroupOfItsOwnSoTheCallersJobSignalsReachItOnlyThroughTheRelay() throws Exception {
        Process p = new ProcessBuilder(nsexec.toString(), "--relay", "wait", "--signal-argv", killArgv().toString(), "--error-file",
                tmp.resolve("err-file").toString(), "--", "/bin/sh", "-c", "cut -d' ' -f5 /proc/$$/stat")
                .directory(tmp.toFile()).start();
        started.add(p);
        String pgid = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(exit(p)).isZero();
        assertThat(pgid).isNotEqualTo(Files.readString(Path.of("/proc/self/stat")).split(" ")[4]);
        Process plain = new ProcessBuilder(nsexec.toString(), "--relay", "wait", "--error-file", tmp.resolve("err-file").toString(),
                "--", "/bin/sh", "-c", "cut -d' ' -f5 /proc/$$/stat").directory(tmp.toFile()).start();
        started.add(plain);
        assertThat(new String(plain.getInputStream().readAllBytes()).strip()).as("without forwarding: the caller's job, as before")
                .isEqualTo(Files.readString(Path.of("/proc/self/stat")).split(" ")[4]);
    }

    @Test
    void forwardingNeedsARelayThatWaits() throws Exception {
        Process p = new ProcessBuilder(nsexec.toString(), "--relay", "detach", "--signal-argv", killArgv().toString(), "--error-file",
                tmp.resolve("err-file").toString(), "--", "/bin/true").start();
        started.add(p);
        assertThat(exit(p)).isEqualTo(125);
        assertThat(read("err-file")).isEqualTo("usage 22\n");
    }
}
