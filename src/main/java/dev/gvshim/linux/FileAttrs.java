package dev.gvshim.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * lstat(2)'s type, owner and mode of a file (never following a symbolic link: one that is
 * judged is the link itself), and the two ways messages show who may use a file:
 * {@link #describe} for the state directory's checks, with the uid and the octal mode that
 * chmod takes ({@code /tmp/x (owner bob (uid 1001), mode 0777)}), and {@link #ownerAndMode} for
 * access problems, as ls -l shows them ({@code owner root, mode rwx------}).
 */
public record FileAttrs(int uid, int mode) {
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    private static final int S_IFMT = 0170000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;

    /** One lstat(2). */
    public static FileAttrs of(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:uid,mode", NOFOLLOW);
        return new FileAttrs((Integer) a.get("uid"), (Integer) a.get("mode"));
    }

    public boolean dir() {
        return (mode & S_IFMT) == S_IFDIR;
    }

    public boolean symlink() {
        return (mode & S_IFMT) == S_IFLNK;
    }

    /** "0755", "4755": the permission bits (setuid, setgid and sticky included) as chmod(1) takes them. */
    public static String octal(int mode) {
        return String.format("%04o", mode & 07777);
    }

    /** "NAME (uid N)", or "uid N" when the uid has no name; looked up only for messages. */
    public static String owner(Path p, int uid) {
        try {
            String name = Files.readAttributes(p, PosixFileAttributes.class, NOFOLLOW).owner().getName();
            return name.equals(Integer.toString(uid)) ? "uid " + uid : name + " (uid " + uid + ")";
        } catch (IOException | RuntimeException e) {
            return "uid " + uid;
        }
    }

    /** "P (owner NAME (uid N), mode 0777)". */
    public static String describe(Path p, FileAttrs a) {
        return p + " (owner " + owner(p, a.uid()) + ", mode " + octal(a.mode()) + ")";
    }

    /** {@link #describe(Path, FileAttrs)}, or the bare path when it cannot be read. */
    public static String describe(Path p) {
        try {
            return describe(p, of(p));
        } catch (IOException e) {
            return p.toString();
        }
    }

    /** "owner root, mode rwx------": the owner's name (or number) and the permission bits as ls -l shows them. */
    public static String ownerAndMode(Path p) throws IOException {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, NOFOLLOW);
        return "owner " + a.owner().getName() + ", mode " + PosixFilePermissions.toString(a.permissions());
    }
}
