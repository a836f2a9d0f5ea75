package dev.gvshim.server;

import dev.gvshim.call.Call;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The state directories (--root) the servers of this directory created containers in:
 * {@code roots} in the server directory, one absolute path a line. A server killed in the middle
 * of a `create` leaves a record marked as being created (dev.gvshim.container.Containers#abandoned),
 * and its successor, which has no call to learn that --root from, finds it here at its start
 * (notes/server-design.md 9). A root is added before the first record in it is written; roots
 * that no longer exist are dropped at a start.
 *
 * <p>Shared by the servers of every build in the directory (one user's): lines are appended
 * with O_APPEND, whole lines of one write(2) each, so two servers do not tear each other's lines;
 * a start's rewrite could drop a line another server appends at that very moment: that root is
 * then cleaned only by the next call that meets its container (Lookup, list, delete, create).
 */
final class ServerRoots implements Call.Roots {
    private final Path file;
    private final ServerLog log;
    private final Set<String> known = new LinkedHashSet<>();

    ServerRoots(Path file, ServerLog log) {
        this.file = file;
        this.log = log;
    }

    /** The roots listed; those that are directories no longer are dropped from the file. */
    synchronized List<Path> load() {
        known.clear();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return List.of(); // none yet
        }
        List<Path> out = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith("/") && known.add(l) && Files.isDirectory(Path.of(l))) {
                out.add(Path.of(l));
            }
        }
        if (out.size() != lines.size()) {
            known.clear();
            out.forEach(p -> known.add(p.toString()));
            try {
                Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
                StringBuilder b = new StringBuilder();
                known.forEach(r -> b.append(r).append('\n'));
                Files.writeString(tmp, b, StandardCharsets.UTF_8);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                log.line("cannot rewrite " + file + ": " + e.getMessage());
            }
        }
        return out;
    }

    @Override
    public void creatingIn(Path root) {
        String r = root.toAbsolutePath().normalize().toString();
        if (r.contains("\n")) {
            return; // not a line: such a root is cleaned by the calls that meet its containers only
        }
        synchronized (this) {
            if (!known.add(r)) {
                return;
            }
        }
        try {
            Files.writeString(file, r + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            log.line("cannot add " + r + " to " + file + ": " + e.getMessage());
        }
    }
}
