package dev.gvshim.container;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.Spec;
import dev.gvshim.runsc.RunscConfig.Network;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The sandbox's network when nobody chose one, and the checks when someone did.
 *
 * <ul>
 * <li>A container with a network namespace of its own (Docker's bridge, a CNI pod) gets
 * runsc's {@code sandbox} network: gVisor's netstack takes over the namespace's interfaces
 * (Docker's veth, set up by its prestart hook), so the container's network behaves as with
 * runc. runsc 2022-12 refuses it at `start` on this kernel (`cannot run with network enabled
 * in root network namespace`: it tests for /proc/sys/net/core/rmem_default, which every
 * namespace has since Linux 5.x); gvshim makes that check itself, correctly, and runs
 * `runsc start` with the misleading directory hidden ({@code gvshim-nsexec --hide-proc-net}).
 * <li>A container without a network namespace of its own (docker --network=host joins
 * /var/run/docker/netns/default, the host's) gets {@code host}
 * (gVisor's hostinet), as runc would share the host's network: the sandbox network there
 * would take over the host's own interfaces.
 * <li>A rootless container gets {@code none}: its namespace is the holder's, with loopback
 * only, which is exactly what {@code none} gives without the cost of netstack plumbing.
 * </ul>
 */
final class Networks {
    private Networks() {
    }

    static RuntimeConfig choose(RuntimeConfig c, Spec spec, boolean rootless, RuntimeLog log) throws GvshimException {
        boolean ownNamespace = spec.linux().namespaces().contains("network")
                && !isOurs(spec.linux().namespacePath("network"));
        if (c.networkExplicit()) {
            if (c.network() == Network.SANDBOX && !ownNamespace && !rootless) {
                throw RuntimeFailures.of("NETWORK_ROOT_NAMESPACE",
                        "cannot use gVisor's sandbox network: the container has no network namespace of its"
                        + " own (docker --network=host), so runsc would take over the host's interfaces; use runtimeArgs"
                        + " --network=host (gVisor's hostinet) or --network=none for this container");
            }
            return c;
        }
        Network n;
        if (rootless) {
            n = Network.NONE;
            log.debug("network none: a rootless container's network namespace has loopback only");
        } else if (!ownNamespace) {
            n = Network.HOST;
            log.warning("network host: the container shares the host's network namespace (docker --network=host), so"
                    + " gVisor uses the host's network stack (hostinet); system calls stay in the sandbox");
        } else {
            n = Network.SANDBOX;
        }
        try {
            return c.withNetwork(n.flag(), "");
        } catch (GvshimException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether the namespace at {@code path} (a bind-mounted nsfs file) is this process's network namespace. */
    static boolean isOurs(String path) {
        if (path == null || path.isEmpty()) {
            return false;
        }
        try {
            Path p = Path.of(path);
            Path self = Path.of("/proc/self/ns/net");
            return Files.getAttribute(p, "unix:ino").equals(Files.getAttribute(self, "unix:ino"))
                    && Files.getAttribute(p, "unix:dev").equals(Files.getAttribute(self, "unix:dev"));
        } catch (IOException | RuntimeException e) {
            return false; // runsc reports a path it cannot join
        }
    }

    /** Whether a runsc call for a container with these flags needs /proc/sys/net hidden (start, run, restore). */
    static boolean hidesProcNet(List<String> flags) {
        String net = "sandbox"; // runsc's default
        for (String f : flags) {
            if (f.startsWith("--network=")) {
                net = f.substring("--network=".length());
            }
        }
        return net.equals("sandbox");
    }
}
