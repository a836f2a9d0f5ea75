package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.repeated;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.install.Change;
import dev.gvshim.install.ConfigFile;
import dev.gvshim.install.ContainerdConfig;
import dev.gvshim.install.DaemonJson;
import dev.gvshim.install.InstallFailure;
import dev.gvshim.install.RuntimeEntry;
import dev.gvshim.call.Call;
import dev.gvshim.oci.JsonTree;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim install [--docker] [--containerd] ...}: registers gvshim as a runtime of
 * dockerd (in daemon.json) or of containerd's CRI plugin (printed, or merged into
 * config.toml). Changes are idempotent, backed up and atomic; a file gvshim cannot read as
 * its daemon would is refused and left untouched (exit 1). With {@code --dry-run} the file's
 * would-be content goes to stdout and a note saying nothing was written to stderr.
 */
final class InstallVerb implements Verb {
    static final String DEFAULT_DAEMON_JSON = "/etc/docker/daemon.json";
    /** Where the launcher is usually linked; used when gvshim was not started by its launcher. */
    static final String FALLBACK_PATH = "/usr/local/bin/gvshim";
    private static final String RUNTIME_OPTIONS = "gvshim's runtime options are --network MODE, --platform NAME,"
            + " --runsc PATH, --runsc-flag NAME=VALUE, --runsc-arg ARG, --config FILE, --debug, --rootless MODE,"
            + " --exec-without-seccomp";

    @Override
    public String name() {
        return "install";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("install",
                "Register gvshim as a Docker runtime (in daemon.json) or a containerd runtime (config.toml).",
                "Idempotent: an unchanged file is not written. A changed file is first copied to FILE.gvshim-backup-"
                        + "YYYYMMDD-HHMMSS (UTC), then replaced atomically with its mode kept. Other settings stay as they were.");
        s.addOption(flag(names("--docker"), "Register in dockerd's daemon.json (the default)."));
        s.addOption(flag(names("--containerd"), "Print the containerd (CRI) runtime tables; with --containerd-config, merge them."));
        s.addOption(value(names("--name"), "NAME", String.class, "Runtime name (default gvshim): docker run --runtime=NAME, the RuntimeClass handler."));
        s.addOption(repeated(names("--runtime-arg"), "ARG", "A gvshim runtime option Docker passes on every call, e.g. --runtime-arg=--network=host (repeatable)."));
        s.addOption(value(names("--path"), "GVSHIM", String.class, "Absolute path of the gvshim launcher to register (default: this one, else " + FALLBACK_PATH + ")."));
        s.addOption(value(names("--daemon-json"), "FILE", String.class, "dockerd configuration (default " + DEFAULT_DAEMON_JSON + "); implies --docker."));
        s.addOption(value(names("--containerd-config"), "FILE", String.class, "containerd config.toml to merge into (e.g. /etc/containerd/config.toml); implies --containerd."));
        s.addOption(flag(names("--dry-run"), "Print the resulting file to stdout; write nothing."));
        return s;
    }

    /** The launcher the caller ran (gvshim.sh names it, symlinks resolved), else the usual place. */
    static String defaultPath(Path launcher) {
        return launcher != null && launcher.isAbsolute() ? launcher.toString() : FALLBACK_PATH;
    }

    @Override
    public int call(ParseResult p, Call call) {
        PrintStream out = call.out();
        PrintStream err = call.err();
        boolean containerd = p.hasMatchedOption("--containerd") || p.hasMatchedOption("--containerd-config");
        boolean docker = p.hasMatchedOption("--docker") || p.hasMatchedOption("--daemon-json") || !containerd;
        boolean dryRun = p.hasMatchedOption("--dry-run");
        RuntimeEntry rt;
        try {
            rt = new RuntimeEntry(p.matchedOptionValue("--name", "gvshim"), p.matchedOptionValue("--path", defaultPath(call.launcher())),
                    p.matchedOptionValue("--runtime-arg", List.<String>of())).validated();
            checkRuntimeArgs(call, rt.args());
        } catch (GvshimException e) {
            return ErrorSink.command(call, "gvshim install", e.failure());
        }
        if (!Files.isRegularFile(Path.of(rt.path())) || !Files.isExecutable(Path.of(rt.path()))) {
            err.println("gvshim install: warning: " + rt.path() + " is not an executable file here; every container of"
                    + " this runtime fails with `fork/exec " + rt.path() + ": no such file or directory` until it is"
                    + " (use --path)");
        }
        Path daemonJson = call.absolute(p.matchedOptionValue("--daemon-json", DEFAULT_DAEMON_JSON));
        String config = p.matchedOptionValue("--containerd-config", null);
        Path containerdConfig = config == null ? null : call.absolute(config);
        try {
            if (!dryRun) {
                if (docker) {
                    requireWritable(call, daemonJson, "install");
                }
                if (containerd && containerdConfig != null) {
                    requireWritable(call, containerdConfig, "install");
                }
            }
            if (docker) {
                docker(rt, new ConfigFile(daemonJson), dryRun, out, err);
            }
            if (containerd) {
                if (containerdConfig == null) {
                    ContainerdConfig.requireNoArgs(rt);
                    out.print(containerdPrinted(rt));
                } else {
                    containerd(rt, new ConfigFile(containerdConfig), dryRun, out, err);
                }
            }
        } catch (GvshimException e) {
            return ErrorSink.command(call, "gvshim install", e.failure());
        }
        return 0;
    }

    /**
     * A caller without root who cannot write the file's directory (where the backup and the
     * atomic replacement go) hears that root is needed, in one line, before anything is tried.
     */
    static void requireWritable(Call call, Path file, String verb) throws GvshimException {
        Path dir = file.toAbsolutePath().getParent();
        int euid;
        try {
            euid = call.euid();
        } catch (java.io.IOException e) {
            return; // unknown: the write itself will say what is wrong
        }
        if (euid != 0 && dir != null && Files.isDirectory(dir) && !Files.isWritable(dir)) {
            throw InstallFailure.needsRoot(file, verb);
        }
    }

    /** Arguments dockerd would put before its own global options must parse as gvshim's runtime options. */
    private static void checkRuntimeArgs(Call call, List<String> args) throws GvshimException {
        if (args.isEmpty()) {
            return;
        }
        PrintStream sink = new PrintStream(java.io.OutputStream.nullOutputStream());
        CommandLine cl = Cli.commandLine(GlobalOptions.spec(), call.withStdio(Call.Stdio.of(call.stdio().in(), sink, sink)));
        cl.setStopAtPositional(true);
        List<String> probe = new ArrayList<>(args);
        probe.add("create");
        ParseResult g;
        try {
            g = cl.parseArgs(probe.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw InstallFailure.args("--runtime-arg " + String.join(" ", args) + ": " + Cli.lowerFirst(e.getMessage())
                    + "; " + RUNTIME_OPTIONS);
        }
        if (g.isUsageHelpRequested() || g.hasMatchedOption("--version")
                || !g.matchedPositionalValue(0, List.<String>of()).equals(List.of("create"))) {
            throw InstallFailure.args("--runtime-arg " + String.join(" ", args) + ": not a runtime option; " + RUNTIME_OPTIONS);
        }
    }

    private static void docker(RuntimeEntry rt, ConfigFile file, boolean dryRun, PrintStream out, PrintStream err)
            throws GvshimException {
        byte[] original = file.read();
        DaemonJson.Result r = DaemonJson.register(original, file.path().toString(), rt);
        String entry = "runtime \"" + rt.name() + "\" " + JsonTree.compact(DaemonJson.entry(rt));
        if (dryRun) {
            dryRun(file, r.change(), r.content(), entry, out, err);
            return;
        }
        String backup = apply(file, original, r.change(), r.content());
        out.println("gvshim install: " + switch (r.change()) {
            case UNCHANGED -> file.path() + " already has " + entry + "; nothing changed";
            case CREATED -> "created " + file.path() + " with " + entry;
            case ADDED -> "added " + entry + " to " + file.path() + backup;
            case REPLACED -> "replaced runtime \"" + rt.name() + "\" " + JsonTree.compact(r.previous()) + " in "
                    + file.path() + " by " + JsonTree.compact(DaemonJson.entry(rt)) + backup;
        });
        out.println("next: systemctl reload docker    (without systemd: kill -HUP $(pidof dockerd); dockerd re-reads runtimes on SIGHUP)");
        out.println("then: docker run --rm --runtime=" + rt.name() + " IMAGE echo hi");
    }

    /** The would-be content on stdout (data), what would happen on stderr. */
    private static void dryRun(ConfigFile file, Change change, byte[] content, String entry, PrintStream out, PrintStream err) {
        out.writeBytes(content);
        err.println("gvshim install: dry run: " + switch (change) {
            case UNCHANGED -> file.path() + " already has " + entry + "; nothing would change";
            case CREATED -> file.path() + " would be created with the above; nothing was written";
            case ADDED, REPLACED -> file.path() + " would become the above; nothing was written";
        });
    }

    /**
     * Unless nothing changes: copies the existing file aside, then replaces it. Returns the
     * backup's mention for the report, or "".
     */
    private static String apply(ConfigFile file, byte[] original, Change change, byte[] content) throws GvshimException {
        if (change == Change.UNCHANGED) {
            return "";
        }
        Path backup = original == null ? null : file.backup(ZonedDateTime.now());
        file.write(content);
        return backup == null ? "" : " (previous file: " + backup + ")";
    }

    static String containerdPrinted(RuntimeEntry rt) {
        return "# gvshim as a runtime of containerd's CRI plugin, config version 2 (containerd 1.6, 1.7): add to\n"
                + "# /etc/containerd/config.toml, which must have `version = 2` at its top (or let `gvshim install\n"
                + "# --containerd-config FILE` merge it; that also knows version 3), then: systemctl restart containerd.\n"
                + "# Kubernetes pods choose it with a RuntimeClass whose handler is " + rt.name() + ".\n"
                + ContainerdConfig.snippet(rt, 2);
    }

    private static void containerd(RuntimeEntry rt, ConfigFile file, boolean dryRun, PrintStream out, PrintStream err)
            throws GvshimException {
        byte[] original = file.read();
        ContainerdConfig.Result r = ContainerdConfig.register(
                original == null ? null : new String(original, StandardCharsets.UTF_8), file.path().toString(), rt);
        r.warnings().forEach(w -> err.println("gvshim install: warning: " + w));
        String entry = "runtime \"" + rt.name() + "\" (BinaryName " + rt.path() + ")";
        byte[] content = r.content().getBytes(StandardCharsets.UTF_8);
        if (dryRun) {
            dryRun(file, r.change(), content, entry, out, err);
            return;
        }
        String backup = apply(file, original, r.change(), content);
        out.println("gvshim install: " + switch (r.change()) {
            case UNCHANGED -> file.path() + " already has " + entry + "; nothing changed";
            case CREATED -> "created " + file.path() + " with " + entry;
            case ADDED -> "added " + entry + " to " + file.path() + backup;
            case REPLACED -> "replaced gvshim's lines for runtime \"" + rt.name() + "\" in " + file.path() + " by "
                    + entry + backup;
        });
        out.println("next: systemctl restart containerd    (containerd reads config.toml only when it starts)");
        out.println("then: kubectl apply -f docker/kubernetes/runtimeclass.yaml, and pods with runtimeClassName: "
                + rt.name() + "; or, without Kubernetes: ctr run --rm --runc-binary " + rt.path() + " IMAGE gvshim-hi echo hi"
                + "    (IMAGE pulled with ctr image pull)");
    }
}
