package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.call.Launch;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.runsc.RunscCommand;
import dev.gvshim.runsc.RunscLogs;
import dev.gvshim.runsc.RunscRelease;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** `exec`: a new process in a container, as runc's callers pass it (a process.json, or a command and options). */
public final class Exec {
    private Exec() {
    }

    /**
     * runc's refusal, word for word (utils_linux.go), for create and exec: a detached process with
     * a terminal needs someone to take the pty.
     */
    static GvshimException noConsole() {
        return RuntimeFailures.of("TERMINAL_NEEDS_CONSOLE_SOCKET", "cannot allocate tty if runc will detach without setting"
                + " console socket (process.terminal is true: pass --console-socket, or set it to false)");
    }

    /** Options of exec. */
    public record Args(String id, String process, boolean detach, String pidFile, String consoleSocket, boolean tty,
            String cwd, List<String> env, String user, List<String> additionalGids, List<String> caps, boolean noNewPrivs,
            String apparmor, String processLabel, Integer preserveFds, String pidfdSocket, boolean ignorePaused,
            String cgroup, List<String> command) {
    }

    public static int run(RuntimeCall rc, Args a) throws GvshimException {
        Container ct = rc.lookup.existing(a.id());
        if (a.process() == null && a.command().isEmpty()) {
            throw RuntimeFailures.args("exec needs a command or --process FILE (runc exec ID CMD...)");
        }
        Status recorded = rc.lookup.recorded(ct);
        if (recorded == Status.PAUSED && a.ignorePaused()) {
            recorded = awaitResume(rc, ct);
        }
        if (recorded != null && !recorded.canExec()) {
            throw RuntimeFailures.state(recorded.execRefusal()); // runc's words, before runsc is asked
        }
        checkArgs(a);
        checkExecSeccomp(rc, ct, a);
        rc.dropped(a.noNewPrivs(), "--no-new-privs", "processes in gVisor cannot gain privileges from the host");
        rc.dropped(a.apparmor() != null, "--apparmor", "gVisor's sandbox is the confinement; the profile is not applied");
        rc.dropped(a.processLabel() != null, "--process-label", "SELinux labels do not apply inside gVisor");
        RuntimeFailures.preserveFds(a.preserveFds(), "exec");
        rc.dropped(a.pidfdSocket() != null, "--pidfd-socket", "the process is not a host process");
        rc.dropped(a.cgroup() != null, "--cgroup", "the sandbox has one cgroup");
        Path process = a.process() == null ? null : rc.call.absolute(a.process());
        boolean asked = process != null && wantsTerminal(process);
        boolean terminal = a.consoleSocket() == null && (a.tty() || asked);
        if (terminal && a.detach()) {
            throw noConsole();
        }
        Path made = null;
        if (terminal && !asked) { // exec -t: a process.json that asks runsc for the terminal
            made = rc.store.dir(ct.id()).resolve("exec-tty-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".json");
            process = ExecTerminal.write(a, process, made);
        }
        List<String> args = new ArrayList<>(List.of("exec"));
        if (process != null) {
            args.add("--process=" + process);
        }
        if (a.detach()) {
            args.add("--detach");
        }
        if (a.pidFile() != null) {
            args.add("--pid-file=" + rc.call.absolute(a.pidFile()));
        }
        if (a.consoleSocket() != null) {
            args.add("--console-socket=" + rc.call.absolute(a.consoleSocket()));
        }
        if (a.cwd() != null) {
            args.add("--cwd=" + a.cwd());
        }
        a.env().forEach(e -> args.add("--env=" + e));
        if (a.user() != null) {
            args.add("--user=" + a.user());
        }
        a.additionalGids().forEach(x -> args.add("--additional-gids=" + x));
        a.caps().forEach(x -> args.add("--cap=" + x));
        if (!a.detach()) {
            // as `runc exec`: what gvshim receives goes to the exec'd process, whose pid runsc writes here
            Path pid = ForwardedSignals.execPidFile(rc, ct.id());
            args.add("--internal-pid-file=" + pid);
            rc.forwardSignals(pid);
        }
        args.add(ct.runscId());
        if (process == null) { // runc ignores a command given with --process; runsc would refuse it
            args.addAll(a.command());
        }
        Launch.Ran r;
        try {
            r = rc.runsc(ct, args, true, a.detach() ? RunscCommand.Stdio.DETACH : terminal ? RunscCommand.Stdio.TERMINAL
                    : RunscCommand.Stdio.WAIT, false, null, null);
        } finally {
            if (made != null) {
                FileTrees.delete(made);
            }
        }
        if (r.ok()) {
            return 0;
        }
        String msg = RunscLogs.lastError(rc.callLog(a.id()));
        if (!a.detach() && msg.isEmpty()) {
            return r.exitCode(); // the command's own status
        }
        throw Diagnosis.failure(rc, ct, "exec");
    }

    /**
     * exec --ignore-paused of a paused container: runc's process joins the frozen cgroup and runs
     * once the container is resumed, and `runc exec` waits until then (measured with runc 1.1.5:
     * it blocks, foreground or -d, and the process runs after `resume`). runsc refuses to exec in
     * a paused sandbox ("cannot execute in container in state paused"), so gvshim waits for the
     * resume itself and then execs: the same order for the caller. Returns the status after.
     */
    static Status awaitResume(RuntimeCall rc, Container ct) throws GvshimException {
        rc.log.debug("exec --ignore-paused: container " + ct.id() + " is paused; the process starts when it is resumed");
        Status s = Status.PAUSED;
        while (s == Status.PAUSED) {
            try {
                Thread.sleep(RESUME_POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw RuntimeFailures.state("cannot exec in container " + ct.id() + ": interrupted while it waited for the"
                        + " paused container's resume");
            }
            s = rc.lookup.recorded(ct);
        }
        // the state file is read while runsc's resume rewrites it (CI saw "stopped" once, mid-resume): a container that
        // no longer looks paused is asked of runsc itself before it is called stopped
        return s == Status.RUNNING ? s : Status.of(rc.lookup.status(ct));
    }

    /** How often a waiting exec --ignore-paused reads runsc's state file (a file read, no runsc call). */
    static final long RESUME_POLL_MS = 100;

    /** runc's checks of exec's options (exec.go getProcess), with its texts: runsc's own are a usage dump or a later failure. */
    static void checkArgs(Args a) throws GvshimException {
        if (a.cwd() != null && !a.cwd().startsWith("/")) {
            throw RuntimeFailures.args("Cwd must be an absolute path");
        }
        if (a.user() != null && !a.user().isEmpty()) {
            int colon = a.user().indexOf(':');
            String uid = colon < 0 ? a.user() : a.user().substring(0, colon);
            if (colon >= 0 && !a.user().substring(colon + 1).matches("\\d+")) {
                throw RuntimeFailures.args("parsing " + a.user().substring(colon + 1) + " as int for gid failed (a number: exec -u UID[:GID])");
            }
            if (!uid.matches("\\d+")) {
                throw RuntimeFailures.args("parsing " + uid + " as int for uid failed (a number: exec -u UID[:GID])");
            }
        }
        for (String g : a.additionalGids()) {
            if (!g.matches("\\d+")) {
                throw RuntimeFailures.args("parsing " + g + " as int for additional gid failed (a number)");
            }
        }
    }

    /**
     * runc puts the container's seccomp filter on every process exec'd into it; runsc does only
     * from release-20260330 (028b7f0f1: before, loader.go executeAsync starts the process with
     * no filter; measured with 2022-12: Seccomp 0 in the exec'd process's /proc/self/status,
     * and a denied mkdir succeeds). The process would run without the profile, so exec is
     * refused: a workload that replaces the binary a health check runs would otherwise get
     * unfiltered code every few seconds. The operator may accept that explicitly
     * ({@link RuntimeConfig#execWithoutSeccomp}): then every such exec is a warning in --log.
     */
    private static void checkExecSeccomp(RuntimeCall rc, Container ct, Args a) throws GvshimException {
        if (!Files.exists(rc.store.dir(ct.id()).resolve(Create.SECCOMP_MARK))) {
            return; // no profile, or the operator's oci-seccomp=false: nothing for exec to lose
        }
        RunscRelease r = RunscRelease.of(Path.of(ct.runsc()), rc.releaseCache(true));
        if (r.filtersExec()) {
            return;
        }
        rc.log.warning(execWithoutProfile(ct.id(), r, rc.config().execWithoutSeccomp(), execProcess(rc.call.cwd(), a)));
    }

    /** What the refusal's fix offers, in the order a user should consider it. */
    static final String SECCOMP_EXEC_FIX = "run the container without a profile (docker run --security-opt"
            + " seccomp=unconfined; gVisor alone is then the boundary), or use a runsc from release-20260330 on, or accept"
            + " exec'd processes without the profile: \"execWithoutSeccomp\": true in " + RuntimeConfig.DEFAULT_FILE
            + " (or the runtime option --exec-without-seccomp)";

    /**
     * Whether an exec into container {@code id}, whose seccomp profile runsc applies, may run with
     * runsc {@code r}: null when runsc filters exec'd processes itself; the warning line for
     * --log when the operator opted in ({@code allowed}); otherwise the [SECCOMP_EXEC] refusal.
     */
    static String execWithoutProfile(String id, RunscRelease r, boolean allowed, String process) throws GvshimException {
        if (r.filtersExec()) {
            return null;
        }
        String why = "runsc " + r.label() + " does not apply the container's seccomp profile to a process started with"
                + " exec (gVisor does from release-20260330)";
        if (!allowed) {
            throw RuntimeFailures.diagnosed(Failure.of("SECCOMP_EXEC", "cannot exec in container " + id, null,
                    why + ", so it would run without the profile", SECCOMP_EXEC_FIX));
        }
        return "container " + id + ": exec of " + process + " runs without the container's seccomp profile (linux.seccomp):"
                + " " + why + "; allowed by execWithoutSeccomp (" + RuntimeConfig.DEFAULT_FILE + " or --exec-without-seccomp)";
    }

    /** The exec'd process as a user would name it: its command, or process.args of --process (else the file). */
    static String execProcess(Path cwd, Args a) {
        if (!a.command().isEmpty()) {
            return "`" + String.join(" ", a.command()) + "`";
        }
        if (a.process() == null) {
            return "a process";
        }
        Path file = cwd.resolve(a.process());
        try {
            JsonNode args = JsonTree.read(Files.readAllBytes(file)).path("args");
            if (args.isArray() && !args.isEmpty()) {
                List<String> words = new ArrayList<>();
                args.forEach(w -> words.add(w.asText()));
                return "`" + String.join(" ", words) + "`";
            }
        } catch (IOException e) {
            // runsc reports an unreadable process file itself
        }
        return "the process of " + file;
    }

    private static final Pattern TERMINAL = Pattern.compile("\"terminal\"\\s*:\\s*true");

    /**
     * Whether an exec's process.json asks for a terminal. A pattern, not a JSON parse: containerd
     * passes --process on every exec, and a cold JSON parser costs more than the rest of the call
     * (runsc reads the file itself and reports a malformed one).
     */
    static boolean wantsTerminal(Path processJson) {
        try {
            return TERMINAL.matcher(Files.readString(processJson)).find();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
