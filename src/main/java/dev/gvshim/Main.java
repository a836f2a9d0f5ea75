package dev.gvshim;

import dev.gvshim.call.Call;
import dev.gvshim.cli.Cli;
import dev.gvshim.cli.ErrorSink;
import dev.gvshim.failure.Exit;
import dev.gvshim.linux.Linux;

/**
 * Entry point of a one-shot gvshim: builds the {@link Call} of this process (its environment,
 * working directory, identity and stdio), runs the CLI, flushes, and exits with its status.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        // ~20 ms of FFM linking overlaps with argument parsing and spec generation. Not for the
        // runtime verbs: they use no FFM on their common paths, and on a small machine the
        // linking thread would take CPU from the call dockerd is waiting for.
        dev.gvshim.linux.Trace.configure(System.getenv("GVSHIM_TRACE"), System.getenv("GVSHIM_PROFILE"));
        dev.gvshim.linux.Trace.mark("main");
        // GVSHIM_NO_WARMUP: no early linking, for measuring each step's own cost
        if (Cli.usesFfm(args) && System.getenv("GVSHIM_NO_WARMUP") == null) {
            Linux.warmUpInBackground();
        }
        int status;
        try {
            Call call = Cli.thisProcess(System.out, System.err);
            status = Cli.execute(call, args);
        } catch (RuntimeException | Error e) {
            String debug = System.getenv("GVSHIM_DEBUG");
            ErrorSink.internalError(System.err, debug != null && !debug.isEmpty(), e);
            status = Exit.GVSHIM;
        }
        System.out.flush();
        System.err.flush();
        // halt, not exit: gvshim registers no shutdown hooks, and JDK 25's Runtime.exit first
        // looks up a System.Logger to log the exit (a ServiceLoader scan, ~7 ms) on every failure path.
        Runtime.getRuntime().halt(status);
    }
}
