package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.diagnose.IoError;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.Specs;
import java.io.IOException;
import dev.gvshim.call.Call;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** {@code gvshim spec [--rootless] [--bundle DIR] [-- COMMAND...]}: writes config.json the way `runc spec` does. */
final class SpecVerb implements Verb {
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
    public int call(ParseResult p, Call call) {
        List<String> command = p.matchedPositionalValue(0, List.<String>of());
        String bundle = p.<String>matchedOptionValue("--bundle", ".");
        Spec spec = Specs.example(command.isEmpty() ? List.of("sh") : command, "gvshim");
        if (p.hasMatchedOption("--rootless")) {
            ProcStatus st;
            try {
                st = ProcStatus.parse(Files.readString(Path.of("/proc/self/status")));
            } catch (IOException e) {
                return ErrorSink.usage(call, "gvshim spec", "cannot read /proc/self/status: " + IoError.reason(e)
                        + " (is /proc mounted?)", 1);
            }
            Specs.toRootless(spec, st.euid(), st.egid());
        }
        // named as given, written where the caller means it
        Path config = Path.of(bundle).resolve("config.json");
        Path file = call.absolute(config);
        try {
            Files.write(file, spec.toJson(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            return ErrorSink.usage(call, "gvshim spec", config + " exists; remove it first", 1);
        } catch (IOException e) {
            // the reason names paths as the caller gave them: relative to its directory if config is
            String reason = IoError.reason(e, file);
            if (!config.isAbsolute()) {
                reason = reason.replace(call.cwd() + "/", "");
            }
            return ErrorSink.usage(call, "gvshim spec", "cannot write " + config + ": " + reason
                    + (e instanceof java.nio.file.NoSuchFileException ? " (create it, or pass an existing directory with --bundle)"
                            : ""), 1);
        }
        return 0;
    }
}
