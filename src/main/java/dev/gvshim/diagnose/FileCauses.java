package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.FileAttrs;
import dev.gvshim.runsc.Runsc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * Failures gvshim finds before runsc starts, where it can still name the file: the root file
 * system or the working directory out of the sandbox's reach, runsc missing, config.json
 * unreadable. Static: they read the files named, not the {@link Facts}.
 */
final class FileCauses {
    private FileCauses() {
    }

    /**
     * A non-root caller's sandbox runs as that caller (the namespace's root is mapped to it), so
     * runsc's gofer can enter the root file system only if the caller may: checked before runsc
     * starts, where gvshim can still name the directory (runsc says only {@code failed to chroot
     * to "/root": permission denied}). Null when the caller can read and search it.
     */
    static Failure rootfsAccess(Path rootfs, long uid) {
        if (uid == 0 || (Files.isExecutable(rootfs) && Files.isReadable(rootfs))) {
            return null;
        }
        Path blocked = unsearchableParent(rootfs);
        if (blocked == null) { // no parent blocks: the rootfs itself failed the check above
            blocked = rootfs;
        }
        return Failure.of("ROOTFS_NOT_ACCESSIBLE", "cannot use the root file system " + rootfs, null,
                blocked + " (" + ownerAndMode(blocked) + ") is not "
                        + (blocked.equals(rootfs) ? "readable and searchable" : "searchable") + " by uid " + uid
                        + ", the user the sandbox runs as, so runsc cannot enter it",
                blocked.equals(rootfs) ? "chmod a+rx " + rootfs + ", or chown -R " + uid + " " + rootfs
                        : "chmod a+x " + blocked + ", or move the root file system where uid " + uid + " can reach it");
    }

    /** The first directory from / down to {@code p}'s parent that this process cannot search, or null. */
    static Path unsearchableParent(Path p) {
        Path abs = p.toAbsolutePath();
        Path dir = abs.getRoot();
        for (Path name : abs) {
            if (dir.equals(abs)) {
                break;
            }
            if (!Files.isExecutable(dir)) {
                return dir;
            }
            dir = dir.resolve(name);
        }
        return null;
    }

    /**
     * The working directory does not exist where the sandbox would find it ({@code hostPath}: in
     * the root file system, or in the source of the mount that holds it). runsc's gofer would
     * create it on the host before the sandbox starts, and fail with `creating working
     * directory ... permission denied` behind a bare EOF when it may not (or, for `gvshim run
     * --rootfs`, whose root is mounted read-only, leave a directory on the host).
     *
     * @param flag      how it was given: "--cwd /x", or "process.cwd /x of B/config.json"
     * @param mayCreate the sandbox may create it (a bundle's root the caller can write): then null when it is missing
     */
    static Failure workdir(String flag, Path hostPath, boolean mayCreate) {
        if (Files.isDirectory(hostPath)) {
            return null;
        }
        Path blocked = unsearchableParent(hostPath);
        if (Files.exists(hostPath, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(hostPath)) {
            return Failure.of("CWD_MISSING", "cannot use " + flag, null, hostPath + " is not a directory",
                    "choose a directory as the working directory");
        }
        if (blocked != null && !Files.exists(hostPath)) {
            return Failure.of("CWD_MISSING", "cannot use " + flag, null, hostPath + " cannot be reached: " + blocked + " ("
                    + ownerAndMode(blocked) + ") is not searchable by you, the user the sandbox runs as",
                    "chmod a+x " + blocked + ", or choose a working directory the sandbox can reach");
        }
        if (mayCreate) {
            return null;
        }
        Path parent = hostPath.getParent();
        while (parent != null && !Files.isDirectory(parent)) {
            parent = parent.getParent();
        }
        return Failure.of("CWD_MISSING", "cannot use " + flag, null, hostPath + " does not exist, and the sandbox may not create it"
                        + (parent == null ? "" : " (" + parent + ": " + ownerAndMode(parent) + ")"),
                "create it (mkdir -p " + hostPath + "), or choose an existing directory");
    }

    /**
     * No usable runsc: the one given with --runsc (named, and the one gvshim would find instead),
     * or none in $PATH and the usual directories (each place searched is named, and a runsc found
     * there that cannot be executed, with its owner and mode).
     */
    static Failure runscMissing(String given, String pathEnv, Path root) {
        Path found;
        try {
            found = Runsc.locate(null, pathEnv, root);
        } catch (GvshimException e) {
            found = null;
        }
        if (given != null) {
            Path p = Path.of(given).toAbsolutePath();
            Path at = root.resolve(p.toString().substring(1));
            String why = Files.isDirectory(at) ? "--runsc " + given + " is a directory"
                    : Files.exists(at) ? "--runsc " + given + " is not executable (" + ownerAndMode(at) + ")"
                    : Files.notExists(at) ? "--runsc " + given + " does not exist"
                    : "--runsc " + given + " cannot be reached (" + unsearchableParent(at) + " is not searchable by you)";
            return Failure.of("RUNSC_MISSING", "cannot use runsc", null, why, found != null
                    ? "pass --runsc " + found + " (the runsc in $PATH), or leave --runsc out"
                    : "pass the path of an installed runsc, or install gVisor (apt-get install runsc)");
        }
        List<String> dirs = Runsc.searchPath(pathEnv);
        String unusable = dirs.stream().map(d -> root.resolve(d.substring(1)).resolve("runsc")).filter(Files::exists)
                .map(r -> "/" + root.relativize(r) + " (" + ownerAndMode(r) + ")").findFirst().map(r -> "; " + r + " is not an"
                        + " executable file").orElse("");
        return Failure.of("RUNSC_MISSING", "cannot find runsc", null, "no runsc in " + String.join(", ", dirs) + " ($PATH, then"
                        + " the usual directories)" + unusable,
                "install gVisor (apt-get install runsc, or https://gvisor.dev/docs/user_guide/install/) or pass --runsc PATH");
    }

    /** config.json cannot be read by the caller: permission denied on it or a directory above it. */
    static Failure bundleUnreadable(Path config) {
        return Failure.of("BUNDLE_UNREADABLE", "cannot read " + config, null,
                "permission denied (the bundle directory or config.json is not readable by the user running gvshim)",
                "chmod a+rx the bundle directory and its parents and a+r " + config + ", or run gvshim as their owner");
    }

    /** "owner root, mode rwx------" (what decides access, read where the failure is explained). */
    static String ownerAndMode(Path p) {
        try {
            return FileAttrs.ownerAndMode(p);
        } catch (IOException e) {
            return "its owner and mode cannot be read: " + IoError.reason(e, p);
        } catch (RuntimeException e) {
            return "its owner and mode cannot be read";
        }
    }
}
