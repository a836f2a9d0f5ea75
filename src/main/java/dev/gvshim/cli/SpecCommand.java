package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.diagnose.IoError;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.Specs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** {@code gvshim spec [--rootless] [--bundle DIR] [-- COMMAND...]}: writes config.json the way `runc spec` does. */
final class SpecCommand implements Verb {
    @Override
    public String name() {
        return "spec";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("spec",
                "Write a new OCI config.json, as `runc spec` does, running COMMAND (default: sh).",
                "Refuses to overwrite an existing config.json.");
        s.addOption(flag(names("--rootless"), "Make it usable without root: user namespace mapping you to 0, no network namespace, /sys bound read-only."));
        s.addOption(value(names("-b", "--bundle"), "DIR", String.class, "Where to write config.json (default: the current directory)."));
        s.addPositional(Options.rest("COMMAND", "The container's command and its arguments."));
        return s;
    }

    @Override
    public int call(ParseResult p, PrintStream out, PrintStream err) {
        List<String> command = p.matchedPositionalValue(0, List.<String>of());
        Path dir = Path.of(p.<String>matchedOptionValue("--bundle", "."));
        Spec spec = Specs.example(command.isEmpty() ? List.of("sh") : command, "gvshim");
        if (p.hasMatchedOption("--rootless")) {
            ProcStatus st;
            try {
                st = ProcStatus.parse(Files.readString(Path.of("/proc/self/status")));
            } catch (IOException e) {
                err.println("gvshim spec: cannot read /proc/self/status: " + IoError.reason(e) + " (is /proc mounted?)");
                return 1;
            }
            Specs.toRootless(spec, st.euid(), st.egid());
        }
        Path config = dir.resolve("config.json");
        try {
            Files.write(config, spec.toJson(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            err.println("gvshim spec: " + config + " exists; remove it first");
            return 1;
        } catch (IOException e) {
            err.println("gvshim spec: cannot write " + config + ": " + IoError.reason(e, config)
                    + (e instanceof java.nio.file.NoSuchFileException ? " (create it, or pass an existing directory with --bundle)" : ""));
            return 1;
        }
        return 0;
    }
}
