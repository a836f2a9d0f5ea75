package dev.gvshim.cli;

import dev.gvshim.runsc.RunscLogs;
import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.value;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.container.RunDir;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.diagnose.Failure;
import dev.gvshim.diagnose.LiveProbe;
import dev.gvshim.launch.Fallback;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.oci.Spec;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim __explain --run-dir DIR --status N}: exec'd by gvshim-waiter (same pid) when
 * runsc itself failed. Turns runsc's error and the FATAL lines of its debug logs into one
 * line with the cause and the fix, removes the run directory and exits 125 (126/127 for a
 * command that cannot be executed). Only failures pay for this second JVM start.
 */
final class ExplainCommand implements Verb {
    @Override
    public String name() {
        return "__explain";
    }

    @Override
    public int usageError() {
        return Failure.EXIT_GVSHIM;
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("__explain", "Internal: explain why runsc failed in a run directory.");
        s.usageMessage().hidden(true);
        s.addOption(value(names("--run-dir"), "DIR", String.class, "The run directory."));
        s.addOption(value(names("--status"), "N", Integer.class, "runsc's exit status."));
        s.addOption(flag(names("--keep"), "Do not remove the run directory."));
        return s;
    }

    @Override
    public int call(ParseResult p, PrintStream out, PrintStream err) {
        String dirName = p.matchedOptionValue("--run-dir", null);
        if (dirName == null) {
            err.println("gvshim __explain: --run-dir is required");
            return Failure.EXIT_GVSHIM;
        }
        Path dir = Path.of(dirName);
        RunDir run = RunDir.existing(dir);
        JsonNode meta = readJson(run.meta());
        boolean debug = meta != null && meta.path("debug").asBoolean();
        String message = RunscLogs.lastError(run.runscLog());
        List<String> fatal = RunscLogs.fatalLines(run.debugLogDir());
        fatal.remove(message); // runsc's own log repeats its top-level error as FATAL
        Failure f;
        try {
            Facts facts = Facts.read(Path.of("/"), System.getenv(), meta == null ? null : meta.path("runsc").asText(null));
            Explain explain = new Explain(facts);
            // gvshim-nsexec's own failure (its mount namespace, the nodev copies) or runsc's
            f = message.startsWith("gvshim-nsexec: ") ? explain.nsexec(message) : explain.runsc(message, fatal);
            if (PROBED.contains(f.id())) {
                // What the sandbox met, tested again the way doctor tests it: the same engine on the same
                // evidence, so run names what doctor names, and every fix the next round would need.
                String home = System.getProperty("gvshim.home");
                f = explain.refine(f, LiveProbe.run(facts, explain, home == null ? null : Path.of(home), System.getenv()));
            }
        } catch (IOException | RuntimeException e) {
            f = Failure.of("RUNSC_FAILED", "cannot start the gVisor sandbox", "runsc: " + message, null,
                    "run again with --debug to keep runsc's logs in the run directory");
        }
        err.println(f.oneLine());
        if (debug) {
            err.println("gvshim: (debug) failure id " + f.id() + "; runsc said: " + message);
            for (String line : fatal) {
                err.println("gvshim: (debug) " + line);
            }
            err.println("gvshim: (debug) run directory kept: " + dir);
        }
        Spec spec = null;
        try {
            spec = Spec.parse(Files.readAllBytes(run.config()));
        } catch (Exception e) {
            // no fallback without the command
        }
        if (!debug && !p.hasMatchedOption("--keep")) {
            run.delete();
        }
        if (meta != null && meta.path("fallback").asBoolean() && f.exitCode() == Failure.EXIT_GVSHIM && spec != null) {
            return Fallback.exec(spec.process().args(), spec.process().cwd(), System.getenv(), f.id(), err);
        }
        return f.exitCode();
    }

    /** Causes of the sandbox's environment, which the live probe can test (not a command's, a bundle's or a flag's). */
    private static final java.util.Set<String> PROBED = java.util.Set.of("PROC_MASKED", "PIVOT_ROOT_DENIED", "PTRACE_DENIED",
            "MOUNT_DENIED", "NAMESPACE_DENIED", "SANDBOX_DENIED", "RUNSC_FAILED", "USERNS_NESTING", "USERNS_LIMIT");

    private static JsonNode readJson(Path file) {
        try {
            return JsonTree.read(Files.readAllBytes(file));
        } catch (IOException e) {
            return null;
        }
    }
}
