package dev.gvshim.container;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link RunRequest} said as `gvshim run`'s options: what the Java API sends to the user's
 * gvshim server for a pooled run (the pools are there, and the server's `run --pool` checks the
 * profile and builds the command's spec). cli/RunVerb parses these options back into the same
 * request (RunArgsTest); a request they cannot say is an IllegalArgumentException, never a
 * different run.
 */
public final class RunArgs {
    private RunArgs() {
    }

    /** {@code run --pool POOL [OPTIONS] -- COMMAND...}, without argv[0]. */
    public static List<String> of(RunRequest r, String pool) {
        // --OPTION=VALUE: a value that starts with '-' (an environment variable, a host name) stays a value
        List<String> a = new ArrayList<>(List.of("run", "--pool=" + pool));
        if (r.bundle() != null) {
            a.add("--bundle=" + r.bundle().toString());
        } else if (r.rootfs() != null && !r.rootfs().equals(Path.of("/"))) {
            a.add("--rootfs=" + r.rootfs().toString());
        }
        if (r.readOnly()) {
            a.add("--read-only");
        }
        for (RunRequest.BindMount m : r.mounts()) {
            a.add("--mount=" + mount(m));
        }
        for (String t : r.tmpfs()) {
            a.add("--tmpfs=" + t);
        }
        if (r.cwd() != null) {
            a.add("--cwd=" + r.cwd());
        }
        for (String e : r.env()) {
            a.add("--env=" + e);
        }
        if (r.envAll()) {
            a.add("--env-all");
        }
        a.add("--network=" + r.network().flag());
        if (r.timeout() != null) {
            a.add("--timeout=" + seconds(r.timeout()));
        }
        a.add("--kill-after=" + seconds(r.killAfter()));
        if (r.platform() != null) {
            a.add("--platform=" + r.platform());
        }
        if (r.runsc() != null) {
            a.add("--runsc=" + r.runsc());
        }
        if (r.root() != null) {
            a.add("--root=" + r.root().toString());
        }
        a.add("--userns=" + r.userns().name().toLowerCase(java.util.Locale.ROOT));
        if (r.tty() != RunRequest.Tty.AUTO) {
            a.add("--tty=" + r.tty().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (r.hostname() != null) {
            a.add("--hostname=" + r.hostname());
        }
        if (r.user() != null || r.uid() != null || r.limits().needsCgroup() || r.limits().pids() != null || r.fallbackUnsandboxed()) {
            throw new IllegalArgumentException("a pooled run takes no user, limits or fallback (the pool's sandboxes are booted)");
        }
        if (r.debug()) {
            a.add("--debug");
        }
        if (r.verbose()) {
            a.add("--verbose");
        }
        a.add("--");
        a.addAll(r.command());
        return a;
    }

    /** SRC:DST[:ro], or docker's type=bind form for paths with a colon; neither for both a colon and a comma. */
    private static String mount(RunRequest.BindMount m) {
        String src = m.source().toString();
        String dst = m.destination();
        if (src.indexOf(':') < 0 && dst.indexOf(':') < 0) {
            return src + ":" + dst + (m.readOnly() ? ":ro" : "");
        }
        if (src.indexOf(',') >= 0 || dst.indexOf(',') >= 0) {
            throw new IllegalArgumentException("mount " + src + " at " + dst + ": a path with both ':' and ',' cannot be passed"
                    + " to the gvshim server (gvshim run --mount says neither)");
        }
        return "type=bind,source=" + src + ",target=" + dst + (m.readOnly() ? ",readonly" : "");
    }

    /** Seconds as a plain decimal (never 1.0E-4: the CLI reads digits, or digits with a unit). */
    private static String seconds(double s) {
        return new BigDecimal(Double.toString(s)).stripTrailingZeros().toPlainString();
    }
}
