package dev.gvshim.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The server's memory and threads as /proc/self/status says (proc(5): VmRSS, VmHWM, Threads). */
final class Memory {
    private Memory() {
    }

    /** "rss 45.1 MB (peak 57.0 MB)\nthreads 12", or what could not be read. */
    static String of(Path status) {
        try {
            String s = Files.readString(status);
            return "rss " + mb(field(s, "VmRSS:")) + " (peak " + mb(field(s, "VmHWM:")) + ")\nthreads " + field(s, "Threads:");
        } catch (IOException e) {
            return "rss unknown (" + status + " unreadable)";
        }
    }

    static long field(String status, String key) {
        for (String line : status.split("\n")) {
            if (line.startsWith(key)) {
                String v = line.substring(key.length()).strip();
                int sp = v.indexOf(' ');
                return Long.parseLong(sp < 0 ? v : v.substring(0, sp));
            }
        }
        return -1;
    }

    private static String mb(long kb) {
        return kb < 0 ? "unknown" : String.format("%.1f MB", kb / 1024.0);
    }
}
