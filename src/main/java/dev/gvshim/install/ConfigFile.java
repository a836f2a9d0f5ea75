package dev.gvshim.install;

import dev.gvshim.failure.GvshimException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A daemon's configuration file, changed the way a daemon reading it concurrently needs: the
 * previous version copied aside first, the new one written to a temporary file in the same
 * directory, flushed, given the old file's mode and owner, and renamed over it (rename(2) is
 * atomic: a reader sees the old file or the new one, never half of one). A symlinked file is
 * changed where it points, so the link stays.
 */
public final class ConfigFile {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    /** A new file's mode: what dockerd and containerd packages install theirs with. */
    private static final Set<PosixFilePermission> NEW_MODE = PosixFilePermissions.fromString("rw-r--r--");

    private final Path path;

    public ConfigFile(Path path) {
        this.path = path;
    }

    public Path path() {
        return path;
    }

    /** The content, or null when the file does not exist. */
    public byte[] read() throws GvshimException {
        try {
            return Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw InstallFailure.config("cannot read " + path + ": " + reason(e));
        }
    }

    /**
     * Copies the file to {@code NAME.gvshim-backup-YYYYMMDD-HHMMSS} (UTC) beside it, mode and
     * times kept. Timestamped, so a later change never overwrites the copy of the file as it
     * was before gvshim first touched it; a second change within the same second gets ".1".
     */
    public Path backup(ZonedDateTime now) throws GvshimException {
        Path real = real();
        String base = real.getFileName() + ".gvshim-backup-" + STAMP.format(now.withZoneSameInstant(ZoneOffset.UTC));
        for (int i = 0; ; i++) {
            Path b = real.resolveSibling(i == 0 ? base : base + "." + i);
            try {
                Files.copy(real, b, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                return b;
            } catch (FileAlreadyExistsException e) {
                if (i >= 100) {
                    throw InstallFailure.config("cannot back up " + real + ": " + b + " and 100 more exist");
                }
            } catch (IOException e) {
                throw InstallFailure.config("cannot back up " + real + " to " + b + ": " + reason(e) + " (nothing was changed)");
            }
        }
    }

    /**
     * The backups {@link #backup} made beside the file, newest first (by their UTC stamp, then
     * their ".N"), with their content; one that cannot be read is left out.
     */
    public List<Unregister.Backup> backups() throws GvshimException {
        Path real = real();
        String prefix = real.getFileName() + ".gvshim-backup-";
        List<Path> found;
        try (Stream<Path> s = Files.list(real.toAbsolutePath().getParent())) {
            found = new ArrayList<>(s.filter(p -> p.getFileName().toString().startsWith(prefix)).toList());
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw InstallFailure.config("cannot list the backups of " + real + ": " + reason(e));
        }
        found.sort(Comparator.comparing((Path p) -> stamp(p, prefix)).thenComparingInt(p -> serial(p, prefix)).reversed());
        List<Unregister.Backup> backups = new ArrayList<>();
        for (Path p : found) {
            try {
                backups.add(new Unregister.Backup(p, Files.readAllBytes(p)));
            } catch (IOException e) {
                // not readable: not one that can be restored
            }
        }
        return backups;
    }

    private static String stamp(Path p, String prefix) {
        String rest = p.getFileName().toString().substring(prefix.length());
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }

    private static int serial(Path p, String prefix) {
        String rest = p.getFileName().toString().substring(prefix.length());
        int dot = rest.indexOf('.');
        try {
            return dot < 0 ? 0 : Integer.parseInt(rest.substring(dot + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Removes the file (where a symlink points, as {@link #write} changes it there). */
    public void delete() throws GvshimException {
        Path real = real();
        try {
            Files.deleteIfExists(real);
            syncDirectory(real.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw InstallFailure.config("cannot remove " + real + ": " + reason(e));
        }
    }

    /** Replaces the content atomically, creating the file (and its directory) when missing. */
    public void write(byte[] content) throws GvshimException {
        Path real = real();
        Path dir = real.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            PosixFileAttributes old = Files.exists(real)
                    ? Files.readAttributes(real, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS) : null;
            Set<PosixFilePermission> mode = old != null ? old.permissions() : NEW_MODE;
            // created 0600 (createTempFile's default): the content is not readable by others before the mode is set
            tmp = Files.createTempFile(dir, "." + real.getFileName() + ".", ".gvshim-tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(java.nio.ByteBuffer.wrap(content));
                ch.force(true);
            }
            Files.setPosixFilePermissions(tmp, mode); // set explicitly: the umask applies at creation
            if (old != null) {
                keepOwner(tmp, old.owner(), old.group());
            }
            Files.move(tmp, real, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
            syncDirectory(dir);
        } catch (IOException e) {
            throw InstallFailure.config("cannot write " + real + ": " + reason(e)
                    + (Files.exists(real) ? " (the file is unchanged)" : ""));
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temporary file's name says what it is; nothing else depends on it
                }
            }
        }
    }

    private Path real() throws GvshimException {
        try {
            return Files.isSymbolicLink(path) && Files.exists(path) ? path.toRealPath() : path;
        } catch (IOException e) {
            throw InstallFailure.config("cannot resolve " + path + ": " + reason(e));
        }
    }

    /** Owner and group as before; only root may give a file away, and root is who edits these files. */
    private static void keepOwner(Path tmp, UserPrincipal owner, GroupPrincipal group) throws IOException {
        PosixFileAttributeView v = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
        PosixFileAttributes now = v.readAttributes();
        try {
            if (!now.owner().equals(owner)) {
                v.setOwner(owner);
            }
            if (!now.group().equals(group)) {
                v.setGroup(group);
            }
        } catch (IOException e) {
            throw new IOException("cannot keep its owner " + owner.getName() + ":" + group.getName()
                    + " (run gvshim install or uninstall as root)", e);
        }
    }

    /** fsync(2) of the directory makes the rename itself durable. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // some file systems refuse fsync on a directory; the rename has happened either way
        }
    }

    private static String reason(IOException e) {
        String m = e.getMessage();
        if (e.getCause() instanceof IOException) {
            return m; // ours, already worded
        }
        return dev.gvshim.diagnose.IoError.reason(e);
    }
}
