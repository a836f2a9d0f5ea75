package dev.gvshim.userns;

import dev.gvshim.linux.FileAttrs;

/**
 * What newuidmap or newgidmap looks like on disk: present, owned by root, and privileged by
 * the setuid bit or by a file capability (CAP_SETUID for newuidmap, CAP_SETGID for newgidmap).
 *
 * @param fileCap  its file capabilities grant the one it needs, effective
 * @param mode     its permission bits (st_mode & 07777), -1 unknown
 * @param owner    its owner's name (or uid), null unknown
 * @param fileCaps its security.capability as getcap shows it ("cap_setuid=ep"), null when it has none
 */
public record Helper(String name, String path, boolean present, boolean rootOwned, boolean setuid, boolean fileCap, int mode,
        String owner, String fileCaps) {

    public Helper(String name, String path, boolean present, boolean rootOwned, boolean setuid, boolean fileCap) {
        this(name, path, present, rootOwned, setuid, fileCap, -1, null, null);
    }

    public static Helper missing(String name) {
        return new Helper(name, null, false, false, false, false);
    }

    public boolean privileged() {
        return present && ((rootOwned && setuid) || fileCap);
    }

    /** The capability it needs: writing a uid_map takes CAP_SETUID, a gid_map CAP_SETGID (user_namespaces(7)). */
    public String neededCap() {
        return name.equals("newgidmap") ? "cap_setgid" : "cap_setuid";
    }

    /** "owner root, mode 4755": what decides whether it is privileged, as read. */
    public String ownerAndMode() {
        return "owner " + (owner != null ? owner : rootOwned ? "root" : "not root") + (mode < 0 ? "" : ", mode "
                + FileAttrs.octal(mode));
    }

    public String describe() {
        if (!present) {
            return name + " is not installed";
        }
        if (fileCap) {
            return path + " has file capabilities " + (fileCaps == null ? neededCap() + "=ep" : fileCaps);
        }
        if (rootOwned && setuid) {
            return path + " is setuid root (" + ownerAndMode() + ")";
        }
        if (fileCaps != null) {
            return path + " (" + ownerAndMode() + ") is not setuid root, and its file capabilities " + fileCaps + " lack "
                    + neededCap() + ", which " + name + " needs";
        }
        return path + " (" + ownerAndMode() + ") has neither the setuid bit" + (setuid ? " of root" : "")
                + " nor file capabilities";
    }
}
