package dev.gvshim.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.container.RunRequest;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.io.File;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The builder: gvshim run's defaults, validation, and the RunRequest it maps to (no sandbox starts). */
class SandboxBuilderTest {
    @TempDir
    Path tmp;

    @Test
    void defaultsAreGvshimRunsDefaults() {
        RunRequest r = new SandboxBuilder("echo", "hi").request();
        assertThat(r.command()).containsExactly("echo", "hi");
        assertThat(r.bundle()).isNull();
        assertThat(r.rootfs()).isEqualTo(Path.of("/"));
        assertThat(r.network()).isEqualTo(Network.NONE);
        assertThat(r.userns()).isEqualTo(Mode.AUTO);
        assertThat(r.tty()).isEqualTo(RunRequest.Tty.AUTO);
        assertThat(r.timeout()).isNull();
        assertThat(r.killAfter()).isEqualTo(2.0);
        assertThat(r.mounts()).isEmpty();
        assertThat(r.tmpfs()).isEmpty();
        assertThat(r.cwd()).isNull();
        assertThat(r.env()).isEmpty();
        assertThat(r.envAll()).isFalse();
        assertThat(r.uid()).isNull();
        assertThat(r.root()).isNull();
        assertThat(r.runsc()).isNull();
        assertThat(r.fallbackUnsandboxed()).isFalse();
        assertThat(r.debug()).isFalse();
        SandboxBuilder b = new SandboxBuilder("true");
        assertThat(List.of(b.redirectInput(), b.redirectOutput(), b.redirectError())).containsOnly(Redirect.PIPE);
        assertThat(b.redirectErrorStream()).isFalse();
        assertThat(b.hostEnvironment()).isEqualTo(System.getenv());
    }

    @Test
    void settingsMapOntoTheRequest() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        Path root = Files.createDirectories(tmp.resolve("root/work"));
        SandboxBuilder b = new SandboxBuilder(List.of("python3", "job.py"))
                .rootfs(root.getParent()).mount(src, "/work", ReadOnly.YES).tmpfs("/scratch").directory("/work")
                .network(Network.HOST).timeout(Duration.ofMillis(1500)).killAfter(Duration.ZERO).userns(Mode.SINGLE)
                .platform("ptrace").runsc(Path.of("/opt/runsc")).stateDirectory(tmp.resolve("state")).hostname("h");
        b.environment().put("A", "1");
        b.environment().put("B", "x=y");
        RunRequest r = b.request();
        assertThat(r.rootfs()).isEqualTo(root.getParent());
        assertThat(r.mounts()).containsExactly(new RunRequest.BindMount(src, "/work", true));
        assertThat(r.tmpfs()).containsExactly("/scratch");
        assertThat(r.cwd()).isEqualTo("/work");
        assertThat(r.network()).isEqualTo(Network.HOST);
        assertThat(r.timeout()).isEqualTo(1.5);
        assertThat(r.killAfter()).isZero();
        assertThat(r.userns()).isEqualTo(Mode.SINGLE);
        assertThat(r.platform()).isEqualTo("ptrace");
        assertThat(r.runsc()).isEqualTo("/opt/runsc");
        assertThat(r.root()).isEqualTo(tmp.resolve("state"));
        assertThat(r.hostname()).isEqualTo("h");
        assertThat(r.env()).containsExactly("A=1", "B=x=y");
    }

    @Test
    void aLaterMountOnTheSameDestinationReplacesTheEarlier() throws Exception {
        Path a = Files.createDirectory(tmp.resolve("a"));
        Path b = Files.createDirectory(tmp.resolve("b"));
        RunRequest r = new SandboxBuilder("true").mount(a, "/mnt", ReadOnly.YES).mount(b, "/mnt", ReadOnly.NO).request();
        assertThat(r.mounts()).containsExactly(new RunRequest.BindMount(b, "/mnt", false));
    }

    @Test
    void aBundleNamesItsOwnRootAndMayKeepItsCommand() {
        SandboxBuilder b = SandboxBuilder.bundle(tmp);
        RunRequest r = b.request();
        assertThat(r.bundle()).isEqualTo(tmp);
        assertThat(r.command()).isEmpty();
        assertThat(SandboxBuilder.bundle(tmp, "sh", "-c", "exit 3").request().command()).containsExactly("sh", "-c", "exit 3");
        assertThatThrownBy(() -> b.rootfs(tmp)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void settersRefuseWhatGvshimRunRefuses() {
        SandboxBuilder b = new SandboxBuilder("true");
        assertThatThrownBy(() -> new SandboxBuilder(List.of())).hasMessageContaining("nothing to run");
        assertThatThrownBy(() -> b.mount(tmp, "mnt", ReadOnly.YES)).hasMessageContaining("absolute");
        assertThatThrownBy(() -> b.tmpfs("x")).hasMessageContaining("absolute");
        assertThatThrownBy(() -> b.directory("work")).hasMessageContaining("absolute");
        assertThatThrownBy(() -> b.timeout(Duration.ZERO)).hasMessageContaining("positive");
        assertThatThrownBy(() -> b.killAfter(Duration.ofSeconds(-1))).hasMessageContaining("zero or more");
        assertThatThrownBy(() -> b.platform("qemu")).hasMessageContaining("ptrace, systrap or kvm");
        assertThatThrownBy(() -> b.redirectInput(Redirect.to(new File("x")))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.redirectOutput(Redirect.from(new File("x")))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.network(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void aMissingRootOrMountSourceIsOneFailureWithItsId() {
        SandboxBuilder noRoot = new SandboxBuilder("true").rootfs(tmp.resolve("nope")).home(tmp);
        assertThatThrownBy(noRoot::start).isInstanceOfSatisfying(SandboxException.class, e -> {
            assertThat(e.id()).isEqualTo("REQUEST_INVALID");
            assertThat(e.why()).isEqualTo("rootfs " + tmp.resolve("nope") + " does not exist");
            assertThat(e.fix()).isNotBlank();
            assertThat(e.getMessage()).startsWith("gvshim: cannot start the sandbox").endsWith("[REQUEST_INVALID]");
        });
        SandboxBuilder noSource = new SandboxBuilder("true").mount(tmp.resolve("gone"), "/mnt", ReadOnly.YES).home(tmp);
        assertThatThrownBy(noSource::start).isInstanceOfSatisfying(SandboxException.class,
                e -> assertThat(e.why()).startsWith("mount " + tmp.resolve("gone") + ":/mnt: ").endsWith(" does not exist"));
        SandboxBuilder notADir = new SandboxBuilder("true").mount(tmp, "/etc/hostname", ReadOnly.YES).home(tmp);
        assertThatThrownBy(notADir::start).isInstanceOfSatisfying(SandboxException.class,
                e -> assertThat(e.why()).contains("cannot mount a directory on /etc/hostname, which is a file"));
    }

    @Test
    void noInstallationIsOneFailureWithItsId() {
        assertThatThrownBy(new SandboxBuilder("true").home(tmp)::start).isInstanceOfSatisfying(SandboxException.class, e -> {
            assertThat(e.id()).isEqualTo("INSTALL_BROKEN");
            assertThat(e.failure().evidence()).contains(tmp.resolve("bin/gvshim").toString());
            assertThat(e.fix()).contains("gvshim.home");
        });
    }

    @Test
    void theInstallationComesFromTheBuilderElseTheSystemProperty() {
        assertThat(new SandboxBuilder("true").home(tmp).home()).isEqualTo(tmp);
        String before = System.getProperty("gvshim.home");
        try {
            System.setProperty("gvshim.home", tmp.toString());
            assertThat(new SandboxBuilder("true").home()).isEqualTo(tmp);
        } finally {
            if (before == null) {
                System.clearProperty("gvshim.home");
            } else {
                System.setProperty("gvshim.home", before);
            }
        }
    }

    @Test
    void aPoolIsNamedAsTheServerNamesItsPools() {
        SandboxBuilder b = new SandboxBuilder("true");
        assertThat(b.pool()).isNull();
        assertThat(b.pool("py-3.12_x").pool()).isEqualTo("py-3.12_x");
        assertThat(b.pool(null).pool()).isNull();
        assertThatThrownBy(() -> b.pool("")).hasMessageContaining("a pool's name is");
        assertThatThrownBy(() -> b.pool("a/b")).hasMessageContaining("a pool's name is");
        assertThatThrownBy(() -> b.pool("-x")).hasMessageContaining("a pool's name is");
    }

    @Test
    void aPoolWithoutAServerIsPoolNeedsServerAndNothingStarts() throws Exception {
        // an installation whose bin/gvshim leaves a mark if it is ever started, and a build no server runs for
        Path home = tmp.resolve("home");
        Files.createDirectories(home.resolve("bin"));
        Files.createDirectories(home.resolve("lib"));
        Path mark = tmp.resolve("started");
        Files.writeString(home.resolve("bin/gvshim"), "#!/bin/sh\ntouch " + mark + "\n");
        Files.setPosixFilePermissions(home.resolve("bin/gvshim"), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Files.writeString(home.resolve("lib/build-id"), "no-server-runs-for-this-build-" + System.nanoTime() + "\n");
        Path xdg = Files.createDirectory(tmp.resolve("xdg"),
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        SandboxBuilder b = new SandboxBuilder("true").pool("py").home(home);
        b.hostEnvironment().put("XDG_RUNTIME_DIR", xdg.toString());
        assertThatThrownBy(b::start).isInstanceOfSatisfying(SandboxException.class, e -> {
            assertThat(e.id()).isEqualTo("POOL_NEEDS_SERVER");
            assertThat(e.getMessage()).startsWith("gvshim: cannot run in the pool py: pools live in the gvshim server")
                    .endsWith("[POOL_NEEDS_SERVER]");
            assertThat(e.fix()).isEqualTo("start one with the pool: gvshim server start --pool py:min=2,max=8");
        });
        assertThat(mark).as("the client is never started without a server").doesNotExist();
    }

    @Test
    void theServersRefusalIsReadBackIntoTheSameFailure() {
        String line = "gvshim: cannot run in the pool p: --network differs: the pool p's sandboxes have none, this run asks for host."
                + " Fix: run with the pool's options (`gvshim server status` lists them), or start a pool with this run's"
                + " [POOL_PROFILE_MISMATCH]";
        var f = PoolLauncher.refusal("gvshim: warning: --network host: ... [NETWORK_HOST]\n" + line + "\n", 125, "p");
        assertThat(f.id()).isEqualTo("POOL_PROFILE_MISMATCH");
        assertThat(f.oneLine()).isEqualTo(line);
        assertThat(f.what()).isEqualTo("cannot run in the pool p");
        assertThat(f.why()).startsWith("--network differs: ");
        assertThat(f.fix()).startsWith("run with the pool's options");
        assertThat(f.exitCode()).isEqualTo(125);
        var usage = PoolLauncher.refusal("gvshim run: --cwd x: must be an absolute path\n", 125, "p");
        assertThat(usage.id()).isEqualTo("POOL_RUN_FAILED");
        assertThat(usage.why()).isEqualTo("gvshim run: --cwd x: must be an absolute path");
        assertThat(PoolLauncher.refusal("", 1, "p").why()).contains("ended the call without starting the command");
    }
}
