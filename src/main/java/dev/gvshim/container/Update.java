package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `update`: runc writes the new limits to the container's cgroup; runsc 2022-12 has no update
 * command, so gvshim writes them itself ({@link CgroupWrites}) to the cgroup runsc put the
 * sandbox in, which holds the sandbox's processes (runsc-sandbox: the whole container, gVisor's
 * kernel included; its gofer), as runsc's own state records it. A limit there covers gVisor's own
 * memory and threads as well as the container's. A paused container is updated as a running one
 * (runsc pauses inside the sandbox, not with the freezer). gVisor's kernel keeps the CPU count
 * and total memory runsc gave it at start (runsc/sandbox/sandbox.go reads them from the cgroup
 * once): the host enforces the new limits, the container's nproc and MemTotal do not change.
 *
 * <p>Refused, each in one line: a stopped container (runc's "container not running"); a rootless
 * container (its sandbox runs with --ignore-cgroups in its caller's cgroup: there is none of its
 * own to write, as create's SPEC_RESOURCES says); a pids limit (SPEC_PIDS_LIMIT: the host's
 * pids.max counts gVisor's threads); a container of a pod, whose limits are its sandbox's.
 */
public final class Update {
    /** cgroup v1 controllers runc's fs manager writes in `update`, in its order. */
    private static final List<String> V1 = List.of("cpuset", "memory", "cpu", "pids", "blkio");

    private Update() {
    }

    /** {@code options}: runc's option names (no dashes) and values as given; {@code resources}: -r FILE|-, or null. */
    public static int run(RuntimeCall rc, String id, String resources, Map<String, String> options) throws GvshimException {
        for (String o : List.of("pids-limit", "blkio-weight")) {
            UpdateRequest.checkInt(o, options.get(o)); // refused as runc's command line parser does, before any lookup
        }
        Container ct = rc.lookup.existing(id);
        UpdateRequest r = resources != null ? UpdateRequest.ofJson(read(rc, resources)) : UpdateRequest.ofOptions(options);
        refuseWhatCannotBeApplied(rc, id, r, options);
        String status = rc.lookup.status(ct);
        if (status == null || status.equals("stopped")) {
            throw RuntimeFailures.notRunning(id); // runc's text (libcontainer ErrNotRunning)
        }
        CgroupWrites.Where where = where(rc, ct, r);
        List<String> notRolledBack = new ArrayList<>();
        try {
            CgroupWrites.apply(r, where, CgroupWrites.Fs.system(), notRolledBack);
        } catch (CgroupWrites.Refused e) {
            // runc's Set puts the previous values back too
            throw RuntimeFailures.of("UPDATE_WRITE_FAILED", "cannot update container " + id + ": " + e.getMessage()
                    + (e.getMessage().startsWith(e.path) ? "" : " (" + e.path + ")") + (notRolledBack.isEmpty()
                    ? "; the limits were left as they were" : "; " + String.join(", ", notRolledBack) + " could not be put"
                    + " back"));
        }
        return 0;
    }

    private static byte[] read(RuntimeCall rc, String resources) throws GvshimException {
        try {
            return resources.equals("-") ? rc.call.stdio().in().readAllBytes() : Files.readAllBytes(rc.call.absolute(resources));
        } catch (IOException e) {
            throw RuntimeFailures.args("cannot read --resources " + resources + ": " + IoError.reason(e));
        }
    }

    private static void refuseWhatCannotBeApplied(RuntimeCall rc, String id, UpdateRequest r, Map<String, String> options)
            throws GvshimException {
        String unifiedPids = r.unified().get("pids.max");
        if (r.pids() > 0 || unifiedPids != null && !unifiedPids.strip().equals("max")) {
            throw RuntimeFailures.of("SPEC_PIDS_LIMIT", "cannot update container " + id + " with a pids limit ("
                    + (r.pids() > 0 ? r.pids() : unifiedPids) + "): the sandbox's host cgroup counts gVisor's own threads"
                    + " (about 40 for an idle container), not the container's processes, so the sandbox would be killed long"
                    + " before the container reached it; leave the pids limit out (a memory limit bounds gVisor's processes)");
        }
        if (!r.unsupported().isEmpty()) {
            throw RuntimeFailures.of("UPDATE_UNSUPPORTED", "cannot update container " + id + ": " + String.join(", ",
                    r.unsupported()) + " cannot be changed by update (runc's update ignores them); leave them out of"
                    + " --resources, or recreate the container with them");
        }
        for (String[] rdt : new String[][] {{"l3-cache-schema", "Intel RDT/CAT: l3 cache schema is not enabled"},
            {"mem-bw-schema", "Intel RDT/MBA: memory bandwidth schema is not enabled"}}) {
            if (!options.getOrDefault(rdt[0], "").isEmpty()) {
                // runc's words: without resctrl mounted it is not enabled; with it, no gvshim container has an Intel RDT
                // configuration to update (create refuses linux.intelRdt: SPEC_INTEL_RDT)
                throw RuntimeFailures.of("UPDATE_UNSUPPORTED", resctrl() ? "updating a non-existent Intel RDT configuration"
                        + " is not supported (container " + id + " has none: gVisor's sandbox does not apply one)" : rdt[1]);
            }
        }
        if (r.kernel()) {
            rc.log.warning("Kernel memory settings are ignored and will be removed"); // runc's warning
        }
    }

    private static boolean resctrl() {
        String mounts = CgroupWrites.Fs.system().read("/proc/self/mountinfo");
        return mounts != null && mounts.contains(" - resctrl ");
    }

    /** The sandbox's cgroup, from runsc's state of the container (its sandbox's "cgroup"), or the refusal why there is none. */
    private static CgroupWrites.Where where(RuntimeCall rc, Container ct, UpdateRequest r) throws GvshimException {
        String id = ct.id();
        if (ct.rootless() || ct.flags().contains("--ignore-cgroups")) {
            throw noCgroup(id, "it runs without cgroups of its own (a runtime caller without root cannot create them: runsc"
                    + " runs its sandbox with --ignore-cgroups, in the caller's cgroup), so the limits would not exist",
                    "recreate the container with the runtime run as root, or limit the runtime from outside (systemd-run"
                    + " --user --scope -p MemoryMax=512M ...)");
        }
        Path state = rc.store.runscState(ct.runscId());
        JsonNode st;
        try {
            st = state == null ? null : JsonTree.read(Files.readAllBytes(state));
        } catch (IOException e) {
            throw RuntimeFailures.stateIo("cannot read runsc's state of " + id + " (" + state + "): " + IoError.reason(e));
        }
        if (st == null) {
            throw RuntimeFailures.notRunning(id);
        }
        String sandbox = st.path("sandbox").path("id").asText("");
        if (!sandbox.isEmpty() && !sandbox.equals(ct.runscId())) {
            Container owner = rc.store.byRunscId().get(sandbox);
            String pod = owner == null ? sandbox : owner.id();
            throw noCgroup(id, "it runs in the sandbox of container " + pod + " (a pod), whose cgroup holds the limits of all"
                    + " its containers; runsc's cgroup for " + id + " alone has none of its processes", "update " + pod);
        }
        CgroupWrites.Where w = where(st.path("sandbox").path("cgroup"), "/sys/fs/cgroup");
        if (w == null) {
            throw noCgroup(id, "runsc's state records no cgroup for its sandbox", "recreate the container");
        }
        CgroupWrites.Fs fs = CgroupWrites.Fs.system();
        for (String dir : w.v2() ? w.dirs().values() : r.v1Controllers().stream().map(w::dir).toList()) {
            if (!fs.exists(dir)) {
                throw noCgroup(id, "its cgroup " + dir + " does not exist (removed while the container runs?)",
                        "recreate the container");
            }
            if (!Files.isWritable(Path.of(dir))) {
                throw noCgroup(id, "its cgroup " + dir + " is not writable by uid " + rc.euid, "run update as root");
            }
        }
        int pid = st.path("sandbox").path("pid").asInt(0);
        String procCgroup = pid > 0 ? fs.read("/proc/" + pid + "/cgroup") : null;
        String mountinfo = fs.read("/proc/self/mountinfo");
        String other = procCgroup == null || mountinfo == null ? null : elsewhere(w, r.v1Controllers(), procCgroup, mountinfo);
        if (other != null) {
            throw noCgroup(id, "its sandbox (pid " + pid + ") is in the cgroup " + other + ", not in the one runsc recorded for"
                    + " it (" + String.join(", ", new java.util.LinkedHashSet<>(w.dirs().values())) + "), which gvshim will"
                    + " not change in its name", "move the sandbox back, or recreate the container");
        }
        return w;
    }

    private static GvshimException noCgroup(String id, String why, String fix) {
        return RuntimeFailures.of("UPDATE_NO_CGROUP", "cannot update container " + id + ": " + why + "; " + fix);
    }

    /**
     * The directories of the cgroup runsc recorded ({@code cgroup}: its sandbox's CgroupJSON,
     * runsc/cgroup/cgroup.go), below {@code root}, where runsc itself assumes the hierarchies are
     * mounted: v1 {"cgroupv1":{"name","parents"}}: per controller ROOT/CONTROLLER/PARENT/NAME
     * (cgroupV1.MakePath); v2 {"cgroupv2":{"mountpoint","path"}}. Null when runsc made none
     * (--ignore-cgroups, or its systemd driver, which gvshim never asks for).
     */
    static CgroupWrites.Where where(JsonNode cgroup, String root) {
        JsonNode v1 = cgroup.path("cgroupv1");
        if (v1.isObject() && !v1.path("name").asText("").isEmpty()) {
            Map<String, String> dirs = new LinkedHashMap<>();
            Map<String, String> paths = new LinkedHashMap<>();
            for (String c : V1) {
                String parent = v1.path("parents").path(c).asText("");
                paths.put(c, Path.of("/", parent, v1.path("name").asText()).normalize().toString());
                dirs.put(c, Path.of(root, c, paths.get(c)).normalize().toString());
            }
            return new CgroupWrites.Where(false, dirs, paths);
        }
        JsonNode v2 = cgroup.path("cgroupv2");
        if (v2.isObject() && !v2.path("path").asText("").isEmpty()) {
            String mount = v2.path("mountpoint").asText(root);
            String path = Path.of("/", v2.path("path").asText()).normalize().toString();
            return new CgroupWrites.Where(true, Map.of("", Path.of(mount, path).normalize().toString()), Map.of("", path));
        }
        return null;
    }

    /**
     * Where the sandbox process is, for a controller the update writes, when that is not the
     * cgroup runsc recorded (null: it is there). {@code procCgroup}: the sandbox's /proc/PID/cgroup.
     * A sandbox moved elsewhere (or a record that does not describe it) must not have another
     * cgroup's limits changed in its name.
     */
    static String elsewhere(CgroupWrites.Where w, java.util.Collection<String> controllers, String procCgroup, String mountinfo) {
        for (String c : w.v2() ? List.of("memory") : controllers) {
            Cgroups.Place p = Cgroups.place(c, procCgroup, mountinfo);
            String recorded = w.paths().get(w.v2() ? "" : c);
            if (p == null || recorded == null) {
                continue;
            }
            String actual = p.dir().substring(p.mount().length());
            if (!(actual.isEmpty() ? "/" : actual).equals(recorded)) {
                return p.dir();
            }
        }
        return null;
    }
}
