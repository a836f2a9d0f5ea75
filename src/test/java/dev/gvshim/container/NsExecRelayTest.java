package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native relay of the runtime verbs (gvshim-nsexec --relay, relay.c), with /bin/sh in
 * runsc's place: what the program gets as stdio, and what reaches the caller's descriptors.
 * No root, no runsc, no host effects.
 */
class NsExecRelayTest {
    @TempDir
    Path tmp;
    private Path nsexec;

    @BeforeEach
    void binary() {
        nsexec = Path.of(System.getProperty("gvshim.native.dir", "target/native"), "gvshim-nsexec");
        assumeTrue(Files.isExecutable(nsexec), "gvshim-nsexec is not built at " + nsexec + " (mvn builds it in generate-resources)");
    }

    record Result(int code, String out, String err) {
    }

    /** {@code sh -c SCRIPT} with $N = gvshim-nsexec --error-file E (and $E, $T = the temp dir), stdout and stderr piped. */
    private Result sh(String script) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", script).directory(tmp.toFile());
        pb.environment().put("N", nsexec + " --error-file " + tmp.resolve("err-file"));
        pb.environment().put("E", tmp.resolve("err-file").toString());
        Process p = pb.start();
        p.getOutputStream().close();
        // a thread each: the common pool may have one (2 CPUs), and a program blocked on a full stderr pipe never ends stdout
        java.util.concurrent.Executor own = task -> Thread.ofPlatform().daemon().start(task);
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()), own);
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()), own);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("no hang: " + script).isTrue();
        return new Result(p.exitValue(), out.get(20, TimeUnit.SECONDS), err.get(20, TimeUnit.SECONDS));
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    @Test
    void theProgramGetsPipesNeverTheCallersFiles() throws Exception {
        // a file, /dev/null and 2>&1: none of them reaches the program; stdout and stderr that are one file share one pipe
        Result r = sh("$N --relay wait -- /bin/sh -c 'for i in 0 1 2; do readlink /proc/self/fd/$i; done; ls /proc/self/fd'"
                + " </dev/null >out 2>&1; echo rc=$?");
        assertThat(r.out()).isEqualTo("rc=0\n");
        List<String> lines = Files.readAllLines(tmp.resolve("out"));
        assertThat(lines.subList(0, 3)).allSatisfy(l -> assertThat(l).startsWith("pipe:["));
        assertThat(lines.get(1)).as("2>&1: one pipe, so the order of writes is kept").isEqualTo(lines.get(2));
        assertThat(lines.get(0)).isNotEqualTo(lines.get(1));
        assertThat(lines.subList(3, lines.size())).as("descriptors of the program: 0-2 and ls's own directory")
                .containsExactly("0", "1", "2", "3");
        Result sep = sh("$N --relay wait -- /bin/sh -c 'readlink /proc/self/fd/1 /proc/self/fd/2' 2>/dev/null");
        assertThat(sep.out().lines().distinct()).as("separate stdout and stderr: two pipes").hasSize(2);
    }

    @Test
    void aFileKeepsItsOffsetAndAppendMode() throws Exception {
        Result r = sh("(echo LINE-1; $N --relay wait -- /bin/echo LINE-2; echo LINE-3) > over;"
                + " echo A > app; $N --relay detach -- /bin/echo B >> app");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(Files.readString(tmp.resolve("over"))).isEqualTo("LINE-1\nLINE-2\nLINE-3\n");
        assertThat(Files.readString(tmp.resolve("app"))).isEqualTo("A\nB\n");
    }

    @Test
    void stdinIsRelayedAndDevNullIsAnEmptyPipe() throws Exception {
        assertThat(sh("printf 'one\\ntwo\\n' | $N --relay wait -- /bin/cat").out()).isEqualTo("one\ntwo\n");
        Result empty = sh("$N --relay wait -- /bin/sh -c 'readlink /proc/self/fd/0 | cut -c1-5; wc -c' </dev/null");
        assertThat(empty.out()).isEqualTo("pipe:\n0\n");
        Result closed = sh("$N --relay wait -- /bin/sh -c 'wc -c; echo done' <&-");
        assertThat(closed.out()).isEqualTo("0\ndone\n");
    }

    @Test
    void exitStatusIsTheProgramsAndSignalsAre128PlusN() throws Exception {
        assertThat(sh("$N --relay wait -- /bin/sh -c 'exit 3'").code()).isEqualTo(3);
        assertThat(sh("$N --relay detach -- /bin/sh -c 'kill -9 $$'").code()).isEqualTo(137);
    }

    @Test
    void outputThatCannotBeWrittenIsReportedAndTheProgramGetsEpipe() throws Exception {
        Path log = tmp.resolve("log.json");
        Result full = sh("$N --relay wait --log " + log + " --log-format json --id c1 -- /bin/sh -c"
                + " 'head -c 1000000 /dev/zero; echo head=$? >&2' >/dev/full");
        assertThat(full.code()).as(full.toString()).isEqualTo(125);
        List<String> gvshim = full.err().lines().filter(l -> l.startsWith("gvshim:")).toList();
        assertThat(gvshim).hasSize(1).first().asString().contains("[write(stdout): ENOSPC (No space left on device)]")
                .contains("of container c1's stdout could not be written").endsWith("[OUTPUT_LOST]");
        assertThat(full.err()).as("head's writes failed (EPIPE, or SIGPIPE)").containsPattern("head=(1|141)\n");
        JsonNode line = new ObjectMapper().readTree(Files.readAllLines(log).getLast());
        assertThat(line.path("level").asText()).isEqualTo("error");
        assertThat(line.path("msg").asText()).isEqualTo(gvshim.getFirst());
        assertThat(line.path("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z");

        Result closed = sh("$N --relay wait -- /bin/echo lost >&-");
        assertThat(closed.code()).isEqualTo(125);
        assertThat(closed.err()).contains("EBADF").contains("5 bytes").contains("stdout is closed");

        Result brokenStderr = sh("$N --relay wait -- /bin/sh -c 'echo to-stderr >&2' 2>/dev/full; echo rc=$?");
        assertThat(brokenStderr.out()).as("no line can be written: the status says it").isEqualTo("rc=125\n");

        Result failed = sh("$N --relay wait -- /bin/sh -c 'echo x; exit 4' >/dev/full");
        assertThat(failed.code()).as("the program's own failure comes first").isEqualTo(4);
    }

    @Test
    void aReaderThatLeavesIsNotAnError() throws Exception {
        Result r = sh("$N --relay wait -- /bin/sh -c 'while echo y; do :; done' | head -n 1");
        assertThat(r.out()).isEqualTo("y\n");
        assertThat(r.code()).isZero();
        assertThat(r.err()).as("EPIPE: the program sees it (SIGPIPE), as outside a sandbox; gvshim says nothing").isEmpty();
    }

    @Test
    void detachReturnsAtOnceAndTheRestIsRelayedUntilTheProgramsStdioCloses() throws Exception {
        long t0 = System.nanoTime();
        // 2>&1: the relay left in the background holds the descriptors, which would keep this test's pipes open
        Result r = sh("$N --relay detach -- /bin/sh -c '(sleep 1; echo late) & echo early' > out 2>&1; echo rc=$?");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.out()).isEqualTo("rc=0\n");
        assertThat(ms).as("returned with the program, not with its background child").isLessThan(900);
        for (int i = 0; i < 50 && !Files.readString(tmp.resolve("out")).contains("late"); i++) {
            Thread.sleep(100);
        }
        assertThat(Files.readString(tmp.resolve("out"))).isEqualTo("early\nlate\n");

        long t1 = System.nanoTime();
        Result w = sh("$N --relay wait -- /bin/sh -c '(sleep 3; echo very-late) & echo now' > out2 2>&1; cat out2");
        long waited = (System.nanoTime() - t1) / 1_000_000;
        assertThat(w.out()).isEqualTo("now\n");
        assertThat(waited).as("wait: a second of grace for the pipes, not the background child's 3 s").isBetween(900L, 2900L);
    }

    /**
     * --hold-stderr (runc's create): the program's stderr is held until it exits; on failure it is
     * dropped when its log or the error file recorded the failure (gvshim's one line says it), else
     * (a panic, nothing recorded) and on success written; what comes after the exit is relayed as it comes.
     */
    @Test
    void createsStderrIsHeldUntilItExitsAndDroppedWhenItsFailureIsRecorded() throws Exception {
        String hold = "$N --relay detach --hold-stderr runsc.log -- /bin/sh -c ";
        Result failed = sh("rm -f runsc.log $E; " + hold + "'echo runsc-error >&2; echo x > runsc.log; exit 1'; echo rc=$?");
        assertThat(failed.out()).isEqualTo("rc=1\n");
        assertThat(failed.err()).as("recorded in runsc's log: not shown").isEmpty();
        Result merged = sh("rm -f runsc.log $E; " + hold + "'echo o; echo e >&2; echo x > runsc.log; exit 1' >both 2>&1; echo rc=$?");
        assertThat(merged.out()).isEqualTo("rc=1\n");
        assertThat(tmp.resolve("both")).as("2>&1: the one pipe is held").isEmptyFile();
        Result step = sh("rm -f runsc.log $E; $N --relay detach --hold-stderr runsc.log --userns /nonexistent/ns -- /bin/true; echo rc=$?");
        assertThat(step.out()).isEqualTo("rc=125\n");
        assertThat(step.err()).as("gvshim-nsexec's own step: in the error file").isEmpty();

        Result panic = sh("rm -f runsc.log $E; " + hold + "'echo panic: boom >&2; exit 2'; echo rc=$?");
        assertThat(panic.out()).isEqualTo("rc=2\n");
        assertThat(panic.err()).as("nothing else recorded it: shown").isEqualTo("panic: boom\n");

        Result ok = sh("rm -f runsc.log $E; " + hold + "'echo before >&2; (sleep 0.5; echo after >&2) & exit 0'; echo rc=$?");
        assertThat(ok.out()).isEqualTo("rc=0\n");
        assertThat(ok.err()).as("success: what was held, then the rest as it comes").isEqualTo("before\nafter\n");

        Result big = sh("rm -f runsc.log $E; " + hold + "'head -c 70000 /dev/zero >&2; echo x > runsc.log; exit 1'");
        assertThat(big.err()).as("more than 64 KiB: not held").hasSize(70000);
        assertThat(sh("$N --relay terminal --hold-stderr runsc.log -- /bin/true; echo rc=$?").out()).as("not with a terminal")
                .isEqualTo("rc=125\n");
    }

    @Test
    void aFailedStepIsNamedInTheErrorFile() throws Exception {
        Result r = sh("$N --relay wait --userns /nonexistent/ns -- /bin/true; echo rc=$?; cat $E");
        assertThat(r.out()).isEqualTo("rc=125\nopen(userns) 2\n");
        assertThat(r.err()).contains("gvshim-nsexec: open(userns)");
    }

    /**
     * --nodev-file with --relay: the nodev copies are made by the relay's child just before the
     * exec, so a failure there is the child's (named in the error file, its line relayed), and
     * without a list the program stays in the caller's mount namespace.
     */
    @Test
    void theNodevCopiesAreTheRelaysChildsStep() throws Exception {
        Files.createDirectories(tmp.resolve("list-dir"));
        // a directory as the list: read(2) fails with EISDIR before any namespace is touched, root or not
        Result bad = sh("$N --relay wait --nodev-file " + tmp.resolve("list-dir") + " -- /bin/echo ran; echo rc=$?; cat $E");
        assertThat(bad.out()).as(bad.toString()).isEqualTo("rc=125\nread(nodev-file) 21\n");
        assertThat(bad.err()).as("the child's line, through the relay").isEqualTo(
                "gvshim-nsexec: read(nodev-file): Is a directory\n");
        Result none = sh("readlink /proc/self/ns/mnt; $N --relay wait --nodev-file " + tmp.resolve("no-list")
                + " -- /bin/sh -c 'readlink /proc/self/ns/mnt; readlink /proc/self/fd/1 | cut -c1-5'");
        assertThat(none.code()).as(none.toString()).isZero();
        List<String> lines = none.out().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(1)).as("no list: nothing to mount, no namespace").isEqualTo(lines.get(0));
        assertThat(lines.get(2)).as("and still a pipe").isEqualTo("pipe:");
    }

    /** Root only (a mount namespace needs CAP_SYS_ADMIN): the copy is nodev, seen by the program alone. */
    @Test
    void theProgramAloneSeesTheNodevCopy() throws Exception {
        assumeTrue("0".equals(sh("id -u").out().strip()), "needs root: unshare(CLONE_NEWNS) and mount(2)");
        Files.createDirectories(tmp.resolve("src"));
        Files.writeString(tmp.resolve("src/file"), "content");
        Files.createDirectories(tmp.resolve("dst"));
        Files.write(tmp.resolve("list"), (tmp.resolve("src") + "\0" + tmp.resolve("dst") + "\0rw\0")
                .getBytes(StandardCharsets.UTF_8));
        Result r = sh("readlink /proc/self/ns/mnt; $N --relay wait --nodev-file " + tmp.resolve("list") + " -- /bin/sh -c"
                + " 'readlink /proc/self/ns/mnt; cat " + tmp.resolve("dst/file") + "; echo; grep \" " + tmp.resolve("dst")
                + " \" /proc/self/mountinfo | grep -c nodev' >out; cat out; cat " + tmp.resolve("dst/file")
                + " 2>/dev/null || echo not-in-the-callers");
        assertThat(r.code()).as(r.toString()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).as(r.toString()).hasSize(5);
        assertThat(lines.get(1)).as("a mount namespace of the program's own").isNotEqualTo(lines.get(0));
        assertThat(lines.get(2)).isEqualTo("content");
        assertThat(lines.get(3)).as("the copy is mounted nodev").isEqualTo("1");
        assertThat(lines.get(4)).as("the caller's namespace is untouched").isEqualTo("not-in-the-callers");
    }

    @Test
    void terminalModeGivesTheProgramANewTerminal() throws Exception {
        Result r = sh("$N --relay terminal -- /bin/sh -c 'test -t 0 && test -t 1 && test -t 2 && echo all-ttys; tty'"
                + " </dev/null");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("all-ttys").contains("/dev/pts/");
    }

    /** process.consoleSize (runsc ignores it): the new terminal starts with it when the caller has no terminal. */
    @Test
    void terminalModeStartsWithTheSpecsConsoleSize() throws Exception {
        Result r = sh("$N --relay terminal --console-size 37x101 -- /bin/sh -c 'stty size' </dev/null");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out().strip()).isEqualTo("37 101");
        Result bad = sh("$N --relay wait --console-size 37x101 -- /bin/true </dev/null");
        assertThat(bad.code()).as("only a terminal has a size").isEqualTo(125);
        Result zero = sh("$N --relay terminal --console-size 0x80 -- /bin/true </dev/null");
        assertThat(zero.code()).isEqualTo(125);
    }

    @Test
    void detachedOutputGoesToItsOwnPrivateFileNeverTheCallers() throws Exception {
        // gvshim run -d: the caller's stdio is left alone (a file here); the program's output, late output included,
        // goes to --output (0600, appended); stdin is an empty pipe; then the background relay execs --then's argv
        Files.write(tmp.resolve("then"), String.join("\0", "/bin/sh", "-c", "echo ran > " + tmp.resolve("done"))
                .getBytes(StandardCharsets.UTF_8));
        Result r = sh("echo keep > caller; $N --relay detach --output $PWD/log --then $PWD/then -- /bin/sh -c"
                + " 'readlink /proc/self/fd/0; cat; echo out; echo err >&2; (sleep 1; echo late) &' >>caller 2>&1; echo rc=$?");
        assertThat(r.out()).isEqualTo("rc=0\n");
        for (int i = 0; i < 100 && !Files.exists(tmp.resolve("done")); i++) {
            Thread.sleep(50);
        }
        assertThat(Files.readString(tmp.resolve("done"))).as("--then ran once the output ended").isEqualTo("ran\n");
        List<String> log = Files.readAllLines(tmp.resolve("log"));
        assertThat(log.getFirst()).as("stdin: an empty pipe").startsWith("pipe:[");
        assertThat(log.subList(1, log.size())).containsExactly("out", "err", "late");
        assertThat(Files.getPosixFilePermissions(tmp.resolve("log"))).hasToString("[OWNER_READ, OWNER_WRITE]");
        assertThat(Files.readString(tmp.resolve("caller"))).as("the caller's file untouched").isEqualTo("keep\n");
        Result usage = sh("$N --relay wait --output $PWD/log2 -- /bin/true");
        assertThat(usage.code()).as("--output only with --relay detach").isEqualTo(125);
        assertThat(Files.exists(tmp.resolve("log2"))).isFalse();
    }
}
