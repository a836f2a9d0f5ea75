package dev.gvshim.container;

import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.FileAttrs;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Function;

/**
 * The checks of a state directory and of every directory above it, and its creation, mode
 * 0700: who may own them, who may write them, and the one-line refusal that names the path, its
 * owner and mode and the fix (STATE_DIR_UNSAFE, {@link #unsafe}). {@link StateDir} chooses the
 * directory; these rules judge it, for the default one and an explicit --root alike.
 */
public final class RootChecks {
    private static final int STICKY = 01000;
    static final String ROOT_FIX = "pass a --root whose parent directories belong to you or root and are not"
            + " writable by other users (a sticky one such as /tmp is fine)";

    /** The fix for a read-only parent when nothing more is known; callers that know the environment say more. */
    private static final String READ_ONLY_FIX = "pass --root with a directory on a writable file system";
    private static final String READ_ONLY = " is on a read-only file system";

    private RootChecks() {
    }

    /**
     * The state directory {@code dir} cannot be used or created (STATE_DIR_UNSAFE): {@code what}
     * failed because {@code why} (naming the path, its owner and mode), and {@code fix}. The
     * directory is the evidence, for doctor's finding; the line a run prints is {@link #shown}.
     */
    static GvshimException unsafe(String what, Path dir, String why, String fix) {
        return new GvshimException(Failure.of("STATE_DIR_UNSAFE", what, dir.toString(), why, fix));
    }

    static GvshimException unsafe(Path dir, String why, String fix) {
        return unsafe("cannot use the state directory " + dir, dir, why, fix);
    }

    /**
     * The directory on a read-only file system where {@code f} could not create the state
     * directory, when its fix is still the one that knows nothing else (--read-only in Docker,
     * readOnlyRootFilesystem in Kubernetes have better ones); else null.
     */
    public static Path readOnlyParent(Failure f) {
        if (READ_ONLY_FIX.equals(f.fix()) && f.why() != null && f.why().endsWith(READ_ONLY)) {
            return Path.of(f.why().substring(0, f.why().length() - READ_ONLY.length()));
        }
        return null;
    }

    /**
     * {@code f} (from {@link #unsafe}) as a run or a runc verb prints it: its what names the
     * directory, so without the evidence; the fix {@code readOnlyFix} gives for a read-only parent
     * (null: the plain one).
     */
    public static Failure shown(Failure f, Function<Path, String> readOnlyFix) {
        Path readOnly = readOnlyParent(f);
        return new Failure(f.id(), f.what(), null, f.why(), readOnly != null && readOnlyFix != null
                ? readOnlyFix.apply(readOnly) : f.fix(), f.exitCode());
    }

    /**
     * Creates or checks an explicit directory (--root; the AOT training's scratch); returns it.
     *
     * @param explicit the user chose it (--root): the fix is then to choose another, never to
     *                 change or remove that directory (it may be /tmp, or someone's home)
     */
    public static Path prepare(Path dir, int uid, boolean explicit) throws GvshimException {
        try {
            checkPath(dir, uid, false, dir);
        } catch (GvshimException e) {
            throw unsafe(e.failure().what(), dir, e.failure().why(), explicit ? ROOT_FIX : e.failure().fix());
        }
        return create(dir, uid, explicit);
    }

    /**
     * The runtime verbs' --root (and root's /run/gvshim): every directory on the way, the last one
     * too, belongs to root or the caller and is not writable by others (sticky is not enough for the
     * last: runsc's and gvshim's records are in it). It may not exist yet (create makes it).
     */
    public static void checkRuntimeRoot(Path root, int uid) throws GvshimException {
        checkPath(root, uid, true, root);
    }

    /**
     * Makes what is missing of the runtime's --root (mode 0711, as runc), one directory at a time,
     * each judged by {@link #checkPath} before the next is made in it: a name another user puts in
     * the way after the check (in sticky /tmp: their directory, or a symlink to one) is refused
     * before anything is written through it. Files.createDirectories would follow it.
     */
    public static void makeRuntimeRoot(Path root, int uid) throws GvshimException {
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
        throw unsafe(root, "its directories keep disappearing while gvshim makes them", "pass --root DIR");
    }

    static Path create(Path dir, int uid, boolean explicit) throws GvshimException {
        try {
            return create(dir, uid, explicit, false);
        } catch (FileAlreadyExistsException e) {
            throw new AssertionError(e); // not thrown when not exclusive
        }
    }

    /** mkdir 0700, then {@link #check}; with {@code exclusive}, an existing one is the caller's problem. */
    static Path create(Path dir, int uid, boolean explicit, boolean exclusive)
            throws GvshimException, FileAlreadyExistsException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            if ((FileAttrs.of(dir).mode() & 0700) != 0700) { // a umask took bits of the owner's: ours, so fix it
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

    static GvshimException cannotCreate(Path dir, int uid, IOException e) {
        String what = "cannot create the state directory " + dir;
        Path parent = dir.getParent() == null ? dir : dir.getParent();
        if (e instanceof NoSuchFileException) {
            return unsafe(what, dir, "its parent directory " + parent + " does not exist",
                    "create " + parent + " first, or pass --root with a directory whose parent exists");
        }
        if (e instanceof FileSystemException f && "Read-only file system".equals(f.getReason())) {
            return unsafe(what, dir, parent + READ_ONLY, READ_ONLY_FIX);
        }
        if (e instanceof AccessDeniedException) {
            Path blocked = parent;
            for (Path a = parent.getRoot(); a != null && !a.equals(parent); a = next(a, parent)) {
                if (!Files.isExecutable(a)) {
                    blocked = a;
                    break;
                }
            }
            return unsafe(what, dir, FileAttrs.describe(blocked) + " is not " + (blocked.equals(parent)
                    ? "writable" : "searchable") + " by you (uid " + uid + ")",
                    "pass --root with a directory you own, or a new path in a directory you can write");
        }
        return unsafe(what, dir, IoError.withFile(e), "check free space and permissions of " + parent
                + ", or pass --root DIR elsewhere");
    }

    /** The child of {@code a} on the way to {@code to}. */
    private static Path next(Path a, Path to) {
        return a.resolve(to.getName(a.getNameCount()));
    }

    /** The directory itself: a real directory, the caller's, closed to group and others. */
    static void check(Path dir, int uid, boolean explicit) throws GvshimException {
        FileAttrs a;
        try {
            a = FileAttrs.of(dir);
        } catch (IOException e) {
            throw unsafe(dir, IoError.withFile(e), "pass --root DIR");
        }
        String why;
        String fix;
        if (a.symlink()) {
            why = "it is a symbolic link (of " + FileAttrs.owner(dir, a.uid()) + "), which could be pointed elsewhere";
            fix = "remove it (rm " + dir + ") or pass --root DIR";
        } else if (!a.dir()) {
            why = "it exists and is not a directory";
            fix = "remove it or pass --root DIR";
        } else if (a.uid() != uid) {
            why = "it is owned by " + FileAttrs.owner(dir, a.uid()) + ", not by you (uid " + uid + "); mode "
                    + FileAttrs.octal(a.mode());
            fix = "pass --root DIR (gvshim never uses a state directory another user created)";
        } else if ((a.mode() & 077) != 0) {
            why = "its mode is " + FileAttrs.octal(a.mode()) + ", open to other users";
            fix = "chmod 700 " + dir;
        } else {
            return;
        }
        throw unsafe(dir, why, explicit ? "pass a --root only you can use: a path that does not"
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
    static Path checkPath(Path path, int uid, boolean last, Path shown) throws GvshimException {
        Path abs = path.toAbsolutePath();
        Deque<String> todo = new ArrayDeque<>();
        for (Path n : abs) {
            todo.add(n.toString());
        }
        Path root = abs.getRoot();
        Path cur = root;
        OwnerTrust trust = new OwnerTrust(uid);
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
            FileAttrs a;
            try {
                a = FileAttrs.of(next);
            } catch (NoSuchFileException e) {
                return next;
            } catch (IOException e) {
                throw unsafe(shown, "cannot look into " + FileAttrs.describe(cur) + ": " + IoError.withFile(e),
                        "pass --root with a directory you can reach");
            }
            if (a.symlink()) {
                if (!trust.owner(a.uid())) {
                    throw unsafe(shown, next + " is a symbolic link of " + FileAttrs.owner(next, a.uid())
                            + ", who can point it elsewhere", "pass --root with a path that does not go through it");
                }
                if (++links > 40) { // the kernel's limit too (path_resolution(7))
                    throw unsafe(shown, "too many levels of symbolic links in " + path, "pass --root DIR");
                }
                Path target;
                try {
                    target = Files.readSymbolicLink(next);
                } catch (IOException e) {
                    throw unsafe(shown, "cannot read the symbolic link " + next + ": " + IoError.withFile(e),
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
                throw unsafe(shown, next + " is not a directory", "pass --root DIR");
            }
            judge(next, a, !isLast, trust, shown);
            cur = next;
        }
        return null;
    }

    private static FileAttrs attrs(Path p, Path shown) throws GvshimException {
        try {
            return FileAttrs.of(p);
        } catch (IOException e) {
            throw unsafe(shown, "cannot read " + p + ": " + IoError.withFile(e), "pass --root DIR");
        }
    }

    private static void judge(Path p, FileAttrs a, boolean ancestor, OwnerTrust trust, Path shown) throws GvshimException {
        if (!trust.owner(a.uid())) {
            throw unsafe(shown, FileAttrs.describe(p, a) + (ancestor ? " belongs to another user, who can rename"
                    + " or replace what is in it" : " belongs to another user"), ROOT_FIX);
        }
        boolean writable = (a.mode() & 022) != 0;
        if (writable && !(ancestor && (a.mode() & STICKY) != 0)) {
            String who = (a.mode() & 022) == 022 ? "group and other users" : (a.mode() & 002) != 0 ? "other users" : "its group";
            throw unsafe(shown, FileAttrs.describe(p, a) + " is writable by " + who + (ancestor
                    ? " and not sticky, so they can rename or replace what is in it" : ", who could tamper with the"
                    + " containers' state"), ancestor ? "chmod go-w " + p + " (or +t), or pass --root elsewhere"
                    : "chmod go-w " + p + ", or pass --root elsewhere");
        }
    }
}
