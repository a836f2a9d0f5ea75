package dev.gvshim.container;

import java.util.Locale;
import java.util.Map;

/** Signal names and numbers as `runc kill` takes them: 9, KILL, SIGKILL, sigkill. */
public final class Signals {
    private static final Map<String, Integer> NUMBERS = Map.ofEntries(
            Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("ILL", 4), Map.entry("TRAP", 5),
            Map.entry("ABRT", 6), Map.entry("IOT", 6), Map.entry("BUS", 7), Map.entry("FPE", 8), Map.entry("KILL", 9),
            Map.entry("USR1", 10), Map.entry("SEGV", 11), Map.entry("USR2", 12), Map.entry("PIPE", 13),
            Map.entry("ALRM", 14), Map.entry("TERM", 15), Map.entry("STKFLT", 16), Map.entry("CHLD", 17),
            Map.entry("CONT", 18), Map.entry("STOP", 19), Map.entry("TSTP", 20), Map.entry("TTIN", 21),
            Map.entry("TTOU", 22), Map.entry("URG", 23), Map.entry("XCPU", 24), Map.entry("XFSZ", 25),
            Map.entry("VTALRM", 26), Map.entry("PROF", 27), Map.entry("WINCH", 28), Map.entry("IO", 29),
            Map.entry("POLL", 29), Map.entry("PWR", 30), Map.entry("SYS", 31));

    /** The last standard signal (signal(7)); above it the real-time ones (32 and 33 glibc keeps for itself). */
    public static final int MAX_STANDARD = 31;

    private Signals() {
    }

    /** The signal's number, or -1 if {@code s} names none (1..64, RTMIN+n included). */
    public static int parse(String s) {
        if (s == null || s.isEmpty()) {
            return -1;
        }
        if (s.chars().allMatch(Character::isDigit)) {
            try {
                int n = Integer.parseInt(s);
                return n >= 1 && n <= 64 ? n : -1;
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        String n = s.toUpperCase(Locale.ROOT);
        if (n.startsWith("SIG")) {
            n = n.substring(3);
        }
        Integer v = NUMBERS.get(n);
        if (v != null) {
            return v;
        }
        if (n.startsWith("RTMIN")) {
            int off = n.equals("RTMIN") ? 0 : n.startsWith("RTMIN+") ? parseSmall(n.substring(6)) : -1;
            return off >= 0 && 34 + off <= 64 ? 34 + off : -1;
        }
        if (n.startsWith("RTMAX")) {
            int off = n.equals("RTMAX") ? 0 : n.startsWith("RTMAX-") ? parseSmall(n.substring(6)) : -1;
            return off >= 0 && 64 - off >= 34 ? 64 - off : -1;
        }
        return -1;
    }

    private static int parseSmall(String s) {
        return !s.isEmpty() && s.length() < 3 && s.chars().allMatch(Character::isDigit) ? Integer.parseInt(s) : -1;
    }
}
