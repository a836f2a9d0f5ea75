package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
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
 * The gvshim server itself (issue 17's own tests; every other IT runs with it on and off): who
 * can reach it, kill -9 of it during `run` and during a runc verb's `create`, the idle exit, a
 * build change, and 50 concurrent clients. Its calls set GVSHIM_SERVER=on whatever the suite's
 * mode, and every test ends with no server, sandbox or run directory of its users left.
 */
class ServerIT {
    private static final Duration T = Duration.ofSeconds(60);
    private Host host;

    @BeforeEach
    void host() throws Exception {
        host = Host.get();
        stopServers(host.uid); // one the suite's other tests left (GVSHIM_SERVER=on): each test starts from none
    }

    @AfterEach
    void nothingLeft() throws Exception {
        for (int i = 0; i < 50 && !host.processes().isEmpty(); i++) {
            Thread.sleep(100);
        }
        List<String> left = new ArrayList<>(host.processes());
        // sandboxes run as subordinate uids: host.processes() does not see them
        left.addAll(Host.sh("pgrep", "-af", "runsc").out().lines()
                .filter(l -> l.contains(host.work.toString()) || l.contains("/gvshim-kc-") || l.contains("/gvshim-" + host.uid))
                .toList());
        stopServers(host.uid);
        stopServers(0);
        if (otherUid >= 0) {
            stopServers(otherUid);
            for (Path d : Host.stateDirs(otherUid)) { // made by this test's calls of the other user
                Host.sh("rm", "-rf", d.toString());
            }
        }
        assertThat(left).as("processes of the test user").isEmpty();
        assertThat(host.leftovers()).as("run directories left in " + host.stateDir()).isEmpty();
    }

    private int otherUid = -1;

    // ------------------------------------------------------------------ helpers

    /** `sh -c SCRIPT` as the test user with GVSHIM_SERVER=on (and {@code env}); $G is the client. */
    private Host.Result user(String env, String script) {
        return Host.run(userArgv(env, script), null, T, host.work);
    }

    private List<String> userArgv(String env, String script) {
        return List.of("setpriv", "--reuid=" + host.uid, "--regid=" + host.gid, "--init-groups", "--reset-env", "/bin/sh", "-c",
                "export GVSHIM_SERVER=on " + env + "; G=" + host.gvshim + "; " + script);
    }

    /** `sh -c SCRIPT` as root with GVSHIM_SERVER=on; $G is the client. */
    private Host.Result root(String script) {
        return Host.run(List.of("env", "GVSHIM_SERVER=on", "G=" + host.gvshim, "/bin/sh", "-c", script), null, T, host.work);
    }

    /**
     * The pids of {@code uid}'s gvshim servers (the JVMs running `gvshim server run`) of the
     * installations these tests use: never another one's on this machine.
     */
    private List<Integer> servers(int uid) {
        String homes = "gvshim\\.home=(" + host.home.toString().replace(".", "\\.") + "|/tmp/gvshim-build-[^ ]*) ";
        return Host.sh("pgrep", "-u", Integer.toString(uid), "-f", homes + ".*dev\\.gvshim\\.Main server run").out().lines()
                .filter(l -> !l.isBlank()).map(l -> Integer.parseInt(l.strip())).toList();
    }

    /** Ends {@code uid}'s servers this test class started (or the suite's earlier tests did), and waits for them. */
    private void stopServers(int uid) throws InterruptedException {
        for (int pid : servers(uid)) {
            Host.sh("kill", "-KILL", Integer.toString(pid));
        }
        for (int i = 0; i < 50 && !servers(uid).isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertThat(servers(uid)).as("servers of uid " + uid + " after kill -9").isEmpty();
    }

    /** Whether {@code pid} runs: a zombie does not (this machine's PID 1 reaps orphans late). */
    private static boolean alive(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return false;
        }
    }

    private static String field(String status, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(status);
        assertThat(m.find()).as("`" + regex + "` in status:\n" + status).isTrue();
        return m.group(1);
    }

    private static int pidOf(Host.Result status) {
        assertThat(status.code()).as(status.toString()).isZero();
        return Integer.parseInt(field(status.out(), "^pid (\\d+)$"));
    }

    private static long callsOf(Host.Result status) {
        assertThat(status.code()).as(status.toString()).isZero();
        return Long.parseLong(field(status.out(), "^calls (\\d+) served"));
    }

    // ------------------------------------------------------------------ 1. who can reach it

    @Test
    void anotherUserCannotReachTheServerNorBeServedByIt() throws Exception {
        assumeTrue(Host.which("python3") != null, "no python3 to connect(2) to the socket as another user");
        Host.Result first = user("", "$G --version >/dev/null && $G server status");
        int pid = pidOf(first);
        Path socket = Path.of(field(first.out(), "^socket (.+)$"));
        Path dir = socket.getParent();
        assertThat((Integer) Files.getAttribute(dir, "unix:mode") & 0777).as("mode of " + dir).isEqualTo(0700);
        assertThat((Integer) Files.getAttribute(socket, "unix:mode") & 0777).as("mode of " + socket).isEqualTo(0600);

        otherUid = Host.otherUser();
        // connect(2) needs search permission on every directory of the path and write permission on the socket
        String connect = "python3 -c 'import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1])\n"
                + " print(\"connected\")\nexcept OSError as e:\n print(e.errno)' ";
        Host.Result c = Host.asOtherUser(connect + socket);
        assertThat(c.out().strip()).as("connect as another user: EACCES (13) or ENOENT (2)\n" + c).isIn("13", "2");
        Host.Result ls = Host.asOtherUser("ls " + dir + "; stat " + socket);
        assertThat(ls.code()).as("the other user lists the server directory\n" + ls).isNotZero();
        assertThat(ls.out()).as("nothing of the directory is shown to the other user").doesNotContain("s-");

        // the other user's own calls, even pointed at the test user's directory, never reach this server
        long before = callsOf(user("", "$G server status"));
        Path xdg = host.stateDir();
        Host.Result own = Host.asOtherUser("export GVSHIM_SERVER=on; " + host.gvshim + " --version; XDG_RUNTIME_DIR=" + xdg
                + " " + host.gvshim + " --version; " + host.gvshim + " server status");
        assertThat(own.out()).as(own.toString()).contains("gvshim");
        Host.Result after = user("", "$G server status");
        assertThat(callsOf(after)).as("calls of the test user's server: only its own two status calls").isEqualTo(before + 1);
        assertThat(pidOf(after)).isEqualTo(pid);
        if (own.out().contains("\npid ") || own.out().startsWith("pid ")) { // the other user got a server of its own
            int otherPid = Integer.parseInt(field(own.out(), "^pid (\\d+)$"));
            assertThat(otherPid).as("the other user's server").isNotEqualTo(pid);
            assertThat(servers(otherUid)).contains(otherPid);
        }

        // root can open the socket (it bypasses the modes) but the server serves only its own euid (SO_PEERCRED)
        Host.Result asRoot = Host.sh("python3", "-c", "import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
                + "s.connect(sys.argv[1])\ns.settimeout(10)\nprint(len(s.recv(100)))", socket.toString());
        assertThat(asRoot.out().strip()).as("root's connection closed unserved\n" + asRoot).isEqualTo("0");
        String log = Files.readString(dir.resolve("server.log"));
        assertThat(log).as("server.log").contains("uid 0");
        assertThat(callsOf(user("", "$G server status"))).as("root's connection is no call").isEqualTo(before + 2);
    }

    // ------------------------------------------------------------------ 2. kill -9 during run

    @Test
    void killOfTheServerDuringRunLeavesTheSandboxAlone() throws Exception {
        Path marks = Files.createTempFile(host.work, "run-", ".out");
        Host.sh("chown", host.uid + ":" + host.gid, marks.toString());
        Process p = new ProcessBuilder(userArgv("", "$G run -- /bin/sh -c 'echo started; sleep 4; echo survived' >" + marks))
                .directory(host.work.toFile()).start();
        for (int i = 0; i < 300 && !Files.readString(marks).contains("started"); i++) {
            Thread.sleep(50);
        }
        assertThat(Files.readString(marks)).as("the sandbox started").contains("started");
        List<Integer> pids = servers(host.uid);
        assertThat(pids).as("the server that served the run").hasSize(1);
        Host.sh("kill", "-KILL", Integer.toString(pids.getFirst()));
        Host.Result r = Host.collect(p, null, T);
        // notes/server-design.md 4.1: after the hand-over the run is the waiter's; a server crash leaves it alone
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(Files.readString(marks)).isEqualTo("started\nsurvived\n");
        assertThat(r.err()).isEmpty();
        assertThat(alive(pids.getFirst())).isFalse();

        Host.Result next = user("", "$G run -- /bin/echo again && $G server status");
        assertThat(next.out()).as(next.toString()).startsWith("again\n");
        assertThat(pidOf(new Host.Result(next.code(), next.out().substring("again\n".length()), next.err())))
                .as("a new server").isNotEqualTo(pids.getFirst());
    }

    @Test
    void killOfTheServerBeforeItAcceptedTheCallRunsItCold() throws Exception {
        int pid = pidOf(user("", "$G --version >/dev/null; $G server status"));
        // stopped, it takes no connection: the client's request waits in the socket's backlog
        Host.sh("kill", "-STOP", Integer.toString(pid));
        Process p = new ProcessBuilder(userArgv("", "$G run -- /bin/echo cold")).directory(host.work.toFile()).start();
        Thread.sleep(1500);
        assertThat(p.isAlive()).as("the call waits for its server").isTrue();
        Host.sh("kill", "-KILL", Integer.toString(pid));
        Host.Result r = Host.collect(p, null, T);
        // notes/server-design.md 9: before ACCEPTED nothing was done for the call, so it runs cold
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("cold\n");
        assertThat(r.err()).isEmpty();
    }

    // ------------------------------------------------------------------ 3. kill -9 during create

    @Test
    void killOfTheServerDuringCreateIsOneLineAndTheNextServerCleansUp() throws Exception {
        killDuringCreate(false);
    }

    @Test
    void killOfRootsServerDuringCreateIsOneLineAndTheNextServerCleansUp() throws Exception {
        killDuringCreate(true);
    }

    private void killDuringCreate(boolean asRoot) throws Exception {
        Path base = asRoot ? Files.createTempDirectory(Path.of("/tmp"), "gvshim-kc-") : host.work;
        Path b = base.resolve("kc-" + System.nanoTime());
        try {
            Host.sh("cp", "-a", host.work.resolve("hello").toString(), b.toString());
            Files.writeString(b.resolve("config.json"), Files.readString(b.resolve("config.json"))
                    .replaceFirst("\"args\"\\s*:\\s*\\[[^\\]]*\\]", "\"args\": [\"/bin/sleep\", \"600\"]"));
            Path r = b.resolve("root");
            // cp -a kept the test user's ownership: root's --root must not lie under another user's directory
            Host.sh("chown", "-R", asRoot ? "0:0" : host.uid + ":" + host.gid, b.toString());
            String g = "$G --root " + r + " --log " + b.resolve("log.json") + " --log-format json ";
            // a server first, so that the kill hits the create and not the server's start
            String first = "$G --version >/dev/null; $G server status";
            int pid = pidOf(asRoot ? root(first) : user("", first));
            String create = "cd " + b + " && " + g + "create --bundle . kc </dev/null >out 2>err; echo $?";
            Process p = new ProcessBuilder(asRoot ? List.of("env", "GVSHIM_SERVER=on", "G=" + host.gvshim, "/bin/sh", "-c", create)
                    : userArgv("", create)).directory(b.toFile()).start();
            // the kill lands while runsc create runs: the server waits for its EXITED
            boolean seen = false;
            for (int i = 0; i < 400 && !seen; i++) {
                seen = Host.sh("pgrep", "-f", "runsc.*" + r + ".* create ").code() == 0;
                if (!seen) {
                    Thread.sleep(10);
                }
            }
            if (!seen && !p.isAlive()) {
                throw new AssertionError("create ended before runsc create was seen: " + Host.collect(p, null, T) + "\nerr: "
                        + Files.readString(b.resolve("err")));
            }
            assumeTrue(seen, "runsc create was not seen running (too fast to catch here)");
            Host.sh("kill", "-KILL", Integer.toString(pid));
            Host.Result res = Host.collect(p, null, T);
            String err = Files.readString(b.resolve("err"));
            int code = Integer.parseInt(res.out().strip());
            assertThat(code).as("create's status; stderr: " + err).isEqualTo(125);
            assertThat(err.lines().toList()).as("one line").hasSize(1);
            assertThat(err).startsWith("gvshim: ").contains("[SERVER_DIED]");
            assertThat(Files.readString(b.resolve("log.json"))).contains("SERVER_DIED");
            assertThat(alive(pid)).isFalse();

            // notes/server-design.md 9: the next server's start removes what the interrupted create left (runsc's
            // container, sandbox and holder, gvshim's record), before any call can meet it; no call names the --root
            String next = "$G --version >/dev/null; $G server status";
            int nextPid = pidOf(asRoot ? root(next) : user("", next));
            assertThat(nextPid).as("a new server").isNotEqualTo(pid);
            List<String> runsc = List.of();
            for (int i = 0; i < 100; i++) { // the sandbox's processes take a moment to go once killed
                runsc = Host.sh("pgrep", "-af", "--", r.toString()).out().lines().filter(l -> !l.isBlank()).toList();
                if (runsc.isEmpty() && (asRoot || host.processes().isEmpty())) {
                    break;
                }
                Thread.sleep(100);
            }
            assertThat(runsc).as("processes of the --root after the next server's start").isEmpty();
            assertThat(host.processes()).as("processes of the test user after the next server's start").isEmpty();
            try (var s = Files.list(r)) {
                assertThat(s.toList()).as("the --root after the next server's start").isEmpty();
            }
            Path log = Path.of(field((asRoot ? root("$G server status") : user("", "$G server status")).out(), "^log (.+)$"));
            assertThat(Files.readString(log)).as("the server's log").contains("removed what interrupted creates left in " + r
                    + ": kc");

            String after = g + "list; " + g + "state kc; " + g + "delete --force kc; echo $?";
            Host.Result d = asRoot ? root(after) : user("", after);
            List<String> lines = d.out().lines().toList();
            assertThat(lines).as("list: its header only; delete --force: 0\n" + d).hasSize(2);
            assertThat(lines.getFirst()).startsWith("ID ");
            assertThat(lines.getLast()).isEqualTo("0");
            assertThat(d.err()).as("state kc").contains("container does not exist: kc");
        } finally {
            // whatever failed above: no sandbox or holder of this test may outlive it
            String del = "$G --root " + b.resolve("root") + " delete --force kc";
            if (asRoot) {
                root(del);
                Host.sh("rm", "-rf", base.toString());
            } else {
                user("", del);
            }
        }
    }

    // ------------------------------------------------------------------ 4. idle exit

    @Test
    void anIdleServerExitsByItself() throws Exception {
        Process p = new ProcessBuilder(userArgv("", "exec $G server run --idle-timeout 2")).directory(host.work.toFile()).start();
        Host.Result up = null;
        for (int i = 0; i < 100; i++) {
            up = user("", "$G server status");
            if (up.code() == 0) {
                break;
            }
            Thread.sleep(100);
        }
        assertThat(up.out()).as(up.toString()).contains("idle timeout 2 s");
        long t0 = System.nanoTime();
        Host.Result r = Host.collect(p, null, Duration.ofSeconds(20));
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat((System.nanoTime() - t0) / 1_000_000).as("ms until it left").isLessThan(10_000);
        Host.Result gone = user("", "$G server status");
        assertThat(gone.code()).as(gone.toString()).isEqualTo(3);

        // one the client started, with GVSHIM_SERVER_IDLE_TIMEOUT
        int pid = pidOf(user("GVSHIM_SERVER_IDLE_TIMEOUT=2", "$G --version >/dev/null; $G server status"));
        for (int i = 0; i < 100 && alive(pid); i++) {
            Thread.sleep(100);
        }
        assertThat(alive(pid)).as("the started server after 10 s").isFalse();
        assertThat(user("", "$G server status").code()).isEqualTo(3);
    }

    @Test
    void rootsIdleServerExitsByItself() throws Exception {
        Process p = new ProcessBuilder("env", "GVSHIM_SERVER=on", host.gvshim.toString(), "server", "run", "--idle-timeout", "2")
                .directory(new java.io.File("/")).start();
        Host.Result up = null;
        for (int i = 0; i < 100; i++) {
            up = root("$G server status");
            if (up.code() == 0) {
                break;
            }
            Thread.sleep(100);
        }
        assertThat(up.out()).as(up.toString()).contains("idle timeout 2 s").contains("socket /run/gvshim/server/");
        Host.Result r = Host.collect(p, null, Duration.ofSeconds(20));
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(root("$G server status").code()).isEqualTo(3);
    }

    // ------------------------------------------------------------------ 5. build change

    @Test
    void aServerOfAnotherBuildIsNotUsed() throws Exception {
        Path copy = Files.createTempDirectory(Path.of("/tmp"), "gvshim-build-");
        try {
            Files.setPosixFilePermissions(copy, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Path home = copy.resolve("gvshim");
            Host.check(Host.sh("cp", "-a", host.home.toString(), home.toString()));
            String c = home.resolve("bin/gvshim").toString();
            Host.Result old = user("", c + " --version >/dev/null; " + c + " server status");
            int oldPid = pidOf(old);
            String oldBuild = field(old.out(), "^build (\\S+)$");
            // a new build installed over it: another id (the socket's name carries its first 16 digits)
            String newBuild = "f00d" + oldBuild.substring(4, oldBuild.length() - 4) + "beef";
            Files.writeString(home.resolve("lib/build-id"), newBuild + "\n");
            Host.Result now = user("", c + " --version >/dev/null; " + c + " server status");
            assertThat(now.out()).as(now.toString()).contains("build " + newBuild);
            assertThat(pidOf(now)).as("the new build's server").isNotEqualTo(oldPid);
            for (int i = 0; i < 50 && alive(oldPid); i++) {
                Thread.sleep(100);
            }
            assertThat(alive(oldPid)).as("the old build's server exits").isFalse();
        } finally {
            Host.sh("rm", "-rf", copy.toString());
        }
    }

    // ------------------------------------------------------------------ 6. concurrency

    @Test
    void fiftyConcurrentClientsAreAllAnswered() throws Exception {
        Path r = Files.createTempDirectory(host.work, "conc-");
        Host.sh("chown", host.uid + ":" + host.gid, r.toString());
        int before = (int) callsOf(user("", "$G --version >/dev/null; $G server status"));
        Host.Result all = user("", concurrent(r));
        check(all, r);
        long after = callsOf(user("", "$G server status"));
        assertThat(after - before).as("calls the server served").isGreaterThanOrEqualTo(51);
    }

    @Test
    void fiftyConcurrentClientsOfRootAreAllAnswered() throws Exception {
        Path r = Files.createTempDirectory(Path.of("/tmp"), "gvshim-conc-");
        try {
            long before = callsOf(root("$G --version >/dev/null; $G server status"));
            check(root(concurrent(r)), r);
            assertThat(callsOf(root("$G server status")) - before).isGreaterThanOrEqualTo(51);
        } finally {
            Host.sh("rm", "-rf", r.toString());
        }
    }

    private static String concurrent(Path r) {
        return "i=0; while [ $i -lt 50 ]; do ($G --root " + r + " state nosuch$i >" + r + "/out$i 2>" + r + "/err$i; echo $? >"
                + r + "/rc$i) & i=$((i+1)); done; wait; $G --root " + r + " list";
    }

    private static void check(Host.Result all, Path r) throws IOException {
        assertThat(all.code()).as(all.toString()).isZero();
        assertThat(all.out().lines().toList()).as("list of an empty --root").hasSize(1);
        assertThat(all.out()).startsWith("ID");
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String rc = Files.readString(r.resolve("rc" + i)).strip();
            String err = Files.readString(r.resolve("err" + i));
            if (!rc.equals("1") || !err.equals("gvshim: container does not exist: nosuch" + i + " [CONTAINER_NOT_FOUND]\n")
                    || !Files.readString(r.resolve("out" + i)).isEmpty()) {
                wrong.add(i + ": exit " + rc + ", stderr " + err);
            }
        }
        assertThat(wrong).as("wrong answers").isEmpty();
    }
}
