package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.Mapper;
import dev.gvshim.userns.SubIds;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/**
 * The cause engine: turns one failed step (a system call and its errno, a helper's exit and
 * message, runsc's error and the FATAL lines of its logs) plus the static {@link Facts} into
 * a {@link Failure} with a stable id, the cause and the fix for the environment gvshim runs
 * in. `gvshim run` calls it where a step fails; `gvshim doctor` calls it for the first
 * failing step of its live probe, so both always name the same cause.
 *
 * <p>This class is the facade; the causes are grouped by where the failure comes from:
 * {@link SyscallCauses} (gvshim's own system calls), {@link MappingCauses} (newuidmap and
 * newgidmap), {@link SandboxCauses} (what the kernel refuses inside the new namespace, as the
 * live probe's steps name it), {@link RunscCauses} (runsc's and gvshim-nsexec's errors), with the
 * fixes they share in {@link Fixes}, and {@link FileCauses} for what is found before runsc starts.
 * Each cause cites the kernel source, man page or runsc source line it rests on.
 */
public final class Explain {
    /** The seccomp profile shipped in docker/: Docker's default plus what a rootless sandbox needs. */
    public static final String PROFILE = "docker/seccomp-gvshim.json";
    /** What {@link #PROFILE} adds to Docker's default: each one measured necessary (DockerImagesIT). */
    static final String PROFILE_ADDS = "clone with namespace flags, mount, umount2 and pivot_root";

    private final Supplier<Facts> facts;
    private Facts read;
    // made on the first failure to explain: the success path loads none of them
    private Fixes fixes;
    private SyscallCauses syscalls;
    private MappingCauses mappings;
    private SandboxCauses sandbox;
    private RunscCauses runsc;

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

    private ProcStatus status() {
        return facts().status();
    }

    Fixes fixes() {
        if (fixes == null) {
            fixes = new Fixes(this);
        }
        return fixes;
    }

    SyscallCauses syscalls() {
        if (syscalls == null) {
            syscalls = new SyscallCauses(this);
        }
        return syscalls;
    }

    MappingCauses mappings() {
        if (mappings == null) {
            mappings = new MappingCauses(this);
        }
        return mappings;
    }

    SandboxCauses sandbox() {
        if (sandbox == null) {
            sandbox = new SandboxCauses(this);
        }
        return sandbox;
    }

    RunscCauses runscCauses() {
        if (runsc == null) {
            runsc = new RunscCauses(this);
        }
        return runsc;
    }

    // ---- gvshim's own steps (SyscallCauses) -------------------------------------------------

    /** A system call of gvshim's own start-up failed. */
    public Failure syscall(SyscallException e) {
        return syscalls().syscall(e);
    }

    /** clone(CLONE_NEWUSER) failed: the kernel's refusals in create_user_ns() order, then the LSMs. */
    public Failure createUserns(String evidence, int errno) {
        return syscalls().createUserns(evidence, errno);
    }

    /** No more user namespaces: a limit used up or the nesting depth (see {@link SyscallCauses#namespacesUsedUp}). */
    public Failure namespacesUsedUp(String evidence, int below, int wide) {
        return syscalls().namespacesUsedUp(evidence, below, wide);
    }

    /** "user.max_user_namespaces = 1, read in the user namespace gvshim runs in (uid_map 0 1001 1), not the initial one" */
    String maxUserNamespaces() {
        return syscalls().maxUserNamespaces();
    }

    // ---- newuidmap / newgidmap (MappingCauses) ------------------------------------------------

    /** {@link #mapping(Failure, Helper, String)} with the helper and user name of {@code host}. */
    public Failure mapping(Failure m, dev.gvshim.userns.Caller host) {
        return mapping(m, Mapper.helper(m).equals("newuidmap") ? host.newuidmap() : host.newgidmap(), host.userName());
    }

    /** newuidmap or newgidmap failed ({@link Mapper#failed}): five causes share one message, told apart by evidence. */
    public Failure mapping(Failure m, Helper helper, String userName) {
        return mappings().mapping(m, helper, userName);
    }

    /** The usermod that gives {@code user} what is missing, with ranges no other user has. */
    public String subidFix(String user, boolean uids, boolean gids) {
        return mappings().subidFix(user, uids, gids);
    }

    /** "100000-165535 (65536 ids), 200000-200099 (100 ids)" */
    public static String ranges(List<SubIds.Range> ranges) {
        return MappingCauses.ranges(ranges);
    }

    // ---- inside the new namespace (SandboxCauses), runsc and gvshim-nsexec (RunscCauses) -----

    /** A step of gvshim-probe failed (see native/gvshim_probe.c for the names). */
    public Failure probeStep(String step, int errno) {
        return sandbox().probeStep(step, errno);
    }

    /** gvshim-nsexec failed before runsc ran ("gvshim-nsexec: STEP: errno N: TEXT"). */
    public Failure nsexec(String message) {
        return runscCauses().nsexec(message);
    }

    /** A spec's own hook failed the create (runsc's error, its lines as runsc wrote them), or null ({@link HookCauses}). */
    public static Failure hook(String message) {
        return HookCauses.of(message);
    }

    /**
     * runsc exited with its own error (the {"level":"error"} line of --log), with the FATAL
     * lines of its debug logs for failures that it reports only as "EOF".
     */
    public Failure runsc(String message, List<String> fatal) {
        return runscCauses().runsc(message, fatal);
    }

    // ---- before runsc starts (FileCauses) ----------------------------------------------------

    /** The root file system is out of reach of the user the sandbox runs as; null when it is not. */
    public static Failure rootfsAccess(Path rootfs, long uid) {
        return FileCauses.rootfsAccess(rootfs, uid);
    }

    /** The working directory does not exist where the sandbox would find it; null when it does (or may be made). */
    public static Failure workdir(String flag, Path hostPath, boolean mayCreate) {
        return FileCauses.workdir(flag, hostPath, mayCreate);
    }

    /** No usable runsc: the one given with --runsc, or none in $PATH and the usual directories. */
    public static Failure runscMissing(String given, String pathEnv, Path root) {
        return FileCauses.runscMissing(given, pathEnv, root);
    }

    /** config.json cannot be read by the caller: permission denied on it or a directory above it. */
    public static Failure bundleUnreadable(Path config) {
        return FileCauses.bundleUnreadable(config);
    }

    /** "owner root, mode rwx------" (what decides access, read where the failure is explained). */
    public static String ownerAndMode(Path p) {
        return FileCauses.ownerAndMode(p);
    }

    // ---- fixes (Fixes) -----------------------------------------------------------------------

    /** The fix for a read-only file system where the state directory would be created (--read-only, readOnlyRootFilesystem). */
    public String unwritableStateDirFix(Path parent) {
        return fixes().unwritableStateDirFix(parent);
    }

    String seccompFix(String what) {
        return fixes().seccompFix(what);
    }

    String apparmorUsernsFix() {
        return fixes().apparmorUsernsFix();
    }

    String selinuxFix() {
        return fixes().selinuxFix();
    }

    String noNewPrivsFix() {
        return fixes().noNewPrivsFix();
    }

    // ---- one round of fixes -----------------------------------------------------------------

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
        if (facts().env().docker() && first.id().equals("PROC_MASKED") && seccompLater) {
            return new Failure(first.id(), first.what(), first.evidence(), first.why() == null ? null : first.why()
                    + "; and " + rest.stream().filter(o -> o.fix().contains("seccomp")).findFirst().orElseThrow().id()
                    + " next (tested live)", fixes().seccompFix(PROFILE_ADDS), first.exitCode());
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
            Failure used = syscalls().namespacesUsedUp(f.evidence(), Math.min(nest.value(), 0), nest.wide());
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

    /** Whether the probe met {@code id} too, after {@code first}. */
    private static boolean laterInProbe(LiveProbe.Result live, LiveProbe.Outcome first, String id) {
        List<LiveProbe.Outcome> o = live.outcomes();
        int at = o.indexOf(first);
        return o.subList(at + 1, o.size()).stream().anyMatch(x -> x.ran() && !x.ok() && x.failure() != null
                && x.failure().id().equals(id));
    }
}
