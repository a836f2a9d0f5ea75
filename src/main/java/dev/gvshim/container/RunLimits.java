package dev.gvshim.container;

import java.util.Locale;

/**
 * {@code gvshim run --memory, --cpus, --pids-limit}, docker run's resource limits.
 *
 * <p>How each is applied ({@link Cgroups} decides, the same way for run and doctor):
 * <ul>
 * <li>{@code --memory} and {@code --cpus} limit a cgroup gvshim creates for the sandbox's host
 * processes (runsc, its sandbox process and gofer: the command's memory is the sandbox process's,
 * gVisor's own overhead included, as with docker's runsc runtime): under the caller's own cgroup
 * when it is delegated to the caller (cgroup v2), or as root. gVisor has no limit of its own for
 * either (runsc's --total-memory only sets what the sandbox's /proc/meminfo reports, and
 * --cpu-num how many CPUs it shows), so anywhere else they are refused, never ignored.</li>
 * <li>{@code --pids-limit N} is gVisor's own: RLIMIT_NPROC N for the command, which gVisor's kernel
 * enforces per user in the sandbox for processes without CAP_SYS_ADMIN or CAP_SYS_RESOURCE
 * (pkg/sentry/kernel/kernel.go incRLimitNProc; gvshim run gives neither). A host pids.max would
 * count gVisor's own threads too (about 40 for an idle sandbox, more with load: SPEC_PIDS_LIMIT),
 * so its N would mean nothing the user can predict.</li>
 * </ul>
 *
 * @param memory bytes, or null
 * @param cpus   CPUs (1.5 = one and a half CPUs' time per period), or null
 * @param pids   processes and threads per user in the sandbox, or null
 */
public record RunLimits(Long memory, Double cpus, Long pids) {
    public static final RunLimits NONE = new RunLimits(null, null, null);

    /** The smallest --memory: docker's (6 MiB); less cannot even start runsc. */
    static final long MEMORY_MIN = 6L * 1024 * 1024;

    /** Whether a cgroup is needed (--memory or --cpus). */
    public boolean needsCgroup() {
        return memory != null || cpus != null;
    }

    /** docker's --memory: a number of bytes, with an optional unit b, k, m or g (powers of 1024). */
    public static long memory(String s) {
        String t = s.strip().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'b' -> t = t.substring(0, t.length() - 1);
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                default -> {
                }
            }
            if (unit != 1) {
                t = t.substring(0, t.length() - 1);
            }
        }
        long n;
        try {
            n = Long.parseLong(t);
            if (n <= 0 || n > Long.MAX_VALUE / unit) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--memory " + s + ": expected a size such as 512m, 2g or 1048576 (bytes)");
        }
        if (n * unit < MEMORY_MIN) {
            throw new IllegalArgumentException("--memory " + s + ": the minimum is 6m (runsc and its sandbox need more to start)");
        }
        return n * unit;
    }

    /** docker's --cpus: a positive decimal, at most the CPUs this host has. */
    public static double cpus(String s, int online) {
        double d;
        try {
            d = Double.parseDouble(s.strip());
        } catch (NumberFormatException e) {
            d = Double.NaN;
        }
        if (!(d > 0) || Double.isInfinite(d) || !s.strip().matches("[0-9]*\\.?[0-9]+")) {
            throw new IllegalArgumentException("--cpus " + s + ": expected a positive number of CPUs such as 1.5");
        }
        if (d < 0.01) {
            throw new IllegalArgumentException("--cpus " + s + ": the minimum is 0.01 (1 ms of every 100 ms period)");
        }
        if (d > online) {
            throw new IllegalArgumentException("--cpus " + s + ": this host has " + online + " CPU" + (online == 1 ? "" : "s"));
        }
        return d;
    }

    /** docker's --pids-limit: a positive whole number (docker's 0 and -1, "unlimited", are no limit: leave it out). */
    public static long pids(String s) {
        long n;
        try {
            n = Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n <= 0) {
            throw new IllegalArgumentException("--pids-limit " + s + ": expected a positive whole number (leave the option"
                    + " out for no limit)");
        }
        return n;
    }

    /** 512m as docker would print it: the largest unit that divides it, else bytes. */
    public static String size(long bytes) {
        for (String u : new String[] {"g", "m", "k"}) {
            long div = u.equals("g") ? 1L << 30 : u.equals("m") ? 1L << 20 : 1L << 10;
            if (bytes % div == 0) {
                return bytes / div + u;
            }
        }
        return Long.toString(bytes);
    }
}
