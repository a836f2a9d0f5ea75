package dev.gvshim.oci;

/** config.json parses as JSON but cannot describe a container. */
public final class InvalidSpecException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidSpecException(String message) {
        super(message);
    }
}
