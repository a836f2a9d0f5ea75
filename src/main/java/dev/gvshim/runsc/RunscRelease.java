package dev.gvshim.runsc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
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
    /** The OCI seccomp filter applied to exec'd processes too (028b7f0f1, 2026-03-08). */
    static final int EXEC_SECCOMP = 20260330;
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

    /** `runsc exec` puts the container's OCI seccomp filter on the new process. */
    public boolean filtersExec() {
        return atLeast(EXEC_SECCOMP);
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
     * The release of {@code runsc}: `runsc --version` (~25 ms), remembered in {@code cacheDir}
     * (when it exists) under the binary's path, inode, size and modification time, so that only
     * the first call after runsc changes pays for it. UNKNOWN if runsc cannot say.
     */
    public static RunscRelease of(Path runsc, Path cacheDir) {
        String key;
        try {
            Path real = runsc.toRealPath();
            Object ino = Files.getAttribute(real, "unix:ino");
            key = real + "|" + ino + "|" + Files.size(real) + "|" + Files.getLastModifiedTime(real).toMillis();
        } catch (IOException | RuntimeException e) {
            return UNKNOWN;
        }
        Path cache = cacheDir == null ? null : cacheDir.resolve("runsc-release.properties");
        Properties p = new Properties();
        if (cache != null && Files.isRegularFile(cache)) {
            try (InputStream in = Files.newInputStream(cache)) {
                p.load(in);
                String v = p.getProperty(key);
                if (v != null) {
                    return new RunscRelease(Integer.parseInt(v));
                }
            } catch (IOException | RuntimeException e) {
                p.clear(); // rewritten below
            }
        }
        RunscRelease r = ask(runsc);
        if (cache != null && Files.isDirectory(cacheDir)) {
            p.setProperty(key, Integer.toString(r.date()));
            try {
                Path tmp = Files.createTempFile(cacheDir, "runsc-release", ".tmp");
                try (var out = Files.newOutputStream(tmp)) {
                    p.store(out, "gvshim: runsc --version, by path|inode|size|mtime");
                }
                try {
                    Files.move(tmp, cache, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, cache, StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                // a cache only
            }
        }
        return r;
    }

    private static RunscRelease ask(Path runsc) {
        try {
            // stdin an empty pipe, not /dev/null: runsc never gets a file of the host's (the runtime's rule)
            Process p = new ProcessBuilder(runsc.toString(), "--version").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return UNKNOWN;
            }
            return p.exitValue() == 0 ? parse(out) : UNKNOWN;
        } catch (IOException e) {
            return UNKNOWN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return UNKNOWN;
        }
    }
}
