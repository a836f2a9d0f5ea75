package dev.gvshim.container;

import dev.gvshim.linux.ProcStat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The mark of a create in progress, in the container's directory: the processes doing it, one
 * "PID STARTTIME" a line ({@link Containers#create(Container, List)}). A create whose processes
 * are all gone (its JVM, or the server that ran it and the caller, killed) was abandoned: no one
 * will finish it nor clean up after it, and the next call may.
 */
final class CreateMark {
    static final String FILE = "creating";

    private CreateMark() {
    }

    /** Written atomically (rename), before the record: no record of an unfinished create is without it. */
    static void write(Path containerDir, List<Creator> creators) throws IOException {
        if (creators.isEmpty()) {
            return;
        }
        StringBuilder b = new StringBuilder();
        creators.forEach(p -> b.append(p.pid()).append(' ').append(p.start()).append('\n'));
        Path tmp = containerDir.resolve(FILE + ".tmp");
        Files.writeString(tmp, b, StandardCharsets.US_ASCII);
        Files.move(tmp, containerDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE);
    }

    static void clear(Path containerDir) throws IOException {
        Files.deleteIfExists(containerDir.resolve(FILE));
    }

    /**
     * Whether the container is marked as being created by processes that are all gone. False
     * while any of them lives, and when it cannot be told (an unreadable mark).
     */
    static boolean abandoned(Path containerDir) {
        Path mark = containerDir.resolve(FILE);
        if (!Files.exists(mark, LinkOption.NOFOLLOW_LINKS)) {
            return false; // every verb asks: a stat(2), not a NoSuchFileException built each time
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(mark, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return false; // not being created (or cannot tell)
        }
        try {
            for (String line : lines) {
                String[] f = line.strip().split(" ");
                if (f.length == 2 && new Creator(Long.parseLong(f[0]), Long.parseLong(f[1])).alive()) {
                    return false;
                }
            }
        } catch (NumberFormatException e) {
            return false; // not our writing: leave it alone
        }
        return true;
    }

    /**
     * A process that is creating a container, by pid and /proc start time ({@link ProcStat}: a
     * pid alone may be another process's by now).
     */
    record Creator(long pid, long start) {
        /** The process {@code pid} as it is now; null if it is gone. */
        static Creator of(long pid) {
            long start = ProcStat.startTime(pid);
            return start < 0 ? null : new Creator(pid, start);
        }

        /** Still running: a zombie has finished (the server killed with -9 stays one until init reaps it). */
        boolean alive() {
            return ProcStat.running(pid, start);
        }
    }
}
