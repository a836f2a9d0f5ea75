package dev.gvshim.cli;

import dev.gvshim.call.Call;
import dev.gvshim.container.RuntimeLog;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import java.io.PrintStream;

/**
 * Where every failure a user sees is printed: one line on the call's stderr (what failed, why,
 * the fix, the id), and for the runc verbs also an error line in --log, the last of which
 * containerd shows as Docker's error message. Nothing below the CLI prints a failure.
 */
public final class ErrorSink {
    private ErrorSink() {
    }

    /**
     * A runc verb's failure: its one line as the error line of --log (if given: containerd shows
     * the last one as Docker's error message) and on stderr. Its exit status is runc's, whatever
     * layer found the condition: 2 for a command line runc's parser refuses, else 1 (logrus.Fatal);
     * a diagnosis made for `gvshim run` carries 125, 126 or 127, which mean other things there.
     */
    static int runtime(Call call, RuntimeLog log, Failure f) {
        log.error(f.oneLine());
        failure(call, f);
        // runc's statuses: 2 for usage, 255 for exec's own failures, 1 for the rest (diagnoses made for
        // `gvshim run` carry 125-127, which a runc verb does not use)
        return f.exitCode() == Exit.USAGE || f.exitCode() == Exit.EXEC_FAILED ? f.exitCode() : Exit.RUNTIME;
    }

    /** A failure of gvshim's own verbs (the sandbox could not start): its one line; its exit status. */
    static int failure(Call call, Failure f) {
        call.err().println(f.oneLine());
        return f.exitCode();
    }

    /**
     * A verb that speaks in its own name ("gvshim install: ..."), whose lines users and tests
     * already know: "PREFIX: what"; the failure's exit status.
     */
    static int command(Call call, String prefix, Failure f) {
        return usage(call, prefix, f.what() + " [" + f.id() + "]", f.exitCode());
    }

    /** A command-line mistake: "PREFIX: message"; {@code status}. */
    static int usage(Call call, String prefix, String message, int status) {
        call.err().println(prefix + ": " + message);
        return status;
    }

    /**
     * A bug, not a condition of the host: one line without the exception's text (users must
     * never have to read Java), the trace on request (GVSHIM_DEBUG) for the report. Nothing ran.
     */
    public static void internalError(PrintStream err, boolean debug, Throwable e) {
        err.println("gvshim: internal error (a bug in gvshim, not a problem of this machine): please report it with"
                + " the output of the same command run with GVSHIM_DEBUG=1" + (debug ? "; the trace follows" : ""));
        if (debug) {
            e.printStackTrace(err);
        }
    }
}
