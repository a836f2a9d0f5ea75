package dev.gvshim.install;

/** What registering a runtime does to a configuration file. */
public enum Change {
    /** The file does not exist yet: it is created. */
    CREATED,
    /** The runtime is added to an existing file. */
    ADDED,
    /** The runtime was registered differently; its entry is replaced. */
    REPLACED,
    /** The runtime is registered exactly so already: nothing to write. */
    UNCHANGED
}
