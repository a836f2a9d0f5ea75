package dev.gvshim.container;

import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Mount destinations of `gvshim run` (-v, --mount, --tmpfs) that do not exist in the root file
 * system. runsc's gofer creates a missing bind-mount point in the root it serves, on the host
 * (runsc/cmd/gofer.go setupMounts, SafeSetupAndMount; measured: a destination under /tmp left an
 * empty directory on the host), and the sentry creates a tmpfs's through the gofer too: that
 * writes the host's root file system, or fails with a bare EOF where the caller may not write.
 * Instead gvshim-nsexec (--mountpoints-file) covers the nearest existing directory, in runsc's
 * own mount namespace, with a read-only tmpfs that holds the directory's entries (each bound from
 * the directory below, links copied) and the new mount points: the sandbox sees the directory as
 * it is, plus the mount point; the host's files are never written, and the copy is gone with the
 * namespace. One mount per entry: a directory of thousands of entries costs milliseconds more.
 */
final class MountPoints {
    private MountPoints() {
    }

    /**
     * One mount point to make.
     *
     * @param destination the mount's destination, as asked
     * @param dir         the nearest existing directory, inside the sandbox, symbolic links resolved
     * @param rel         the path to make below {@code dir}
     * @param directory   a directory (else an empty file: the source is a file)
     */
    record Point(String destination, String dir, String rel, boolean directory) {
    }

    /**
     * The caller's mounts whose destinations are missing from {@code rootfs} (a generated spec's
     * root). A tmpfs inside another tmpfs of the spec ({@code tmpfsDestinations}: /tmp...) is left
     * out: the sentry makes its mount point there, in memory (a bind mount's is made by the gofer,
     * in the root it serves, whatever the sentry mounts over it).
     */
    static List<Point> missing(RunRequest r, List<String> tmpfsDestinations) throws GvshimException {
        Path rootfs = r.rootfs();
        List<Point> found = new ArrayList<>();
        List<String> binds = r.mounts().stream().map(RunRequest.BindMount::destination).toList();
        List<Object[]> wanted = new ArrayList<>();
        r.mounts().forEach(m -> wanted.add(new Object[] {m.destination(), Files.isDirectory(m.source())}));
        for (String t : r.tmpfs()) {
            String d = Path.of(t).normalize().toString();
            if (tmpfsDestinations.stream().map(x -> Path.of(x).normalize().toString())
                    .noneMatch(x -> !x.equals(d) && d.startsWith(x.equals("/") ? "/" : x + "/"))) {
                wanted.add(new Object[] {t, true});
            }
        }
        for (Object[] w : wanted) {
            String dest = Path.of((String) w[0]).normalize().toString();
            if (binds.stream().map(b -> Path.of(b).normalize().toString()).anyMatch(b -> !b.equals(dest)
                    && dest.startsWith(b.equals("/") ? "/" : b + "/"))) {
                continue; // inside another bind mount: made in that mount's source, the caller's own directory
            }
            Path host = RunUser.inRoot(rootfs, dest);
            if (host == null || Files.exists(host, LinkOption.NOFOLLOW_LINKS) || host.equals(rootfs)) {
                continue; // a loop is runsc's to report; an existing one was checked by the CLI
            }
            Path existing = host.getParent();
            while (existing != null && !existing.equals(rootfs) && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
                existing = existing.getParent();
            }
            if (existing == null || !existing.startsWith(rootfs)) {
                continue;
            }
            if (!Files.isDirectory(existing, LinkOption.NOFOLLOW_LINKS)) {
                throw new GvshimException(Failure.of("MOUNT_POINT", "cannot mount on " + w[0], null, "/"
                        + rootfs.relativize(existing) + " is a file in the root file system " + rootfs
                        + ", so nothing can be made below it", "choose a destination below a directory"));
            }
            found.add(new Point((String) w[0], "/" + rootfs.relativize(existing), existing.relativize(host).toString(),
                    (Boolean) w[1]));
        }
        // one mirror per directory, outer ones first: an inner one is mirrored through the outer's binds
        found.sort(Comparator.comparingInt((Point p) -> p.dir().length()).thenComparing(Point::dir));
        return found;
    }

    /**
     * RUN_DIR/mountpoints for gvshim-nsexec, the mirrors going on {@code root} (the root runsc
     * gets: gvshim's copy of the root file system); no points: no file.
     */
    static void write(List<Point> points, Path root, Path file) throws IOException {
        if (points.isEmpty()) {
            return;
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Point p : points) {
            String dir = p.dir().equals("/") ? root.toString() : root.resolve(p.dir().substring(1)).toString();
            for (String f : List.of(dir, p.rel(), p.directory() ? "d" : "f")) {
                b.writeBytes((f + "\0").getBytes(StandardCharsets.UTF_8));
            }
        }
        Files.write(file, b.toByteArray());
    }

    /** What --verbose says. */
    static List<String> notes(List<Point> points) {
        return points.stream().map(p -> "made the mount point " + p.destination() + " (" + (p.directory() ? "a directory" : "an empty file")
                + ", missing from the root file system) in a read-only copy of " + p.dir() + ": a tmpfs of gvshim's with"
                + " the directory's entries bound in it, in runsc's mount namespace only; nothing is written on the host").toList();
    }
}
