package dev.gvshim.oci;

import dev.gvshim.failure.Versions;
import java.util.List;

/**
 * Spec generation, after runc's libcontainer/specconv: {@link #example} is what `runc spec`
 * writes, {@link #toRootless} is runc's ToRootless, the one place a spec is rewritten for a
 * caller without root.
 */
public final class Specs {
    public static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** runc's default capability set for a container process. */
    public static final List<String> DEFAULT_CAPS = List.of("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
    public static final List<String> MASKED_PATHS = List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
            "/proc/scsi");
    public static final List<String> READONLY_PATHS = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");

    private Specs() {
    }

    /** What `runc spec` writes (runc 1.1 specconv.Example), with {@code args} as the process. */
    public static Spec example(List<String> args, String hostname) {
        Spec s = Spec.empty().ociVersion(Versions.SPEC);
        s.process().terminal(true).user(0, 0).args(args)
                .env(List.of("PATH=" + DEFAULT_PATH, "TERM=xterm")).cwd("/")
                .capabilities(DEFAULT_CAPS, true)
                .rlimit("RLIMIT_NOFILE", 1024, 1024)
                .noNewPrivileges(true);
        s.root().path("rootfs").readonly(true);
        s.hostname(hostname);
        s.addMount(Mount.of("/proc", "proc", "proc", List.of()));
        s.addMount(Mount.of("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
        s.addMount(Mount.of("/dev/pts", "devpts", "devpts",
                List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")));
        s.addMount(Mount.of("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")));
        s.addMount(Mount.of("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")));
        s.addMount(Mount.of("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")));
        s.addMount(Mount.of("/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "noexec", "nodev", "relatime", "ro")));
        LinuxSection linux = s.linux();
        linux.json().putObject("resources").putArray("devices").addObject().put("allow", false).put("access", "rwm");
        linux.namespaces(List.of("pid", "network", "ipc", "uts", "mount"));
        linux.paths("maskedPaths", MASKED_PATHS).paths("readonlyPaths", READONLY_PATHS);
        return s;
    }

    /**
     * Rewrites a spec for a caller without root (runc specconv.ToRootless): a user namespace
     * mapping the caller to 0, no network namespace (a rootless caller cannot configure one),
     * /sys as a read-only rbind (sysfs needs a network namespace owned by the user namespace),
     * no uid=/gid= mount options (those ids are not mapped), and no cgroup resources.
     */
    public static Spec toRootless(Spec spec, long uid, long gid) {
        LinuxSection linux = spec.linux();
        linux.removeNamespace("network").addNamespace("user");
        linux.mappings("uidMappings", 0, uid, 1).mappings("gidMappings", 0, gid, 1);
        return rootlessCommon(spec, true);
    }

    /**
     * The same rewrite for a spec that runsc runs inside a user namespace gvshim made and holds
     * (a rootless container of the runtime): no user namespace or mappings in the spec (runsc
     * is uid 0 of that namespace and maps nothing itself), a network namespace without a path
     * (the caller's, e.g. Docker's, is not ours to join), no cgroups, and root.path made
     * absolute against the original bundle, since this config.json is written elsewhere. /sys
     * stays gVisor's own sysfs: a bind of the host's /sys would show the sandbox host devices.
     */
    public static Spec toRootlessInUserns(Spec spec, java.nio.file.Path bundle) {
        LinuxSection linux = spec.linux();
        linux.removeNamespace("user").remove("uidMappings").remove("gidMappings");
        linux.removeNamespace("network").addNamespace("network");
        linux.remove("cgroupsPath");
        spec.root().path(bundle.resolve(spec.root().path()).normalize().toString());
        return rootlessCommon(spec, false);
    }

    private static Spec rootlessCommon(Spec spec, boolean bindSys) {
        spec.linux().remove("resources");
        for (Mount m : spec.mounts()) {
            if (bindSys && "/sys".equals(m.destination())) {
                m.type("none").source("/sys").options(List.of("rbind", "nosuid", "noexec", "nodev", "ro"));
            } else {
                List<String> kept = m.options().stream()
                        .filter(o -> !o.startsWith("gid=") && !o.startsWith("uid=")).toList();
                if (kept.size() != m.options().size()) {
                    m.options(kept);
                }
            }
        }
        return spec;
    }
}
