package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A spec's own hook failed, and with it runsc's create (a prestart or createRuntime hook: runsc
 * fails the create as runc does, runtime-spec runtime.md "Lifecycle"). runsc 2022-12's error
 * (runsc/container/hook.go executeHook) is several lines and names the program it ran, which is
 * gvshim-hook (runsc/HookWrap.java): "failure executing hook \"PATH\", err: exit status 1\nstdout:
 * OUT\nstderr: ERR", or "timeout executing hook ..." when runsc killed it at its timeout.
 * gvshim-hook's first line on stdout names the hook's kind and path (native/gvshim_hook.c).
 */
final class HookCauses {
    private static final Pattern FAILED = Pattern.compile(
            "(failure|timeout) executing hook \"([^\"]*)\"(?:, err: ([^\\n]*))?\\nstdout: (.*?)\\nstderr: (.*)", Pattern.DOTALL);
    private static final Pattern RUNNING = Pattern.compile("gvshim-hook: running the (\\S+) hook ([^\\n]*)");
    private static final Pattern OWN = Pattern.compile("gvshim-hook: cannot run the \\S+ hook [^\\n]*?: (.*)");
    /** gvshim-hook's line when it killed a hook at its timeout (it keeps hooks' timeouts: gvshim_hook.c). */
    private static final Pattern KILLED = Pattern.compile("gvshim-hook: the (\\S+) hook (.*) ran past its timeout of \\d+ s: killed");

    private HookCauses() {
    }

    /** The failure of a hook, from runsc's error message (its lines as runsc wrote them), or null if it is another. */
    static Failure of(String message) {
        Matcher m = message == null ? null : FAILED.matcher(message);
        if (m == null || !m.find()) {
            return null;
        }
        boolean timeout = m.group(1).equals("timeout");
        String kind = null;
        String path = m.group(2);
        Matcher running = RUNNING.matcher(m.group(4));
        if (running.find()) {
            kind = running.group(1);
            path = running.group(2);
        }
        String stderr = lastLine(m.group(5));
        Matcher killed = KILLED.matcher(stderr);
        if (killed.matches()) {
            timeout = true;
            kind = killed.group(1);
            path = killed.group(2);
            stderr = lastLine(m.group(5).strip().replaceAll("[^\\n]*$", "")); // the hook's own last line, if any
        }
        Matcher own = OWN.matcher(stderr);
        if (own.matches()) {
            stderr = own.group(1); // gvshim-hook's own failure (execve of the hook, its state): the hook is named already
        }
        String hook = (kind == null ? "a hook " : "the " + kind + " hook ") + path;
        String evidence = hook + ": " + (timeout ? "killed at its timeout" : m.group(3) == null ? "failed" : m.group(3))
                + (stderr.isEmpty() ? "" : ": " + stderr);
        String field = kind == null ? "hooks" : "hooks." + kind;
        String why = timeout ? "it ran past its timeout (" + field + "[].timeout), and a hook that does not finish in"
                + " time fails the container as one that fails" : "a failing prestart or createRuntime hook fails the"
                + " container (runtime-spec; runc does the same)";
        return Failure.of("HOOK_FAILED", "cannot start the gVisor sandbox", evidence, why, "fix the hook, or remove it"
                + " from " + field + " of the bundle's config.json");
    }

    /** The last line of a hook's stderr that is not empty, stripped ("" if none). */
    private static String lastLine(String stderr) {
        String[] lines = stderr.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }
}
