package dev.gvshim.api;

import dev.gvshim.failure.Failure;
import java.io.IOException;

/**
 * The sandbox could not start: nothing ran. One type for every such failure, carrying the same
 * diagnosis as {@code gvshim run}'s one line: {@link #id()} (listed in docs/errors.md, the ids
 * {@code gvshim doctor} uses), {@link #why()} and {@link #fix()}; {@link #getMessage()} is the
 * whole line. An IOException, as {@link ProcessBuilder#start()}'s failures are.
 */
public final class SandboxException extends IOException {
    private static final long serialVersionUID = 1L;
    /** not serialisable: a record of strings, rebuilt from the message if ever needed */
    private final transient Failure failure;

    /** A failure as the core reports it. */
    public SandboxException(Failure failure) {
        super(failure.oneLine());
        this.failure = failure;
    }

    /** The diagnosis: id, what failed, evidence (call and errno), why, fix. */
    public Failure failure() {
        return failure;
    }

    /** The stable id, such as {@code SUBUID_MISSING} or {@code ROOTFS_NOT_ACCESSIBLE}. */
    public String id() {
        return failure.id();
    }

    /** The cause, or null when unknown. */
    public String why() {
        return failure.why();
    }

    /** What to do about it, or null. */
    public String fix() {
        return failure.fix();
    }
}
