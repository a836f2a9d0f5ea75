package dev.gvshim.pool;

import dev.gvshim.container.RunRequest;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One pool as `gvshim server start --pool NAME:min=2,max=8[,KEY=VALUE...]` names it: how many
 * sandboxes are kept ready ({@code min}), how many exist at most, ready and in use ({@code max}),
 * the most memory the ready ones may take together ({@code memory}, RSS), and the profile every
 * sandbox of the pool is made with: the options of `gvshim run` that shape a sandbox (rootfs or
 * bundle, mount, tmpfs, network, userns, platform, runsc, root, hostname). A run with --pool
 * must ask for the same profile ({@link Profile#differs}).
 *
 * @param template the request each sandbox is booted from (its command: {@link #INIT})
 */
public record PoolSpec(String name, int min, int max, long memoryBytes, RunRequest template) {
    /** The most sandboxes one pool may keep (each is a runsc, a gofer and a sandbox process: ~30-60 MB). */
    public static final int MAX_MAX = 256;
    /**
     * A pooled sandbox's init: it waits (the command is exec'd beside it, `runsc exec`) and reads
     * nothing; sleep(1) of coreutils and of busybox both take a number of seconds this large.
     */
    public static final List<String> INIT = List.of("sleep", "2147483647");

    /** The canonical form, which {@link #parse} reads back (what `server start` passes to `server run`). */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(name).append(":min=").append(min).append(",max=").append(max);
        if (memoryBytes > 0) {
            b.append(",memory=").append(memoryBytes);
        }
        RunRequest t = template;
        if (t.bundle() != null) {
            b.append(",bundle=").append(t.bundle());
        } else if (!t.rootfs().equals(Path.of("/"))) {
            b.append(",rootfs=").append(t.rootfs());
        }
        for (RunRequest.BindMount m : t.mounts()) {
            b.append(",mount=").append(m.source()).append(':').append(m.destination()).append(m.readOnly() ? ":ro" : ":rw");
        }
        t.tmpfs().forEach(x -> b.append(",tmpfs=").append(x));
        b.append(",network=").append(t.network().flag()).append(",userns=").append(t.userns().label());
        if (t.platform() != null) {
            b.append(",platform=").append(t.platform());
        }
        if (t.runsc() != null) {
            b.append(",runsc=").append(t.runsc());
        }
        if (t.root() != null) {
            b.append(",root=").append(t.root());
        }
        if (t.hostname() != null) {
            b.append(",hostname=").append(t.hostname());
        }
        return b.toString();
    }

    /** What a pool's name may be (it appears in file and thread names). */
    public static final String NAME = "[A-Za-z0-9][A-Za-z0-9_.-]{0,62}";

    /**
     * Parses {@code NAME:min=N,max=N,KEY=VALUE...}; relative paths are resolved against {@code cwd}.
     * IllegalArgumentException carries the one-line complaint.
     */
    public static PoolSpec parse(String spec, Path cwd) {
        int colon = spec.indexOf(':');
        String name = colon < 0 ? spec : spec.substring(0, colon);
        if (!name.matches(NAME)) {
            throw new IllegalArgumentException("--pool " + spec + ": a pool's name is letters, digits, '_', '.' and '-' (at most 63)");
        }
        int min = 2;
        int max = -1;
        long memory = 0;
        Path rootfs = null;
        Path bundle = null;
        List<RunRequest.BindMount> mounts = new ArrayList<>();
        List<String> tmpfs = new ArrayList<>();
        Network network = Network.NONE;
        Mode userns = Mode.AUTO;
        String platform = null;
        String runsc = null;
        Path root = null;
        String hostname = null;
        for (String kv : colon < 0 ? new String[0] : spec.substring(colon + 1).split(",")) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--pool " + spec + ": expected KEY=VALUE, not \"" + kv + "\"");
            }
            String k = kv.substring(0, eq);
            String v = kv.substring(eq + 1);
            switch (k) {
                case "min" -> min = count(spec, k, v);
                case "max" -> max = count(spec, k, v);
                case "memory" -> memory = bytes(spec, v);
                case "rootfs" -> rootfs = cwd.resolve(v).normalize();
                case "bundle" -> bundle = cwd.resolve(v).normalize();
                case "mount" -> mounts.add(RunRequest.BindMount.parse(v, cwd));
                case "tmpfs" -> tmpfs.add(absolute(spec, k, v));
                case "network" -> network = enumValue(spec, k, Network.parse(v), "none, sandbox or host");
                case "userns" -> userns = enumValue(spec, k, mode(v), "auto, full or single");
                case "platform" -> platform = choice(spec, k, v, List.of("ptrace", "systrap", "kvm"));
                // absolute: the server boots the sandboxes in its own directory (/), not the caller's, and a
                // `run --pool`'s --runsc is compared as written (Profile)
                case "runsc" -> runsc = absolute(spec, k, v);
                case "root" -> root = cwd.resolve(v).normalize();
                case "hostname" -> hostname = v;
                default -> throw new IllegalArgumentException("--pool " + spec + ": unknown key " + k + " (min, max, memory, rootfs,"
                        + " bundle, mount, tmpfs, network, userns, platform, runsc, root, hostname)");
            }
        }
        if (max < 0) {
            max = Math.max(min, 8);
        }
        if (max < 1 || max > MAX_MAX) {
            throw new IllegalArgumentException("--pool " + spec + ": max must be 1 to " + MAX_MAX);
        }
        if (min > max) {
            throw new IllegalArgumentException("--pool " + spec + ": min " + min + " is more than max " + max);
        }
        if (rootfs != null && bundle != null) {
            throw new IllegalArgumentException("--pool " + spec + ": rootfs and bundle cannot be combined (the bundle names its root)");
        }
        Path fs = rootfs == null ? Path.of("/") : rootfs;
        if (bundle == null) {
            RunRequest.checkRootfs(fs);
        }
        RunRequest template = new RunRequest(INIT, bundle, fs, List.copyOf(mounts), List.copyOf(tmpfs), null, List.of(), false,
                network, null, 2, platform, runsc, root, userns, RunRequest.Tty.NEVER, null, null, hostname, false, false, false);
        return new PoolSpec(name, min, max, memory, template);
    }

    private static int count(String spec, String k, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n >= 0 && n <= MAX_MAX) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("--pool " + spec + ": " + k + " must be a number from 0 to " + MAX_MAX);
    }

    /** 512M, 2G, 100000k or bytes. */
    static long bytes(String spec, String v) {
        String s = v.toLowerCase(Locale.ROOT);
        long unit = 1;
        if (!s.isEmpty() && "kmg".indexOf(s.charAt(s.length() - 1)) >= 0) {
            unit = 1L << (10 * ("kmg".indexOf(s.charAt(s.length() - 1)) + 1));
            s = s.substring(0, s.length() - 1);
        }
        try {
            long n = Long.parseLong(s);
            if (n > 0 && n < Long.MAX_VALUE / unit) {
                return n * unit;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("--pool " + spec + ": memory must be a size such as 512M or 2G");
    }

    private static String absolute(String spec, String k, String v) {
        if (!v.startsWith("/")) {
            throw new IllegalArgumentException("--pool " + spec + ": " + k + " " + v + " must be an absolute path");
        }
        return v;
    }

    private static <T> T enumValue(String spec, String k, T v, String expected) {
        if (v == null) {
            throw new IllegalArgumentException("--pool " + spec + ": " + k + " must be " + expected);
        }
        return v;
    }

    private static String choice(String spec, String k, String v, List<String> allowed) {
        if (!allowed.contains(v)) {
            throw new IllegalArgumentException("--pool " + spec + ": " + k + " must be " + String.join(", ", allowed));
        }
        return v;
    }

    private static Mode mode(String v) {
        for (Mode m : Mode.values()) {
            if (m.label().equals(v) || m.name().equalsIgnoreCase(v)) {
                return m;
            }
        }
        return null;
    }
}
