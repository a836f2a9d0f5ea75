package dev.gvshim.diagnose;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * `gvshim doctor --user NAME` as root: the whole doctor again as that user (its probes must
 * create namespaces as that user): gvshim's launcher cloned with setresuid(2) to the user's
 * uid and gid from /etc/passwd, and the user's HOME, USER and LOGNAME.
 */
public final class AsUser {
    private AsUser() {
    }

    /** How it went: the exit status of doctor run as the user, or why it could not run (status 2). */
    public record Outcome(int status, String error) {
    }

    /** The uid of {@code user} in /etc/passwd, or -1 if there is none. */
    public static int uid(String user) throws IOException {
        String[] pw = passwd(user);
        return pw == null ? -1 : Integer.parseInt(pw[2]);
    }

    /**
     * Runs {@code launcher doctorArgs...} as {@code user}, with {@code env} (the caller's, without
     * what names the caller); {@code euid}: the caller's, which must be root.
     */
    public static Outcome run(String user, int euid, Path launcher, List<String> doctorArgs, Map<String, String> env)
            throws IOException {
        String[] pw = passwd(user);
        if (pw == null) {
            return new Outcome(2, "--user " + user + ": no such user in /etc/passwd");
        }
        if (euid != 0) {
            return new Outcome(2, "--user " + user + " needs root (it runs the probes as that user); run it as " + user
                    + " instead");
        }
        if (launcher == null) {
            return new Outcome(2, "cannot find the installation: start gvshim through its launcher, bin/gvshim");
        }
        List<String> envp = new ArrayList<>();
        env.forEach((k, v) -> {
            if (!List.of("HOME", "USER", "LOGNAME", "XDG_RUNTIME_DIR", "MAIL").contains(k)) {
                envp.add(k + "=" + v);
            }
        });
        envp.addAll(List.of("HOME=" + pw[5], "USER=" + user, "LOGNAME=" + user));
        int uid = Integer.parseInt(pw[2]);
        int gid = Integer.parseInt(pw[3]);
        try {
            Spawner.Child c = Spawner.clone(new Spawner.Request(launcher.toString(), doctorArgs, envp, -1, -1, -1, -1, -1,
                    Spawner.SETUID, uid, gid), Linux.CLONE_VM | Linux.CLONE_VFORK, Step.PROBE);
            c.awaitExec(Step.PROBE);
            Linux.WaitStatus st = Linux.waitpid(c.pid(), 0);
            return new Outcome(st.exited() ? st.exitCode() : 2, null);
        } catch (SyscallException e) {
            return new Outcome(2, "cannot run as " + user + ": " + e.callAndErrno());
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
