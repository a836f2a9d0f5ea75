package dev.gvshim.cli;

import static dev.gvshim.cli.CliTest.cli;
import static dev.gvshim.cli.CliTest.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.container.RunRequest;
import dev.gvshim.container.RunRequest.Tty;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docker's and podman's habits on gvshim run's command line: -it, -u NAME, --memory/--cpus/--pids-limit, --network host. */
class RunHabitsTest {
    @TempDir
    Path cwd;

    @Test
    void dashTAloneIsATerminalAndClustersWithDashI() {
        for (String[] args : new String[][] {{"-it", "bash"}, {"-ti", "bash"}, {"-i", "-t", "bash"}, {"-t", "-i", "bash"},
                {"-t", "bash"}, {"--tty", "bash"}, {"-t", "always", "bash"}, {"-t=always", "bash"}, {"--tty=ALWAYS", "bash"}}) {
            RunRequest r = parse(cwd, args);
            assertThat(r.tty()).as(String.join(" ", args)).isEqualTo(Tty.ALWAYS);
            assertThat(r.command()).as(String.join(" ", args)).containsExactly("bash");
        }
        assertThat(parse(cwd, "-t", "never", "bash").tty()).isEqualTo(Tty.NEVER);
        assertThat(parse(cwd, "-i", "-t", "auto", "--", "bash").tty()).isEqualTo(Tty.AUTO);
        assertThat(parse(cwd, "-t", "never", "bash").command()).containsExactly("bash");
        RunRequest named = parse(cwd, "-t", "--", "always");
        assertThat(named.tty()).as("-- ends the options: a command named always").isEqualTo(Tty.ALWAYS);
        assertThat(named.command()).containsExactly("always");
        RunRequest last = parse(cwd, "-it", "--", "sh", "-c", "echo -t");
        assertThat(last.command()).containsExactly("sh", "-c", "echo -t");
        assertThat(parse(cwd, "-i", "bash").tty()).as("-i alone keeps the default").isEqualTo(Tty.AUTO);
    }

    @Test
    void userTakesNamesAndNumbers() {
        RunRequest named = parse(cwd, "-u", "nobody", "--", "id");
        assertThat(named.user().user()).isEqualTo("nobody");
        assertThat(named.user().group()).isNull();
        assertThat(named.uid()).as("resolved when the spec is built").isNull();
        RunRequest both = parse(cwd, "--user", "www-data:staff", "--", "id");
        assertThat(both.user().group()).isEqualTo("staff");
        RunRequest mixed = parse(cwd, "-u", "1000:staff", "--", "id");
        assertThat(mixed.uid()).isEqualTo(1000);
        assertThat(parse(cwd, "-u", "1000:100", "--", "id").gid()).isEqualTo(100);
        assertThat(parse(cwd, "-u", "7", "--", "id").gid()).as("numeric alone: the same gid, as before").isEqualTo(7);
        for (String bad : new String[] {"a:b:c", ":5", "5:", "", "4294967295", "99999999999", "a/b"}) {
            assertThatThrownBy(() -> parse(cwd, "-u", bad, "--", "id")).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("--user " + bad + ": ");
        }
    }

    @Test
    void limitsAreDockersSpellings() {
        RunRequest r = parse(cwd, "--memory", "512m", "--cpus", "0.5", "--pids-limit", "64", "--", "x");
        assertThat(r.limits().memory()).isEqualTo(512L << 20);
        assertThat(r.limits().cpus()).isEqualTo(0.5);
        assertThat(r.limits().pids()).isEqualTo(64);
        assertThat(parse(cwd, "-m", "1g", "--", "x").limits().memory()).isEqualTo(1L << 30);
        assertThat(parse(cwd, "--memory", "7340032", "--", "x").limits().memory()).isEqualTo(7340032);
        assertThat(parse(cwd, "--memory", "8192k", "--", "x").limits().memory()).isEqualTo(8L << 20);
        assertThat(parse(cwd, "--", "x").limits().needsCgroup()).isFalse();
        assertThat(parse(cwd, "--pids-limit", "5", "--", "x").limits().needsCgroup()).as("gVisor's own limit").isFalse();
        assertThatThrownBy(() -> parse(cwd, "--memory", "1m", "--", "x")).hasMessage("--memory 1m: the minimum is 6m (runsc and"
                + " its sandbox need more to start)");
        assertThatThrownBy(() -> parse(cwd, "--memory", "lots", "--", "x")).hasMessageStartingWith("--memory lots: expected a size");
        assertThatThrownBy(() -> parse(cwd, "--memory", "-5m", "--", "x")).hasMessageStartingWith("--memory -5m: expected a size");
        assertThatThrownBy(() -> parse(cwd, "--cpus", "0", "--", "x")).hasMessageStartingWith("--cpus 0: expected a positive");
        assertThatThrownBy(() -> parse(cwd, "--cpus", "NaN", "--", "x")).hasMessageStartingWith("--cpus NaN: expected a positive");
        assertThatThrownBy(() -> parse(cwd, "--cpus", "1e3", "--", "x")).hasMessageStartingWith("--cpus 1e3: expected a positive");
        assertThatThrownBy(() -> parse(cwd, "--cpus", "100000", "--", "x")).hasMessageContaining(": this host has ");
        assertThatThrownBy(() -> parse(cwd, "--pids-limit", "0", "--", "x")).hasMessageStartingWith("--pids-limit 0: expected a"
                + " positive whole number");
        assertThatThrownBy(() -> parse(cwd, "--fallback", "unsandboxed", "--pids-limit", "5", "--", "x"))
                .hasMessageStartingWith("--fallback=unsandboxed cannot be combined with --memory, --cpus or --pids-limit");
        CliTest.Out o = cli("run", "--memory", "1m", "--", "true");
        assertThat(o.code()).isEqualTo(125);
        assertThat(o.err()).isEqualTo("gvshim run: --memory 1m: the minimum is 6m (runsc and its sandbox need more to start)"
                + " (see `gvshim run --help`)\n");
    }

    @Test
    void networkHostWarnsOnceWithAnId() {
        // no installation in a unit test: the run stops right after the warning, with its own one line
        CliTest.Out o = cli("run", "--network", "host", "--", "true");
        assertThat(o.err().lines().toList()).hasSize(2);
        assertThat(o.err().lines().findFirst().orElseThrow()).isEqualTo(RunVerb.NETWORK_HOST_WARNING)
                .startsWith("gvshim: warning: --network host: the sandbox shares this host's network interfaces")
                .endsWith(" [NETWORK_HOST]");
        assertThat(cli("run", "--network", "none", "--", "true").err()).doesNotContain("NETWORK_HOST");
    }
}
