package dev.gvshim.cli;

import dev.gvshim.call.Call;
import dev.gvshim.container.RuntimeError;
import dev.gvshim.container.RuntimeLog;
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

    /** A runc verb's failure: its line in --log (if given) and on stderr, "gvshim: " once; its exit status. */
    static int runtime(Call call, RuntimeLog log, RuntimeError e) {
        String msg = e.getMessage();
        log.error(msg);
        call.err().println(msg.startsWith("gvshim") ? msg : "gvshim: " + msg);
        return e.exitCode();
    }

    /** A failure of gvshim's own verbs (the sandbox could not start): its one line; its exit status. */
    static int failure(Call call, Failure f) {
        call.err().println(f.oneLine());
        return f.exitCode();
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
