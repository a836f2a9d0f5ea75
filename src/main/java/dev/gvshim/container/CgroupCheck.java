package dev.gvshim.container;

import dev.gvshim.failure.GvshimException;

/**
 * runc's two checks of the cgroup a container is created in ({@code linux.cgroupsPath}), before
 * runsc puts the sandbox there (runc v1.1 libcontainer/factory_linux.go, Create):
 * <ul>
 * <li>a <b>frozen</b> cgroup is refused, in runc's words ("container's cgroup unexpectedly
 * frozen"): runsc 2022-12 would join it, freeze with it, and `create` would hang forever;</li>
 * <li>a cgroup that already has processes gets runc's warning ("container's cgroup is not
 * empty: N process(es) found"), in --log.</li>
 * </ul>
 * The directory is where runsc will look for it (runsc/cgroup/cgroup.go, new): an absolute path
 * below each hierarchy's mount point; a relative one below the cgroup of the process that runs
 * runsc on cgroup v1, below that cgroup's parent on cgroup v2. Only root's containers: a
 * rootless one runs with --ignore-cgroups.
 */
final class CgroupCheck {
    private CgroupCheck() {
    }

    /**
     * The cgroup directory runsc will use for the freezer ({@code path}: the spec's
     * cgroupsPath), or null when no hierarchy has it.
     */
    static String dir(String path, String procCgroup, String mountinfo) {
        return dir(path, Cgroups.place("freezer", procCgroup, mountinfo));
    }

    /**
     * Where runsc puts a cgroupsPath in the hierarchy {@code own} (the caller's place in it): an
     * absolute path below the hierarchy's mount, a relative one below the caller's cgroup (its
     * parent on v2, where a process sits in a leaf); null without the hierarchy.
     */
    static String dir(String path, Cgroups.Place own) {
        if (own == null) {
            return null;
        }
        if (path.startsWith("/")) {
            return own.mount() + path; // from the hierarchy's root, as mounted here
        }
        String base = own.v2() ? parent(own.dir()) : own.dir();
        return base + "/" + path;
    }

    /** Refuses a frozen cgroup; warns in --log when it has processes. */
    static void check(String path, String procCgroup, String mountinfo, Cgroups.Host h, RuntimeLog log) throws GvshimException {
        if (path == null || path.isEmpty()) {
            return;
        }
        Cgroups.Place own = Cgroups.place("freezer", procCgroup, mountinfo);
        String dir = dir(path, own);
        if (dir == null) {
            return;
        }
        String state = h.read(dir + (own.v2() ? "/cgroup.freeze" : "/freezer.state"));
        if (state != null) {
            String s = state.strip();
            // v1: FROZEN, or FREEZING (on its way there); v2: 1
            if (s.equals("FROZEN") || s.equals("FREEZING") || s.equals("1")) {
                throw RuntimeFailures.of("CGROUP_FROZEN", "container's cgroup unexpectedly frozen (" + dir
                        + "): the sandbox would freeze in it; thaw it (echo THAWED > freezer.state, or echo 0 >"
                        + " cgroup.freeze) or choose another cgroupsPath");
            }
        }
        String procs = h.read(dir + "/cgroup.procs");
        if (procs != null) {
            long n = procs.lines().filter(l -> !l.isBlank()).count();
            if (n > 0) {
                log.warning("container's cgroup is not empty: " + n + " process(es) found (" + dir + ")");
            }
        }
    }

    private static String parent(String dir) {
        int slash = dir.lastIndexOf('/');
        return slash <= 0 ? dir : dir.substring(0, slash);
    }
}
