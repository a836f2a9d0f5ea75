package dev.gvshim.server;

import dev.gvshim.container.RootChecks;
import dev.gvshim.container.StateDir;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.userns.IdMap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where a user's server lives, and its file names. One server per euid, user namespace and
 * installation build (notes/server-design.md 2.1): not one per --root, which is per-call data
 * (the security boundary is the euid, checked with SO_PEERCRED; containerd passes one --root
 * per namespace, and a JVM each would cost 45-60 MB for nothing).
 *
 * <ul>
 * <li>root in the initial user namespace: {@code /run/gvshim/server} (root's runtime root; a tmpfs);</li>
 * <li>everyone else: {@code server/} in the per-user state directory ({@link StateDir}'s rule);</li>
 * </ul>
 * mode 0700, the euid's. In it, per server: {@code NAME.sock} (0600), {@code NAME.lock} (flock:
 * one server per name), {@code NAME.pid} (pid and /proc start time), and the shared {@code server.log}.
 * NAME is {@code s-} + the first 16 hex digits of the build id + {@code -} + the FNV-1a-64 of the
 * installation's real path + {@code -} + the inode of the caller's user namespace: servers of two
 * builds or two copies never meet, so no server ever has to hand its socket over to another, and
 * a client only ever finds a server of its own build. Two sessions of `unshare -r` have the same
 * state directory (StateDir names it after the uid and the outer uid) but not the same namespace,
 * and a server serves only callers of its own ({@link PeerContext}): each gets its own. An inode
 * is unique among the namespaces that exist (a dead one's number may come back, but its server
 * is gone with it: ECONNREFUSED). native/gvshim_client.c computes the same name.
 *
 * @param dir  the server directory
 * @param name the server's file name stem
 */
public record ServerDir(Path dir, String name) {
    static final Path ROOT_RUNTIME = Path.of("/run/gvshim");

    /** Creates (or checks) the directory of {@code euid}'s servers, by the state directory rules. */
    public static Path prepare(Map<String, String> env, int euid, long outerUid) throws GvshimException {
        Path base;
        if (euid == 0 && outerUid < 0) {
            RootChecks.makeRuntimeRoot(ROOT_RUNTIME, euid);
            base = ROOT_RUNTIME;
        } else {
            base = StateDir.prepareDefault(env, euid, outerUid);
        }
        return RootChecks.prepare(base.resolve("server"), euid, false);
    }

    /** The server directory if it exists, without creating anything (status, stop). */
    public static Path find(Map<String, String> env, int euid, long outerUid) {
        return find(env, euid, outerUid, Path.of("/tmp"));
    }

    /** {@link #find(Map, int, long)} with {@code tmp} for /tmp (the native client must agree: ClientTest). */
    static Path find(Map<String, String> env, int euid, long outerUid, Path tmp) {
        if (euid == 0 && outerUid < 0) {
            return ROOT_RUNTIME.resolve("server");
        }
        StateDir.Choice c = StateDir.find(env, euid, outerUid, tmp);
        return c.dir() == null ? null : c.dir().resolve("server");
    }

    /**
     * The stem of a server's file names for {@code buildId} installed at {@code home} (its real
     * path), serving the user namespace whose /proc/self/ns/user has inode {@code userns}.
     */
    public static String name(String buildId, String home, long userns) {
        String b = buildId.length() > 16 ? buildId.substring(0, 16) : buildId;
        return "s-" + b + "-" + String.format("%016x", fnv1a64(home.getBytes(StandardCharsets.UTF_8))) + "-" + userns;
    }

    /** The inode of this process's user namespace (namespaces(7): /proc/self/ns/user), or 0 if unreadable. */
    public static long ownUserns() {
        try {
            return ((Number) java.nio.file.Files.getAttribute(Path.of("/proc/self/ns/user"), "unix:ino")).longValue();
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * What {@code euid} is in the parent user namespace (/proc/self/uid_map, user_namespaces(7)),
     * or -1 in the initial one (or when unreadable): the state directory's name depends on it.
     */
    public static long outerUid(int euid) {
        try {
            java.util.List<IdMap.Line> lines = new java.util.ArrayList<>();
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/uid_map"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 3) {
                    lines.add(new IdMap.Line(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])));
                }
            }
            return IdMap.outer(new IdMap(lines), euid);
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Where the server of {@code euid} for the installation {@code home} (a real path) of
     * {@code buildId}, serving this process's user namespace, listens; null when its directory
     * does not exist (then none runs). The native client finds the same (ClientTest).
     */
    public static ServerDir of(Map<String, String> env, int euid, String buildId, String home) {
        Path dir = find(env, euid, outerUid(euid));
        return dir == null ? null : new ServerDir(dir, name(buildId, home, ownUserns()));
    }

    /** FNV-1a, 64 bits (the C client computes the same; nothing secret: only a name). */
    static long fnv1a64(byte[] data) {
        long h = 0xcbf29ce484222325L;
        for (byte x : data) {
            h ^= x & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    public Path socket() {
        return dir.resolve(name + ".sock");
    }

    public Path lock() {
        return dir.resolve(name + ".lock");
    }

    public Path pidFile() {
        return dir.resolve(name + ".pid");
    }

    public Path log() {
        return dir.resolve("server.log");
    }
}
