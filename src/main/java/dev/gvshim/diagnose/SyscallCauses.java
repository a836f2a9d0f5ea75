package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.userns.IdMap;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The causes of a failed system call of gvshim's own start-up ({@link SyscallException} and its
 * {@link Step}): the user namespace refused (the kernel's refusals in create_user_ns() order,
 * then the security modules), the namespaces used up or nested too deep, an id map refused,
 * runsc not executable.
 */
final class SyscallCauses extends Causes {
    SyscallCauses(Explain x) {
        super(x);
    }

    /** A system call of gvshim's own start-up failed. */
    Failure syscall(SyscallException e) {
        Step step = e.step() == null ? Step.PROBE : e.step();
        String evidence = e.callAndErrno();
        return switch (step) {
            case CREATE_USERNS -> createUserns(evidence, e.errno());
            case WRITE_SETGROUPS, WRITE_UID_MAP, WRITE_GID_MAP -> writeMap(step, evidence, e.errno());
            case EXEC_RUNSC -> execRunsc(e, evidence);
            case STATE_DIR -> Failure.of("STATE_DIR_UNSAFE", "cannot prepare the state directory", evidence,
                    null, "pass --root with a directory you own");
            default -> Failure.of("SYSCALL_FAILED", "cannot " + step.label(), evidence, null,
                    "run with --debug and report the output");
        };
    }

    /** clone(CLONE_NEWUSER) failed: the kernel's refusals in create_user_ns() order, then the LSMs. */
    Failure createUserns(String evidence, int errno) {
        String what = "cannot create the user namespace";
        Facts f = facts();
        ProcStatus st = status();
        Long max = f.kernel().maxUserNamespaces();
        switch (errno) {
            case Errno.EPERM -> {
                if (st.seccompMode() == 2 && !st.inBounding(ProcStatus.CAP_SYS_ADMIN)) {
                    return Failure.of("USERNS_SECCOMP", what, evidence, (env().docker() || env().kind() == Environment.Kind.PODMAN
                                    ? "the container's seccomp profile denies CLONE_NEWUSER (Docker's default profile does this for"
                                            + " processes without CAP_SYS_ADMIN)"
                                    : "a seccomp filter denies CLONE_NEWUSER") + " (Seccomp: 2, Seccomp_filters: "
                                    + st.seccompFilters() + ", no CAP_SYS_ADMIN in CapBnd)",
                            x.fixes().seccompFix("user namespaces, mount, pivot_root and ptrace"));
                }
                Integer clone = f.kernel().unprivilegedUsernsClone();
                if (clone != null && clone == 0 && st.euid() != 0) {
                    return Failure.of("USERNS_DISABLED", what, evidence,
                            "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)",
                            env().onHost("sysctl -w kernel.unprivileged_userns_clone=1"));
                }
                if (st.seccompMode() == 2) {
                    return Failure.of("USERNS_SECCOMP", what, evidence,
                            "a seccomp filter denies CLONE_NEWUSER (Seccomp: 2, Seccomp_filters: " + st.seccompFilters() + ")",
                            x.fixes().seccompFix("user namespaces, mount, pivot_root and ptrace"));
                }
                if (!mapped(f.caller().ownUidMap(), st.euid())) {
                    return Failure.of("USERNS_UNMAPPED_ID", what, evidence,
                            "your uid " + st.euid() + " is not mapped in the user namespace you are in ("
                                    + f.caller().ownUidMap() + ")", "run gvshim as a user that is mapped here");
                }
                if (f.lsm().selinuxEnforcing()) {
                    return Failure.of("USERNS_SELINUX", what, evidence,
                            "SELinux (enforcing, context " + f.lsm().selinuxLabel() + ") denies user_namespace create",
                            x.fixes().selinuxFix());
                }
                // create_user_ns() refuses a chrooted caller (current_chrooted()); in a chroot, no mount of
                // /proc/self/mountinfo is at / (the mounts above the chroot are not visible from it)
                if (!f.mounts().entries().isEmpty() && f.mounts().at("/") == null) {
                    return Failure.of("USERNS_DENIED", what, evidence, "gvshim runs in a chroot: no mount is at / in"
                            + " /proc/self/mountinfo, and the kernel refuses user namespaces to a chrooted process",
                            "run gvshim outside the chroot (in a mount namespace of its own, pivot_root instead of chroot)");
                }
                return Failure.of("USERNS_DENIED", what, evidence,
                        "the kernel or a security module refused (no seccomp filter: Seccomp " + st.seccompMode()
                                + "; not a chroot; " + (f.lsm().active() == null ? "no LSM list readable"
                                        : "active security modules: " + f.lsm().active()) + ")",
                        "check the audit log (dmesg) for a denial");
            }
            case Errno.ENOSPC, Errno.EUSERS -> {
                Failure used = namespacesUsedUp(evidence, -1, LiveProbe.NOT_RUN);
                return Failure.of(used.id(), what, evidence, used.why(), used.fix());
            }
            case Errno.EACCES -> {
                Integer restrict = f.kernel().apparmorRestrict();
                if (restrict != null && restrict == 1) {
                    return Failure.of("USERNS_APPARMOR", what, evidence,
                            "AppArmor denies unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1"
                                    + (f.lsm().apparmorLabel() == null ? "" : ", this process: " + f.lsm().apparmorLabel())
                                    + "; Ubuntu 23.10 and later)",
                            x.fixes().apparmorUsernsFix());
                }
                if (f.lsm().selinuxEnforcing()) {
                    return Failure.of("USERNS_SELINUX", what, evidence,
                            "SELinux (enforcing, context " + f.lsm().selinuxLabel() + ") denies user_namespace create",
                            x.fixes().selinuxFix());
                }
                return Failure.of("USERNS_DENIED", what, evidence,
                        "a security module denied it" + (f.lsm().active() == null ? "" : " (active: " + f.lsm().active() + ")"),
                        "check the audit log (dmesg) for the denial and allow user namespace creation for gvshim");
            }
            case Errno.EINVAL -> {
                if (!f.kernel().userNs()) {
                    return Failure.of("USERNS_UNSUPPORTED", what, evidence,
                            "this kernel has no user-namespace support (no /proc/self/ns/user: CONFIG_USER_NS is off)",
                            "use a kernel built with CONFIG_USER_NS=y");
                }
                if ("N".equals(f.kernel().moduleEnable())) {
                    return Failure.of("USERNS_DISABLED", what, evidence,
                            "user namespaces are disabled (user_namespace.enable=N on the kernel command line)",
                            "boot with user_namespace.enable=1 and set user.max_user_namespaces");
                }
                return Failure.of("USERNS_DENIED", what, evidence, "the kernel refused the flags", "report it with `gvshim doctor --json`");
            }
            default -> {
                return Failure.of("USERNS_DENIED", what, evidence, null, "run `gvshim doctor` for the full analysis");
            }
        }
    }

    /** "user.max_user_namespaces = 1, read in the user namespace gvshim runs in (uid_map 0 1001 1), not the initial one" */
    String maxUserNamespaces() {
        Facts f = facts();
        Long max = f.kernel().maxUserNamespaces();
        return "user.max_user_namespaces = " + (max == null ? "unreadable" : max) + ", read in "
                + (f.initialUserNs() ? "the initial user namespace" : "the user namespace gvshim runs in (its uid_map: "
                        + f.caller().ownUidMap() + "), not the initial one");
    }

    /**
     * No more user namespaces (clone: ENOSPC): a user.max_user_namespaces of 0 (disabled), a
     * positive one used up (a count: of this namespace or of one above it, create_user_ns() then
     * inc_ucount()), or the kernel's depth of 32. They share the errno; the facts tell them apart:
     * in the initial namespace it cannot be depth; a limit read here that the namespaces already
     * made reach is the count; and the live probe's side-by-side measure ({@code wide}: as many
     * side by side as stacked means a count, more means depth). Without those, both are named.
     *
     * @param below how many levels could be nested below gvshim's (the probe's) namespace: -1 when
     *              not even gvshim's own could be created, 0 when runsc's (the next) could not
     * @param wide  namespaces held side by side at gvshim's level, or {@link LiveProbe#NOT_RUN}
     */
    Failure namespacesUsedUp(String evidence, int below, int wide) {
        Facts f = facts();
        Long max = f.kernel().maxUserNamespaces();
        String what = below < 0 ? "cannot create the user namespace" : "cannot nest the sandbox's user namespace";
        String read = maxUserNamespaces();
        String raise = f.initialUserNs() ? env().onHost("sysctl -w user.max_user_namespaces=15000")
                : "sysctl -w user.max_user_namespaces=15000 in the namespace that set it (in this one its owner may: unshare's"
                        + " root, a container's root)";
        if (max != null && max == 0) {
            return Failure.of("USERNS_DISABLED", what, evidence, "user namespaces are disabled: " + read,
                    f.initialUserNs() ? raise : "whoever set it to 0 in this namespace: sysctl -w user.max_user_namespaces=15000");
        }
        int made = below + 1; // namespaces of this user that existed below here when it failed: gvshim's and those nested
        boolean initial = f.initialUserNs();
        boolean countHere = max != null && made >= 1 && max <= made;
        boolean countMeasured = wide != LiveProbe.NOT_RUN && wide < made + 1;
        boolean depthMeasured = wide != LiveProbe.NOT_RUN && wide >= made + 1;
        if (initial || countHere || countMeasured) {
            String why;
            if (countHere) {
                why = read + ", allows " + max + " user namespace" + (max == 1 ? "" : "s") + " there, and a sandbox needs 2"
                        + " (gvshim's and runsc's)";
            } else if (countMeasured) {
                why = "only " + wide + " user namespace" + (wide == 1 ? "" : "s") + " could be created side by side where "
                        + made + " were nested (measured), so a count limit is reached, not the depth: " + read
                        + (initial ? "" : ", so the limit is that of a namespace above this one, or your other namespaces hold"
                                + " the count");
            } else {
                why = "the user namespaces allowed per user are used up (" + read + "); runsc needs one more per sandbox";
            }
            return Failure.of("USERNS_LIMIT", what, evidence, why, raise + "; or remove leaked sandboxes (lsns -t user lists"
                    + " them)");
        }
        if (depthMeasured) {
            return nesting(evidence, Math.max(below + 1, 0), wide + " side by side, so it is the depth, not a count");
        }
        return nesting(evidence, Math.max(below + 1, 0), null);
    }

    /** Too deep: the kernel allows 32 nested user namespaces below the initial one. */
    Failure nesting(String evidence, int levelsLeft) {
        return nesting(evidence, levelsLeft, null);
    }

    /** @param measured why it is depth, when measured; null: a count limit above is named as well */
    private Failure nesting(String evidence, int levelsLeft, String measured) {
        return Failure.of("USERNS_NESTING", "cannot nest another user namespace", evidence,
                "gvshim runs " + (levelsLeft == 0 ? "at" : "near") + " the kernel's limit of 32 nested user namespaces ("
                        + (levelsLeft == 0 ? "no level" : levelsLeft == 1 ? "1 level" : levelsLeft + " levels")
                        + " left below this one; the sandbox needs 2: gvshim's and runsc's)"
                        + (measured != null ? " (measured: " + measured + ")"
                                : ", or a user.max_user_namespaces above this namespace is used up (it cannot be read from here; "
                                        + maxUserNamespaces() + ")"),
                "run gvshim in a less deeply nested namespace (do not wrap it in unshare -U or another rootless"
                        + " runtime); from the host, lsns -t user shows the chain");
    }

    private static boolean mapped(IdMap own, long id) {
        return own == null || own.lineOf(id) != null;
    }

    private Failure writeMap(Step step, String evidence, int errno) {
        String what = "cannot " + step.label();
        Facts f = facts();
        Integer restrict = f.kernel().apparmorRestrict();
        if (errno == Errno.EPERM && restrict != null && restrict == 1) {
            return Failure.of("USERNS_APPARMOR", what, evidence,
                    "AppArmor moved the new namespace into the unprivileged_userns profile, which denies every capability"
                            + " (kernel.apparmor_restrict_unprivileged_userns = 1)",
                    x.fixes().apparmorUsernsFix());
        }
        if (errno == Errno.EACCES && f.lsm().selinuxEnforcing()) {
            return Failure.of("USERNS_SELINUX", what, evidence, "SELinux denies writing the id map", x.fixes().selinuxFix());
        }
        return Failure.of("IDMAP_DENIED", what, evidence,
                "the kernel refused the map (user_namespaces(7): without CAP_SETUID only one line mapping your own id,"
                        + " written once, after setgroups is set to deny)",
                "run `gvshim doctor` for the full analysis");
    }

    private Failure execRunsc(SyscallException e, String evidence) {
        if (e.errno() == Errno.ENOENT) {
            return Failure.of("RUNSC_MISSING", "cannot execute runsc", evidence, e.detail() + " does not exist",
                    "install gVisor (apt-get install runsc) or pass --runsc PATH");
        }
        if (e.errno() == Errno.EACCES) {
            Path p = Path.of(e.detail());
            Mounts.Entry m = facts().mounts().holding(p.toString());
            if (Files.isExecutable(p) && m != null && m.options().contains("noexec")) {
                return Failure.of("RUNSC_NOT_EXECUTABLE", "cannot execute runsc", evidence, e.detail() + " is on a file system"
                        + " mounted noexec (" + m.mountPoint() + ", /proc/self/mountinfo)", "install runsc on a file system"
                        + " mounted without noexec (/usr/local/bin), or pass --runsc with such a path");
            }
            return Failure.of("RUNSC_NOT_EXECUTABLE", "cannot execute runsc", evidence,
                    e.detail() + " (" + FileCauses.ownerAndMode(p) + ") is not executable by you", "chmod 755 " + e.detail()
                            + " or install runsc elsewhere");
        }
        return Failure.of("RUNSC_EXEC_FAILED", "cannot execute runsc", evidence, null, null);
    }
}
