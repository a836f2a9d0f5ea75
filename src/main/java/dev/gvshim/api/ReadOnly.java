package dev.gvshim.api;

/** Whether a bind mount of {@link SandboxBuilder#mount} is read-only in the sandbox ({@code gvshim run --mount SRC:DST:ro}). */
public enum ReadOnly {
    /** the sandbox cannot write to it */
    YES,
    /** the sandbox may write to it, as the sandbox's user mapped to the host (your uid for the sandbox's root) */
    NO
}
