package dev.gvshim.container;

import dev.gvshim.call.Call;
import dev.gvshim.call.Handover;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.SyscallException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --fallback=unsandboxed}: when the sandbox cannot start, run the command directly,
 * never silently. Only offered for the host's own root file system (the wrapper-entrypoint
 * case), where "the command" means the same program with or without gVisor.
 */
public final class Fallback {
    private Fallback() {
    }

    /**
     * Hands the call over to the command, after a warning; throws why it could not be started
     * (exit 127: not found, 126: not executable).
     */
    public static void exec(Call call, List<String> command, String cwd, String reason) throws GvshimException {
        PrintStream err = call.err();
        err.println("gvshim: WARNING: running `" + String.join(" ", command) + "` WITHOUT the gVisor sandbox"
                + " (--fallback=unsandboxed), because the sandbox could not start (" + reason + ", above)");
        err.flush();
        String program = resolve(command.get(0), call.env().getOrDefault("PATH", "/usr/bin:/bin"), cwd);
        if (program == null) {
            // the ids of the same conditions inside the sandbox (diagnose/RunscCauses)
            throw new GvshimException(new Failure("COMMAND_NOT_FOUND", "cannot run `" + command.get(0) + "`: not found in $PATH",
                    null, null, null, Exit.NOT_FOUND));
        }
        List<String> envp = new ArrayList<>();
        call.env().forEach((k, v) -> envp.add(k + "=" + v));
        try {
            call.handover().exec(new Handover.Exec(program, command, envp, cwd, List.of(), -1));
        } catch (SyscallException e) {
            boolean missing = e.errno() == dev.gvshim.linux.Errno.ENOENT;
            throw new GvshimException(new Failure(missing ? "COMMAND_NOT_FOUND" : "COMMAND_NOT_EXECUTABLE", "cannot run `"
                    + command.get(0) + "` unsandboxed: " + e.callAndErrno(), null, null, null,
                    missing ? Exit.NOT_FOUND : Exit.NOT_EXECUTABLE));
        }
    }

    /** {@code cmd} as execve(2) needs it: searched in {@code path} unless it has a slash (then relative to {@code cwd}). */
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
