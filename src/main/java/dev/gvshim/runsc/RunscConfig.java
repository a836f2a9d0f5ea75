package dev.gvshim.runsc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * runsc's global flags for one run, typed, rendered by {@link #toFlags()} (the shape of
 * gVisor's own config.Config.ToFlags).
 *
 * @param root      runsc --root: private to this run
 * @param log       --log: runsc appends one {"level":"error"} JSON line here when it fails
 * @param debugLog  --debug-log directory: without --debug it only receives warnings, among
 *                  them the "FATAL ERROR:" lines that explain a sandbox that died at boot
 * @param network   none, sandbox or host
 * @param platform  null: runsc's default
 * @param rootless  --rootless: needed when only one id is mapped (userns mode single)
 * @param ignoreCgroups --ignore-cgroups: always for gvshim run and rootless containers; a root
 *                  runtime lets runsc put the sandbox in the spec's cgroupsPath (docker stats)
 * @param extra     further runsc flags by name, from the runtime's configuration
 * @param raw       runsc arguments passed verbatim (--runsc-arg)
 */
public record RunscConfig(Path root, Path log, Path debugLog, Network network, String platform, boolean rootless,
        boolean debug, boolean ignoreCgroups, java.util.Map<String, String> extra, List<String> raw) {

    /** gvshim run's configuration: cgroups ignored, nothing extra. */
    public RunscConfig(Path root, Path log, Path debugLog, Network network, String platform, boolean rootless, boolean debug) {
        this(root, log, debugLog, network, platform, rootless, debug, true, java.util.Map.of(), List.of());
    }

    /** --network as gvshim offers it. */
    public enum Network {
        NONE, SANDBOX, HOST;

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** none, sandbox or host; null for anything else. */
        public static Network parse(String s) {
            for (Network n : values()) {
                if (n.flag().equals(s == null ? null : s.toLowerCase(Locale.ROOT))) {
                    return n;
                }
            }
            return null;
        }
    }

    public List<String> toFlags() {
        List<String> f = new ArrayList<>();
        f.add("--root=" + root);
        f.add("--log=" + log);
        f.add("--log-format=json");
        f.add("--debug-log=" + debugLog + "/");
        if (debug) {
            f.add("--debug");
        }
        // Cgroups belong to whoever runs gvshim (Docker, systemd, a CI runner); a rootless
        // caller cannot create them, and runsc otherwise insists (gvisor container.go).
        if (ignoreCgroups) {
            f.add("--ignore-cgroups");
        }
        f.add("--network=" + network.flag());
        if (platform != null) {
            f.add("--platform=" + platform);
        }
        if (rootless) {
            f.add("--rootless");
        }
        extra.forEach((k, v) -> f.add("--" + k + "=" + v));
        f.addAll(raw);
        return f;
    }
}
