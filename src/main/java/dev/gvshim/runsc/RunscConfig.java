package dev.gvshim.runsc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
 */
public record RunscConfig(Path root, Path log, Path debugLog, Network network, String platform, boolean rootless,
        boolean debug) {

    /** --network as gvshim offers it. */
    public enum Network {
        NONE, SANDBOX, HOST;

        public String flag() {
            return name().toLowerCase(java.util.Locale.ROOT);
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
        f.add("--ignore-cgroups");
        f.add("--network=" + network.flag());
        if (platform != null) {
            f.add("--platform=" + platform);
        }
        if (rootless) {
            f.add("--rootless");
        }
        return f;
    }
}
