package dev.gvshim.container;

import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;

/**
 * The runc verbs' failures, one id each. The sentinel texts containerd and Docker match as
 * substrings of the error runc prints ({@value #NOT_EXIST}, {@value #NOT_RUNNING},
 * {@value #EXISTS}; containerd's runc shim: runtime/v2/runc, errdefs) stay verbatim at the start
 * of the line; the id follows at its end, where {@link Failure#oneLine()} puts it.
 */
public final class RuntimeFailures {
    public static final String NOT_EXIST = "container does not exist";
    public static final String NOT_RUNNING = "container not running";
    public static final String EXISTS = "container with given ID already exists";

    private RuntimeFailures() {
    }

    /** A runc verb's failure: {@code line} in full (what, why and fix in the words runc's users know), exit 1. */
    public static GvshimException of(String id, String line) {
        return new GvshimException(Failure.runtime(id, line));
    }

    /**
     * {@code --preserve-fds N}, N > 0, refused: the container would not get the descriptors (runsc
     * 2022-12's create and exec have no way to pass any; runsc 2024's run and exec --pass-fd are not
     * used by gvshim), and a program that expects them (socket activation's LISTEN_FDS) would fail
     * later for no visible reason. Never accepted and dropped.
     */
    static void preserveFds(Integer n, String verb) throws GvshimException {
        if (n != null && n > 0) {
            throw of("PRESERVE_FDS_UNSUPPORTED", "cannot pass " + n + " extra descriptor" + (n == 1 ? "" : "s") + " to the "
                    + (verb.equals("exec") ? "process" : "container") + ": runsc " + verb + " has no way to pass them into the"
                    + " gVisor sandbox. Fix: run without --preserve-fds (a listening socket can be bind-mounted into the"
                    + " container instead)");
        }
    }

    /** The verb's command line is wrong: {@code line}, with {@code status} (2 where runc's parser says so, else 1). */
    public static GvshimException args(String line, int status) {
        return new GvshimException(new Failure("ARGS_INVALID", line, null, null, null, status));
    }

    /** {@link #args(String, int)} with runc's status for a verb's own argument check (1). */
    public static GvshimException args(String line) {
        return args(line, Exit.RUNTIME);
    }

    /** No container {@code id} (runc's sentinel); {@code hidden}, when not null, says why it cannot be seen. */
    public static GvshimException notFound(String id, String hidden) {
        return of("CONTAINER_NOT_FOUND", NOT_EXIST + ": " + id + (hidden == null ? "" : " (" + hidden + ")"));
    }

    public static GvshimException notFound(String id) {
        return notFound(id, null);
    }

    /** The verb needs a running container (runc's sentinel). */
    public static GvshimException notRunning(String id) {
        return of("CONTAINER_NOT_RUNNING", NOT_RUNNING + ": " + id);
    }

    /** `create` of an id that is taken (runc's sentinel). */
    public static GvshimException exists(String id) {
        return of("CONTAINER_EXISTS", EXISTS + ": " + id);
    }

    /** The container's status does not allow the verb ({@code refusal}: runc's own words). */
    public static GvshimException state(String refusal) {
        return of("CONTAINER_STATE", refusal);
    }

    /** The container's state under --root cannot be read or written. */
    public static GvshimException stateIo(String line) {
        return of("STATE_IO", line);
    }

    /** runsc refused the verb: its own words ({@code line} names the verb and the container). */
    public static GvshimException runsc(String line) {
        return of("RUNSC_FAILED", line);
    }

    /** A diagnosis made for `gvshim run` (its own exit status), reported by a runc verb: runc's status. */
    public static GvshimException diagnosed(Failure f) {
        return new GvshimException(f.withExit(Exit.RUNTIME));
    }
}
