package dev.gvshim.container;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Container ids: the caller's (runc's rule) and the one runsc knows each container by. runsc
 * finds a container by id <em>prefix</em> (runsc/container/state_file.go, findContainerID), so
 * gvshim gives runsc ids no other such id can be a prefix of ({@link #runscIdFor}).
 */
public final class ContainerIds {
    /** runc's rule (libcontainer/factory_linux.go validateID: {@code [A-Za-z0-9_+.-]}, not . or ..). */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_+\\-.]+");
    /** The longest id: gvshim's directory {@code ID.gvshim} is a file name (at most 255 bytes). */
    public static final int MAX_ID = 255 - ".gvshim".length();
    /**
     * The longest runsc id: the sandbox's control socket is the abstract unix address
     * {@code "\0runsc-sandbox." + id} (runsc/boot/controller.go), sun_path holds 108 bytes
     * (unix(7)) and Go's syscall package keeps one of them for a NUL; runsc 2022-12 fails a
     * longer id with "creating control server socket ...: invalid argument" (measured: 92
     * characters work, 93 do not).
     */
    static final int MAX_RUNSC_ID = 108 - "\0runsc-sandbox.".length() - 1;
    /** A hashed runsc id: "h-" and 40 hex digits (160 bits of SHA-256). */
    private static final Pattern HASHED = Pattern.compile("h-[0-9a-f]{40}");

    private ContainerIds() {
    }

    /** Null if {@code id} is usable, else why not (runc's "invalid container ID format" plus the rule). */
    public static String invalidId(String id) {
        if (id == null || id.isEmpty()) {
            return "container id cannot be empty";
        }
        if (id.length() > MAX_ID) {
            return INVALID_ID + ": " + id.substring(0, 16) + "... is " + id.length() + " characters long (at most "
                    + MAX_ID + ")";
        }
        if (!ID.matcher(id).matches() || id.equals(".") || id.equals("..")) {
            return INVALID_ID + ": \"" + id + "\" (letters, digits, and _ + - . only; not . or ..)";
        }
        if (id.startsWith("-")) {
            // runc accepts it after "--"; runsc's flag parser would read it as an option (and print its usage)
            return INVALID_ID + ": \"" + id + "\" (an id cannot start with -: runsc would read it as an option)";
        }
        return null;
    }

    /** runc's text (libcontainer/error.go ErrInvalidID). */
    public static final String INVALID_ID = "invalid container ID format";

    /**
     * The id runsc knows a new container by. No such id is a prefix of another: "LEN-ID" (the
     * id's length in decimal, a dash, the id: {@code 6-relpfx}, {@code 7-relpfx2}), which stays
     * readable in runsc's messages and `ps`; when that would be longer than runsc can take
     * ({@link #MAX_RUNSC_ID}), "h-" and 40 hex digits of the id's SHA-256, all of one length.
     * Why prefix-free: a decimal number ends at the first dash, so two LEN- ids agree on LEN
     * before they can agree on anything else, and then have the same length; hashed ids all
     * have one length; and the two kinds differ in their first character.
     */
    public static String runscIdFor(String id) {
        String readable = id.length() + "-" + id;
        if (readable.length() <= MAX_RUNSC_ID) {
            return readable;
        }
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return "h-" + java.util.HexFormat.of().formatHex(h).substring(0, 40);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e); // java.security.MessageDigest
        }
    }

    /**
     * The gvshim id whose runsc id {@code runscId} would be, if it has the LEN-ID form (null
     * otherwise): a container runsc lists by such an id is one of gvshim's, not a foreign one.
     */
    static String idOfReadable(String runscId) {
        int dash = runscId.indexOf('-');
        if (dash <= 0 || dash > 3 || runscId.charAt(0) == '0') {
            return null;
        }
        for (int i = 0; i < dash; i++) {
            if (!Character.isDigit(runscId.charAt(i))) {
                return null;
            }
        }
        String id = runscId.substring(dash + 1);
        return Integer.parseInt(runscId.substring(0, dash)) == id.length() ? id : null;
    }

    /** Whether {@code runscId} has a form gvshim gives its containers ({@link #runscIdFor}). */
    static boolean looksLikeRunscId(String runscId) {
        return idOfReadable(runscId) != null || HASHED.matcher(runscId).matches();
    }
}
