package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.call.Call;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.install.ConfigFile;
import dev.gvshim.install.ContainerdConfig;
import dev.gvshim.install.DaemonJson;
import dev.gvshim.install.Unregister;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim uninstall [--docker] [--containerd] ...}: reverses {@code gvshim install}. The
 * file as it was before install is restored byte for byte when a backup proves it (see
 * {@link Unregister}), a file install created is removed, else only the runtime's entry goes.
 * Every change is backed up first and atomic, as install's; a file without the runtime is left
 * alone (exit 0: running it twice is harmless).
 */
final class UninstallVerb implements Verb {
    static final String DEFAULT_CONTAINERD_CONFIG = "/etc/containerd/config.toml";

    @Override
    public String name() {
        return "uninstall";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("uninstall",
                "Remove what `gvshim install` registered: the Docker runtime (daemon.json) or the containerd runtime (config.toml).",
                "The file as it was before gvshim install is put back byte for byte when one of its backups is exactly that;"
                        + " otherwise only the runtime's entry is removed. The changed file is first copied to"
                        + " FILE.gvshim-backup-YYYYMMDD-HHMMSS (UTC). A file without the runtime is not touched.");
        s.addOption(flag(names("--docker"), "Remove the runtime from dockerd's daemon.json (the default)."));
        s.addOption(flag(names("--containerd"), "Remove it from containerd's config.toml (default " + DEFAULT_CONTAINERD_CONFIG + ")."));
        s.addOption(value(names("--name"), "NAME", String.class, "Runtime name (default gvshim)."));
        s.addOption(value(names("--daemon-json"), "FILE", String.class, "dockerd configuration (default "
                + InstallVerb.DEFAULT_DAEMON_JSON + "); implies --docker."));
        s.addOption(value(names("--containerd-config"), "FILE", String.class, "containerd config.toml; implies --containerd."));
        s.addOption(flag(names("--dry-run"), "Print the resulting file to stdout; write nothing."));
        return s;
    }

    @Override
    public int call(ParseResult p, Call call) {
        boolean containerd = p.hasMatchedOption("--containerd") || p.hasMatchedOption("--containerd-config");
        boolean docker = p.hasMatchedOption("--docker") || p.hasMatchedOption("--daemon-json") || !containerd;
        boolean dryRun = p.hasMatchedOption("--dry-run");
        String name = p.matchedOptionValue("--name", "gvshim");
        Path daemonJson = call.absolute(p.matchedOptionValue("--daemon-json", InstallVerb.DEFAULT_DAEMON_JSON));
        Path config = call.absolute(p.matchedOptionValue("--containerd-config", DEFAULT_CONTAINERD_CONFIG));
        try {
            if (!dryRun) {
                if (docker) {
                    InstallVerb.requireWritable(call, daemonJson, "uninstall");
                }
                if (containerd) {
                    InstallVerb.requireWritable(call, config, "uninstall");
                }
            }
            if (docker) {
                ConfigFile f = new ConfigFile(daemonJson);
                apply(f, DaemonJson.format(f.path().toString(), name), name, dryRun, call.out(), call.err(),
                        "next: systemctl reload docker    (without systemd: kill -HUP $(pidof dockerd))");
            }
            if (containerd) {
                ConfigFile f = new ConfigFile(config);
                apply(f, ContainerdConfig.format(f.path().toString(), name), name, dryRun, call.out(), call.err(),
                        "next: systemctl restart containerd    (containerd reads config.toml only when it starts)");
            }
        } catch (GvshimException e) {
            return ErrorSink.command(call, "gvshim uninstall", e.failure());
        }
        return 0;
    }

    private static void apply(ConfigFile file, Unregister.Format format, String name, boolean dryRun, PrintStream out,
            PrintStream err, String next) throws GvshimException {
        byte[] current = file.read();
        Unregister.Result r = Unregister.plan(format, current, current == null ? java.util.List.of() : file.backups());
        String runtime = "runtime \"" + name + "\"";
        if (r.action() == Unregister.Action.ABSENT) {
            (dryRun ? err : out).println("gvshim uninstall: " + file.path() + (current == null ? " does not exist" : " has no "
                    + runtime) + "; nothing " + (dryRun ? "would change" : "changed"));
            return;
        }
        if (dryRun) {
            if (r.content() != null) {
                out.writeBytes(r.content());
            }
            err.println("gvshim uninstall: dry run: " + file.path() + switch (r.action()) {
                case RESTORED -> " would become the above: " + r.from() + ", the file as it was before gvshim install";
                case DELETED -> " would be removed: gvshim install created it, and it has nothing else";
                default -> " would become the above, without " + runtime;
            } + "; nothing was written");
            return;
        }
        Path backup = file.backup(ZonedDateTime.now());
        if (r.action() == Unregister.Action.DELETED) {
            file.delete();
        } else {
            file.write(r.content());
        }
        out.println("gvshim uninstall: " + switch (r.action()) {
            case RESTORED -> "restored " + file.path() + " from " + r.from() + " (the file as it was before gvshim install)";
            case DELETED -> "removed " + file.path() + " (gvshim install had created it with " + runtime + " alone)";
            default -> "removed " + runtime + " from " + file.path() + " (the rest of it unchanged)";
        } + "; the file with the runtime: " + backup);
        out.println(next);
    }
}
