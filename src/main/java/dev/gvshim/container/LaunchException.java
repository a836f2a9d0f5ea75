package dev.gvshim.container;

import dev.gvshim.failure.Failure;

/** The sandbox could not start; {@link #failure()} says why. */
public final class LaunchException extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient Failure failure;

    public LaunchException(Failure failure) {
        super(failure.oneLine());
        this.failure = failure;
    }

    public Failure failure() {
        return failure;
    }
}
