package dev.gvshim.diagnose;

import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * runsc's own errors (its {"level":"error"} line of --log and the FATAL lines of its debug logs,
 * for the failures it reports only as "EOF"), and gvshim-nsexec's failures before runsc ran.
 */
final class RunscCauses extends Causes {
    private static final Pattern NOT_FOUND = Pattern.compile(
            "(?:failed to load (\\S+): no such file or directory|error finding executable \"([^\"]+)\" in PATH)");
    private static final Pattern CHROOT_DENIED = Pattern.compile("chroot to \"[^\"]*\": permission denied");
    /** runsc's gofer (runsc/cmd/gofer.go, setupRootFS): creating working directory "/x": mkdir /proc/root/x: permission denied */
    private static final Pattern CWD_DENIED = Pattern.compile("creating working directory \"([^\"]+)\": mkdir \\S+: ([a-z ]+)"
            + "|failed to find initial working directory \"([^\"]+)\": ([a-z ]+)");
    /** gvshim-nsexec's error line (native/gvshim_nsexec.c fail()). */
    private static final Pattern NSEXEC = Pattern.compile("gvshim-nsexec: (.*): errno (\\d+): (.*)");
    private static final Pattern NOT_EXECUTABLE = Pattern.compile("failed to load (\\S+): (permission denied|exec format error)");

    RunscCauses(Explain x) {
        super(x);
    }

    /**
     * gvshim-nsexec failed before runsc ran ("gvshim-nsexec: STEP: errno N: TEXT"): its private
     * mount namespace and the nodev copies of the root file system and bind sources. A denied
     * unshare or mount is the live probe's step of the same name, so the one line and its id are
     * what `gvshim doctor` says (MOUNT_DENIED, NAMESPACE_DENIED).
     */
    Failure nsexec(String message) {
        Matcher m = NSEXEC.matcher(message);
        if (m.matches()) {
            String step = m.group(1);
            int errno = Integer.parseInt(m.group(2));
            if (step.equals("execve")) {
                // nsexec's last step is runsc's own execve, which gvshim run's clone made itself before nsexec was
                // in between: the same causes (missing, noexec mount, mode)
                Path runsc = facts().runsc();
                return x.syscalls().syscall(new SyscallException("execve", errno, runsc == null ? "runsc" : runsc.toString())
                        .in(Step.EXEC_RUNSC));
            }
            if (step.startsWith("mountpoint: ")) {
                return Failure.of("MOUNT_POINT", "cannot make the missing mount points", message.replaceFirst("^gvshim-nsexec: ", ""),
                        "gvshim makes a mount destination that is missing from the root file system in a read-only copy"
                                + " of its nearest existing directory (a tmpfs with its entries bound in it; runsc would create"
                                + " it on the host)",
                        "mount on a path that exists in the root file system (such as /mnt, or an existing file)");
            }
            if (step.startsWith("slirp4netns") || step.equals("unshare(CLONE_NEWNET)")) {
                return SandboxNetwork.helperFailed(step, errno, message.replaceFirst("^gvshim-nsexec: ", ""));
            }
            if (step.startsWith("unshare")) {
                return x.sandbox().probeStep("unshare-mnt", errno);
            }
            if (step.startsWith("mount(") && (errno == Errno.EPERM || errno == Errno.EACCES)) {
                return x.sandbox().probeStep("mount-private", errno);
            }
        }
        return Failure.of("NODEV_MOUNT", "cannot prepare the sandbox's mounts", message.replaceFirst("^gvshim-nsexec: ", ""),
                "gvshim gives runsc copies of the root file system and bind mounts on which no device node can be opened"
                        + " (runsc applies no device rules, and its gofer would open a host device node found there)",
                "check that the bundle's root file system and mount sources exist");
    }

    /**
     * runsc exited with its own error (the {"level":"error"} line of --log), with the FATAL
     * lines of its debug logs for failures that it reports only as "EOF".
     */
    Failure runsc(String message, List<String> fatal) {
        String msg = message == null ? "" : message;
        Failure hook = HookCauses.of(msg);
        if (hook != null) {
            return hook;
        }
        Matcher nf = NOT_FOUND.matcher(msg);
        if (nf.find()) {
            String cmd = nf.group(1) != null ? nf.group(1) : nf.group(2);
            return new Failure("COMMAND_NOT_FOUND", "cannot run `" + cmd + "`", null,
                    "not found in the sandbox's root file system" + (nf.group(2) != null ? " ($PATH)" : ""),
                    "check the command, --rootfs and --mount", Exit.NOT_FOUND);
        }
        Matcher ne = NOT_EXECUTABLE.matcher(msg);
        if (ne.find()) {
            return new Failure("COMMAND_NOT_EXECUTABLE", "cannot run `" + ne.group(1) + "`", null, ne.group(2),
                    "make it executable inside the root file system", Exit.NOT_EXECUTABLE);
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
            Failure p = x.sandbox().procMasked(evidence, f.mounts().below("/proc"));
            return Failure.of(p.id(), what, evidence, p.why(), p.fix());
        }
        if (all.contains("pivot_root")) {
            return Failure.of("PIVOT_ROOT_DENIED", what, evidence,
                    seccomp ? "pivot_root is denied by the seccomp profile (Docker's default never allows it, even with"
                            + " CAP_SYS_ADMIN)" : "pivot_root is denied (" + Fixes.lsmCause(f) + ")",
                    seccomp ? x.fixes().seccompFix("pivot_root") : x.fixes().lsmFix(f));
        }
        if (all.contains("unable to attach") || all.contains("ptrace")) {
            Failure p = x.sandbox().ptraceDenied(evidence, seccomp, f);
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
            Failure m = x.sandbox().mountDenied(all.contains("umounting") ? "umount2" : "mount", evidence, seccomp, f);
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
            Failure n = x.syscalls().namespacesUsedUp(evidence, 0, LiveProbe.NOT_RUN);
            return Failure.of(n.id(), what, evidence, "runsc could not create its own user namespace: " + n.why(), n.fix());
        }
        if (all.contains("newuidmap failed") || all.contains("newgidmap failed")) {
            return Failure.of("IDMAP_HELPER_FAILED", what, evidence, "runsc's own newuidmap call failed",
                    "run `gvshim doctor` to see why newuidmap fails here");
        }
        if (all.contains("operation not permitted")) {
            return Failure.of("SANDBOX_DENIED", what, evidence,
                    "runsc was refused an operation it needs (namespaces, mount or chroot)",
                    seccomp ? x.fixes().seccompFix("user namespaces, mount, pivot_root and ptrace") : "run `gvshim doctor` for the full analysis");
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
