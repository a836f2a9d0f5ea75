package dev.gvshim.container;

import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.FileAttrs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The per-user state directory of {@code gvshim run} (and, below it, the runtime verbs' default
 * --root). In order:
 * <ol>
 * <li>{@code $XDG_RUNTIME_DIR/gvshim}, when XDG_RUNTIME_DIR is a directory of the caller with mode
 *     0700 (the XDG Base Directory spec's rule) whose parents no other user can write;</li>
 * <li>{@code /tmp/gvshim-UID} when it is the caller's own directory;</li>
 * <li>else the caller's own {@code /tmp/gvshim-UID.RANDOM} (the smallest name, if several);</li>
 * <li>else a new one: {@code /tmp/gvshim-UID} if that name is free, else {@code /tmp/gvshim-UID.RANDOM}
 *     (mkdtemp(3)-like), mode 0700.</li>
 * </ol>
 * Entries of those names that are not the caller's own directory (another user's directory of any
 * mode, a symbolic link, a file) are skipped: never followed, read or written. Uids are
 * predictable: refusing to run when another user had taken /tmp/gvshim-UID first would be a
 * lock-out any local user could cause and only root could end. A taken name costs its owner
 * nothing but a directory listing of /tmp per call: the random name cannot be taken in advance,
 * and in sticky /tmp no one but its owner and root can rename or remove an entry (so a name that
 * is the caller's stays the caller's).
 *
 * <p>Why the predictable name still comes first: when it is the caller's it is as safe as a
 * random one (the same sticky-/tmp argument), it is the name gvshim has always used (running
 * containers are found after an upgrade), it is found with one lstat where a random name needs a listing
 * of /tmp on every call (every runtime verb is a new process), and two first calls at once agree
 * on it by mkdir(2) alone. Only a caller whose name was taken needs the random one, and a
 * directory once found is used for as long as it exists: the random one is looked for before the
 * free predictable name is created.
 *
 * <p>The caller's own entry with a mode open to others is refused (STATE_DIR_UNSAFE with the chmod
 * that fixes it): only the caller or root can have made it so, and others may have written into
 * it meanwhile.
 *
 * <p>An explicit directory (--root) is used as given, after the same rule for every directory
 * above it ({@link RootChecks#checkPath}): owned by root or the caller, and not writable by others
 * unless sticky. Never a world-writable directory: a mode-0777 state directory (such as a
 * /var/run/runsc made so) lets any local user tamper with every sandbox's state.
 */
public final class StateDir {
    static final Path TMP = Path.of("/tmp");
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    /** How long a first call waits for /tmp's flock before creating its directory without it. */
    private static final long LOCK_WAIT_MS = 2000;

    private StateDir() {
    }

    /**
     * What {@link #find} saw, for doctor: the directory {@code gvshim run} would use ({@code dir},
     * which may not exist yet), or the one it would create ({@code planned}, a pattern), or the
     * {@code problem} it would fail with; and the entries it skipped (another user's, symlinks).
     */
    public record Choice(Path dir, String planned, Failure problem, List<String> ignored) {
    }

    /** The name in /tmp: inside a user namespace named after both ids (see {@link #prepareDefault}). */
    static String baseName(int uid, long outerUid) {
        return "gvshim-" + uid + (outerUid < 0 ? "" : "-outer" + outerUid);
    }

    /**
     * The default state directory, found again or created (mode 0700); one call per process.
     *
     * @param outerUid what {@code uid} is in the parent user namespace (from /proc/self/uid_map),
     *                 or -1 in the initial namespace. Inside a user namespace (unshare -r, a rootless
     *                 container) uid 0 is not the host's root, and /tmp/gvshim-0 must stay root's:
     *                 the directory is then named after both ids. (Not after the namespace's inode:
     *                 the kernel reuses those, so another user's dead namespace may own the name.)
     */
    public static Path prepareDefault(Map<String, String> env, int uid, long outerUid) throws GvshimException {
        return prepareDefault(env, uid, outerUid, TMP);
    }

    /** {@link #prepareDefault(Map, int, long)} with {@code tmp} for /tmp (tests, and the AOT cache's training run). */
    public static Path prepareDefault(Map<String, String> env, int uid, long outerUid, Path tmp) throws GvshimException {
        Path xdg = xdg(env, uid, null);
        if (xdg != null) {
            return RootChecks.create(xdg.resolve("gvshim"), uid, false); // its parents were checked with it
        }
        checkTmp(tmp, uid);
        String base = baseName(uid, outerUid);
        Path found = find(tmp, base, uid, null);
        if (found != null) {
            return found;
        }
        // The first call after boot (or after /tmp was cleaned). Two such calls at once must end up
        // in the same directory, or a container created by one would not be found by the next verb.
        // For the predictable name mkdir(2) decides.
        try {
            return RootChecks.create(tmp.resolve(base), uid, false, true);
        } catch (FileAlreadyExistsException e) {
            found = find(tmp, base, uid, null); // made by a call of ours just now?
            if (found != null) {
                return found;
            }
        }
        // Someone else has the name. For random names /tmp's flock(2) orders first calls. Any user
        // can take that lock; whoever holds it for long (systemd-tmpfiles does while it ages /tmp,
        // see tmpfiles.d(5)) only makes this call go on without it after LOCK_WAIT_MS, and then
        // converge() still makes calls that see each other's directories agree.
        TmpLock lock = TmpLock.take(tmp, LOCK_WAIT_MS);
        try {
            found = find(tmp, base, uid, null);
            if (found != null) {
                return found;
            }
            // converge even with the lock: the planted name may have been removed and taken by a call of ours meanwhile
            return converge(tmp, base, uid, createRandom(tmp, base, uid));
        } finally {
            lock.close();
        }
    }

    /** The caller's directory that {@link #find} prefers wins; a loser removes its own (still empty) one. */
    static Path converge(Path tmp, String base, int uid, Path mine) throws GvshimException {
        Path chosen = find(tmp, base, uid, null);
        if (chosen == null || chosen.equals(mine)) {
            return mine;
        }
        try {
            Files.delete(mine);
        } catch (IOException e) {
            // not empty: another call chose it meanwhile; it is the caller's own, and private
        }
        return chosen;
    }

    /** Where {@link #prepareDefault} would keep the state, without creating anything (doctor). */
    public static Choice find(Map<String, String> env, int uid, long outerUid) {
        return find(env, uid, outerUid, TMP);
    }

    /** {@link #find(Map, int, long)} with {@code tmp} for /tmp (tests: the native client must agree). */
    public static Choice find(Map<String, String> env, int uid, long outerUid, Path tmp) {
        List<String> ignored = new ArrayList<>();
        try {
            Path xdg = xdg(env, uid, ignored);
            if (xdg != null) {
                Path d = xdg.resolve("gvshim");
                if (Files.exists(d, NOFOLLOW)) {
                    RootChecks.check(d, uid, false);
                } else if (!Files.isWritable(xdg)) {
                    throw RootChecks.cannotCreate(d, uid, new AccessDeniedException(d.toString()));
                }
                return new Choice(d, null, null, ignored);
            }
            checkTmp(tmp, uid);
            String base = baseName(uid, outerUid);
            Path found = find(tmp, base, uid, ignored);
            if (found != null) {
                return new Choice(found, null, null, ignored);
            }
            Path planned = Files.exists(tmp.resolve(base), NOFOLLOW) ? tmp.resolve(base + ".XXXXXXXXXXXX") : tmp.resolve(base);
            if (!Files.isWritable(tmp)) {
                throw RootChecks.cannotCreate(planned, uid, Files.getFileStore(tmp).isReadOnly()
                        ? new FileSystemException(planned.toString(), null, "Read-only file system")
                        : new AccessDeniedException(planned.toString()));
            }
            return new Choice(null, planned.toString(), null, ignored);
        } catch (GvshimException e) {
            return new Choice(null, null, e.failure(), ignored);
        } catch (IOException e) {
            return new Choice(null, null, RootChecks.unsafe("cannot inspect " + tmp, tmp, IoError.withFile(e),
                    "pass --root DIR").failure(), ignored);
        }
    }

    /**
     * $XDG_RUNTIME_DIR if the caller may keep state there: the caller's own directory, mode 0700
     * (the XDG Base Directory spec), and no other user able to replace it. Else null, and why in
     * {@code ignored}: an unusable value (su keeps root's) is not an error, /tmp is used instead.
     */
    static Path xdg(Map<String, String> env, int uid, List<String> ignored) {
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg == null || xdg.isEmpty()) {
            return null;
        }
        String why;
        if (!xdg.startsWith("/")) {
            why = "not an absolute path";
        } else {
            Path p = Path.of(xdg);
            try {
                FileAttrs a = FileAttrs.of(p);
                if (a.symlink() || !a.dir()) {
                    why = a.symlink() ? "a symbolic link" : "not a directory";
                } else if (a.uid() != uid) {
                    why = FileAttrs.describe(p, a) + ", not yours (uid " + uid + ")";
                } else if ((a.mode() & 077) != 0) {
                    why = FileAttrs.describe(p, a) + ", not 0700 as the XDG Base Directory spec requires";
                } else {
                    RootChecks.checkPath(p, uid, false, p);
                    return p;
                }
            } catch (NoSuchFileException e) {
                why = "it does not exist";
            } catch (IOException e) {
                why = IoError.withFile(e);
            } catch (GvshimException e) {
                why = e.failure().why();
            }
        }
        if (ignored != null) {
            ignored.add("XDG_RUNTIME_DIR=" + xdg + " (" + why + ")");
        }
        return null;
    }

    /** /tmp itself: root's (or the caller's), and sticky if others can write it. */
    private static void checkTmp(Path tmp, int uid) throws GvshimException {
        try {
            RootChecks.checkPath(tmp.resolve("gvshim"), uid, false, tmp); // tmp and its parents, as parents of the state directory
        } catch (GvshimException e) {
            throw RootChecks.unsafe("cannot keep the state directory in " + tmp, tmp, e.failure().why(),
                    "restore " + tmp + "'s mode (chmod 1777 " + tmp + ": sticky, so that users cannot rename or remove each"
                            + " other's entries), or set XDG_RUNTIME_DIR to a directory of yours with mode 0700, or pass"
                            + " --root DIR");
        }
    }

    /**
     * The caller's existing state directory in {@code tmp}: {@code base} if it is the caller's
     * own directory (one lstat: the common case), else the smallest {@code base.*} that is. Entries
     * of those names that are not the caller's directory are skipped (and listed in {@code ignored}
     * when given). Null: none.
     *
     * @throws GvshimException the caller's own directory has a mode open to others
     */
    static Path find(Path tmp, String base, int uid, List<String> ignored) throws GvshimException {
        Path predictable = tmp.resolve(base);
        if (mine(predictable, uid, ignored)) {
            RootChecks.check(predictable, uid, false);
            return predictable;
        }
        String prefix = base + ".";
        String best = null;
        // java.io.File.list: one native call returns all names. A DirectoryStream builds a Path per
        // entry in interpreted Java; with 3,000 entries in /tmp that measured ~30 ms, list() ~4 ms.
        String[] names = new java.io.File(tmp.toString()).list();
        if (names == null) {
            String why = "it cannot be listed";
            try {
                Files.newDirectoryStream(tmp).close(); // only for the reason, which list() does not give
            } catch (IOException e) {
                why = IoError.withFile(e);
            }
            throw RootChecks.unsafe("cannot look for the state directory in " + tmp, tmp, why,
                    "set XDG_RUNTIME_DIR to a directory of yours with mode 0700, or pass --root DIR");
        }
        for (String n : names) {
            if (n.startsWith(prefix) && (ignored != null || best == null || n.compareTo(best) < 0)
                    && mine(tmp.resolve(n), uid, ignored) && (best == null || n.compareTo(best) < 0)) {
                best = n;
            }
        }
        if (best == null) {
            return null;
        }
        Path d = tmp.resolve(best);
        RootChecks.check(d, uid, false);
        return d;
    }

    /** Whether {@code p} is a real directory of the caller's (lstat: a symlink never is). */
    private static boolean mine(Path p, int uid, List<String> ignored) {
        FileAttrs a;
        try {
            a = FileAttrs.of(p);
        } catch (IOException e) {
            return false; // gone, or not ours to look at
        }
        if (a.dir() && a.uid() == uid) {
            return true;
        }
        if (ignored != null) {
            ignored.add(a.dir() ? FileAttrs.describe(p, a) : p + " (" + (a.symlink()
                    ? "a symbolic link of " + FileAttrs.owner(p, a.uid())
                    : "not a directory") + ")");
        }
        return false;
    }

    private static Path createRandom(Path tmp, String base, int uid) throws GvshimException {
        for (int attempt = 0;; attempt++) {
            Path d = tmp.resolve(base + "." + randomSuffix());
            try {
                return RootChecks.create(d, uid, false, true);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 16) {
                    throw RootChecks.unsafe("cannot create the state directory " + d, d,
                            "17 random names were taken", "pass --root DIR");
                }
            }
        }
    }

    /** 12 characters of [a-z0-9] from /dev/urandom (~62 bits): nobody can create the name first. */
    static String randomSuffix() {
        byte[] b = new byte[12];
        try (InputStream in = Files.newInputStream(Path.of("/dev/urandom"))) {
            if (in.readNBytes(b, 0, b.length) != b.length) {
                throw new IOException("short read");
            }
        } catch (IOException e) {
            new SecureRandom().nextBytes(b);
        }
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append("abcdefghijklmnopqrstuvwxyz0123456789".charAt((x & 0xff) % 36));
        }
        return s.toString();
    }
}
