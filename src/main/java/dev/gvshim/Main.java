package dev.gvshim;

import dev.gvshim.cli.Cli;
import dev.gvshim.linux.Linux;

/** Entry point: starts linking the FFM handles, runs the CLI, exits with its status. */
public final class Main {
    /** Exit status of gvshim's own failures, internal errors included (as runc and podman use). */
    private static final int EXIT_GVSHIM = 125;

    private Main() {
    }

    public static void main(String[] args) {
        // ~20 ms of FFM linking overlaps with argument parsing and spec generation. Not for the
        // runtime verbs: they use no FFM on their common paths, and on a small machine the
        // linking thread would take CPU from the call dockerd is waiting for.
        dev.gvshim.linux.Trace.mark("main");
        if (Cli.usesFfm(args)) {
            Linux.warmUpInBackground();
        }
        int status;
        try {
            status = Cli.execute(args, System.out, System.err);
        } catch (RuntimeException | Error e) {
            // A bug, not a condition of the host: one line without the exception's text (users must
            // never have to read Java), the trace on request for the report. Nothing ran.
            boolean debug = System.getenv("GVSHIM_DEBUG") != null && !System.getenv("GVSHIM_DEBUG").isEmpty();
            System.err.println("gvshim: internal error (a bug in gvshim, not a problem of this machine): please report it with"
                    + " the output of the same command run with GVSHIM_DEBUG=1" + (debug ? "; the trace follows" : ""));
            if (debug) {
                e.printStackTrace();
            }
            status = EXIT_GVSHIM;
        }
        System.out.flush();
        System.err.flush();
        // halt, not exit: gvshim registers no shutdown hooks, and JDK 25's Runtime.exit first
        // looks up a System.Logger to log the exit (a ServiceLoader scan, ~7 ms) on every failure path.
        Runtime.getRuntime().halt(status);
    }
}
