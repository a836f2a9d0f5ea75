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

    /** The pid of the process that takes the call over (and so owns what it was handed: a run directory). */
    default long taker() {
        return ProcessHandle.current().pid();
    }

    /**
     * Whether the program the call starts in new namespaces is forked into them by the taker
     * ({@link #spawnInto}: a server's client, so that runsc is the caller's descendant) rather than
     * exec'd by the namespace child that made them (one-shot: the child is this process's).
     */
    default boolean forksIntoNamespaces() {
        return false;
    }

    /**
     * Forks {@code s} as the taker's child into the user and mount namespaces its descriptors name
     * (setns(2)); returns its pid (in the taker's pid namespace). The descriptors stay the caller's
     * to close. Only where {@link #forksIntoNamespaces()}.
     */
    default int spawnInto(Spawn s) throws SyscallException {
        throw new SyscallException("setns", dev.gvshim.linux.Errno.EOPNOTSUPP, "this hand-over execs in place");
    }

    /**
     * @param userns  an nsfs descriptor of the user namespace (/proc/PID/ns/user)
     * @param mntns   an nsfs descriptor of the mount namespace, owned by that user namespace
     * @param stdio   descriptors of this process for its stdin, stdout, stderr
     */
    record Spawn(String program, List<String> argv, List<String> env, int userns, int mntns, int[] stdio) {
        public Spawn {
            argv = List.copyOf(argv);
            env = List.copyOf(env);
            stdio = stdio.clone();
        }
    }

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
