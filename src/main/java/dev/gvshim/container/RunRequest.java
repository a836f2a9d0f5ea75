package dev.gvshim.container;

import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything `gvshim run` was asked to do, validated by the CLI (cli/RunVerb) or the Java API (api/SandboxBuilder).
 *
 * @param command       the command and its arguments; may be empty with {@code bundle}
 * @param bundle        an existing OCI bundle to run (null: generate a spec)
 * @param rootfs        root file system of a generated spec, mounted read-only
 * @param env           KEY=VALUE to set, or KEY to pass the caller's value through
 * @param timeout       seconds, null for none
 * @param platform      runsc --platform, null for runsc's default
 * @param runsc         runsc binary, null to search $PATH
 * @param root          state directory, null for the per-user default
 *
 * <p>Paths are absolute: the CLI resolves what the caller gave against the caller's directory.
 */
public record RunRequest(List<String> command, Path bundle, Path rootfs, List<BindMount> mounts, List<String> tmpfs,
        String cwd, List<String> env, boolean envAll, Network network, Double timeout, double killAfter, String platform,
        String runsc, Path root, Mode userns, Tty tty, Long uid, Long gid, String hostname, boolean fallbackUnsandboxed,
        boolean debug, boolean verbose) {

    /** --tty: give the command a terminal. */
    public enum Tty {
        /** when stdin and stdout are both terminals */
        AUTO,
        ALWAYS,
        NEVER
    }

    /** --mount SRC:DST[:ro|rw] */
    public record BindMount(Path source, String destination, boolean readOnly) {
        /** Parses SRC:DST[:ro|rw]; SRC is resolved against {@code cwd}. */
        public static BindMount parse(String spec, Path cwd) {
            if (spec.startsWith("type=") || spec.startsWith("source=") || spec.startsWith("src=")) {
                return parseDocker(spec, cwd);
            }
            String[] f = spec.split(":", -1);
            if (f.length < 2 || f.length > 3 || f[0].isEmpty() || f[1].isEmpty()) {
                throw new IllegalArgumentException("--mount " + spec + ": expected SRC:DST or SRC:DST:ro");
            }
            boolean ro = false;
            if (f.length == 3) {
                switch (f[2]) {
                    case "ro" -> ro = true;
                    case "rw" -> ro = false;
                    default -> throw new IllegalArgumentException("--mount " + spec + ": the third field must be ro or rw");
                }
            }
            if (!f[1].startsWith("/")) {
                throw new IllegalArgumentException("--mount " + spec + ": the destination must be an absolute path");
            }
            return new BindMount(cwd.resolve(f[0]).normalize(), f[1], ro);
        }

        /**
         * Docker's --mount syntax for a bind mount: {@code type=bind,source=SRC,target=DST[,readonly]}
         * (also {@code src}, {@code destination}/{@code dst}, {@code readonly=true|false}, {@code ro});
         * docker(1) run --mount. Other types are refused (a tmpfs is --tmpfs DST).
         */
        static BindMount parseDocker(String spec, Path cwd) {
            String type = "bind";
            String src = null;
            String dst = null;
            boolean ro = false;
            for (String kv : spec.split(",")) {
                int eq = kv.indexOf('=');
                String k = eq < 0 ? kv : kv.substring(0, eq);
                String v = eq < 0 ? null : kv.substring(eq + 1);
                switch (k) {
                    case "type" -> type = v;
                    case "source", "src" -> src = v;
                    case "target", "destination", "dst" -> dst = v;
                    case "readonly", "ro" -> ro = v == null || v.equals("true") || v.equals("1");
                    case "bind-propagation", "consistency" -> {
                        // accepted: gVisor's gofer serves the source; propagation has no host mounts to share
                    }
                    default -> throw new IllegalArgumentException("--mount " + spec + ": unknown key " + k
                            + " (type=bind,source=SRC,target=DST[,readonly])");
                }
            }
            if (!"bind".equals(type)) {
                throw new IllegalArgumentException("--mount " + spec + ": type " + type + " is not supported here (bind;"
                        + " for a tmpfs use --tmpfs DST)");
            }
            if (src == null || src.isEmpty() || dst == null || dst.isEmpty()) {
                throw new IllegalArgumentException("--mount " + spec + ": expected type=bind,source=SRC,target=DST[,readonly]");
            }
            if (!dst.startsWith("/")) {
                throw new IllegalArgumentException("--mount " + spec + ": the target must be an absolute path");
            }
            return new BindMount(cwd.resolve(src).normalize(), dst, ro);
        }
    }

    /**
     * A generated spec's --rootfs, absolute: false when it cannot be told whether it is a
     * directory (behind a directory the caller cannot search, neither exists() nor notExists()
     * holds, and the launcher names that directory: ROOTFS_NOT_ACCESSIBLE); refused when it is
     * not one. IllegalArgumentException carries the one-line complaint.
     */
    public static boolean checkRootfs(Path rootfs) {
        if (Files.isDirectory(rootfs)) {
            return true;
        }
        if (Files.exists(rootfs)) {
            throw new IllegalArgumentException("--rootfs " + rootfs + " is not a directory");
        }
        if (Files.notExists(rootfs)) {
            throw new IllegalArgumentException("--rootfs " + rootfs + " does not exist");
        }
        return false;
    }

    /** --mount {@code option}: its source exists, and on a generated spec's root ({@code rootfs}, else null) its mount point. */
    public static void checkMount(String option, BindMount b, Path rootfs) {
        if (!Files.exists(b.source())) {
            throw new IllegalArgumentException("--mount " + option + ": " + b.source() + " does not exist");
        }
        if (rootfs != null) {
            checkMountPoint(option, b, rootfs);
        }
    }

    /**
     * runsc's gofer creates a missing bind-mount point in the real root file system before
     * the sandbox starts (measured: a destination under /tmp left an empty directory on the
     * host). On a root that is not the caller's own (the default /), that is either a failure
     * ("mkdir ...: permission denied", reported by runsc only as EOF) or litter on the host,
     * so such a destination must already exist, with the source's type.
     */
    private static void checkMountPoint(String option, BindMount b, Path rootfs) {
        Path target = rootfs.resolve(b.destination().substring(1));
        boolean sourceIsDir = Files.isDirectory(b.source());
        if (Files.exists(target)) {
            if (sourceIsDir != Files.isDirectory(target)) {
                throw new IllegalArgumentException("--mount " + option + ": cannot mount a " + (sourceIsDir ? "directory" : "file")
                        + " on " + b.destination() + ", which is a " + (sourceIsDir ? "file" : "directory"));
            }
            return;
        }
        Path existing = target.getParent();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        boolean own = !rootfs.equals(Path.of("/")) && existing != null && Files.isWritable(existing);
        if (!own) {
            throw new IllegalArgumentException("--mount " + option + ": " + b.destination() + " does not exist in the root file system "
                    + rootfs + ", and gVisor can only mount on existing paths of a root it must not modify; mount on an"
                    + " existing " + (sourceIsDir ? "directory (such as /mnt)" : "file") + ", or use --rootfs with a copy you own");
        }
    }
}
