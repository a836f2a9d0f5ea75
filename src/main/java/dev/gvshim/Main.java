package dev.gvshim;

import dev.gvshim.cli.Cli;
import dev.gvshim.linux.Linux;

/** Entry point: starts linking the FFM handles, runs the CLI, exits with its status. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        // ~20 ms of FFM linking overlaps with argument parsing and spec generation.
        dev.gvshim.linux.Trace.mark("main");
        Linux.warmUpInBackground();
        int status = Cli.execute(args, System.out, System.err);
        System.out.flush();
        System.err.flush();
        // halt, not exit: gvshim registers no shutdown hooks, and JDK 25's Runtime.exit first
        // looks up a System.Logger to log the exit (a ServiceLoader scan, ~7 ms) on every failure path.
        Runtime.getRuntime().halt(status);
    }
}
