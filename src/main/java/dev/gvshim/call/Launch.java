package dev.gvshim.call;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A program the core wants started for this call, complete: argv (argv[0] is the program's
 * path; wrappers such as {@code gvshim-nsexec} and their options included), environment, and
 * what its stdio is. Built by the layer that knows the program (runsc/ for runsc); started
 * only by a {@link Processes}.
 *
 * @param argv  the program and its arguments
 * @param env   its whole environment
 * @param stdio what it gets as stdin, stdout and stderr
 * @param lines with {@link Stdio#LINES}: each line of its stdout, as it comes (else null)
 */
public record Launch(List<String> argv, Map<String, String> env, Stdio stdio, Consumer<String> lines) {
    public Launch {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        if ((stdio == Stdio.LINES) != (lines != null)) {
            throw new IllegalArgumentException("lines go with Stdio.LINES only");
        }
    }

    public Launch(List<String> argv, Map<String, String> env, Stdio stdio) {
        this(argv, env, stdio, null);
    }

    /** What the program gets as stdio. */
    public enum Stdio {
        /** the call's own stdin, stdout and stderr (a relay such as gvshim-nsexec keeps them from what it starts) */
        INHERIT,
        /**
         * as {@link #INHERIT}, and the signals the caller's process receives while it runs are sent on
         * to it (a foreground runtime run or exec: runc forwards them to the container's process)
         */
        FOREGROUND,
        /** stdin an empty pipe; stdout and stderr merged into {@link Ran#output()} */
        CAPTURE,
        /** stdin an empty pipe; stdout line by line to {@link Launch#lines()}; stderr discarded */
        LINES
    }

    /**
     * The caller's process went away while the program ran (a server's client killed with SIGKILL,
     * which it cannot forward): the program runs on without it, as a container runs on when `runc
     * run` is killed.
     */
    public static final class CallerGone extends java.io.IOException {
        private static final long serialVersionUID = 1L;

        public CallerGone(String message) {
            super(message);
        }
    }

    /** How it ended: its exit status (128+N when signal N killed it) and, when captured, its output as written. */
    public record Ran(int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }
    }
}
