package dev.gvshim.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code /proc/PID/stat} (proc(5)): the start time that tells a process from a later one that
 * was given the same pid. A pid alone is not an identity: pids are reused, so whoever records a
 * process to find it again (a run directory's owner, a rootless container's holder) records its
 * start time too, and a pid whose start time differs is another process.
 */
public final class ProcStat {
    private ProcStat() {
    }

    /** Field 22, starttime (clock ticks after boot), of process {@code pid}; -1 if it is gone or unreadable. */
    public static long startTime(long pid) {
        try {
            return parseStartTime(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Whether process {@code pid} started at {@code start} still runs: the same start time, and not
     * a zombie ({@link #liveStartTime(long)}).
     */
    public static boolean running(long pid, long start) {
        return start >= 0 && liveStartTime(pid) == start;
    }

    /** {@link #running(long, long)} of a stat line. */
    static boolean running(String stat, long start) {
        return start >= 0 && liveStartTime(stat) == start;
    }

    /**
     * Field 22, starttime, of a process that still runs: -1 for a zombie (state Z, or X: it has
     * exited and only waits to be reaped, proc(5); an orphan's parent, init, may take seconds to
     * reap it) as for a process that is gone.
     */
    public static long liveStartTime(long pid) {
        try {
            return liveStartTime(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** {@link #liveStartTime(long)} of a stat line. */
    static long liveStartTime(String stat) {
        char state = state(stat);
        return state == 'Z' || state == 'X' ? -1 : parseStartTime(stat);
    }

    /**
     * Field 3, state (R, S, D, Z, X, ...: proc(5)), of a stat line; 'X' (dead) for what is not
     * one. Read after the last ')', as every field after the command name.
     */
    public static char state(String stat) {
        int close = stat.lastIndexOf(')');
        return close < 0 || close + 2 >= stat.length() ? 'X' : stat.charAt(close + 2);
    }

    /** Field 4, ppid, of the stat file {@code stat} (/proc/PID/stat, or a test's copy); -1 if gone or unreadable. */
    public static int parentOf(Path stat) {
        try {
            return (int) field(Files.readString(stat), 4);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Field 22 of a stat line. Counted after the last ')': field 2, the command name, is in
     * parentheses and may itself contain spaces and parentheses.
     *
     * @throws IllegalArgumentException not a stat line
     */
    static long parseStartTime(String stat) {
        return field(stat, 22);
    }

    /** Field {@code n} (1-based, as proc(5) counts; at least 3) of a stat line. */
    private static long field(String stat, int n) {
        int close = stat.lastIndexOf(')');
        String[] f = close < 0 ? new String[0] : stat.substring(close + 2).split(" ");
        if (f.length < n - 2) {
            throw new IllegalArgumentException("not a /proc/PID/stat line");
        }
        return Long.parseLong(f[n - 3]);
    }
}
