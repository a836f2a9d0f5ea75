package dev.gvshim.runsc;

import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What runsc leaves behind when it fails: its --log error line and its debug logs' FATAL lines. */
public final class RunscLogs {
    private RunscLogs() {
    }

    /** The msg of the last {"level":"error"} line (runsc writes no newline after it). */
    public static String lastError(Path log) {
        String msg = "";
        try {
            String text = Files.readString(log).replace("}{", "}\n{");
            for (String line : text.split("\n")) {
                if (line.contains("\"level\":\"error\"")) {
                    try {
                        msg = JsonTree.read(line.getBytes(java.nio.charset.StandardCharsets.UTF_8)).path("msg").asText();
                    } catch (IOException e) {
                        // a torn line: keep the previous one
                    }
                }
            }
        } catch (IOException e) {
            // no log
        }
        return msg;
    }

    /**
     * {@code msg} as one line: runsc's "reading spec: error unmarshaling spec from file ...: ERR"
     * is followed by a newline and the whole spec (runsc/specutils ReadSpecFromFile), which is
     * dropped; other lines are joined with "; ".
     */
    public static String oneLine(String msg) {
        if (msg == null || msg.indexOf('\n') < 0) {
            return msg == null ? "" : msg;
        }
        List<String> keep = new ArrayList<>();
        for (String line : msg.split("\n")) {
            String l = line.strip();
            if (!l.isEmpty() && !l.startsWith("{") && !l.startsWith("goroutine ")) {
                keep.add(l);
            }
            if (l.startsWith("goroutine ")) {
                break; // a Go panic's stacks follow
            }
        }
        return String.join("; ", keep);
    }

    /** "FATAL ERROR: ..." and "panic: ..." lines of runsc's boot and gofer logs: the real cause behind "EOF". */
    public static List<String> fatalLines(Path debugDir) {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(debugDir, "*.txt")) {
            for (Path f : files) {
                scan(Files.readString(f), out);
            }
        } catch (IOException e) {
            // none
        }
        return out;
    }

    /** What {@link #newFatalLines} remembers: how far each log had been read when a failure was last reported. */
    static final String REPORTED = "reported.properties";

    /**
     * {@link #fatalLines}, but only what runsc wrote since the previous call for this directory:
     * a container's debug logs collect every call's (its boot and gofer logs live as long as
     * its sandbox), and an error reported once must not be repeated as the cause of the next
     * failure. Lines written between calls (a sandbox that died after create) are still new.
     */
    public static List<String> newFatalLines(Path debugDir) {
        Path marker = debugDir.resolve(REPORTED);
        java.util.Properties seen = new java.util.Properties();
        try (java.io.Reader r = Files.newBufferedReader(marker)) {
            seen.load(r);
        } catch (IOException e) {
            // nothing reported yet
        }
        List<String> out = new ArrayList<>();
        java.util.Properties now = new java.util.Properties();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(debugDir, "*.txt")) {
            for (Path f : files) {
                byte[] all = Files.readAllBytes(f);
                long from;
                try {
                    from = Long.parseLong(seen.getProperty(f.getFileName().toString(), "0"));
                } catch (NumberFormatException e) {
                    from = 0;
                }
                int start = (int) Math.min(Math.max(from, 0), all.length);
                scan(new String(all, start, all.length - start, java.nio.charset.StandardCharsets.UTF_8), out);
                now.setProperty(f.getFileName().toString(), Long.toString(all.length));
            }
        } catch (IOException e) {
            return out;
        }
        try {
            Path tmp = debugDir.resolve(REPORTED + ".tmp");
            try (java.io.Writer w = Files.newBufferedWriter(tmp)) {
                now.store(w, "bytes of runsc's debug logs already diagnosed");
            }
            Files.move(tmp, marker, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // the next failure may repeat these lines: better than losing them
        }
        return out;
    }

    private static void scan(String text, List<String> out) {
        for (String line : text.split("\n")) {
            int at = line.indexOf("FATAL ERROR: ");
            // a Go panic (the ptrace platform's "unable to attach") logs no FATAL line
            String found = at >= 0 ? line.substring(at + "FATAL ERROR: ".length()).strip()
                    : line.startsWith("panic: ") ? line.strip() : null;
            if (found != null && !out.contains(found)) {
                out.add(found);
            }
        }
    }
}
