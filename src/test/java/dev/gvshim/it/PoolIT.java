package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The warm pool (issue 18): `gvshim server start --pool` and `gvshim run --pool`, as the test user
 * and as root: isolation (nothing of one command is seen by the next), refill, the max bound, a
 * profile mismatch refused, no server, kill -9 of a server with pooled sandboxes (nothing leaks),
 * 50 concurrent runs. Every test ends with no server, runsc process or run directory left.
 */
class PoolIT {
    private static final Duration T = Duration.ofSeconds(120);
    private Host host;
    private List<String> rootBefore;

    @BeforeEach
    void host() throws Exception {
        host = Host.get();
        rootBefore = rootLeftovers(); // root's state directory is shared with other tests: only this test's count
        killServers(host.uid);
        killServers(0);
    }

    @AfterEach
    void nothingLeft() throws Exception {
        as(false, "GVSHIM_SERVER=off $G server stop >/dev/null");
        as(true, "GVSHIM_SERVER=off $G server stop >/dev/null");
        for (int i = 0; i < 100 && !(servers(host.uid).isEmpty() && servers(0).isEmpty() && runsc().isEmpty()); i++) {
            Thread.sleep(100);
        }
        List<String> left = new ArrayList<>(runsc());
        left.addAll(host.processes());
        killServers(host.uid);
        killServers(0);
        assertThat(left).as("processes left").isEmpty();
        assertThat(host.leftovers()).as("run directories left in " + host.stateDir()).isEmpty();
        List<String> rootLeft = new ArrayList<>(rootLeftovers());
        rootLeft.removeAll(rootBefore);
        assertThat(rootLeft).as("root's run directories left").isEmpty();
    }

    // ------------------------------------------------------------------ helpers

    /** `sh -c SCRIPT` as the test user (or root) with GVSHIM_SERVER=on; $G is the client. */
    private Host.Result as(boolean root, String script) {
        // from /: a working directory under /tmp (host.work) shapes a generated spec's mounts, and a pool's
        // sandboxes were booted from / (the mismatch is tested below)
        String s = "export GVSHIM_SERVER=on; G=" + host.gvshim + "; cd /; " + script;
        return Host.run(root ? List.of("env", "-u", "XDG_RUNTIME_DIR", "/bin/sh", "-c", s) : List.of("setpriv", "--reuid=" + host.uid,
                "--regid=" + host.gid, "--init-groups", "--reset-env", "/bin/sh", "-c", s), null, T, host.work);
    }

    private List<Integer> servers(int uid) {
        String homes = "gvshim\\.home=" + host.home.toString().replace(".", "\\.") + " ";
        return Host.sh("pgrep", "-u", Integer.toString(uid), "-f", homes + ".*dev\\.gvshim\\.Main server run").out().lines()
                .filter(l -> !l.isBlank()).map(l -> Integer.parseInt(l.strip())).toList();
    }

    private void killServers(int uid) throws InterruptedException {
        for (int pid : servers(uid)) {
            Host.sh("kill", "-KILL", Integer.toString(pid));
        }
        for (int i = 0; i < 50 && !servers(uid).isEmpty(); i++) {
            Thread.sleep(100);
        }
    }

    /** runsc processes (run, gofer, sandbox) of the test user's or root's state directories. */
    private List<String> runsc() {
        return Host.sh("pgrep", "-af", "runsc").out().lines()
                .filter(l -> l.contains("/gvshim-" + host.uid) || l.contains("/gvshim-0/")).toList();
    }

    private static List<String> rootLeftovers() throws Exception {
        List<String> runs = new ArrayList<>();
        for (Path d : Host.stateDirs(0)) {
            try (var s = Files.list(d)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("gv")).forEach(n -> runs.add(d + "/" + n));
            }
        }
        return runs;
    }

    private Host.Result start(boolean root, String pool) {
        Host.Result r = as(root, "$G server start --idle-timeout 0 --pool " + pool + " >/dev/null && $G server status");
        assertThat(r.code()).as(r.toString()).isZero();
        return r;
    }

    /** Waits until `server status` says {@code regex} of the pool; the last status. */
    private String awaitStatus(boolean root, String regex) throws InterruptedException {
        String s = "";
        for (int i = 0; i < 300; i++) {
            s = as(root, "$G server status").out();
            if (Pattern.compile(regex).matcher(s).find()) {
                return s;
            }
            Thread.sleep(100);
        }
        assertThat(s).as("server status within 30 s").containsPattern(regex);
        return s;
    }

    private static int field(String status, String name) {
        Matcher m = Pattern.compile(name + " (\\d+)").matcher(status);
        assertThat(m.find()).as(name + " in " + status).isTrue();
        return Integer.parseInt(m.group(1));
    }

    // ------------------------------------------------------------------ isolation, refill, status

    @Test
    void eachCommandGetsAFreshSandboxAndThePoolRefills() throws Exception {
        isolationAndRefill(false);
    }

    @Test
    void eachCommandOfRootGetsAFreshSandboxAndThePoolRefills() throws Exception {
        isolationAndRefill(true);
    }

    private void isolationAndRefill(boolean root) throws Exception {
        start(root, "iso:min=2,max=3");
        String ready = awaitStatus(root, "pool iso: ready 2,");
        assertThat(ready).containsPattern("rss per ready sandbox \\d+\\.\\d MB").contains("profile iso:min=2,max=3,network=none");
        for (int i = 0; i < 4; i++) {
            // each run leaves a file, a process and a variable behind; the next must see none of them
            // (echo /tmp/*: a glob reads the directory; Debian 12's runsc fails coreutils 9's statx of it, RUNSC_OUTDATED)
            Host.Result r = as(root, "$G run --pool iso -- /bin/sh -c 'echo /tmp/*; ps -e -o args | grep -c \"^sleep 777\"; "
                    + "echo run" + i + " > /tmp/mark; (sleep 777 >/dev/null 2>&1 &); exit 3'");
            assertThat(r.code()).as(r.toString()).isEqualTo(3);
            assertThat(r.err()).as(r.toString()).isEmpty();
            assertThat(r.out()).as("/tmp of a fresh sandbox, and the processes left by an earlier command").isEqualTo("/tmp/*\n0\n");
        }
        String after = awaitStatus(root, "pool iso: ready 2, in use 0, starting 0");
        assertThat(field(after, "served")).isEqualTo(4);
        assertThat(field(after, "created")).as("one sandbox per command, plus the ready ones").isGreaterThanOrEqualTo(6);
        assertThat(field(after, "failed")).isZero();
        // the last used sandbox may still be dying (killed, not yet reaped) when status says in use 0
        for (int i = 0; i < 50 && runsc().stream().filter(l -> l.contains(" run --bundle")).count() != 2; i++) {
            Thread.sleep(100);
        }
        assertThat(runsc().stream().filter(l -> l.contains(" run --bundle")).count()).as("runsc run processes: the ready ones")
                .isEqualTo(2);
    }

    // ------------------------------------------------------------------ max, concurrency

    @Test
    void neverMoreSandboxesThanMaxAndFiftyConcurrentRunsAllComplete() throws Exception {
        start(false, "conc:min=2,max=4");
        awaitStatus(false, "pool conc: ready 2,");
        Path r = Files.createTempDirectory(host.work, "pool-");
        Host.sh("chown", host.uid + ":" + host.gid, r.toString());
        Process all = new ProcessBuilder("setpriv", "--reuid=" + host.uid, "--regid=" + host.gid, "--init-groups", "--reset-env",
                "/bin/sh", "-c", "export GVSHIM_SERVER=on; G=" + host.gvshim + "; cd /; i=0; while [ $i -lt 50 ]; do"
                        + " ($G run --pool conc -- /bin/sh -c \"echo out$i; echo err$i >&2; exit $((i % 7))\" >" + r + "/out$i 2>" + r
                        + "/err$i; echo $? >" + r + "/rc$i) & i=$((i+1)); done; wait").start();
        long most = 0;
        while (all.isAlive()) {
            // sandboxes, told apart by their bundle: a runsc run forking its sandbox shows its own command line
            // twice for an instant (the child between clone and exec), which is not a second sandbox
            most = Math.max(most, runsc().stream().filter(l -> l.contains(" run --bundle"))
                    .map(l -> l.replaceAll("^.* run --bundle[= ](\\S+).*$", "$1")).distinct().count());
            Thread.sleep(50);
        }
        Host.Result done = Host.collect(all, null, T);
        assertThat(done.code()).as(done.toString()).isZero();
        assertThat(most).as("runsc run processes at once (max 4)").isBetween(1L, 4L);
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String rc = Files.readString(r.resolve("rc" + i)).strip();
            String out = Files.readString(r.resolve("out" + i));
            String err = Files.readString(r.resolve("err" + i));
            if (!rc.equals(Integer.toString(i % 7)) || !out.equals("out" + i + "\n") || !err.equals("err" + i + "\n")) {
                wrong.add(i + ": exit " + rc + ", out " + out + ", err " + err);
            }
        }
        assertThat(wrong).as("wrong runs").isEmpty();
        String s = awaitStatus(false, "pool conc: ready 2, in use 0, starting 0");
        assertThat(field(s, "served")).isEqualTo(50);
    }

    // ------------------------------------------------------------------ refusals

    @Test
    void aProfileMismatchNoServerAndNoSuchPoolAreOneLineAndExit125() throws Exception {
        start(false, "p:min=1,max=1");
        awaitStatus(false, "pool p: ready 1,");
        Host.Result net = as(false, "$G run --pool p --network host -- /bin/echo never");
        assertThat(net.code()).isEqualTo(125);
        assertThat(net.out()).isEmpty();
        assertThat(net.err()).isEqualTo("gvshim: cannot run in the pool p: --network differs: the pool p's sandboxes have none, this run"
                + " asks for host. Fix: run with the pool's options (`gvshim server status` lists them), or start a pool with this"
                + " run's [POOL_PROFILE_MISMATCH]\n");
        Host.Result tmp = as(false, "cd " + host.work + " && $G run --pool p -- /bin/echo never");
        assertThat(tmp.code()).as(tmp.toString()).isEqualTo(125);
        assertThat(tmp.err()).as("a working directory under /tmp shapes the mounts").startsWith("gvshim: cannot run in the pool p: the"
                + " mounts differ from the pool p's: this run's sandbox would mount " + host.work.getParent())
                .endsWith("[POOL_PROFILE_MISMATCH]\n");
        // any other working directory outside /tmp is no mismatch (the server was started from /)
        Host.Result elsewhere = as(false, "cd /usr && $G run --pool p -- /bin/echo fine");
        assertThat(elsewhere.out()).as(elsewhere.toString()).isEqualTo("fine\n");
        assertThat(elsewhere.code()).isZero();
        Host.Result off = as(false, "GVSHIM_SERVER=off $G run --pool p -- /bin/echo never");
        assertThat(off.code()).isEqualTo(125);
        assertThat(off.err()).startsWith("gvshim: cannot run in the pool p: ").endsWith("[POOL_NEEDS_SERVER]\n")
                .contains("gvshim server start --pool p:");
        assertThat(off.err().lines()).hasSize(1);
        Host.Result none = as(false, "$G run --pool nope -- /bin/echo never");
        assertThat(none.code()).isEqualTo(125);
        assertThat(none.err()).isEqualTo("gvshim: cannot run in the pool nope: the gvshim server has no pool of that name (its pools:"
                + " p). Fix: add it: gvshim server add-pool nope:min=2,max=8 (and this run's sandbox options as keys) [POOL_UNKNOWN]\n");
        assertThat(awaitStatus(false, "pool p: ready 1, in use 0")).contains("served 1");
    }

    /**
     * A command that cannot run in a pooled sandbox is gvshim's one line, the same as a cold run's,
     * with the same status: runsc exec's own text ("executing processes for container: ...") is
     * held until the command has started (runsc exec writes its pid) and dropped when it never did.
     * The command's own stderr, early and late, still comes through.
     */
    @Test
    void aCommandThatCannotRunInAPooledSandboxIsTheColdRunsOneLine() throws Exception {
        start(false, "p:min=1,max=1");
        for (String cmd : List.of("/nonexistent", "/etc")) {
            awaitStatus(false, "pool p: ready 1,");
            Host.Result pooled = as(false, "$G run --pool p -- " + cmd);
            Host.Result cold = as(false, "GVSHIM_SERVER=off $G run -- " + cmd);
            assertThat(cold.err().lines()).as(cold.toString()).hasSize(1);
            assertThat(pooled.err()).as(pooled.toString()).isEqualTo(cold.err());
            assertThat(pooled.code()).isEqualTo(cold.code()).isIn(126, 127);
        }
        awaitStatus(false, "pool p: ready 1,");
        Host.Result err = as(false, "$G run --pool p -- /bin/sh -c 'echo early >&2; sleep 0.5; echo late >&2; exit 4'");
        assertThat(err.err()).as(err.toString()).isEqualTo("early\nlate\n");
        assertThat(err.code()).isEqualTo(4);
    }

    @Test
    void poolsAreAddedAndRemovedWhileTheServerRuns() throws Exception {
        start(false, "p:min=1,max=1");
        awaitStatus(false, "pool p: ready 1,");
        Host.Result add = as(false, "$G server add-pool --wait 60 q:min=1,max=2");
        assertThat(add.out()).as(add.toString()).isEqualTo("q\n");
        assertThat(add.err()).isEmpty();
        assertThat(as(false, "$G server status").out()).contains("pool p: ready 1,").contains("pool q: ready 1,");
        Host.Result run = as(false, "$G run --pool q -- /bin/echo in-q");
        assertThat(run.out()).as(run.toString()).isEqualTo("in-q\n");
        Host.Result other = as(false, "$G server add-pool q:min=1,max=2,network=host");
        assertThat(other.code()).isEqualTo(125);
        assertThat(other.err()).startsWith("gvshim: cannot add the pool q: the server has a pool of that name with another profile")
                .endsWith("[POOL_EXISTS]\n");
        assertThat(other.err().lines()).hasSize(1);
        // from a one-shot gvshim, the call goes to the server all the same
        Host.Result again = as(false, "GVSHIM_SERVER=off $G server add-pool --wait 60 q:min=1,max=2");
        assertThat(again.out()).as(again.toString()).isEqualTo("q\n");
        Host.Result rm = as(false, "GVSHIM_SERVER=off $G server remove-pool q");
        assertThat(rm.code()).as(rm.toString()).isZero();
        assertThat(as(false, "$G run --pool q -- /bin/true").err()).endsWith("[POOL_UNKNOWN]\n").contains("add-pool q:");
        Host.Result rm2 = as(false, "$G server remove-pool q");
        assertThat(rm2.code()).isEqualTo(125);
        assertThat(rm2.err()).isEqualTo("gvshim: no pool q: the gvshim server has no pool of that name (its pools: p). Fix:"
                + " `gvshim server status` lists them [POOL_UNKNOWN]\n");
        Host.Result usage = as(false, "$G server add-pool");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("add-pool needs a pool");
        String s = awaitStatus(false, "pool p: ready 1, in use 0");
        assertThat(s).doesNotContain("pool q");
        for (int i = 0; i < 100 && runsc().size() > 3; i++) {
            Thread.sleep(100);
        }
        assertThat(runsc().stream().filter(l -> l.contains(" boot ")).count()).as("only p's sandbox is left:\n" + runsc())
                .isEqualTo(1);
    }

    @Test
    void aRunWhosePoolIsRemovedUnderItSaysItsSandboxWasDestroyed() throws Exception {
        start(false, "gone:min=1,max=1");
        awaitStatus(false, "pool gone: ready 1,");
        Host.Result r = as(false, "d=$(mktemp -d); ($G run --pool gone -- sh -c 'echo started; sleep 30' > $d/out 2> $d/err;"
                + " echo $? > $d/rc) & for i in $(seq 100); do grep -q started $d/out 2>/dev/null && break; sleep 0.1; done;"
                + " $G server remove-pool gone; wait; cat $d/out; echo rc=$(cat $d/rc); tail -n 1 $d/err; rm -rf $d");
        assertThat(r.out()).as(r.toString()).startsWith("started\nrc=125\ngvshim: the sandbox was destroyed while the command"
                + " ran: its run directory ").endsWith("[SANDBOX_DIED]\n");
    }

    @Test
    void aPoolThatCannotFillSaysWhyInStatusAndOnTheRun() throws Exception {
        Path empty = Files.createTempDirectory(host.work, "empty-root-"); // no sleep(1) for the pool's init
        Host.sh("chown", host.uid + ":" + host.gid, empty.toString());
        Host.sh("chmod", "755", empty.toString());
        start(false, "bad:min=1,max=1,rootfs=" + empty);
        String s = awaitStatus(false, "pool bad: .*failed [1-9]");
        Matcher why = Pattern.compile("cannot fill: (gvshim: .* \\[([A-Z_]+)\\])").matcher(s);
        assertThat(why.find()).as("why in status:\n" + s).isTrue();
        Host.Result r = as(false, "$G run --pool bad --rootfs " + empty + " -- /bin/true");
        assertThat(r.code()).as(r.toString()).isEqualTo(125);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines()).as(r.toString()).hasSize(1);
        assertThat(r.err()).as("the same id on the run that needed a sandbox").endsWith("[" + why.group(2) + "]\n");
    }

    @Test
    void theSandboxOfAClientKilledMidRunIsDestroyed() throws Exception {
        start(false, "c:min=1,max=2");
        awaitStatus(false, "pool c: ready 1,");
        // exec: the process is the client itself, which becomes the waiter
        Process p = new ProcessBuilder("setpriv", "--reuid=" + host.uid, "--regid=" + host.gid, "--init-groups", "--reset-env",
                "/bin/sh", "-c", "GVSHIM_SERVER=on exec " + host.gvshim + " run --pool c -- /bin/sleep 100")
                .directory(new java.io.File("/")).start();
        awaitStatus(false, "pool c: ready 1, in use 1,");
        assertThat(runsc()).as("runsc exec of the run").anyMatch(l -> l.contains(" exec --process="));
        Host.sh("kill", "-KILL", Long.toString(p.pid()));
        p.waitFor();
        // runsc exec dies with the client (PR_SET_PDEATHSIG); the server destroys the sandbox it served
        awaitStatus(false, "pool c: ready 1, in use 0, starting 0");
        for (int i = 0; i < 50 && runsc().stream().filter(l -> l.contains(" run --bundle")).count() != 1; i++) {
            Thread.sleep(100);
        }
        assertThat(runsc()).as("runsc processes: the ready sandbox's run, gofer and sandbox only").noneMatch(l -> l.contains(" exec "))
                .filteredOn(l -> l.contains(" run --bundle")).hasSize(1);
    }

    // ------------------------------------------------------------------ kill -9 of the server

    @Test
    void killOfAServerWithPooledSandboxesLeavesNothing() throws Exception {
        killedServer(false);
    }

    @Test
    void killOfRootsServerWithPooledSandboxesLeavesNothing() throws Exception {
        killedServer(true);
    }

    private void killedServer(boolean root) throws Exception {
        start(root, "k:min=3,max=3");
        awaitStatus(root, "pool k: ready 3,");
        assertThat(runsc()).as("the pooled sandboxes' runsc processes").isNotEmpty();
        int uid = root ? 0 : host.uid;
        for (int pid : servers(uid)) {
            Host.sh("kill", "-KILL", Integer.toString(pid));
        }
        // PR_SET_PDEATHSIG: runsc run dies with the server's thread, its sandbox and gofer with runsc
        for (int i = 0; i < 100 && !runsc().isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertThat(runsc()).as("runsc processes after kill -9 of the server").isEmpty();
        // the run directories of a dead owner go with the next run (a new server's first sandbox, or any run)
        Host.Result next = as(root, "GVSHIM_SERVER=off $G run -- /bin/echo next");
        assertThat(next.out()).as(next.toString()).isEqualTo("next\n");
    }
}
