package dev.gvshim.install;

/** A configuration file gvshim install will not touch: the message names the file, what is wrong and the fix. */
public final class InstallException extends Exception {
    private static final long serialVersionUID = 1L;

    public InstallException(String message) {
        super(message);
    }
}
