package dev.gvshim.diagnose;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code /proc/self/mountinfo} (proc(5)), as far as the sandbox cares: what is mounted over
 * /proc (Docker's masked paths make a fresh procfs "too revealing" to mount), and whether
 * /proc, /sys and the cgroup file system are read-only. A pure parser.
 */
public record Mounts(List<Entry> entries) {

    /** One line: the mount point, the root of the mount within its file system, options, type. */
    public record Entry(String root, String mountPoint, List<String> options, String fsType) {
        public boolean readOnly() {
            return options.contains("ro");
        }
    }

    public static Mounts parse(String text) {
        List<Entry> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length < 10 || dash < 6 || dash + 1 >= f.length) {
                continue;
            }
            out.add(new Entry(unescape(f[3]), unescape(f[4]), List.of(f[5].split(",")), f[dash + 1]));
        }
        return new Mounts(List.copyOf(out));
    }

    /** The last (topmost) mount exactly at {@code path}, or null. */
    public Entry at(String path) {
        Entry found = null;
        for (Entry e : entries) {
            if (e.mountPoint().equals(path)) {
                found = e;
            }
        }
        return found;
    }

    /** Mount points strictly below {@code dir} (for /proc: masks such as /proc/kcore). */
    public List<String> below(String dir) {
        String prefix = dir.endsWith("/") ? dir : dir + "/";
        return entries.stream().map(Entry::mountPoint).filter(m -> m.startsWith(prefix)).distinct().toList();
    }

    /** Whether the mount that holds {@code path} is read-only (the longest mount point that is a prefix). */
    public boolean readOnly(String path) {
        Entry best = holding(path);
        return best != null && best.readOnly();
    }

    /** The mount that holds {@code path}: the last of the longest mount points that are a prefix of it, or null. */
    public Entry holding(String path) {
        Entry best = null;
        for (Entry e : entries) {
            String m = e.mountPoint();
            boolean holds = path.equals(m) || m.equals("/") || path.startsWith(m.endsWith("/") ? m : m + "/");
            if (holds && (best == null || m.length() >= best.mountPoint().length())) {
                best = e;
            }
        }
        return best;
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') {
                return false;
            }
        }
        return true;
    }
}
