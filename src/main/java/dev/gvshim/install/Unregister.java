package dev.gvshim.install;

import dev.gvshim.failure.GvshimException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * What {@code gvshim uninstall} does to a configuration file, decided without touching it: the
 * exact reverse of {@code gvshim install} where that can be proven, else the runtime's entry
 * removed and everything else kept. Pure: contents in, content out.
 *
 * <p>Exact, because install rewrites daemon.json (pretty-printed) and appends to config.toml: a
 * backup that install turned into exactly the current content, and that has no such runtime
 * itself, is the file as it was before; it is restored byte for byte (the user's formatting and
 * comments too). A file that is exactly what install creates from nothing is removed. Otherwise
 * (the file was edited since, or its backups are gone) only the entry goes.
 */
public final class Unregister {
    /** What happens to the file. */
    public enum Action {
        /** No such runtime in the file (or no file): nothing to do. */
        ABSENT,
        /** The backup made before install is put back. */
        RESTORED,
        /** The runtime's entry is removed; the rest stays. */
        REMOVED,
        /** The file is exactly what install created: it goes. */
        DELETED
    }

    /** A file format's view of the runtime: daemon.json's or config.toml's. */
    public interface Format {
        /** The runtime as the content registers it, or null when it has none of that name. */
        RuntimeEntry entry(byte[] content) throws GvshimException;

        /** What {@code gvshim install} makes of {@code original} (null: no file) for {@code rt}. */
        byte[] register(byte[] original, RuntimeEntry rt) throws GvshimException;

        /** The content without the runtime's entry. */
        byte[] remove(byte[] content) throws GvshimException;
    }

    /** A backup beside the file: its path and content. */
    public record Backup(Path path, byte[] content) {
    }

    /**
     * @param content the file's content afterwards (null for ABSENT and DELETED)
     * @param from    the backup restored (RESTORED only)
     */
    public record Result(Action action, byte[] content, Path from) {
    }

    private Unregister() {
    }

    /**
     * @param current the file's content, or null when it does not exist
     * @param backups the file's backups, newest first
     */
    public static Result plan(Format format, byte[] current, List<Backup> backups) throws GvshimException {
        RuntimeEntry rt = current == null ? null : format.entry(current);
        if (rt == null) {
            return new Result(Action.ABSENT, null, null);
        }
        for (Backup b : backups) {
            if (before(format, b.content(), rt, current)) {
                return new Result(Action.RESTORED, b.content(), b.path());
            }
        }
        if (Arrays.equals(format.register(null, rt), current)) {
            return new Result(Action.DELETED, null, null);
        }
        return new Result(Action.REMOVED, format.remove(current), null);
    }

    /** Whether {@code backup}, without the runtime, is what install turned into {@code current}. */
    private static boolean before(Format format, byte[] backup, RuntimeEntry rt, byte[] current) {
        try {
            return format.entry(backup) == null && Arrays.equals(format.register(backup, rt), current);
        } catch (GvshimException e) {
            return false; // a backup gvshim cannot read is not the file install changed
        }
    }
}
