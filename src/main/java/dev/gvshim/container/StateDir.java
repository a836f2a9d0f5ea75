package dev.gvshim.container;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
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
 * predictable, and earlier versions refused to run at all when another user had taken
 * /tmp/gvshim-UID first, a lock-out any local user could cause and only root could end. Now a
 * taken name costs its owner nothing but a directory listing of /tmp per call: the random name
 * cannot be taken in advance, and in sticky /tmp no one but its owner and root can rename or
 * remove an entry (so a name that is the caller's stays the caller's).
 *
 * <p>Why the predictable name still comes first: when it is the caller's it is as safe as a
 * random one (the same sticky-/tmp argument), it keeps the state of earlier versions (running
 * containers survive an upgrade), it is found with one lstat where a random name needs a listing
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
 * above it ({@link #checkPath}): owned by root or the caller, and not writable by others unless
 * sticky. Never a world-writable directory: the seeds' 777 /var/run/runsc let any local user
 * tamper with every sandbox's state.
 */
public final class StateDir {
    static final Path TMP = Path.of("/tmp");
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    private static final int S_IFMT = 0170000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;
    private static final int STICKY = 01000;
    private static final String ROOT_FIX = "pass a --root whose parent directories belong to you or root and are not"
            + " writable by other users (a sticky one such as /tmp is fine)";
    /** How long a first call waits for /tmp's flock before creating its directory without it. */
    private static final long LOCK_WAIT_MS = 2000;

    private StateDir() {
    }

    /**
     * What {@link #find} saw, for doctor: the directory {@code gvshim run} would use ({@code dir},
     * which may not exist yet), or the one it would create ({@code planned}, a pattern), or the
     * {@code problem} it would fail with; and the entries it skipped (another user's, symlinks).
     */
    public record Choice(Path dir, String planned, UnsafeStateDirException problem, List<String> ignored) {
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
    public static Path prepareDefault(Map<String, String> env, int uid, long outerUid) throws UnsafeStateDirException {
        return prepareDefault(env, uid, outerUid, TMP);
    }

    /** {@link #prepareDefault(Map, int, long)} with {@code tmp} for /tmp (tests, and the AOT cache's training run). */
    public static Path prepareDefault(Map<String, String> env, int uid, long outerUid, Path tmp) throws UnsafeStateDirException {
        Path xdg = xdg(env, uid, null);
        if (xdg != null) {
            return create(xdg.resolve("gvshim"), uid, false); // its parents were checked with it
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
            return create(tmp.resolve(base), uid, false, true);
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
    static Path converge(Path tmp, String base, int uid, Path mine) throws UnsafeStateDirException {
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

    static Choice find(Map<String, String> env, int uid, long outerUid, Path tmp) {
        List<String> ignored = new ArrayList<>();
        try {
            Path xdg = xdg(env, uid, ignored);
            if (xdg != null) {
                Path d = xdg.resolve("gvshim");
                if (Files.exists(d, NOFOLLOW)) {
                    check(d, uid, false);
                } else if (!Files.isWritable(xdg)) {
                    throw cannotCreate(d, uid, new AccessDeniedException(d.toString()));
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
                throw cannotCreate(planned, uid, Files.getFileStore(tmp).isReadOnly()
                        ? new FileSystemException(planned.toString(), null, "Read-only file system")
                        : new AccessDeniedException(planned.toString()));
            }
            return new Choice(null, planned.toString(), null, ignored);
        } catch (UnsafeStateDirException e) {
            return new Choice(null, null, e, ignored);
        } catch (IOException e) {
            return new Choice(null, null, new UnsafeStateDirException("cannot inspect " + tmp, tmp, reason(e),
                    "pass --root DIR", null), ignored);
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
                Attrs a = Attrs.of(p);
                if (a.symlink() || !a.dir()) {
                    why = a.symlink() ? "a symbolic link" : "not a directory";
                } else if (a.uid() != uid) {
                    why = describe(p, a) + ", not yours (uid " + uid + ")";
                } else if ((a.mode() & 077) != 0) {
                    why = describe(p, a) + ", not 0700 as the XDG Base Directory spec requires";
                } else {
                    checkPath(p, uid, false, p);
                    return p;
                }
            } catch (NoSuchFileException e) {
                why = "it does not exist";
            } catch (IOException e) {
                why = reason(e);
            } catch (UnsafeStateDirException e) {
                why = e.why();
            }
        }
        if (ignored != null) {
            ignored.add("XDG_RUNTIME_DIR=" + xdg + " (" + why + ")");
        }
        return null;
    }

    /** /tmp itself: root's (or the caller's), and sticky if others can write it. */
    private static void checkTmp(Path tmp, int uid) throws UnsafeStateDirException {
        try {
            checkPath(tmp.resolve("gvshim"), uid, false, tmp); // tmp and its parents, as parents of the state directory
        } catch (UnsafeStateDirException e) {
            throw new UnsafeStateDirException("cannot keep the state directory in " + tmp, tmp, e.why(),
                    "restore " + tmp + "'s mode (chmod 1777 " + tmp + ": sticky, so that users cannot rename or remove each"
                            + " other's entries), or set XDG_RUNTIME_DIR to a directory of yours with mode 0700, or pass"
                            + " --root DIR", null);
        }
    }

    /**
     * The caller's existing state directory in {@code tmp}: {@code base} if it is the caller's
     * own directory (one lstat: the common case), else the smallest {@code base.*} that is. Entries
     * of those names that are not the caller's directory are skipped (and listed in {@code ignored}
     * when given). Null: none.
     *
     * @throws UnsafeStateDirException the caller's own directory has a mode open to others
     */
    static Path find(Path tmp, String base, int uid, List<String> ignored) throws UnsafeStateDirException {
        Path legacy = tmp.resolve(base);
        if (mine(legacy, uid, ignored)) {
            check(legacy, uid, false);
            return legacy;
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
                why = reason(e);
            }
            throw new UnsafeStateDirException("cannot look for the state directory in " + tmp, tmp, why,
                    "set XDG_RUNTIME_DIR to a directory of yours with mode 0700, or pass --root DIR", null);
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
        check(d, uid, false);
        return d;
    }

    /** Whether {@code p} is a real directory of the caller's (lstat: a symlink never is). */
    private static boolean mine(Path p, int uid, List<String> ignored) {
        Attrs a;
        try {
            a = Attrs.of(p);
        } catch (IOException e) {
            return false; // gone, or not ours to look at
        }
        if (a.dir() && a.uid() == uid) {
            return true;
        }
        if (ignored != null) {
            ignored.add(a.dir() ? describe(p, a) : p + " (" + (a.symlink() ? "a symbolic link of " + owner(p, a.uid())
                    : "not a directory") + ")");
        }
        return false;
    }

    private static Path createRandom(Path tmp, String base, int uid) throws UnsafeStateDirException {
        for (int attempt = 0;; attempt++) {
            Path d = tmp.resolve(base + "." + randomSuffix());
            try {
                return create(d, uid, false, true);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 16) {
                    throw new UnsafeStateDirException("cannot create the state directory " + d, d,
                            "17 random names were taken", "pass --root DIR", null);
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

    /**
     * Creates or checks an explicit directory (--root; TrainCommand's scratch); returns it.
     *
     * @param explicit the user chose it (--root): the fix is then to choose another, never to
     *                 change or remove that directory (it may be /tmp, or someone's home)
     */
    public static Path prepare(Path dir, int uid, boolean explicit) throws UnsafeStateDirException {
        try {
            checkPath(dir, uid, false, dir);
        } catch (UnsafeStateDirException e) {
            throw new UnsafeStateDirException(e.what(), dir, e.why(), explicit ? ROOT_FIX : e.fix(), null);
        }
        return create(dir, uid, explicit);
    }

    /**
     * The runtime verbs' --root (and root's /run/gvshim): every directory on the way, the last one
     * too, belongs to root or the caller and is not writable by others (sticky is not enough for the
     * last: runsc's and gvshim's records are in it). It may not exist yet (create makes it).
     */
    public static void checkRuntimeRoot(Path root, int uid) throws UnsafeStateDirException {
        checkPath(root, uid, true, root);
    }

    /**
     * Makes what is missing of the runtime's --root (mode 0711, as runc), one directory at a time,
     * each judged by {@link #checkPath} before the next is made in it: a name another user puts in
     * the way after the check (in sticky /tmp: their directory, or a symlink to one) is refused
     * before anything is written through it. Files.createDirectories would follow it.
     */
    public static void makeRuntimeRoot(Path root, int uid) throws UnsafeStateDirException {
        for (int i = 0; i < 256; i++) {
            Path missing = checkPath(root, uid, true, root);
            if (missing == null) {
                return;
            }
            try {
                Files.createDirectory(missing, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
            } catch (FileAlreadyExistsException e) {
                // made meanwhile: judged on the next round
            } catch (IOException e) {
                throw cannotCreate(missing, uid, e);
            }
        }
        throw new UnsafeStateDirException(root, "its directories keep disappearing while gvshim makes them", "pass --root DIR");
    }

    private static Path create(Path dir, int uid, boolean explicit) throws UnsafeStateDirException {
        try {
            return create(dir, uid, explicit, false);
        } catch (FileAlreadyExistsException e) {
            throw new AssertionError(e); // not thrown when not exclusive
        }
    }

    /** mkdir 0700, then {@link #check}; with {@code exclusive}, an existing one is the caller's problem. */
    private static Path create(Path dir, int uid, boolean explicit, boolean exclusive)
            throws UnsafeStateDirException, FileAlreadyExistsException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            if ((Attrs.of(dir).mode() & 0700) != 0700) { // a umask took bits of the owner's: ours, so fix it
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            }
        } catch (FileAlreadyExistsException e) {
            if (exclusive) {
                throw e;
            }
        } catch (IOException e) {
            throw cannotCreate(dir, uid, e);
        }
        check(dir, uid, explicit);
        return dir;
    }

    private static UnsafeStateDirException cannotCreate(Path dir, int uid, IOException e) {
        String what = "cannot create the state directory " + dir;
        Path parent = dir.getParent() == null ? dir : dir.getParent();
        if (e instanceof NoSuchFileException) {
            return new UnsafeStateDirException(what, dir, "its parent directory " + parent + " does not exist",
                    "create " + parent + " first, or pass --root with a directory whose parent exists", null);
        }
        if (e instanceof FileSystemException f && "Read-only file system".equals(f.getReason())) {
            return new UnsafeStateDirException(what, dir, parent + " is on a read-only file system",
                    "pass --root with a directory on a writable file system", parent);
        }
        if (e instanceof AccessDeniedException) {
            Path blocked = parent;
            for (Path a = parent.getRoot(); a != null && !a.equals(parent); a = next(a, parent)) {
                if (!Files.isExecutable(a)) {
                    blocked = a;
                    break;
                }
            }
            return new UnsafeStateDirException(what, dir, describe(blocked) + " is not " + (blocked.equals(parent)
                    ? "writable" : "searchable") + " by you (uid " + uid + ")",
                    "pass --root with a directory you own, or a new path in a directory you can write", null);
        }
        return new UnsafeStateDirException(what, dir, reason(e), "check free space and permissions of " + parent
                + ", or pass --root DIR elsewhere", null);
    }

    /** The child of {@code a} on the way to {@code to}. */
    private static Path next(Path a, Path to) {
        return a.resolve(to.getName(a.getNameCount()));
    }

    /** The directory itself: a real directory, the caller's, closed to group and others. */
    static void check(Path dir, int uid, boolean explicit) throws UnsafeStateDirException {
        Attrs a;
        try {
            a = Attrs.of(dir);
        } catch (IOException e) {
            throw new UnsafeStateDirException(dir, reason(e), "pass --root DIR");
        }
        String why;
        String fix;
        if (a.symlink()) {
            why = "it is a symbolic link (of " + owner(dir, a.uid()) + "), which could be pointed elsewhere";
            fix = "remove it (rm " + dir + ") or pass --root DIR";
        } else if (!a.dir()) {
            why = "it exists and is not a directory";
            fix = "remove it or pass --root DIR";
        } else if (a.uid() != uid) {
            why = "it is owned by " + owner(dir, a.uid()) + ", not by you (uid " + uid + "); mode " + octal(a.mode());
            fix = "pass --root DIR (gvshim never uses a state directory another user created)";
        } else if ((a.mode() & 077) != 0) {
            why = "its mode is " + octal(a.mode()) + ", open to other users";
            fix = "chmod 700 " + dir;
        } else {
            return;
        }
        throw new UnsafeStateDirException(dir, why, explicit ? "pass a --root only you can use: a path that does not"
                + " exist yet (gvshim creates it, mode 0700) or a directory of yours with mode 0700" : fix);
    }

    /**
     * Checks every directory that resolving {@code path} goes through, following symbolic links as
     * the kernel does (so /var/run -> /run is fine): each must belong to root or the caller, and
     * must not be writable by group or others unless sticky (then they cannot rename or remove what
     * is not theirs: /tmp); a symlink on the way must belong to root or the caller too (its owner
     * can point it elsewhere). With {@code last}, the last component is checked the same way
     * (sticky not enough); without, it is left to the caller. Stops at the first component that does
     * not exist: gvshim creates the rest, as the caller.
     *
     * <p>Inside a user namespace, an owner outside its uid_map reads as the overflow uid (65534)
     * and cannot be told from the host's root: such a directory is trusted (whoever made the
     * namespace chose its mounts), still only when others cannot write it.
     *
     * @param shown the state directory, for the message
     * @return the first directory on the way that does not exist (symlinks resolved), or null
     */
    static Path checkPath(Path path, int uid, boolean last, Path shown) throws UnsafeStateDirException {
        Path abs = path.toAbsolutePath();
        Deque<String> todo = new ArrayDeque<>();
        for (Path n : abs) {
            todo.add(n.toString());
        }
        Path root = abs.getRoot();
        Path cur = root;
        Trust trust = new Trust(uid);
        judge(cur, attrs(cur, shown), !todo.isEmpty() || !last, trust, shown);
        int links = 0;
        while (!todo.isEmpty()) {
            String name = todo.pollFirst();
            boolean isLast = todo.isEmpty();
            if (name.equals(".")) {
                continue;
            }
            if (name.equals("..")) {
                cur = cur.getParent() == null ? cur : cur.getParent();
                continue;
            }
            if (isLast && !last) {
                return null;
            }
            Path next = cur.resolve(name);
            Attrs a;
            try {
                a = Attrs.of(next);
            } catch (NoSuchFileException e) {
                return next;
            } catch (IOException e) {
                throw new UnsafeStateDirException(shown, "cannot look into " + describe(cur) + ": " + reason(e),
                        "pass --root with a directory you can reach");
            }
            if (a.symlink()) {
                if (!trust.owner(a.uid())) {
                    throw new UnsafeStateDirException(shown, next + " is a symbolic link of " + owner(next, a.uid())
                            + ", who can point it elsewhere", "pass --root with a path that does not go through it");
                }
                if (++links > 40) { // the kernel's limit too (path_resolution(7))
                    throw new UnsafeStateDirException(shown, "too many levels of symbolic links in " + path, "pass --root DIR");
                }
                Path target;
                try {
                    target = Files.readSymbolicLink(next);
                } catch (IOException e) {
                    throw new UnsafeStateDirException(shown, "cannot read the symbolic link " + next + ": " + reason(e),
                            "pass --root DIR");
                }
                List<String> names = new ArrayList<>();
                target.forEach(n -> names.add(n.toString()));
                for (int i = names.size() - 1; i >= 0; i--) {
                    todo.addFirst(names.get(i));
                }
                if (target.isAbsolute()) {
                    cur = root;
                }
                continue;
            }
            if (!a.dir()) {
                throw new UnsafeStateDirException(shown, next + " is not a directory", "pass --root DIR");
            }
            judge(next, a, !isLast, trust, shown);
            cur = next;
        }
        return null;
    }

    private static Attrs attrs(Path p, Path shown) throws UnsafeStateDirException {
        try {
            return Attrs.of(p);
        } catch (IOException e) {
            throw new UnsafeStateDirException(shown, "cannot read " + p + ": " + reason(e), "pass --root DIR");
        }
    }

    private static void judge(Path p, Attrs a, boolean ancestor, Trust trust, Path shown) throws UnsafeStateDirException {
        if (!trust.owner(a.uid())) {
            throw new UnsafeStateDirException(shown, describe(p, a) + (ancestor ? " belongs to another user, who can rename"
                    + " or replace what is in it" : " belongs to another user"), ROOT_FIX);
        }
        boolean writable = (a.mode() & 022) != 0;
        if (writable && !(ancestor && (a.mode() & STICKY) != 0)) {
            String who = (a.mode() & 022) == 022 ? "group and other users" : (a.mode() & 002) != 0 ? "other users" : "its group";
            throw new UnsafeStateDirException(shown, describe(p, a) + " is writable by " + who + (ancestor
                    ? " and not sticky, so they can rename or replace what is in it" : ", who could tamper with the"
                    + " containers' state"), ancestor ? "chmod go-w " + p + " (or +t), or pass --root elsewhere"
                    : "chmod go-w " + p + ", or pass --root elsewhere");
        }
    }

    /** Who may own a directory on the way: root, the caller, and inside a user namespace an unmapped owner. */
    private static final class Trust {
        private final int uid;
        private Boolean userns;

        Trust(int uid) {
            this.uid = uid;
        }

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
            return Integer.parseInt(new String(in.readNBytes(64), java.nio.charset.StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return 65534;
        }
    }

    /** lstat(2)'s type, owner and mode: one call, never following a symlink. */
    record Attrs(int uid, int mode) {
        static Attrs of(Path p) throws IOException {
            Map<String, Object> a = Files.readAttributes(p, "unix:uid,mode", NOFOLLOW);
            return new Attrs((Integer) a.get("uid"), (Integer) a.get("mode"));
        }

        boolean dir() {
            return (mode & S_IFMT) == S_IFDIR;
        }

        boolean symlink() {
            return (mode & S_IFMT) == S_IFLNK;
        }
    }

    /** "P (owner NAME (uid N), mode 0777)". */
    static String describe(Path p, Attrs a) {
        return p + " (owner " + owner(p, a.uid()) + ", mode " + octal(a.mode()) + ")";
    }

    static String describe(Path p) {
        try {
            return describe(p, Attrs.of(p));
        } catch (IOException e) {
            return p.toString();
        }
    }

    /** "NAME (uid N)", or "uid N" when the name is unknown; looked up only for messages. */
    static String owner(Path p, int uid) {
        try {
            String name = Files.readAttributes(p, PosixFileAttributes.class, NOFOLLOW).owner().getName();
            return name.equals(Integer.toString(uid)) ? "uid " + uid : name + " (uid " + uid + ")";
        } catch (IOException | RuntimeException e) {
            return "uid " + uid;
        }
    }

    static String octal(int mode) {
        return String.format("%04o", mode & 07777);
    }

    /**
     * The cause of a failed file operation, for a person: the system's text ("No space left on
     * device", "Permission denied"), never the Java exception's class name.
     */
    public static String reason(IOException e) {
        String file = e instanceof FileSystemException f ? f.getFile() : null;
        String r = dev.gvshim.diagnose.IoError.reason(e);
        return file == null ? r : file + ": " + r;
    }

    /** flock(2) on a directory (LOCK_EX), released by closing the descriptor. */
    static final class TmpLock implements AutoCloseable {
        private static final int LOCK_EX = 2;
        private static final int LOCK_NB = 4;
        private int fd;

        private TmpLock(int fd) {
            this.fd = fd;
        }

        static TmpLock take(Path dir, long waitMillis) {
            int fd = -1;
            try {
                fd = Linux.open(dir.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
                long deadline = System.nanoTime() + waitMillis * 1_000_000;
                while (true) {
                    try {
                        Linux.flock(fd, LOCK_EX | LOCK_NB);
                        return new TmpLock(fd);
                    } catch (SyscallException e) {
                        if (e.errno() != Errno.EAGAIN || System.nanoTime() > deadline) {
                            break;
                        }
                    }
                    Thread.sleep(5);
                }
            } catch (SyscallException e) {
                // no lock: go on without it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Linux.closeQuietly(fd);
            return new TmpLock(-1);
        }

        @Override
        public void close() {
            if (fd >= 0) {
                Linux.closeQuietly(fd);
                fd = -1;
            }
        }
    }
}
