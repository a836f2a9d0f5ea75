package dev.gvshim.diagnose;

/**
 * Doctor's static checks of the kernel (user namespaces compiled in and enabled, their limit,
 * AppArmor's and SELinux's restrictions, the nesting seen from /proc/self/uid_map, Yama's
 * ptrace scope, /dev/kvm) and where gvshim runs, from files only.
 */
final class KernelChecks extends Checks {
    KernelChecks(Facts facts, Explain explain, Findings findings) {
        super(facts, explain, findings);
    }

    void run() {
        environment();
        kernel();
    }

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
}
