package dev.gvshim.diagnose;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.FileAttrs;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.runsc.Runsc;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.IdMap;
import dev.gvshim.userns.MappingFailed;
import dev.gvshim.userns.SubIds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
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
        Path blocked = unsearchableParent(rootfs);
        if (blocked == null) { // no parent blocks: the rootfs itself failed the check above
            blocked = rootfs;
        }
        return Failure.of("ROOTFS_NOT_ACCESSIBLE", "cannot use the root file system " + rootfs, null,
                blocked + " (" + ownerAndMode(blocked) + ") is not "
                        + (blocked.equals(rootfs) ? "readable and searchable" : "searchable") + " by uid " + uid
                        + ", the user the sandbox runs as, so runsc cannot enter it",
                blocked.equals(rootfs) ? "chmod a+rx " + rootfs + ", or chown -R " + uid + " " + rootfs
                        : "chmod a+x " + blocked + ", or move the root file system where uid " + uid + " can reach it");
    }

    /** The first directory from / down to {@code p}'s parent that this process cannot search, or null. */
    static Path unsearchableParent(Path p) {
        Path abs = p.toAbsolutePath();
        Path dir = abs.getRoot();
        for (Path name : abs) {
            if (dir.equals(abs)) {
                break;
            }
            if (!Files.isExecutable(dir)) {
                return dir;
            }
            dir = dir.resolve(name);
        }
        return null;
    }

    /**
     * The working directory does not exist where the sandbox would find it ({@code hostPath}: in
     * the root file system, or in the source of the mount that holds it). runsc's gofer would
     * create it on the host before the sandbox starts, and fail with `creating working
     * directory ... permission denied` behind a bare EOF when it may not (or, for `gvshim run
     * --rootfs`, whose root is mounted read-only, leave a directory on the host).
     *
     * @param flag      how it was given: "--cwd /x", or "process.cwd /x of B/config.json"
     * @param mayCreate the sandbox may create it (a bundle's root the caller can write): then null when it is missing
     */
    public static Failure workdir(String flag, Path hostPath, boolean mayCreate) {
        if (Files.isDirectory(hostPath)) {
            return null;
        }
        Path blocked = unsearchableParent(hostPath);
        if (Files.exists(hostPath, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(hostPath)) {
            return Failure.of("CWD_MISSING", "cannot use " + flag, null, hostPath + " is not a directory",
                    "choose a directory as the working directory");
        }
        if (blocked != null && !Files.exists(hostPath)) {
            return Failure.of("CWD_MISSING", "cannot use " + flag, null, hostPath + " cannot be reached: " + blocked + " ("
                    + ownerAndMode(blocked) + ") is not searchable by you, the user the sandbox runs as",
                    "chmod a+x " + blocked + ", or choose a working directory the sandbox can reach");
        }
        if (mayCreate) {
            return null;
        }
        Path parent = hostPath.getParent();
        while (parent != null && !Files.isDirectory(parent)) {
            parent = parent.getParent();
        }
        return Failure.of("CWD_MISSING", "cannot use " + flag, null, hostPath + " does not exist, and the sandbox may not create it"
                        + (parent == null ? "" : " (" + parent + ": " + ownerAndMode(parent) + ")"),
                "create it (mkdir -p " + hostPath + "), or choose an existing directory");
    }

    /**
     * No usable runsc: the one given with --runsc (named, and the one gvshim would find instead),
     * or none in $PATH and the usual directories (each place searched is named, and a runsc found
     * there that cannot be executed, with its owner and mode).
     */
    public static Failure runscMissing(String given, String pathEnv, Path root) {
        Path found;
        try {
            found = Runsc.locate(null, pathEnv, root);
        } catch (Runsc.RunscNotFoundException e) {
            found = null;
        }
        if (given != null) {
            Path p = Path.of(given).toAbsolutePath();
            Path at = root.resolve(p.toString().substring(1));
            String why = Files.isDirectory(at) ? "--runsc " + given + " is a directory"
                    : Files.exists(at) ? "--runsc " + given + " is not executable (" + ownerAndMode(at) + ")"
                    : Files.notExists(at) ? "--runsc " + given + " does not exist"
                    : "--runsc " + given + " cannot be reached (" + unsearchableParent(at) + " is not searchable by you)";
            return Failure.of("RUNSC_MISSING", "cannot use runsc", null, why, found != null
                    ? "pass --runsc " + found + " (the runsc in $PATH), or leave --runsc out"
                    : "pass the path of an installed runsc, or install gVisor (apt-get install runsc)");
        }
        List<String> dirs = Runsc.searchPath(pathEnv);
        String unusable = dirs.stream().map(d -> root.resolve(d.substring(1)).resolve("runsc")).filter(Files::exists)
                .map(r -> "/" + root.relativize(r) + " (" + ownerAndMode(r) + ")").findFirst().map(r -> "; " + r + " is not an"
                        + " executable file").orElse("");
        return Failure.of("RUNSC_MISSING", "cannot find runsc", null, "no runsc in " + String.join(", ", dirs) + " ($PATH, then"
                        + " the usual directories)" + unusable,
                "install gVisor (apt-get install runsc, or https://gvisor.dev/docs/user_guide/install/) or pass --runsc PATH");
    }

    /** config.json cannot be read by the caller: permission denied on it or a directory above it. */
    public static Failure bundleUnreadable(Path config) {
        return Failure.of("BUNDLE_UNREADABLE", "cannot read " + config, null,
                "permission denied (the bundle directory or config.json is not readable by the user running gvshim)",
                "chmod a+rx the bundle directory and its parents and a+r " + config + ", or run gvshim as their owner");
    }

    /** "owner root, mode rwx------" (what decides access, read where the failure is explained). */
    public static String ownerAndMode(Path p) {
        try {
            return FileAttrs.ownerAndMode(p);
        } catch (IOException e) {
            return "its owner and mode cannot be read: " + IoError.reason(e, p);
        } catch (RuntimeException e) {
            return "its owner and mode cannot be read";
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
                if (!mapped(f.caller().ownUidMap(), st.euid())) {
                    return Failure.of("USERNS_UNMAPPED_ID", what, evidence,
                            "your uid " + st.euid() + " is not mapped in the user namespace you are in ("
                                    + f.caller().ownUidMap() + ")", "run gvshim as a user that is mapped here");
                }
                if (f.lsm().selinuxEnforcing()) {
                    return Failure.of("USERNS_SELINUX", what, evidence,
                            "SELinux (enforcing, context " + f.lsm().selinuxLabel() + ") denies user_namespace create",
                            selinuxFix());
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
    public Failure namespacesUsedUp(String evidence, int below, int wide) {
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

    /** Whether the probe met {@code id} too, after {@code first}. */
    private static boolean laterInProbe(LiveProbe.Result live, LiveProbe.Outcome first, String id) {
        List<LiveProbe.Outcome> o = live.outcomes();
        int at = o.indexOf(first);
        return o.subList(at + 1, o.size()).stream().anyMatch(x -> x.ran() && !x.ok() && x.failure() != null
                && x.failure().id().equals(id));
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

    /**
     * The first failure with the fixes of the others that one round of fixes needs: in Docker, a
     * masked /proc with a seccomp profile that denies a later step has one fix (gvshim's profile
     * with systempaths=unconfined, {@link #seccompFix}); otherwise the others' fixes are appended.
     */
    public Failure complete(Failure first, List<Failure> others) {
        List<Failure> rest = others.stream().filter(o -> !o.id().equals(first.id()) && o.fix() != null
                && (first.fix() == null || !first.fix().contains(o.fix()))).toList();
        if (rest.isEmpty()) {
            return first;
        }
        boolean seccompLater = status().seccompMode() == 2 && rest.stream().anyMatch(o -> o.fix().contains("seccomp"));
        if (env().docker() && first.id().equals("PROC_MASKED") && seccompLater) {
            return new Failure(first.id(), first.what(), first.evidence(), first.why() == null ? null : first.why()
                    + "; and " + rest.stream().filter(o -> o.fix().contains("seccomp")).findFirst().orElseThrow().id()
                    + " next (tested live)", seccompFix(PROFILE_ADDS), first.exitCode());
        }
        String more = String.join("; ", rest.stream().limit(3).map(o -> o.id() + ": " + o.fix()).toList());
        return new Failure(first.id(), first.what(), first.evidence(), first.why(),
                (first.fix() == null ? "" : first.fix() + "; ") + "then, found failing too, " + more, first.exitCode());
    }

    /**
     * runsc's failure made as precise as the live probe (run again on the failure path, as
     * doctor runs it) allows: which limit a bare ENOSPC hit, the probe's cause where runsc gave
     * none, and the fixes of everything else that fails, so one round of fixes is enough.
     */
    public Failure refine(Failure f, LiveProbe.Result live) {
        if (live == null) {
            return f;
        }
        Failure out = f;
        LiveProbe.Outcome nest = live.find("nest");
        if ((f.id().equals("USERNS_NESTING") || f.id().equals("USERNS_LIMIT")) && nest != null && nest.ran()) {
            Failure used = namespacesUsedUp(f.evidence(), Math.min(nest.value(), 0), nest.wide());
            out = new Failure(used.id(), f.what(), f.evidence(), used.why(), used.fix(), f.exitCode());
        }
        LiveProbe.Outcome first = live.firstFailure();
        if (first != null && !first.failure().id().equals(out.id()) && (f.id().equals("RUNSC_FAILED")
                || f.id().equals("SANDBOX_DENIED") || laterInProbe(live, first, out.id()))) {
            // runsc gave no cause, or one of two it can meet in either order: its gofer (pivot_root)
            // and its sandbox (mount proc) race, and its log holds whichever failed first. The probe's
            // order is fixed, and doctor's: name its first, so run and doctor always agree.
            Failure p = first.failure();
            out = new Failure(p.id(), f.what(), f.evidence() + "; live: " + p.evidence(), p.why(), p.fix(), f.exitCode());
        }
        String id = out.id();
        List<Failure> others = live.outcomes().stream().filter(o -> o.ran() && !o.ok() && o.failure() != null)
                .filter(o -> !o.step().equals("map-full") || live.mode() == null).map(LiveProbe.Outcome::failure)
                .filter(x -> !x.id().equals(id) && !x.id().equals("SYSFS_MASKED")).toList();
        return complete(out, others);
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
            Path p = Path.of(e.detail());
            Mounts.Entry m = facts().mounts().holding(p.toString());
            if (Files.isExecutable(p) && m != null && m.options().contains("noexec")) {
                return Failure.of("RUNSC_NOT_EXECUTABLE", "cannot execute runsc", evidence, e.detail() + " is on a file system"
                        + " mounted noexec (" + m.mountPoint() + ", /proc/self/mountinfo)", "install runsc on a file system"
                        + " mounted without noexec (/usr/local/bin), or pass --runsc with such a path");
            }
            return Failure.of("RUNSC_NOT_EXECUTABLE", "cannot execute runsc", evidence,
                    e.detail() + " (" + ownerAndMode(p) + ") is not executable by you", "chmod 755 " + e.detail()
                            + " or install runsc elsewhere");
        }
        return Failure.of("RUNSC_EXEC_FAILED", "cannot execute runsc", evidence, null, null);
    }

    // ---- newuidmap / newgidmap ------------------------------------------------------------

    /** {@link #mapping(MappingFailed, Helper, String)} with the helper and user name of {@code host}. */
    public Failure mapping(MappingFailed m, dev.gvshim.userns.Caller host) {
        return mapping(m, m.helper().equals("newuidmap") ? host.newuidmap() : host.newgidmap(), host.userName());
    }

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
            SubIds ids = uid ? facts().caller().subuid() : facts().caller().subgid();
            List<SubIds.Range> given = ids.rangesFor(userName, st.euid());
            return Failure.of(uid ? "SUBUID_MISSING" : "SUBGID_MISSING", what, evidence,
                    file + " gives " + (userName == null ? "uid " + st.euid() : userName) + " "
                            + (given.isEmpty() ? "no range" : ranges(given) + ", which does not cover the ids asked for"),
                    subidFix(user, uid || facts().caller().subgid().rangesFor(userName, st.euid()).isEmpty(),
                            !uid || facts().caller().subuid().rangesFor(userName, st.euid()).isEmpty())
                            + ", or run with --userns single");
        }
        if (out.contains("Cannot determine your user name")) {
            return Failure.of("NO_PASSWD_ENTRY", what, evidence, "uid " + st.euid() + " has no /etc/passwd entry",
                    "add a passwd entry for it, or run with --userns single");
        }
        if (st.noNewPrivs()) {
            return Failure.of("NO_NEW_PRIVS", what, evidence,
                    "NoNewPrivs: 1 in /proc/self/status, so execve ignores the privilege of "
                            + (helper == null ? m.helper() : helper.describe()),
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

    /**
     * The usermod that gives {@code user} what is missing, with a range no other user has in
     * either file (the first free one from 100000), so that following it is enough.
     */
    public String subidFix(String user, boolean uids, boolean gids) {
        SubIds u = facts().caller().subuid();
        SubIds g = facts().caller().subgid();
        String both = SubIds.usermodRange(SubIds.free(SubIds.FULL, u, g));
        String cmd = uids && gids ? "--add-subuids " + both + " --add-subgids " + both
                : uids ? "--add-subuids " + SubIds.usermodRange(SubIds.free(SubIds.FULL, u))
                : "--add-subgids " + SubIds.usermodRange(SubIds.free(SubIds.FULL, g));
        return "as root: usermod " + cmd + " " + user + " (65536 ids no other user has)";
    }

    /** "100000-165535 (65536 ids), 200000-200099 (100 ids)" */
    public static String ranges(List<SubIds.Range> ranges) {
        return String.join(", ", ranges.stream().map(r -> r.start() + "-" + (r.end() - 1) + " (" + r.count() + " id"
                + (r.count() == 1 ? "" : "s") + ")").toList());
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
            if (step.equals("execve")) {
                // nsexec's last step is runsc's own execve, which gvshim run's clone made itself before nsexec was
                // in between: the same causes (missing, noexec mount, mode)
                Path runsc = facts().runsc();
                return syscall(new SyscallException("execve", errno, runsc == null ? "runsc" : runsc.toString())
                        .in(Step.EXEC_RUNSC));
            }
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
    /** runsc's gofer (runsc/cmd/gofer.go, setupRootFS): creating working directory "/x": mkdir /proc/root/x: permission denied */
    private static final Pattern CWD_DENIED = Pattern.compile("creating working directory \"([^\"]+)\": mkdir \\S+: ([a-z ]+)"
            + "|failed to find initial working directory \"([^\"]+)\": ([a-z ]+)");
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
        Matcher cwd = CWD_DENIED.matcher(msg + "\n" + String.join("\n", fatal));
        if (cwd.find()) {
            String dir = cwd.group(1) != null ? cwd.group(1) : cwd.group(3);
            return Failure.of("CWD_MISSING", what, evidence, "the working directory " + dir + " does not exist in the"
                            + " container's file systems" + (cwd.group(1) != null ? ", and runsc may not create it in its root"
                                    + " file system (" + cwd.group(2) + ")" : " when it starts (inside an empty tmpfs?)"),
                    "create " + dir + " in the root file system, or set an existing directory as the working directory");
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
            // runsc's boot: "error umounting the old root file system" is umount2, after pivot_root (runsc/cmd/chroot.go)
            Failure m = mountDenied(all.contains("umounting") ? "umount2" : "mount", evidence, seccomp, f);
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
            // runsc's own user namespace, one below gvshim's (which exists): below = 0
            Failure n = namespacesUsedUp(evidence, 0, LiveProbe.NOT_RUN);
            return Failure.of(n.id(), what, evidence, "runsc could not create its own user namespace: " + n.why(), n.fix());
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
