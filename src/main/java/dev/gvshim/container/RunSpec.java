package dev.gvshim.container;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.failure.Versions;
import dev.gvshim.oci.LinuxSection;
import dev.gvshim.oci.Mount;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.Specs;
import dev.gvshim.runsc.RunscConfig.Network;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The spec runsc gets for one `gvshim run`: generated for the command (per run, with no
 * privileged step), or an existing bundle's spec with the run's overrides. Either way written into the private run directory; a user's bundle is never
 * modified.
 */
public final class RunSpec {
    /** Passed from the caller's environment even without --env. */
    private static final List<String> PASSED_BY_DEFAULT = List.of("TERM", "LANG", "LANGUAGE", "TZ");

    private RunSpec() {
    }

    /**
     * What the spec depends on besides the request. Not whether the process gets a terminal:
     * the launcher decides that per run (isatty needs FFM, the spec is built before it is
     * linked) and sets it on the result; both builders leave it false.
     */
    public record Context(Map<String, String> callerEnv, Path callerCwd, Path stateDir, String hookPath,
            List<String> hookArgs, long nofileSoft, long nofileHard) {
    }

    public static Spec generate(RunRequest r, Context c) {
        boolean hostRoot = r.rootfs().equals(Path.of("/"));
        Spec s = Spec.empty().ociVersion(Versions.SPEC);
        String cwd = r.cwd() != null ? r.cwd() : hostRoot ? c.callerCwd().toString() : "/";
        List<String> env = new ArrayList<>();
        env.add("PATH=" + (hostRoot && c.callerEnv().get("PATH") != null ? c.callerEnv().get("PATH") : Specs.DEFAULT_PATH));
        env.add("HOME=/root");
        s.process().terminal(false).user(r.uid() == null ? 0 : r.uid(), r.gid() == null ? 0 : r.gid())
                .args(r.command()).env(env).cwd(cwd)
                .capabilities(Specs.DEFAULT_CAPS, false)
                .rlimit("RLIMIT_NOFILE", c.nofileSoft(), c.nofileHard())
                .noNewPrivileges(true);
        applyEnv(s, r, c, true);
        // Writable unless --read-only: runsc puts an overlay in memory over it (RunscChoices), so the
        // command can install and write anywhere, the host's files stay untouched, and its writes
        // are gone with the sandbox (as with `runsc do`). Without the overlay it is read-only.
        s.root().path(r.rootfs().toString()).readonly(r.readOnly());
        s.hostname(r.hostname() != null ? r.hostname() : "gvshim");
        s.addMount(Mount.of("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")));
        s.addMount(Mount.of("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
        s.addMount(Mount.of("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")));
        String cwdTop = hostRoot ? tmpTop(cwd) : null;
        if (defaultTmp(r, cwd)) {
            // A read-only root still needs somewhere to write; the caller's /tmp stays hidden.
            s.addMount(Mount.of("/tmp", "tmpfs", "tmpfs", List.of("nosuid", "nodev", "mode=1777")));
            if (cwdTop != null) {
                // `cd /tmp/job && gvshim run -- ./build.sh` (CI workspaces, mktemp -d): the working directory's
                // tree under /tmp, read-only like the rest of the host, on the sandbox's own writable /tmp
                s.addMount(Mount.of(cwdTop, "bind", cwdTop, List.of("rbind", "ro")));
            }
        }
        if (hostRoot && (!c.stateDir().startsWith("/tmp") || (cwdTop != null && c.stateDir().startsWith(cwdTop)))) {
            // Other runs' specs (their environments) live there: not for this sandbox's eyes.
            s.addMount(Mount.of(c.stateDir().toString(), "tmpfs", "tmpfs", List.of("nosuid", "nodev", "noexec", "mode=700")));
        }
        if (writableHome(r, cwd)) {
            // HOME=/root: the host's is root's, unreadable to the caller the sandbox runs as (bash's
            // "/root/.bashrc: Permission denied"), read-only otherwise; an empty writable one, as /tmp
            s.addMount(Mount.of("/root", "tmpfs", "tmpfs", List.of("nosuid", "nodev", "mode=700")));
        }
        addUserMounts(s, r);
        List<String> ns = new ArrayList<>(List.of("pid", "ipc", "uts", "mount"));
        if (r.network() != Network.HOST) {
            ns.add("network");
        }
        s.linux().namespaces(ns).paths("maskedPaths", Specs.MASKED_PATHS).paths("readonlyPaths", Specs.READONLY_PATHS);
        sandboxNetwork(s, r);
        deviceRules(s, r);
        s.addHook("poststart", c.hookPath(), c.hookArgs());
        return s;
    }

    /** --network sandbox: runsc's own namespace, with slirp4netns's tap0 (native/nsexec_net.c; no path: an empty one). */
    private static void sandboxNetwork(Spec s, RunRequest r) {
        if (r.network() == Network.SANDBOX) {
            s.linux().addNamespace("network", "/proc/self/ns/net");
        }
    }

    /**
     * No host device for the command but those --mount names: runc's deny-all rule, and an
     * allow rule per character device mounted. gvshim enforces them without cgroups (nodev
     * copies of the root and of every other mount source, see SpecPolicy): with the host's /
     * as the root file system, a device node anywhere outside /dev would otherwise reach the
     * host's device through runsc's gofer.
     */
    private static void deviceRules(Spec s, RunRequest r) {
        var devices = s.linux().json().putObject("resources").putArray("devices");
        devices.addObject().put("allow", false).put("access", "rwm");
        for (RunRequest.BindMount m : r.mounts()) {
            dev.gvshim.runsc.SpecPolicy.HostFile f = dev.gvshim.runsc.SpecPolicy.HostFile.of(m.source());
            if (f.kind() == dev.gvshim.runsc.SpecPolicy.HostFile.Kind.CHAR) {
                devices.addObject().put("allow", true).put("type", "c").put("major", f.major()).put("minor", f.minor())
                        .put("access", "rwm");
            }
        }
    }

    /**
     * Whether a generated spec gets its own empty /tmp: not when the caller asked for their own
     * /tmp, and not when the working directory is /tmp itself (it would vanish under the tmpfs),
     * in which case /tmp stays the host's, read-only like the rest of the root. A working
     * directory below /tmp is bound onto the new /tmp ({@link #tmpTop}).
     */
    public static boolean defaultTmp(RunRequest r, String cwd) {
        boolean userTmp = r.mounts().stream().anyMatch(m -> m.destination().equals("/tmp")) || r.tmpfs().contains("/tmp");
        return !userTmp && !(r.rootfs().equals(Path.of("/")) && cwd.equals("/tmp"));
    }

    /** /tmp/X for a working directory /tmp/X[/...] (what is bound read-only onto the sandbox's /tmp), else null. */
    static String tmpTop(String cwd) {
        if (!cwd.startsWith("/tmp/")) {
            return null;
        }
        String rest = cwd.substring("/tmp/".length());
        int slash = rest.indexOf('/');
        String top = slash < 0 ? rest : rest.substring(0, slash);
        return top.isEmpty() || top.equals(".") || top.equals("..") ? null : "/tmp/" + top;
    }

    /**
     * Whether the generated spec gives the command an empty writable /root for HOME: with the
     * host's root file system, as the sandbox's root user, unless the caller mounts /root itself
     * or works below it (it would vanish under the tmpfs).
     */
    static boolean writableHome(RunRequest r, String cwd) {
        return r.rootfs().equals(Path.of("/")) && (r.uid() == null || r.uid() == 0)
                && r.mounts().stream().noneMatch(m -> m.destination().equals("/root")) && !r.tmpfs().contains("/root")
                && !cwd.equals("/root") && !cwd.startsWith("/root/");
    }

    /**
     * Where the sandbox finds {@code path} on the host, judged by the mounts that will hold it
     * (the last whose destination contains it): inside a bind mount's source, in the root file
     * system, or null inside a file system of the sandbox's own (a tmpfs). Symbolic links are
     * resolved inside that tree ({@link RunUser#inRoot}).
     */
    public static Path sandboxFile(Path root, List<Mount> mounts, String path) {
        Mount holder = null;
        for (Mount m : mounts) {
            String d = Path.of(m.destination()).normalize().toString();
            if (path.equals(d) || path.startsWith(d.equals("/") ? "/" : d + "/")) {
                holder = m;
            }
        }
        if (holder == null) {
            return RunUser.inRoot(root, path);
        }
        boolean bind = "bind".equals(holder.type()) || holder.options().contains("bind") || holder.options().contains("rbind");
        if (!bind || holder.source() == null) {
            return null;
        }
        String d = Path.of(holder.destination()).normalize().toString();
        return path.equals(d) ? Path.of(holder.source()) : RunUser.inRoot(Path.of(holder.source()), path.substring(d.length()));
    }

    /** The mounts the caller asked for (-v, --mount, --tmpfs), as the spec will have them. */
    static List<Mount> userMounts(RunRequest r) {
        Spec s = Spec.empty();
        addUserMounts(s, r);
        return s.mounts();
    }

    /**
     * -u's resolved ids on the spec's process: its supplementary groups, and HOME from the
     * user's /etc/passwd entry (docker's rule) unless -e, --env-file or --env-all set it.
     */
    public static void applyUser(Spec s, RunUser.Ids ids, RunRequest r) {
        s.process().user(ids.uid(), ids.gid()).additionalGids(ids.additionalGids());
        boolean homeGiven = r.envAll() || r.env().stream().anyMatch(e -> e.equals("HOME") || e.startsWith("HOME="));
        if (ids.home() != null && !homeGiven) {
            s.process().setEnv("HOME", ids.home());
        }
    }

    /**
     * For --verbose: what gvshim put in the sandbox besides the caller's own mounts, and why.
     * {@code writableRoot}: runsc's overlay is over the root (the spec runsc reads says rw either
     * way: a read-only root is a read-only nodev copy, see DeviceFields).
     */
    public static List<String> mountNotes(RunRequest r, Spec s, boolean writableRoot) {
        List<String> notes = new ArrayList<>();
        String cwd = s.process().cwd();
        notes.add("root: " + r.rootfs() + (!writableRoot ? ", read-only" + (r.readOnly() ? " (--read-only)" : "")
                : ", writable through an overlay in memory: the host's files are never written, the writes are gone"
                        + " after the run (--read-only: none)"));
        for (Mount m : s.mounts()) {
            String d = m.destination();
            if (d.equals("/tmp") && "tmpfs".equals(m.type()) && !r.tmpfs().contains("/tmp")) {
                notes.add("mounted /tmp: an empty writable tmpfs, gone after the run");
            } else if (d.equals("/root") && "tmpfs".equals(m.type()) && !r.tmpfs().contains("/root")) {
                notes.add("mounted /root: an empty writable tmpfs for HOME (the host's is not the caller's)");
            } else if (d.equals(tmpTop(cwd)) && "bind".equals(m.type())
                    && r.mounts().stream().noneMatch(u -> u.destination().equals(d))) {
                notes.add("mounted " + d + ": the working directory's tree, read-only, on the sandbox's own /tmp");
            }
        }
        if (r.rootfs().equals(Path.of("/")) && cwd.equals("/tmp") && s.mounts().stream().noneMatch(m -> m.destination().equals("/tmp"))) {
            notes.add(!writableRoot ? "/tmp is the host's, read-only: the working directory is /tmp itself (work in"
                    + " a directory below it for a writable /tmp)" : "/tmp is the host's behind the root's overlay: the"
                    + " working directory is /tmp itself (writes are gone after the run)");
        }
        return notes;
    }

    /** A bundle's spec, adapted to this run. */
    public static Spec fromBundle(Spec bundle, Path bundleDir, RunRequest r, Context c) throws GvshimException {
        Spec s = bundle.copy();
        s.root().path(Bundle.check(s, bundleDir, !r.command().isEmpty()).toString());
        for (Mount m : s.mounts()) {
            // runsc resolves a relative source against the bundle it reads, which is the run directory
            if (m.source() != null && !m.source().startsWith("/") && dev.gvshim.runsc.SpecPolicy.bind(m.json())) {
                m.source(bundleDir.resolve(m.source()).normalize().toString());
            }
        }
        if (!r.command().isEmpty()) {
            s.process().args(r.command());
        }
        if (r.cwd() != null) {
            s.process().cwd(r.cwd());
        }
        if (r.uid() != null) {
            s.process().user(r.uid(), r.gid() == null ? s.process().gid() : r.gid());
        }
        if (r.hostname() != null) {
            s.hostname(r.hostname());
        }
        if (r.readOnly()) {
            s.root().readonly(true);
        }
        s.process().terminal(false);
        applyEnv(s, r, c, false);
        addUserMounts(s, r);
        // gvshim owns the user namespace (runsc runs inside it) and the network mode.
        LinuxSection linux = s.linux();
        linux.removeNamespace("user").remove("uidMappings").remove("gidMappings");
        linux.removeNamespace("network");
        if (r.network() != Network.HOST) {
            linux.addNamespace("network");
        }
        sandboxNetwork(s, r);
        s.addHook("poststart", c.hookPath(), c.hookArgs());
        return s;
    }

    /**
     * Where the spec's working directory is on the host: under the mount that holds it (the
     * longest destination that is a prefix), in the bind mount's source or, outside every
     * mount, in the root file system. Null when a file system of the sandbox's own holds it
     * (proc, sysfs) or it is a mount point itself. Below a tmpfs mount point, it is where runsc's
     * gofer looks: the root file system (measured: runsc 2022-12 creates it there on the host,
     * then the sandbox fails with `failed to find initial working directory` in the empty tmpfs).
     */
    public static Path workdirOnHost(Spec s) {
        String cwd = Path.of(s.process().cwd() == null ? "/" : s.process().cwd()).normalize().toString();
        Mount holder = null;
        for (Mount m : s.mounts()) {
            String d = Path.of(m.destination()).normalize().toString();
            if ((cwd.equals(d) || cwd.startsWith(d.equals("/") ? "/" : d + "/"))
                    && (holder == null || d.length() >= Path.of(holder.destination()).normalize().toString().length())) {
                holder = m;
            }
        }
        if (holder == null) {
            return Path.of(s.root().path()).resolve(cwd.substring(1));
        }
        boolean bind = "bind".equals(holder.type()) || holder.options().contains("bind") || holder.options().contains("rbind");
        if (cwd.equals(Path.of(holder.destination()).normalize().toString())) {
            return null; // a mount point: it exists in the sandbox
        }
        if (!bind || holder.source() == null) {
            return null;
        }
        String rel = Path.of(holder.destination()).normalize().relativize(Path.of(cwd)).toString();
        return Path.of(holder.source()).resolve(rel);
    }

    /** The tmpfs mount point the working directory is strictly below (empty when the sandbox starts), or null. */
    public static String workdirInTmpfs(Spec s) {
        String cwd = Path.of(s.process().cwd() == null ? "/" : s.process().cwd()).normalize().toString();
        String found = null;
        String longest = "";
        for (Mount m : s.mounts()) {
            String d = Path.of(m.destination()).normalize().toString();
            if ((cwd.equals(d) || cwd.startsWith(d.equals("/") ? "/" : d + "/")) && d.length() >= longest.length()) {
                longest = d;
                found = "tmpfs".equals(m.type()) && !cwd.equals(d) ? d : null;
            }
        }
        return found;
    }

    private static void applyEnv(Spec s, RunRequest r, Context c, boolean defaults) {
        Map<String, String> caller = c.callerEnv();
        if (r.envAll()) {
            caller.forEach((k, v) -> s.process().setEnv(k, v));
        } else if (defaults) {
            for (String k : PASSED_BY_DEFAULT) {
                if (caller.containsKey(k)) {
                    s.process().setEnv(k, caller.get(k));
                }
            }
            caller.forEach((k, v) -> {
                if (k.startsWith("LC_")) {
                    s.process().setEnv(k, v);
                }
            });
        }
        for (String e : r.env()) {
            int eq = e.indexOf('=');
            if (eq > 0) {
                s.process().setEnv(e.substring(0, eq), e.substring(eq + 1));
            } else if (caller.containsKey(e)) {
                s.process().setEnv(e, caller.get(e));
            }
        }
    }

    private static void addUserMounts(Spec s, RunRequest r) {
        for (RunRequest.BindMount m : r.mounts()) {
            s.removeMounts(x -> m.destination().equals(x.destination()));
            s.addMount(Mount.bind(m.source().toString(), m.destination(), m.readOnly()));
        }
        for (String t : r.tmpfs()) {
            s.removeMounts(x -> t.equals(x.destination()));
            s.addMount(Mount.of(t, "tmpfs", "tmpfs", List.of("nosuid", "nodev", "mode=1777")));
        }
    }
}
