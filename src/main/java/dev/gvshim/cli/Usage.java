package dev.gvshim.cli;

import dev.gvshim.call.Call;
import dev.gvshim.failure.Versions;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The whole command tree, for `gvshim --help` (the verbs in three fixed groups: sandboxes, setup
 * and diagnosis, and runc's command line), shell completion and the man pages built from them.
 * Built only when asked for: a verb's own call builds only its own model (start-up, see Cli).
 */
final class Usage {
    /** gvshim's verbs for sandboxes, in the order --help lists them. */
    static final List<Map.Entry<String, String>> SANDBOX = List.of(
            Map.entry("run", "Run a command in a rootless gVisor sandbox (-d: detached, in the background)."),
            Map.entry("ps", "List your detached sandboxes."),
            Map.entry("logs", "Print a detached sandbox's output."),
            Map.entry("exec", "Run a command in a detached sandbox."),
            Map.entry("stop", "Stop a detached sandbox (SIGTERM, then SIGKILL)."),
            Map.entry("rm", "Remove a detached sandbox."),
            Map.entry("spec", "Write a new OCI config.json, as `runc spec` does."));
    /** gvshim's verbs to set it up, check it and report on it. */
    static final List<Map.Entry<String, String>> ADMIN = List.of(
            Map.entry("doctor", "Check whether rootless gVisor can run here; if not, say exactly why and how to fix it."),
            Map.entry("install", "Register gvshim as a Docker or containerd runtime."),
            Map.entry("uninstall", "Remove what install registered, restoring the file as it was where a backup proves it."),
            Map.entry("server", "The caller's long-lived gvshim server: start, stop, status (run: in the foreground)."),
            Map.entry("version", "Print gvshim's version, commit and build time, its Java runtime and its runsc."),
            Map.entry("completion", "Print a bash or zsh completion script."),
            Map.entry("help", "Show a verb's help: gvshim help VERB."));
    /** runc's verbs, in runc's order (its --help), with what each does. */
    static final List<Map.Entry<String, String>> RUNC = List.of(
            Map.entry("checkpoint", "Checkpoint a running container."),
            Map.entry("create", "Create a container."),
            Map.entry("delete", "Delete a container and what it holds."),
            Map.entry("events", "Print a container's events and resource usage."),
            Map.entry("exec", "Run a new process inside a container."),
            Map.entry("kill", "Send a signal (default: SIGTERM) to a container's init process."),
            Map.entry("list", "List the containers of --root."),
            Map.entry("pause", "Suspend every process of a container."),
            Map.entry("ps", "Print the host processes that run a container."),
            Map.entry("restore", "Restore a container from a checkpoint."),
            Map.entry("resume", "Resume a paused container."),
            Map.entry("run", "Create and start a container, and wait for it (runc's run: --bundle, an id)."),
            Map.entry("spec", "Write a new OCI config.json."),
            Map.entry("start", "Start a created container's process."),
            Map.entry("state", "Print a container's state as JSON."),
            Map.entry("update", "Update a container's resource limits."),
            Map.entry("features", "Print the runtime's features as JSON."));

    private Usage() {
    }

    /** What a runc verb does, for its --help. */
    static String runcSummary(String verb) {
        return RUNC.stream().filter(e -> e.getKey().equals(verb)).map(Map.Entry::getValue).findFirst().orElse("");
    }

    /**
     * The root command: its options and gvshim's own verbs as subcommands; {@code withRunc} adds
     * runc's verbs that are not gvshim's own too (completion and man pages; help lists them itself).
     */
    static CommandSpec root(boolean withRunc) {
        CommandSpec root = Options.command("gvshim",
                "Run commands in a rootless gVisor (runsc) sandbox, in a user namespace gvshim sets up itself.");
        BuildInfo b = BuildInfo.read();
        root.version("gvshim version " + b.version(), "commit: " + b.commitLine(), "spec: " + Versions.SPEC);
        root.addOption(OptionSpec.builder("-v", "--version").versionHelp(true)
                .description("Print the version (runc's three-line form) and exit.").build());
        for (List<Map.Entry<String, String>> group : List.of(SANDBOX, ADMIN)) {
            for (Map.Entry<String, String> v : group) {
                Verb verb = Cli.verb(v.getKey());
                if (verb != null) {
                    CommandSpec sub = verb.spec();
                    sub.usageMessage().header(v.getValue());
                    root.addSubcommand(v.getKey(), sub);
                }
            }
        }
        if (withRunc) {
            for (Map.Entry<String, String> v : RUNC) {
                if (!root.subcommands().containsKey(v.getKey())) {
                    CommandSpec sub = RuntimeVerb.of(v.getKey()).spec();
                    sub.name(v.getKey());
                    sub.usageMessage().header(v.getValue());
                    root.addSubcommand(v.getKey(), sub);
                }
            }
        }
        return root;
    }

    /** `gvshim --help`'s command list in its groups, instead of picocli's one list. */
    static void groupCommands(CommandLine cl) {
        cl.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST, help -> {
            StringBuilder sb = new StringBuilder();
            group(sb, help, "Sandboxes:", SANDBOX);
            group(sb, help, "Setup and diagnosis:", ADMIN);
            group(sb, help, "runc's command line (for Docker, containerd and runc's scripts; global options such as --root"
                    + " go before the verb):", RUNC);
            return sb.toString();
        });
        cl.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST_HEADING, help -> "");
    }

    private static void group(StringBuilder sb, Help help, String heading, List<Map.Entry<String, String>> verbs) {
        int width = help.commandSpec().usageMessage().width();
        TextTable t = TextTable.forColumns(help.colorScheme(), new Column(15, 4, Column.Overflow.SPAN),
                new Column(width - 15, 1, Column.Overflow.WRAP));
        for (Map.Entry<String, String> v : verbs) {
            t.addRowValues(v.getKey(), v.getValue());
        }
        sb.append(heading).append(System.lineSeparator()).append(t);
    }

    /** `gvshim completion bash|zsh`'s script, from the whole command tree. */
    static String completion(Call call, String shell) {
        String bash = picocli.AutoComplete.bash("gvshim", Cli.commandLine(root(true), call));
        return shell.equals("zsh") ? "# gvshim completion for zsh: bash's script through bashcompinit\n"
                + "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n" + bash : bash;
    }
}
