package dev.gvshim.runsc;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * gvshim's own values for the runsc flags whose defaults changed between gVisor releases, so
 * that a sandbox behaves the same, and is isolated the same, with Debian 12's runsc
 * (0.0~20221219) and Debian 13's (0.0~20240729). Read from {@link RunscInfo}, never assumed
 * from a version:
 * <ul>
 * <li>{@code --overlay2}: none by default up to 2023, {@code root:self} since (a writable
 *     root's writes go to a filestore file created inside the root file system, and stay in
 *     the sandbox). gvshim run's generated spec: {@code root:memory}, a writable root whose
 *     writes are thrown away with the sandbox (what `runsc do` gives), both versions; with it
 *     runsc's gofer also bind-mounts the root file system read-only (runsc/cmd/gofer.go
 *     setupRootFS: "spec.Root.Readonly || overlay"), and gvshim's nodev copy of it is
 *     read-only itself (SpecPolicy.Result#withReadOnlyRootCopy), so the host's files cannot be
 *     written even by a sentry that misbehaves. 2022-12's gofer remounts that root without
 *     MS_NODEV; measured with both versions: a device node (c 1 11) in the root file system is
 *     not even listed under the overlay, and writing its path creates a file in memory. A bundle's spec and the runtime verbs: {@code none},
 *     runc's semantics (writes land in the bundle's rootfs, `docker diff` sees them; a rootless
 *     caller's root-owned writable rootfs starts, where {@code root:self} fails to create its
 *     filestore).</li>
 * <li>{@code --directfs}: absent before 2023, default true since ("Sentry runs with higher
 *     privileges", runsc flags): the sandbox of a root caller then runs as host uid 0 with
 *     capabilities instead of as nobody in a fresh user namespace (runsc/sandbox/sandbox.go).
 *     gvshim passes {@code --directfs=false}: the gofer opens the host's files, as in 2022-12.</li>
 * <li>{@code --platform}: ptrace up to 2023, systrap since; both are safe, systrap is faster
 *     for system-call-heavy work. Left to runsc (--platform chooses), and said by -v.</li>
 * </ul>
 * A flag the caller set (the runtime's runscFlags or --runsc-arg) is never overridden.
 */
public final class RunscChoices {
    /** The overlay gvshim run's generated spec gets for its writable root. */
    public static final String ROOT_OVERLAY = "root:memory";

    private RunscChoices() {
    }

    /**
     * The flags for one run, and what -v says about them.
     *
     * @param writableRoot whether the root file system may be writable (behind the overlay)
     */
    public record Chosen(List<String> flags, boolean writableRoot, List<String> notes) {
    }

    /**
     * {@link #forRun}, on a daemon thread of its own ({@code info} asks runsc when its answer is not
     * cached), so that it runs while the caller makes the namespaces; {@code done} when answered.
     */
    public static java.util.concurrent.CompletableFuture<Chosen> forRunAsync(java.util.function.Supplier<RunscInfo> info,
            boolean generated, boolean readOnly, Runnable done) {
        java.util.concurrent.CompletableFuture<Chosen> chosen = new java.util.concurrent.CompletableFuture<>();
        Thread probe = new Thread(() -> {
            try {
                chosen.complete(forRun(info.get(), generated, readOnly));
                done.run();
            } catch (RuntimeException | Error e) {
                chosen.completeExceptionally(e);
            }
        }, "gvshim-runsc-probe");
        probe.setDaemon(true);
        probe.start();
        return chosen;
    }

    /**
     * gvshim run: {@code generated} for its own spec (writable behind an in-memory overlay unless
     * {@code readOnly}), else a bundle's spec (runc's semantics).
     */
    public static Chosen forRun(RunscInfo info, boolean generated, boolean readOnly) {
        List<String> flags = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        boolean writable = generated && !readOnly;
        if (writable && info.probed() && !info.has("overlay2")) {
            // never a writable root without the overlay: runsc would write through to the host's files
            writable = false;
            notes.add("root: read-only, this runsc (" + info.label() + ") has no --overlay2 to keep its writes in the sandbox");
        }
        if (writable) {
            // unprobed: passed all the same; a runsc without it stops at once (flag provided but not defined)
            flags.add("--overlay2=" + ROOT_OVERLAY);
        } else {
            String d = defaultOverlay(info);
            if (d != null && !d.equals("none")) {
                flags.add("--overlay2=none");
            }
        }
        directfs(info, Map.of(), List.of(), flags);
        String platform = info.defaultOf("platform");
        if (platform != null && !platform.isEmpty()) {
            notes.add("runsc " + info.label() + ": platform " + platform + " unless --platform says otherwise"
                    + (flags.isEmpty() ? "" : "; gvshim passes " + String.join(" ", flags)));
        }
        return new Chosen(List.copyOf(flags), writable, List.copyOf(notes));
    }

    /**
     * The runtime verbs (create, run): runc's semantics for the rootfs, the sandbox as nobody;
     * only where this runsc's default differs and the configuration ({@code configured}: runsc
     * flags by name, {@code raw}: verbatim arguments) did not choose.
     */
    public static List<String> forRuntime(RunscInfo info, Map<String, String> configured, List<String> raw) {
        List<String> flags = new ArrayList<>();
        if (!chosen("overlay2", configured, raw) && !chosen("overlay", configured, raw)) {
            String d = defaultOverlay(info);
            if (d != null && !d.equals("none")) {
                flags.add("--overlay2=none");
            }
        }
        directfs(info, configured, raw, flags);
        return flags;
    }

    /** --overlay2's default: "none" when the flag has none ("" in 2022-12), null when unknown or absent. */
    private static String defaultOverlay(RunscInfo info) {
        String d = info.defaultOf("overlay2");
        return d == null ? null : d.isEmpty() ? "none" : d;
    }

    private static void directfs(RunscInfo info, Map<String, String> configured, List<String> raw, List<String> flags) {
        if (info.has("directfs") && !"false".equals(info.defaultOf("directfs")) && !chosen("directfs", configured, raw)) {
            flags.add("--directfs=false");
        }
    }

    /** The caller set this flag: by name in the configuration, or as --NAME[=…] / -NAME[=…] verbatim. */
    static boolean chosen(String name, Map<String, String> configured, List<String> raw) {
        if (configured.containsKey(name)) {
            return true;
        }
        for (String a : raw) {
            String f = a.startsWith("--") ? a.substring(2) : a.startsWith("-") ? a.substring(1) : null;
            if (f != null && (f.equals(name) || f.startsWith(name + "="))) {
                return true;
            }
        }
        return false;
    }
}
