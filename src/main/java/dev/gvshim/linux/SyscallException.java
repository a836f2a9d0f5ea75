package dev.gvshim.linux;

/**
 * A failed system call: which call, the errno it set, what it was applied to, and the
 * {@link Step} of start-up it belonged to. The message is built lazily (the pattern of the
 * JDK's {@code sun.nio.fs.UnixException}); the stack trace is kept, because these are rare.
 */
public final class SyscallException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;
    private final String detail;
    private Step step;

    public SyscallException(String call, int errno, String detail) {
        super(null, null, false, true);
        this.call = call;
        this.errno = errno;
        this.detail = detail == null ? "" : detail;
    }

    public SyscallException(Step step, String call, int errno, String detail) {
        this(call, errno, detail);
        this.step = step;
    }

    /** Records the step this failure belonged to, unless an inner layer already did. */
    public SyscallException in(Step s) {
        if (step == null) {
            step = s;
        }
        return this;
    }

    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }

    public String errnoName() {
        return Errno.name(errno);
    }

    public String detail() {
        return detail;
    }

    /** The step, or null when no layer has attributed one yet. */
    public Step step() {
        return step;
    }

    /** {@code clone(CLONE_NEWUSER): EPERM (Operation not permitted)} */
    public String callAndErrno() {
        return call + (detail.isEmpty() ? "" : "(" + detail + ")") + ": " + errnoName() + " (" + Errno.describe(errno) + ")";
    }

    @Override
    public String getMessage() {
        return (step == null ? "" : step.label() + ": ") + callAndErrno();
    }
}
