package dev.gvshim.runsc;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gVisor release a runsc binary was built from, as the date in its version ({@code runsc
 * version 0.0~20221219.0} from Debian, {@code release-20240715.0} from gVisor's own builds), and
 * what that release does with the spec fields gvshim cares about. Each date is the first release
 * tag of google/gvisor that contains the change (checked with {@code git merge-base
 * --is-ancestor}); a runsc whose version names no date is {@link #UNKNOWN}, and every question
 * about it gets the answer that cannot weaken isolation.
 *
 * @param date yyyymmdd, 0 when unknown
 */
public record RunscRelease(int date) {
    public static final RunscRelease UNKNOWN = new RunscRelease(0);
    /** clone3 implemented (21d66119b, 2023-08-07; in release-20230814.0, reverted in 20230823, back from 20230904). */
    static final int CLONE3 = 20230814;
    /** CAP_PERFMON, CAP_BPF, CAP_CHECKPOINT_RESTORE known to runsc (bd9010d4c, 2023-02-17). */
    static final int NEW_CAPS = 20230227;
    /** The first release whose statx(2) takes coreutils 9's AT_STATX_DONT_SYNC flags (before: EINVAL). */
    static final int STATX = 20230227;
    /** process.user.umask applied (d3ca96da5, 2024-10-11); before, every process gets 0022. */
    static final int UMASK = 20241021;
    /** The gofer binds the host's /proc instead of mounting a fresh one (88f7bb66f, in release-20240305.0): a masked /proc no longer stops it. */
    static final int PROC_BIND = 20240305;
    /** checkpoint --leave-running resumes the checkpointed sandbox in place (87d8df37c, 2024-04-09). */
    static final int CHECKPOINT_RESUME = 20240415;
    /** The OCI seccomp filter applied to exec'd processes too (028b7f0f1, 2026-03-08). */
    static final int EXEC_SECCOMP = 20260330;
    /** Device files of a read-only mount opened for writing, as Linux allows (8506136e8, 2026-06-24; before: EROFS). */
    static final int SPECIAL_FILES_RO = 20260706;
    private static final Pattern DATE = Pattern.compile("(?:release-|~|\\b)(20\\d{6})(?:\\.\\d+)?\\b");

    /** The date in `runsc --version`'s first line, or UNKNOWN. */
    public static RunscRelease parse(String versionOutput) {
        String first = versionOutput == null ? "" : versionOutput.lines().findFirst().orElse("");
        Matcher m = DATE.matcher(first);
        return m.find() ? new RunscRelease(Integer.parseInt(m.group(1))) : UNKNOWN;
    }

    public boolean known() {
        return date > 0;
    }

    private boolean before(int d) {
        return known() && date < d;
    }

    private boolean atLeast(int d) {
        return known() && date >= d;
    }

    /**
     * Its statx(2) refuses the flags coreutils 9 passes: `ls DIR`, `ls -l` and `stat` print
     * "Invalid argument" in the sandbox (measured with Debian 12's 0.0~20221219, as root and
     * rootless, bare `runsc do` alike; Debian 13's 0.0~20240729 works).
     */
    public boolean breaksStatx() {
        return before(STATX);
    }

    /**
     * It starts where /proc has paths mounted over it (Docker's masked /proc): its gofer binds
     * the existing /proc rather than mounting a new instance, which the kernel refuses there
     * (measured with Debian 13's 0.0~20240729 as root and rootless; 0.0~20221219 fails with
     * `error mounting proc`).
     */
    public boolean bindsProc() {
        return atLeast(PROC_BIND);
    }

    /** gVisor itself answers clone3 with ENOSYS (it does not implement it). */
    public boolean clone3Enosys() {
        return before(CLONE3);
    }

    /** runsc knows CAP_PERFMON, CAP_BPF and CAP_CHECKPOINT_RESTORE (older ones fail the container on them). */
    public boolean knowsNewCapabilities() {
        return atLeast(NEW_CAPS);
    }

    /** runsc applies process.user.umask. */
    public boolean appliesUmask() {
        return atLeast(UMASK);
    }

    /**
     * `runsc checkpoint --leave-running` resumes the container in place. Before, it destroyed the
     * container, restored the image into a new sandbox with the same id and waited in the
     * foreground for it to exit (runsc/cmd/checkpoint.go, "TODO(b/110843694)").
     */
    public boolean resumesAfterCheckpoint() {
        return atLeast(CHECKPOINT_RESUME);
    }

    /** `runsc exec` puts the container's OCI seccomp filter on the new process. */
    public boolean filtersExec() {
        return atLeast(EXEC_SECCOMP);
    }

    /**
     * A device file on a read-only mount can be opened for writing, as on Linux (fs/namei.c
     * may_open skips the mount's read-only check for devices, FIFOs and sockets); before, gVisor
     * answered EROFS: on a read-only /dev, `echo x >/dev/null` failed.
     */
    public boolean writesDevicesOnReadOnlyMounts() {
        return atLeast(SPECIAL_FILES_RO);
    }

    /** "2022-12-19", or "unknown". */
    public String label() {
        if (!known()) {
            return "unknown";
        }
        String d = Integer.toString(date);
        return d.substring(0, 4) + "-" + d.substring(4, 6) + "-" + d.substring(6);
    }

    /**
     * The release of {@code runsc}, from its probe ({@link RunscInfo#of}: `runsc --version` and
     * `runsc flags`, remembered in {@code cacheDir} by the binary's identity). UNKNOWN if runsc
     * cannot say.
     */
    public static RunscRelease of(Path runsc, Path cacheDir) {
        return RunscInfo.of(runsc, cacheDir).release();
    }
}
