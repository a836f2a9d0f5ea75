package dev.gvshim.cli;

import dev.gvshim.call.Call;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.failure.Versions;
import dev.gvshim.runsc.Runsc;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim version}: what is installed, for a bug report: gvshim's version, commit and build
 * time, the Java runtime it runs on, and the runsc `gvshim run` would use with its version.
 * ({@code gvshim --version} keeps runc's three lines, which containerd and scripts read.)
 */
final class VersionVerb implements Verb {
    @Override
    public String name() {
        return "version";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("version", "Print gvshim's version, commit and build time, its Java runtime, and"
                + " the runsc it uses with that runsc's version.");
        s.addOption(Options.value(Options.names("--runsc"), "PATH", String.class,
                "The runsc to report (default: as `gvshim run` finds it: $PATH, then /usr/local/bin, /usr/bin, /usr/sbin, /bin)."));
        return s;
    }

    @Override
    public int call(ParseResult p, Call call) {
        BuildInfo b = BuildInfo.read();
        var out = call.out();
        out.println("gvshim " + b.version());
        out.println("commit: " + b.commitLine());
        out.println("built: " + b.built());
        Runtime.Version jv = Runtime.version();
        out.println("java: " + jv + " (" + System.getProperty("java.vendor", "unknown vendor") + ", "
                + System.getProperty("java.home") + ")");
        out.println("runsc: " + runsc(call, p.matchedOptionValue("--runsc", null)));
        out.println("spec: " + Versions.SPEC);
        return 0;
    }

    /** "VERSION-LINE (PATH)", or why there is none: never a failure, a report prints what it can. */
    private static String runsc(Call call, String explicit) {
        Path runsc;
        try {
            runsc = Runsc.locateFrom(call.cwd(), explicit, call.env().get("PATH"));
        } catch (GvshimException e) {
            return "none: --runsc " + explicit + " is not an executable file";
        }
        if (runsc == null) {
            return "none found in " + String.join(":", Runsc.searchPath(call.env().get("PATH")))
                    + " (install it: apt-get install runsc)";
        }
        try {
            // stdin an empty pipe: runsc never gets a file of the caller's
            Process proc = new ProcessBuilder(runsc.toString(), "--version").redirectErrorStream(true).start();
            proc.getOutputStream().close();
            String text;
            try (InputStream in = proc.getInputStream()) {
                text = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
            }
            if (!proc.waitFor(5, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                return "(" + runsc + ": `runsc --version` did not answer within 5 s)";
            }
            String first = text.lines().findFirst().orElse("").strip();
            return proc.exitValue() == 0 && !first.isEmpty() ? first + " (" + runsc + ")"
                    : "(" + runsc + ": `runsc --version` exited " + proc.exitValue() + ")";
        } catch (IOException e) {
            return "(" + runsc + ": cannot start it)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(" + runsc + ": interrupted)";
        }
    }
}
