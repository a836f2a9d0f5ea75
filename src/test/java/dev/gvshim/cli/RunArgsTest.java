package dev.gvshim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.container.RunArgs;
import dev.gvshim.container.RunRequest;
import dev.gvshim.pool.Profile;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@link RunArgs}: the Java API's request, said as `gvshim run --pool` options for the user's
 * server, is parsed back by the CLI into the same request: the same profile (what the pool
 * checks) and the same command, environment, working directory and timeouts.
 */
class RunArgsTest {
    @TempDir
    Path tmp;

    private static RunRequest parse(List<String> args) {
        CommandLine cl = new CommandLine(new RunVerb().spec(), Cli.FACTORY);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.registerConverter(java.time.Duration.class, Cli::duration);
        var p = cl.parseArgs(args.subList(1, args.size()).toArray(String[]::new)); // without "run"
        assertThat(p.matchedOptionValue("--pool", "")).isEqualTo("py");
        return RunVerb.request(p, Path.of("/nowhere"));
    }

    private static RunRequest request(List<String> command, Path bundle, Path rootfs, List<RunRequest.BindMount> mounts,
            List<String> tmpfs, String cwd, List<String> env, Network network, Double timeout, double killAfter, String platform,
            String runsc, Path root, Mode userns, String hostname) {
        return new RunRequest(command, bundle, rootfs, mounts, tmpfs, cwd, env, false, network, timeout, killAfter, platform, runsc,
                root, userns, RunRequest.Tty.AUTO, null, null, hostname, false, false, false);
    }

    private static void sameRun(RunRequest want) {
        List<String> args = RunArgs.of(want, "py");
        assertThat(args.getFirst()).isEqualTo("run");
        RunRequest got = parse(args);
        assertThat(Profile.of(got)).as(String.join(" ", args)).isEqualTo(Profile.of(want));
        assertThat(Profile.of(want).differs(Profile.of(got), "py")).isNull();
        assertThat(got.command()).isEqualTo(want.command());
        assertThat(got.env()).isEqualTo(want.env());
        assertThat(got.cwd()).isEqualTo(want.cwd());
        assertThat(got.timeout()).isEqualTo(want.timeout());
        assertThat(got.killAfter()).isEqualTo(want.killAfter());
        assertThat(got.tty()).isEqualTo(want.tty());
        assertThat(got.readOnly()).isEqualTo(want.readOnly());
    }

    @Test
    void theDefaultsAndEveryOptionComeBackTheSame() throws Exception {
        sameRun(request(List.of("/bin/true"), null, Path.of("/"), List.of(), List.of(), null, List.of(), Network.NONE, null, 2.0, null,
                null, null, Mode.AUTO, null));
        Path root = Files.createDirectories(tmp.resolve("root/work"));
        Path src = Files.createDirectory(tmp.resolve("src"));
        sameRun(request(List.of("python3", "-c", "print(1)", "--", "-x"), null, root.getParent(),
                List.of(new RunRequest.BindMount(src, "/work", true), new RunRequest.BindMount(src, "/rw", false)),
                List.of("/scratch"), "/work", List.of("A=1", "B=x=y", "-C=--", "TERM"), Network.HOST, 0.0001, 0.0, "ptrace",
                "/opt/runsc", tmp.resolve("state"), Mode.SINGLE, "h-1"));
    }

    @Test
    void aBundleKeepsItsCommandAndAPathWithAColonIsDockersForm() throws Exception {
        Path bundle = Files.createDirectory(tmp.resolve("b"));
        sameRun(request(List.of(), bundle, Path.of("/"), List.of(), List.of(), null, List.of(), Network.SANDBOX, 1.5, 2.0, null, null,
                null, Mode.FULL, null));
        Path colon = Files.createDirectory(tmp.resolve("a:b"));
        sameRun(request(List.of("ls"), null, Path.of("/"), List.of(new RunRequest.BindMount(colon, "/x:y", true)), List.of(), null,
                List.of(), Network.NONE, null, 2.0, null, null, null, Mode.AUTO, null));
        Path both = Files.createDirectory(tmp.resolve("a:b,c"));
        RunRequest unsayable = request(List.of("ls"), null, Path.of("/"), List.of(new RunRequest.BindMount(both, "/x", false)),
                List.of(), null, List.of(), Network.NONE, null, 2.0, null, null, null, Mode.AUTO, null);
        assertThatThrownBy(() -> RunArgs.of(unsayable, "py")).hasMessageContaining("both ':' and ','");
    }
}
