package dev.gvshim.diagnose;

import dev.gvshim.container.StateDir;
import dev.gvshim.container.UnsafeStateDirException;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.Planner;
import dev.gvshim.userns.SubIds;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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

    /** The result: the verdict, the mode a sandbox would use, and every finding. */
    public record Report(boolean ok, Mode mode, Environment environment, String user, List<Finding> findings) {
        public List<Finding> failures() {
            return findings.stream().filter(f -> f.status() == Finding.Status.FAIL).toList();
        }

        public List<Finding> warnings() {
            return findings.stream().filter(f -> f.status() == Finding.Status.WARN).toList();
        }

        public String headline() {
            if (ok) {
                int w = warnings().size();
                return "rootless gVisor works here, mode " + mode.label()
                        + (w == 0 ? "" : " (" + w + " warning" + (w == 1 ? "" : "s") + " below)");
            }
            Finding first = failures().getFirst();
            return "rootless gVisor can't start here, because " + first.summary();
        }
    }

    private final Facts facts;
    private final Explain explain;
    private final Map<String, Finding> findings = new LinkedHashMap<>();

    private Doctor(Facts facts) {
        this.facts = facts;
        this.explain = new Explain(facts);
    }

    /**
     * @param live         the live probe's result, or null when it could not run (then the verdict rests on files)
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
        if (live != null) {
            d.live(live);
        } else {
            d.put(Finding.warn("LIVE_PROBE", "sandbox", "the live probe did not run: the verdict rests on files only",
                    null, "run gvshim doctor from an installation with libexec/gvshim-probe"));
        }
        List<Finding> all = new ArrayList<>(d.findings.values());
        // failures first (the first live failure leads), in check order otherwise
        List<Finding> sorted = new ArrayList<>();
        String lead = live == null || live.firstFailure() == null ? null : live.firstFailure().failure().id();
        all.stream().filter(f -> f.id().equals(lead)).forEach(sorted::add);
        all.stream().filter(f -> f.status() == Finding.Status.FAIL && !f.id().equals(lead)).forEach(sorted::add);
        all.stream().filter(f -> f.status() != Finding.Status.FAIL).forEach(sorted::add);
        boolean ok = sorted.stream().noneMatch(f -> f.status() == Finding.Status.FAIL);
        Mode mode = ok ? (live == null ? plannedMode(facts) : live.mode()) : null;
        if (ok && mode == null) { // no map was written, yet no step says why: never claim it works
            sorted.addFirst(Finding.fail("LIVE_PROBE", "sandbox", "the live probe wrote no id map and reported no cause",
                    String.valueOf(live.outcomes()), "run gvshim doctor --json and report the output"));
            ok = false;
        }
        return new Report(ok, mode, facts.env(), facts.host().userName(), List.copyOf(sorted));
    }

    private static Mode plannedMode(Facts facts) {
        try {
            return Planner.plan(Mode.AUTO, facts.host()).mode();
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
        String ev = "user.max_user_namespaces = " + k.maxUserNamespaces() + "; kernel.unprivileged_userns_clone = "
                + (k.unprivilegedUsernsClone() == null ? "absent (not a Debian-patched knob here)" : k.unprivilegedUsernsClone());
        Environment env = facts.env();
        if (k.maxUserNamespaces() != null && k.maxUserNamespaces() == 0) {
            put(Finding.fail("USERNS_DISABLED", "kernel", "user namespaces are disabled (user.max_user_namespaces = 0)", ev,
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
        if (k.maxUserNamespaces() != null && k.maxUserNamespaces() > 0 && k.maxUserNamespaces() < 64 && facts.initialUserNs()) {
            put(Finding.warn("USERNS_LIMIT", "kernel", "user.max_user_namespaces is low: each sandbox needs 2",
                    "user.max_user_namespaces = " + k.maxUserNamespaces(), env.onHost("sysctl -w user.max_user_namespaces=15000")));
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
        String map = facts.host().ownUidMap() == null ? "unreadable" : facts.host().ownUidMap().toString();
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
        put(Finding.ok("PIVOT_ROOT_DENIED", "process", "pivot_root is tested live", null));
        Facts.Cgroup cg = facts.cgroup();
        String cev = "cgroup v" + cg.version() + ", " + cg.path() + (cg.readOnly() ? " (read-only mount)" : "")
                + (cg.writable() ? ", writable" : ", not writable by you");
        if (!cg.writable() && st.euid() == 0 && facts.initialUserNs()) {
            put(Finding.warn("CGROUP_READONLY", "process", "root's sandboxes need a writable cgroup; this one is not", cev,
                    facts.env().pick("run gvshim as a non-root user (rootless sandboxes skip cgroups)",
                            "run gvshim as a non-root user", "run gvshim as a non-root user, or delegate a cgroup to it")));
        } else {
            put(Finding.ok("CGROUP_READONLY", "process", cg.writable() ? "this process's cgroup is writable"
                    : "this process's cgroup is not writable: rootless sandboxes do not use it (resource limits of a spec"
                            + " are not enforced)", cev));
        }
    }

    private void idMapping() {
        Planner.Host h = facts.host();
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
        List<Helper> setuidOnly = helpers.stream().filter(x -> x.privileged() && x.setuid() && !x.fileCap()).toList();
        if (!setuidOnly.isEmpty() && !st.inBounding(ProcStatus.CAP_SYS_ADMIN)) {
            Helper x = setuidOnly.getFirst();
            String cap = x.name().equals("newgidmap") ? "cap_setgid" : "cap_setuid";
            put(Finding.warn("NEWUIDMAP_NEEDS_FCAPS", "id mapping", x.path() + " is setuid root, which writes maps as euid 0"
                            + " and then needs CAP_SYS_ADMIN (not in the bounding set here); file capabilities need nothing extra",
                    hev + "; CapBnd lacks CAP_SYS_ADMIN", "in the image: chmod u-s " + x.path() + " && setcap " + cap
                            + "+ep " + x.path() + " (and the same for " + (cap.equals("cap_setuid") ? "newgidmap with cap_setgid"
                            : "newuidmap with cap_setuid") + ")"));
        } else if (!setuidOnly.isEmpty() || helpers.stream().anyMatch(Helper::fileCap)) {
            put(Finding.ok("NEWUIDMAP_NEEDS_FCAPS", "id mapping", helpers.stream().allMatch(Helper::fileCap)
                    ? "the helpers have file capabilities" : "setuid helpers work here (CAP_SYS_ADMIN is in the bounding set)", hev));
        }
    }

    private void subIds(String id, String file, SubIds ids, Planner.Host h, String user, boolean privileged) {
        List<SubIds.Range> ranges = ids.rangesFor(h.userName(), h.status().euid());
        if (ranges.isEmpty()) {
            if (privileged && h.status().euid() == 0) {
                put(Finding.ok(id, "id mapping", file + " has no range for root: root maps 0-65535 directly", file));
                return;
            }
            String name = h.userName() == null ? "USER" : h.userName();
            put(Finding.warn(id, "id mapping", file + " has no range for " + user + ": mode full is impossible (single works)",
                    file + ": no line for " + name + " or " + h.status().euid(),
                    "as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + name
                            + " (any 65536 ids no other user has)"));
            return;
        }
        long total = ranges.stream().mapToLong(SubIds.Range::count).sum();
        String ev = file + ": " + String.join(", ", ranges.stream().map(r -> r.start() + "-" + (r.end() - 1)).toList());
        if (total < 65536) {
            put(Finding.warn(id, "id mapping", file + " gives " + user + " only " + total + " ids: images with ids above "
                    + total + " will fail to unpack", ev, "give the user 65536 ids in " + file));
        } else {
            put(Finding.ok(id, "id mapping", file + " gives " + user + " " + total + " ids", ev));
        }
    }

    private void sandbox(String runscVersion, StateDir.Choice stateDir) {
        if (facts.runsc() == null) {
            put(Finding.fail("RUNSC_MISSING", "sandbox", "runsc is not installed", "no runsc in $PATH, /usr/local/bin or /usr/bin",
                    "install gVisor (apt-get install runsc, or https://gvisor.dev/docs/user_guide/install/) or pass --runsc PATH"));
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
                        override(Finding.of(o.failure(), s, "sandbox"));
                    } else if (o.ok()) {
                        passed(o.step());
                    }
                }
            }
        }
    }

    private void passed(String step) {
        switch (step) {
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
        // measured: at depth x, MAX_DEPTH + 1 - x more levels can be created; the probe sits at depth + 1
        int depth = Math.max(0, MAX_DEPTH - below);
        String ev = o.evidence() + "; so gvshim runs at depth " + depth + " of " + MAX_DEPTH;
        if (below < LEVELS_BELOW_GVSHIM) {
            Failure f = explain.nesting(o.evidence(), below + 1);
            override(new Finding("USERNS_NESTING", Finding.Status.FAIL, "kernel", f.what() + ": " + f.why(), ev, f.fix()));
        } else if (below < LEVELS_BELOW_GVSHIM + 2) {
            override(Finding.warn("USERNS_NESTING", "kernel", "only " + (below + 1) + " user-namespace levels are left below"
                    + " this one: one more wrapper will break the sandbox", ev, "avoid adding user-namespace wrappers"));
        } else {
            override(Finding.ok("USERNS_NESTING", "kernel", (facts.initialUserNs() ? "gvshim runs in the initial user namespace"
                    : "gvshim runs inside a user namespace") + "; " + (below + 1) + " levels are left below it", ev));
        }
    }

    private static String names(long mask) {
        List<String> n = ProcStatus.capNames(mask);
        return n.isEmpty() ? "none" : n.size() > 12 ? n.size() + " capabilities" : String.join(",", n);
    }
}
