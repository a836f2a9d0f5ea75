package dev.gvshim.cli;

import dev.gvshim.call.Call;
import dev.gvshim.call.OneShotHandover;
import dev.gvshim.call.OneShotProcesses;
import dev.gvshim.call.Trace;
import dev.gvshim.failure.Exit;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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
    private Cli() {
    }

    static Verb verb(String name) {
        return switch (name) {
            case "run" -> new RunVerb();
            case "ps" -> new SandboxPsVerb();
            case "logs" -> new LogsVerb();
            case "exec" -> new SandboxExecVerb();
            case "stop" -> new StopVerb();
            case "rm" -> new RmVerb();
            case "spec" -> new SpecVerb();
            case "doctor" -> new DoctorVerb();
            case "install" -> new InstallVerb();
            case "uninstall" -> new UninstallVerb();
            case "server" -> new ServerVerb();
            case "version" -> new VersionVerb();
            case "completion" -> new CompletionVerb();
            case "__explain" -> new ExplainVerb();
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

    /** What a gvshim server runs for its calls: this CLI (the AOT cache's training uses it too). */
    public static dev.gvshim.server.Dispatcher serverDispatcher() {
        return new ServerVerb.CliDispatcher();
    }

    /** Whether these arguments are a runc-compatible runtime call (dockerd's, containerd's). */
    public static boolean isRuntimeCall(String[] args) {
        return RuntimeCli.applies(args);
    }

    /**
     * Whether this call should link the FFM handles up front: not the runtime verbs (none on their
     * common paths: on a small machine the linking thread would take CPU from the call dockerd is
     * waiting for).
     */
    public static boolean usesFfm(String[] args) {
        return !isRuntimeCall(args);
    }

    /** Runs one call of gvshim: its command line {@code args}; the exit status. */
    public static int execute(Call call, String[] args) {
        if (RuntimeCli.applies(args)) {
            return RuntimeCli.execute(call, args);
        }
        if (args.length > 0 && (args[0].equals("help") || args[0].equals("h"))) {
            return help(call, Arrays.copyOfRange(args, 1, args.length));
        }
        Verb verb = args.length > 0 ? verb(args[0]) : null;
        if (verb == null) {
            return root(call, args);
        }
        CommandSpec spec = verb.spec();
        spec.name("gvshim " + verb.name());
        CommandLine cl = commandLine(spec, call);
        ParseResult pr;
        try {
            pr = cl.parseArgs(Arrays.copyOfRange(args, 1, args.length));
        } catch (CommandLine.ParameterException e) {
            return ErrorSink.usage(call, "gvshim " + verb.name(), lowerFirst(e.getMessage()) + " (see `gvshim " + verb.name()
                    + " --help`)", verb.usageError());
        }
        call.trace().mark("parsed");
        if (CommandLine.printHelpIfRequested(pr)) {
            return 0;
        }
        int rc = verb.call(pr, call);
        call.trace().dump();
        return rc;
    }

    /**
     * {@link #execute(Call, String[])} as a call of this process: its environment, working
     * directory, identity and descriptors, with {@code out} and {@code err} as its stdout and
     * stderr. What Main does; the tests call it too.
     */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        return execute(thisProcess(out, err), args);
    }

    /** A {@link Call} of this process (the only place below Main that reads the process's own environment). */
    public static Call thisProcess(PrintStream out, PrintStream err) {
        java.util.Map<String, String> env = System.getenv();
        Trace trace = new Trace(env, err);
        String home = System.getProperty("gvshim.home");
        String launcher = System.getProperty("gvshim.launcher");
        return new Call(Long.toString(ProcessHandle.current().pid()), env, Path.of(System.getProperty("user.dir")),
                Call.Stdio.of(System.in, out, err),
                // the owner of /proc/self is the effective uid (proc(5)): no FFM downcall to link for it
                () -> (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"),
                home == null ? null : Path.of(home), launcher == null ? null : Path.of(launcher),
                new OneShotProcesses(trace), trace.waitInsteadOfHandover() ? new dev.gvshim.call.WaitingHandover()
                        : new OneShotHandover(out, err), trace);
    }

    /**
     * {@code gvshim help [VERB]} (and runc's {@code h}): gvshim's help, or the verb's (gvshim's own
     * verbs and the runc verbs), on stdout, exit 0. An unknown topic is runc's answer: "No help
     * topic for 'X'", exit 3.
     */
    static int help(Call call, String[] topic) {
        if (topic.length == 0) {
            return root(call, new String[] {"--help"});
        }
        if (Set.of("help", "h", "-h", "--help", "-help").contains(topic[0])) {
            // help's own help, as runc's `help help` and `help -h` (urfave/cli: exit 0), not an unknown topic
            call.out().println("Usage: gvshim help [VERB]\nShows the verbs, or one verb's help (also `gvshim h [VERB]`,"
                    + " `gvshim VERB --help`).");
            return 0;
        }
        Verb own = verb(topic[0]);
        RuntimeVerb runtime = own == null || topic[0].equals("__explain") ? RuntimeVerb.of(topic[0]) : null;
        CommandSpec spec = own != null && !topic[0].equals("__explain") ? own.spec() : runtime != null ? runtime.spec() : null;
        if (spec == null) {
            call.err().println("gvshim: No help topic for '" + topic[0] + "' (verbs: "
                    + String.join(", ", Usage.SANDBOX.stream().map(Map.Entry::getKey).toList()) + ", "
                    + String.join(", ", Usage.ADMIN.stream().map(Map.Entry::getKey).toList()) + "; runc's: "
                    + String.join(", ", RuntimeCli.VERB_ORDER) + ")");
            return Exit.NO_HELP_TOPIC;
        }
        spec.name("gvshim " + topic[0]);
        commandLine(spec, call).usage(call.out());
        return 0;
    }

    /** No verb first: --help, --version, or a mistake; build the whole command tree. */
    private static int root(Call call, String[] args) {
        CommandSpec root = Usage.root(false);
        CommandLine cl = commandLine(root, call);
        Usage.groupCommands(cl);
        try {
            ParseResult pr = cl.parseArgs(args);
            if (CommandLine.printHelpIfRequested(pr)) {
                return 0;
            }
            if (pr.hasSubcommand()) { // `gvshim --flag VERB ...`: no global option takes a verb after it
                return ErrorSink.usage(call, "gvshim", "options go after the verb: gvshim "
                        + pr.subcommand().commandSpec().name() + " ...", Exit.USAGE);
            }
        } catch (CommandLine.ParameterException e) {
            return ErrorSink.usage(call, "gvshim", lowerFirst(e.getMessage()) + " (see `gvshim --help`)", Exit.USAGE);
        }
        cl.usage(call.err());
        return Exit.USAGE;
    }

    /** How every verb's command line is set up. */
    static CommandLine commandLine(CommandSpec spec, Call call) {
        CommandLine cl = new CommandLine(spec, FACTORY);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // picocli's own converters name the Java type ("'2s' is not a double"): say what is expected
        cl.registerConverter(Double.class, Cli::number);
        cl.registerConverter(double.class, Cli::number);
        cl.registerConverter(Integer.class, Cli::wholeNumber);
        cl.registerConverter(int.class, Cli::wholeNumber);
        cl.registerConverter(Long.class, Cli::longNumber);
        cl.registerConverter(java.time.Duration.class, Cli::duration);
        cl.registerConverter(long.class, Cli::longNumber);
        cl.setOut(new PrintWriter(call.out(), true));
        cl.setErr(new PrintWriter(call.err(), true));
        return cl;
    }

    private static final java.util.regex.Pattern DURATION_PART = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

    /**
     * A duration as people write it for timeout(1), docker and Go: seconds alone ("30", "1.5"), or
     * numbers with units ("500ms", "30s", "2m", "1h", "1m30s").
     */
    static java.time.Duration duration(String v) {
        String d = v.strip();
        if (d.matches("\\d+(\\.\\d+)?")) {
            return java.time.Duration.ofNanos(Math.round(Double.parseDouble(d) * 1e9));
        }
        java.util.regex.Matcher m = DURATION_PART.matcher(d);
        double seconds = 0;
        int at = 0;
        while (m.find() && m.start() == at) {
            double n = Double.parseDouble(m.group(1));
            seconds += switch (m.group(2)) {
                case "ms" -> n / 1000;
                case "m" -> n * 60;
                case "h" -> n * 3600;
                default -> n;
            };
            at = m.end();
        }
        if (at == 0 || at != d.length()) {
            throw new CommandLine.TypeConversionException("'" + v + "' is not a duration (seconds, or with a unit: 30s, 2m, 1h,"
                    + " 500ms)");
        }
        return java.time.Duration.ofNanos(Math.round(seconds * 1e9));
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
