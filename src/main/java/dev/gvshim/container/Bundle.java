package dev.gvshim.container;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.oci.Spec;
import dev.gvshim.runsc.HookWrap;
import dev.gvshim.runsc.SpecPolicy;
import dev.gvshim.runsc.UsernsReach;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * An OCI bundle, for {@code gvshim run --bundle} and the runtime's create, run and restore
 * alike: its config.json read and checked (one set of messages, with ids), its root file system
 * checked, the spec rule ({@link SpecPolicy}) applied and the mounts it asks for prepared. The
 * caller's bundle is never modified.
 */
public final class Bundle {
    private Bundle() {
    }

    /** DIR/config.json, parsed; what is wrong with it as a failure with its id. */
    public static Spec load(Path dir) throws GvshimException {
        Path config = dir.resolve("config.json");
        if (!Files.isDirectory(dir)) {
            if (!Files.exists(dir) && !Files.notExists(dir)) { // neither can be told: a parent is not searchable
                throw new GvshimException(Explain.bundleUnreadable(config));
            }
            throw new GvshimException(Failure.of("BUNDLE_MISSING", "cannot use bundle " + dir, null,
                    Files.exists(dir) ? "it is not a directory" : "no such directory",
                    "pass a directory holding config.json and its root file system (gvshim spec writes a config.json)"));
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(config);
        } catch (NoSuchFileException e) {
            throw new GvshimException(Failure.of("BUNDLE_NO_CONFIG", "cannot use bundle " + dir, null,
                    "it has no config.json", "create one with `gvshim spec` in " + dir));
        } catch (AccessDeniedException e) {
            throw new GvshimException(Explain.bundleUnreadable(config));
        } catch (IOException e) {
            throw new GvshimException(Failure.of("BUNDLE_UNREADABLE", "cannot read " + config, null, IoError.reason(e, config),
                    null));
        }
        try {
            return Spec.parse(bytes);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new GvshimException(Failure.of("BUNDLE_MALFORMED", "cannot parse " + config, null,
                    "not valid JSON" + where + " (" + JsonTree.plainMessage(e) + ")", "fix the file or regenerate it with `gvshim spec`"));
        } catch (GvshimException e) {
            throw new GvshimException(invalid(config, e.failure().why()));
        }
    }

    /**
     * What runsc needs of a bundle's spec besides its types: what {@link Spec#problems()} finds
     * (process.args may be missing when {@code commandGiven}), and a root file system that is a
     * directory. Only what can be told: behind a directory the caller cannot search, neither
     * exists() nor notExists() holds, and {@link Explain#rootfsAccess} names that directory.
     * Returns the root file system's path.
     */
    public static Path check(Spec spec, Path dir, boolean commandGiven) throws GvshimException {
        List<String> problems = new ArrayList<>(spec.problems());
        if (commandGiven) {
            problems.removeIf(p -> p.contains("process.args"));
        }
        if (!problems.isEmpty()) {
            throw new GvshimException(invalid(dir.resolve("config.json"), String.join("; ", problems)));
        }
        Path rootfs = dir.resolve(spec.root().path()).normalize();
        if (Files.notExists(rootfs) || (Files.exists(rootfs) && !Files.isDirectory(rootfs))) {
            throw new GvshimException(invalid(dir.resolve("config.json"), "root.path " + rootfs
                    + " is not a directory (the bundle has no root file system)"));
        }
        return rootfs;
    }

    /** A spec that is not what runsc can use. */
    static Failure invalid(Path config, String why) {
        return Failure.of("BUNDLE_INVALID", "cannot use " + config, null, why, null);
    }

    /**
     * The one rule for the spec's isolation fields ({@link SpecPolicy}), for a bundle's spec and
     * gvshim run's own: refused with the one line, or what runsc must get, its own hooks run by
     * gvshim-hook with runc's state on stdin ({@link HookWrap}).
     */
    static SpecPolicy.Result policy(Spec spec, SpecPolicy.Context context, HookWrap.Target hooks) throws GvshimException {
        return HookWrap.wrap(SpecPolicy.check(spec, context), hooks);
    }

    /**
     * The mount points gvshim-nsexec mounts the nodev copies on, and the empty file masked files
     * get, in {@code mountDir}; the list of nodev copies for gvshim-nsexec written to
     * {@code nodevList} (returned; null when there is none).
     */
    static Path prepareMounts(SpecPolicy.Result r, Path mountDir, Path nodevList) throws IOException {
        if (r.nodev().isEmpty() && r.emptyFile() == null) {
            return null;
        }
        var searchable = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x"));
        if (mountDir.startsWith(SHARED_MOUNTS)) {
            Files.createDirectories(SHARED_MOUNTS, searchable); // /run is root's alone: nobody else can have made it
        }
        Files.createDirectories(mountDir, searchable);
        if (r.emptyFile() != null) {
            Files.deleteIfExists(r.emptyFile());
            Files.createFile(r.emptyFile(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r--r--r--")));
        }
        if (r.nodev().isEmpty()) {
            return null;
        }
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (SpecPolicy.NodevBind b : r.nodev()) {
            if (b.directory()) {
                Files.createDirectories(b.target());
            } else if (!Files.exists(b.target())) {
                Files.createFile(b.target());
            }
            list.writeBytes(b.entry());
        }
        Files.write(nodevList, list.toByteArray());
        return nodevList;
    }

    /** The suffix of {@link #mountDir}'s sibling directory. */
    static final String MOUNTS = ".mounts";
    /** root's directory for mount sources when its --root cannot be searched by others (/run/gvshim is 0700). */
    static final Path SHARED_MOUNTS = Path.of("/run/gvshim-mounts");

    /**
     * Where gvshim's mount sources of a runtime's container go (its nodev copies of the root and
     * bind sources, the empty file of masked files): the container's own directory (mode 0700),
     * unless the spec has a user namespace whose root is another host uid. runsc's gofer mounts
     * them from inside that namespace, as that uid, which must be able to search every directory on
     * the way (path_resolution(7), {@link UsernsReach}): runc's `runc spec` with a user namespace failed
     * in the gofer ("mounting root on root: permission denied", said as a mount the kernel refused).
     * They then go in a directory of mode 0711 (see prepareMounts) that holds nothing but mount
     * points (the copies are mounted in runsc's own mount namespace, gvshim-nsexec: the host sees
     * empty ones): next to the container's directory when that uid can search --root, else, for
     * root, in /run/gvshim-mounts under a name made of --root and the id (gvshim's default --root,
     * /run/gvshim, is 0700, as is Docker's /run/docker).
     */
    static Path mountDir(Containers store, String id, Spec spec, boolean root) {
        long[] mapped = UsernsReach.mappedRoot(spec.json());
        if (mapped == null || mapped[0] == 0) {
            return store.dir(id).resolve("mounts");
        }
        Path sibling = store.root().resolve(id + MOUNTS);
        return !root || UsernsReach.reaches(store.root(), mapped[0], mapped[1]) ? sibling : sharedMounts(store.root(), id);
    }

    /** Removes the directories {@link #mountDir} may have made for a container with a user namespace. */
    static void removeMounts(Path stateRoot, String id) {
        FileTrees.delete(stateRoot.resolve(id + MOUNTS));
        FileTrees.delete(sharedMounts(stateRoot, id));
    }

    /** root's mount sources of container {@code id} of --root {@code stateRoot} when that cannot be searched. */
    static Path sharedMounts(Path stateRoot, String id) {
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest((stateRoot + "\0" + id).getBytes(
                    java.nio.charset.StandardCharsets.UTF_8));
            return SHARED_MOUNTS.resolve(java.util.HexFormat.of().formatHex(h, 0, 16));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256 (MessageDigest)", e);
        }
    }

    /** Refuses, in one line, mount sources in {@link #mountDir} that the user namespace's root could not reach. */
    static void checkReach(SpecPolicy.Result r, Path mountDir, String id) throws GvshimException {
        long[] root = UsernsReach.mappedRoot(r.spec().json());
        if ((r.nodev().isEmpty() && r.emptyFile() == null) || root == null || root[0] == 0) {
            return;
        }
        Path p = UsernsReach.firstUnsearchable(mountDir.getParent(), root[0], root[1]);
        if (p != null) {
            throw RuntimeFailures.of("USERNS_UNREACHABLE", "cannot create container " + id + ": its user namespace's root"
                    + " (host uid " + root[0] + ", gid " + root[1] + ") cannot search " + p + ", on the way to the mount"
                    + " sources gvshim prepares in " + mountDir + " (runsc's gofer mounts them as that uid, inside the"
                    + " namespace). Fix: allow others to search it (chmod o+x " + p + "), or pass --root DIR under"
                    + " directories others may search");
        }
    }
}
