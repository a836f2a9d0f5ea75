package dev.gvshim.runsc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.failure.GvshimException;
import java.nio.file.Path;

/**
 * Device rules (linux.resources.devices), which runsc does not apply: honoured with nodev copies
 * of the root file system and bind sources, or the container refused.
 */
final class DeviceFields extends SpecFields {
    DeviceFields(SpecPolicy.Context c, ObjectNode json, Out out) {
        super(c, json, out);
    }

    /**
     * Device rules (linux.resources.devices): runsc applies none (runsc/cgroup/cgroup.go:
     * "devices" is a no-op), and its gofer opens a character-device node found in the root file
     * system or a bind mount on the host and gives the sandbox the descriptor
     * (runsc/fsgofer/lisafs.go Open, S_IFCHR; gVisor's --character-device-policy closes this
     * only in 2026-08). Measured with runsc 2022-12: a node c 1 11 in an image writes to the
     * host's kernel log. gvshim honours rules that deny devices by giving runsc nodev copies of
     * the root file system and of every bind source (see gvshim-nsexec --nodev-file); gVisor's
     * own /dev (null, zero, full, random, urandom, tty, ptmx, fuse, net/tun) is not the host's and
     * unaffected. A bind mount with the option "nodev" gets the same copy whatever the rules.
     */
    void check() throws GvshimException {
        ObjectNode linux = object(json, "linux", "linux");
        ObjectNode res = object(linux, "resources", "linux.resources");
        ArrayNode rules = array(res, "devices", "linux.resources.devices");
        boolean restricted = rules != null && !allowsAllCharDevices(rules);
        ObjectNode root = object(json, "root", "root");
        String rootPath = text(root, "path", "root.path");
        if (restricted && rootPath != null && c.mountDir() != null) {
            Path src = hostPath(rootPath);
            Path dst = c.mountDir().resolve("rootfs");
            // runsc's gofer remounts a read-only root with MS_REMOUNT|MS_BIND|MS_RDONLY (runsc/cmd/gofer.go:416), which
            // clears nodev: the copy is made read-only by gvshim instead, and runsc is told the root is writable (the
            // sandbox's writes then fail with EROFS, as they would; its /proc/mounts says rw)
            boolean ro = root.path("readonly").asBoolean(false);
            nodev.add(new SpecPolicy.NodevBind(src, dst, true, ro));
            root.put("path", dst.toString());
            if (ro) {
                root.put("readonly", false);
                rewrites.add("root.readonly as a read-only nodev copy of the root file system");
            }
            changed();
        }
        ArrayNode mounts = array(json, "mounts", "mounts");
        if (mounts == null) {
            return;
        }
        // a spec's own user namespace: a bind source its root cannot reach gets a copy where it can (UsernsReach)
        long[] mapped = c.mountDir() == null ? null : UsernsReach.mappedRoot(json);
        boolean reroute = mapped != null && mapped[0] != 0 && UsernsReach.reaches(c.mountDir().getParent(), mapped[0], mapped[1]);
        int i = 0;
        for (JsonNode n : mounts) {
            i++;
            if (!SpecPolicy.bind(n) || !n.isObject()) {
                continue;
            }
            ObjectNode m = (ObjectNode) n;
            boolean nodevOption = false;
            for (JsonNode o : m.path("options")) {
                nodevOption |= o.asText().equals("nodev");
            }
            String source = m.path("source").asText("");
            if (source.isEmpty() || c.mountDir() == null) {
                continue;
            }
            Path src = hostPath(source);
            if (!restricted && !nodevOption && !(reroute && !UsernsReach.reaches(src.getParent(), mapped[0], mapped[1]))) {
                continue;
            }
            if (src.startsWith(c.mountDir())) {
                continue; // gvshim's own empty file for masked files
            }
            SpecPolicy.HostFile f = c.stat().apply(src);
            switch (f.kind()) {
                case MISSING, BLOCK -> {
                    continue; // runsc reports a missing source itself; its gofer never opens a block device (EPERM)
                }
                case CHAR -> {
                    if (!nodevOption && allowed(rules, f.major(), f.minor())) {
                        continue; // allowed, as runc's rules would: the device works
                    }
                    if (!nodevOption) {
                        throw refuse("SPEC_DEVICE", "linux.resources.devices", "the bind mount " + src + " at "
                                + m.path("destination").asText() + " is the character device " + f.major() + ":" + f.minor()
                                + ", which the spec's device rules deny, and runsc applies no device rules",
                                "allow the device in linux.resources.devices (docker run --device), or remove the mount");
                    }
                }
                default -> {
                    // a directory or file: its copy is mounted nodev below
                }
            }
            Path dst = c.mountDir().resolve("m" + i);
            nodev.add(new SpecPolicy.NodevBind(src, dst, f.kind() == SpecPolicy.HostFile.Kind.DIRECTORY, false));
            m.put("source", dst.toString());
            changed();
        }
    }

    /** Whether the rules, in order, end up allowing every character device (runc's device cgroup emulation: the last matching rule wins). */
    static boolean allowsAllCharDevices(ArrayNode rules) {
        boolean all = true;
        for (JsonNode r : rules) {
            String type = r.path("type").asText("a");
            boolean chars = type.equals("a") || type.equals("c");
            boolean wildcard = wild(r.get("major")) && wild(r.get("minor"));
            boolean allow = r.path("allow").asBoolean(false);
            if (chars && wildcard) {
                all = allow;
            } else if (chars && !allow) {
                all = false;
            }
        }
        return all;
    }

    /** Whether the rules allow the character device major:minor (no rules: the cgroup default, allowed). */
    static boolean allowed(ArrayNode rules, long major, long minor) {
        boolean ok = true;
        if (rules == null) {
            return true;
        }
        for (JsonNode r : rules) {
            String type = r.path("type").asText("a");
            if (!type.equals("a") && !type.equals("c")) {
                continue;
            }
            if ((wild(r.get("major")) || r.get("major").asLong() == major) && (wild(r.get("minor"))
                    || r.get("minor").asLong() == minor)) {
                String access = r.path("access").asText("rwm");
                ok = r.path("allow").asBoolean(false) ? access.contains("r") || access.contains("w") : false;
            }
        }
        return ok;
    }

    private static boolean wild(JsonNode n) {
        return absent(n) || n.asLong(-1) < 0;
    }
}
