package dev.gvshim.cli;

import dev.gvshim.call.Call;
import dev.gvshim.failure.Exit;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * One of gvshim's own subcommands: its picocli model and what it does with a parse result.
 * Models are built with picocli's programmatic API: the annotation model costs ~30 ms of
 * reflection (and annotation proxies the AOT cache cannot hold) on every start, the
 * programmatic one ~5 ms.
 */
interface Verb {
    String name();

    CommandSpec spec();

    /** Runs the verb for {@code call}; the return value is the exit status. */
    int call(ParseResult args, Call call);

    /** Exit status for a command-line usage error. */
    default int usageError() {
        return Exit.USAGE;
    }
}
