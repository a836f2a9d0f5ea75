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
