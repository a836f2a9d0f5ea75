package dev.gvshim.runsc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.failure.GvshimException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Where the spec's mounts land, as runc places them: a mount point reached through a symbolic
 * link in the root file system is resolved inside the container's tree, never on the host; proc
 * and sysfs only on an ordinary directory; a read-only /dev refused where gVisor would break its
 * devices; cgroup mounts said to be moot (runsc mounts none).
 */
final class MountFields extends SpecFields {
    /** securejoin's and Linux's limit on symbolic links followed in one path (MAXSYMLINKS is 40; runc's securejoin allows 255). */
    private static final int MAX_LINKS = 255;

    /**
     * A mount already placed when a later one is resolved: its destination (symbolic links
     * resolved) and the host directory behind it, or null for a file system of the sandbox's own
     * (tmpfs, proc, ...), which holds no symbolic link the spec could lead through.
     */
    private record Placed(String destination, Path host) {
    }

    MountFields(SpecPolicy.Context c, ObjectNode json, Out out) {
        super(c, json, out);
    }

    void check() throws GvshimException {
        ArrayNode mounts = array(json, "mounts", "mounts");
        String rootPath = text(object(json, "root", "root"), "path", "root.path");
        if (mounts == null || rootPath == null) {
            return;
        }
        Path root = hostPath(rootPath);
        List<Placed> placed = new ArrayList<>();
        // runsc/boot/vfs.go compileMounts: /proc, /sys, /dev and /dev/pts of gVisor's own come first when the spec has none
        for (String own : List.of("/proc", "/sys", "/dev", "/dev/pts")) {
            boolean given = false;
            for (JsonNode m : mounts) {
                given |= own.equals(normalized(m.path("destination").asText("")));
            }
            if (!given) {
                placed.add(new Placed(own, null));
            }
        }
        List<String> cgroups = new ArrayList<>();
        for (JsonNode n : mounts) {
            String dst = normalized(n.path("destination").asText(""));
            if (!(n instanceof ObjectNode m) || dst == null) {
                continue; // runsc refuses a relative destination itself ("must be an absolute path")
            }
            String type = m.path("type").asText("");
            boolean bind = SpecPolicy.bind(m);
            String source = m.path("source").asText("");
            if (!bind && (type.equals("proc") || type.equals("sysfs"))) {
                ordinaryDirectory(type, dst, root, placed);
                placed.add(new Placed(dst, null));
                continue;
            }
            if (!bind && (type.equals("cgroup") || type.equals("cgroup2"))) {
                cgroups.add(dst);
            }
            if (!bind && dst.equals("/dev") && readOnly(m)) {
                readOnlyDev();
            }
            String resolved = resolve(dst, root, placed);
            if (!resolved.equals(dst)) {
                m.put("destination", resolved);
                rewrites.add("mount " + dst + " at " + resolved + " (symbolic links in the root file system resolved"
                        + " inside it, as runc's securejoin does)");
                changed();
            }
            placed.add(new Placed(resolved, bind && !source.isEmpty() ? hostPath(source) : null));
        }
        if (!cgroups.isEmpty()) {
            // runsc/boot/vfs.go compileMounts: "Unconditionally drop any cgroupfs mounts" (unless runsc --cgroupfs)
            moot.add("mounts " + String.join(", ", cgroups) + " (cgroup: runsc mounts no cgroup file system there, the"
                    + " container finds gVisor's empty directory, whose files it can neither read nor write)");
        }
    }

    /**
     * runc mounts proc and sysfs only on a directory or on nothing (libcontainer/rootfs_linux.go
     * mountToRootfs: lstat, "filesystem %q must be mounted on ordinary directory"): a symbolic
     * link there would let the image steer the mount elsewhere (CVE-2019-19921, CVE-2023-27561).
     * runsc 2022-12 mounts its own proc over the link without a word (measured), so gvshim
     * refuses with runc's words.
     */
    private void ordinaryDirectory(String type, String dst, Path root, List<Placed> placed) throws GvshimException {
        int slash = dst.lastIndexOf('/');
        String parent = resolve(slash == 0 ? "/" : dst.substring(0, slash), root, placed);
        String path = (parent.equals("/") ? "" : parent) + dst.substring(slash);
        Path host = hostOf(path, root, placed);
        if (host == null || dst.equals("/") || placed.stream().anyMatch(p -> p.destination().equals(path))) {
            return;
        }
        String link = c.link().apply(host);
        SpecPolicy.HostFile f = link == null ? c.stat().apply(host) : null;
        if (link == null && (f.kind() == SpecPolicy.HostFile.Kind.MISSING || f.kind() == SpecPolicy.HostFile.Kind.DIRECTORY)) {
            return;
        }
        throw refuse("SPEC_MOUNT_POINT", "mounts " + dst + " (" + type + ")", "error mounting \"" + type + "\" to rootfs at \""
                + dst + "\": filesystem \"" + type + "\" must be mounted on ordinary directory, and " + host + " is "
                + (link != null ? "a symbolic link to " + link : "not a directory") + " (runc refuses it too: a mount through"
                + " a link could land elsewhere)", "make " + dst + " a directory in the root file system");
    }

    /**
     * gVisor before 2026-07 checks the mount's read-only flag when any file is opened for writing,
     * devices included (pkg/sentry/vfs/file_description.go Init; fixed by 8506136e8): on a
     * read-only /dev, `echo x >/dev/null` fails with EROFS (measured with runsc 2022-12), where
     * Linux lets a device on a read-only mount be written (fs/namei.c may_open) and runc's
     * container runs normally. Refused rather than run a container whose /dev/null fails.
     */
    private void readOnlyDev() throws GvshimException {
        if (release().writesDevicesOnReadOnlyMounts()) {
            return;
        }
        throw refuse("SPEC_READONLY_DEV", "mounts /dev (ro)", "runsc " + release().label() + " refuses to open the device"
                + " files of a read-only mount for writing (EROFS, where Linux allows it; fixed in gVisor 2026-07), so"
                + " writes to /dev/null, /dev/zero or /dev/tty would fail in the container", "remove \"ro\" from the /dev"
                + " mount (its device files are gVisor's own either way), or use runsc 2026-07 or later");
    }

    /** Whether a mount's options make it read-only (the last of "ro" and "rw" counts, as mount(8)'s). */
    private static boolean readOnly(JsonNode m) {
        boolean ro = false;
        for (JsonNode o : m.path("options")) {
            ro = o.asText().equals("ro") || (ro && !o.asText().equals("rw"));
        }
        return ro;
    }

    /**
     * {@code dst} with every symbolic link on its way resolved inside the container's tree, as
     * runc's securejoin.SecureJoin does (an absolute target starts again at the container's root,
     * ".." stops there): each component is looked up with lstat(2) and readlink(2) only, in the
     * host directory the mounts placed so far put there (the root file system, a bind source),
     * never by following a link on the host. A component that does not exist ends the lookups
     * (what follows is created by the runtime). runsc 2022-12 resolves a bind mount's destination
     * this way in its gofer (runsc/cmd/gofer.go resolveSymlinks), but a tmpfs's parent not at all:
     * its sentry refuses a mount point whose parent is a link ("failed to create parent
     * directory of mountpoint: not a directory", measured), where runc mounts at the target.
     */
    private String resolve(String dst, Path root, List<Placed> placed) throws GvshimException {
        Deque<String> todo = new ArrayDeque<>(List.of(dst.split("/")));
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String name = todo.removeFirst();
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            if (name.equals("..")) {
                if (!done.isEmpty()) {
                    done.removeLast();
                }
                continue;
            }
            done.add(name);
            String path = "/" + String.join("/", done);
            Path host = hostOf(path, root, placed);
            // a mount point is what is mounted there: a bind source that is a link on the host is the host's to follow
            boolean mountPoint = placed.stream().anyMatch(p -> p.destination().equals(path));
            String target = host == null || mountPoint ? null : c.link().apply(host);
            if (target == null) {
                continue;
            }
            if (++links > MAX_LINKS) {
                throw refuse("SPEC_MOUNT_POINT", "mounts " + dst, "its path leads through more than " + MAX_LINKS
                        + " symbolic links in the root file system", "fix the links in the root file system");
            }
            done.removeLast();
            if (target.startsWith("/")) {
                done.clear();
            }
            List<String> parts = List.of(target.split("/"));
            for (int i = parts.size() - 1; i >= 0; i--) {
                todo.addFirst(parts.get(i));
            }
        }
        return "/" + String.join("/", done);
    }

    /** The host file behind a container path (its symbolic links resolved), or null inside a file system of the sandbox's own. */
    private static Path hostOf(String path, Path root, List<Placed> placed) {
        Placed holder = null;
        for (Placed p : placed) {
            String d = p.destination();
            if (path.equals(d) || path.startsWith(d.equals("/") ? "/" : d + "/")) {
                holder = p;
            }
        }
        if (holder == null) {
            return root.resolve(path.substring(1));
        }
        if (holder.host() == null) {
            return null;
        }
        String d = holder.destination();
        return path.equals(d) ? holder.host() : holder.host().resolve(path.substring(d.equals("/") ? 1 : d.length() + 1));
    }

    private static String normalized(String dst) {
        return dst.startsWith("/") ? Path.of(dst).normalize().toString() : null;
    }
}
