package dev.gvshim.launch;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code --fallback=unsandboxed}: when the sandbox cannot start, run the command directly,
 * never silently. Only offered for the host's own root file system (the wrapper-entrypoint
 * case), where "the command" means the same program with or without gVisor.
 */
public final class Fallback {
    private Fallback() {
    }

    /** Replaces this process with the command, after a warning; returns an exit code only on failure. */
    public static int exec(List<String> command, String cwd, Map<String, String> env, String reason, PrintStream err) {
        err.println("gvshim: WARNING: running `" + String.join(" ", command) + "` WITHOUT the gVisor sandbox"
                + " (--fallback=unsandboxed), because the sandbox could not start (" + reason + ", above)");
        err.flush();
        String program = resolve(command.get(0), env.getOrDefault("PATH", "/usr/bin:/bin"), cwd);
        if (program == null) {
            err.println("gvshim: cannot run `" + command.get(0) + "`: not found in $PATH");
            return 127;
        }
        List<String> envp = new ArrayList<>();
        env.forEach((k, v) -> envp.add(k + "=" + v));
        try {
            if (cwd != null) {
                Linux.chdir(cwd);
            }
            Linux.execve(program, command, envp);
        } catch (SyscallException e) {
            err.println("gvshim: cannot run `" + command.get(0) + "` unsandboxed: " + e.callAndErrno());
            return e.errno() == dev.gvshim.linux.Errno.ENOENT ? 127 : 126;
        }
        return 126;
    }

    static String resolve(String cmd, String path, String cwd) {
        if (cmd.contains("/")) {
            return cmd.startsWith("/") || cwd == null ? cmd : Path.of(cwd, cmd).toString();
        }
        for (String dir : path.split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, cmd);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }
}
