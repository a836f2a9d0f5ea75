package dev.gvshim.container;

import java.nio.file.Path;

/**
 * The state directory cannot be used or created (STATE_DIR_UNSAFE): {@link #what()} failed
 * because {@link #why()} (naming the path, its owner and mode), and {@link #fix()}. No Java
 * exception's text: callers print these three as one line.
 */
public final class UnsafeStateDirException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String what;
    private final String dir;
    private final String why;
    private final String fix;
    private final String readOnlyParent;

    public UnsafeStateDirException(Path dir, String why, String fix) {
        this("cannot use the state directory " + dir, dir, why, fix, null);
    }

    /**
     * @param readOnlyParent the directory that could not be written because its file system is
     *                       read-only (callers that know the environment give a better fix), or null
     */
    public UnsafeStateDirException(String what, Path dir, String why, String fix, Path readOnlyParent) {
        super(what + ": " + why);
        this.what = what;
        this.dir = dir.toString();
        this.why = why;
        this.fix = fix;
        this.readOnlyParent = readOnlyParent == null ? null : readOnlyParent.toString();
    }

    /** "cannot use the state directory D", "cannot create ...". */
    public String what() {
        return what;
    }

    public String dir() {
        return dir;
    }

    public String why() {
        return why;
    }

    public String fix() {
        return fix;
    }

    /** The directory on a read-only file system, or null. */
    public Path readOnlyParent() {
        return readOnlyParent == null ? null : Path.of(readOnlyParent);
    }
}
