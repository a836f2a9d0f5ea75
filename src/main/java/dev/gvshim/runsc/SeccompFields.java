package dev.gvshim.runsc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * linux.seccomp: applied by runsc with --oci-seccomp, its actions, flags and argument conditions
 * checked against what runsc's converter honours (runsc/specutils/seccomp/seccomp.go), and
 * rewritten where runsc knows an action under another name.
 */
final class SeccompFields extends SpecFields {
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
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;

    SeccompFields(SpecPolicy.Context c, ObjectNode json, Out out) {
        super(c, json, out);
    }

    /**
     * linux.seccomp. runsc applies it only with --oci-seccomp (runsc/boot/loader.go:865, else
     * "Seccomp spec is being ignored"), converting it in runsc/specutils/seccomp/seccomp.go:
     * actions KILL (as SECCOMP_RET_KILL_THREAD), TRAP, ERRNO, TRACE, ALLOW, every other action
     * fails the container at start ("invalid action"); every ERRNO returns EPERM whatever
     * errnoRet and defaultErrnoRet say (gVisor issue 14688); architectures, flags and listenerPath
     * are never read (only the native architecture has system calls in gVisor: a 32-bit
     * int 0x80 gets EINVAL).
     */
    boolean check() throws GvshimException {
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
            changed();
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
                    changed();
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
                        changed();
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

    private List<String> names(ObjectNode rule) throws GvshimException {
        return strings(rule, "names", "linux.seccomp.syscalls[].names");
    }

    /** An action runsc applies as the spec means it (possibly under runsc's own name), or the refusal. */
    private String action(String a, String where) throws GvshimException {
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
    private void args(ObjectNode rule, List<String> names) throws GvshimException {
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
}
