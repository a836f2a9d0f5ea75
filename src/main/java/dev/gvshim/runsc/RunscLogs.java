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

    /** "FATAL ERROR: ..." and "panic: ..." lines of runsc's boot and gofer logs: the real cause behind "EOF". */
    public static List<String> fatalLines(Path debugDir) {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(debugDir, "*.txt")) {
            for (Path f : files) {
                for (String line : Files.readAllLines(f)) {
                    int at = line.indexOf("FATAL ERROR: ");
                    // a Go panic (the ptrace platform's "unable to attach") logs no FATAL line
                    String text = at >= 0 ? line.substring(at + "FATAL ERROR: ".length()).strip()
                            : line.startsWith("panic: ") ? line.strip() : null;
                    if (text != null) {
                        if (!out.contains(text)) {
                            out.add(text);
                        }
                    }
                }
            }
        } catch (IOException e) {
            // none
        }
        return out;
    }
}
