package dev.gvshim.userns;

import java.util.ArrayList;
import java.util.List;

/** A uid_map or gid_map: lines of {@code inside outside count} (user_namespaces(7)). */
public record IdMap(List<Line> lines) {

    /** One mapping line. */
    public record Line(long inside, long outside, long count) {
    }

    /** What {@code id} is outside this namespace: -1 for the initial namespace (or an unmapped id). */
    public static long outer(IdMap m, long id) {
        if (initial(m)) {
            return -1;
        }
        Line l = m.lineOf(id);
        return l == null ? -1 : l.outside() + (id - l.inside());
    }

    /** The line that maps {@code id} (an id inside the namespace), or null. */
    public Line lineOf(long id) {
        for (Line l : lines) {
            if (id >= l.inside() && id < l.inside() + l.count()) {
                return l;
            }
        }
        return null;
    }

    /** The initial user namespace's map (or none read): the identity over all 2^32-1 ids. */
    public static boolean initial(IdMap m) {
        return m == null || (m.lines().size() == 1 && m.lines().getFirst().inside() == 0 && m.lines().getFirst().outside() == 0
                && m.lines().getFirst().count() == 4294967295L);
    }

    public static IdMap of(long inside, long outside, long count) {
        return new IdMap(List.of(new Line(inside, outside, count)));
    }

    /** The text written to /proc/PID/uid_map: all lines in one write(2). */
    public String procText() {
        StringBuilder b = new StringBuilder();
        for (Line l : lines) {
            b.append(l.inside()).append(' ').append(l.outside()).append(' ').append(l.count()).append('\n');
        }
        return b.toString();
    }

    /** newuidmap(1)/newgidmap(1) arguments after the pid. */
    public List<String> helperArgs() {
        List<String> args = new ArrayList<>();
        for (Line l : lines) {
            args.add(Long.toString(l.inside()));
            args.add(Long.toString(l.outside()));
            args.add(Long.toString(l.count()));
        }
        return args;
    }

    /** How many ids the namespace sees. */
    public long size() {
        return lines.stream().mapToLong(Line::count).sum();
    }

    @Override
    public String toString() {
        return procText().strip().replace('\n', ',');
    }
}
