package dev.gvshim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.Messages;
import dev.gvshim.container.RunRequest;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line, black box (exit code, exact output, stderr) and white box (the parsed request). */
class CliTest {
    record Out(int code, String out, String err) {
    }

    static Out cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Cli.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        Out o = new Out(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        // every message a unit test makes the CLI print, and the --log file it was given, is audited
        String call = "gvshim " + String.join(" ", args);
        Messages.check(call, o.err());
        Messages.check(call, o.out());
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--log")) {
                Messages.checkFile(Path.of(args[i + 1]));
            }
        }
        return o;
    }

    static RunRequest parse(Path cwd, String... args) {
        CommandLine cl = new CommandLine(new RunVerb().spec(), Cli.FACTORY);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.registerConverter(java.time.Duration.class, Cli::duration);
        return RunVerb.request(cl.parseArgs(args), cwd);
    }

    @Test
    void versionIsRuncsThreeLinesOnStdoutAndNothingOnStderr() {
        Out o = cli("--version");
        assertThat(o.code()).isZero();
        assertThat(o.out().lines()).hasSize(3).element(0).asString().startsWith("gvshim version ");
        assertThat(o.out().lines().toList().get(2)).isEqualTo("spec: " + dev.gvshim.failure.Versions.SPEC);
        assertThat(o.err()).isEmpty();
    }

    @Test
    void serverStatusAndStopWithoutAServerSaySoAndStartNone() {
        Out status = cli("server", "status");
        assertThat(status.code()).isEqualTo(ServerVerb.NOT_RUNNING);
        assertThat(status.out()).startsWith("no gvshim server is running for uid ");
        assertThat(status.err()).isEmpty();
        Out stop = cli("server", "stop");
        assertThat(stop.code()).isZero();
        assertThat(stop.out()).startsWith("no gvshim server is running for uid ");
    }

    @Test
    void serverActionsAndOptionsAreChecked() {
        Out bogus = cli("server", "restart");
        assertThat(bogus.code()).isEqualTo(dev.gvshim.failure.Exit.USAGE);
        assertThat(bogus.err()).isEqualTo("gvshim server: unknown action \"restart\": run, start, stop, status, add-pool or"
                + " remove-pool (see `gvshim server --help`)\n");
        Out noPool = cli("server", "add-pool");
        assertThat(noPool.code()).isEqualTo(dev.gvshim.failure.Exit.USAGE);
        assertThat(noPool.err()).isEqualTo("gvshim server: add-pool needs a pool (NAME:min=N,max=N,KEY=VALUE...)\n");
        Out badSpec = cli("server", "add-pool", "py:min=9,max=2");
        assertThat(badSpec.code()).isEqualTo(dev.gvshim.failure.Exit.USAGE);
        assertThat(badSpec.err()).isEqualTo("gvshim server: --pool py:min=9,max=2: min 9 is more than max 2\n");
        Out badName = cli("server", "remove-pool", "a/b");
        assertThat(badName.code()).isEqualTo(dev.gvshim.failure.Exit.USAGE);
        assertThat(badName.err()).isEqualTo("gvshim server: remove-pool a/b: not a pool's name\n");
        Out wait = cli("server", "add-pool", "--wait", "9999", "py");
        assertThat(wait.code()).isEqualTo(dev.gvshim.failure.Exit.USAGE);
        Out idle = cli("server", "run", "--idle-timeout", "-1");
        assertThat(idle.code()).isEqualTo(dev.gvshim.failure.Exit.USAGE);
        assertThat(idle.err()).isEqualTo("gvshim server: --idle-timeout must be 0 (never) or more seconds\n");
        assertThat(cli("server").code()).isEqualTo(dev.gvshim.failure.Exit.USAGE);
    }

    @Test
    void helpListsTheVerbs() {
        Out o = cli("--help");
        assertThat(o.code()).isZero();
        assertThat(o.out()).contains("run").contains("spec").doesNotContain("__explain");
        assertThat(cli("run", "--help").out()).contains("--userns").contains("--timeout").contains("--fallback");
    }

    @Test
    void helpGroupsEveryVerbInAFixedOrderTheSameOnEveryCall() {
        String help = cli("--help").out();
        assertThat(cli("--help").out()).isEqualTo(help).isEqualTo(cli("help").out());
        List<String> headings = help.lines().filter(l -> !l.startsWith(" ") && l.endsWith(":")).toList();
        assertThat(headings).hasSize(3);
        assertThat(headings.get(0)).isEqualTo("Sandboxes:");
        assertThat(headings.get(1)).isEqualTo("Setup and diagnosis:");
        assertThat(headings.get(2)).startsWith("runc's command line");
        // each group's verbs, in order, under its heading
        List<String> verbs = help.lines().filter(l -> l.matches("    [a-z]+ .*")).map(l -> l.strip().split(" ")[0]).toList();
        assertThat(verbs).containsExactly("run", "ps", "logs", "exec", "stop", "rm", "spec", "doctor", "install", "uninstall", "server", "version", "completion", "help",
                "checkpoint", "create", "delete", "events", "exec", "kill", "list", "pause", "ps", "restore", "resume", "run",
                "spec", "start", "state", "update", "features");
        // every verb listed has its own help, on stdout, exit 0
        for (String v : new java.util.LinkedHashSet<>(verbs)) {
            if (!v.equals("help")) {
                Out h = cli("help", v);
                assertThat(h.code()).as(v).isZero();
                assertThat(h.out()).as(v).startsWith("Usage: gvshim " + v);
            }
        }
        assertThat(cli("help", "create").out()).as("a runc verb says what it does").contains("Create a container.");
    }

    @Test
    void versionVerbReportsTheBuildJavaAndRunsc(@TempDir Path dir) throws Exception {
        Path fake = dir.resolve("runsc");
        Files.writeString(fake, "#!/bin/sh\necho 'runsc version 0.0~20240729.0'\necho spec: 1.1.0\n");
        fake.toFile().setExecutable(true);
        Out o = cli("version", "--runsc", fake.toString());
        assertThat(o.code()).as(o.toString()).isZero();
        assertThat(o.err()).isEmpty();
        List<String> lines = o.out().lines().toList();
        assertThat(lines).hasSize(6);
        assertThat(lines.get(0)).matches("gvshim \\S+");
        // the commit git-commit-id-maven-plugin recorded: this checkout's HEAD (CI builds a clean clone)
        java.util.Properties git = new java.util.Properties();
        try (var in = Cli.class.getResourceAsStream("/dev/gvshim/git.properties")) {
            assertThat(in).as("the build writes dev/gvshim/git.properties").isNotNull();
            git.load(in);
        }
        assertThat(git.getProperty("git.commit.id.full")).matches("[0-9a-f]{40}");
        assertThat(lines.get(1)).startsWith("commit: " + git.getProperty("git.commit.id.full"));
        assertThat(lines.get(2)).matches("built: \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
        assertThat(lines.get(3)).startsWith("java: " + Runtime.version() + " (");
        assertThat(lines.get(4)).isEqualTo("runsc: runsc version 0.0~20240729.0 (" + fake + ")");
        assertThat(lines.get(5)).isEqualTo("spec: " + dev.gvshim.failure.Versions.SPEC);
        assertThat(cli("version", "--runsc", dir.resolve("nope").toString()).out())
                .contains("runsc: none: --runsc " + dir.resolve("nope") + " is not an executable file");
        // --version's commit line is the same commit (runc's three lines)
        assertThat(cli("--version").out().lines().toList().get(1)).isEqualTo(lines.get(1));
    }

    @Test
    void completionScriptsComeFromTheCommandTree() {
        Out bash = cli("completion", "bash");
        assertThat(bash.code()).isZero();
        assertThat(bash.err()).isEmpty();
        assertThat(bash.out()).contains("complete -F").contains("--volume").contains("--timeout").contains("--pid-file")
                .contains("checkpoint").contains("doctor");
        Out zsh = cli("completion", "zsh");
        assertThat(zsh.out()).startsWith("# gvshim completion for zsh").contains("bashcompinit").endsWith(bash.out());
        Out fish = cli("completion", "fish");
        assertThat(fish.code()).isEqualTo(dev.gvshim.failure.Exit.USAGE);
        assertThat(fish.err()).isEqualTo("gvshim completion: no completion for shell 'fish': bash or zsh\n");
        assertThat(fish.out()).isEmpty();
    }

    @Test
    void usageErrorsOfRunAreOneLineAnd125() {
        for (String[] args : List.of(new String[] {"run", "--frob", "--", "true"}, new String[] {"run"},
                new String[] {"run", "--bundle", "b", "--rootfs", "/", "--", "x"}, new String[] {"run", "--mount", "nocolon", "--", "x"},
                new String[] {"run", "--timeout", "0", "--", "x"}, new String[] {"run", "--user", "bob:staff:x", "--", "x"},
                new String[] {"run", "--network", "bridge", "--", "x"}, new String[] {"run", "--platform", "vmware", "--", "x"},
                new String[] {"run", "--fallback", "maybe", "--", "x"}, new String[] {"run", "--bundle", "b", "--fallback", "unsandboxed"})) {
            Out o = cli(args);
            assertThat(o.code()).as(String.join(" ", args)).isEqualTo(125);
            assertThat(o.err().lines()).as(String.join(" ", args)).hasSize(1).first().asString().startsWith("gvshim run: ");
            assertThat(o.out()).isEmpty();
        }
        assertThat(cli("run", "--frob").err()).contains("unknown option: '--frob'");
    }

    @Test
    void aNumberIsAskedForInWordsNotAsAJavaType() {
        Out o = cli("run", "--timeout", "2 days", "--", "true");
        assertThat(o.code()).isEqualTo(125);
        assertThat(o.err()).isEqualTo("gvshim run: invalid value for option '--timeout': '2 days' is not a duration (seconds, or"
                + " with a unit: 30s, 2m, 1h, 500ms) (see `gvshim run --help`)\n");
        assertThat(cli("run", "--kill-after", "soon", "--", "true").err()).contains("'soon' is not a duration (");
        assertThat(cli("--root", "/nonexistent", "create", "--preserve-fds", "x", "c").err()).contains("'x' is not a whole number");
        assertThat(cli("run", "--timeout", "NaN", "--", "x").err()).contains("'NaN' is not a duration");
    }

    @Test
    void dockersSpellingsOfMountsWorkdirAndEnvironmentWork(@org.junit.jupiter.api.io.TempDir Path cwd) throws Exception {
        Files.createDirectories(cwd.resolve("data"));
        for (String d : List.of("d", "e", "f", "g")) {
            Files.createDirectories(cwd.resolve("root").resolve(d));
        }
        Files.writeString(cwd.resolve("vars"), "# a comment\n\nA=1\nB=two words\nPATH\n");
        RunRequest r = parse(cwd, "--rootfs", "root", "-v", "data:/d:ro", "--volume", "data:/e", "--mount",
                "type=bind,source=data,target=/f,readonly", "--mount", "src=data,dst=/g", "-w", "/d", "-i",
                "--env-file", "vars", "-e", "C=3", "--", "x");
        assertThat(r.mounts()).extracting(m -> m.destination() + (m.readOnly() ? ":ro" : ":rw"))
                .containsExactly("/d:ro", "/e:rw", "/f:ro", "/g:rw");
        assertThat(r.mounts()).allSatisfy(m -> assertThat(m.source()).isEqualTo(cwd.resolve("data")));
        assertThat(r.cwd()).isEqualTo("/d");
        assertThat(r.env()).containsExactly("A=1", "B=two words", "PATH", "C=3");
        assertThat(cli("run", "--mount", "type=volume,source=v,target=/v", "--", "x").err())
                .contains("type volume is not supported here");
        assertThat(cli("run", "--env-file", cwd.resolve("none").toString(), "--", "x").err())
                .contains("--env-file " + cwd.resolve("none") + ": no such file");
        assertThat(cli("run", "--env-file", "/dev/zero", "--", "x").err()).as("never read until memory runs out")
                .contains("--env-file /dev/zero: not a regular file");
        assertThat(cli("run", "--env-file", cwd.toString(), "--", "x").err()).contains("not a regular file");
        Path big = cwd.resolve("big.env");
        Files.write(big, new byte[(int) RunVerb.ENV_FILE_MAX + 1]);
        assertThat(cli("run", "--env-file", big.toString(), "--", "x").err()).contains("larger than 1024 KiB");
    }

    @Test
    void durationsAreWrittenAsTimeoutDockerAndGoWriteThem() {
        for (String[] d : List.of(new String[] {"30", "30.0"}, new String[] {"1.5", "1.5"}, new String[] {"2s", "2.0"},
                new String[] {"500ms", "0.5"}, new String[] {"2m", "120.0"}, new String[] {"1h", "3600.0"},
                new String[] {"1m30s", "90.0"})) {
            assertThat(parse(Path.of("/"), "--timeout", d[0], "--", "x").timeout()).as(d[0]).hasToString(d[1]);
        }
        assertThat(parse(Path.of("/"), "--kill-after", "250ms", "--", "x").killAfter()).isEqualTo(0.25);
        for (String bad : List.of("s", "1x", "1m30", "-1s", "1e1", "")) {
            assertThat(cli("run", "--timeout", bad, "--", "x").err()).as(bad).contains("is not a duration");
        }
    }

    @Test
    void specNamesTheMissingDirectoryInsteadOfRepeatingThePath() {
        Out o = cli("spec", "--bundle", "no-such-dir-r2");
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.err()).isEqualTo("gvshim spec: cannot write no-such-dir-r2/config.json: the directory no-such-dir-r2 does"
                + " not exist (create it, or pass an existing directory with --bundle)\n");
    }

    @Test
    void otherUsageErrorsAre2() {
        assertThat(cli().code()).isEqualTo(2);
        assertThat(cli("frobnicate").code()).isEqualTo(2);
        assertThat(cli("spec", "--frob").code()).isEqualTo(2);
    }

    @Test
    void theCommandStartsAtTheFirstPositional(@TempDir Path cwd) {
        RunRequest r = parse(cwd, "--env", "A=1", "python3", "-c", "print(1)", "--env", "B=2");
        assertThat(r.command()).containsExactly("python3", "-c", "print(1)", "--env", "B=2");
        assertThat(r.env()).containsExactly("A=1");
        assertThat(parse(cwd, "--", "--weird-binary").command()).containsExactly("--weird-binary");
    }

    @Test
    void defaultsAndConversions(@TempDir Path cwd) throws Exception {
        RunRequest r = parse(cwd, "--", "true");
        assertThat(r.rootfs()).isEqualTo(Path.of("/"));
        assertThat(r.network()).isEqualTo(Network.NONE);
        assertThat(r.userns()).isEqualTo(Mode.AUTO);
        assertThat(r.tty()).isEqualTo(RunRequest.Tty.AUTO);
        assertThat(r.timeout()).isNull();
        assertThat(r.killAfter()).isEqualTo(2.0);
        assertThat(r.fallbackUnsandboxed()).isFalse();
        Files.createDirectories(cwd.resolve("b"));
        RunRequest s = parse(cwd, "--bundle", "b", "--network", "HOST", "--userns", "single", "-t", "never", "-u", "1000:100",
                "--timeout", "2.5", "--root", "state", "--hostname", "h", "--debug", "--verbose");
        assertThat(s.bundle()).isEqualTo(cwd.resolve("b"));
        assertThat(s.network()).isEqualTo(Network.HOST);
        assertThat(s.userns()).isEqualTo(Mode.SINGLE);
        assertThat(s.tty()).isEqualTo(RunRequest.Tty.NEVER);
        assertThat(s.uid()).isEqualTo(1000);
        assertThat(s.gid()).isEqualTo(100);
        assertThat(s.timeout()).isEqualTo(2.5);
        assertThat(s.root()).isEqualTo(cwd.resolve("state"));
        assertThat(s.debug()).isTrue();
        assertThat(s.verbose()).isTrue();
        assertThat(parse(cwd, "-u", "5", "--", "x").gid()).isEqualTo(5);
    }

    @Test
    void aMountPointMayBeMissingButAnExistingOneMustMatchTheSource(@TempDir Path cwd) throws Exception {
        Files.createDirectories(cwd.resolve("data"));
        assertThat(parse(cwd, "--mount", "data:/definitely-not-here", "--", "x").mounts())
                .as("made by gvshim when the sandbox starts (MountPoints)").hasSize(1);
        assertThat(parse(cwd, "--mount", "data:/mnt:ro", "--", "x").mounts()).hasSize(1);
        assertThatThrownBy(() -> parse(cwd, "--mount", "data:/etc/hostname", "--", "x")).hasMessageContaining("which is a file");
        assertThatThrownBy(() -> parse(cwd, "--mount", "missing:/mnt", "--", "x")).hasMessageContaining("does not exist");
        Path rootfs = Files.createDirectories(cwd.resolve("rootfs"));
        assertThat(parse(cwd, "--rootfs", rootfs.toString(), "--mount", "data:/new/dir", "--", "x").mounts()).hasSize(1);
    }

    @Test
    void specWritesRuncsConfigAndRefusesToOverwrite(@TempDir Path dir) throws Exception {
        Out o = cli("spec", "--bundle", dir.toString(), "--", "/bin/echo", "hi");
        assertThat(o.code()).isZero();
        assertThat(o.err()).isEmpty();
        String json = Files.readString(dir.resolve("config.json"));
        assertThat(json).startsWith("{\n\t\"ociVersion\": \"1.0.2\"").contains("\"/bin/echo\"").contains("\"network\"");
        Out again = cli("spec", "--bundle", dir.toString());
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("exists; remove it first");
        Files.delete(dir.resolve("config.json"));
        assertThat(cli("spec", "--rootless", "-b", dir.toString()).code()).isZero();
        assertThat(Files.readString(dir.resolve("config.json"))).contains("\"user\"").contains("uidMappings").doesNotContain("\"network\"");
    }
}
