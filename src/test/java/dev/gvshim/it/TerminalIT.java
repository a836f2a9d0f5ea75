package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Terminals: `exec -t` (root and rootless), process.consoleSize and --console-socket, which still
 * gets the container's terminal.
 */
class TerminalIT extends RuncFixture {
    /**
     * `exec -t` gives the process a terminal, also when the caller has none (runc allocates one and
     * copies it to its stdio); without -t the process has pipes. It was accepted and dropped: runsc
     * 2022-12 gives an exec'd process a terminal only through its process.json.
     */
    @Test
    void execTtyGivesTheProcessATerminalAsRootAndRootless() throws Exception {
        String probe = "[ -t 0 ] && [ -t 1 ] && echo tty-yes || echo tty-no";
        Path b = bundle("exectty", "/bin/sleep", "600");
        assertThat(create(b, "exectty").code()).isZero();
        try {
            assertThat(gv(b, "start", "exectty").code()).isZero();
            Host.Result t = gv(b, "exec", "-t", "exectty", "/bin/sh", "-c", probe);
            assertThat(t.code()).as(t + read(log)).isZero();
            assertThat(t.out()).as("a terminal: output through it (\\r\\n)").isEqualTo("tty-yes\r\n");
            Host.Result p = gv(b, "exec", "exectty", "/bin/sh", "-c", probe);
            assertThat(p.out()).isEqualTo("tty-no\n");
            Host.Result d = gv(b, "exec", "-t", "-d", "exectty", "/bin/true");
            assertThat(d.code()).as("exec's own failure: runc's 255").isEqualTo(255);
            assertThat(d.err()).contains("cannot allocate tty if runc will detach without setting console socket");
        } finally {
            gv(b, "delete", "--force", "exectty");
        }

        Path u = userBundle("rlexectty", "exec sleep 600");
        String g = "$G --log " + u.resolve("log.json") + " --log-format json ";
        Host.Result r = host.userShell("cd " + u + " && " + g + "create --bundle . rlt </dev/null >out 2>err && " + g + "start rlt && "
                + g + "exec -t rlt /bin/sh -c '" + probe + "' </dev/null; " + g + "delete --force rlt", T);
        assertThat(r.out()).as(r + read(u.resolve("log.json"))).startsWith("tty-yes");
    }

    /** process.consoleSize: runsc ignores it; gvshim's terminal starts with it (the caller has none to give). */
    @Test
    void aTerminalStartsWithTheSpecsConsoleSize() throws Exception {
        Path b = specBundle("console", s -> {
            ObjectNode p = s.withObject("process");
            p.put("terminal", true);
            p.putObject("consoleSize").put("height", 37).put("width", 101);
        }, "stty size");
        Host.Result r = runBundle(false, b, "console-size");
        assertThat(r.code()).as(r + logOf(b)).isZero();
        assertThat(r.out().strip()).isEqualTo("37 101");
    }

    @Test
    void consoleSocketStillGetsTheContainersTerminal() throws Exception {
        Path helper = Path.of(System.getProperty("gvshim.native.dir", "target/native"), "test/gvshim-console");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(helper), "no " + helper);
        devNullAsItShouldBe();
        Path b = bundle("console", "/bin/sh", "-c", "test -t 0 && test -t 1 && echo on-a-tty");
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).put("terminal", true);
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));

        // runc's rule: a detached container with a terminal needs someone to take the pty
        Host.Result refused = create(b, "console");
        assertThat(refused.code()).isEqualTo(1);
        assertThat(lastError()).startsWith("gvshim: cannot allocate tty if runc will detach without setting console socket");
        assertThat(rootEntries()).isEmpty();

        Path sock = tmp.resolve("console.sock");
        Process console = new ProcessBuilder(helper.toString(), sock.toString())
                .redirectOutput(b.resolve("console.out").toFile()).redirectError(b.resolve("console.err").toFile()).start();
        try {
            for (int i = 0; i < 50 && !Files.exists(sock); i++) {
                sleep(100);
            }
            Host.Result c = create(b, "console", "--console-socket", sock.toString());
            assertThat(c.code()).as(c + read(log)).isZero();
            assertThat(gv(b, "start", "console").code()).isZero();
            assertThat(console.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("the console helper ended").isTrue();
            assertThat(read(b.resolve("console.err"))).contains("received a terminal");
            assertThat(read(b.resolve("console.out"))).contains("on-a-tty");
            assertThat(awaitStatus("console", "stopped")).isEqualTo("stopped");
            assertThat(gv(b, "delete", "console").code()).isZero();
        } finally {
            console.destroyForcibly();
        }
        assertThat(owner(Path.of("/dev/null"))).isEqualTo("root:root:666");
    }
}
