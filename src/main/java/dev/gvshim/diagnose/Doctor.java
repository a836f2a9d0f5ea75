package dev.gvshim.diagnose;

import dev.gvshim.container.StateDir;
import dev.gvshim.container.UnsafeStateDirException;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.Planner;
import dev.gvshim.userns.SubIds;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The diagnosis engine behind `gvshim doctor`: every static check as a {@link Finding}, then
 * the live probe's outcomes laid over them (what was tried for real outranks what a file
 * suggests), then the verdict: can a sandbox start here, and in which mode.
 */
public final class Doctor {
    /** User-namespace levels the sandbox needs below gvshim's own: runsc's (measured: depth 31 works, 32 fails). */
    static final int LEVELS_BELOW_GVSHIM = 1;
    /** The kernel allows 32 nested user namespaces below the initial one (create_user_ns). */
    static final int MAX_DEPTH = 32;

    /** ok: a sandbox can start; fail: it cannot; untested: nothing tested failed, but not everything was tested. */
    public enum Verdict {
        OK, FAIL, UNTESTED;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The result: the verdict, the mode a sandbox would use, every finding, and why mode full is
     * not available ({@code notFull}: the cause `gvshim run --userns full` names, or null).
     */
    public record Report(Verdict verdict, Mode mode, Environment environment, String user, List<Finding> findings,
            Finding notFull) {
        public boolean ok() {
            return verdict == Verdict.OK;
        }

        public List<Finding> failures() {
            return findings.stream().filter(f -> f.status() == Finding.Status.FAIL).toList();
        }

        public List<Finding> warnings() {
            return findings.stream().filter(f -> f.status() == Finding.Status.WARN).toList();
        }

        public List<Finding> untested() {
            return findings.stream().filter(f -> f.status() == Finding.Status.NOT_TESTED).toList();
        }

        /** The cause `gvshim run` names when the verdict is fail: the first failing check in run's order. */
        public String cause() {
            return failures().isEmpty() ? null : failures().getFirst().id();
        }

        /** "19 ok, 1 warning, 2 failed, 3 not tested": what the verdict rests on. */
        public String counts() {
            long ok = findings.stream().filter(f -> f.status() == Finding.Status.OK).count();
            int w = warnings().size();
            int u = untested().size();
            return ok + " ok, " + w + " warning" + (w == 1 ? "" : "s") + ", " + failures().size() + " failed, " + u
                    + " not tested";
        }

        public String headline() {
            return switch (verdict) {
                case OK -> {
                    int w = warnings().size();
                    yield "rootless gVisor works here, mode " + mode.label()
                            + (w == 0 ? "" : " (" + w + " warning" + (w == 1 ? "" : "s") + " below)");
                }
                case FAIL -> "rootless gVisor can't start here, because " + failures().getFirst().summary();
                case UNTESTED -> "doctor could not test everything: nothing that was tested failed, but " + untested().size()
                        + " check" + (untested().size() == 1 ? " was" : "s were") + " not tested ("
                        + untested().getFirst().evidence() + ")";
            };
        }
    }

    private final Facts facts;
    private final Explain explain;
    private final Map<String, Finding> findings = new LinkedHashMap<>();
    /** Where in `gvshim run`'s sequence each failing check would stop it (see {@link #RUN_ORDER}). */
    private final Map<String, Integer> position = new HashMap<>();

    /**
     * `gvshim run`'s order (launch/Launcher.java, then runsc's): runsc located, state directory,
     * clone, the maps, then inside the namespace what runsc does in the probe's step order. The
     * first failing check in this order is the one run stops at, so it is doctor's verdict.
     */
    static final List<String> RUN_ORDER = List.of("runsc", "state", "clone", "map-full", "map-single", "unshare-mnt",
            "unshare-pid", "unshare-net", "unshare-ipc", "unshare-uts", "mount-private", "mount-tmpfs", "mount-proc",
            "mount-sysfs", "pivot-root", "umount-old", "ptrace", "nest");

    /** The step whose failure a static finding of this id predicts (where it would stop run). */
    private static String staticStep(String id) {
        return switch (id) {
            case "RUNSC_MISSING" -> "runsc";
            case "STATE_DIR_UNSAFE" -> "state";
            case "PROC_MASKED" -> "mount-proc";
            case "PTRACE_DENIED" -> "ptrace";
            case "MOUNT_DENIED" -> "mount-tmpfs";
            case "PIVOT_ROOT_DENIED" -> "pivot-root";
            case "USERNS_NESTING" -> "nest";
            default -> id.startsWith("USERNS_") ? "clone" : "map-single";
        };
    }

    /** Checks only the live probe tests, and the steps that test them. */
    private static final Map<String, List<String>> LIVE_CHECKS = Map.of(
            "NAMESPACE_DENIED", List.of("unshare-mnt", "unshare-pid", "unshare-net", "unshare-ipc", "unshare-uts"),
            "MOUNT_DENIED", List.of("mount-private", "mount-tmpfs", "umount-old"),
            "PROC_MASKED", List.of("mount-proc"),
            "PIVOT_ROOT_DENIED", List.of("pivot-root"),
            "PTRACE_DENIED", List.of("ptrace"),
            "USERNS_NESTING", List.of("nest"),
            "IDMAP_FULL", List.of("map-full", "map-single"));

    private Doctor(Facts facts) {
        this.facts = facts;
        this.explain = new Explain(facts);
    }

    /**
     * @param live         the live probe's result, or null when it could not run (then nothing it tests is tested)
     * @param runscVersion runsc's first --version line, or null
     * @param stateDir     where `gvshim run` would keep its state ({@link StateDir#find}), or null
     */
    public static Report diagnose(Facts facts, LiveProbe.Result live, String runscVersion, StateDir.Choice stateDir) {
        Doctor d = new Doctor(facts);
        d.environment();
        d.kernel();
        d.process();
        d.idMapping();
        d.sandbox(runscVersion, stateDir);
        String untestedWhy;
        if (live != null) {
            d.live(live);
            untestedWhy = stopped(live);
        } else {
            untestedWhy = "the live probe did not run: this installation has no libexec/gvshim-probe";
        }
        d.untested(live, untestedWhy);
        List<Finding> all = new ArrayList<>(d.findings.values());
        // failures first, in the order `gvshim run` meets them; then the rest in check order
        List<Finding> sorted = new ArrayList<>();
        all.stream().filter(f -> f.status() == Finding.Status.FAIL)
                .sorted(Comparator.comparingInt(f -> d.position.getOrDefault(f.id(),
                        RUN_ORDER.indexOf(staticStep(f.id()))))).forEach(sorted::add);
        all.stream().filter(f -> f.status() != Finding.Status.FAIL).forEach(sorted::add);
        if (!sorted.isEmpty() && sorted.getFirst().status() == Finding.Status.FAIL) {
            sorted.set(0, d.complete(sorted.getFirst(), sorted));
        }
        Verdict verdict = sorted.stream().anyMatch(f -> f.status() == Finding.Status.FAIL) ? Verdict.FAIL
                : sorted.stream().anyMatch(f -> f.status() == Finding.Status.NOT_TESTED) ? Verdict.UNTESTED : Verdict.OK;
        Mode mode = verdict == Verdict.FAIL ? null : live == null ? plannedMode(facts) : live.mode();
        if (verdict != Verdict.FAIL && live != null && mode == null) { // no map was written, yet no step says why
            sorted.addFirst(Finding.fail("LIVE_PROBE", "sandbox", "the live probe wrote no id map and reported no cause",
                    String.valueOf(live.outcomes()), "run gvshim doctor --json and report the output"));
            verdict = Verdict.FAIL;
        }
        return new Report(verdict, verdict == Verdict.FAIL ? null : mode, facts.env(), facts.caller().userName(),
                List.copyOf(sorted), d.notFull(live));
    }

    /**
     * The first failure's fix made complete, so that one round of fixes is enough: in Docker, a
     * masked /proc and a seccomp profile that denies a later step (pivot_root: Docker's default
     * profile never allows it) have one fix, gvshim's profile with systempaths=unconfined.
     */
    private Finding complete(Finding lead, List<Finding> sorted) {
        List<Finding> others = sorted.stream().filter(f -> f.status() == Finding.Status.FAIL && !f.id().equals(lead.id()))
                .toList();
        Failure combined = explain.complete(new Failure(lead.id(), lead.summary(), lead.evidence(), null, lead.fix(),
                Failure.EXIT_GVSHIM), others.stream().map(f -> new Failure(f.id(), f.summary(), f.evidence(), null, f.fix(),
                Failure.EXIT_GVSHIM)).toList());
        return new Finding(lead.id(), lead.status(), lead.group(), lead.summary(), lead.evidence(), combined.fix());
    }

    /** Why mode full is not used: the live map-full failure, or the planner's reason it was not tried. */
    private Finding notFull(LiveProbe.Result live) {
        if (live != null) {
            LiveProbe.Outcome o = live.find("map-full");
            if (o != null && !o.ok() && o.failure() != null) {
                return Finding.of(o.failure(), Finding.Status.WARN, "id mapping");
            }
            if (o != null && o.ok()) {
                return null;
            }
        }
        try {
            Planner.plan(Mode.FULL, facts.caller());
            return null;
        } catch (Planner.Impossible e) {
            return Finding.of(Failure.of(e.id(), "cannot use mode full", null, e.why(), e.fix()), Finding.Status.WARN,
                    "id mapping");
        }
    }

    /** Why steps after the first failure were not tried: "the live probe stopped at clone (EPERM)". */
    static String stopped(LiveProbe.Result live) {
        LiveProbe.Outcome first = live.outcomes().stream().filter(o -> o.ran() && !o.ok())
                .filter(o -> !o.step().equals("map-full") || live.mode() == null).findFirst().orElse(null);
        if (first == null) {
            return "the live probe did not report it";
        }
        return "the live probe stopped at " + first.step() + (first.errno() > 0 && !first.step().startsWith("map-")
                ? " (" + Errno.name(first.errno()) + ")" : "") + ": fix that and run doctor again";
    }

    /**
     * A check only the live probe can make, which it did not reach, is "not tested", never ok: its
     * static hint is kept in the summary. A static warning or failure stays (its evidence stands),
     * marked as not confirmed live.
     */
    private void untested(LiveProbe.Result live, String why) {
        for (var e : LIVE_CHECKS.entrySet()) {
            String id = e.getKey();
            boolean tested = live != null && live.outcomes().stream().anyMatch(o -> e.getValue().contains(o.step()) && o.ran()
                    && (o.ok() || o.failure() != null));
            if (tested || (id.equals("USERNS_NESTING") && facts.initialUserNs())) { // depth 0: 32 levels below, by definition
                continue;
            }
            if (id.equals("IDMAP_FULL") && live != null && live.find("map-full") != null && !live.find("map-full").ran()
                    && live.find("map-single") != null && live.find("map-single").ran()) {
                continue; // full was impossible on paper (its reasons are listed), single was tested
            }
            Finding f = findings.get(id);
            String group = f != null ? f.group() : id.equals("IDMAP_FULL") ? "id mapping" : "sandbox";
            if (f == null || f.status() == Finding.Status.OK || f.status() == Finding.Status.NOT_TESTED) {
                String hint = f == null ? "" : f.status() == Finding.Status.OK ? "; from files: " + f.summary() : ": " + f.summary();
                findings.put(id, new Finding(id, Finding.Status.NOT_TESTED, group, "not tested" + hint, why, null));
            } else if (!f.summary().contains("not tested live")) {
                findings.put(id, new Finding(id, f.status(), f.group(), f.summary() + " (from files; not tested live: " + why + ")",
                        f.evidence(), f.fix()));
            }
        }
    }

    private static Mode plannedMode(Facts facts) {
        try {
            return Planner.plan(Mode.AUTO, facts.caller()).mode();
        } catch (Planner.Impossible e) {
            return Mode.SINGLE;
        }
    }

    private void put(Finding f) {
        findings.put(f.id(), f);
    }

    /** A live result replaces the static guess with the same id, keeping its place in the order. */
    private void override(Finding f) {
        Finding before = findings.get(f.id());
        findings.put(f.id(), before == null ? f
                : new Finding(f.id(), f.status(), before.group(), f.summary(), f.evidence(), f.fix()));
    }

    // ---- static checks ----------------------------------------------------------------------

    private void environment() {
        Environment env = facts.env();
        put(Finding.ok("ENVIRONMENT", "environment", "where: " + env.label() + " (fixes below are written for it)",
                env.evidence()));
    }

    private void kernel() {
        Facts.Kernel k = facts.kernel();
        String release = k.release() == null ? "" : "kernel " + k.release() + ", ";
        if (!k.userNs()) {
            put(Finding.fail("USERNS_UNSUPPORTED", "kernel", "this kernel has no user namespaces", release
                    + "/proc/self/ns/user is missing", "use a kernel built with CONFIG_USER_NS=y"));
        } else {
            put(Finding.ok("USERNS_UNSUPPORTED", "kernel", "user namespaces are compiled in", release + "/proc/self/ns/user exists"));
        }
        String ev = explain.maxUserNamespaces() + "; kernel.unprivileged_userns_clone = "
                + (k.unprivilegedUsernsClone() == null ? "absent (not a Debian-patched knob here)" : k.unprivilegedUsernsClone());
        Environment env = facts.env();
        if (k.maxUserNamespaces() != null && k.maxUserNamespaces() == 0) {
            put(Finding.fail("USERNS_DISABLED", "kernel", "user namespaces are disabled (" + explain.maxUserNamespaces() + ")", ev,
                    facts.initialUserNs() ? env.onHost("sysctl -w user.max_user_namespaces=15000")
                            : "whoever set it to 0 in this namespace: sysctl -w user.max_user_namespaces=15000"));
        } else if (k.unprivilegedUsernsClone() != null && k.unprivilegedUsernsClone() == 0 && facts.status().euid() != 0) {
            put(Finding.fail("USERNS_DISABLED", "kernel", "unprivileged user namespaces are disabled"
                    + " (kernel.unprivileged_userns_clone = 0)", ev, env.onHost("sysctl -w kernel.unprivileged_userns_clone=1")));
        } else if ("N".equals(k.moduleEnable())) {
            put(Finding.fail("USERNS_DISABLED", "kernel", "user namespaces are disabled (user_namespace.enable=N)",
                    "/sys/module/user_namespace/parameters/enable = N", "boot with user_namespace.enable=1"));
        } else {
            put(Finding.ok("USERNS_DISABLED", "kernel", "user namespaces are enabled", ev));
        }
        if (k.maxUserNamespaces() != null && k.maxUserNamespaces() > 0 && k.maxUserNamespaces() < 64) {
            put(Finding.warn("USERNS_LIMIT", "kernel", "user.max_user_namespaces is low: each sandbox needs 2, so at most "
                    + k.maxUserNamespaces() / 2 + " sandbox" + (k.maxUserNamespaces() / 2 == 1 ? "" : "es") + " can run at once",
                    explain.maxUserNamespaces(), facts.initialUserNs() ? env.onHost("sysctl -w user.max_user_namespaces=15000")
                            : "sysctl -w user.max_user_namespaces=15000 in this namespace (its owner may)"));
        }
        Integer restrict = k.apparmorRestrict();
        Facts.Lsm lsm = facts.lsm();
        if (restrict != null && restrict == 1) {
            put(Finding.warn("USERNS_APPARMOR", "kernel", "AppArmor restricts unprivileged user namespaces (Ubuntu 23.10+):"
                            + " a new namespace gets no capabilities unless a profile grants `userns`",
                    "kernel.apparmor_restrict_unprivileged_userns = 1; this process: " + lsm.apparmorLabel(),
                    explain.apparmorUsernsFix()));
        } else {
            put(Finding.ok("USERNS_APPARMOR", "kernel", lsm.apparmorEnabled() ? "AppArmor does not restrict user namespaces"
                            : "AppArmor is not enabled",
                    "kernel.apparmor_restrict_unprivileged_userns = " + (restrict == null ? "absent" : restrict)
                            + (lsm.apparmorLabel() == null ? "" : "; this process: " + lsm.apparmorLabel())));
        }
        if (lsm.selinuxEnforcing()) {
            boolean container = lsm.selinuxLabel() != null && lsm.selinuxLabel().contains("container_t");
            put(new Finding("USERNS_SELINUX", container ? Finding.Status.WARN : Finding.Status.OK, "kernel",
                    "SELinux is enforcing" + (container ? " and this process runs as container_t, which may not create"
                            + " namespaces or mount" : ""),
                    "/sys/fs/selinux/enforce = 1; context " + lsm.selinuxLabel(),
                    container ? explain.selinuxFix() : null));
        } else {
            put(Finding.ok("USERNS_SELINUX", "kernel", lsm.selinuxEnforce() == null ? "SELinux is not enabled"
                    : "SELinux is permissive", "/sys/fs/selinux/enforce = " + (lsm.selinuxEnforce() == null ? "absent" : lsm.selinuxEnforce())));
        }
        String map = facts.caller().ownUidMap() == null ? "unreadable" : facts.caller().ownUidMap().toString();
        put(Finding.ok("USERNS_NESTING", "kernel", facts.initialUserNs() ? "gvshim runs in the initial user namespace"
                : "gvshim runs inside a user namespace already (how deep is measured live)", "/proc/self/uid_map: " + map));
        Integer scope = k.ptraceScope();
        String pev = "kernel.yama.ptrace_scope = " + (scope == null ? "absent (no Yama)" : scope);
        if (scope != null && scope == 3) {
            put(Finding.fail("PTRACE_DENIED", "kernel", "Yama forbids ptrace entirely; gVisor's ptrace and systrap platforms"
                    + " need it", pev, "reboot with kernel.yama.ptrace_scope = 1" + (facts.kvm().usable() ? "; or --platform kvm" : "")));
        } else {
            put(Finding.ok("PTRACE_DENIED", "kernel", "Yama allows a process to trace its own children", pev));
        }
        put(Finding.ok("KVM", "kernel", facts.kvm().usable() ? "/dev/kvm is usable: --platform kvm is available"
                : facts.kvm().present() ? "/dev/kvm exists but you cannot open it read-write (the ptrace platform is used)"
                : "no /dev/kvm (the ptrace platform is used)", "/dev/kvm"));
    }

    private void process() {
        ProcStatus st = facts.status();
        put(Finding.ok("CAPABILITIES", "process", "uid " + st.euid() + ", gid " + st.egid() + "; effective: "
                        + names(st.capEff()) + "; not in the bounding set: " + names(~st.capBnd() & ((1L << 41) - 1)),
                String.format("CapEff %016x, CapPrm %016x, CapBnd %016x", st.capEff(), st.capPrm(), st.capBnd())));
        String sev = "Seccomp: " + st.seccompMode() + ", Seccomp_filters: " + st.seccompFilters();
        if (st.seccompMode() == 2) {
            put(Finding.warn("USERNS_SECCOMP", "process", "a seccomp filter is active"
                            + (st.inBounding(ProcStatus.CAP_SYS_ADMIN) ? "" : " and CAP_SYS_ADMIN is not in the bounding set:"
                            + " Docker's default profile then denies user namespaces, mount and pivot_root"),
                    sev, explain.seccompFix("user namespaces, mount, pivot_root and ptrace")));
        } else if (st.seccompMode() == 1) {
            put(Finding.fail("USERNS_SECCOMP", "process", "strict seccomp mode allows only read, write and exit", sev,
                    "run gvshim outside seccomp strict mode"));
        } else {
            put(Finding.ok("USERNS_SECCOMP", "process", "no seccomp filter", sev));
        }
        if (st.noNewPrivs()) {
            put(Finding.warn("NO_NEW_PRIVS", "process", "no_new_privs is set: newuidmap/newgidmap cannot gain privileges,"
                    + " so mode full is impossible (single works)", "NoNewPrivs: 1", explain.noNewPrivsFix()));
        } else {
            put(Finding.ok("NO_NEW_PRIVS", "process", "no_new_privs is not set", "NoNewPrivs: 0"));
        }
        Facts.Lsm lsm = facts.lsm();
        if (lsm.apparmorConfined()) {
            put(Finding.warn("MOUNT_DENIED", "process", "confined by AppArmor profile " + lsm.apparmorLabel()
                    + " (docker-default denies mount)", "/proc/self/attr/apparmor/current: " + lsm.apparmorLabel(),
                    facts.env().pick("--security-opt apparmor=unconfined", "securityContext.appArmorProfile.type: Unconfined",
                            "run gvshim unconfined")));
        } else {
            put(Finding.ok("MOUNT_DENIED", "process", "no AppArmor confinement", "AppArmor label: "
                    + (lsm.apparmorLabel() == null ? "none" : lsm.apparmorLabel())));
        }
        List<String> masks = facts.mounts().below("/proc");
        boolean procRo = facts.mounts().readOnly("/proc");
        if (!masks.isEmpty() || procRo) {
            Failure p = explain.probeStep("mount-proc", 1);
            put(Finding.fail("PROC_MASKED", "process", "a fresh /proc cannot be mounted: " + (procRo ? "/proc is read-only"
                    : masks.size() + " path" + (masks.size() == 1 ? " is" : "s are") + " mounted over it")
                    + "; runsc 2022-12 then dies with `error mounting proc`", "/proc/self/mountinfo: "
                    + String.join(" ", masks.stream().limit(8).toList()) + (procRo ? " /proc (ro)" : ""), p.fix()));
        } else {
            put(Finding.ok("PROC_MASKED", "process", "nothing is mounted over /proc", "/proc/self/mountinfo"));
        }
        put(new Finding("PIVOT_ROOT_DENIED", Finding.Status.NOT_TESTED, "process", "pivot_root can only be tested live", null,
                null));
        Facts.Cgroup cg = facts.cgroup();
        String cev = "cgroup v" + cg.version() + ", " + cg.path() + (cg.readOnly() ? " (read-only mount)" : "")
                + (cg.writable() ? ", writable" : ", not writable by you");
        if (!cg.writable() && st.euid() == 0 && facts.initialUserNs()) {
            // gvshim run passes --ignore-cgroups; as a Docker or containerd runtime, root's containers go
            // into the spec's cgroupsPath, which runsc must create
            put(Finding.warn("CGROUP_READONLY", "process", "this cgroup is not writable: gvshim run does not need it (it ignores"
                    + " cgroups), but as a Docker or containerd runtime runsc puts root's containers into their cgroup", cev,
                    facts.env().pick("run gvshim as a non-root user (rootless sandboxes skip cgroups)",
                            "run gvshim as a non-root user", "run gvshim as a non-root user, or delegate a cgroup to it")));
        } else {
            put(Finding.ok("CGROUP_READONLY", "process", cg.writable() ? "this process's cgroup is writable"
                    : "this process's cgroup is not writable: rootless sandboxes do not use it (resource limits of a spec"
                            + " are not enforced)", cev));
        }
    }

    private void idMapping() {
        Caller h = facts.caller();
        ProcStatus st = h.status();
        String user = h.userName() == null ? "uid " + st.euid() : h.userName() + " (uid " + st.euid() + ")";
        boolean privileged = st.hasEffective(ProcStatus.CAP_SETUID) && st.hasEffective(ProcStatus.CAP_SETGID);
        if (h.userName() == null) {
            put(Finding.warn("NO_PASSWD_ENTRY", "id mapping", "uid " + st.euid() + " has no /etc/passwd entry: newuidmap"
                    + " refuses it, so mode full is impossible", "getpwuid(" + st.euid() + ") found nothing",
                    "add a passwd entry (or nss_wrapper), or accept mode single"));
        }
        subIds("SUBUID_MISSING", "/etc/subuid", h.subuid(), h, user, privileged);
        subIds("SUBGID_MISSING", "/etc/subgid", h.subgid(), h, user, privileged);
        if (privileged) {
            put(Finding.ok("NEWUIDMAP_MISSING", "id mapping", "you hold CAP_SETUID and CAP_SETGID: gvshim writes the maps"
                    + " itself, no helper needed", "CapEff"));
            return;
        }
        List<Helper> helpers = List.of(h.newuidmap(), h.newgidmap());
        String hev = String.join("; ", helpers.stream().map(Helper::describe).toList());
        List<Helper> missing = helpers.stream().filter(x -> !x.present()).toList();
        if (!missing.isEmpty()) {
            put(Finding.warn("NEWUIDMAP_MISSING", "id mapping", String.join(" and ", missing.stream().map(Helper::name).toList())
                    + " not installed: mode full is impossible", hev,
                    "install it (Debian/Ubuntu: apt-get install uidmap; Fedora/RHEL: dnf install shadow-utils)"));
        } else {
            put(Finding.ok("NEWUIDMAP_MISSING", "id mapping", "newuidmap and newgidmap are installed", hev));
        }
        List<Helper> plain = helpers.stream().filter(x -> x.present() && !x.privileged()).toList();
        if (!plain.isEmpty()) {
            Helper x = plain.getFirst();
            String cap = x.name().equals("newgidmap") ? "cap_setgid" : "cap_setuid";
            put(Finding.warn("NEWUIDMAP_UNPRIVILEGED", "id mapping", x.describe() + ": it can map only your own id,"
                    + " so mode full is impossible", hev, "as root: chmod u+s " + x.path() + " (or setcap " + cap + "+ep "
                    + x.path() + "; reinstalling uidmap restores it)"));
        } else if (missing.isEmpty()) {
            put(Finding.ok("NEWUIDMAP_UNPRIVILEGED", "id mapping", "newuidmap and newgidmap are privileged", hev));
        }
        List<Helper> dropped = helpers.stream().filter(x -> x.privileged() && !st.inBounding(x.name().equals("newgidmap")
                ? ProcStatus.CAP_SETGID : ProcStatus.CAP_SETUID)).toList();
        if (!dropped.isEmpty()) {
            Helper x = dropped.getFirst();
            put(Finding.warn("NEWUIDMAP_CAPS_DROPPED", "id mapping", x.neededCap().toUpperCase(Locale.ROOT)
                    + " is not in the bounding set, so " + x.path() + " cannot gain it: mode full is impossible (single works)",
                    hev + "; CapBnd " + String.format("%016x", st.capBnd()), facts.env().pick("add --cap-add SETUID --cap-add SETGID",
                            "add SETUID and SETGID to securityContext.capabilities.add", "keep CAP_SETUID and CAP_SETGID in the"
                                    + " bounding set (setpriv --bounding-set, systemd CapabilityBoundingSet=)")));
        }
        List<Helper> setuidOnly = helpers.stream().filter(x -> x.privileged() && x.setuid() && !x.fileCap()).toList();
        if (!setuidOnly.isEmpty() && !st.inBounding(ProcStatus.CAP_SYS_ADMIN)) {
            Helper x = setuidOnly.getFirst();
            String cap = x.name().equals("newgidmap") ? "cap_setgid" : "cap_setuid";
            put(Finding.warn("NEWUIDMAP_NEEDS_FCAPS", "id mapping", x.path() + " is setuid root, which writes maps as euid 0"
                            + " and then needs CAP_SYS_ADMIN (not in the bounding set here); file capabilities need nothing extra",
                    hev + "; CapBnd " + String.format("%016x", st.capBnd()) + " lacks CAP_SYS_ADMIN", "in the image: chmod u-s "
                            + x.path() + " && setcap " + cap
                            + "+ep " + x.path() + " (and the same for " + (cap.equals("cap_setuid") ? "newgidmap with cap_setgid"
                            : "newuidmap with cap_setuid") + ")"));
        } else if (!setuidOnly.isEmpty() || helpers.stream().anyMatch(Helper::fileCap)) {
            put(Finding.ok("NEWUIDMAP_NEEDS_FCAPS", "id mapping", helpers.stream().allMatch(Helper::fileCap)
                    ? "the helpers have file capabilities" : "setuid helpers work here (CAP_SYS_ADMIN is in the bounding set)", hev));
        }
    }

    private void subIds(String id, String file, SubIds ids, Caller h, String user, boolean privileged) {
        List<SubIds.Range> ranges = ids.rangesFor(h.userName(), h.status().euid());
        if (ranges.isEmpty()) {
            if (privileged && h.status().euid() == 0) {
                put(Finding.ok(id, "id mapping", file + " has no range for root: root maps 0-65535 directly", file));
                return;
            }
            String name = h.userName() == null ? "USER" : h.userName();
            put(Finding.warn(id, "id mapping", file + " has no range for " + user + ": mode full is impossible (single works)",
                    file + ": no line for " + name + " or " + h.status().euid(),
                    explain.subidFix(name, id.equals("SUBUID_MISSING") || h.subuid().rangesFor(h.userName(), h.status().euid())
                            .isEmpty(), id.equals("SUBGID_MISSING") || h.subgid().rangesFor(h.userName(), h.status().euid())
                            .isEmpty())));
            return;
        }
        long total = ranges.stream().mapToLong(SubIds.Range::count).sum();
        String ev = file + ": " + Explain.ranges(ranges);
        String overlap = overlap(file, ids, h, ranges);
        if (overlap != null) {
            put(Finding.warn(id.replace("_MISSING", "_OVERLAP"), "id mapping", overlap + ": the sandboxes of both users share"
                            + " those ids (each can read the other's files and signal its processes)", ev,
                    "as root: give each user a range no other user has (usermod --del-subuids/--add-subuids)"));
        }
        if (total < 65536) {
            put(Finding.warn(id, "id mapping", file + " gives " + user + " only " + total + " ids: images with ids above "
                    + total + " will fail to unpack", ev, "give the user 65536 ids in " + file));
        } else {
            put(Finding.ok(id, "id mapping", file + " gives " + user + " " + total + " ids", ev));
        }
    }

    /** "/etc/subuid: gvshim-it's 100000-165535 (65536 ids) overlaps bob's 150000-215535 (65536 ids) by 15536 ids", or null. */
    private static String overlap(String file, SubIds ids, Caller h, List<SubIds.Range> own) {
        String me = h.userName();
        String uid = Long.toString(h.status().euid());
        for (SubIds.Entry e : ids.entries()) {
            if (e.owner().equals(me) || e.owner().equals(uid)) {
                continue;
            }
            SubIds.Range other = new SubIds.Range(e.start(), e.count());
            for (SubIds.Range r : own) {
                long shared = Math.min(r.end(), other.end()) - Math.max(r.start(), other.start());
                if (shared > 0) {
                    return file + ": " + (me == null ? uid : me) + "'s " + Explain.ranges(List.of(r)) + " overlaps " + e.owner()
                            + "'s " + Explain.ranges(List.of(other)) + " by " + shared + " id" + (shared == 1 ? "" : "s");
                }
            }
        }
        return null;
    }

    private void sandbox(String runscVersion, StateDir.Choice stateDir) {
        if (facts.runsc() == null) {
            put(Finding.of(Explain.runscMissing(facts.runscGiven(), facts.pathEnv(), facts.root()), Finding.Status.FAIL, "sandbox"));
        } else {
            put(Finding.ok("RUNSC_MISSING", "sandbox", "runsc is installed" + (runscVersion == null ? "" : ": " + runscVersion),
                    facts.runsc().toString()));
        }
        if (stateDir != null) { // the same choice gvshim run makes (StateDir.prepareDefault), without creating anything
            UnsafeStateDirException p = stateDir.problem();
            if (p != null) {
                Path readOnly = p.readOnlyParent();
                put(Finding.fail("STATE_DIR_UNSAFE", "sandbox", p.what() + ": " + p.why(), p.dir(),
                        readOnly != null ? explain.unwritableStateDirFix(readOnly) : p.fix()));
            } else {
                String ignored = stateDir.ignored().isEmpty() ? ""
                        : "; ignored, never used: " + String.join(", ", stateDir.ignored());
                put(Finding.ok("STATE_DIR_UNSAFE", "sandbox", (stateDir.dir() != null ? "the state directory is private to you"
                        : "the state directory will be created, private to you, by the first run") + ignored,
                        stateDir.dir() != null ? stateDir.dir().toString() : stateDir.planned()));
            }
        }
    }

    // ---- live outcomes ----------------------------------------------------------------------

    private void live(LiveProbe.Result live) {
        for (LiveProbe.Outcome o : live.outcomes()) {
            if (o.ran() && !o.ok() && o.failure() != null && !position.containsKey(o.failure().id())) {
                position.put(o.failure().id(), RUN_ORDER.indexOf(o.step()));
            }
            switch (o.step()) {
                case "clone" -> {
                    if (o.ok()) {
                        Finding s = findings.get("USERNS_SECCOMP");
                        if (s != null && s.status() == Finding.Status.WARN) {
                            override(Finding.ok("USERNS_SECCOMP", "process", "a seccomp filter is active, but it allows"
                                    + " what was probed live (see the steps below)", s.evidence()));
                        }
                        for (String id : List.of("USERNS_APPARMOR", "USERNS_SELINUX")) {
                            Finding f = findings.get(id);
                            if (f != null && f.status() == Finding.Status.WARN) {
                                override(Finding.ok(id, f.group(), f.summary() + "; creating a user namespace worked live",
                                        f.evidence()));
                            }
                        }
                    } else {
                        override(Finding.of(o.failure(), Finding.Status.FAIL, "kernel"));
                    }
                }
                case "map-full" -> {
                    if (!o.ran()) {
                        // not tried: the static findings already say why (SUBUID_MISSING, NEWUIDMAP_UNPRIVILEGED, ...)
                        continue;
                    }
                    if (o.ok()) {
                        put(Finding.ok("IDMAP_FULL", "id mapping", "mode full works: the maps were written live", o.evidence()));
                    } else if (o.failure() != null) {
                        Finding.Status s = live.mode() == Mode.SINGLE ? Finding.Status.WARN : Finding.Status.FAIL;
                        Finding f = Finding.of(o.failure(), s, "id mapping");
                        override(new Finding(f.id(), s, f.group(), "mode full failed live: " + f.summary()
                                + (s == Finding.Status.WARN ? " (mode single works)" : ""), f.evidence(), f.fix()));
                    }
                }
                case "map-single" -> {
                    if (o.ok()) {
                        put(Finding.ok("IDMAP_SINGLE", "id mapping", "mode single works: your id mapped to root, written live",
                                o.evidence()));
                    } else {
                        override(Finding.of(o.failure(), Finding.Status.FAIL, "id mapping"));
                    }
                }
                case "nest" -> nesting(o);
                default -> {
                    if (o.ran() && !o.ok() && o.failure() != null) {
                        Finding.Status s = o.failure().id().equals("SYSFS_MASKED") ? Finding.Status.WARN : Finding.Status.FAIL;
                        Finding had = findings.get(o.failure().id());
                        if (had == null || had.status() != Finding.Status.FAIL || !live.outcomes().subList(0, live.outcomes()
                                .indexOf(o)).stream().anyMatch(p -> p.failure() != null && p.failure().id().equals(o.failure().id()))) {
                            override(Finding.of(o.failure(), s, "sandbox")); // the first step that failed for a cause tells it
                        }
                    } else if (o.ok()) {
                        passed(o.step());
                    }
                }
            }
        }
    }

    private void passed(String step) {
        switch (step) {
            case "unshare-uts" -> {
                if (!findings.containsKey("NAMESPACE_DENIED")) { // one that failed is listed already
                    put(Finding.ok("NAMESPACE_DENIED", "sandbox", "mount, pid, network, ipc and uts namespaces can be created"
                            + " inside the user namespace (live)", "clone(CLONE_NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS): ok"));
                }
            }
            case "mount-tmpfs" -> {
                Finding f = findings.get("MOUNT_DENIED");
                if (f == null || f.status() != Finding.Status.FAIL) {
                    override(Finding.ok("MOUNT_DENIED", "process", "mounting inside the new namespaces works (live)",
                            "mount(\"tmpfs\"): ok"));
                }
            }
            case "mount-proc" -> override(Finding.ok("PROC_MASKED", "process", "a fresh /proc mounts (live)", "mount(\"proc\"): ok"));
            case "pivot-root" -> override(Finding.ok("PIVOT_ROOT_DENIED", "process", "pivot_root works (live)", "pivot_root: ok"));
            case "ptrace" -> override(Finding.ok("PTRACE_DENIED", "kernel", "ptrace attach to a child works (live)",
                    "ptrace(PTRACE_ATTACH): ok"));
            default -> {
                // unshare and sysfs successes need no finding of their own
            }
        }
    }

    private void nesting(LiveProbe.Outcome o) {
        int below = o.value(); // levels below the probe's namespace, which is the one gvshim would create
        String ev = o.evidence();
        if (below < LEVELS_BELOW_GVSHIM) {
            Failure f = explain.namespacesUsedUp(ev, below, o.wide());
            override(new Finding(f.id(), Finding.Status.FAIL, "kernel", f.what() + ": " + f.why(), ev, f.fix()));
            position.put(f.id(), RUN_ORDER.indexOf("nest"));
            if (!f.id().equals("USERNS_NESTING")) {
                override(Finding.ok("USERNS_NESTING", "kernel", "not the nesting depth: " + o.wide() + " namespaces fit side by"
                        + " side where nesting stopped after " + (below + 1), ev));
            }
        } else if (below < LiveProbe.NEST_ENOUGH) {
            Failure f = explain.namespacesUsedUp(ev, below, o.wide());
            override(Finding.warn(f.id(), "kernel", "only " + (below + 1) + " more user namespace" + (below == 0 ? "" : "s")
                    + " can be created below this one, and each sandbox needs 2: " + f.why(), ev, f.fix()));
        } else {
            // measured: at depth x, MAX_DEPTH + 1 - x more levels can be created; the probe sits at depth + 1
            int depth = Math.max(0, MAX_DEPTH - below);
            override(Finding.ok("USERNS_NESTING", "kernel", (facts.initialUserNs() ? "gvshim runs in the initial user namespace"
                    : "gvshim runs inside a user namespace, at depth " + depth + " of " + MAX_DEPTH) + "; " + (below + 1)
                    + " levels are left below it", ev));
        }
    }

    private static String names(long mask) {
        List<String> n = ProcStatus.capNames(mask);
        return n.isEmpty() ? "none" : n.size() > 12 ? n.size() + " capabilities" : String.join(",", n);
    }
}
