package dev.gvshim.userns;

import dev.gvshim.linux.ProcStatus;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.Syscalls;
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
 * The calling process as user namespaces see it: everything {@link Planner} decides on and
 * {@link NamespaceChild#map} uses. Read from the host by {@link #read}; its file reads are
 * relative to a root directory so that tests can point them at a fixture tree.
 *
 * @param status    its credentials, capability sets, no_new_privs and seccomp (/proc/self/status)
 * @param userName  its user's name (newuidmap looks the user up by name), or null without a passwd entry
 * @param subuid    /etc/subuid
 * @param subgid    /etc/subgid
 * @param newuidmap the helper found in $PATH (or the usual directories), and how it is privileged
 * @param newgidmap likewise
 * @param ownUidMap the user namespace it runs in: its /proc/self/uid_map (null: unreadable)
 * @param ownGidMap its /proc/self/gid_map
 */
public record Caller(ProcStatus status, String userName, SubIds subuid, SubIds subgid, Helper newuidmap,
        Helper newgidmap, IdMap ownUidMap, IdMap ownGidMap) {
    private static final int S_ISUID = 04000;
    private static final int VFS_CAP_FLAGS_EFFECTIVE = 0x1;

    /** {@link #read(Syscalls, Path, String)} with this process's system calls. */
    public static Caller read(Path root, String pathEnv) throws IOException {
        return read(Syscalls.system(), root, pathEnv);
    }

    /** @param sys for the helpers' file capabilities (getxattr(2)) */
    public static Caller read(Syscalls sys, Path root, String pathEnv) throws IOException {
        ProcStatus status = ProcStatus.parse(Files.readString(root.resolve("proc/self/status")));
        String name = root.equals(Path.of("/")) ? jvmUserName() : passwdName(root, status.euid());
        return new Caller(status, name, subIds(root.resolve("etc/subuid")), subIds(root.resolve("etc/subgid")),
                helper(sys, root, "newuidmap", pathEnv, 7), helper(sys, root, "newgidmap", pathEnv, 6),
                ownMap(root.resolve("proc/self/uid_map")), ownMap(root.resolve("proc/self/gid_map")));
    }

    /** The JVM resolved it with getpwuid(getuid()); "?" means the uid has no passwd entry. */
    static String jvmUserName() {
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
    static Helper helper(Syscalls sys, Path root, String name, String pathEnv, int capBit) throws IOException {
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
            Map<String, Object> attrs = Files.readAttributes(p, "unix:mode,uid,owner", LinkOption.NOFOLLOW_LINKS);
            if (Files.isSymbolicLink(p)) { // the setuid bit that counts is on the target
                attrs = Files.readAttributes(p.toRealPath(), "unix:mode,uid,owner");
            }
            int mode = (Integer) attrs.getOrDefault("mode", 0);
            boolean rootOwned = ((Integer) attrs.getOrDefault("uid", -1)) == 0;
            Object owner = attrs.get("owner");
            boolean setuid = (mode & S_ISUID) != 0;
            byte[] xattr = fileCaps(sys, p.toString());
            boolean fileCap = !(setuid && rootOwned) && xattr != null && fileCapGrants(xattr, capBit);
            return new Helper(name, "/" + root.relativize(p), true, rootOwned, setuid, fileCap, mode & 07777,
                    owner == null ? null : owner.toString(), xattr == null ? null : describeFileCaps(xattr));
        }
        return Helper.missing(name);
    }

    /** security.capability (vfs_cap_data, linux/capability.h), or null when it has none or it cannot be read. */
    static byte[] fileCaps(Syscalls sys, String path) {
        try {
            Optional<byte[]> xattr = sys.getxattr(path, "security.capability");
            return xattr.orElse(null);
        } catch (SyscallException e) {
            return null;
        }
    }

    /** As getcap(8) prints it: "cap_setuid=ep", "cap_setuid,cap_setgid=p". */
    public static String describeFileCaps(byte[] v) {
        if (v.length < 12) {
            return "(unreadable)";
        }
        long permitted = le32(v, 4) & 0xffffffffL;
        if (v.length >= 20) {
            permitted |= (le32(v, 12) & 0xffffffffL) << 32; // data[1]: bits 32-63 (VFS_CAP_REVISION_2 and 3)
        }
        List<String> names = ProcStatus.capNames(permitted).stream()
                .map(n -> n.toLowerCase(java.util.Locale.ROOT)).toList();
        return (names.isEmpty() ? "" : String.join(",", names)) + "=" + ((le32(v, 0) & VFS_CAP_FLAGS_EFFECTIVE) != 0 ? "ep" : "p");
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
