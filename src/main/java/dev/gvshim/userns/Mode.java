package dev.gvshim.userns;

/** {@code --userns}: which user namespace layout to build. */
public enum Mode {
    /** full when possible, else single. */
    AUTO,
    /** 0 is the caller, 1..N its subordinate ids; runsc runs without --rootless. */
    FULL,
    /** only the caller's id, mapped to 0; runsc runs with --rootless. */
    SINGLE;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
