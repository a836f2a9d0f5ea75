package dev.gvshim.container;

import java.nio.file.Path;

/** The state directory exists but cannot be trusted (STATE_DIR_UNSAFE). */
public final class UnsafeStateDirException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String dir;
    private final String why;
    private final String fix;

    public UnsafeStateDirException(Path dir, String why, String fix) {
        super("state directory " + dir + " is unsafe: " + why);
        this.dir = dir.toString();
        this.why = why;
        this.fix = fix;
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
}
