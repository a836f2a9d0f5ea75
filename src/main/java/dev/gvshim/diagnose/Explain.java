package dev.gvshim.diagnose;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.MappingFailed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a start-up failure into a {@link Failure}: the step and errno precisely, the cause
 * when the evidence determines it, and the fix for the environment gvshim runs in.
 * Sources for each cause: ../shared/research/anchors.md §2 (34 causes) and docker-lab.md.
 */
public final class Explain {
    private static final String SECCOMP_DOCKER = "run the container with --security-opt seccomp=unconfined"
            + " --security-opt systempaths=unconfined (or a seccomp profile that allows user namespaces, mount,"
            + " pivot_root and ptrace)";
    private static final String SECCOMP_K8S = "set securityContext.seccompProfile.type: Unconfined (or a Localhost"
            + " profile that allows user namespaces, mount, pivot_root and ptrace) and procMount: Unmasked";

    private final Environment env;
    private final ProcStatus status;
    private final Path root;

    /**
     * @param root where /proc and /etc are read from ("/" except in tests)
     */
    public Explain(Environment env, ProcStatus status, Path root) {
        this.env = env;
        this.status = status;
        this.root = root;
    }

    /** A system call of gvshim's own start-up failed. */
    public Failure syscall(SyscallException e) {
        Step step = e.step() == null ? Step.PROBE : e.step();
        String evidence = e.callAndErrno();
        int errno = e.errno();
        return switch (step) {
            case CREATE_USERNS -> createUserns(evidence, errno);
            case WRITE_SETGROUPS, WRITE_UID_MAP, WRITE_GID_MAP -> writeMap(step, evidence, errno);
            case EXEC_RUNSC -> execRunsc(e, evidence);
            case STATE_DIR -> Failure.of("STATE_DIR_UNSAFE", "cannot prepare the state directory", evidence,
                    null, "pass --root with a directory you own");
            default -> Failure.of("SYSCALL_FAILED", "cannot " + step.label(), evidence, null,
                    "run with --debug and report the output");
        };
    }

    private Failure createUserns(String evidence, int errno) {
        String what = "cannot create the user namespace";
        switch (errno) {
            case Errno.EPERM -> {
                if (status.seccompMode() == 2 && !status.inBounding(ProcStatus.CAP_SYS_ADMIN)) {
                    return Failure.of("USERNS_SECCOMP", what, evidence,
                            "a seccomp filter denies CLONE_NEWUSER (Seccomp: 2 and no CAP_SYS_ADMIN in the bounding set;"
                                    + " Docker's and containerd's default profiles do this)",
                            env.pick(SECCOMP_DOCKER, SECCOMP_K8S,
                                    "run gvshim outside the seccomp filter that denies clone(CLONE_NEWUSER)"));
                }
                if ("0".equals(sysctl("proc/sys/kernel/unprivileged_userns_clone"))) {
                    return Failure.of("USERNS_DISABLED", what, evidence,
                            "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)",
                            "on the host: sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)");
                }
                if (status.seccompMode() == 2) {
                    return Failure.of("USERNS_SECCOMP", what, evidence,
                            "a seccomp filter is active (Seccomp: 2) and denies CLONE_NEWUSER",
                            env.pick(SECCOMP_DOCKER, SECCOMP_K8S, "remove the seccomp filter from gvshim's process"));
                }
                return Failure.of("USERNS_DENIED", what, evidence,
                        "the kernel refused (a chroot, or a security module policy)",
                        "run `gvshim doctor` for the full analysis");
            }
            case Errno.ENOSPC, Errno.EUSERS -> {
                String max = sysctl("proc/sys/user/max_user_namespaces");
                if ("0".equals(max)) {
                    return Failure.of("USERNS_DISABLED", what, evidence,
                            "user namespaces are disabled (user.max_user_namespaces = 0)",
                            env.pick("on the Docker host: sysctl -w user.max_user_namespaces=15000",
                                    "on the node (a privileged sysctl DaemonSet): sysctl -w user.max_user_namespaces=15000",
                                    "sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/)"));
                }
                return Failure.of("USERNS_LIMIT", what, evidence,
                        "the user-namespace limit is reached (user.max_user_namespaces = " + max
                                + ", or 32 levels of nesting); runsc needs 2 more per sandbox",
                        "raise user.max_user_namespaces on the host, or remove leaked sandboxes (lsns -t user)");
            }
            case Errno.EACCES -> {
                return Failure.of("USERNS_APPARMOR", what, evidence,
                        "AppArmor denies unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = "
                                + sysctl("proc/sys/kernel/apparmor_restrict_unprivileged_userns") + ")",
                        "install an AppArmor profile with `userns,` for this runtime, or on the host: sysctl -w"
                                + " kernel.apparmor_restrict_unprivileged_userns=0");
            }
            case Errno.EINVAL -> {
                return Failure.of("USERNS_UNSUPPORTED", what, evidence,
                        "this kernel has no user-namespace support (CONFIG_USER_NS)",
                        "use a kernel built with CONFIG_USER_NS=y");
            }
            default -> {
                return Failure.of("USERNS_DENIED", what, evidence, null, "run `gvshim doctor` for the full analysis");
            }
        }
    }

    private Failure writeMap(Step step, String evidence, int errno) {
        String what = "cannot " + step.label();
        if (errno == Errno.EPERM && "1".equals(sysctl("proc/sys/kernel/apparmor_restrict_unprivileged_userns"))) {
            return Failure.of("USERNS_APPARMOR", what, evidence,
                    "AppArmor moved the new namespace into the unprivileged_userns profile, which has no capabilities",
                    "install an AppArmor profile with `userns,` for this runtime, or on the host: sysctl -w"
                            + " kernel.apparmor_restrict_unprivileged_userns=0");
        }
        return Failure.of("IDMAP_DENIED", what, evidence,
                "the kernel refused the map (user_namespaces(7): only one line mapping your own id may be written"
                        + " without CAP_SETUID, and only once)",
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

    /** newuidmap or newgidmap failed: five causes share one message, told apart by evidence. */
    public Failure mapping(MappingFailed m, Helper helper, String userName) {
        String what = "cannot map " + (m.helper().equals("newuidmap") ? "user" : "group") + " ids with " + m.helper();
        String out = m.output();
        String evidence = String.join(" ", m.argv()) + ": " + m.status() + (out.isEmpty() ? "" : ": " + out);
        String file = m.helper().equals("newuidmap") ? "/etc/subuid" : "/etc/subgid";
        String idKind = m.helper().equals("newuidmap") ? "SUBUID" : "SUBGID";
        if (out.contains("not allowed")) {
            return Failure.of(idKind + "_MISSING", what, evidence,
                    file + " gives " + (userName == null ? "this user" : userName) + " no range covering these ids",
                    "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + (userName == null ? "USER" : userName)
                            + ", or run with --userns single");
        }
        if (out.contains("Cannot determine your user name")) {
            return Failure.of("NO_PASSWD_ENTRY", what, evidence, "uid " + status.uid() + " has no /etc/passwd entry",
                    "add a passwd entry for it, or run with --userns single");
        }
        if (status.noNewPrivs()) {
            return Failure.of("NO_NEW_PRIVS", what, evidence,
                    "NoNewPrivs is set, so the helper's setuid bit or file capabilities are ignored",
                    env.pick("drop --security-opt no-new-privileges, or run with --userns single",
                            "set allowPrivilegeEscalation: true, or run with --userns single",
                            "start gvshim without no_new_privs (systemd NoNewPrivileges=no), or run with --userns single"));
        }
        if (helper != null && helper.setuid() && !helper.fileCap() && !status.inBounding(ProcStatus.CAP_SYS_ADMIN)) {
            return Failure.of("NEWUIDMAP_NEEDS_FCAPS", what, evidence,
                    helper.path() + " is setuid root: it writes as euid 0, which needs CAP_SYS_ADMIN here (not in the"
                            + " bounding set); file capabilities keep your own uid and need nothing extra",
                    "chmod u-s " + helper.path() + " && setcap cap_set" + (m.helper().equals("newuidmap") ? "uid" : "gid")
                            + "+ep " + helper.path() + " (in the image), or run with --userns single");
        }
        if (helper != null && !helper.privileged()) {
            return Failure.of("NEWUIDMAP_UNPRIVILEGED", what, evidence, helper.describe(),
                    "chmod u+s " + helper.path() + " (or setcap cap_set" + (m.helper().equals("newuidmap") ? "uid" : "gid")
                            + "+ep), or run with --userns single");
        }
        return Failure.of("IDMAP_HELPER_FAILED", what, evidence, null,
                "run `gvshim doctor`, or run with --userns single");
    }

    private static final Pattern NOT_FOUND = Pattern.compile(
            "(?:failed to load (\\S+): no such file or directory|error finding executable \"([^\"]+)\" in PATH)");
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
        if (all.contains("sandbox network isn't supported with --rootless")
                || all.contains("cannot run with network enabled in root network namespace")) {
            return Failure.of("NETWORK_SANDBOX_UNSUPPORTED", what, evidence,
                    "this runsc cannot give the sandbox its own network stack here",
                    "use --network none (no network) or --network host");
        }
        if (all.contains("error mounting proc")) {
            return Failure.of("PROC_MASKED", what, evidence,
                    "the sandbox cannot mount a fresh /proc because parts of /proc are masked (Docker's default masked paths)",
                    env.pick("add --security-opt systempaths=unconfined", "set securityContext.procMount: Unmasked",
                            "unmount the overmounts under /proc"));
        }
        if (all.contains("pivot_root")) {
            return Failure.of("PIVOT_ROOT_DENIED", what, evidence,
                    "pivot_root is denied (Docker's default seccomp profile does not allow it, even with CAP_SYS_ADMIN)",
                    env.pick(SECCOMP_DOCKER, SECCOMP_K8S, "allow pivot_root in the seccomp filter"));
        }
        if (all.contains("unable to attach") || all.contains("ptrace")) {
            return Failure.of("PTRACE_DENIED", what, evidence,
                    "the ptrace platform cannot attach to its stub processes (Yama ptrace_scope = "
                            + sysctl("proc/sys/kernel/yama/ptrace_scope") + ", or seccomp)",
                    "on the host: sysctl -w kernel.yama.ptrace_scope=1, or --platform kvm where /dev/kvm is usable");
        }
        if (all.contains("no space left on device")) {
            return Failure.of("USERNS_LIMIT", what, evidence,
                    "runsc could not create its own user namespaces (user.max_user_namespaces = "
                            + sysctl("proc/sys/user/max_user_namespaces") + ")",
                    "raise user.max_user_namespaces on the host (sysctl -w user.max_user_namespaces=15000)");
        }
        if (all.contains("/proc/self/exe: operation not permitted") || all.contains("operation not permitted")) {
            return Failure.of("SANDBOX_DENIED", what, evidence,
                    "runsc was refused an operation it needs (namespaces, mount or chroot)",
                    env.pick(SECCOMP_DOCKER, SECCOMP_K8S, "run `gvshim doctor` for the full analysis"));
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

    private String sysctl(String rel) {
        try {
            return Files.readString(root.resolve(rel)).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
