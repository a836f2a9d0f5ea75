package dev.gvshim.userns;

/**
 * What newuidmap or newgidmap looks like on disk: present, owned by root, and privileged by
 * the setuid bit or by a file capability (CAP_SETUID for newuidmap, CAP_SETGID for newgidmap).
 */
public record Helper(String name, String path, boolean present, boolean rootOwned, boolean setuid, boolean fileCap) {

    public static Helper missing(String name) {
        return new Helper(name, null, false, false, false, false);
    }

    public boolean privileged() {
        return present && ((rootOwned && setuid) || fileCap);
    }

    public String describe() {
        if (!present) {
            return name + " is not installed";
        }
        if (fileCap) {
            return path + " has file capabilities";
        }
        if (rootOwned && setuid) {
            return path + " is setuid root";
        }
        return path + " has neither the setuid bit nor file capabilities";
    }
}
