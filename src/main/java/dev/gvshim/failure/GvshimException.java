package dev.gvshim.failure;

/**
 * The one exception that crosses gvshim's layers: a {@link Failure}, carried from the layer that
 * knows the condition to the CLI's one sink (cli/ErrorSink), which prints its one line. The
 * message is that line, for stack traces under GVSHIM_DEBUG only: no code but the sink shows it.
 * (The lowest layer's {@code linux.SyscallException} carries a call and errno instead, because
 * only diagnose/Explain can tell what they mean; it translates one into a Failure.)
 */
public final class GvshimException extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient Failure failure;

    public GvshimException(Failure failure) {
        super(failure.oneLine());
        this.failure = failure;
    }

    /** {@code new GvshimException(failure)} that also keeps {@code cause}'s trace for GVSHIM_DEBUG. */
    public GvshimException(Failure failure, Throwable cause) {
        super(failure.oneLine(), cause);
        this.failure = failure;
    }

    public Failure failure() {
        return failure;
    }
}
