package dev.gvshim.call;

import dev.gvshim.linux.SyscallException;
import java.util.List;

/**
 * The end of a call that another program finishes: {@code gvshim run} hands the sandbox to
 * gvshim-waiter, {@code --fallback=unsandboxed} to the command itself. One-shot gvshim execs
 * it in its own process ({@link OneShotHandover}); a server sends it to its client.
 */
@FunctionalInterface
public interface Handover {
    /**
     * Hands the call over to {@code e}. Returns normally only when the program now runs (or
     * has run) elsewhere, so the caller must not undo what it prepared for it; throws when it
     * could not be started. An exec in this process never returns.
     */
    void exec(Exec e) throws SyscallException;

    /**
     * @param program the program's path
     * @param argv    its arguments, argv[0] included
     * @param env     its environment, KEY=VALUE
     * @param cwd     its working directory, or null for the call's own
     * @param fds     descriptors of this process it must inherit (named in argv), others are close-on-exec
     * @param child   a child of this process the program takes over (gvshim-waiter's --child), or -1
     */
    record Exec(String program, List<String> argv, List<String> env, String cwd, List<Integer> fds, int child) {
        public Exec {
            argv = List.copyOf(argv);
            env = List.copyOf(env);
            fds = List.copyOf(fds);
        }
    }
}
