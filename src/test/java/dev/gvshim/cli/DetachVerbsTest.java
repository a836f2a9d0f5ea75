package dev.gvshim.cli;

import static dev.gvshim.cli.CliTest.cli;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.container.RunRequest;
import dev.gvshim.runsc.RunscCommand;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * `gvshim run -d` and the verbs that manage detached sandboxes (ps, logs, exec, stop, rm): their
 * command lines, how they are told apart from runc's ps and exec, their refusals, and which ones
 * the server serves. No sandbox is started (DetachIT does that).
 */
class DetachVerbsTest {
    private static ParseResult run(String... args) {
        CommandLine cl = new CommandLine(new RunVerb().spec(), Cli.FACTORY);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.registerConverter(java.time.Duration.class, Cli::duration);
        return cl.parseArgs(args);
    }

    private static String refusal(String... args) {
        ParseResult p = run(args);
        RunRequest req = RunVerb.request(p, Path.of("/tmp"));
        return DetachedRun.applies(p) ? DetachedRun.refusal(p, req) : "foreground";
    }

    @Test
    void runDetachedTakesRunsOptionsButNotThoseThatNeedAForegroundRun() {
        assertThat(refusal("-d", "--name", "web", "--rm", "-e", "A=1", "--network", "none", "--", "sleep", "9")).isNull();
        assertThat(refusal("--detach", "sleep", "9")).isNull();
        assertThat(refusal("--rm", "--", "true")).as("--rm alone: the foreground run removes itself anyway").isEqualTo("foreground");
        assertThat(refusal("--name", "web", "--", "true")).isEqualTo("--name names a detached sandbox: add -d");
        assertThat(refusal("-d", "--name", "a/b", "--", "true")).startsWith("--name: invalid sandbox name \"a/b\"");
        assertThat(refusal("-d", "--root", "/tmp/r", "--", "true")).startsWith("-d cannot be combined with --root");
        assertThat(refusal("-d", "--timeout", "2s", "--", "true")).startsWith("-d cannot be combined with --timeout");
        assertThat(refusal("-d", "-t", "always", "--", "true")).startsWith("-d cannot be combined with -t always");
        assertThat(refusal("-d", "--fallback", "unsandboxed", "--", "true")).startsWith("-d cannot be combined with --fallback");
        CliTest.Out o = cli("run", "--name", "web", "--", "true");
        assertThat(o.code()).isEqualTo(125);
        assertThat(o.out()).isEmpty();
        assertThat(o.err()).isEqualTo("gvshim run: --name names a detached sandbox: add -d (see `gvshim run --help`)\n");
    }

    @Test
    void psAndExecAreGvshimsUnlessTheyHaveRuncsShape() {
        assertThat(SandboxPsVerb.ownForm(new String[] {"ps"})).isTrue();
        assertThat(SandboxPsVerb.ownForm(new String[] {"ps", "-a", "--format", "json"})).isTrue();
        assertThat(SandboxPsVerb.ownForm(new String[] {"ps", "--format=json", "-q"})).isTrue();
        assertThat(SandboxPsVerb.ownForm(new String[] {"ps", "id"})).as("runc's ps ID").isFalse();
        assertThat(SandboxPsVerb.ownForm(new String[] {"ps", "--format", "json", "id"})).isFalse();
        assertThat(SandboxExecVerb.ownForm(new String[] {"exec", "web", "sh"})).isTrue();
        assertThat(SandboxExecVerb.ownForm(new String[] {"exec", "-it", "-e", "A=1", "-w", "/tmp", "-u", "1:1", "web", "sh"}))
                .isTrue();
        assertThat(SandboxExecVerb.ownForm(new String[] {"exec", "--env=A=1", "--cwd", "/", "web", "sh", "--process"})).isTrue();
        for (String runc : List.of("--process", "-p", "-d", "--detach", "--console-socket", "--pid-file", "--cap", "-process")) {
            assertThat(SandboxExecVerb.ownForm(new String[] {"exec", runc, "x", "id"})).as(runc).isFalse();
        }
        // what dockerd and containerd pass: global options first, so always runc's
        assertThat(RuntimeCli.applies(new String[] {"--root", "/r", "--log", "l", "exec", "--process", "p", "id"})).isTrue();
        assertThat(RuntimeCli.applies(new String[] {"--root", "/r", "ps", "--format", "json", "id"})).isTrue();
    }

    @Test
    void theServerServesAllButTheWaitingOnes() {
        ServerVerb.CliDispatcher d = new ServerVerb.CliDispatcher();
        for (List<String> served : List.of(List.of("ps"), List.of("ps", "-a"), List.of("exec", "web", "sh"), List.of("stop", "web"),
                List.of("rm", "-f", "web"), List.of("logs", "web"), List.of("run", "-d", "--", "true"))) {
            assertThat(d.coldReason(served)).as(String.join(" ", served)).isNull();
        }
        for (List<String> cold : List.of(List.of("logs", "-f", "web"), List.of("logs", "--follow", "web"),
                List.of("rm", "--on-exit", "abc"))) {
            assertThat(d.coldReason(cold)).as(String.join(" ", cold)).contains("waits for the sandbox in its own process");
        }
    }

    @Test
    void verbsSayWhatTheyNeed() {
        CliTest.Out exec = cli("exec", "web");
        assertThat(exec.code()).isEqualTo(255);
        assertThat(exec.err()).isEqualTo("gvshim exec: give a sandbox and a command: gvshim exec NAME CMD [ARGS...]\n");
        CliTest.Out ps = cli("ps", "--format", "yaml");
        assertThat(ps.code()).isEqualTo(2);
        assertThat(ps.err()).isEqualTo("gvshim ps: --format yaml: expected table or json\n");
        CliTest.Out stop = cli("stop", "--time", "-1", "web");
        assertThat(stop.code()).isEqualTo(2);
        CliTest.Out logs = cli("logs");
        assertThat(logs.code()).isEqualTo(2);
        assertThat(logs.err()).startsWith("gvshim logs: missing required parameter: 'NAME'");
        assertThat(cli("help", "rm").out()).startsWith("Usage: gvshim rm").doesNotContain("--on-exit");
        assertThat(cli("help", "run").out()).contains("-d, --detach").contains("--name=NAME").contains("--rm");
    }

    @Test
    void aDetachedCreatesRelayWritesItsLogAndRunsTheOnExitArgv() {
        RunscCommand c = RunscCommand.of(Path.of("/usr/bin/runsc"), Path.of("/r")).verb(List.of("create", "x"))
                .stdio(RunscCommand.Stdio.DETACH, null).output(Path.of("/r/detached/x.log"), Path.of("/r/detached/x.then"))
                .errorFile(Path.of("/r/e"));
        List<String> argv = c.launch(Path.of("/g/libexec/gvshim-nsexec"), java.util.Map.of()).argv();
        assertThat(String.join(" ", argv)).startsWith("/g/libexec/gvshim-nsexec --relay detach --output /r/detached/x.log"
                + " --then /r/detached/x.then --error-file /r/e -- /usr/bin/runsc");
        RunscCommand wait = RunscCommand.of(Path.of("/usr/bin/runsc"), Path.of("/r")).verb(List.of("exec", "x"))
                .stdio(RunscCommand.Stdio.WAIT, null).output(Path.of("/r/x.log"), null).errorFile(Path.of("/r/e"));
        assertThat(wait.launch(Path.of("/n"), java.util.Map.of()).argv()).as("only a detached call").doesNotContain("--output");
    }
}
