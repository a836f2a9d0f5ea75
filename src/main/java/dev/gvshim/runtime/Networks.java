package dev.gvshim.runtime;

import dev.gvshim.oci.Spec;
import dev.gvshim.runsc.RunscConfig.Network;

/**
 * The sandbox's network when nobody chose one. runsc's default, {@code sandbox}, fails at
 * `start` on kernels where /proc/sys/net/core/rmem_default exists in every network namespace
 * (runsc 2022-12 takes it for "the root namespace": `cannot run with network enabled in root
 * network namespace`), and runsc --rootless has no sandbox network at all; {@code none} works
 * everywhere and gives the container loopback only.
 */
final class Networks {
    private Networks() {
    }

    static RuntimeConfig choose(RuntimeConfig c, Spec spec, boolean rootless, RuntimeLog log) throws RuntimeError {
        if (c.networkExplicit()) {
            return c;
        }
        if (!spec.hookPaths("prestart").isEmpty() || !spec.hookPaths("createRuntime").isEmpty()) {
            log.warning("network none: the container has loopback only (runsc's sandbox network does not work with"
                    + " this runsc on this kernel); set \"network\" in " + RuntimeConfig.DEFAULT_FILE
                    + " or pass --network to choose");
        }
        try {
            return c.withNetwork(Network.NONE.flag(), "");
        } catch (RuntimeConfig.ConfigException e) {
            throw new IllegalStateException(e);
        }
    }
}
