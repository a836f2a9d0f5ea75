package dev.gvshim.server;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The server's own log (server.log in the server directory): one line per start, stop,
 * refusal (a peer of another uid, a call answered COLD and why) and internal error (with its
 * stack trace). Nothing of a call goes here that a one-shot gvshim would print to the caller.
 * Capped: past {@link #CAP} bytes it is renamed to server.log.1 (one generation kept).
 * A log that cannot be written is not a reason to refuse calls: lines are then dropped.
 */
final class ServerLog {
    static final long CAP = 1 << 20;
    private final Path file;
    private final String prefix;

    ServerLog(Path file, long pid) {
        this.file = file;
        this.prefix = " [" + pid + "] ";
    }

    Path file() {
        return file;
    }

    synchronized void line(String text) {
        try {
            if (Files.exists(file) && Files.size(file) > CAP) {
                Files.move(file, file.resolveSibling(file.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
            }
            Files.writeString(file, Instant.now().truncatedTo(ChronoUnit.MILLIS) + prefix + text + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // nowhere else to say it: the server's stderr is /dev/null when a client started it
        }
    }

    /** An internal error: its line and its stack trace. */
    void error(String what, Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        line(what + ": internal error\n" + w.toString().stripTrailing());
    }
}
