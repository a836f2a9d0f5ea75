package dev.gvshim.diagnose;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.IdMap;
import dev.gvshim.userns.MappingFailed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cause engine: turns one failed step (a system call and its errno, a helper's exit and
 * message, runsc's error and the FATAL lines of its logs) plus the static {@link Facts} into
 * a {@link Failure} with a stable id, the cause and the fix for the environment gvshim runs
 * in. `gvshim run` calls it where a step fails; `gvshim doctor` calls it for the first
 * failing step of its live probe, so both always name the same cause.
 * Sources for each cause: ../shared/research/anchors.md §2 (34 causes) and docker-lab.md.
 */
public final class Explain {
    /** The seccomp profile shipped in docker/: Docker's default plus what a rootless sandbox needs. */
    public static final String PROFILE = "docker/seccomp-gvshim.json";
    /** What {@link #PROFILE} adds to Docker's default: each one measured necessary (DockerImagesIT). */
    static final String PROFILE_ADDS = "clone with namespace flags, mount, umount2 and pivot_root";

    private final Supplier<Facts> facts;
    private Facts read;

    public Explain(Facts facts) {
        this.facts = () -> facts;
    }

    /** Reads the facts only when a failure needs explaining: the success path pays nothing. */
    public Explain(Supplier<Facts> facts) {
        this.facts = facts;
    }

    Facts facts() {
        if (read == null) {
            read = facts.get();
        }
        return read;
    }

    private Environment env() {
        return facts().env();
    }

    private ProcStatus status() {
        return facts().status();
    }

    // ---- fixes shared by several causes -------------------------------------------------

    /** The seccomp fix, for Docker, Kubernetes or the host. */
    String seccompFix(String what) {
        // In Docker the seccomp fix alone is not enough while /proc is masked: runsc then fails on
        // its fresh procfs (PROC_MASKED). Name both flags, so one round of fixes is enough.
        String paths = facts().mounts().below("/proc").isEmpty() ? "" : " --security-opt systempaths=unconfined";
        return env().pick("run the container with --security-opt seccomp=" + PROFILE + paths + " (gvshim's profile: Docker's"
                        + " default plus " + PROFILE_ADDS + (paths.isEmpty() ? "" : "; systempaths: runsc mounts a fresh /proc,"
                        + " which Docker's masked paths forbid") + "), or --security-opt seccomp=unconfined" + paths,
                "set securityContext.seccompProfile to {type: Localhost, localhostProfile: seccomp-gvshim.json} (" + PROFILE
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
    public String unwritableStateDirFix(Path parent) {
        return env().pick("run the container with --tmpfs " + parent + " (its root file system is read-only), or pass"
                        + " --root DIR on a writable mount",
                "mount an emptyDir volume at " + parent + " (readOnlyRootFilesystem), or pass --root DIR on a writable volume",
                "pass --root with a directory you own on a writable file system");
    }

    /**
     * A non-root caller's sandbox runs as that caller (the namespace's root is mapped to it), so
     * runsc's gofer can enter the root file system only if the caller may: checked before runsc
     * starts, where gvshim can still name the directory (runsc says only {@code failed to chroot
     * to "/root": permission denied}). Null when the caller can read and search it.
     */
    public static Failure rootfsAccess(Path rootfs, long uid) {
        if (uid == 0 || (Files.isExecutable(rootfs) && Files.isReadable(rootfs))) {
            return null;
        }
        Path blocked = rootfs; // unless a parent cannot be searched: the rootfs itself failed the check above
        Path dir = rootfs.getRoot();
        for (Path name : rootfs) {
            if (!Files.isExecutable(dir)) {
                blocked = dir;
                break;
            }
            dir = dir.resolve(name);
        }
        return Failure.of("ROOTFS_NOT_ACCESSIBLE", "cannot use the root file system " + rootfs, null,
                blocked + " (" + ownerAndMode(blocked) + ") is not " + (blocked.equals(rootfs) ? "readable and searchable"
                        : "searchable") + " by uid " + uid + ", the user the sandbox runs as, so runsc cannot enter it",
                blocked.equals(rootfs) ? "chmod a+rx " + rootfs + ", or chown -R " + uid + " " + rootfs
                        : "chmod a+x " + blocked + ", or move the root file system where uid " + uid + " can reach it");
    }

    /** config.json cannot be read by the caller: permission denied on it or a directory above it. */
    public static Failure bundleUnreadable(Path config) {
        return Failure.of("BUNDLE_UNREADABLE", "cannot read " + config, null,
                "permission denied (the bundle directory or config.json is not readable by the user running gvshim)",
                "chmod a+rx the bundle directory and its parents and a+r " + config + ", or run gvshim as their owner");
    }

    private static String ownerAndMode(Path p) {
        try {
            var a = Files.readAttributes(p, PosixFileAttributes.class);
            return "owner " + a.owner().getName() + ", mode " + PosixFilePermissions.toString(a.permissions());
        } catch (IOException | RuntimeException e) {
            return "not readable: " + e.getMessage();
        }
    }

    // ---- gvshim's own steps ---------------------------------------------------------------

    /** A system call of gvshim's own start-up failed. */
    public Failure syscall(SyscallException e) {
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
    public Failure createUserns(String evidence, int errno) {
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
                            seccompFix("user namespaces, mount, pivot_root and ptrace"));
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
                            seccompFix("user namespaces, mount, pivot_root and ptrace"));
                }
                if (!mapped(f.host().ownUidMap(), st.euid())) {
                    return Failure.of("USERNS_UNMAPPED_ID", what, evidence,
                            "your uid " + st.euid() + " is not mapped in the user namespace you are in ("
                                    + f.host().ownUidMap() + ")", "run gvshim as a user that is mapped here");
                }
                if (f.lsm().selinuxEnforcing()) {
                    return Failure.of("USERNS_SELINUX", what, evidence,
                            "SELinux (enforcing, context " + f.lsm().selinuxLabel() + ") denies user_namespace create",
                            selinuxFix());
                }
                return Failure.of("USERNS_DENIED", what, evidence,
                        "the kernel refused: gvshim runs in a chroot (its root is not the root of its mount namespace),"
                                + " or a security module denied it",
                        "run gvshim outside the chroot; check the audit log (dmesg) for a denial");
            }
            case Errno.ENOSPC, Errno.EUSERS -> {
                if (max != null && max == 0) {
                    return Failure.of("USERNS_DISABLED", what, evidence,
                            "user namespaces are disabled (user.max_user_namespaces = 0"
                                    + (f.initialUserNs() ? ")" : " in the user namespace gvshim runs in)"),
                            f.initialUserNs() ? env().onHost("sysctl -w user.max_user_namespaces=15000")
                                    : "whoever set it to 0 in this namespace: sysctl -w user.max_user_namespaces=15000");
                }
                if (f.initialUserNs()) {
                    return Failure.of("USERNS_LIMIT", what, evidence,
                            "the limit of user namespaces per user is reached (user.max_user_namespaces = " + max
                                    + "); runsc needs one more per sandbox",
                            env().onHost("sysctl -w user.max_user_namespaces=15000")
                                    + "; or remove leaked sandboxes (lsns -t user lists them)");
                }
                return nesting(evidence, 0);
            }
            case Errno.EACCES -> {
                Integer restrict = f.kernel().apparmorRestrict();
                if (restrict != null && restrict == 1) {
                    return Failure.of("USERNS_APPARMOR", what, evidence,
                            "AppArmor denies unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1"
                                    + (f.lsm().apparmorLabel() == null ? "" : ", this process: " + f.lsm().apparmorLabel())
                                    + "; Ubuntu 23.10 and later)",
                            apparmorUsernsFix());
                }
                if (f.lsm().selinuxEnforcing()) {
                    return Failure.of("USERNS_SELINUX", what, evidence,
                            "SELinux (enforcing, context " + f.lsm().selinuxLabel() + ") denies user_namespace create",
                            selinuxFix());
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

    /** Too deep: the kernel allows 32 nested user namespaces below the initial one. */
    Failure nesting(String evidence, int levelsLeft) {
        return Failure.of("USERNS_NESTING", "cannot nest another user namespace", evidence,
                "gvshim runs " + (levelsLeft == 0 ? "at" : "near") + " the kernel's limit of 32 nested user namespaces ("
                        + (levelsLeft == 0 ? "no level" : levelsLeft == 1 ? "1 level" : levelsLeft + " levels")
                        + " left below this one; the sandbox needs 2: gvshim's and runsc's), or a parent namespace's"
                        + " user.max_user_namespaces is used up",
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
                    apparmorUsernsFix());
        }
        if (errno == Errno.EACCES && f.lsm().selinuxEnforcing()) {
            return Failure.of("USERNS_SELINUX", what, evidence, "SELinux denies writing the id map", selinuxFix());
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
            return Failure.of("RUNSC_NOT_EXECUTABLE", "cannot execute runsc", evidence,
                    e.detail() + " is not executable by you, or lives on a noexec file system",
                    "chmod 755 " + e.detail() + " or install runsc elsewhere");
        }
        return Failure.of("RUNSC_EXEC_FAILED", "cannot execute runsc", evidence, null, null);
    }

    // ---- newuidmap / newgidmap ------------------------------------------------------------

    /** newuidmap or newgidmap failed: five causes share one message, told apart by evidence. */
    public Failure mapping(MappingFailed m, Helper helper, String userName) {
        boolean uid = m.helper().equals("newuidmap");
        String what = "cannot map " + (uid ? "user" : "group") + " ids with " + m.helper();
        String out = m.output();
        String evidence = String.join(" ", m.argv()) + ": " + m.status() + (out.isEmpty() ? "" : ": " + out);
        String file = uid ? "/etc/subuid" : "/etc/subgid";
        String user = userName == null ? "USER" : userName;
        ProcStatus st = status();
        String cap = uid ? "cap_setuid" : "cap_setgid";
        if (out.contains("not allowed")) {
            return Failure.of(uid ? "SUBUID_MISSING" : "SUBGID_MISSING", what, evidence,
                    file + " gives " + (userName == null ? "this user" : userName) + " no range covering these ids",
                    "as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + user
                            + " (any 65536 ids no other user has), or run with --userns single");
        }
        if (out.contains("Cannot determine your user name")) {
            return Failure.of("NO_PASSWD_ENTRY", what, evidence, "uid " + st.euid() + " has no /etc/passwd entry",
                    "add a passwd entry for it, or run with --userns single");
        }
        if (st.noNewPrivs()) {
            return Failure.of("NO_NEW_PRIVS", what, evidence,
                    "NoNewPrivs is set, so " + m.helper() + "'s setuid bit or file capabilities are ignored",
                    noNewPrivsFix());
        }
        int needed = uid ? ProcStatus.CAP_SETUID : ProcStatus.CAP_SETGID;
        if (helper != null && helper.privileged() && !st.inBounding(needed)) {
            return Failure.of("NEWUIDMAP_CAPS_DROPPED", what, evidence,
                    (uid ? "CAP_SETUID" : "CAP_SETGID") + " is not in the bounding set, so " + m.helper()
                            + " cannot gain it (cap-drop ALL)",
                    env().pick("add --cap-add SETUID --cap-add SETGID", "add SETUID and SETGID to securityContext.capabilities.add",
                            "keep CAP_SETUID and CAP_SETGID in the bounding set")
                            + ", or run with --userns single");
        }
        if (helper != null && helper.setuid() && !helper.fileCap() && !st.inBounding(ProcStatus.CAP_SYS_ADMIN)) {
            return Failure.of("NEWUIDMAP_NEEDS_FCAPS", what, evidence,
                    helper.path() + " is setuid root: it writes the map as euid 0, which needs CAP_SYS_ADMIN here (not in"
                            + " the bounding set); file capabilities keep your own uid and need nothing extra",
                    "in the image: chmod u-s " + helper.path() + " && setcap " + cap + "+ep " + helper.path()
                            + ", or run with --userns single");
        }
        if (helper != null && !helper.privileged()) {
            return Failure.of("NEWUIDMAP_UNPRIVILEGED", what, evidence, helper.describe(),
                    "as root: chmod u+s " + helper.path() + " (or setcap " + cap + "+ep " + helper.path()
                            + "; reinstalling uidmap restores it), or run with --userns single");
        }
        Integer restrict = facts().kernel().apparmorRestrict();
        if (restrict != null && restrict == 1) {
            return Failure.of("USERNS_APPARMOR", what, evidence,
                    "AppArmor's unprivileged_userns profile denies the capabilities the map needs", apparmorUsernsFix());
        }
        return Failure.of("IDMAP_HELPER_FAILED", what, evidence, null,
                "run `gvshim doctor`, or run with --userns single");
    }

    String noNewPrivsFix() {
        return env().pick("drop --security-opt no-new-privileges (or run with --userns single, which needs no helper)",
                "set securityContext.allowPrivilegeEscalation: true (or run with --userns single, which needs no helper)",
                "start gvshim without no_new_privs (systemd: NoNewPrivileges=no; setpriv: no --no-new-privs), or run"
                        + " with --userns single");
    }

    // ---- inside the new namespace: the live probe's steps ---------------------------------

    /** A step of gvshim-probe failed (see native/gvshim_probe.c for the names). */
    public Failure probeStep(String step, int errno) {
        Facts f = facts();
        ProcStatus st = status();
        String evidence = call(step) + ": " + Errno.name(errno) + " (" + Errno.describe(errno) + ")";
        boolean seccomp = st.seccompMode() == 2;
        switch (step) {
            case "unshare-mnt", "unshare-pid", "unshare-net", "unshare-ipc", "unshare-uts" -> {
                String ns = step.substring("unshare-".length());
                return Failure.of("NAMESPACE_DENIED", "cannot create a " + ns + " namespace inside the user namespace",
                        evidence, seccomp ? "a seccomp filter denies " + call(step) + " (Seccomp: 2)" : lsmCause(f),
                        seccomp ? seccompFix("namespaces, mount, pivot_root and ptrace") : lsmFix(f));
            }
            case "mount-private", "mount-tmpfs", "umount-old" -> {
                return mountDenied(step.equals("umount-old") ? "umount2" : "mount", evidence, seccomp, f);
            }
            case "mount-proc" -> {
                List<String> masks = f.mounts().below("/proc");
                if (errno == Errno.EPERM && (!masks.isEmpty() || !seccomp)) {
                    return procMasked(evidence, masks);
                }
                return mountDenied("mount", evidence, seccomp, f);
            }
            case "mount-sysfs" -> {
                return Failure.of("SYSFS_MASKED", "cannot mount a fresh sysfs", evidence,
                        "parts of /sys are masked or read-only (" + String.join(", ", f.mounts().below("/sys").stream().limit(4).toList())
                                + "); runsc does not need it, runc-style runtimes bind /sys instead",
                        null);
            }
            case "pivot-root" -> {
                if (errno == Errno.EINVAL) {
                    return Failure.of("PIVOT_ROOT_DENIED", "cannot pivot_root", evidence,
                            "the root file system has no parent mount (an initramfs root)",
                            "boot into a real root file system (switch_root), or run gvshim in a container");
                }
                return Failure.of("PIVOT_ROOT_DENIED", "cannot pivot_root", evidence,
                        seccomp ? (env().docker() ? "the container's seccomp profile does not allow pivot_root (Docker's"
                                + " default profile never does, even with CAP_SYS_ADMIN)" : "a seccomp filter denies pivot_root")
                                : lsmCause(f),
                        seccomp ? seccompFix("pivot_root") : lsmFix(f));
            }
            case "ptrace" -> {
                return ptraceDenied(evidence, seccomp, f);
            }
            default -> {
                return Failure.of("PROBE_FAILED", "cannot " + step, evidence, null, null);
            }
        }
    }

    /**
     * gvshim-nsexec failed before runsc ran ("gvshim-nsexec: STEP: errno N: TEXT"): its private
     * mount namespace and the nodev copies of the root file system and bind sources. A denied
     * unshare or mount is the live probe's step of the same name, so the one line and its id are
     * what `gvshim doctor` says (MOUNT_DENIED, NAMESPACE_DENIED).
     */
    public Failure nsexec(String message) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("gvshim-nsexec: (.*): errno (\\d+): (.*)").matcher(message);
        if (m.matches()) {
            String step = m.group(1);
            int errno = Integer.parseInt(m.group(2));
            if (step.startsWith("unshare")) {
                return probeStep("unshare-mnt", errno);
            }
            if (step.startsWith("mount(") && (errno == Errno.EPERM || errno == Errno.EACCES)) {
                return probeStep("mount-private", errno);
            }
        }
        return Failure.of("NODEV_MOUNT", "cannot prepare the sandbox's mounts", message.replaceFirst("^gvshim-nsexec: ", ""),
                "gvshim gives runsc copies of the root file system and bind mounts on which no device node can be opened"
                        + " (runsc applies no device rules, and its gofer would open a host device node found there)",
                "check that the bundle's root file system and mount sources exist");
    }

    private Failure mountDenied(String syscall, String evidence, boolean seccomp, Facts f) {
        String why;
        String fix;
        if (f.lsm().apparmorConfined()) {
            why = "the AppArmor profile " + f.lsm().apparmorLabel() + " denies mount (Docker's docker-default has `deny mount`)";
            fix = env().pick("run the container with --security-opt apparmor=unconfined (or a profile that allows mount)",
                    "set securityContext.appArmorProfile.type: Unconfined", "run gvshim under a profile that allows mount");
        } else if (seccomp) {
            why = "a seccomp filter denies " + syscall + " (Seccomp: 2)";
            fix = seccompFix("mount, umount2, pivot_root and ptrace");
        } else {
            why = lsmCause(f);
            fix = lsmFix(f);
        }
        return Failure.of("MOUNT_DENIED", "cannot mount inside the new namespaces", evidence, why, fix);
    }

    private Failure procMasked(String evidence, List<String> masks) {
        String shown = masks.isEmpty() ? "/proc is read-only or overmounted"
                : "/proc has " + masks.size() + " masked path" + (masks.size() == 1 ? "" : "s") + ": "
                        + String.join(" ", masks.stream().limit(5).toList()) + (masks.size() > 5 ? " ..." : "");
        return Failure.of("PROC_MASKED", "cannot mount a fresh /proc for the sandbox", evidence,
                shown + ", so the kernel refuses a new procfs (mount_too_revealing); runsc dies with `error mounting"
                        + " proc` behind a bare EOF",
                env().pick("add --security-opt systempaths=unconfined (Docker masks /proc paths by default)",
                        "set securityContext.procMount: Unmasked (needs hostUsers: false)",
                        "unmount what covers /proc (findmnt -R /proc lists it)"));
    }

    private Failure ptraceDenied(String evidence, boolean seccomp, Facts f) {
        Integer scope = f.kernel().ptraceScope();
        String why;
        String fix;
        if (scope != null && scope == 3) {
            why = "Yama forbids every ptrace attach (kernel.yama.ptrace_scope = 3, which cannot be lowered until reboot)";
            fix = "reboot with kernel.yama.ptrace_scope = 1 (/etc/sysctl.d/)";
        } else if (seccomp) {
            why = "a seccomp filter denies ptrace (Seccomp: 2)";
            fix = seccompFix("ptrace");
        } else if (scope != null && scope == 2) {
            why = "Yama allows ptrace only with CAP_SYS_PTRACE (kernel.yama.ptrace_scope = 2)";
            fix = env().onHost("sysctl -w kernel.yama.ptrace_scope=1");
        } else {
            why = lsmCause(f);
            fix = lsmFix(f);
        }
        if (f.kvm().usable()) {
            fix += "; or use --platform kvm (/dev/kvm is usable here and needs no ptrace)";
        }
        return Failure.of("PTRACE_DENIED", "cannot ptrace a process of the sandbox", evidence,
                why + "; gVisor's ptrace and systrap platforms attach to their stub processes", fix);
    }

    private static String lsmCause(Facts f) {
        if (f.lsm().apparmorConfined()) {
            return "the AppArmor profile " + f.lsm().apparmorLabel() + " denies it";
        }
        if (f.lsm().selinuxEnforcing()) {
            return "SELinux (enforcing, context " + f.lsm().selinuxLabel() + ") denies it";
        }
        return "the kernel or a security module refused" + (f.lsm().active() == null ? "" : " (active: " + f.lsm().active() + ")");
    }

    private String lsmFix(Facts f) {
        if (f.lsm().apparmorConfined()) {
            return env().pick("run the container with --security-opt apparmor=unconfined",
                    "set securityContext.appArmorProfile.type: Unconfined", "run gvshim under a profile that allows it");
        }
        if (f.lsm().selinuxEnforcing()) {
            return selinuxFix();
        }
        return "check the audit log (dmesg) for the denial";
    }

    private static String call(String step) {
        return switch (step) {
            case "unshare-mnt" -> "clone(CLONE_NEWNS)";
            case "unshare-pid" -> "clone(CLONE_NEWPID)";
            case "unshare-net" -> "clone(CLONE_NEWNET)";
            case "unshare-ipc" -> "clone(CLONE_NEWIPC)";
            case "unshare-uts" -> "clone(CLONE_NEWUTS)";
            case "mount-private" -> "mount(\"/\", MS_REC|MS_PRIVATE)";
            case "mount-tmpfs" -> "mount(\"tmpfs\")";
            case "mount-proc" -> "mount(\"proc\")";
            case "mount-sysfs" -> "mount(\"sysfs\")";
            case "pivot-root" -> "pivot_root";
            case "umount-old" -> "umount2(old root, MNT_DETACH)";
            case "ptrace" -> "ptrace(PTRACE_ATTACH)";
            case "nest" -> "clone(CLONE_NEWUSER), nested";
            default -> step;
        };
    }

    // ---- runsc's own errors ---------------------------------------------------------------

    private static final Pattern NOT_FOUND = Pattern.compile(
            "(?:failed to load (\\S+): no such file or directory|error finding executable \"([^\"]+)\" in PATH)");
    private static final Pattern CHROOT_DENIED = Pattern.compile("chroot to \"[^\"]*\": permission denied");
    private static final Pattern NOT_EXECUTABLE = Pattern.compile("failed to load (\\S+): (permission denied|exec format error)");

    /**
     * runsc exited with its own error (the {"level":"error"} line of --log), with the FATAL
     * lines of its debug logs for failures that it reports only as "EOF".
     */
    public Failure runsc(String message, List<String> fatal) {
        String msg = message == null ? "" : message;
        Matcher nf = NOT_FOUND.matcher(msg);
        if (nf.find()) {
            String cmd = nf.group(1) != null ? nf.group(1) : nf.group(2);
            return new Failure("COMMAND_NOT_FOUND", "cannot run `" + cmd + "`", null,
                    "not found in the sandbox's root file system" + (nf.group(2) != null ? " ($PATH)" : ""),
                    "check the command, --rootfs and --mount", Failure.EXIT_NOT_FOUND);
        }
        Matcher ne = NOT_EXECUTABLE.matcher(msg);
        if (ne.find()) {
            return new Failure("COMMAND_NOT_EXECUTABLE", "cannot run `" + ne.group(1) + "`", null, ne.group(2),
                    "make it executable inside the root file system", Failure.EXIT_NOT_EXECUTABLE);
        }
        String all = (msg + "\n" + String.join("\n", fatal)).toLowerCase(Locale.ROOT);
        String evidence = "runsc: " + lastClause(msg) + fatal.stream().findFirst().map(f -> "; " + f).orElse("");
        String what = "cannot start the gVisor sandbox";
        Facts f = facts();
        boolean seccomp = status().seccompMode() == 2;
        if (all.contains("sandbox network isn't supported with --rootless")
                || all.contains("cannot run with network enabled in root network namespace")) {
            return Failure.of("NETWORK_SANDBOX_UNSUPPORTED", what, evidence,
                    "this runsc cannot give the sandbox its own network stack here",
                    "use --network none (no network) or --network host");
        }
        if (all.contains("error mounting proc")) {
            Failure p = procMasked(evidence, f.mounts().below("/proc"));
            return Failure.of(p.id(), what, evidence, p.why(), p.fix());
        }
        if (all.contains("pivot_root")) {
            return Failure.of("PIVOT_ROOT_DENIED", what, evidence,
                    seccomp ? "pivot_root is denied by the seccomp profile (Docker's default never allows it, even with"
                            + " CAP_SYS_ADMIN)" : "pivot_root is denied (" + lsmCause(f) + ")",
                    seccomp ? seccompFix("pivot_root") : lsmFix(f));
        }
        if (all.contains("unable to attach") || all.contains("ptrace")) {
            Failure p = ptraceDenied(evidence, seccomp, f);
            return Failure.of(p.id(), what, evidence, p.why(), p.fix());
        }
        Matcher chroot = CHROOT_DENIED.matcher(all);
        if (chroot.find()) {
            return Failure.of("ROOTFS_NOT_ACCESSIBLE", what, evidence,
                    "runsc cannot enter the container's root file system (the sandbox runs as the calling user, who cannot"
                            + " read or search the bundle's rootfs directory or one of its parents)",
                    "make the rootfs directory and its parents readable and searchable by the user running gvshim"
                            + " (chmod a+rx), or chown -R the rootfs to that user");
        }
        if (all.contains("error converting mounts") || (all.contains("mount") && (all.contains(": operation not permitted")
                || all.contains(": permission denied")) && !all.contains("fork/exec"))) {
            Failure m = mountDenied("mount", evidence, seccomp, f);
            return Failure.of(m.id(), what, evidence, m.why(), m.fix());
        }
        if (all.contains("configuring cgroup") || all.contains("cgroup.subtree_control")) {
            return Failure.of("CGROUP_READONLY", what, evidence,
                    "runsc cannot create its cgroup (the cgroup file system is read-only or not delegated to you)",
                    env().pick("run gvshim as a non-root user (rootless sandboxes skip cgroups), or mount /sys/fs/cgroup"
                            + " read-write (--cgroupns=private with cgroup v2)", "run gvshim as a non-root user",
                            "run gvshim as a non-root user, or delegate a cgroup to it (systemd Delegate=yes)"));
        }
        if (all.contains("no space left on device")) {
            Long max = f.kernel().maxUserNamespaces();
            if (f.initialUserNs() || (max != null && max == 0)) {
                return Failure.of(max != null && max == 0 ? "USERNS_DISABLED" : "USERNS_LIMIT", what, evidence,
                        "runsc could not create its own user namespace (user.max_user_namespaces = " + max + ")",
                        env().onHost("sysctl -w user.max_user_namespaces=15000"));
            }
            Failure n = nesting(evidence, 1);
            return Failure.of(n.id(), what, evidence, n.why(), n.fix());
        }
        if (all.contains("newuidmap failed") || all.contains("newgidmap failed")) {
            return Failure.of("IDMAP_HELPER_FAILED", what, evidence, "runsc's own newuidmap call failed",
                    "run `gvshim doctor` to see why newuidmap fails here");
        }
        if (all.contains("operation not permitted")) {
            return Failure.of("SANDBOX_DENIED", what, evidence,
                    "runsc was refused an operation it needs (namespaces, mount or chroot)",
                    seccomp ? seccompFix("user namespaces, mount, pivot_root and ptrace") : "run `gvshim doctor` for the full analysis");
        }
        if (all.contains("platform")) {
            return Failure.of("PLATFORM_UNSUPPORTED", what, evidence, "this runsc or machine lacks that platform",
                    "omit --platform to use runsc's default (`runsc help platforms` lists what this runsc has)");
        }
        return Failure.of("RUNSC_FAILED", what, evidence, null,
                "run again with --debug to keep runsc's logs in the run directory");
    }

    /** "running container: creating container: X: Y" reads best as its last two clauses. */
    static String lastClause(String msg) {
        String[] parts = msg.split(": ");
        if (parts.length <= 2) {
            return msg;
        }
        return parts[parts.length - 2] + ": " + parts[parts.length - 1];
    }
}
