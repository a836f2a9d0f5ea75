package dev.gvshim.runsc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * linux.maskedPaths and linux.readonlyPaths: moot under gVisor's own /proc and /sys, elsewhere
 * turned into mounts runsc applies, judged by the mount that holds each path.
 */
final class PathFields extends SpecFields {
    PathFields(SpecPolicy.Context c, ObjectNode json, Out out) {
        super(c, json, out);
    }

    /**
     * runsc applies neither list (2022-12 to today: they appear only in specutils.LogSpec).
     * Under gVisor's own /proc and /sys they are moot: what runc hides there (the host's kcore,
     * keys, timer_list, sched_debug, firmware...) does not exist in gVisor, and what it makes
     * read-only (/proc/sys...) is the sandbox's own kernel, whose writes never reach the host
     * (hostinet's setters return EACCES). Anywhere else the host's file would be visible and
     * writable, so gvshim does what runc does, with mounts runsc applies: a masked directory gets
     * an empty read-only tmpfs, a masked file a read-only bind of an empty file, a read-only path
     * a read-only bind of itself (runc libcontainer/rootfs_linux.go maskPath, readonlyPath). A path
     * that does not exist is skipped, as runc skips it.
     */
    void check() throws GvshimException {
        ObjectNode linux = object(json, "linux", "linux");
        int mootCount = 0;
        List<ObjectNode> added = new ArrayList<>();
        for (String field : List.of("maskedPaths", "readonlyPaths")) {
            boolean masked = field.equals("maskedPaths");
            for (String p : strings(linux, field, "linux." + field)) {
                String path = Path.of("/").resolve(p).normalize().toString();
                Covering cov = covering(path);
                if (cov.gvisorOwn()) {
                    mootCount++;
                    continue;
                }
                if (cov.host() == null) {
                    throw refuse("SPEC_MASKED_PATH", "linux." + field, path + " is in the sandbox's own " + cov.type()
                            + " at " + cov.destination() + ", where gvshim cannot " + (masked ? "mask" : "protect")
                            + " it (runsc applies neither maskedPaths nor readonlyPaths)", "remove the entry");
                }
                Path host = cov.host().resolve(cov.destination().equals("/") ? path.substring(1)
                        : path.substring(Math.min(path.length(), cov.destination().length() + 1)));
                for (Path q = host; q != null && q.startsWith(cov.host()) && !q.equals(cov.host()); q = q.getParent()) {
                    if (c.link().apply(q) != null) {
                        throw refuse("SPEC_MASKED_PATH", "linux." + field, path + " leads through the symbolic link " + q
                                + ", and gvshim resolves these paths on the host without following links",
                                "name the path the link points to");
                    }
                }
                SpecPolicy.HostFile f = c.stat().apply(host);
                ObjectNode m = JsonTree.nodes().objectNode();
                m.put("destination", path);
                if (f.kind() == SpecPolicy.HostFile.Kind.MISSING) {
                    continue;
                } else if (masked && f.kind() == SpecPolicy.HostFile.Kind.DIRECTORY) {
                    m.put("type", "tmpfs").put("source", "tmpfs").set("options", strings(List.of("ro", "nosuid", "nodev",
                            "noexec", "size=4k", "mode=555")));
                } else if (masked) {
                    m.put("type", "bind").put("source", c.mountDir().resolve("masked").toString())
                            .set("options", strings(List.of("bind", "ro", "nosuid", "nodev", "noexec")));
                    needEmptyFile();
                } else {
                    m.put("type", "bind").put("source", host.toString()).set("options", strings(List.of("rbind", "ro")));
                }
                added.add(m);
                rewrites.add("linux." + field + " " + path + " as a " + (masked && f.kind() == SpecPolicy.HostFile.Kind.DIRECTORY
                        ? "read-only tmpfs" : masked ? "read-only empty file" : "read-only bind of " + host));
            }
        }
        if (!added.isEmpty()) {
            ArrayNode mounts = json.get("mounts") instanceof ArrayNode a ? a : json.putArray("mounts");
            added.forEach(mounts::add);
            changed();
        }
        if (mootCount > 0) {
            moot.add("linux.maskedPaths and readonlyPaths (" + mootCount + " under gVisor's own /proc and /sys: nothing"
                    + " of the host's is there, and writes reach only the sandbox's kernel)");
        }
    }

    /**
     * A mount with the option "rro" (recursively read-only, mount_setattr(2) MOUNT_ATTR_RDONLY
     * with AT_RECURSIVE; runc since 1.1 on kernels 5.12+) is given "ro" instead: runsc 2022-12 does
     * not know "rro": a mount of type bind fails ("unknown mount option"), one that is a bind by its
     * "rbind" option alone is mounted read-write, top and submounts (both measured); and
     * gVisor's "ro" on a bind mount is already recursive (its gofer serves the whole tree
     * read-only). "rrw" (recursively read-write) is what a bind mount is without "ro" anyway.
     */
    void recursiveReadOnly() throws GvshimException {
        JsonNode mounts = json.get("mounts");
        if (!(mounts instanceof ArrayNode list)) {
            return;
        }
        for (JsonNode n : list) {
            if (!(n instanceof ObjectNode m) || !(m.get("options") instanceof ArrayNode options)) {
                continue;
            }
            boolean rro = false;
            boolean ro = false;
            ArrayNode kept = JsonTree.nodes().arrayNode();
            for (JsonNode o : options) {
                String opt = o.asText();
                rro |= opt.equals("rro");
                ro |= opt.equals("ro");
                if (!opt.equals("rro") && !opt.equals("rrw")) {
                    kept.add(o);
                }
            }
            if (kept.size() == options.size()) {
                continue;
            }
            if (rro && !ro) {
                kept.add("ro");
                rewrites.add("mount " + m.path("destination").asText("?") + " option rro as ro (gVisor's ro is recursive)");
            }
            m.set("options", kept);
            changed();
        }
    }

    /**
     * The mount that holds {@code path} in the container (the last one whose destination
     * contains it, later mounts covering earlier ones): gVisor's own /proc or /sys, a host
     * directory (a bind mount's source, or the root file system), or a file system of the
     * sandbox's own (tmpfs...: {@code host} null).
     */
    private record Covering(String destination, String type, Path host) {
        boolean gvisorOwn() {
            return host == null && (type.equals("proc") || type.equals("sysfs"));
        }
    }

    private Covering covering(String path) throws GvshimException {
        Covering cov = null;
        ArrayNode mounts = array(json, "mounts", "mounts");
        if (mounts != null) {
            for (JsonNode m : mounts) {
                String dst = m.path("destination").asText("");
                String d = dst.isEmpty() ? "" : Path.of("/").resolve(dst).normalize().toString();
                if (!d.isEmpty() && (path.equals(d) || path.startsWith(d.equals("/") ? "/" : d + "/"))) {
                    String source = m.path("source").asText("");
                    cov = SpecPolicy.bind(m) ? new Covering(d, "bind", source.isEmpty() ? null : hostPath(source))
                            : new Covering(d, m.path("type").asText(""), null);
                }
            }
        }
        if (cov != null) {
            return cov;
        }
        // runsc/boot/vfs.go compileMounts adds proc at /proc and sysfs at /sys when the spec has none
        if (path.equals("/proc") || path.startsWith("/proc/")) {
            return new Covering("/proc", "proc", null);
        }
        if (path.equals("/sys") || path.startsWith("/sys/")) {
            return new Covering("/sys", "sysfs", null);
        }
        String root = text(object(json, "root", "root"), "path", "root.path");
        return new Covering("/", "root", root == null ? null : hostPath(root));
    }
}
