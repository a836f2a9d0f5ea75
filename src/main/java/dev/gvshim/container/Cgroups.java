package dev.gvshim.container;

import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cgroup that applies {@code gvshim run --memory} and {@code --cpus} (see {@link RunLimits}):
 * a new cgroup below the caller's own, where the caller may create one, that runsc is started
 * in (its sandbox process and gofer inherit it). runsc itself runs with --ignore-cgroups.
 *
 * <p>Where ({@link #plan}, pure, for run and doctor alike), per controller, from
 * /proc/PID/cgroup and /proc/self/mountinfo:
 * <ul>
 * <li>cgroup v1 (a hierarchy mounted with the controller): the caller's cgroup directory must be
 * writable, which on v1 means root (v1 has no safe delegation to other users, cgroups(7));</li>
 * <li>cgroup v2: the caller's cgroup must be delegated to the caller (cgroup.procs,
 * cgroup.subtree_control and the directory writable: systemd's Delegate=yes) with the
 * controller in its cgroup.controllers. v2 lets no cgroup with processes give a controller to
 * its children ("no internal processes", cgroup-v2.rst): when the controller is not yet
 * enabled in its cgroup.subtree_control, the processes in it are first moved to a leaf
 * cgroup, gvshim-caller (what a runtime started by `systemd-run --user --scope -p Delegate=yes`
 * must do).</li>
 * </ul>
 * Otherwise the limit is refused with the reason (LIMIT_NO_CGROUP).
 */
public final class Cgroups {
    private Cgroups() {
    }

    /** What the plan reads of the host: injected for the tests. */
    public interface Host {
        /** The file's text, or null when it cannot be read. */
        String read(String path);

        /** access(2) W_OK: whether the caller may write the file, or create entries in the directory. */
        boolean writable(String path);

        /** The production host. */
        static Host system() {
            return new Host() {
                @Override
                public String read(String path) {
                    return readOrNull(path);
                }

                @Override
                public boolean writable(String path) {
                    return Files.isWritable(Path.of(path));
                }
            };
        }
    }

    /** One step of applying a plan. */
    public sealed interface Op {
        /** mkdir(2) of a cgroup directory. */
        record Mkdir(String path) implements Op {
        }

        /** A value written to a cgroup file. */
        record Write(String path, String value) implements Op {
        }

        /** Every process of one cgroup moved to another (v2: a cgroup that gives controllers to children has none). */
        record MoveAll(String fromProcs, String toProcs) implements Op {
        }
    }

    /**
     * @param ops     what to do before the sandbox's first process exists, in order
     * @param join    the cgroup.procs files the sandbox's first process is written to
     * @param created the directories created (removed, deepest first, after the run)
     * @param what    the limits, as options ("--memory 512m, --cpus 1.5")
     * @param note    what --verbose says
     * @param origins the cgroup.procs of the caller's own cgroups (where a process that joined goes back)
     */
    public record Plan(List<Op> ops, List<String> join, List<String> created, String what, String note, List<String> origins) {
        /** RUN_DIR/cgroups for gvshim-waiter: "return PROCS" lines, then the cgroups to remove after the run. */
        public String waiterFile() {
            StringBuilder b = new StringBuilder();
            origins.forEach(o -> b.append("return ").append(o).append('\n'));
            created.forEach(d -> b.append(d).append('\n'));
            return b.toString();
        }
    }

    /** A controller's hierarchy: v2 or not, its mount point, and the caller's cgroup directory in it. */
    record Place(String controller, boolean v2, String mount, String dir) {
    }

    /**
     * The plan for {@code limits} (which {@link RunLimits#needsCgroup()}), in a cgroup named
     * gvshim-{@code name}; {@code procCgroup} is /proc/PID/cgroup of the process whose cgroup
     * is the caller's, {@code mountinfo} /proc/self/mountinfo, {@code uid} the caller's.
     */
    public static Plan plan(RunLimits limits, String name, String procCgroup, String mountinfo, int uid, Host h)
            throws GvshimException {
        List<String> controllers = new ArrayList<>();
        if (limits.memory() != null) {
            controllers.add("memory");
        }
        if (limits.cpus() != null) {
            controllers.add("cpu");
        }
        List<Op> ops = new ArrayList<>();
        List<String> join = new ArrayList<>();
        List<String> created = new ArrayList<>();
        List<String> where = new ArrayList<>();
        List<String> origins = new ArrayList<>();
        Map<String, Boolean> v2Prepared = new LinkedHashMap<>();
        for (String c : controllers) {
            Place p = place(c, procCgroup, mountinfo);
            if (p == null) {
                throw refuse(limits, c, "this host has no cgroup hierarchy with the " + c + " controller (/proc/self/mountinfo)",
                        null);
            }
            String mine = p.dir() + "/gvshim-" + name;
            if (!p.v2()) {
                if (!h.writable(p.dir())) {
                    throw refuse(limits, c, "the cgroups here are version 1, which gives a user other than root no cgroup of"
                            + " their own (" + p.dir() + " is not writable by uid " + uid + "), and gVisor has no " + c
                            + " limit of its own", "v1");
                }
                ops.add(new Op.Mkdir(mine));
                created.add(mine);
                v1Files(c, limits, mine, ops);
                join.add(mine + "/cgroup.procs");
                origins.add(p.dir() + "/cgroup.procs");
                where.add(c + " in " + mine);
                continue;
            }
            String enabled = h.read(p.dir() + "/cgroup.controllers");
            if (enabled == null || !List.of(enabled.strip().split("\\s+")).contains(c)) {
                throw refuse(limits, c, "the " + c + " controller is not delegated to your cgroup " + p.dir()
                        + " (its cgroup.controllers: " + (enabled == null ? "unreadable" : enabled.isBlank() ? "none"
                        : enabled.strip()) + ")", "v2");
            }
            if (!h.writable(p.dir()) || !h.writable(p.dir() + "/cgroup.procs") || !h.writable(p.dir() + "/cgroup.subtree_control")) {
                throw refuse(limits, c, "your cgroup " + p.dir() + " is not delegated to you (uid " + uid + " cannot write"
                        + " it), and gVisor has no " + c + " limit of its own", "v2");
            }
            if (!v2Prepared.containsKey(p.dir())) {
                v2Prepared.put(p.dir(), true);
                ops.add(new Op.Mkdir(mine));
                created.add(mine);
                join.add(mine + "/cgroup.procs");
                origins.add(p.dir() + "/cgroup.procs");
                where.add("cgroup " + mine);
            }
            String subtree = h.read(p.dir() + "/cgroup.subtree_control");
            if (subtree == null || !List.of(subtree.strip().split("\\s+")).contains(c)) {
                String leaf = p.dir() + "/gvshim-caller";
                if (ops.stream().noneMatch(o -> o instanceof Op.MoveAll m && m.toProcs().equals(leaf + "/cgroup.procs"))) {
                    ops.addFirst(new Op.MoveAll(p.dir() + "/cgroup.procs", leaf + "/cgroup.procs"));
                    ops.addFirst(new Op.Mkdir(leaf));
                    origins.replaceAll(o -> o.equals(p.dir() + "/cgroup.procs") ? leaf + "/cgroup.procs" : o);
                    where.add("the processes of " + p.dir() + " moved to its leaf gvshim-caller (cgroup v2 lets only a"
                            + " cgroup without processes give controllers to its children)");
                }
                // after the move, before the sandbox's cgroup is made
                ops.add(ops.indexOf(new Op.Mkdir(mine)), new Op.Write(p.dir() + "/cgroup.subtree_control", "+" + c));
            }
            v2Files(c, limits, mine, ops);
        }
        return new Plan(List.copyOf(ops), List.copyOf(join), List.copyOf(created).reversed(), describe(limits), "limits: "
                + describe(limits) + " through the " + String.join("; ", where), List.copyOf(origins));
    }

    private static void v1Files(String c, RunLimits l, String dir, List<Op> ops) {
        if (c.equals("memory")) {
            ops.add(new Op.Write(dir + "/memory.limit_in_bytes", Long.toString(l.memory())));
        } else {
            ops.add(new Op.Write(dir + "/cpu.cfs_period_us", "100000"));
            ops.add(new Op.Write(dir + "/cpu.cfs_quota_us", Long.toString(Math.round(l.cpus() * 100000))));
        }
    }

    private static void v2Files(String c, RunLimits l, String dir, List<Op> ops) {
        ops.add(c.equals("memory") ? new Op.Write(dir + "/memory.max", Long.toString(l.memory()))
                : new Op.Write(dir + "/cpu.max", Math.round(l.cpus() * 100000) + " 100000"));
    }

    /** --memory 512m, --cpus 1.5 */
    static String describe(RunLimits l) {
        List<String> s = new ArrayList<>();
        if (l.memory() != null) {
            s.add("--memory " + RunLimits.size(l.memory()));
        }
        if (l.cpus() != null) {
            s.add("--cpus " + new java.math.BigDecimal(Double.toString(l.cpus())).stripTrailingZeros().toPlainString());
        }
        return String.join(", ", s);
    }

    private static GvshimException refuse(RunLimits l, String controller, String why, String version) {
        String option = controller.equals("memory") ? "--memory" : "--cpus";
        String fix = "v2".equals(version)
                ? "run gvshim in a cgroup delegated to you with the " + controller + " controller (systemd-run --user --scope -p"
                        + " Delegate=yes gvshim run ...), or limit gvshim from outside (systemd-run --user --scope -p "
                        + (controller.equals("memory") ? "MemoryMax=" + RunLimits.size(l.memory()).toUpperCase(java.util.Locale.ROOT)
                                : "CPUQuota=" + Math.round(l.cpus() * 100) + "%") + " gvshim run ...)"
                : "run gvshim as root, or on a host with cgroup v2 in a cgroup delegated to you (systemd-run --user --scope -p"
                        + " Delegate=yes gvshim run ...), or limit gvshim from outside (docker run " + option + ", or a cgroup"
                        + " root gives you); or leave " + option + " out";
        return new GvshimException(Failure.of("LIMIT_NO_CGROUP", "cannot apply " + option, null, why, fix));
    }

    /**
     * Where the caller's cgroup for {@code controller} is: a v1 hierarchy mounted with it, else
     * the v2 hierarchy; null when neither is mounted or the caller is in neither.
     */
    static Place place(String controller, String procCgroup, String mountinfo) {
        String v1Path = null;
        String v2Path = null;
        for (String line : procCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            if (f[0].equals("0") && f[1].isEmpty()) {
                v2Path = f[2].strip();
            } else if (List.of(f[1].split(",")).contains(controller)) {
                v1Path = f[2].strip();
            }
        }
        String v2Mount = null;
        String v2Root = null;
        for (String line : mountinfo.split("\n")) {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS (proc(5))
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] a = line.substring(0, dash).split(" ");
            String[] b = line.substring(dash + 3).split(" ");
            if (a.length < 5 || b.length < 3) {
                continue;
            }
            String mountPoint = unescape(a[4]);
            if (b[0].equals("cgroup") && v1Path != null && List.of(b[2].split(",")).contains(controller)) {
                return new Place(controller, false, mountPoint, join(mountPoint, relative(v1Path, unescape(a[3]))));
            }
            if (b[0].equals("cgroup2") && v2Mount == null) {
                v2Mount = mountPoint;
                v2Root = unescape(a[3]);
            }
        }
        return v2Mount == null || v2Path == null ? null : new Place(controller, true, v2Mount,
                join(v2Mount, relative(v2Path, v2Root)));
    }

    private static String relative(String path, String root) {
        if (root.equals("/") || !(path.equals(root) || path.startsWith(root + "/"))) {
            return path;
        }
        return path.substring(root.length());
    }

    private static String join(String mount, String path) {
        String p = path.isEmpty() || path.equals("/") ? "" : path.startsWith("/") ? path : "/" + path;
        return mount + p;
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    /** Applies {@code plan}'s ops; on failure, removes what it created and says which step failed. */
    public static void prepare(Plan plan) throws GvshimException {
        for (Op op : plan.ops()) {
            String path = switch (op) {
                case Op.Mkdir m -> m.path();
                case Op.Write w -> w.path();
                case Op.MoveAll m -> m.toProcs();
            };
            try {
                switch (op) {
                    case Op.Mkdir m -> {
                        if (!Files.isDirectory(Path.of(m.path()))) {
                            Files.createDirectory(Path.of(m.path()));
                        }
                    }
                    case Op.Write w -> Files.writeString(Path.of(w.path()), w.value());
                    case Op.MoveAll m -> {
                        String procs = Files.readString(Path.of(m.fromProcs()));
                        for (String pid : procs.split("\\s+")) {
                            if (!pid.isEmpty()) {
                                Files.writeString(Path.of(m.toProcs()), pid);
                            }
                        }
                    }
                }
            } catch (IOException e) {
                remove(plan);
                String why = dev.gvshim.diagnose.IoError.reason(e);
                boolean busy = why.contains("busy") && path.endsWith("cgroup.subtree_control");
                throw new GvshimException(Failure.of("LIMIT_CGROUP_FAILED", "cannot apply " + plan.what(),
                        path + ": " + why, busy ? "the cgroup still has processes (cgroup v2's no internal processes rule)"
                                : "the cgroup gvshim prepares for the sandbox could not be set up",
                        busy ? "run gvshim in a cgroup of its own (systemd-run --user --scope -p Delegate=yes gvshim run ...)"
                                : "check the cgroup's controllers and limits (a parent's limit lower than the one asked?)"));
            }
        }
    }

    /** Writes {@code pid} (the sandbox's first process, before it execs runsc) into the plan's cgroups. */
    public static void join(Plan plan, long pid) throws GvshimException {
        for (String procs : plan.join()) {
            try {
                Files.writeString(Path.of(procs), Long.toString(pid));
            } catch (IOException e) {
                remove(plan);
                throw new GvshimException(Failure.of("LIMIT_CGROUP_FAILED", "cannot apply " + plan.what(),
                        procs + ": " + dev.gvshim.diagnose.IoError.reason(e),
                        "the sandbox's first process could not be moved into the cgroup gvshim made for it",
                        "check the cgroup's permissions (the common ancestor's cgroup.procs must be writable too)"));
            }
        }
    }

    /** rmdir(2) of the plan's cgroups, deepest first; a cgroup with processes left (EBUSY) stays (the waiter tries again). */
    public static void remove(Plan plan) {
        for (String d : plan.created()) {
            try {
                Files.deleteIfExists(Path.of(d));
            } catch (IOException | RuntimeException e) {
                continue;
            }
        }
    }

    /** The file's text (UTF-8), or null when it cannot be read: a cgroup file that is gone or not ours. */
    static String readOrNull(String path) {
        try {
            return Files.readString(Path.of(path), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
