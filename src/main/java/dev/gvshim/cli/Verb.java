package dev.gvshim.cli;

import java.io.PrintStream;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * One subcommand: its picocli model and what it does with a parse result. Models are built
 * with picocli's programmatic API: the annotation model costs ~30 ms of reflection (and
 * annotation proxies the AOT cache cannot hold) on every start, the programmatic one ~5 ms.
 */
interface Verb {
    String name();

    CommandSpec spec();

    /** Runs the verb; the return value is the exit status. */
    int call(ParseResult args, PrintStream out, PrintStream err);

    /** Exit status for a command-line usage error. */
    default int usageError() {
        return 2;
    }
}
