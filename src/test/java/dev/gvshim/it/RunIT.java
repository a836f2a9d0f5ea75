package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * `gvshim run` against the real runsc, as a non-root user with subordinate ids: every
 * behaviour the foundation issue lists. After each test, nothing of the run may remain:
 * no run directory and no process of the test user.
 */
class RunIT {
    private static final Duration T = Duration.ofSeconds(60);
    private Host host;

    @BeforeEach
    void host() {
        host = Host.get();
    }

    @AfterEach
    void nothingLeft() throws Exception {
        for (int i = 0; i < 50 && !host.processes().isEmpty(); i++) {
            Thread.sleep(100); // sandbox processes are reaped asynchronously by the waiter's exit path
        }
        assertThat(host.processes()).as("processes of the test user after the run").isEmpty();
        assertThat(host.leftovers()).as("run directories left in " + host.stateDir()).isEmpty();
    }

    @Test
    void echoPrintsUnderGvisorWithSilentStderr() {
        Host.Result r = host.gvshim(null, T, "run", "--", "/bin/echo", "hello");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("hello\n");
        assertThat(r.err()).isEmpty();
        Host.Result kernel = host.gvshim(null, T, "run", "--", "/bin/cat", "/proc/version");
        assertThat(kernel.out()).as("the command sees gVisor's kernel, not the host's").contains("4.4.0")
                .doesNotContain(Host.sh("uname", "-r").out().strip());
    }

    @Test
    void exitCodesAreTheCommands() {
        assertThat(host.gvshim(null, T, "run", "--", "/bin/sh", "-c", "exit 0").code()).isZero();
        assertThat(host.gvshim(null, T, "run", "--", "/bin/sh", "-c", "exit 3").code()).isEqualTo(3);
        assertThat(host.gvshim(null, T, "run", "--", "/bin/sh", "-c", "kill -9 $$").code()).as("128+SIGKILL").isEqualTo(137);
    }

    @Test
    void stdinIsPipedThrough() {
        Host.Result r = host.gvshim("line one\nline two\n", T, "run", "--", "/bin/cat");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("line one\nline two\n");
    }

    @Test
    void stdoutAppendedToAFileKeepsItsContentAndOwner() throws Exception {
        Host.Result r = host.userShell(
                "echo before > out.txt; $G run -- /bin/echo appended >> out.txt; echo rc=$?;"
                        + " (echo first; $G run -- /bin/echo second) > over.txt", T);
        assertThat(r.out()).as(r.toString()).contains("rc=0");
        Path out = host.work.resolve("out.txt");
        assertThat(Files.readString(out)).isEqualTo("before\nappended\n");
        assertThat(Files.getAttribute(out, "unix:uid")).as("the file's owner (runsc chowns stdio it is given)").isEqualTo(host.uid);
        assertThat(Files.readString(host.work.resolve("over.txt"))).as("gVisor writes at offset 0 of files it is given")
                .isEqualTo("first\nsecond\n");
        Host.Result again = host.userShell("echo more >> out.txt && echo writable", T);
        assertThat(again.out()).contains("writable");
    }

    @Test
    void envOptionSetsAndPassesVariables() {
        Host.Result r = host.gvshim(null, T, "run", "--env", "FOO=bar baz", "-e", "USER", "--", "/bin/sh", "-c",
                "echo \"FOO=$FOO USER=$USER\"");
        assertThat(r.out()).isEqualTo("FOO=bar baz USER=" + Host.USER + "\n");
    }

    @Test
    void readOnlyMountCannotBeWritten() throws Exception {
        Path data = Files.createDirectories(host.work.resolve("data"));
        Files.writeString(data.resolve("in.txt"), "payload\n");
        Host.sh("chown", "-R", host.uid + ":" + host.gid, data.toString());
        Host.Result r = host.gvshim(null, T, "run", "--mount", data + ":/mnt:ro", "--", "/bin/sh", "-c",
                "cat /mnt/in.txt; echo x > /mnt/out.txt");
        assertThat(r.out()).isEqualTo("payload\n");
        assertThat(r.err()).contains("Read-only file system");
        assertThat(r.code()).isNotZero();
        assertThat(data.resolve("out.txt")).doesNotExist();
        Host.Result rw = host.gvshim(null, T, "run", "--mount", data + ":/mnt", "--", "/bin/sh", "-c", "echo x > /mnt/rw.txt");
        assertThat(rw.code()).as(rw.toString()).isZero();
        assertThat(data.resolve("rw.txt")).exists();
    }

    @Test
    void networkNoneHasOnlyLoopback() {
        Host.Result r = host.gvshim(null, T, "run", "--network", "none", "--", "/bin/sh", "-c",
                "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
        assertThat(r.out()).isEqualTo("lo\n");
    }

    @Test
    void timeoutStopsTheCommandWith124() {
        long t0 = System.nanoTime();
        Host.Result r = host.gvshim(null, T, "run", "--timeout", "1", "--", "/bin/sleep", "30");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.code()).as(r.toString()).isEqualTo(124);
        assertThat(r.err()).contains("timeout");
        assertThat(ms).as("stopped long before sleep 30 ends").isLessThan(10_000);
    }

    @Test
    void sigtermIsForwardedToTheCommand() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(host.asUser(java.util.List.of(host.gvshim.toString(), "run", "--", "/bin/sh",
                "-c", "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.1; done")));
        pb.directory(host.work.toFile());
        Process p = pb.start();
        var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        assertThat(reader.readLine()).isEqualTo("ready");
        p.toHandle().destroy(); // SIGTERM to gvshim (setpriv execs it: same pid)
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(reader.readLine()).isEqualTo("got TERM");
        assertThat(p.exitValue()).as("the command's own exit status").isEqualTo(7);
        dev.gvshim.Messages.check("gvshim run (SIGTERM)", new String(p.getErrorStream().readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void fullModeMapsSubordinateIdsThroughNewuidmap() throws Exception {
        Host.Result r = host.gvshim(null, T, "run", "--userns", "full", "--verbose", "--", "/bin/true");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.err()).contains("userns mode full").contains("0 " + host.uid + " 1,1 " + host.subuidRange())
                .contains("via newuidmap/newgidmap");
    }

    @Test
    void singleModeMapsOnlyTheCaller() {
        Host.Result r = host.gvshim(null, T, "run", "--userns", "single", "--verbose", "--", "/bin/echo", "single");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("single\n");
        assertThat(r.err()).contains("userns mode single").contains("0 " + host.uid + " 1").contains("direct /proc writes");
    }

    @Test
    void rootWritesTheMapsDirectly() throws Exception {
        Host.Result r = Host.run(java.util.List.of(host.gvshim.toString(), "run", "--verbose", "--", "/bin/echo", "as root"),
                null, T, host.work);
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("as root\n");
        assertThat(r.err()).contains("userns mode full").contains("direct /proc writes");
        // this run's directory (other root runs on the machine may be alive in the same state directory)
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("gvshim: run directory (\\S+)").matcher(r.err());
        assertThat(m.find()).as(r.err()).isTrue();
        Path runDir = Path.of(m.group(1));
        assertThat(Host.stateDirs(0)).as("root's state directory").contains(runDir.getParent());
        assertThat(runDir).as("removed at the end of the run").doesNotExist();
    }

    @Test
    void bundleRunsAndItsCommandCanBeReplaced() {
        Host.Result r = host.gvshim(null, T, "run", "--bundle", "hello");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).startsWith("hello from gVisor");
        Host.Result cmd = host.gvshim(null, T, "run", "--bundle", "hello", "--", "/bin/hostname");
        assertThat(cmd.out()).isEqualTo("hello\n");
    }

    @Test
    void missingBundleIsOneLineAnd125() {
        Host.Result r = host.gvshim(null, T, "run", "--bundle", "no-such-bundle");
        assertThat(r.code()).isEqualTo(125);
        assertThat(r.err().lines()).hasSize(1).first().asString().startsWith("gvshim: cannot use bundle").contains("no such directory");
    }

    @Test
    void malformedConfigIsOneLineAnd125() throws Exception {
        Path bad = Files.createDirectories(host.work.resolve("bad"));
        Files.writeString(bad.resolve("config.json"), "{\"ociVersion\": \"1.0.2\", \"process\": {\n");
        Host.sh("chown", "-R", host.uid + ":" + host.gid, bad.toString());
        Host.Result r = host.gvshim(null, T, "run", "--bundle", "bad");
        assertThat(r.code()).isEqualTo(125);
        assertThat(r.err().lines()).hasSize(1).first().asString().contains("cannot parse").contains("line 2")
                .doesNotContain("REDACTED");
    }

    @Test
    void unreachableRootfsIsNamedBeforeRunscStarts() throws Exception {
        // A rootfs extracted from a tarball of mktemp's directory keeps its 0700 mode: root can use
        // it, the sandbox of a non-root caller cannot. runsc alone says only "failed to chroot".
        Path locked = host.work.resolve("locked");
        Host.check(Host.sh("rm", "-rf", locked.toString()));
        Host.check(Host.sh("cp", "-a", host.work.resolve("hello").toString(), locked.toString()));
        Host.check(Host.sh("chown", "-R", "0:0", locked.resolve("rootfs").toString()));
        Host.check(Host.sh("chmod", "700", locked.resolve("rootfs").toString()));
        Host.Result r = host.gvshim(null, T, "run", "--bundle", "locked");
        assertThat(r.code()).as(r.toString()).isEqualTo(125);
        assertThat(r.err().lines()).as(r.toString()).hasSize(1).first().asString().contains("ROOTFS_NOT_ACCESSIBLE")
                .contains(locked.resolve("rootfs") + " (owner root, mode rwx------)").contains("uid " + host.uid)
                .contains("chmod a+rx " + locked.resolve("rootfs"));
        assertThat(r.out()).isEmpty();

        // a root file system elsewhere, behind a directory the caller cannot search: that directory is named
        Path hidden = host.work.resolve("hidden");
        Host.check(Host.sh("rm", "-rf", hidden.toString()));
        Host.check(Host.sh("mkdir", "-m", "700", hidden.toString()));
        Host.check(Host.sh("mv", locked.resolve("rootfs").toString(), hidden.resolve("rootfs").toString()));
        Host.check(Host.sh("chmod", "755", hidden.resolve("rootfs").toString()));
        Path config = locked.resolve("config.json");
        Files.writeString(config, Files.readString(config).replaceFirst("\"path\":\\s*\"rootfs\"",
                "\"path\": \"" + hidden.resolve("rootfs") + "\""));
        Host.Result parent = host.gvshim(null, T, "run", "--bundle", "locked");
        assertThat(parent.code()).as(parent.toString()).isEqualTo(125);
        assertThat(parent.err().lines()).as(parent.toString()).hasSize(1).first().asString().contains("ROOTFS_NOT_ACCESSIBLE")
                .contains(hidden + " (owner root, mode rwx------) is not searchable").contains("chmod a+x " + hidden);

        // a bundle behind such a directory: unreadable, not "no such directory"
        Host.check(Host.sh("mv", locked.toString(), hidden.resolve("bundle").toString()));
        Host.Result bundle = host.gvshim(null, T, "run", "--bundle", hidden.resolve("bundle").toString());
        assertThat(bundle.code()).as(bundle.toString()).isEqualTo(125);
        assertThat(bundle.err().lines()).as(bundle.toString()).hasSize(1).first().asString().contains("BUNDLE_UNREADABLE")
                .contains("permission denied");
    }

    /** The first minutes of a new user in a CI workspace under /tmp: a writable /tmp and HOME, the working directory readable. */
    @Test
    void aWorkingDirectoryUnderTmpKeepsItsFilesAndGetsAWritableTmpAndHome() throws Exception {
        assertThat(host.work.toString()).startsWith("/tmp/");
        Path input = host.work.resolve("input.txt");
        Files.writeString(input, "from the working directory\n");
        Host.check(Host.sh("chown", host.uid + ":" + host.gid, input.toString()));
        Host.Result r = host.gvshim(null, T, "run", "--verbose", "--", "/bin/sh", "-c", "cat input.txt;"
                + " echo t > /tmp/new && cat /tmp/new; echo h > $HOME/h && cat $HOME/h;"
                + " (echo x > input.txt) 2>/dev/null || echo cwd-read-only");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("from the working directory\nt\nh\ncwd-read-only\n");
        assertThat(r.err()).contains("gvshim: mounted /tmp: an empty writable tmpfs")
                .contains("gvshim: mounted " + host.work.getParent() + ": the working directory's tree, read-only")
                .contains("gvshim: mounted /root: an empty writable tmpfs for HOME");
        assertThat(Files.readString(input)).isEqualTo("from the working directory\n");
        assertThat(Path.of("/tmp/new")).as("the sandbox's /tmp is its own").doesNotExist();
    }

    /** Issue 15's cases of `run --rootfs` and `--cwd`, each named before runsc starts, with the path, owner and mode read. */
    @Test
    void aMissingWorkingDirectoryIsNamedNotCalledAMountDenial() throws Exception {
        // on the default root (the host's /, read-only in the sandbox): runsc's gofer says "mkdir: permission denied" behind EOF
        Host.Result onHost = host.gvshim(null, T, "run", "--cwd", "/no-such-dir", "--", "/bin/pwd");
        assertThat(onHost.code()).as(onHost.toString()).isEqualTo(125);
        assertThat(onHost.err().lines()).as(onHost.toString()).hasSize(1).first().asString()
                .isEqualTo("gvshim: cannot use --cwd /no-such-dir: /no-such-dir does not exist, and the sandbox may not create it"
                        + " (/: owner root, mode rwxr-xr-x). Fix: create it (mkdir -p /no-such-dir), or choose an existing"
                        + " directory [CWD_MISSING]");
        // under --rootfs, even one the caller may write: its root is read-only, and the host's directory stays untouched
        Host.Result own = host.gvshim(null, T, "run", "--rootfs", "hello/rootfs", "--cwd", "/no-such-dir", "--", "/bin/busybox",
                "pwd");
        assertThat(own.code()).as(own.toString()).isEqualTo(125);
        assertThat(own.err()).contains("[CWD_MISSING]").contains(host.work.resolve("hello/rootfs/no-such-dir") + " does not exist");
        assertThat(host.work.resolve("hello/rootfs/no-such-dir")).doesNotExist();
        // below a --tmpfs, which is empty when the sandbox starts (runsc would create it in the host's rootfs, then fail)
        Host.Result tmpfs = host.gvshim(null, T, "run", "--rootfs", "hello/rootfs", "--tmpfs", "/mnt", "--cwd", "/mnt/sub", "--",
                "/bin/busybox", "pwd");
        assertThat(tmpfs.code()).as(tmpfs.toString()).isEqualTo(125);
        assertThat(tmpfs.err()).contains("[CWD_MISSING]");
        assertThat(host.work.resolve("hello/rootfs/mnt/sub")).doesNotExist();
        // a mount point itself is there
        Host.Result point = host.gvshim(null, T, "run", "--rootfs", "hello/rootfs", "--tmpfs", "/mnt", "--cwd", "/mnt", "--",
                "/bin/busybox", "pwd");
        assertThat(point.code()).as(point.toString()).isZero();
        assertThat(point.out()).isEqualTo("/mnt\n");
    }

    @Test
    void aRootfsBehindAnUnsearchableDirectoryOrMode0700IsNamed() throws Exception {
        Path hidden = host.work.resolve("rootfs-hidden");
        Host.check(Host.sh("rm", "-rf", hidden.toString()));
        Host.check(Host.sh("mkdir", "-p", "-m", "700", hidden.toString()));
        Host.check(Host.sh("cp", "-a", host.work.resolve("hello/rootfs").toString(), hidden.resolve("rootfs").toString()));
        Host.Result parent = host.gvshim(null, T, "run", "--rootfs", hidden.resolve("rootfs").toString(), "--", "/bin/busybox",
                "true");
        assertThat(parent.code()).as(parent.toString()).isEqualTo(125);
        assertThat(parent.err().lines()).as(parent.toString()).hasSize(1).first().asString()
                .doesNotContain("is not a directory").contains("[ROOTFS_NOT_ACCESSIBLE]")
                .contains(hidden + " (owner root, mode rwx------) is not searchable by uid " + host.uid)
                .contains("chmod a+x " + hidden);
        // a 0700 root file system of another user's, given with --rootfs (runsc alone: `error unmarshaling mounts`)
        Host.check(Host.sh("chmod", "755", hidden.toString()));
        Host.check(Host.sh("chown", "0:0", hidden.resolve("rootfs").toString()));
        Host.check(Host.sh("chmod", "700", hidden.resolve("rootfs").toString()));
        Host.Result locked = host.gvshim(null, T, "run", "--rootfs", hidden.resolve("rootfs").toString(), "--", "/bin/busybox",
                "true");
        assertThat(locked.code()).as(locked.toString()).isEqualTo(125);
        assertThat(locked.err().lines()).as(locked.toString()).hasSize(1).first().asString()
                .doesNotContain("unmarshaling").contains("[ROOTFS_NOT_ACCESSIBLE]")
                .contains(hidden.resolve("rootfs") + " (owner root, mode rwx------) is not readable and searchable by uid " + host.uid)
                .contains("chmod a+rx " + hidden.resolve("rootfs"));
        Host.check(Host.sh("chmod", "755", hidden.resolve("rootfs").toString())); // the fix
        Host.Result fixed = host.gvshim(null, T, "run", "--rootfs", hidden.resolve("rootfs").toString(), "--", "/bin/busybox",
                "echo", "ok");
        assertThat(fixed.code()).as(fixed.toString()).isZero();
        Host.check(Host.sh("rm", "-rf", hidden.toString()));
    }

    @Test
    void unknownOptionIsOneLineAnd125() {
        Host.Result r = host.gvshim(null, T, "run", "--frobnicate", "--", "/bin/true");
        assertThat(r.code()).isEqualTo(125);
        assertThat(r.err().lines()).hasSize(1).first().asString().contains("unknown option").contains("--frobnicate");
    }

    @Test
    void nonexistentCommandIs127() {
        Host.Result r = host.gvshim(null, T, "run", "--", "no-such-command", "arg");
        assertThat(r.code()).isEqualTo(127);
        assertThat(r.err().lines()).hasSize(1).first().asString().contains("no-such-command").contains("not found");
        Host.Result abs = host.gvshim(null, T, "run", "--", "/no/such/binary");
        assertThat(abs.code()).isEqualTo(127);
    }

    @Test
    void neverRunsUnsandboxedUnlessAskedAndThenWarns() {
        Host.Result closed = host.gvshim(null, T, "run", "--runsc", "/nonexistent/runsc", "--", "/bin/echo", "ran");
        assertThat(closed.code()).isEqualTo(125);
        assertThat(closed.out()).isEmpty();
        Host.Result open = host.gvshim(null, T, "run", "--runsc", "/nonexistent/runsc", "--fallback", "unsandboxed", "--",
                "/bin/echo", "ran");
        assertThat(open.code()).isZero();
        assertThat(open.out()).isEqualTo("ran\n");
        assertThat(open.err()).contains("WARNING").contains("WITHOUT the gVisor sandbox");
    }

    @Test
    void terminalGivesTheCommandATtyAndKeepsTheCallersTerminal() {
        // script(1) gives the shell a pty; its stdin is a pipe that stays open, so no EOF is typed.
        Host.Result r = host.userShell("sleep 5 | script -qec \"$G run -- /bin/sh -c 'test -t 0 && test -t 1 && echo is-a-tty'; "
                + "stat -c owner=%u \\$(tty)\" /dev/null", T);
        assertThat(r.out()).as(r.toString()).contains("is-a-tty").contains("owner=" + host.uid);
    }

    @Test
    void aTerminalForAStdinThatIsNotOneIsRefusedNotAHang() {
        // the shell would read the pty forever: its stdin's EOF cannot reach it through a terminal
        Host.Result r = host.gvshim(null, Duration.ofSeconds(30), "run", "-t", "always", "--", "/bin/sh");
        assertThat(r.code()).as(r.toString()).isEqualTo(125);
        assertThat(r.err()).startsWith("gvshim: cannot give the command a terminal (-t always)").endsWith("[TERMINAL_STDIN]\n");
        assertThat(gvshimLines(r)).hasSize(1);
    }

    @Test
    void installByAUserWithoutRootSaysRootIsNeededInOneLine() {
        Host.Result r = host.gvshim(null, T, "install");
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("gvshim install: writing /etc/docker/daemon.json needs root: run `gvshim install` as root"
                + " (sudo), or add --dry-run to see what it would write [INSTALL_NEEDS_ROOT]\n");
        Host.Result dry = host.gvshim(null, T, "install", "--dry-run");
        assertThat(dry.code()).as("--dry-run writes nothing, so it needs no root: " + dry).isZero();
    }

    /** gvshim's own lines on stderr (the command's are not counted). */
    private static List<String> gvshimLines(Host.Result r) {
        return r.err().lines().filter(l -> l.startsWith("gvshim:")).toList();
    }

    @Test
    void outputThatCannotBeWrittenIsNeverASilentSuccess() throws Exception {
        // a full file system: a 4 KiB tmpfs takes one page of the command's 8000 bytes
        Path full = Files.createDirectories(host.work.resolve("full-" + System.nanoTime()));
        Host.check(Host.sh("mount", "-t", "tmpfs", "-o", "size=4k,mode=1777", "gvshim-it-full", full.toString()));
        try {
            Host.Result r = host.userShell("$G run -- sh -c 'head -c 8000 /dev/zero' > " + full + "/out", T);
            assertThat(r.code()).as(r.toString()).isNotZero();
            assertThat(gvshimLines(r)).as(r.toString()).hasSize(1).first().asString().contains("ENOSPC")
                    .contains("of the command's stdout could not be written").endsWith("[OUTPUT_LOST]");
            assertThat(Files.size(full.resolve("out"))).isEqualTo(4096);
        } finally {
            Host.sh("umount", full.toString());
        }

        Host.Result devFull = host.userShell("$G run -- sh -c 'head -c 8000 /dev/zero' > /dev/full", T);
        assertThat(devFull.code()).as(devFull.toString()).isNotZero();
        assertThat(gvshimLines(devFull)).hasSize(1).first().asString().contains("[write(stdout): ENOSPC");

        Host.Result closed = host.userShell("$G run -- /bin/echo nowhere >&-; echo rc=$? >&2", T);
        assertThat(gvshimLines(closed)).as(closed.toString()).hasSize(1).first().asString().contains("EBADF")
                .contains("stdout is closed");
        assertThat(closed.err()).as("echo succeeded in the sandbox: gvshim's own failure").contains("rc=125");

        Host.Result stderrFull = host.userShell("$G run -- sh -c 'echo to-stderr >&2' 2>/dev/full; echo rc=$?", T);
        assertThat(stderrFull.out()).as("stderr itself is lost: the exit status says it").isEqualTo("rc=125\n");

        Host.Result failing = host.userShell("$G run -- sh -c 'echo x; exit 3' > /dev/full", T);
        assertThat(failing.code()).as("the command's own failure comes first").isEqualTo(3);

        Host.Result reader = host.userShell("$G run -- sh -c 'while echo y; do :; done' | head -n 2", T);
        assertThat(reader.out()).isEqualTo("y\ny\n");
        assertThat(gvshimLines(reader)).as("a reader that leaves is not lost output (as outside a sandbox)").isEmpty();
    }

    @Test
    void killedRunscOrSandboxSaysTheSandboxDied() throws Exception {
        for (String victim : List.of("runsc", "runsc-sandbox")) {
            ProcessBuilder pb = new ProcessBuilder(host.asUser(List.of(host.gvshim.toString(), "run", "--", "/bin/sh", "-c",
                    "echo ready; exec sleep 60")));
            pb.directory(host.work.toFile());
            Process p = pb.start();
            var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
            assertThat(reader.readLine()).isEqualTo("ready");
            // runsc is the waiter's child (setpriv and the JVM exec'd: gvshim's pid), the sandbox runsc's
            String runsc = Host.sh("pgrep", "-P", Long.toString(p.pid()), "-f", "^runsc ").out().strip();
            assertThat(runsc).as("runsc under gvshim " + p.pid()).matches("\\d+");
            String pid = victim.equals("runsc") ? runsc : Host.sh("pgrep", "-P", runsc, "-f", "^runsc-sandbox ").out().strip();
            assertThat(pid).as(victim).matches("\\d+");
            Host.check(Host.sh("kill", "-KILL", pid));
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(victim + ": 128+SIGKILL, as before").isEqualTo(137);
            assertThat(err.lines().toList()).as(victim).hasSize(1).first().asString()
                    .startsWith("gvshim: the sandbox died [" + (victim.equals("runsc") ? "runsc (pid " : "its sandbox process"))
                    .contains("killed by SIGKILL").contains("OOM killer").endsWith("[SANDBOX_DIED]");
        }
        // the command's own death by SIGKILL stays the command's: no line
        Host.Result own = host.gvshim(null, T, "run", "--", "/bin/sh", "-c", "kill -9 $$");
        assertThat(own.code()).isEqualTo(137);
        assertThat(own.err()).isEmpty();
    }

    @Test
    void emptyTraceVariableLeavesTheWaiterQuiet() {
        Host.Result r = host.userShell("GVSHIM_TRACE= $G run -- /bin/true", T);
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.err()).as("the waiter's trace lines").doesNotContain("trace waiter").doesNotContain("trace runsc exited");
        Host.Result on = host.userShell("GVSHIM_TRACE=1 $G run -- /bin/true", T);
        assertThat(on.err()).contains("trace waiter started");
    }

    @Test
    void envHasNoSecretsByDefault() {
        Map<String, String> env = Host.env();
        Host.Result r = host.gvshim(null, T, "run", "--", "/bin/sh", "-c", "env | cut -d= -f1 | sort | tr '\\n' ' '");
        assertThat(r.out()).contains("PATH").contains("HOME").doesNotContain("SHELL").doesNotContain("LOGNAME");
        assertThat(env).isNotNull();
    }

    // ------------------------------------------------------------------ the spec's isolation fields (issue 14 item 5)

    /** The hello bundle with gvshim-specprobe at /probe and a tmpfs at /tmp, running {@code sh -c script}, its spec edited. */
    private Path specBundle(String name, java.util.function.UnaryOperator<String> edit, String script) throws Exception {
        Path b = host.work.resolve(name + "-" + System.nanoTime());
        Host.check(Host.sh("cp", "-a", host.work.resolve("hello").toString(), b.toString()));
        Host.check(Host.sh("cp", Path.of(System.getProperty("gvshim.native.dir"), "test/gvshim-specprobe").toString(),
                b.resolve("rootfs/probe").toString()));
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var spec = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(b.resolve("config.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) spec.get("process")).putArray("args").add("/bin/sh").add("-c")
                .add(script);
        spec.withArray("mounts").addObject().put("destination", "/tmp").put("type", "tmpfs").put("source", "tmpfs");
        Files.writeString(b.resolve("config.json"), edit.apply(json.writeValueAsString(spec)));
        Host.check(Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString()));
        return b;
    }

    private static String withSeccomp(String spec, String action) {
        return spec.replaceFirst("\"linux\":\\{", "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                + "\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"" + action + "\"}]},");
    }

    /** issue 14 item 5, for `gvshim run --bundle`: the same rule as the runtime's. */
    @Test
    void bundleSeccompProfileIsApplied() throws Exception {
        Path b = specBundle("seccomp", s -> withSeccomp(s, "SCMP_ACT_ERRNO"),
                "grep Seccomp: /proc/self/status; mkdir /tmp/d; echo mkdir=$?");
        Host.Result r = host.gvshim(null, T, "run", "--bundle", b.toString());
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Seccomp:\t2").contains("mkdir=1");
        assertThat(r.err()).contains("Operation not permitted");
    }

    @Test
    void bundleSeccompGvisorCannotApplyIsOneLineAnd125() throws Exception {
        Path b = specBundle("notify", s -> withSeccomp(s, "SCMP_ACT_NOTIFY"), "echo ran");
        Host.Result r = host.gvshim(null, T, "run", "--bundle", b.toString());
        assertThat(r.code()).as(r.toString()).isEqualTo(125);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines()).as(r.toString()).hasSize(1).first().asString()
                .startsWith("gvshim: cannot honour linux.seccomp of " + b.resolve("config.json") + ": ")
                .contains("SCMP_ACT_NOTIFY").contains(". Fix: ").endsWith("[SECCOMP_UNSUPPORTED]");
    }

    /** gvshim's own spec denies host devices (runc's rule): a device node in the root file system stays closed. */
    @Test
    void deviceNodeInTheRootFileSystemStaysClosed() throws Exception {
        Path b = specBundle("devroot", s -> s, "true");
        Host.check(Host.sh("mknod", "-m", "666", b.resolve("rootfs/fullnode").toString(), "c", "1", "7"));
        Host.Result ro = host.gvshim(null, T, "run", "--read-only", "--rootfs", b.resolve("rootfs").toString(), "--", "/probe",
                "read=/fullnode");
        assertThat(ro.code()).as(ro.toString()).isZero();
        assertThat(ro.out()).as("main: 'read: ok', from the host's /dev/full").isEqualTo("read: Permission denied\n");
        // the default, writable root: gVisor's overlay does not even show the lower layer's device nodes (both versions)
        Host.Result r = host.gvshim(null, T, "run", "--rootfs", b.resolve("rootfs").toString(), "--", "/probe",
                "read=/fullnode");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("read: No such file or directory\n");
    }

    /** `-v` says which spec fields gVisor's design makes moot, once. */
    @Test
    void verboseSaysWhichSpecFieldsAreMoot() {
        Host.Result r = host.gvshim(null, T, "run", "--verbose", "--", "/bin/true");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.err().lines().filter(l -> l.contains("moot"))).as(r.toString()).hasSize(1).first().asString()
                .startsWith("gvshim: spec fields gVisor's design makes moot: linux.maskedPaths and readonlyPaths");
    }

    // ---- the state directory: nobody else can lock the user out, or slip a directory in ----------

    /** Removes the test user's state directories and whatever was planted at their names (no run is alive between tests). */
    private void clearStateDirs() {
        Host.check(Host.sh("sh", "-c", "rm -rf /tmp/gvshim-" + host.uid + " /tmp/gvshim-" + host.uid + ".*"));
    }

    private static java.util.List<String> entries(Path dir) throws java.io.IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static int mode(Path p) throws java.io.IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    @Test
    void anotherUserCannotLockTheUserOutOfTheDefaultStateDirectory() throws Exception {
        // uids are predictable: gvshim-it2 takes /tmp/gvshim-UID before the user's first run, in each way it can
        Path legacy = Path.of("/tmp/gvshim-" + host.uid);
        Path bait = Path.of("/tmp/gvshim-it-bait"); // where the symlink points: gvshim-it2's own 0777 directory
        int other = Host.otherUser();
        try {
            for (String squat : java.util.List.of("ln -s " + bait + " " + legacy, "mkdir -m 0700 " + legacy,
                    "mkdir -m 0777 " + legacy, "mkdir -m 1777 " + legacy)) {
                clearStateDirs();
                Host.check(Host.asOtherUser("rm -rf " + bait + " && mkdir -m 0777 " + bait + " && " + squat));
                for (int i = 0; i < 2; i++) {
                    Host.Result r = host.gvshim(null, T, "run", "--", "/bin/echo", "not locked out");
                    assertThat(r.code()).as(squat + ": " + r).isZero();
                    assertThat(r.out()).isEqualTo("not locked out\n");
                    assertThat(r.err()).isEmpty();
                }
                assertThat(Host.stateDirs(host.uid)).as(squat + ": one state directory, found again by the second run")
                        .singleElement().satisfies(d -> {
                            assertThat(d.toString()).matches("/tmp/gvshim-" + host.uid + "\\.[a-z0-9]{12}");
                            assertThat(mode(d)).isEqualTo(0700);
                        });
                assertThat((Integer) Files.getAttribute(legacy, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS))
                        .as(squat + ": left as it was").isEqualTo(other);
                if (!Files.isSymbolicLink(legacy)) {
                    assertThat(entries(legacy)).as(squat + ": nothing written into the planted directory").isEmpty();
                }
                assertThat(entries(bait)).as(squat + ": nothing written where the planted symlink points").isEmpty();
            }
        } finally {
            clearStateDirs();
            Host.sh("rm", "-rf", bait.toString());
        }
    }

    @Test
    void runtimeVerbsWithoutRootFindTheirContainerPastAPlantedName() throws Exception {
        Path legacy = Path.of("/tmp/gvshim-" + host.uid);
        String id = "sd-" + ProcessHandle.current().pid();
        try {
            clearStateDirs();
            Host.check(Host.asOtherUser("mkdir -m 0777 " + legacy));
            Host.Result c = host.userShell("$G create --bundle hello " + id + " </dev/null >" + id + ".out 2>" + id + ".err", T);
            assertThat(c.code()).as(c + "\n" + Host.sh("cat", host.work.resolve(id + ".err").toString()).out()).isZero();
            Path state = host.stateDir();
            assertThat(state).as("a state directory of the user's own (none: the records went into the planted one)").isNotNull();
            assertThat(state.toString()).as("a state directory of the user's own").matches("/tmp/gvshim-" + host.uid + "\\.[a-z0-9]{12}");
            assertThat(entries(state.resolve("runtime"))).as("the container's records").isNotEmpty();
            Host.Result st = host.gvshim(null, T, "state", id);
            assertThat(st.code()).as(st.toString()).isZero();
            assertThat(st.out()).contains(id).contains("created");
            Host.Result d = host.gvshim(null, T, "delete", "--force", id);
            assertThat(d.code()).as(d.toString()).isZero();
            Host.Result gone = host.gvshim(null, T, "state", id);
            assertThat(gone.code()).isEqualTo(1);
            assertThat(gone.err()).contains("container does not exist");
            assertThat(entries(legacy)).as("nothing written into the planted directory").isEmpty();
            assertThat(Host.stateDirs(host.uid)).containsExactly(state);
        } finally {
            host.gvshim(null, T, "delete", "--force", id);
            Host.sh("rm", "-f", host.work.resolve(id + ".out").toString(), host.work.resolve(id + ".err").toString());
            clearStateDirs();
        }
    }

    @Test
    void aRootInsideAnotherUsersDirectoryIsRefusedInOneLine() throws Exception {
        // a new subdirectory of gvshim-it2's 0777 directory: gvshim-it2 could rename it and put its own in place
        Path attic = Path.of("/tmp/gvshim-it-attic");
        int other = Host.otherUser();
        String why = attic + " (owner " + Host.OTHER_USER + " (uid " + other + "), mode 0777) belongs to another user";
        try {
            Host.check(Host.asOtherUser("rm -rf " + attic + " && mkdir -m 0777 " + attic));
            Host.Result run = host.gvshim(null, T, "run", "--root", attic + "/state", "--", "/bin/true");
            assertThat(run.code()).as(run.toString()).isEqualTo(125);
            assertThat(run.err().lines()).as(run.toString()).singleElement().asString()
                    .startsWith("gvshim: cannot use the state directory " + attic + "/state: " + why).contains("Fix: pass a --root")
                    .endsWith("[STATE_DIR_UNSAFE]");
            for (String verb : java.util.List.of("state", "create")) {
                Host.Result rt = verb.equals("state") ? host.gvshim(null, T, "--root", attic + "/rt", "state", "x")
                        : host.gvshim(null, T, "--root", attic + "/rt", "create", "--bundle", "hello", "x");
                assertThat(rt.code()).as(rt.toString()).isEqualTo(1);
                assertThat(rt.err().lines()).as(rt.toString()).singleElement().asString().contains(why)
                        .endsWith("[STATE_DIR_UNSAFE]");
            }
            Host.Result asRoot = Host.run(java.util.List.of(host.gvshim.toString(), "run", "--root", attic + "/root-state", "--",
                    "/bin/true"), null, T, host.work);
            assertThat(asRoot.code()).as("root neither: " + asRoot).isEqualTo(125);
            assertThat(entries(attic)).as("nothing created in the other user's directory").isEmpty();
        } finally {
            Host.sh("rm", "-rf", attic.toString());
        }
    }

    @Test
    void aRootTheUserCannotCreateIsOneLineWithOwnerAndMode() throws Exception {
        // was: [java.nio.file.AccessDeniedException: /tmp/.../state-demo]
        Path closed = Files.createTempDirectory(Path.of("/tmp"), "gvshim-it-closed-");
        try {
            Files.setPosixFilePermissions(closed, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Host.Result r = host.gvshim(null, T, "run", "--root", closed + "/state-demo", "--", "/bin/true");
            assertThat(r.code()).as(r.toString()).isEqualTo(125);
            // GVSHIM_SERVER=on says, in a line of its own, that its server could not start there either
            assertThat(r.err().lines().filter(l -> !l.endsWith("[SERVER_FAILED]"))).as(r.toString()).singleElement().asString()
                    .isEqualTo("gvshim: cannot create the state"
                    + " directory " + closed + "/state-demo: " + closed + " (owner root (uid 0), mode 0755) is not writable by you"
                    + " (uid " + host.uid + "). Fix: pass --root with a directory you own, or a new path in a directory you can"
                    + " write [STATE_DIR_UNSAFE]");
        } finally {
            Host.sh("rm", "-rf", closed.toString());
        }
    }

    @Test
    void aRuntimeDirTheUserCannotWriteIsOneLineWithOwnerAndMode() throws Exception {
        // XDG_RUNTIME_DIR is the user's and private (0500), so it is chosen, and its gvshim/ cannot be made in it
        Path xdg = host.work.resolve("xdg-ro-" + System.nanoTime());
        try {
            Host.check(host.userShell("mkdir -m 0500 " + xdg, T));
            Host.Result r = host.userShell("XDG_RUNTIME_DIR=" + xdg + " $G run -- /bin/true", T);
            assertThat(r.code()).as(r.toString()).isEqualTo(125);
            // GVSHIM_SERVER=on says, in a line of its own, that its server could not start there either
            assertThat(r.err().lines().filter(l -> !l.endsWith("[SERVER_FAILED]"))).as(r.toString()).singleElement().asString()
                    .isEqualTo("gvshim: cannot create the state"
                    + " directory " + xdg + "/gvshim: " + xdg + " (owner " + Host.USER + " (uid " + host.uid + "), mode 0500) is"
                    + " not writable by you (uid " + host.uid + "). Fix: pass --root with a directory you own, or a new path in a"
                    + " directory you can write [STATE_DIR_UNSAFE]");
        } finally {
            Host.sh("rm", "-rf", xdg.toString());
        }
    }

    @Test
    void theUsersRuntimeDirIsUsedWhenItIsPrivate() throws Exception {
        Path xdg = host.work.resolve("xdg-" + System.nanoTime());
        try {
            Host.check(host.userShell("mkdir -m 0700 " + xdg, T));
            Host.Result r = host.userShell("XDG_RUNTIME_DIR=" + xdg + " $G run --verbose -- /bin/echo xdg", T);
            assertThat(r.code()).as(r.toString()).isZero();
            assertThat(r.out()).isEqualTo("xdg\n");
            assertThat(r.err()).contains("gvshim: run directory " + xdg + "/gvshim/gv");
            assertThat(mode(xdg.resolve("gvshim"))).isEqualTo(0700);
            assertThat(entries(xdg.resolve("gvshim"))).as("run directories left (the user's server lives in server/; the"
                    + " runsc probe's cache is not a run)").allMatch(e -> e.equals("server") || e.equals("runsc-probe.properties"));
            // 0755 is not what the XDG Base Directory spec promises: /tmp instead
            Host.check(host.userShell("chmod 0755 " + xdg, T));
            Host.Result open = host.userShell("XDG_RUNTIME_DIR=" + xdg + " $G run --verbose -- /bin/echo tmp", T);
            assertThat(open.code()).as(open.toString()).isZero();
            assertThat(open.err()).contains("gvshim: run directory /tmp/gvshim-" + host.uid);
        } finally {
            host.userShell("XDG_RUNTIME_DIR=" + xdg + " $G server stop", T); // the server this directory's calls started
            Host.sh("rm", "-rf", xdg.toString());
        }
    }
}
