package dev.gvshim.container;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Who may own a directory on the way to a state directory: root, the caller, and inside a user namespace an unmapped owner. */
final class OwnerTrust {
    private final int uid;
    private Boolean userns;

    OwnerTrust(int uid) {
        this.uid = uid;
    }

    /** Whether a directory owned by {@code owner} may lie on the way. */
    boolean owner(int owner) {
        if (owner == 0 || owner == uid) {
            return true;
        }
        if (owner != overflowUid()) {
            return false;
        }
        if (userns == null) { // read only when needed: not on the common path
            userns = inUserNamespace();
        }
        return userns;
    }

    /** Not the initial user namespace: /proc/self/uid_map is not {@code 0 0 4294967295} (user_namespaces(7)). */
    static boolean inUserNamespace() {
        try {
            String[] f = Files.readString(Path.of("/proc/self/uid_map")).trim().split("\\s+");
            return !(f.length == 3 && f[0].equals("0") && f[1].equals("0") && f[2].equals("4294967295"));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * What unmapped owners read as: /proc/sys/kernel/overflowuid (65534 by default). In one read:
     * Files.readString reads a size-0 /proc/sys file one byte first, and the sysctl handler answers
     * any read past offset 0 with EOF (it returned "6"; see Facts.string).
     */
    static int overflowUid() {
        try (InputStream in = Files.newInputStream(Path.of("/proc/sys/kernel/overflowuid"))) {
            return Integer.parseInt(new String(in.readNBytes(64), StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return 65534;
        }
    }
}
