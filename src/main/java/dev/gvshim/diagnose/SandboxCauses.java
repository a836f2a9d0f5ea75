package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.ProcStatus;
import java.util.List;

/**
 * What the kernel refuses inside the new user namespace, as gvshim-probe's steps name it
 * (native/gvshim_probe.c) and runsc meets it: more namespaces, mounts (a masked /proc),
 * pivot_root, ptrace.
 */
final class SandboxCauses extends Causes {
    SandboxCauses(Explain x) {
        super(x);
    }

    /** A step of gvshim-probe failed (see native/gvshim_probe.c for the names). */
    Failure probeStep(String step, int errno) {
        Facts f = facts();
        ProcStatus st = status();
        String evidence = call(step) + ": " + Errno.name(errno) + " (" + Errno.describe(errno) + ")";
        boolean seccomp = st.seccompMode() == 2;
        switch (step) {
            case "unshare-mnt", "unshare-pid", "unshare-net", "unshare-ipc", "unshare-uts" -> {
                String ns = step.substring("unshare-".length());
                return Failure.of("NAMESPACE_DENIED", "cannot create a " + ns + " namespace inside the user namespace",
                        evidence, seccomp ? "a seccomp filter denies " + call(step) + " (Seccomp: 2)" : Fixes.lsmCause(f),
                        seccomp ? x.fixes().seccompFix("namespaces, mount, pivot_root and ptrace") : x.fixes().lsmFix(f));
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
                                : Fixes.lsmCause(f),
                        seccomp ? x.fixes().seccompFix("pivot_root") : x.fixes().lsmFix(f));
            }
            case "ptrace" -> {
                return ptraceDenied(evidence, seccomp, f);
            }
            default -> {
                return Failure.of("PROBE_FAILED", "cannot " + step, evidence, null, null);
            }
        }
    }

    Failure mountDenied(String syscall, String evidence, boolean seccomp, Facts f) {
        String why;
        String fix;
        if (f.lsm().apparmorConfined()) {
            why = "the AppArmor profile " + f.lsm().apparmorLabel() + " denies mount (Docker's docker-default has `deny mount`)";
            fix = env().pick("run the container with --security-opt apparmor=unconfined (or a profile that allows mount)",
                    "set securityContext.appArmorProfile.type: Unconfined", "run gvshim under a profile that allows mount");
        } else if (seccomp) {
            why = "a seccomp filter denies " + syscall + " (Seccomp: 2)";
            fix = x.fixes().seccompFix("mount, umount2, pivot_root and ptrace");
        } else {
            why = Fixes.lsmCause(f);
            fix = x.fixes().lsmFix(f);
        }
        return Failure.of("MOUNT_DENIED", "cannot mount inside the new namespaces", evidence, why, fix);
    }

    Failure procMasked(String evidence, List<String> masks) {
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

    Failure ptraceDenied(String evidence, boolean seccomp, Facts f) {
        Integer scope = f.kernel().ptraceScope();
        String why;
        String fix;
        if (scope != null && scope == 3) {
            why = "Yama forbids every ptrace attach (kernel.yama.ptrace_scope = 3, which cannot be lowered until reboot)";
            fix = "reboot with kernel.yama.ptrace_scope = 1 (/etc/sysctl.d/)";
        } else if (seccomp) {
            why = "a seccomp filter denies ptrace (Seccomp: 2)";
            fix = x.fixes().seccompFix("ptrace");
        } else if (scope != null && scope == 2) {
            why = "Yama allows ptrace only with CAP_SYS_PTRACE (kernel.yama.ptrace_scope = 2)";
            fix = env().onHost("sysctl -w kernel.yama.ptrace_scope=1");
        } else {
            why = Fixes.lsmCause(f);
            fix = x.fixes().lsmFix(f);
        }
        if (f.kvm().usable()) {
            fix += "; or use --platform kvm (/dev/kvm is usable here and needs no ptrace)";
        }
        return Failure.of("PTRACE_DENIED", "cannot ptrace a process of the sandbox", evidence,
                why + "; gVisor's ptrace and systrap platforms attach to their stub processes", fix);
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
}
