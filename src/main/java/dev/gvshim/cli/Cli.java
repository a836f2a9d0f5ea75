package dev.gvshim.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The command line: {@code gvshim [-v|--version] [-h|--help] VERB [OPTIONS] [-- ARGS]}.
 *
 * <p>Start-up matters here (every `gvshim run` pays it), so: only the invoked verb's model is
 * built, with picocli's programmatic API (no annotation reflection), a {@link CommandLine}
 * of its own (no root model: each CommandLine registers converters), our own
 * {@link CommandLine.IFactory} (picocli's default one probes for Groovy with a failing
 * Class.forName), and the launcher sets {@code picocli.converters.excludes=.*}, which skips
 * picocli's reflective converters for java.sql and java.time types gvshim never uses.
 */
public final class Cli {
    /** The OCI runtime-spec version gvshim writes and reads. */
    public static final String SPEC_VERSION = "1.0.2";

    private static final Map<String, String> VERBS = Map.of(
            "run", "Run a command in a rootless gVisor sandbox.",
            "spec", "Write a new OCI config.json, as `runc spec` does.",
            "doctor", "Check whether rootless gVisor can run here; if not, say exactly why and how to fix it.",
            "install", "Register gvshim as a Docker or containerd runtime.",
            "__explain", "",
            "__train", "");

    private Cli() {
    }

    static Verb verb(String name) {
        return switch (name) {
            case "run" -> new RunCommand();
            case "spec" -> new SpecCommand();
            case "doctor" -> new DoctorCommand();
            case "install" -> new InstallCommand();
            case "__explain" -> new ExplainCommand();
            case "__train" -> new TrainCommand();
            default -> null;
        };
    }

    /** A factory for the few objects picocli creates itself: collections for repeated options. */
    static final CommandLine.IFactory FACTORY = new CommandLine.IFactory() {
        @Override
        @SuppressWarnings("unchecked")
        public <K> K create(Class<K> cls) throws Exception {
            if (cls == List.class || cls == Collection.class) {
                return (K) new ArrayList<Object>();
            }
            if (cls == Set.class) {
                return (K) new LinkedHashSet<Object>();
            }
            if (cls == Map.class) {
                return (K) new LinkedHashMap<Object, Object>();
            }
            return cls.getDeclaredConstructor().newInstance();
        }
    };

    /** The version, read from the jar manifest only when asked for (that read costs ~2 ms). */
    static String version() {
        String v = Cli.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }

    /** Whether these arguments are a runc-compatible runtime call (dockerd's, containerd's). */
    public static boolean isRuntimeCall(String[] args) {
        return RuntimeCli.applies(args);
    }

    /**
     * Whether this call should link the FFM handles up front: not the runtime verbs (none on their
     * common paths), nor the runtime cache's training run, whose AOT cache would otherwise hold
     * (and load on every call) the ~300 classes of FFM linking.
     */
    public static boolean usesFfm(String[] args) {
        return !isRuntimeCall(args) && !(args.length == 2 && args[0].equals("__train") && args[1].equals("runtime"));
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        if (RuntimeCli.applies(args)) {
            return RuntimeCli.execute(args, out, err);
        }
        Verb verb = args.length > 0 ? verb(args[0]) : null;
        if (verb == null) {
            return root(args, out, err);
        }
        CommandSpec spec = verb.spec();
        spec.name("gvshim " + verb.name());
        CommandLine cl = commandLine(spec, out, err);
        ParseResult pr;
        try {
            pr = cl.parseArgs(Arrays.copyOfRange(args, 1, args.length));
        } catch (CommandLine.ParameterException e) {
            err.println("gvshim " + verb.name() + ": " + lowerFirst(e.getMessage()) + " (see `gvshim " + verb.name() + " --help`)");
            return verb.usageError();
        }
        dev.gvshim.linux.Trace.mark("parsed");
        if (CommandLine.printHelpIfRequested(pr)) {
            return 0;
        }
        int rc = verb.call(pr, out, err);
        dev.gvshim.linux.Trace.dump();
        return rc;
    }

    /** No verb first: --help, --version, or a mistake; build the whole command tree. */
    private static int root(String[] args, PrintStream out, PrintStream err) {
        CommandSpec root = Options.command("gvshim",
                "Run commands in a rootless gVisor (runsc) sandbox, in a user namespace gvshim sets up itself.");
        root.version("gvshim version " + version(), "commit: " + version(), "spec: " + SPEC_VERSION);
        root.addOption(OptionSpec.builder("-v", "--version").versionHelp(true)
                .description("Print the version (runc's three-line form) and exit.").build());
        VERBS.forEach((name, description) -> {
            if (!name.startsWith("__")) {
                CommandSpec sub = verb(name).spec();
                sub.usageMessage().header(description);
                root.addSubcommand(name, sub);
            }
        });
        CommandLine cl = commandLine(root, out, err);
        try {
            ParseResult pr = cl.parseArgs(args);
            if (CommandLine.printHelpIfRequested(pr)) {
                return 0;
            }
            if (pr.hasSubcommand()) { // `gvshim --flag VERB ...`: no global option takes a verb after it
                err.println("gvshim: options go after the verb: gvshim " + pr.subcommand().commandSpec().name() + " ...");
                return 2;
            }
        } catch (CommandLine.ParameterException e) {
            err.println("gvshim: " + lowerFirst(e.getMessage()) + " (see `gvshim --help`)");
            return 2;
        }
        cl.usage(err);
        return 2;
    }

    /** How every verb's command line is set up (the training run uses it too, to train this path). */
    static CommandLine commandLine(CommandSpec spec, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(spec, FACTORY);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // picocli's own converters name the Java type ("'2s' is not a double"): say what is expected
        cl.registerConverter(Double.class, Cli::number);
        cl.registerConverter(double.class, Cli::number);
        cl.registerConverter(Integer.class, Cli::wholeNumber);
        cl.registerConverter(int.class, Cli::wholeNumber);
        cl.registerConverter(Long.class, Cli::longNumber);
        cl.registerConverter(long.class, Cli::longNumber);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl;
    }

    /** A decimal number ("2", "0.5"); "2s" gets a hint, since a unit is the usual mistake. */
    static Double number(String v) {
        if (v.strip().matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) { // parseDouble also takes "1d", "NaN", "0x1p3"
            return Double.parseDouble(v.strip());
        }
        throw new CommandLine.TypeConversionException("'" + v + "' is not a number"
                + (v.strip().matches("[0-9.]+\\s*[a-zA-Z]+") ? " (give the number alone, without a unit: "
                        + v.strip().replaceAll("[^0-9.]", "") + ")" : ""));
    }

    static Integer wholeNumber(String v) {
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + v + "' is not a whole number");
        }
    }

    static Long longNumber(String v) {
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + v + "' is not a whole number");
        }
    }

    static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
