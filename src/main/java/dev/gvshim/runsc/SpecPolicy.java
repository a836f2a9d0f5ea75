package dev.gvshim.runsc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.diagnose.Failure;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.oci.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The one rule for every field of an OCI spec that would weaken isolation if dropped, for
 * `gvshim run` (a bundle's spec or gvshim's own) and for the runtime's create/run/restore:
 * runsc either honours the field (gvshim may rewrite the spec runsc reads into an exact
 * equivalent runsc can apply), or gvshim refuses the container with one line, or the field is
 * moot by gVisor's design and gvshim says so. What runsc 2022-12 does with each field (and what
 * later releases change, see {@link RunscRelease}) is in the README's "Spec fields" table; the
 * source lines are cited where each case is handled.
 *
 * <p>Pure apart from stat(2) of host paths (injected for the tests) and, lazily, the runsc
 * release (asked only when a field's treatment depends on it).
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
     * @param symlink       whether a host path is a symbolic link
     */
    public record Context(Mode mode, String subject, Path bundle, boolean cgroups, String seccompOffBy,
            Supplier<RunscRelease> release, Path mountDir, Function<Path, HostFile> stat, Predicate<Path> symlink) {

        /** The production context: the host's files. */
        public static Context of(Mode mode, String subject, Path bundle, boolean cgroups, String seccompOffBy,
                Supplier<RunscRelease> release, Path mountDir) {
            return new Context(mode, subject, bundle, cgroups, seccompOffBy, release, mountDir, HostFile::of,
                    Files::isSymbolicLink);
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
    }

    /** The container must not run: {@link #failure()} is the one line. */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Failure failure;

        Refused(Failure failure) {
            super(failure.oneLine());
            this.failure = failure;
        }

        public Failure failure() {
            return failure;
        }
    }

    /** runsc 2022-12's capability names (runsc/specutils/specutils.go capFromName): CAP_CHOWN (0) .. CAP_AUDIT_READ (37). */
    static final List<String> CAPS_2022 = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
            "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
            "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
            "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN",
            "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
            "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
            "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ");
    /** Known to runsc from release-20230227 (bd9010d4c). */
    static final List<String> CAPS_2023 = List.of("CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE");
    /** The capability names runsc {@code r} applies (gvshim removes the others). */
    public static List<String> capabilities(RunscRelease r) {
        List<String> all = new ArrayList<>(CAPS_2022);
        if (r.knowsNewCapabilities()) {
            all.addAll(CAPS_2023);
        }
        return all;
    }

    /** pkg/sentry/limits/linux.go FromLinuxResourceName: any other type fails the container ("unknown resource"). */
    static final Set<String> RLIMITS = Set.of("RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE",
            "RLIMIT_LOCKS", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
            "RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK");
    /** runsc/specutils/seccomp/seccomp.go convertRule: every libseccomp operator. */
    static final Set<String> OPERATORS = Set.of("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
            "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ");
    /** Seccomp actions gvshim can give runsc (KILL_THREAD as runsc's own name for it, SCMP_ACT_KILL). */
    public static final List<String> ACTIONS = List.of("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
            "SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW");
    /** Seccomp filter flags gvshim knows, and those it can honour (TSYNC: runsc installs the filter on every thread). */
    public static final List<String> KNOWN_FLAGS = List.of("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
    public static final List<String> SUPPORTED_FLAGS = List.of("SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
    /** AppArmor profiles container engines apply by default: their rules are all about the host kernel's /proc, /sys, mount and ptrace, which gVisor keeps from the container anyway. */
    static final Set<String> DEFAULT_APPARMOR = Set.of("docker-default", "cri-containerd.apparmor.d", "crio-default");
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;

    private final Context c;
    private final ObjectNode json;
    private final List<String> moot = new ArrayList<>();
    private final List<String> ignored = new ArrayList<>();
    private final List<String> rewrites = new ArrayList<>();
    private final List<NodevBind> nodev = new ArrayList<>();
    private boolean changed;
    private boolean emptyFile;
    private RunscRelease release;

    private SpecPolicy(Context c, ObjectNode json) {
        this.c = c;
        this.json = json;
    }

    /** Checks {@code spec} (not modified) for runsc; throws the refusal, or returns what runsc gets. */
    public static Result check(Spec spec, Context c) throws Refused {
        SpecPolicy p = new SpecPolicy(c, spec.json().deepCopy());
        boolean seccomp = p.seccomp();
        p.process();
        p.paths();
        p.linux();
        p.devices();
        return new Result(p.changed ? Spec.of(p.json) : spec, p.changed, seccomp, List.copyOf(p.nodev),
                p.emptyFile ? c.mountDir().resolve("masked") : null, List.copyOf(p.moot), List.copyOf(p.ignored),
                List.copyOf(p.rewrites));
    }

    private RunscRelease release() {
        if (release == null) {
            RunscRelease r = c.release() == null ? null : c.release().get();
            release = r == null ? RunscRelease.UNKNOWN : r;
        }
        return release;
    }

    private Refused refuse(String id, String field, String why, String fix) {
        return new Refused(Failure.of(id, "cannot honour " + field + " of " + c.subject(), null, why, fix));
    }

    private static boolean absent(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode();
    }

    private ObjectNode object(JsonNode parent, String field, String name) throws Refused {
        JsonNode n = parent == null ? null : parent.get(field);
        if (absent(n)) {
            return null;
        }
        if (!n.isObject()) {
            throw refuse("SPEC_INVALID", name, "it must be a JSON object, not " + kind(n), "fix the spec");
        }
        return (ObjectNode) n;
    }

    private ArrayNode array(JsonNode parent, String field, String name) throws Refused {
        JsonNode n = parent == null ? null : parent.get(field);
        if (absent(n)) {
            return null;
        }
        if (!n.isArray()) {
            throw refuse("SPEC_INVALID", name, "it must be a JSON array, not " + kind(n), "fix the spec");
        }
        return (ArrayNode) n;
    }

    private List<String> strings(JsonNode parent, String field, String name) throws Refused {
        ArrayNode a = array(parent, field, name);
        List<String> out = new ArrayList<>();
        if (a != null) {
            for (JsonNode n : a) {
                if (!n.isTextual()) {
                    throw refuse("SPEC_INVALID", name, "it must be an array of strings, not hold " + kind(n), "fix the spec");
                }
                out.add(n.textValue());
            }
        }
        return out;
    }

    private String text(JsonNode parent, String field, String name) throws Refused {
        JsonNode n = parent == null ? null : parent.get(field);
        if (absent(n)) {
            return null;
        }
        if (!n.isTextual()) {
            throw refuse("SPEC_INVALID", name, "it must be a string, not " + kind(n), "fix the spec");
        }
        return n.textValue();
    }

    private static String kind(JsonNode n) {
        return n.isTextual() ? "a string" : n.isNumber() ? "a number" : n.isBoolean() ? "a boolean"
                : n.isArray() ? "an array" : n.isObject() ? "an object" : "null";
    }

    // ------------------------------------------------------------------ seccomp

    /**
     * linux.seccomp. runsc applies it only with --oci-seccomp (runsc/boot/loader.go:865, else
     * "Seccomp spec is being ignored"), converting it in runsc/specutils/seccomp/seccomp.go:
     * actions KILL (as SECCOMP_RET_KILL_THREAD), TRAP, ERRNO, TRACE, ALLOW, every other action
     * fails the container at start ("invalid action"); every ERRNO returns EPERM whatever
     * errnoRet and defaultErrnoRet say (gVisor issue 14688); architectures, flags and listenerPath
     * are never read (only the native architecture has system calls in gVisor: a 32-bit
     * int 0x80 gets EINVAL).
     */
    private boolean seccomp() throws Refused {
        ObjectNode linux = object(json, "linux", "linux");
        ObjectNode sc = object(linux, "seccomp", "linux.seccomp");
        if (sc == null) {
            return false;
        }
        if (c.seccompOffBy() != null) {
            ignored.add("linux.seccomp: not applied inside the sandbox (oci-seccomp=false " + c.seccompOffBy()
                    + "; gVisor alone is the boundary)");
            return false;
        }
        String f = "linux.seccomp";
        String listener = text(sc, "listenerPath", f + ".listenerPath");
        String metadata = text(sc, "listenerMetadata", f + ".listenerMetadata");
        if ((listener != null && !listener.isEmpty()) || (metadata != null && !metadata.isEmpty())) {
            throw refuse("SECCOMP_UNSUPPORTED", f, "its listenerPath " + (listener == null ? "" : listener)
                    + " hands system calls to a seccomp agent on the host (SCMP_ACT_NOTIFY), which gVisor's seccomp has no"
                    + " way to reach", "remove listenerPath and the SCMP_ACT_NOTIFY rules (SCMP_ACT_ERRNO denies the call"
                    + " outright), or run this container with runc");
        }
        for (String flag : strings(sc, "flags", f + ".flags")) {
            switch (flag) {
                case "SECCOMP_FILTER_FLAG_TSYNC" -> {
                    // honoured: runsc installs the filter on every thread of the task (loader.go:879, syncAll)
                }
                case "SECCOMP_FILTER_FLAG_SPEC_ALLOW" -> moot.add(f + ".flags SPEC_ALLOW (gVisor decides speculation"
                        + " mitigations for the whole sandbox; the flag would only turn them off)");
                case "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" -> moot.add(f + ".flags WAIT_KILLABLE_RECV (there is no"
                        + " seccomp agent to wait for)");
                case "SECCOMP_FILTER_FLAG_LOG" -> throw refuse("SECCOMP_UNSUPPORTED", f, "flag SECCOMP_FILTER_FLAG_LOG asks"
                        + " for an audit log line per denied call, and gVisor's seccomp logs nothing", "remove the flag");
                default -> throw refuse("SECCOMP_UNSUPPORTED", f, "flag " + flag + " is not a seccomp filter flag gvshim"
                        + " knows (known: " + String.join(", ", KNOWN_FLAGS) + ")", "remove the flag");
            }
        }
        String def = text(sc, "defaultAction", f + ".defaultAction");
        if (def == null) {
            throw refuse("SPEC_INVALID", f, "it has no defaultAction", "add \"defaultAction\", e.g. \"SCMP_ACT_ERRNO\"");
        }
        String defaultAction = action(def, "defaultAction");
        if (!defaultAction.equals(def)) {
            sc.put("defaultAction", defaultAction);
            rewrites.add(f + ".defaultAction " + def + " as " + defaultAction + " (the same action)");
            changed = true;
        }
        JsonNode defRet = sc.get("defaultErrnoRet");
        List<String> errnos = new ArrayList<>();
        if (defaultAction.equals("SCMP_ACT_ERRNO") && !absent(defRet) && defRet.asInt(EPERM) != EPERM) {
            errnos.add("defaultErrnoRet " + defRet.asText());
        }
        ArrayNode rules = array(sc, "syscalls", f + ".syscalls");
        if (rules != null) {
            ArrayNode out = JsonTree.nodes().arrayNode();
            for (JsonNode r : rules) {
                if (!r.isObject()) {
                    throw refuse("SPEC_INVALID", f + ".syscalls", "each rule must be an object, not " + kind(r), "fix the spec");
                }
                ObjectNode rule = (ObjectNode) r;
                List<String> names = strings(rule, "names", f + ".syscalls[].names");
                String act = text(rule, "action", f + ".syscalls[].action");
                if (act == null) {
                    throw refuse("SPEC_INVALID", f, "the rule for " + names + " has no action", "add its \"action\"");
                }
                String a = action(act, "the rule for " + String.join(", ", names));
                args(rule, names);
                if (!a.equals(act)) {
                    rule.put("action", a);
                    rewrites.add(f + " rule " + names + ": " + act + " as " + a + " (the same action)");
                    changed = true;
                }
                JsonNode ret = rule.get("errnoRet");
                if (a.equals("SCMP_ACT_ERRNO") && !absent(ret) && ret.asInt(EPERM) != EPERM) {
                    // runsc returns EPERM for every ERRNO rule (seccomp.go errnoAction). One case is exact anyway: a
                    // call gVisor itself answers with ENOSYS, allowed, gets the ENOSYS the rule asks for; Docker's
                    // and containerd's default profiles deny clone3 so, and glibc >= 2.34 falls back to clone(2)
                    // only on ENOSYS: with EPERM no thread can be created.
                    if (ret.asInt() == ENOSYS && names.contains("clone3") && release().clone3Enosys()) {
                        List<String> rest = new ArrayList<>(names);
                        rest.remove("clone3");
                        ObjectNode allow = rule.deepCopy();
                        allow.set("names", strings(List.of("clone3")));
                        allow.put("action", "SCMP_ACT_ALLOW");
                        allow.remove("errnoRet");
                        out.add(allow);
                        rewrites.add(f + " rule clone3 ERRNO(ENOSYS) as ALLOW: runsc " + release().label()
                                + " answers clone3 with ENOSYS itself");
                        changed = true;
                        if (rest.isEmpty()) {
                            continue;
                        }
                        rule.set("names", strings(rest));
                    }
                    errnos.add("errnoRet " + ret.asText() + " for " + String.join(", ", names(rule)));
                }
                out.add(rule);
            }
            sc.set("syscalls", out);
        }
        if (!errnos.isEmpty()) {
            ignored.add(f + " " + String.join("; ", errnos) + ": the call is denied with EPERM instead (runsc returns"
                    + " EPERM for every SCMP_ACT_ERRNO, gVisor issue 14688)");
        }
        List<String> archs = strings(sc, "architectures", f + ".architectures");
        if (archs.stream().anyMatch(x -> !x.equals("SCMP_ARCH_X86_64") && !x.equals("SCMP_ARCH_AARCH64"))) {
            moot.add(f + ".architectures other than the native one (gVisor has no 32-bit system calls)");
        }
        return true;
    }

    private List<String> names(ObjectNode rule) throws Refused {
        return strings(rule, "names", "linux.seccomp.syscalls[].names");
    }

    private static ArrayNode strings(List<String> values) {
        ArrayNode a = JsonTree.nodes().arrayNode();
        values.forEach(a::add);
        return a;
    }

    /** An action runsc applies as the spec means it (possibly under runsc's own name), or the refusal. */
    private String action(String a, String where) throws Refused {
        String f = "linux.seccomp";
        String fix = "use SCMP_ACT_ERRNO, SCMP_ACT_KILL or SCMP_ACT_TRAP for " + where + ", or run this container with runc";
        return switch (a) {
            case "SCMP_ACT_KILL", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW" -> a;
            // libseccomp: SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD; runsc knows only the first name
            case "SCMP_ACT_KILL_THREAD" -> "SCMP_ACT_KILL";
            case "SCMP_ACT_KILL_PROCESS" -> throw refuse("SECCOMP_UNSUPPORTED", f, where + " is SCMP_ACT_KILL_PROCESS, and"
                    + " runsc can kill only the calling thread (SCMP_ACT_KILL): the rest of the process would go on", fix);
            case "SCMP_ACT_NOTIFY" -> throw refuse("SECCOMP_UNSUPPORTED", f, where + " is SCMP_ACT_NOTIFY, which hands the"
                    + " call to a seccomp agent on the host, and gVisor's seccomp has no way to reach one", fix);
            case "SCMP_ACT_LOG" -> throw refuse("SECCOMP_UNSUPPORTED", f, where + " is SCMP_ACT_LOG, and gVisor's seccomp"
                    + " cannot log: the calls would run with no audit trail", "use SCMP_ACT_ALLOW for " + where
                    + " if the log is not needed (runsc --strace logs system calls), or run this container with runc");
            case "SCMP_ACT_TRACE" -> throw refuse("SECCOMP_UNSUPPORTED", f, where + " is SCMP_ACT_TRACE, and gVisor runs the"
                    + " call a tracer lets through without checking the filter again (Linux re-checks since 4.8), so a"
                    + " tracer in the sandbox could turn it into any call the profile denies", fix);
            default -> throw refuse("SECCOMP_UNSUPPORTED", f, where + " has action " + a + ", which runsc does not know"
 + " (known: " + String.join(", ", ACTIONS) + ")", fix);
        };
    }

    /** Argument conditions: runsc takes index 0-5 and every libseccomp operator (seccomp.go convertRule). */
    private void args(ObjectNode rule, List<String> names) throws Refused {
        ArrayNode args = array(rule, "args", "linux.seccomp.syscalls[].args");
        if (args == null) {
            return;
        }
        for (JsonNode a : args) {
            int index = a.path("index").asInt(-1);
            String op = a.path("op").asText("");
            if (index < 0 || index > 5) {
                throw refuse("SECCOMP_UNSUPPORTED", "linux.seccomp", "the rule for " + String.join(", ", names)
                        + " tests argument index " + a.path("index").asText() + "; system calls have arguments 0 to 5",
                        "fix the rule's \"index\"");
            }
            if (!OPERATORS.contains(op)) {
                throw refuse("SECCOMP_UNSUPPORTED", "linux.seccomp", "the rule for " + String.join(", ", names)
                        + " uses operator \"" + op + "\", which runsc does not know (known: " + String.join(", ",
                        OPERATORS.stream().sorted().toList()) + ")", "fix the rule's \"op\"");
            }
        }
    }

    // ------------------------------------------------------------------ process

    private void process() throws Refused {
        ObjectNode p = object(json, "process", "process");
        if (p == null) {
            return;
        }
        String apparmor = text(p, "apparmorProfile", "process.apparmorProfile");
        if (apparmor != null && !apparmor.isEmpty() && !apparmor.equals("unconfined")) {
            // runsc/specutils/specutils.go:106: "AppArmor profile %q is being ignored"
            if (DEFAULT_APPARMOR.contains(apparmor) || apparmor.startsWith("containers-default-")) {
                moot.add("process.apparmorProfile " + apparmor + " (an engine's default profile: it keeps a container"
                        + " from the host kernel's mount, /proc, /sys and ptrace, which the container's processes never"
                        + " reach in gVisor)");
            } else {
                throw refuse("SPEC_APPARMOR", "process.apparmorProfile", "runsc does not apply AppArmor profiles (it"
                        + " logs \"being ignored\"), and " + apparmor + " is not an engine's default whose rules gVisor"
                        + " enforces anyway, so what it forbids would be allowed", "use the engine's default profile or"
                        + " apparmor=unconfined for this container, or run it with runc");
            }
        }
        String label = text(p, "selinuxLabel", "process.selinuxLabel");
        if (label != null && !label.isEmpty()) {
            // runsc/specutils/specutils.go:101 refuses it too, with "SELinux is not supported"
            throw selinux("process.selinuxLabel", label);
        }
        capabilities(object(p, "capabilities", "process.capabilities"));
        ArrayNode rlimits = array(p, "rlimits", "process.rlimits");
        if (rlimits != null) {
            for (JsonNode r : rlimits) {
                String type = r.path("type").asText("");
                if (!RLIMITS.contains(type)) {
                    // runsc/boot/limits.go createLimitSet: "unknown resource", the container fails
                    throw refuse("SPEC_RLIMIT", "process.rlimits", "runsc does not know the limit \"" + type
                            + "\" and would fail the container", "remove it (known: " + String.join(", ",
                            RLIMITS.stream().sorted().toList()) + ")");
                }
            }
        }
        JsonNode umask = p.path("user").get("umask");
        if (!absent(umask) && umask.canConvertToLong()) {
            long m = umask.asLong() & 0777;
            // runsc/boot/vfs.go: every process starts with umask 0022 until release-20241021
            if (m != 022 && !release().appliesUmask()) {
                if ((m & ~022L) != 0) {
                    throw refuse("SPEC_UMASK", "process.user.umask", String.format(Locale.ROOT, "runsc %s gives every"
                            + " process umask 0022 (it applies the spec's from 2024-10), so files would be created"
                            + " more open than %04o allows", release().label(), m), "remove the umask (files get 0022),"
                            + " or set the modes the files need explicitly");
                }
                moot.add(String.format(Locale.ROOT, "process.user.umask %04o (runsc %s uses 0022, which is stricter)", m,
                        release().label()));
            }
        }
    }

    private Refused selinux(String field, String label) {
        return refuse("SPEC_SELINUX", field, "runsc cannot put an SELinux label on the sandbox (" + label + "), so the"
                + " separation between containers the label keeps on the host would not hold", "run this container"
                + " without a label (--security-opt label=disable) or with runc");
    }

    /**
     * runsc applies the bounding, effective, inheritable and permitted sets
     * (specutils.Capabilities) and fails on a name it does not know; ambient capabilities only
     * from release-20260615 (before, a process keeps fewer capabilities after exec, never more).
     */
    private void capabilities(ObjectNode caps) throws Refused {
        if (caps == null) {
            return;
        }
        Set<String> removed = new LinkedHashSet<>();
        for (String set : List.of("bounding", "effective", "inheritable", "permitted", "ambient")) {
            List<String> names = strings(caps, set, "process.capabilities." + set);
            List<String> kept = new ArrayList<>();
            for (String n : names) {
                if (CAPS_2022.contains(n) || (CAPS_2023.contains(n) && release().knowsNewCapabilities())) {
                    kept.add(n);
                } else {
                    removed.add(n);
                }
            }
            if (kept.size() != names.size()) {
                caps.set(set, strings(kept));
                changed = true;
            }
        }
        if (!removed.isEmpty()) {
            moot.add("process.capabilities " + String.join(", ", removed) + " (removed: runsc " + release().label()
                    + " would fail the container on them, and gVisor implements nothing they allow)");
            rewrites.add("process.capabilities without " + String.join(", ", removed));
        }
        if (!strings(caps, "ambient", "process.capabilities.ambient").isEmpty()) {
            moot.add("process.capabilities.ambient (runsc before 2026-06 does not apply them: a process has fewer"
                    + " capabilities after exec, never more)");
        }
    }

    // ------------------------------------------------------------------ masked and read-only paths

    /**
     * runsc applies neither list (2022-12 to today: they appear only in specutils.LogSpec).
     * Under gVisor's own /proc and /sys they are moot: what runc hides there (the host's kcore,
     * keys, timer_list, sched_debug, firmware...) does not exist in gVisor, and what it makes
     * read-only (/proc/sys...) is the sandbox's own kernel, whose writes never reach the host
     * (hostinet's setters return EACCES). Anywhere else the host's file would be visible and
     * writable, so gvshim does what runc does, with mounts runsc applies: a masked directory gets
     * an empty read-only tmpfs, a masked file a read-only bind of an empty file, a read-only path
     * a read-only bind of itself (runc libcontainer/rootfs_linux.go maskPath, readonlyPath). A path
     * that does not exist is skipped, as runc skips it.
     */
    private void paths() throws Refused {
        ObjectNode linux = object(json, "linux", "linux");
        int mootCount = 0;
        List<ObjectNode> added = new ArrayList<>();
        for (String field : List.of("maskedPaths", "readonlyPaths")) {
            boolean masked = field.equals("maskedPaths");
            for (String p : strings(linux, field, "linux." + field)) {
                String path = Path.of("/").resolve(p).normalize().toString();
                Covering cov = covering(path);
                if (cov.gvisorOwn()) {
                    mootCount++;
                    continue;
                }
                if (cov.host() == null) {
                    throw refuse("SPEC_MASKED_PATH", "linux." + field, path + " is in the sandbox's own " + cov.type()
                            + " at " + cov.destination() + ", where gvshim cannot " + (masked ? "mask" : "protect")
                            + " it (runsc applies neither maskedPaths nor readonlyPaths)", "remove the entry");
                }
                Path host = cov.host().resolve(cov.destination().equals("/") ? path.substring(1)
                        : path.substring(Math.min(path.length(), cov.destination().length() + 1)));
                for (Path q = host; q != null && q.startsWith(cov.host()) && !q.equals(cov.host()); q = q.getParent()) {
                    if (c.symlink().test(q)) {
                        throw refuse("SPEC_MASKED_PATH", "linux." + field, path + " leads through the symbolic link " + q
                                + ", and gvshim resolves these paths on the host without following links",
                                "name the path the link points to");
                    }
                }
                HostFile f = c.stat().apply(host);
                ObjectNode m = JsonTree.nodes().objectNode();
                m.put("destination", path);
                if (f.kind() == HostFile.Kind.MISSING) {
                    continue;
                } else if (masked && f.kind() == HostFile.Kind.DIRECTORY) {
                    m.put("type", "tmpfs").put("source", "tmpfs").set("options", strings(List.of("ro", "nosuid", "nodev",
                            "noexec", "size=4k", "mode=555")));
                } else if (masked) {
                    m.put("type", "bind").put("source", c.mountDir().resolve("masked").toString())
                            .set("options", strings(List.of("bind", "ro", "nosuid", "nodev", "noexec")));
                    emptyFile = true;
                } else {
                    m.put("type", "bind").put("source", host.toString()).set("options", strings(List.of("rbind", "ro")));
                }
                added.add(m);
                rewrites.add("linux." + field + " " + path + " as a " + (masked && f.kind() == HostFile.Kind.DIRECTORY
                        ? "read-only tmpfs" : masked ? "read-only empty file" : "read-only bind of " + host));
            }
        }
        if (!added.isEmpty()) {
            ArrayNode mounts = json.get("mounts") instanceof ArrayNode a ? a : json.putArray("mounts");
            added.forEach(mounts::add);
            changed = true;
        }
        if (mootCount > 0) {
            moot.add("linux.maskedPaths and readonlyPaths (" + mootCount + " under gVisor's own /proc and /sys: nothing"
                    + " of the host's is there, and writes reach only the sandbox's kernel)");
        }
    }

    /**
     * The mount that holds {@code path} in the container (the last one whose destination
     * contains it, later mounts covering earlier ones): gVisor's own /proc or /sys, a host
     * directory (a bind mount's source, or the root file system), or a file system of the
     * sandbox's own (tmpfs...: {@code host} null).
     */
    private record Covering(String destination, String type, Path host) {
        boolean gvisorOwn() {
            return host == null && (type.equals("proc") || type.equals("sysfs"));
        }
    }

    private Covering covering(String path) throws Refused {
        Covering cov = null;
        ArrayNode mounts = array(json, "mounts", "mounts");
        if (mounts != null) {
            for (JsonNode m : mounts) {
                String dst = m.path("destination").asText("");
                String d = dst.isEmpty() ? "" : Path.of("/").resolve(dst).normalize().toString();
                if (!d.isEmpty() && (path.equals(d) || path.startsWith(d.equals("/") ? "/" : d + "/"))) {
                    String source = m.path("source").asText("");
                    cov = bind(m) ? new Covering(d, "bind", source.isEmpty() ? null : hostPath(source))
                            : new Covering(d, m.path("type").asText(""), null);
                }
            }
        }
        if (cov != null) {
            return cov;
        }
        // runsc/boot/vfs.go compileMounts adds proc at /proc and sysfs at /sys when the spec has none
        if (path.equals("/proc") || path.startsWith("/proc/")) {
            return new Covering("/proc", "proc", null);
        }
        if (path.equals("/sys") || path.startsWith("/sys/")) {
            return new Covering("/sys", "sysfs", null);
        }
        String root = text(object(json, "root", "root"), "path", "root.path");
        return new Covering("/", "root", root == null ? null : hostPath(root));
    }

    private Path hostPath(String p) {
        return c.bundle() == null ? Path.of(p) : c.bundle().resolve(p).normalize();
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

    // ------------------------------------------------------------------ the rest of linux

    private void linux() throws Refused {
        ObjectNode linux = object(json, "linux", "linux");
        if (linux == null) {
            return;
        }
        String mountLabel = text(linux, "mountLabel", "linux.mountLabel");
        if (mountLabel != null && !mountLabel.isEmpty()) {
            throw selinux("linux.mountLabel", mountLabel);
        }
        if (!absent(linux.get("intelRdt"))) {
            throw refuse("SPEC_INTEL_RDT", "linux.intelRdt", "runsc does not place the sandbox in a resctrl group, so the"
                    + " cache and memory-bandwidth partition it asks for would not exist", "remove linux.intelRdt, or run"
                    + " this container with runc");
        }
        ObjectNode sysctl = object(linux, "sysctl", "linux.sysctl");
        if (sysctl != null && !sysctl.isEmpty()) {
            List<String> keys = new ArrayList<>();
            sysctl.fieldNames().forEachRemaining(keys::add);
            ignored.add("linux.sysctl " + String.join(", ", keys) + ": not applied (runsc ignores linux.sysctl; the"
                    + " sandbox's kernel keeps gVisor's own values, and none of them is the host's)");
        }
        ObjectNode personality = object(linux, "personality", "linux.personality");
        if (personality != null && (!personality.path("domain").asText("LINUX").equals("LINUX")
                || !personality.path("flags").isEmpty())) {
            ignored.add("linux.personality " + JsonTree.compact(personality) + ": not applied (runsc ignores it)");
        }
        ArrayNode devices = array(linux, "devices", "linux.devices");
        if (devices != null && !devices.isEmpty()) {
            List<String> paths = new ArrayList<>();
            devices.forEach(d -> paths.add(d.path("path").asText("?")));
            moot.add("linux.devices " + String.join(", ", paths) + " (not created: the sandbox has only gVisor's own"
                    + " devices, no host device)");
        }
        if (!c.cgroups()) {
            resources(object(linux, "resources", "linux.resources"));
        }
    }

    /**
     * Limits runsc would drop: gvshim runs this sandbox with --ignore-cgroups (gvshim run, and a
     * runtime caller without root, cannot create cgroups). Device rules are not among them:
     * {@link #devices()} enforces those without cgroups.
     */
    private void resources(ObjectNode r) throws Refused {
        if (r == null) {
            return;
        }
        List<String> set = new ArrayList<>();
        ObjectNode mem = object(r, "memory", "linux.resources.memory");
        if (mem != null) {
            for (String k : List.of("limit", "reservation", "swap", "kernel", "kernelTCP")) {
                if (mem.path(k).asLong(0) > 0) {
                    set.add("memory." + k);
                }
            }
        }
        ObjectNode cpu = object(r, "cpu", "linux.resources.cpu");
        if (cpu != null) {
            for (String k : List.of("shares", "quota", "realtimeRuntime", "idle")) {
                if (cpu.path(k).asLong(0) > 0) {
                    set.add("cpu." + k);
                }
            }
            for (String k : List.of("cpus", "mems")) {
                if (!cpu.path(k).asText("").isEmpty()) {
                    set.add("cpu." + k);
                }
            }
        }
        if (r.path("pids").path("limit").asLong(0) > 0) {
            set.add("pids.limit");
        }
        ObjectNode io = object(r, "blockIO", "linux.resources.blockIO");
        if (io != null) {
            if (io.path("weight").asLong(0) > 0 || io.path("leafWeight").asLong(0) > 0) {
                set.add("blockIO.weight");
            }
            for (String k : List.of("weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice",
                    "throttleReadIOPSDevice", "throttleWriteIOPSDevice")) {
                if (io.path(k).isArray() && !io.path(k).isEmpty()) {
                    set.add("blockIO." + k);
                }
            }
        }
        for (String k : List.of("hugepageLimits", "rdma", "unified")) {
            if ((r.path(k).isArray() || r.path(k).isObject()) && !r.path(k).isEmpty()) {
                set.add(k);
            }
        }
        if (r.path("network").path("classID").asLong(0) > 0 || !r.path("network").path("priorities").isEmpty()) {
            set.add("network");
        }
        if (!set.isEmpty()) {
            throw refuse("SPEC_RESOURCES", "linux.resources", "it limits " + String.join(", ", set) + ", and this sandbox"
                    + " runs without cgroups of its own (" + (c.mode() == Mode.RUN ? "gvshim run" : "a runtime caller"
                    + " without root") + " cannot create them), so the limits would not exist", c.mode() == Mode.RUN
                    ? "remove them and put gvshim itself in a cgroup with those limits (e.g. systemd-run --user --scope"
                    + " -p MemoryMax=512M gvshim run ...)" : "remove the limits, or run the runtime as root");
        }
    }

    // ------------------------------------------------------------------ devices

    /**
     * Device rules (linux.resources.devices): runsc applies none (runsc/cgroup/cgroup.go:
     * "devices" is a no-op), and its gofer opens a character-device node found in the root file
     * system or a bind mount on the host and gives the sandbox the descriptor
     * (runsc/fsgofer/lisafs.go Open, S_IFCHR; gVisor's --character-device-policy closes this
     * only in 2026-08). Measured with runsc 2022-12: a node c 1 11 in an image writes to the
     * host's kernel log. gvshim honours rules that deny devices by giving runsc nodev copies of
     * the root file system and of every bind source (see gvshim-nsexec --nodev-file); gVisor's
     * own /dev (null, zero, full, random, urandom, tty, ptmx, fuse, net/tun) is not the host's and
     * unaffected. A bind mount with the option "nodev" gets the same copy whatever the rules.
     */
    private void devices() throws Refused {
        ObjectNode linux = object(json, "linux", "linux");
        ObjectNode res = object(linux, "resources", "linux.resources");
        ArrayNode rules = array(res, "devices", "linux.resources.devices");
        boolean restricted = rules != null && !allowsAllCharDevices(rules);
        ObjectNode root = object(json, "root", "root");
        String rootPath = text(root, "path", "root.path");
        if (restricted && rootPath != null && c.mountDir() != null) {
            Path src = hostPath(rootPath);
            Path dst = c.mountDir().resolve("rootfs");
            // runsc's gofer remounts a read-only root with MS_REMOUNT|MS_BIND|MS_RDONLY (runsc/cmd/gofer.go:416), which
            // clears nodev: the copy is made read-only by gvshim instead, and runsc is told the root is writable (the
            // sandbox's writes then fail with EROFS, as they would; its /proc/mounts says rw)
            boolean ro = root.path("readonly").asBoolean(false);
            nodev.add(new NodevBind(src, dst, true, ro));
            root.put("path", dst.toString());
            if (ro) {
                root.put("readonly", false);
                rewrites.add("root.readonly as a read-only nodev copy of the root file system");
            }
            changed = true;
        }
        ArrayNode mounts = array(json, "mounts", "mounts");
        if (mounts == null) {
            return;
        }
        int i = 0;
        for (JsonNode n : mounts) {
            i++;
            if (!bind(n) || !n.isObject()) {
                continue;
            }
            ObjectNode m = (ObjectNode) n;
            boolean nodevOption = false;
            for (JsonNode o : m.path("options")) {
                nodevOption |= o.asText().equals("nodev");
            }
            if (!restricted && !nodevOption) {
                continue;
            }
            String source = m.path("source").asText("");
            if (source.isEmpty() || c.mountDir() == null) {
                continue;
            }
            Path src = hostPath(source);
            if (src.startsWith(c.mountDir())) {
                continue; // gvshim's own empty file for masked files
            }
            HostFile f = c.stat().apply(src);
            switch (f.kind()) {
                case MISSING, BLOCK -> {
                    continue; // runsc reports a missing source itself; its gofer never opens a block device (EPERM)
                }
                case CHAR -> {
                    if (!nodevOption && allowed(rules, f.major(), f.minor())) {
                        continue; // allowed, as runc's rules would: the device works
                    }
                    if (!nodevOption) {
                        throw refuse("SPEC_DEVICE", "linux.resources.devices", "the bind mount " + src + " at "
                                + m.path("destination").asText() + " is the character device " + f.major() + ":" + f.minor()
                                + ", which the spec's device rules deny, and runsc applies no device rules",
                                "allow the device in linux.resources.devices (docker run --device), or remove the mount");
                    }
                }
                default -> {
                    // a directory or file: its copy is mounted nodev below
                }
            }
            Path dst = c.mountDir().resolve("m" + i);
            nodev.add(new NodevBind(src, dst, f.kind() == HostFile.Kind.DIRECTORY, false));
            m.put("source", dst.toString());
            changed = true;
        }
    }

    /** Whether the rules, in order, end up allowing every character device (runc's device cgroup emulation: the last matching rule wins). */
    static boolean allowsAllCharDevices(ArrayNode rules) {
        boolean all = true;
        for (JsonNode r : rules) {
            String type = r.path("type").asText("a");
            boolean chars = type.equals("a") || type.equals("c");
            boolean wildcard = wild(r.get("major")) && wild(r.get("minor"));
            boolean allow = r.path("allow").asBoolean(false);
            if (chars && wildcard) {
                all = allow;
            } else if (chars && !allow) {
                all = false;
            }
        }
        return all;
    }

    /** Whether the rules allow the character device major:minor (no rules: the cgroup default, allowed). */
    static boolean allowed(ArrayNode rules, long major, long minor) {
        boolean ok = true;
        if (rules == null) {
            return true;
        }
        for (JsonNode r : rules) {
            String type = r.path("type").asText("a");
            if (!type.equals("a") && !type.equals("c")) {
                continue;
            }
            if ((wild(r.get("major")) || r.get("major").asLong() == major) && (wild(r.get("minor"))
                    || r.get("minor").asLong() == minor)) {
                String access = r.path("access").asText("rwm");
                ok = r.path("allow").asBoolean(false) ? access.contains("r") || access.contains("w") : false;
            }
        }
        return ok;
    }

    private static boolean wild(JsonNode n) {
        return absent(n) || n.asLong(-1) < 0;
    }
}
