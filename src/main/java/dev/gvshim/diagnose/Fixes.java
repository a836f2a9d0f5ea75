package dev.gvshim.diagnose;

import java.nio.file.Path;

/**
 * Fixes shared by several causes, written for the environment gvshim runs in ({@link
 * Environment#pick}: Docker, Kubernetes or the host): the seccomp profile, AppArmor, SELinux and
 * the other security modules, no_new_privs, a read-only state directory.
 */
final class Fixes extends Causes {
    Fixes(Explain x) {
        super(x);
    }

    /** The seccomp fix, for Docker, Kubernetes or the host. */
    String seccompFix(String what) {
        // In Docker the seccomp fix alone is not enough while /proc is masked: runsc then fails on
        // its fresh procfs (PROC_MASKED). Name both flags, so one round of fixes is enough.
        String paths = facts().mounts().below("/proc").isEmpty() ? "" : " --security-opt systempaths=unconfined";
        return env().pick("run the container with --security-opt seccomp=" + Explain.PROFILE + paths + " (gvshim's profile: Docker's"
                        + " default plus " + Explain.PROFILE_ADDS + (paths.isEmpty() ? "" : "; systempaths: runsc mounts a fresh /proc,"
                        + " which Docker's masked paths forbid") + "), or --security-opt seccomp=unconfined" + paths,
                "set securityContext.seccompProfile to {type: Localhost, localhostProfile: seccomp-gvshim.json} (" + Explain.PROFILE
                        + " copied to /var/lib/kubelet/seccomp/ on the node), or {type: Unconfined}",
                "run gvshim outside the seccomp filter that denies " + what
                        + " (systemd: remove SystemCallFilter= and RestrictNamespaces= from the unit)");
    }

    String apparmorUsernsFix() {
        return env().onHost("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0")
                + "; or install an AppArmor profile granting `userns,` to the gvshim launcher and runsc"
                + " (profile \"gvshim\" /usr/local/lib/gvshim/** flags=(unconfined) { userns, })";
    }

    String selinuxFix() {
        return env().pick("run the container with --security-opt label=type:container_engine_t (or label=disable)",
                "set securityContext.seLinuxOptions.type: container_engine_t",
                "allow user_namespace { create } and mounton for this domain (audit2allow on the AVC denials), or run"
                        + " gvshim in an unconfined domain");
    }

    /**
     * The state directory cannot be created because its parent is not writable: typically a
     * read-only root file system (docker run --read-only, Kubernetes readOnlyRootFilesystem).
     */
    String unwritableStateDirFix(Path parent) {
        return env().pick("run the container with --tmpfs " + parent + " (its root file system is read-only), or pass"
                        + " --root DIR on a writable mount",
                "mount an emptyDir volume at " + parent + " (readOnlyRootFilesystem), or pass --root DIR on a writable volume",
                "pass --root with a directory you own on a writable file system");
    }

    String noNewPrivsFix() {
        return env().pick("drop --security-opt no-new-privileges (or run with --userns single, which needs no helper)",
                "set securityContext.allowPrivilegeEscalation: true (or run with --userns single, which needs no helper)",
                "start gvshim without no_new_privs (systemd: NoNewPrivileges=no; setpriv: no --no-new-privs), or run"
                        + " with --userns single");
    }

    static String lsmCause(Facts f) {
        if (f.lsm().apparmorConfined()) {
            return "the AppArmor profile " + f.lsm().apparmorLabel() + " denies it";
        }
        if (f.lsm().selinuxEnforcing()) {
            return "SELinux (enforcing, context " + f.lsm().selinuxLabel() + ") denies it";
        }
        return "the kernel or a security module refused" + (f.lsm().active() == null ? "" : " (active: " + f.lsm().active() + ")");
    }

    String lsmFix(Facts f) {
        if (f.lsm().apparmorConfined()) {
            return env().pick("run the container with --security-opt apparmor=unconfined",
                    "set securityContext.appArmorProfile.type: Unconfined", "run gvshim under a profile that allows it");
        }
        if (f.lsm().selinuxEnforcing()) {
            return selinuxFix();
        }
        return "check the audit log (dmesg) for the denial";
    }
}
