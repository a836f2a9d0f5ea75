package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.container.StateDir;
import dev.gvshim.diagnose.Doctor;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.diagnose.ReportOutput;
import dev.gvshim.diagnose.LiveProbe;
import dev.gvshim.linux.Linux;
import dev.gvshim.userns.IdMap;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim doctor [--json] [--user NAME] [--runsc PATH]}: can a rootless gVisor sandbox
 * start here, in which mode, and if not, exactly why and what to change. Exit 0 when a sandbox
 * can start, 1 when it cannot, 2 on its own errors.
 */
final class DoctorCommand implements Verb {
    static final int EXIT_OK = 0;
    static final int EXIT_CANNOT = 1;
    static final int EXIT_ERROR = 2;

    @Override
    public String name() {
        return "doctor";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("doctor",
                "Check whether a rootless gVisor sandbox can start here, and why not: files read, then every step tried"
                        + " live in throwaway namespaces (user namespace, id maps, mounts, pivot_root, ptrace, nesting).",
                "Exit status: 0 a sandbox can start, 1 it cannot, 2 not everything could be tested (the live probe did not"
                        + " run), or doctor's own error.");
        s.addOption(flag(names("--json"), "Print one JSON object: verdict, mode, environment, findings."));
        s.addOption(value(names("--user"), "NAME", String.class, "Diagnose for this user (as root: runs the probes as that user)."));
        s.addOption(value(names("--runsc"), "PATH", String.class, "The runsc binary to check (default: runsc in $PATH)."));
        return s;
    }

    @Override
    public int call(ParseResult p, PrintStream out, PrintStream err) {
        boolean json = p.hasMatchedOption("--json");
        String user = p.matchedOptionValue("--user", null);
        String runscOption = p.matchedOptionValue("--runsc", null);
        Map<String, String> env = System.getenv();
        String home = System.getProperty("gvshim.home");
        try {
            if (user != null && !user.equals(System.getProperty("user.name"))) {
                return asUser(user, p, err);
            }
            Facts facts;
            try {
                facts = Facts.read(Path.of("/"), env, runscOption);
            } catch (IOException e) {
                err.println("gvshim doctor: cannot read /proc/self/status: " + IoError.reason(e) + " (is /proc mounted?)");
                return EXIT_ERROR;
            }
            Explain explain = new Explain(facts);
            LiveProbe.Result live;
            try {
                live = LiveProbe.run(facts, explain, home == null ? null : Path.of(home), env);
            } catch (IOException e) {
                err.println("gvshim doctor: cannot create a scratch directory for the live probe in "
                        + System.getProperty("java.io.tmpdir", "/tmp") + ", $XDG_RUNTIME_DIR or /dev/shm: " + IoError.reason(e));
                return EXIT_ERROR;
            }
            int uid = facts.status().euid();
            StateDir.Choice stateDir = StateDir.find(env, uid, IdMap.outer(facts.caller().ownUidMap(), uid));
            Doctor.Report report = Doctor.diagnose(facts, live, runscVersion(facts.runsc()), stateDir);
            out.print(json ? ReportOutput.json(report) : ReportOutput.text(report));
            out.flush();
            return switch (report.verdict()) {
                case OK -> EXIT_OK;
                case FAIL -> EXIT_CANNOT;
                case UNTESTED -> EXIT_ERROR; // "it can start" would be a guess, "it cannot" wrong
            };
        } catch (IOException e) {
            err.println("gvshim doctor: " + IoError.reason(e));
            return EXIT_ERROR;
        }
    }

    @Override
    public int usageError() {
        return EXIT_ERROR;
    }

    /** runsc's first --version line ("runsc version 0.0~20221219.0"), or null. */
    static String runscVersion(Path runsc) {
        if (runsc == null) {
            return null;
        }
        try {
            Spawner.Completed c = Spawner.run(runsc.toString(), List.of("runsc", "--version"), List.of("LC_ALL=C"), Step.PROBE);
            String first = c.output().lines().findFirst().orElse("");
            return c.ok() ? first.replaceFirst("^runsc version ", "") : null;
        } catch (SyscallException e) {
            return null;
        }
    }

    /** As root: the whole doctor again as that user (its probes must create namespaces as that user). */
    private static int asUser(String user, ParseResult p, PrintStream err) throws IOException {
        String[] pw = passwd(user);
        if (pw == null) {
            err.println("gvshim doctor: --user " + user + ": no such user in /etc/passwd");
            return EXIT_ERROR;
        }
        if (euid() != 0) {
            err.println("gvshim doctor: --user " + user + " needs root (it runs the probes as that user); run it as " + user
                    + " instead");
            return EXIT_ERROR;
        }
        String launcher = System.getProperty("gvshim.launcher");
        if (launcher == null) {
            err.println("gvshim doctor: cannot find the installation: start gvshim through its launcher, bin/gvshim");
            return EXIT_ERROR;
        }
        List<String> argv = new ArrayList<>(List.of("gvshim", "doctor"));
        for (String opt : List.of("--json")) {
            if (p.hasMatchedOption(opt)) {
                argv.add(opt);
            }
        }
        if (p.hasMatchedOption("--runsc")) {
            argv.add("--runsc");
            argv.add(p.matchedOptionValue("--runsc", ""));
        }
        List<String> envp = new ArrayList<>();
        System.getenv().forEach((k, v) -> {
            if (!List.of("HOME", "USER", "LOGNAME", "XDG_RUNTIME_DIR", "MAIL").contains(k)) {
                envp.add(k + "=" + v);
            }
        });
        envp.addAll(List.of("HOME=" + pw[5], "USER=" + user, "LOGNAME=" + user));
        int uid = Integer.parseInt(pw[2]);
        int gid = Integer.parseInt(pw[3]);
        try {
            Spawner.Child c = Spawner.clone(new Spawner.Request(launcher, argv, envp, -1, -1, -1, -1, -1, Spawner.SETUID, uid, gid),
                    Linux.CLONE_VM | Linux.CLONE_VFORK, Step.PROBE);
            c.awaitExec(Step.PROBE);
            Linux.WaitStatus st = Linux.waitpid(c.pid(), 0);
            return st.exited() ? st.exitCode() : EXIT_ERROR;
        } catch (SyscallException e) {
            err.println("gvshim doctor: cannot run as " + user + ": " + e.callAndErrno());
            return EXIT_ERROR;
        }
    }

    private static int euid() {
        try {
            return Linux.geteuid();
        } catch (SyscallException e) {
            return -1;
        }
    }

    private static String[] passwd(String user) throws IOException {
        for (String line : Files.readAllLines(Path.of("/etc/passwd"), StandardCharsets.UTF_8)) {
            String[] f = line.split(":", -1);
            if (f.length >= 7 && f[0].equals(user)) {
                return f;
            }
        }
        return null;
    }
}
