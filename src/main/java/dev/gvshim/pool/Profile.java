package dev.gvshim.pool;

import dev.gvshim.container.RunRequest;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What a sandbox is, as opposed to what runs in it: the options of `gvshim run` fixed when the
 * sandbox boots (its root, mounts, network, user namespace, platform, runsc and its state
 * directory, host name). A pool's sandboxes all have its profile; a run with --pool gets one
 * only when it asks for the same, else {@link #differs} says which option differs, and the run
 * is refused: it never runs silently in another profile. The command, its arguments,
 * environment, working directory, user, timeout and stdio are the run's own.
 */
public record Profile(Path bundle, Path rootfs, List<RunRequest.BindMount> mounts, List<String> tmpfs, Network network, Mode userns,
        String platform, String runsc, Path root, String hostname) {

    public static Profile of(RunRequest r) {
        return new Profile(r.bundle(), r.bundle() != null ? null : r.rootfs(), List.copyOf(r.mounts()), List.copyOf(r.tmpfs()),
                r.network(), r.userns(), r.platform(), r.runsc(), r.root(), r.hostname());
    }

    /**
     * Null when a run asking for {@code run} may use a sandbox of this profile (the pool
     * {@code pool}'s); else the one line saying which option differs and how.
     */
    public String differs(Profile run, String pool) {
        String d = first(
                diff("--bundle", bundle, run.bundle),
                diff("--rootfs", rootfs, run.rootfs),
                diff("--mount", mounts.isEmpty() ? null : mounts.stream().map(Profile::mount).toList(),
                        run.mounts.isEmpty() ? null : run.mounts.stream().map(Profile::mount).toList()),
                diff("--tmpfs", tmpfs.isEmpty() ? null : tmpfs, run.tmpfs.isEmpty() ? null : run.tmpfs),
                diff("--network", network.flag(), run.network.flag()),
                diff("--userns", userns.label(), run.userns.label()),
                diff("--platform", platform, run.platform),
                diff("--runsc", runsc, run.runsc),
                diff("--root", root, run.root),
                diff("--hostname", hostname, run.hostname));
        return d == null ? null : d.replace("POOL", pool);
    }

    private static String mount(RunRequest.BindMount m) {
        return m.source() + ":" + m.destination() + (m.readOnly() ? ":ro" : "");
    }

    private static String diff(String option, Object pool, Object run) {
        if (Objects.equals(pool, run)) {
            return null;
        }
        return option + " differs: the pool POOL's sandboxes have " + shown(pool) + ", this run asks for " + shown(run);
    }

    private static String shown(Object v) {
        if (v == null) {
            return "none (the default)";
        }
        return v instanceof List<?> l ? String.join(" ", l.stream().map(Object::toString).toList()) : v.toString();
    }

    private static String first(String... diffs) {
        for (String d : diffs) {
            if (d != null) {
                return d;
            }
        }
        return null;
    }
}
