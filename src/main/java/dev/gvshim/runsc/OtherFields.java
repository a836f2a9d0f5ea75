package dev.gvshim.runsc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The process's and the rest of linux's fields: AppArmor and SELinux labels, capabilities,
 * rlimits, the umask; intelRdt, sysctl, personality, devices, and the resource limits runsc
 * would drop without cgroups.
 */
final class OtherFields extends SpecFields {
    /** runsc 2022-12's capability names (runsc/specutils/specutils.go capFromName): CAP_CHOWN (0) .. CAP_AUDIT_READ (37). */
    static final List<String> CAPS_2022 = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
            "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
            "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
            "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN",
            "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
            "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
            "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ");
    /** Known to runsc from release-20230227 (bd9010d4c). */
    static final List<String> CAPS_2023 = List.of("CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE");
    /** pkg/sentry/limits/linux.go FromLinuxResourceName: any other type fails the container ("unknown resource"). */
    static final Set<String> RLIMITS = Set.of("RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE",
            "RLIMIT_LOCKS", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
            "RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK");
    /** AppArmor profiles container engines apply by default: their rules are all about the host kernel's /proc, /sys, mount and ptrace, which gVisor keeps from the container anyway. */
    static final Set<String> DEFAULT_APPARMOR = Set.of("docker-default", "cri-containerd.apparmor.d", "crio-default");

    OtherFields(SpecPolicy.Context c, ObjectNode json, Out out) {
        super(c, json, out);
    }

    /**
     * createContainer and startContainer hooks run in the container's own namespaces (runtime-spec
     * config.md "Hooks"). gVisor's container has none on the host: its root is served by the gofer
     * and its processes live in gVisor's kernel, so runsc 2022-12 skips them with a line in its own
     * log ("CreateContainer hook skipped because running inside container namespace is not
     * supported"). A hook a caller relies on (bind mounts, ldconfig) would silently not run: refused.
     */
    void hooks() throws GvshimException {
        ObjectNode hooks = object(json, "hooks", "hooks");
        if (hooks == null) {
            return;
        }
        for (String kind : List.of("createContainer", "startContainer")) {
            JsonNode h = hooks.get(kind);
            if (h != null && h.isArray() && !h.isEmpty()) {
                throw refuse("HOOK_UNSUPPORTED", "hooks." + kind, "such a hook runs in the container's own namespaces,"
                        + " which a gVisor container does not have on the host (its root is served by runsc's gofer and its"
                        + " processes run in gVisor's kernel), so runsc skips it", "run it as a prestart or createRuntime"
                        + " hook on the host, or run this container with runc");
            }
        }
    }

    void process() throws GvshimException {
        ObjectNode p = object(json, "process", "process");
        if (p == null) {
            return;
        }
        String apparmor = text(p, "apparmorProfile", "process.apparmorProfile");
        if (apparmor != null && !apparmor.isEmpty() && !apparmor.equals("unconfined")) {
            // runsc/specutils/specutils.go:106: "AppArmor profile %q is being ignored"
            if (DEFAULT_APPARMOR.contains(apparmor) || apparmor.startsWith("containers-default-")) {
                moot.add("process.apparmorProfile " + apparmor + " (an engine's default profile: it keeps a container"
                        + " from the host kernel's mount, /proc, /sys and ptrace, which the container's processes never"
                        + " reach in gVisor)");
            } else {
                throw refuse("SPEC_APPARMOR", "process.apparmorProfile", "runsc does not apply AppArmor profiles (it"
                        + " logs \"being ignored\"), and " + apparmor + " is not an engine's default whose rules gVisor"
                        + " enforces anyway, so what it forbids would be allowed", "use the engine's default profile or"
                        + " apparmor=unconfined for this container, or run it with runc");
            }
        }
        String label = text(p, "selinuxLabel", "process.selinuxLabel");
        if (label != null && !label.isEmpty()) {
            // runsc/specutils/specutils.go:101 refuses it too, with "SELinux is not supported"
            throw selinux("process.selinuxLabel", label);
        }
        capabilities(object(p, "capabilities", "process.capabilities"));
        ArrayNode rlimits = array(p, "rlimits", "process.rlimits");
        if (rlimits != null) {
            for (JsonNode r : rlimits) {
                String type = r.path("type").asText("");
                if (!RLIMITS.contains(type)) {
                    // runsc/boot/limits.go createLimitSet: "unknown resource", the container fails
                    throw refuse("SPEC_RLIMIT", "process.rlimits", "runsc does not know the limit \"" + type
                            + "\" and would fail the container", "remove it (known: " + String.join(", ",
                            RLIMITS.stream().sorted().toList()) + ")");
                }
            }
        }
        JsonNode umask = p.path("user").get("umask");
        if (!absent(umask) && umask.canConvertToLong()) {
            long m = umask.asLong() & 0777;
            // runsc/boot/vfs.go: every process starts with umask 0022 until release-20241021
            if (m != 022 && !release().appliesUmask()) {
                if ((m & ~022L) != 0) {
                    throw refuse("SPEC_UMASK", "process.user.umask", String.format(Locale.ROOT, "runsc %s gives every"
                            + " process umask 0022 (it applies the spec's from 2024-10), so files would be created"
                            + " more open than %04o allows", release().label(), m), "remove the umask (files get 0022),"
                            + " or set the modes the files need explicitly");
                }
                moot.add(String.format(Locale.ROOT, "process.user.umask %04o (runsc %s uses 0022, which is stricter)", m,
                        release().label()));
            }
        }
    }

    /**
     * runsc applies the bounding, effective, inheritable and permitted sets
     * (specutils.Capabilities) and fails on a name it does not know; ambient capabilities only
     * from release-20260615 (before, a process keeps fewer capabilities after exec, never more).
     */
    private void capabilities(ObjectNode caps) throws GvshimException {
        if (caps == null) {
            return;
        }
        Set<String> removed = new LinkedHashSet<>();
        for (String set : List.of("bounding", "effective", "inheritable", "permitted", "ambient")) {
            List<String> names = strings(caps, set, "process.capabilities." + set);
            List<String> kept = new ArrayList<>();
            for (String n : names) {
                if (CAPS_2022.contains(n) || (CAPS_2023.contains(n) && release().knowsNewCapabilities())) {
                    kept.add(n);
                } else {
                    removed.add(n);
                }
            }
            if (kept.size() != names.size()) {
                caps.set(set, strings(kept));
                changed();
            }
        }
        if (!removed.isEmpty()) {
            moot.add("process.capabilities " + String.join(", ", removed) + " (removed: runsc " + release().label()
                    + " would fail the container on them, and gVisor implements nothing they allow)");
            rewrites.add("process.capabilities without " + String.join(", ", removed));
        }
        if (!strings(caps, "ambient", "process.capabilities.ambient").isEmpty()) {
            moot.add("process.capabilities.ambient (runsc before 2026-06 does not apply them: a process has fewer"
                    + " capabilities after exec, never more)");
        }
    }

    void linux() throws GvshimException {
        ObjectNode linux = object(json, "linux", "linux");
        if (linux == null) {
            return;
        }
        String mountLabel = text(linux, "mountLabel", "linux.mountLabel");
        if (mountLabel != null && !mountLabel.isEmpty()) {
            throw selinux("linux.mountLabel", mountLabel);
        }
        if (!absent(linux.get("intelRdt"))) {
            throw refuse("SPEC_INTEL_RDT", "linux.intelRdt", "runsc does not place the sandbox in a resctrl group, so the"
                    + " cache and memory-bandwidth partition it asks for would not exist", "remove linux.intelRdt, or run"
                    + " this container with runc");
        }
        ObjectNode sysctl = object(linux, "sysctl", "linux.sysctl");
        if (sysctl != null && !sysctl.isEmpty()) {
            List<String> keys = new ArrayList<>();
            sysctl.fieldNames().forEachRemaining(keys::add);
            ignored.add("linux.sysctl " + String.join(", ", keys) + ": not applied (runsc ignores linux.sysctl; the"
                    + " sandbox's kernel keeps gVisor's own values, and none of them is the host's)");
        }
        ObjectNode personality = object(linux, "personality", "linux.personality");
        if (personality != null && (!personality.path("domain").asText("LINUX").equals("LINUX")
                || !personality.path("flags").isEmpty())) {
            ignored.add("linux.personality " + JsonTree.compact(personality) + ": not applied (runsc ignores it)");
        }
        ArrayNode devices = array(linux, "devices", "linux.devices");
        if (devices != null && !devices.isEmpty()) {
            List<String> paths = new ArrayList<>();
            devices.forEach(d -> paths.add(d.path("path").asText("?")));
            moot.add("linux.devices " + String.join(", ", paths) + " (not created: the sandbox has only gVisor's own"
                    + " devices, no host device)");
        }
        if (!c.cgroups()) {
            resources(object(linux, "resources", "linux.resources"));
        } else {
            pidsLimit(object(linux, "resources", "linux.resources"));
        }
    }

    /**
     * A pids limit cannot be given to runsc: it writes it to the sandbox's host cgroup (pids.max),
     * which counts gVisor's own host threads (sentry and gofer: ~40 for an idle container, more
     * after each exec), not the container's processes. A limit meant for the container kills the
     * sandbox when the sentry next makes a thread (Go's "newosproc" fatal error), or keeps it from
     * starting (runc's tests' limit of 20: "waiting for sandbox to start: EOF"); measured with
     * runsc 2022-12. runc fails a fork inside with EAGAIN and the container lives.
     */
    private void pidsLimit(ObjectNode r) throws GvshimException {
        long limit = r == null ? 0 : r.path("pids").path("limit").asLong(0);
        if (limit > 0) {
            throw refuse("SPEC_PIDS_LIMIT", "linux.resources.pids.limit (" + limit + ")", "runsc applies it to the"
                    + " sandbox's host cgroup, where it counts gVisor's own threads (about 40 for an idle container),"
                    + " not the container's processes: the sandbox would be killed long before the container reached"
                    + " it", "remove the pids limit (docker run without --pids-limit); gVisor's processes live in the"
                    + " sandbox's memory, so a memory limit bounds them");
        }
    }

    /**
     * Limits runsc would drop: gvshim runs this sandbox with --ignore-cgroups (gvshim run, and a
     * runtime caller without root, cannot create cgroups). Device rules are not among them:
     * {@link #DeviceFields#check} enforces those without cgroups.
     */
    private void resources(ObjectNode r) throws GvshimException {
        if (r == null) {
            return;
        }
        List<String> set = new ArrayList<>();
        ObjectNode mem = object(r, "memory", "linux.resources.memory");
        if (mem != null) {
            for (String k : List.of("limit", "reservation", "swap", "kernel", "kernelTCP")) {
                if (mem.path(k).asLong(0) > 0) {
                    set.add("memory." + k);
                }
            }
        }
        ObjectNode cpu = object(r, "cpu", "linux.resources.cpu");
        if (cpu != null) {
            for (String k : List.of("shares", "quota", "realtimeRuntime", "idle")) {
                if (cpu.path(k).asLong(0) > 0) {
                    set.add("cpu." + k);
                }
            }
            for (String k : List.of("cpus", "mems")) {
                if (!cpu.path(k).asText("").isEmpty()) {
                    set.add("cpu." + k);
                }
            }
        }
        if (r.path("pids").path("limit").asLong(0) > 0) {
            set.add("pids.limit");
        }
        ObjectNode io = object(r, "blockIO", "linux.resources.blockIO");
        if (io != null) {
            if (io.path("weight").asLong(0) > 0 || io.path("leafWeight").asLong(0) > 0) {
                set.add("blockIO.weight");
            }
            for (String k : List.of("weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice",
                    "throttleReadIOPSDevice", "throttleWriteIOPSDevice")) {
                if (io.path(k).isArray() && !io.path(k).isEmpty()) {
                    set.add("blockIO." + k);
                }
            }
        }
        for (String k : List.of("hugepageLimits", "rdma", "unified")) {
            if ((r.path(k).isArray() || r.path(k).isObject()) && !r.path(k).isEmpty()) {
                set.add(k);
            }
        }
        if (r.path("network").path("classID").asLong(0) > 0 || !r.path("network").path("priorities").isEmpty()) {
            set.add("network");
        }
        if (!set.isEmpty()) {
            throw refuse("SPEC_RESOURCES", "linux.resources", "it limits " + String.join(", ", set) + ", and this sandbox"
                    + " runs without cgroups of its own (" + (c.mode() == SpecPolicy.Mode.RUN ? "gvshim run" : "a runtime caller"
                    + " without root") + " cannot create them), so the limits would not exist", c.mode() == SpecPolicy.Mode.RUN
                    ? "remove them and put gvshim itself in a cgroup with those limits (e.g. systemd-run --user --scope"
                    + " -p MemoryMax=512M gvshim run ...)" : "remove the limits, or run the runtime as root");
        }
    }
}
