package dev.gvshim.container;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.runsc.RunscConfig.Network;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How gvshim runs runsc for a container, merged from (weakest first) built-in defaults, the
 * configuration file ({@code /etc/gvshim/config.json}, or {@code --config}), the runtime's
 * own command-line options (Docker's {@code runtimeArgs}, containerd's runtime options), and,
 * only where the configuration file sets {@code "allowFlagOverride": true} (runsc's own rule
 * for the same annotations), the container's {@code dev.gvisor.flag.NAME} annotations. A pod
 * author must not be able to turn on host networking by annotation unless the node allows it.
 *
 * <pre>{"runsc": "/usr/bin/runsc", "network": "sandbox", "platform": "ptrace",
 *  "runscFlags": {"overlay": "true"}, "allowFlagOverride": false, "debug": false,
 *  "execWithoutSeccomp": false, "server": "auto", "serverIdleTimeout": 600}</pre>
 * ({@code server} and {@code serverIdleTimeout} are bin/gvshim's: whether calls go to the
 * long-lived gvshim server, and how long it stays without calls; checked here, used there.)
 *
 * @param runsc             runsc binary (null: search $PATH)
 * @param network           runsc --network
 * @param networkExplicit   whether anyone chose the network (else the default for this runsc and kernel)
 * @param platform          runsc --platform (null: runsc's default)
 * @param debug             runsc --debug and gvshim's debug log lines
 * @param flags             further runsc flags by name
 * @param raw               runsc arguments passed verbatim
 * @param allowFlagOverride whether annotations may set runsc flags
 * @param execWithoutSeccomp whether `exec` may start a process without the container's seccomp
 *                          profile where runsc would not apply it (before release-20260330);
 *                          refused otherwise ([SECCOMP_EXEC]). The operator's choice only (this
 *                          file, or the runtime option --exec-without-seccomp), never a container's.
 */
public record RuntimeConfig(String runsc, Network network, boolean networkExplicit, String platform, boolean debug,
        Map<String, String> flags, List<String> raw, boolean allowFlagOverride, boolean execWithoutSeccomp) {

    public static final Path DEFAULT_FILE = Path.of("/etc/gvshim/config.json");
    public static final String ANNOTATION_PREFIX = "dev.gvisor.flag.";
    /** Flags gvshim owns for every container: set through config or annotations they would break it. */
    static final Set<String> RESERVED = Set.of("root", "log", "log-format", "debug-log", "rootless", "ignore-cgroups");

    /** A configuration that cannot be used: {@code line} names the file or option and the fix. */
    private static GvshimException invalid(String line) {
        return RuntimeFailures.of("CONFIG_INVALID", line);
    }

    /**
     * The server's warm pools of the file {@code file} ({@code "pools": ["NAME:min=2,max=8,..."]}, as
     * `gvshim server start --pool` takes them; paths absolute); none when the file does not exist.
     */
    public static List<dev.gvshim.pool.PoolSpec> pools(Path file) throws GvshimException {
        load(file, false); // the whole file is checked, as every reader of it does
        try {
            return Files.exists(file) ? pools(JsonTree.read(Files.readAllBytes(file)), " in " + file) : List.of();
        } catch (IOException e) {
            throw invalid("cannot read the configuration file " + file + ": " + IoError.reason(e, file));
        }
    }

    private static List<dev.gvshim.pool.PoolSpec> pools(JsonNode j, String where) throws GvshimException {
        List<dev.gvshim.pool.PoolSpec> out = new ArrayList<>();
        if (!j.has("pools")) {
            return out;
        }
        if (!j.get("pools").isArray()) {
            throw invalid("\"pools\"" + where + " must be a list of strings such as \"py:min=2,max=8,rootfs=/srv/py\"");
        }
        for (JsonNode p : j.get("pools")) {
            if (!p.isTextual()) {
                throw invalid("\"pools\"" + where + " must be a list of strings such as \"py:min=2,max=8,rootfs=/srv/py\"");
            }
            try {
                out.add(dev.gvshim.pool.PoolSpec.parse(p.asText(), Path.of("/")));
            } catch (IllegalArgumentException e) {
                throw invalid("\"pools\"" + where + ": " + e.getMessage());
            }
        }
        return out;
    }

    static RuntimeConfig defaults() {
        return new RuntimeConfig(null, Network.NONE, false, null, false, new LinkedHashMap<>(), new ArrayList<>(), false,
                false);
    }

    /** Reads {@code file}; a missing default file is no configuration, a missing explicit one an error. */
    public static RuntimeConfig load(Path file, boolean explicit) throws GvshimException {
        RuntimeConfig c = defaults();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            if (explicit) {
                throw invalid("configuration file " + file + " does not exist");
            }
            return c;
        } catch (IOException e) {
            throw invalid("cannot read the configuration file " + file + ": " + IoError.reason(e, file));
        }
        JsonNode j;
        try {
            j = JsonTree.read(bytes);
        } catch (JsonProcessingException e) {
            throw invalid("configuration file " + file + " is not valid JSON: " + JsonTree.plainMessage(e));
        }
        if (!j.isObject()) {
            throw invalid("configuration file " + file + " must hold a JSON object");
        }
        String where = " in " + file;
        for (var prop : j.properties()) {
            String k = prop.getKey();
            if (!Set.of("runsc", "network", "platform", "debug", "runscFlags", "allowFlagOverride", "execWithoutSeccomp",
                    "server", "serverIdleTimeout", "pools").contains(k)) {
                throw invalid("unknown key \"" + k + "\"" + where + " (known: runsc, network, platform, debug,"
                        + " runscFlags, allowFlagOverride, execWithoutSeccomp, server, serverIdleTimeout, pools)");
            }
        }
        // read by bin/gvshim (the native client) before any JVM runs; checked here so that a mistake is told
        if (j.has("server") && !(j.get("server").isTextual() && Set.of("auto", "on", "off").contains(j.get("server").asText()))) {
            throw invalid("\"server\"" + where + " must be \"auto\", \"on\" or \"off\"");
        }
        if (j.has("serverIdleTimeout") && !(j.get("serverIdleTimeout").canConvertToLong()
                && j.get("serverIdleTimeout").isIntegralNumber() && j.get("serverIdleTimeout").asLong() >= 0)) {
            throw invalid("\"serverIdleTimeout\"" + where + " must be a number of seconds, 0 (never) or more");
        }
        pools(j, where);
        if (j.has("runsc")) {
            c = c.withRunsc(text(j, "runsc", where));
        }
        if (j.has("network")) {
            c = c.withNetwork(text(j, "network", where), where);
        }
        if (j.has("platform")) {
            c = c.withPlatform(text(j, "platform", where));
        }
        if (j.has("debug")) {
            c = c.withDebug(bool(j, "debug", where));
        }
        if (j.has("allowFlagOverride")) {
            c = new RuntimeConfig(c.runsc, c.network, c.networkExplicit, c.platform, c.debug, c.flags, c.raw,
                    bool(j, "allowFlagOverride", where), c.execWithoutSeccomp);
        }
        if (j.has("execWithoutSeccomp")) {
            c = c.withExecWithoutSeccomp(bool(j, "execWithoutSeccomp", where));
        }
        JsonNode flags = j.path("runscFlags");
        if (!flags.isMissingNode()) {
            if (!flags.isObject()) {
                throw invalid("\"runscFlags\"" + where + " must be an object of flag names to values");
            }
            for (var e : flags.properties()) {
                c = c.withFlag(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString(), where);
            }
        }
        return c;
    }

    private static String text(JsonNode j, String key, String where) throws GvshimException {
        JsonNode v = j.path(key);
        if (!v.isTextual() || v.asText().isBlank()) {
            throw invalid("\"" + key + "\"" + where + " must be a non-empty string");
        }
        return v.asText();
    }

    /** Strictly true or false: Jackson's asBoolean() would read "yes" or "on" as false without a word. */
    private static boolean bool(JsonNode j, String key, String where) throws GvshimException {
        JsonNode v = j.path(key);
        if (!v.isBoolean()) {
            throw invalid("\"" + key + "\"" + where + " must be true or false, not " + v);
        }
        return v.booleanValue();
    }

    public RuntimeConfig withRunsc(String path) {
        return new RuntimeConfig(path, network, networkExplicit, platform, debug, flags, raw, allowFlagOverride,
                execWithoutSeccomp);
    }

    public RuntimeConfig withNetwork(String mode, String where) throws GvshimException {
        Network n = Network.parse(mode);
        if (n == null) {
            throw invalid("network \"" + mode + "\"" + where + " is not one of none, sandbox, host");
        }
        return new RuntimeConfig(runsc, n, true, platform, debug, flags, raw, allowFlagOverride, execWithoutSeccomp);
    }

    /** The operator's opt-in to exec without the container's seccomp profile (see the record's doc). */
    public RuntimeConfig withExecWithoutSeccomp(boolean allow) {
        return new RuntimeConfig(runsc, network, networkExplicit, platform, debug, flags, raw, allowFlagOverride, allow);
    }

    public RuntimeConfig withPlatform(String p) {
        return new RuntimeConfig(runsc, network, networkExplicit, p, debug, flags, raw, allowFlagOverride,
                execWithoutSeccomp);
    }

    public RuntimeConfig withDebug(boolean d) {
        return new RuntimeConfig(runsc, network, networkExplicit, platform, debug || d, flags, raw, allowFlagOverride,
                execWithoutSeccomp);
    }

    public RuntimeConfig withRaw(List<String> args) {
        List<String> r = new ArrayList<>(raw);
        r.addAll(args);
        return new RuntimeConfig(runsc, network, networkExplicit, platform, debug, flags, r, allowFlagOverride,
                execWithoutSeccomp);
    }

    /** {@code name=value} as a runsc flag; network and platform go to their typed fields. */
    public RuntimeConfig withFlag(String name, String value, String where) throws GvshimException {
        String n = name.startsWith("--") ? name.substring(2) : name;
        if (!n.matches("[a-z0-9][a-z0-9-]*")) {
            throw invalid("runsc flag name \"" + name + "\"" + where + " is not a flag name (lower-case letters,"
                    + " digits and dashes, e.g. \"overlay2\" for --overlay2)");
        }
        if (RESERVED.contains(n)) {
            throw invalid("runsc flag --" + n + where + " is set by gvshim itself for every container; remove it");
        }
        switch (n) {
            case "network":
                return withNetwork(value, where);
            case "platform":
                return withPlatform(value);
            case "debug":
                return withDebug(Boolean.parseBoolean(value));
            default:
                Map<String, String> f = new LinkedHashMap<>(flags);
                f.put(n, value);
                return new RuntimeConfig(runsc, network, networkExplicit, platform, debug, f, raw, allowFlagOverride,
                        execWithoutSeccomp);
        }
    }

    /**
     * The operator's choice of runsc --oci-seccomp: TRUE or FALSE when configured (config file,
     * --runsc-flag, runtimeArgs, or an annotation where allowFlagOverride lets containers set
     * flags), null when not. Unset, gvshim passes it whenever the spec has a seccomp profile.
     */
    public Boolean ociSeccomp() {
        Boolean b = null;
        String v = flags.get("oci-seccomp");
        if (v != null) {
            b = v.isEmpty() || Boolean.parseBoolean(v) || v.equals("1");
        }
        for (String r : raw) {
            if (r.equals("--oci-seccomp") || r.equals("-oci-seccomp") || r.matches("--?oci-seccomp=(true|1)")) {
                b = true;
            } else if (r.matches("--?oci-seccomp=(false|0)")) {
                b = false;
            }
        }
        return b;
    }

    /**
     * The container's {@code dev.gvisor.flag.*} annotations applied, if allowed; returns the
     * annotations that were ignored (for a warning), in {@code ignored}.
     */
    public RuntimeConfig withAnnotations(Map<String, String> annotations, List<String> ignored) throws GvshimException {
        RuntimeConfig c = this;
        for (var e : annotations.entrySet()) {
            if (!e.getKey().startsWith(ANNOTATION_PREFIX)) {
                continue;
            }
            if (!allowFlagOverride) {
                ignored.add(e.getKey());
                continue;
            }
            c = c.withFlag(e.getKey().substring(ANNOTATION_PREFIX.length()), e.getValue(), " in annotation " + e.getKey());
        }
        return c;
    }
}
