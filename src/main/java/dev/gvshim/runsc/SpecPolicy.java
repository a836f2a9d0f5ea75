package dev.gvshim.runsc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The one rule for every field of an OCI spec that would weaken isolation if dropped, for
 * `gvshim run` (a bundle's spec or gvshim's own) and for the runtime's create/run/restore:
 * runsc either honours the field (gvshim may rewrite the spec runsc reads into an exact
 * equivalent runsc can apply), or gvshim refuses the container with one line, or the field is
 * moot by gVisor's design and gvshim says so. What runsc 2022-12 does with each field (and what
 * later releases change, see {@link RunscRelease}) is in docs/spec-fields.md; the
 * source lines are cited where each case is handled.
 *
 * <p>Pure apart from stat(2) of host paths (injected for the tests) and, lazily, the runsc
 * release (asked only when a field's treatment depends on it). The fields are checked by family:
 * {@link SeccompFields}, {@link OtherFields} (the process's, and the rest of linux's),
 * {@link PathFields} (masked and read-only paths), {@link DeviceFields} (device rules), {@link MountFields}
 * (mount points: symbolic links in the root file system, a read-only /dev, cgroup mounts).
 */
public final class SpecPolicy {
    /** Where the checked spec goes. */
    public enum Mode {
        /** the runc-compatible create/run/restore */
        RUNTIME,
        /** gvshim run */
        RUN
    }

    /**
     * @param subject       "container ID" or the bundle's config.json, for the messages
     * @param bundle        the bundle directory (relative root.path and bind sources resolve against it)
     * @param cgroups       whether runsc applies linux.resources (root runtime); else they would be dropped
     * @param seccompOffBy  where oci-seccomp=false was configured, or null (the profile is applied)
     * @param release       the runsc release, asked only if a decision depends on it
     * @param mountDir      gvshim's own directory for this sandbox's mount sources: the nodev copies of the root
     *                      file system and bind sources are mounted there, and the empty file masked files get
     * @param stat          the host file behind a path, links followed (Files in production)
     * @param link          the target of a host path that is a symbolic link (lstat(2), readlink(2): never
     *                      followed), else null
     */
    public record Context(Mode mode, String subject, Path bundle, boolean cgroups, String seccompOffBy,
            Supplier<RunscRelease> release, Path mountDir, Function<Path, HostFile> stat, Function<Path, String> link) {

        /** The production context: the host's files. */
        public static Context of(Mode mode, String subject, Path bundle, boolean cgroups, String seccompOffBy,
                Supplier<RunscRelease> release, Path mountDir) {
            return new Context(mode, subject, bundle, cgroups, seccompOffBy, release, mountDir, HostFile::of,
                    Context::linkTarget);
        }

        /** readlink(2) of a symbolic link, null for anything else or what cannot be read (no search permission). */
        static String linkTarget(Path p) {
            try {
                return Files.isSymbolicLink(p) ? Files.readSymbolicLink(p).toString() : null;
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }
    }

    /** What is at a host path: a directory, another file, a character or block device (with its numbers), or nothing. */
    public record HostFile(Kind kind, long major, long minor) {
        public enum Kind { DIRECTORY, FILE, CHAR, BLOCK, MISSING }

        public static HostFile of(Path p) {
            try {
                if (Files.isDirectory(p)) {
                    return new HostFile(Kind.DIRECTORY, 0, 0);
                }
                if (!Files.exists(p)) {
                    return new HostFile(Kind.MISSING, 0, 0);
                }
                int mode = (Integer) Files.getAttribute(p, "unix:mode");
                long rdev = ((Number) Files.getAttribute(p, "unix:rdev")).longValue();
                // glibc's gnu_dev_major/minor (sys/sysmacros.h)
                long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
                long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
                return switch (mode & 0170000) {
                    case 0020000 -> new HostFile(Kind.CHAR, major, minor);
                    case 0060000 -> new HostFile(Kind.BLOCK, major, minor);
                    default -> new HostFile(Kind.FILE, 0, 0);
                };
            } catch (IOException | RuntimeException e) {
                return new HostFile(Kind.MISSING, 0, 0);
            }
        }
    }

    /** A nodev (and, if {@code readOnly}, read-only) copy of {@code source} to be mounted at {@code target} (an empty directory, or a file). */
    public record NodevBind(Path source, Path target, boolean directory, boolean readOnly) {
        /** gvshim-nsexec's --nodev-file entry: SRC, DST and "ro" or "rw", each NUL-terminated. */
        public byte[] entry() {
            return (source + "\0" + target + "\0" + (readOnly ? "ro" : "rw") + "\0")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /**
     * The spec as runsc should get it.
     *
     * @param spec       a copy with gvshim's exact rewrites if {@code changed}, else the original
     * @param changed    whether runsc must read {@code spec} rather than the bundle's own config.json
     * @param ociSeccomp whether runsc must apply linux.seccomp (runsc --oci-seccomp)
     * @param nodev      what gvshim-nsexec mounts nodev before runsc starts (paths in {@code spec} already point there)
     * @param emptyFile  an empty read-only file gvshim must create before runsc starts (masked files bind it), or null
     * @param moot       fields gVisor's design makes moot, one phrase each (said once: --log, or `gvshim run -v`)
     * @param ignored    fields runsc does not apply that cannot weaken isolation (a warning)
     * @param rewrites   the exact rewrites, for --debug
     */
    public record Result(Spec spec, boolean changed, boolean ociSeccomp, List<NodevBind> nodev, Path emptyFile,
            List<String> moot, List<String> ignored, List<String> rewrites) {
        /**
         * The same, with the root file system's nodev copy mounted read-only by gvshim: for a root
         * runsc puts its overlay over (gvshim run's writable root), which takes every write, so
         * not even runsc's gofer can write the host's files (it remounts the root read-only
         * itself, runsc/cmd/gofer.go setupRootFS; this does not depend on it).
         */
        public Result withReadOnlyRootCopy() {
            String root = spec.root().path();
            List<NodevBind> n = nodev.stream().map(b -> b.target().toString().equals(root) && !b.readOnly()
                    ? new NodevBind(b.source(), b.target(), b.directory(), true) : b).toList();
            return new Result(spec, changed, ociSeccomp, n, emptyFile, moot, ignored, rewrites);
        }
    }

    /** Seccomp actions gvshim can give runsc (KILL_THREAD as runsc's own name for it, SCMP_ACT_KILL). */
    public static final List<String> ACTIONS = SeccompFields.ACTIONS;
    /** Seccomp filter flags gvshim knows. */
    public static final List<String> KNOWN_FLAGS = SeccompFields.KNOWN_FLAGS;
    /** The seccomp filter flags gvshim can honour. */
    public static final List<String> SUPPORTED_FLAGS = SeccompFields.SUPPORTED_FLAGS;

    /** The capability names runsc {@code r} applies (gvshim removes the others). */
    public static List<String> capabilities(RunscRelease r) {
        List<String> all = new ArrayList<>(OtherFields.CAPS_2022);
        if (r.knowsNewCapabilities()) {
            all.addAll(OtherFields.CAPS_2023);
        }
        return all;
    }

    private SpecPolicy() {
    }

    /** Checks {@code spec} (not modified) for runsc; throws the refusal, or returns what runsc gets. */
    public static Result check(Spec spec, Context c) throws GvshimException {
        ObjectNode json = spec.json().deepCopy();
        SpecFields.Out out = new SpecFields.Out();
        boolean seccomp = new SeccompFields(c, json, out).check();
        new MountFields(c, json, out).check();
        OtherFields other = new OtherFields(c, json, out);
        other.process();
        other.hooks();
        PathFields paths = new PathFields(c, json, out);
        paths.recursiveReadOnly();
        paths.check();
        other.linux();
        new DeviceFields(c, json, out).check();
        return new Result(out.changed ? Spec.of(json) : spec, out.changed, seccomp, List.copyOf(out.nodev),
                out.emptyFile ? c.mountDir().resolve("masked") : null, List.copyOf(out.moot), List.copyOf(out.ignored),
                List.copyOf(out.rewrites));
    }

    /** runsc's MaybeConvertToBindMount: type bind, or an option bind/rbind. */
    public static boolean bind(JsonNode m) {
        if (m.path("type").asText("").equals("bind")) {
            return true;
        }
        for (JsonNode o : m.path("options")) {
            if (o.asText().equals("bind") || o.asText().equals("rbind")) {
                return true;
            }
        }
        return false;
    }
}
