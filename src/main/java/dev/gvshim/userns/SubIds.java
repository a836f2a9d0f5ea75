package dev.gvshim.userns;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code /etc/subuid} and {@code /etc/subgid} (subuid(5), subgid(5)): lines of
 * {@code owner:start:count}, where owner is a user name or a numeric uid. shadow's
 * newuidmap accepts either form, so lookups try both.
 */
public record SubIds(List<Entry> entries) {

    /** One delegated range. */
    public record Entry(String owner, long start, long count) {
    }

    /** A contiguous range of subordinate ids. */
    public record Range(long start, long count) {
        public long end() {
            return start + count;
        }

        public boolean contains(long id) {
            return id >= start && id < end();
        }
    }

    public static final SubIds EMPTY = new SubIds(List.of());

    /** Parses the file's text; malformed lines are skipped, as shadow's own parser does. */
    public static SubIds parse(String text) {
        List<Entry> entries = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split(":");
            if (f.length != 3 || f[0].isEmpty()) {
                continue;
            }
            try {
                long start = Long.parseLong(f[1]);
                long count = Long.parseLong(f[2]);
                if (start >= 0 && count > 0 && start + count <= 0x1_0000_0000L) {
                    entries.add(new Entry(f[0], start, count));
                }
            } catch (NumberFormatException e) {
                // skipped like any other malformed line
            }
        }
        return new SubIds(List.copyOf(entries));
    }

    /** Subordinate ranges start here by convention (useradd's SUB_UID_MIN in login.defs). */
    public static final long FIRST = 100000;
    /** A full range: the ids an image may use (0-65535). */
    public static final long FULL = 65536;

    /**
     * The first range of {@code count} ids from {@link #FIRST}, on a {@link #FULL} boundary, that
     * no entry of any of {@code files} overlaps: what a fix can tell root to give a user, so that
     * following it never makes two users' sandboxes share ids.
     */
    public static Range free(long count, SubIds... files) {
        long start = FIRST;
        boolean moved = true;
        while (moved) {
            moved = false;
            for (SubIds f : files) {
                for (Entry e : f.entries()) {
                    if (e.start() < start + count && start < e.start() + e.count()) {
                        long end = e.start() + e.count();
                        start = FIRST + ((end - FIRST + FULL - 1) / FULL) * FULL;
                        moved = true;
                    }
                }
            }
        }
        return new Range(start, count);
    }

    /** "100000-165535": as usermod --add-subuids takes it. */
    public static String usermodRange(Range r) {
        return r.start() + "-" + (r.end() - 1);
    }

    /** The ranges delegated to a user, listed by name or by numeric id, in file order. */
    public List<Range> rangesFor(String name, long id) {
        String numeric = Long.toString(id);
        List<Range> ranges = new ArrayList<>();
        for (Entry e : entries) {
            if (e.owner().equals(numeric) || (name != null && e.owner().equals(name))) {
                ranges.add(new Range(e.start(), e.count()));
            }
        }
        return ranges;
    }
}
