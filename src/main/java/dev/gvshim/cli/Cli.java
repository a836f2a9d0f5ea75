package dev.gvshim.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The command line: {@code gvshim [-v|--version] [-h|--help] VERB [OPTIONS] [-- ARGS]}.
 * Only the invoked verb's model is built (the others cost start-up time for nothing).
 */
public final class Cli {
    public static final String VERSION = Cli.class.getPackage().getImplementationVersion() != null
            ? Cli.class.getPackage().getImplementationVersion() : "dev";
    /** The OCI runtime-spec version gvshim writes and reads. */
    public static final String SPEC_VERSION = "1.0.2";

    private static final Map<String, Supplier<Verb>> VERBS = Map.of(
            "run", RunCommand::new,
            "spec", SpecCommand::new,
            "__explain", ExplainCommand::new,
            "__train", TrainCommand::new);
    private static final List<String> LISTED = List.of("run", "spec");

    private Cli() {
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        Verb verb = null;
        for (String a : args) {
            if (!a.startsWith("-")) {
                Supplier<Verb> s = VERBS.get(a);
                verb = s == null ? null : s.get();
                break;
            }
        }
        CommandSpec root = Options.command("gvshim",
                "Run commands in a rootless gVisor (runsc) sandbox, in a user namespace gvshim sets up itself.");
        root.version("gvshim version " + VERSION, "commit: " + VERSION, "spec: " + SPEC_VERSION);
        root.addOption(OptionSpec.builder("-v", "--version").versionHelp(true)
                .description("Print the version (runc's three-line form) and exit.").build());
        if (verb != null) {
            root.addSubcommand(verb.name(), verb.spec());
        } else {
            for (String name : LISTED) {
                Verb v = VERBS.get(name).get();
                root.addSubcommand(v.name(), v.spec());
            }
        }
        CommandLine cl = new CommandLine(root);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        ParseResult pr;
        try {
            pr = cl.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            CommandLine where = e.getCommandLine();
            String name = where.getCommandSpec().qualifiedName(" ");
            err.println(name + ": " + lowerFirst(e.getMessage()) + " (see `" + name + " --help`)");
            return verb != null && where != cl ? verb.usageError() : 2;
        }
        if (CommandLine.printHelpIfRequested(pr)) {
            return 0;
        }
        if (!pr.hasSubcommand()) {
            cl.usage(err);
            return 2;
        }
        return verb.call(pr.subcommand(), out, err);
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
