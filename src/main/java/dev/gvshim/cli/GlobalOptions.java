package dev.gvshim.cli;

import static dev.gvshim.cli.Options.repeated;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.container.RuntimeOptions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * runc's global options, as Docker, containerd and CRI-O pass them before the verb
 * ({@code --root R --log L --log-format json}), plus gvshim's own runtime options (Docker's
 * {@code runtimeArgs}). Every long option is also accepted with a single dash (Go's flag
 * package, which go-runc users write: {@code -root}), and {@code --name=value}.
 */
final class GlobalOptions {
    private GlobalOptions() {
    }

    /** {@code --name} and Go's {@code -name} for every long option. */
    static String[] go(String... names) {
        List<String> all = new ArrayList<>();
        for (String n : names) {
            all.add(n);
            if (n.startsWith("--")) {
                all.add(n.substring(1));
            }
        }
        return all.toArray(String[]::new);
    }

    /** A Go boolean: takes an optional =true|false. */
    static OptionSpec bool(String[] names, String description) {
        return OptionSpec.builder(names).arity("0..1").type(boolean.class).description(description).build();
    }

    static CommandSpec spec() {
        CommandSpec s = Options.command("gvshim", "gvshim as a runc-compatible OCI runtime.");
        s.interpolateVariables(false); // no ${...} in these texts; interpolating them costs ~2 ms per call
        s.addOption(value(go("--root"), "DIR", String.class, "State directory (default /run/gvshim; per user when rootless)."));
        s.addOption(value(go("--log"), "FILE", String.class, "Append errors here (containerd reads the last error line)."));
        s.addOption(value(go("--log-format"), "FORMAT", String.class, "text or json."));
        s.addOption(bool(go("--debug"), "Debug lines in --log; runsc --debug."));
        s.addOption(bool(go("--systemd-cgroup"), "Accepted (runsc places the sandbox with cgroupfs)."));
        s.addOption(value(go("--rootless"), "true|false|auto", String.class, "Rootless containers (auto: when not root)."));
        s.addOption(value(go("--criu"), "PATH", String.class, "Accepted and ignored (gVisor checkpoints itself)."));
        s.addOption(value(go("--config"), "FILE", String.class, "gvshim runtime configuration (default /etc/gvshim/config.json)."));
        s.addOption(value(go("--runsc"), "PATH", String.class, "runsc binary."));
        s.addOption(value(go("--network"), "MODE", String.class, "runsc --network: none, sandbox or host."));
        s.addOption(value(go("--platform"), "NAME", String.class, "runsc --platform: ptrace, systrap, kvm."));
        s.addOption(repeated(go("--runsc-flag"), "NAME=VALUE", "A runsc flag for every container (repeatable)."));
        s.addOption(repeated(go("--runsc-arg"), "ARG", "A runsc argument, verbatim (repeatable)."));
        s.addOption(bool(go("--exec-without-seccomp"), "Let exec run where runsc would not apply the container's seccomp"
                + " profile to the new process (runsc before release-20260330), with a warning in --log; refused otherwise."));
        s.addOption(OptionSpec.builder("-v", "--version", "-version").arity("0").type(boolean.class)
                .description("Print the version (runc's three-line form) and exit.").build());
        s.addPositional(Options.rest("VERB", "The verb and its arguments."));
        return s;
    }

    /** What the parsed global options ask of the runtime. */
    static RuntimeOptions of(ParseResult g) {
        return new RuntimeOptions(g.matchedOptionValue("--root", null), g.matchedOptionValue("--log", null),
                g.matchedOptionValue("--log-format", "text"), g.matchedOptionValue("--debug", false),
                g.matchedOptionValue("--systemd-cgroup", false), g.matchedOptionValue("--rootless", "auto"),
                g.matchedOptionValue("--config", null), g.matchedOptionValue("--runsc", null),
                g.matchedOptionValue("--network", null), g.matchedOptionValue("--platform", null),
                g.matchedOptionValue("--runsc-arg", List.<String>of()), g.matchedOptionValue("--runsc-flag", List.<String>of()),
                g.<Boolean>matchedOptionValue("--exec-without-seccomp", null));
    }
}
