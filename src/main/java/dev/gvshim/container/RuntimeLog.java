package dev.gvshim.container;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * The runtime's {@code --log}: what containerd's shim reads back. On a failure it keeps the
 * {@code msg} of the <em>last</em> {@code "level":"error"} object (the file is shared by all
 * operations of a container), so every failure appends a fresh error line here (the CLI's error
 * sink also prints it on stderr, which a person sees only for some operations: stderr of a
 * non-tty create or exec is the container's own stream). Format {@code json} (runsc's and runc's
 * {"level","msg","time"}) or {@code text} (logrus's key=value), the time in RFC 3339 to the second as
 * logrus writes it. Without {@code --log}, warnings and {@code --debug} lines go to stderr in the same
 * format, as runc's (runc sends logrus to stderr then); a failure is the one line the error sink prints.
 */
public final class RuntimeLog {
    // logrus's default TimestampFormat, Go's time.RFC3339: seconds and the local offset ("Z" for UTC)
    private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ssXXX");
    private final Path file;
    private final boolean json;
    private final boolean debug;
    private final PrintStream err;

    public RuntimeLog(Path file, String format, boolean debug, PrintStream err) {
        this.file = file;
        this.json = !"text".equals(format);
        this.debug = debug;
        this.err = err;
    }

    /** A failure's line in --log (where Docker finds it); the CLI's error sink prints it on stderr too. */
    public void error(String msg) {
        append("error", msg);
    }

    /** Something a user should know that is not a failure (an option emulated differently). */
    public void warning(String msg) {
        append("warning", msg);
    }

    /** For the record: what a person reading the log should know about a container (moot spec fields). */
    public void info(String msg) {
        append("info", msg);
    }

    /** With --debug only: options dropped, the runsc command line. */
    public void debug(String msg) {
        if (debug) {
            append("debug", msg);
        }
    }

    /** Whether lines go to a --log file (without one, warnings and debug lines go to stderr). */
    public boolean toFile() {
        return file != null;
    }

    public boolean debugEnabled() {
        return debug;
    }

    String line(String level, String msg, Instant time) {
        String t = RFC3339.format(time.truncatedTo(ChronoUnit.SECONDS).atZone(ZoneId.systemDefault()));
        if (json) {
            ObjectNode o = JsonTree.nodes().objectNode();
            o.put("level", level);
            o.put("msg", msg);
            o.put("time", t);
            return JsonTree.compact(o) + "\n";
        }
        return "time=\"" + t + "\" level=" + level + " msg=" + quote(msg) + "\n";
    }


    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }

    private void append(String level, String msg) {
        if (file == null) {
            if (!"error".equals(level)) {
                err.print(line(level, msg, Instant.now()));
                err.flush();
            }
            return;
        }
        try {
            Files.write(file, line(level, msg, Instant.now()).getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            err.println("gvshim: cannot write the log " + file + ": " + IoError.reason(e, file) + "; the message was: " + msg);
        }
    }
}
