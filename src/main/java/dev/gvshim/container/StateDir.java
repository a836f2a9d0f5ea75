package dev.gvshim.container;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The per-user state directory: {@code $XDG_RUNTIME_DIR/gvshim}, else {@code /tmp/gvshim-UID}.
 * Created 0700; an existing one must be a real directory (not a symlink), owned by the caller
 * and closed to group and others. Never a world-writable directory: the seeds' 777
 * /var/run/runsc let any local user tamper with every sandbox's state.
 */
public final class StateDir {
    private StateDir() {
    }

    /** Where the state lives when --root is not given. */
    public static Path defaultFor(Map<String, String> env, int uid) {
        return defaultFor(env, uid, -1);
    }

    /**
     * @param outerUid what {@code uid} is in the parent user namespace (from /proc/self/uid_map),
     *                 or -1 in the initial namespace. Inside a user namespace (unshare -r, a rootless
     *                 container) uid 0 is not the host's root, and /tmp/gvshim-0 must stay root's:
     *                 the directory is then named after both ids. (Not after the namespace's inode:
     *                 the kernel reuses those, so another user's dead namespace may own the name.)
     */
    public static Path defaultFor(Map<String, String> env, int uid, long outerUid) {
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && xdg.startsWith("/")) {
            Path runtime = Path.of(xdg);
            try {
                if (Files.isDirectory(runtime, LinkOption.NOFOLLOW_LINKS) && owner(runtime) == uid) {
                    return runtime.resolve("gvshim");
                }
            } catch (IOException e) {
                // fall through to /tmp
            }
        }
        return Path.of("/tmp", "gvshim-" + uid + (outerUid < 0 ? "" : "-outer" + outerUid));
    }

    /** Why {@code dir} cannot be used as the state directory, or null if it can (or can be created). */
    public static String inspect(Path dir, int uid) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Path parent = dir.getParent();
            return parent != null && Files.isDirectory(parent) && Files.isWritable(parent) ? null
                    : "it does not exist and " + parent + " is not writable";
        }
        try {
            check(dir, uid);
            return null;
        } catch (UnsafeStateDirException e) {
            return e.why();
        } catch (IOException e) {
            return dev.gvshim.diagnose.IoError.reason(e, dir);
        }
    }

    /** What {@link #prepare} would refuse an existing {@code dir} for, with its fix (doctor says what run says), or null. */
    public static UnsafeStateDirException problem(Path dir, int uid) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        try {
            check(dir, uid);
            return null;
        } catch (UnsafeStateDirException e) {
            return e;
        } catch (IOException e) {
            return new UnsafeStateDirException(dir, dev.gvshim.diagnose.IoError.reason(e, dir), "pass --root DIR");
        }
    }

    /**
     * Creates or checks the directory; returns it.
     *
     * @param explicit the user chose it (--root): the fix is then to choose another, never to
     *                 change or remove that directory (it may be /tmp, or someone's home)
     */
    public static Path prepare(Path dir, int uid, boolean explicit) throws UnsafeStateDirException, IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // checked below
        } catch (NoSuchFileException e) {
            throw new UnsafeStateDirException(dir, "its parent directory does not exist",
                    "create " + dir.getParent() + " first, or pass --root with a directory whose parent exists");
        }
        try {
            check(dir, uid);
        } catch (UnsafeStateDirException e) {
            if (explicit) {
                throw new UnsafeStateDirException(dir, e.why(), "pass a --root only you can use: a path that does not"
                        + " exist yet (gvshim creates it, mode 0700) or a directory of yours with mode 0700");
            }
            throw e;
        }
        return dir;
    }

    static void check(Path dir, int uid) throws UnsafeStateDirException, IOException {
        if (Files.isSymbolicLink(dir)) {
            throw new UnsafeStateDirException(dir, "it is a symbolic link, which another user could point elsewhere",
                    "remove it (rm " + dir + ") or pass --root DIR");
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new UnsafeStateDirException(dir, "it exists and is not a directory", "remove it or pass --root DIR");
        }
        Map<String, Object> a = Files.readAttributes(dir, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
        int owner = (Integer) a.get("uid");
        int mode = (Integer) a.get("mode") & 07777;
        if (owner != uid) {
            throw new UnsafeStateDirException(dir, "it is owned by uid " + owner + ", not by you (uid " + uid + ")",
                    "remove it as root (rm -rf " + dir + "; gvshim never uses a state directory another user"
                            + " created), or pass --root DIR");
        }
        if ((mode & 077) != 0) {
            throw new UnsafeStateDirException(dir, "its mode is " + String.format("%04o", mode) + ", open to other users",
                    "chmod 700 " + dir);
        }
    }

    static int owner(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }
}
