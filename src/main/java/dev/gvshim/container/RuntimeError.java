package dev.gvshim.container;

/**
 * A runtime operation that failed: {@code message} is the one line that goes to --log (where
 * containerd reads it back for Docker's error text) and to stderr. Sentinel texts that clients
 * match are kept verbatim: {@value #NOT_EXIST}, {@value #NOT_RUNNING}, {@value #EXISTS}.
 */
public final class RuntimeError extends Exception {
    public static final String NOT_EXIST = "container does not exist";
    public static final String NOT_RUNNING = "container not running";
    public static final String EXISTS = "container with given ID already exists";
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    public RuntimeError(String message) {
        this(message, dev.gvshim.failure.Exit.RUNTIME);
    }

    public RuntimeError(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
