package dev.gvshim.failure;

/** Versions gvshim speaks. */
public final class Versions {
    /** The OCI runtime-spec version gvshim writes and reads (config.json's ociVersion, `--version`'s "spec:", features). */
    public static final String SPEC = "1.0.2";

    private Versions() {
    }
}
