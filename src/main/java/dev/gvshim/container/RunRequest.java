package dev.gvshim.container;

import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything `gvshim run` was asked to do, validated by the CLI.
 *
 * @param command       the command and its arguments; may be empty with {@code bundle}
 * @param bundle        an existing OCI bundle to run (null: generate a spec)
 * @param rootfs        root file system of a generated spec, mounted read-only
 * @param env           KEY=VALUE to set, or KEY to pass the caller's value through
 * @param timeout       seconds, null for none
 * @param platform      runsc --platform, null for runsc's default
 * @param runsc         runsc binary, null to search $PATH
 * @param root          state directory, null for the per-user default
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
    }
}
