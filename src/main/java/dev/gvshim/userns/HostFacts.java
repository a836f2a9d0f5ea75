package dev.gvshim.userns;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.linux.SyscallException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads what {@link Planner} needs from the host. File reads are relative to a root
 * directory so that tests (and `gvshim doctor --root`) can point them at a fixture tree.
 */
public final class HostFacts {
    private static final int S_ISUID = 04000;
    private static final int VFS_CAP_FLAGS_EFFECTIVE = 0x1;

    private HostFacts() {
    }

    public static Planner.Host read(Path root, String pathEnv) throws IOException {
        ProcStatus status = ProcStatus.parse(Files.readString(root.resolve("proc/self/status")));
        String name = root.equals(Path.of("/")) ? userName() : passwdName(root, status.euid());
        return new Planner.Host(status, name, subIds(root.resolve("etc/subuid")), subIds(root.resolve("etc/subgid")),
                helper(root, "newuidmap", pathEnv, 7), helper(root, "newgidmap", pathEnv, 6),
                ownMap(root.resolve("proc/self/uid_map")), ownMap(root.resolve("proc/self/gid_map")));
    }

    /** The JVM resolved it with getpwuid(getuid()); "?" means the uid has no passwd entry. */
    static String userName() {
        String name = System.getProperty("user.name");
        return name == null || name.equals("?") || name.isEmpty() ? null : name;
    }

    /** The name of {@code uid} in root/etc/passwd (fixture trees), or null. */
    static String passwdName(Path root, int uid) throws IOException {
        try {
            for (String line : Files.readAllLines(root.resolve("etc/passwd"))) {
                String[] f = line.split(":");
                if (f.length > 2 && f[2].equals(Integer.toString(uid))) {
                    return f[0];
                }
            }
        } catch (NoSuchFileException e) {
            return null;
        }
        return null;
    }

    static SubIds subIds(Path file) throws IOException {
        try {
            return SubIds.parse(Files.readString(file));
        } catch (NoSuchFileException e) {
            return SubIds.EMPTY;
        }
    }

    /** This process's own uid_map: which ids exist in the namespace we are in. */
    static IdMap ownMap(Path file) throws IOException {
        try {
            List<IdMap.Line> lines = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 3) {
                    lines.add(new IdMap.Line(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])));
                }
            }
            return new IdMap(List.copyOf(lines));
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Finds a helper in $PATH (then the usual sbin/bin dirs) and checks how it is privileged. */
    static Helper helper(Path root, String name, String pathEnv, int capBit) throws IOException {
        List<String> dirs = new ArrayList<>();
        if (pathEnv != null) {
            dirs.addAll(List.of(pathEnv.split(":")));
        }
        dirs.addAll(List.of("/usr/bin", "/usr/sbin", "/bin", "/sbin"));
        for (String dir : dirs) {
            if (dir.isEmpty() || !dir.startsWith("/")) {
                continue;
            }
            Path p = root.resolve(dir.substring(1)).resolve(name);
            if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
                continue;
            }
            Map<String, Object> attrs = Files.readAttributes(p, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) attrs.getOrDefault("mode", 0);
            boolean rootOwned = ((Integer) attrs.getOrDefault("uid", -1)) == 0;
            if (Files.isSymbolicLink(p)) { // the setuid bit that counts is on the target
                Path real = p.toRealPath();
                Map<String, Object> t = Files.readAttributes(real, "unix:mode,uid");
                mode = (Integer) t.get("mode");
                rootOwned = ((Integer) t.get("uid")) == 0;
            }
            boolean setuid = (mode & S_ISUID) != 0;
            boolean fileCap = !(setuid && rootOwned) && hasFileCap(p.toString(), capBit);
            return new Helper(name, "/" + root.relativize(p), true, rootOwned, setuid, fileCap);
        }
        return Helper.missing(name);
    }

    /** Reads security.capability (vfs_cap_data, linux/capability.h): is {@code bit} permitted and effective? */
    static boolean hasFileCap(String path, int bit) {
        try {
            Optional<byte[]> xattr = Linux.getxattr(path, "security.capability");
            return xattr.isPresent() && fileCapGrants(xattr.get(), bit);
        } catch (SyscallException e) {
            return false;
        }
    }

    static boolean fileCapGrants(byte[] v, int bit) {
        if (v.length < 12) {
            return false;
        }
        int magic = le32(v, 0);
        int permitted0 = le32(v, 4);
        return (magic & VFS_CAP_FLAGS_EFFECTIVE) != 0 && bit < 32 && (permitted0 & (1 << bit)) != 0;
    }

    private static int le32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }
}
