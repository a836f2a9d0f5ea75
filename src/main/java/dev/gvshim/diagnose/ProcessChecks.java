package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.runsc.RunscRelease;
import java.util.List;

/**
 * Doctor's static checks of this process: capabilities, seccomp, no_new_privs, AppArmor
 * confinement, what covers /proc, pivot_root (live only) and its cgroup.
 */
final class ProcessChecks extends Checks {
    ProcessChecks(Facts facts, Explain explain, Findings findings) {
        super(facts, explain, findings);
    }

    void run(RunscRelease release) {
        process(release);
    }

    private void process(RunscRelease release) {
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
        if ((!masks.isEmpty() || procRo) && release.bindsProc()) {
            put(Finding.ok("PROC_MASKED", "process", (procRo ? "/proc is read-only" : masks.size() + " path"
                    + (masks.size() == 1 ? " is" : "s are") + " mounted over /proc") + ", but this runsc (gVisor "
                    + release.label() + ") binds the host's /proc instead of mounting a fresh one: that does not stop it",
                    "/proc/self/mountinfo: " + String.join(" ", masks.stream().limit(8).toList()) + (procRo ? " /proc (ro)" : "")));
        } else if (!masks.isEmpty() || procRo) {
            Failure p = explain.probeStep("mount-proc", 1);
            put(Finding.fail("PROC_MASKED", "process", "a fresh /proc cannot be mounted: " + (procRo ? "/proc is read-only"
                    : masks.size() + " path" + (masks.size() == 1 ? " is" : "s are") + " mounted over it")
                    + "; runsc before 2024-03 (Debian 12's 2022-12 among them) then dies with `error mounting proc`",
                    "/proc/self/mountinfo: "
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

    private static String names(long mask) {
        List<String> n = ProcStatus.capNames(mask);
        return n.isEmpty() ? "none" : n.size() > 12 ? n.size() + " capabilities" : String.join(",", n);
    }
}
