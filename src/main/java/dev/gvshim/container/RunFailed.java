package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.call.Call;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.diagnose.LiveProbe;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.oci.Spec;
import dev.gvshim.runsc.RunscLogs;
import dev.gvshim.runsc.RunscRelease;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * `gvshim __explain --run-dir DIR`: exec'd by gvshim-waiter (same pid) when runsc itself
 * failed. Turns runsc's error and the FATAL lines of its debug logs into one line with the
 * cause and the fix, and removes the run directory; the run then ends with 125 (126/127 for a
 * command that cannot be executed), or the command runs unsandboxed with --fallback=unsandboxed.
 * Only failures pay for this second JVM start.
 */
public final class RunFailed {
    private RunFailed() {
    }

    /** Causes of the sandbox's environment, which the live probe can test (not a command's, a bundle's or a flag's). */
    private static final Set<String> PROBED = Set.of("PROC_MASKED", "PIVOT_ROOT_DENIED", "PTRACE_DENIED",
            "MOUNT_DENIED", "NAMESPACE_DENIED", "SANDBOX_DENIED", "RUNSC_FAILED", "USERNS_NESTING", "USERNS_LIMIT");

    /**
     * What ends the failed run: its failure, the lines --debug adds, and the command to run
     * unsandboxed (--fallback=unsandboxed, for a failure of the sandbox's, not the command's), or null.
     */
    public record Outcome(Failure failure, List<String> debug, List<String> fallback, String fallbackCwd) {
    }

    /** Explains the failed run in {@code dir} and removes it ({@code keep}: leave it). */
    public static Outcome explain(Call call, Path dir, boolean keep) {
        if (!Files.isDirectory(dir) || Files.exists(dir.resolve(RunDir.DESTROYED_FILE))) {
            // destroyed under the running command, not refused (runsc's own error is then "EOF" of an RPC to a
            // sandbox that is no more; its logs go with the directory, which the destroyer removes)
            return new Outcome(Failure.of("SANDBOX_DIED", "the sandbox was destroyed while the command ran", null,
                    "its run directory " + dir + " is gone: its pool was removed, its server stopped, or `gvshim rm -f`"
                            + " removed it", "run again; keep a pool while its commands run"), List.of(), null, null);
        }
        RunDir run = RunDir.existing(dir);
        JsonNode meta = readJson(run.meta());
        boolean debug = meta != null && meta.path("debug").asBoolean();
        String message = RunscLogs.lastError(run.runscLog());
        List<String> fatal = RunscLogs.fatalLines(run.debugLogDir());
        fatal.remove(message); // runsc's own log repeats its top-level error as FATAL
        Failure f;
        try {
            Facts facts = Facts.read(Path.of("/"), call.env(), meta == null ? null : meta.path("runsc").asText(null));
            Explain explain = new Explain(facts);
            // gvshim-nsexec's own failure (its mount namespace, the nodev copies) or runsc's
            f = message.startsWith("gvshim-nsexec: ") ? explain.nsexec(message) : explain.runsc(message, fatal);
            if (PROBED.contains(f.id())) {
                // What the sandbox met, tested again the way doctor tests it: the same engine on the same
                // evidence, so run names what doctor names, and every fix the next round would need.
                LiveProbe.Result live = LiveProbe.run(facts, explain, call.home(), call.env());
                // as doctor reads it: what stops this runsc (Doctor.diagnose)
                f = explain.refine(f, live == null || facts.runsc() == null ? live
                        : live.forRunsc(RunscRelease.of(facts.runsc(), run.dir().getParent())));
            }
        } catch (IOException | RuntimeException e) {
            f = Failure.of("RUNSC_FAILED", "cannot start the gVisor sandbox", "runsc: " + message, null,
                    "run again with --debug to keep runsc's logs in the run directory");
        }
        List<String> debugLines = new ArrayList<>();
        if (debug) {
            debugLines.add("gvshim: (debug) failure id " + f.id() + "; runsc said: " + message);
            fatal.forEach(line -> debugLines.add("gvshim: (debug) " + line));
            debugLines.add("gvshim: (debug) run directory kept: " + dir);
        }
        Spec spec = null;
        try {
            spec = Spec.parse(Files.readAllBytes(run.config()));
        } catch (Exception e) {
            // no fallback without the command
        }
        if (!debug && !keep) {
            run.delete();
        }
        boolean fallback = meta != null && meta.path("fallback").asBoolean() && f.exitCode() == Exit.GVSHIM && spec != null;
        return new Outcome(f, debugLines, fallback ? spec.process().args() : null, fallback ? spec.process().cwd() : null);
    }

    private static JsonNode readJson(Path file) {
        try {
            return JsonTree.read(Files.readAllBytes(file));
        } catch (IOException e) {
            return null;
        }
    }
}
