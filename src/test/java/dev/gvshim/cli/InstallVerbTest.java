package dev.gvshim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.cli.CliTest.Out;
import dev.gvshim.install.RuntimeEntry;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `gvshim install`, black box against files in a temporary directory: exit code, stdout, stderr, files. */
class InstallVerbTest {
    static final String V2 = "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.gvshim]";

    @TempDir
    Path dir;
    /** An executable to register, so that no warning about a missing launcher appears on stderr. */
    String exe;

    @BeforeEach
    void launcher() throws IOException {
        Path p = dir.resolve("bin/gvshim");
        Files.createDirectories(p.getParent());
        Files.writeString(p, "#!/bin/sh\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        exe = p.toString();
    }

    Out install(String... args) {
        List<String> a = new ArrayList<>(List.of("install", "--path", exe));
        a.addAll(List.of(args));
        return CliTest.cli(a.toArray(String[]::new));
    }

    List<Path> backups(Path file) throws IOException {
        try (Stream<Path> s = Files.list(file.getParent())) {
            return s.filter(p -> p.getFileName().toString().startsWith(file.getFileName() + ".gvshim-backup-")).toList();
        }
    }

    @Test
    void createsAMissingFileAndItsDirectory() throws IOException {
        Path f = dir.resolve("etc/docker/daemon.json");
        Out o = install("--daemon-json", f.toString());
        assertThat(o.code()).isZero();
        assertThat(o.err()).isEmpty();
        assertThat(Files.readString(f)).isEqualTo("""
                {
                  "runtimes": {
                    "gvshim": {
                      "path": "%s"
                    }
                  }
                }
                """.formatted(exe));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-r--r--");
        assertThat(backups(f)).isEmpty();
        assertThat(o.out().lines().toList()).containsExactly(
                "gvshim install: created " + f + " with runtime \"gvshim\" {\"path\":\"" + exe + "\"}",
                "next: systemctl reload docker    (without systemd: kill -HUP $(pidof dockerd); dockerd re-reads runtimes on SIGHUP)",
                "then: docker run --rm --runtime=gvshim IMAGE echo hi");
    }

    @Test
    void keepsEveryOtherKeyAndRuntimeInTheirOrder() throws IOException {
        Path f = dir.resolve("daemon.json");
        Files.writeString(f, """
                {"debug": true, "runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none"]},
                 "gvshim": {"path": "/old/gvshim"}, "zzz": {"path": "/z"}},
                 "log-opts": {"max-size": "10m"}, "ratio": 1.10, "default-runtime": "runc"}
                """);
        Out o = install("--daemon-json", f.toString(), "--name", "gvshim");
        assertThat(o.code()).isZero();
        assertThat(o.out()).startsWith("gvshim install: replaced runtime \"gvshim\" {\"path\":\"/old/gvshim\"} in " + f);
        assertThat(Files.readString(f)).isEqualTo("""
                {
                  "debug": true,
                  "runtimes": {
                    "runsc": {
                      "path": "/usr/bin/runsc",
                      "runtimeArgs": [
                        "--network=none"
                      ]
                    },
                    "gvshim": {
                      "path": "%s"
                    },
                    "zzz": {
                      "path": "/z"
                    }
                  },
                  "log-opts": {
                    "max-size": "10m"
                  },
                  "ratio": 1.10,
                  "default-runtime": "runc"
                }
                """.formatted(exe));

        Out added = install("--daemon-json", f.toString(), "--name", "gvshim2");
        assertThat(added.out()).startsWith("gvshim install: added runtime \"gvshim2\" {\"path\":\"" + exe + "\"} to " + f);
        assertThat(JsonTree.read(Files.readAllBytes(f)).get("runtimes").properties().stream().map(e -> e.getKey()))
                .containsExactly("runsc", "gvshim", "zzz", "gvshim2");
    }

    @Test
    void aSecondRunWritesNothingAndBacksUpNothing() throws IOException {
        Path f = dir.resolve("daemon.json");
        Files.writeString(f, "{\"debug\": false}");
        assertThat(install("--daemon-json", f.toString()).code()).isZero();
        assertThat(backups(f)).hasSize(1);
        byte[] after = Files.readAllBytes(f);
        Files.setLastModifiedTime(f, FileTime.fromMillis(1_000_000));

        Out again = install("--daemon-json", f.toString());
        assertThat(again.code()).isZero();
        assertThat(again.err()).isEmpty();
        assertThat(again.out()).startsWith("gvshim install: " + f + " already has runtime \"gvshim\"")
                .contains("; nothing changed\n");
        assertThat(Files.readAllBytes(f)).isEqualTo(after);
        assertThat(Files.getLastModifiedTime(f).toMillis()).isEqualTo(1_000_000);
        assertThat(backups(f)).hasSize(1);
    }

    @Test
    void theSameEntryWrittenDifferentlyIsNotRewritten() throws IOException {
        Path f = dir.resolve("daemon.json");
        String compact = "{\"runtimes\":{\"gvshim\":{\"runtimeArgs\":[\"--network=host\"],\"path\":\"" + exe + "\"}}}";
        Files.writeString(f, compact);
        Out o = install("--daemon-json", f.toString(), "--runtime-arg=--network=host");
        assertThat(o.out()).contains("nothing changed");
        assertThat(Files.readString(f)).isEqualTo(compact);
        assertThat(backups(f)).isEmpty();
    }

    @Test
    void runtimeArgsAreWrittenInOrderAndOnlyWhenGiven() throws IOException {
        Path f = dir.resolve("daemon.json");
        assertThat(install("--daemon-json", f.toString(), "--runtime-arg=--network=host", "--runtime-arg",
                "--platform=systrap", "--runtime-arg", "--runsc-flag", "--runtime-arg", "overlay2=none").code()).isZero();
        assertThat(JsonTree.compact(JsonTree.read(Files.readAllBytes(f)).get("runtimes")))
                .isEqualTo("{\"gvshim\":{\"path\":\"" + exe + "\",\"runtimeArgs\":[\"--network=host\",\"--platform=systrap\","
                        + "\"--runsc-flag\",\"overlay2=none\"]}}");

        assertThat(install("--daemon-json", f.toString(), "--runtime-arg=--exec-without-seccomp").code())
                .as("the operator's opt-in to exec without the seccomp profile is a runtime option").isZero();
        assertThat(JsonTree.read(Files.readAllBytes(f)).at("/runtimes/gvshim/runtimeArgs").toString())
                .isEqualTo("[\"--exec-without-seccomp\"]");

        assertThat(install("--daemon-json", f.toString()).out()).startsWith("gvshim install: replaced");
        assertThat(JsonTree.read(Files.readAllBytes(f)).at("/runtimes/gvshim").has("runtimeArgs")).isFalse();
    }

    @Test
    void runtimeArgsThatWouldBreakEveryContainerAreRefused() {
        Path f = dir.resolve("daemon.json");
        for (String[] args : List.of(new String[] {"--runtime-arg=--netwrok=host"}, new String[] {"--runtime-arg=--root=/x"},
                new String[] {"--runtime-arg", "--network host"}, new String[] {"--runtime-arg=create"},
                new String[] {"--runtime-arg=--network=$(id)"}, new String[] {"--name", "runc"},
                new String[] {"--name", "a.b"}, new String[] {"--path", "gvshim"})) {
            List<String> a = new ArrayList<>(List.of("--daemon-json", f.toString()));
            a.addAll(List.of(args));
            Out o = install(a.toArray(String[]::new));
            assertThat(o.code()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(o.err().lines()).as(String.join(" ", args)).hasSize(1).first().asString().startsWith("gvshim install: ");
            assertThat(o.out()).isEmpty();
        }
        assertThat(Files.exists(f)).isFalse();
    }

    @Test
    void invalidJsonIsRefusedWithItsPlaceAndTheFileIsUntouched() throws IOException {
        Path f = dir.resolve("daemon.json");
        String bad = "{\n  \"debug\": true,\n  \"runtimes\": {\n    \"x\": {\"path\": \"/x\"},\n  }\n}\n";
        Files.writeString(f, bad);
        Out o = install("--daemon-json", f.toString());
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.out()).isEmpty();
        assertThat(o.err().lines()).hasSize(1).first().asString()
                .startsWith("gvshim install: " + f + " is not valid JSON at line 5, column 3 (")
                .contains("fix it there, then run gvshim install again (nothing was changed)");
        assertThat(Files.readString(f)).isEqualTo(bad);
        assertThat(backups(f)).isEmpty();

        Files.writeString(f, "[1, 2]");
        assertThat(install("--daemon-json", f.toString()).err()).contains(" holds an array, not a JSON object");
    }

    @Test
    void runtimesThatIsNotAnObjectIsRefused() throws IOException {
        Path f = dir.resolve("daemon.json");
        String bad = "{\"runtimes\": [\"gvshim\"]}";
        Files.writeString(f, bad);
        Out o = install("--daemon-json", f.toString());
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.err().lines()).hasSize(1).first().asString()
                .isEqualTo("gvshim install: " + f + ": \"runtimes\" is an array, not an object; dockerd expects"
                        + " {\"NAME\": {\"path\": ...}}: fix or remove it, then run gvshim install again (nothing was changed)"
                        + " [INSTALL_CONFIG]");
        assertThat(Files.readString(f)).isEqualTo(bad);
        assertThat(backups(f)).isEmpty();
    }

    @Test
    void anEmptyFileIsNoSettings() throws IOException {
        Path f = dir.resolve("daemon.json");
        Files.writeString(f, "\n");
        assertThat(install("--daemon-json", f.toString()).code()).isZero();
        assertThat(JsonTree.read(Files.readAllBytes(f)).at("/runtimes/gvshim/path").asText()).isEqualTo(exe);
    }

    @Test
    void dryRunPrintsTheResultAndWritesNothing() throws IOException {
        Path missing = dir.resolve("etc/daemon.json");
        Out o = install("--daemon-json", missing.toString(), "--dry-run");
        assertThat(o.code()).isZero();
        assertThat(o.out()).isEqualTo("{\n  \"runtimes\": {\n    \"gvshim\": {\n      \"path\": \"" + exe + "\"\n    }\n  }\n}\n");
        assertThat(o.err()).isEqualTo("gvshim install: dry run: " + missing
                + " would be created with the above; nothing was written\n");
        assertThat(Files.exists(missing.getParent())).isFalse();

        Path f = dir.resolve("daemon.json");
        Files.writeString(f, "{\"debug\": true}");
        Out d = install("--daemon-json", f.toString(), "--dry-run");
        assertThat(d.out()).startsWith("{\n  \"debug\": true,\n  \"runtimes\": {");
        assertThat(Files.readString(f)).isEqualTo("{\"debug\": true}");
        assertThat(backups(f)).isEmpty();
    }

    @Test
    void theBackupHoldsTheOriginalAndTheModeIsKept() throws IOException {
        Path f = dir.resolve("daemon.json");
        String original = "{\"registry-mirrors\": [\"https://m.example\"]}\n";
        Files.writeString(f, original);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        Out o = install("--daemon-json", f.toString());
        List<Path> b = backups(f);
        assertThat(b).hasSize(1);
        assertThat(b.getFirst().getFileName().toString()).matches("daemon\\.json\\.gvshim-backup-\\d{8}-\\d{6}");
        assertThat(Files.readString(b.getFirst())).isEqualTo(original);
        assertThat(o.out()).contains("(previous file: " + b.getFirst() + ")");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-r-----");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(b.getFirst()))).isEqualTo("rw-r-----");
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".gvshim-tmp"));
        }

        // a second change within the same second gets a backup of its own
        install("--daemon-json", f.toString(), "--name", "other");
        install("--daemon-json", f.toString(), "--name", "third");
        assertThat(backups(f)).hasSize(3);
    }

    @Test
    void aSymlinkedFileIsChangedWhereItPoints() throws IOException {
        Path real = dir.resolve("real.json");
        Files.writeString(real, "{}");
        Path link = dir.resolve("daemon.json");
        Files.createSymbolicLink(link, real);
        assertThat(install("--daemon-json", link.toString()).code()).isZero();
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(Files.readString(real)).contains(exe);
    }

    @Test
    void aMissingLauncherIsAWarning() {
        Out o = CliTest.cli("install", "--path", "/nonexistent/gvshim", "--daemon-json", dir.resolve("d.json").toString());
        assertThat(o.code()).isZero();
        assertThat(o.err()).startsWith("gvshim install: warning: /nonexistent/gvshim is not an executable file here");
    }

    @Test
    void theDefaultPathIsTheLauncherThatRan() {
        assertThat(InstallVerb.defaultPath(null)).isEqualTo("/usr/local/bin/gvshim");
        assertThat(InstallVerb.defaultPath(Path.of("/opt/gvshim/bin/gvshim"))).isEqualTo("/opt/gvshim/bin/gvshim");
    }

    @Test
    void installIsNotARuntimeVerb() {
        assertThat(RuntimeCli.applies(new String[] {"install", "--docker"})).isFalse();
        assertThat(CliTest.cli("--help").out()).contains("install");
        assertThat(CliTest.cli("install", "--help").out()).contains("--runtime-arg").contains("--containerd-config");
    }

    @Test
    void containerdPrintsTheCriTables() {
        Out o = install("--containerd");
        assertThat(o.code()).isZero();
        assertThat(o.err()).isEmpty();
        assertThat(o.out()).endsWith("\n" + V2 + "\n"
                + "  runtime_type = \"io.containerd.runc.v2\"\n"
                + "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.gvshim.options]\n"
                + "  BinaryName = \"" + exe + "\"\n");
        assertThat(o.out().lines().filter(l -> !l.startsWith("#") && !l.startsWith("[") && !l.startsWith("  "))).isEmpty();
        assertThat(install("--containerd", "--name", "gv2").out()).contains("containerd.runtimes.gv2]");

        Out args = install("--containerd", "--runtime-arg=--network=host");
        assertThat(args.code()).isEqualTo(1);
        assertThat(args.err()).contains("/etc/gvshim/config.json");
    }

    @Test
    void theKubernetesExampleIsWhatInstallPrints() throws IOException {
        RuntimeEntry rt = new RuntimeEntry("gvshim", "/usr/local/bin/gvshim", List.of());
        assertThat(Files.readString(Path.of("docker/kubernetes/containerd-config.toml")))
                .isEqualTo(InstallVerb.containerdPrinted(rt));
        assertThat(Files.readString(Path.of("docker/kubernetes/runtimeclass.yaml"))).contains("\nhandler: gvshim\n");
        assertThat(Files.readString(Path.of("docker/kubernetes/pod.yaml"))).contains("\n  runtimeClassName: gvshim\n");
    }

    @Test
    void containerdMergeAppendsOnceAndReplacesItsOwnLines() throws IOException {
        Path f = dir.resolve("config.toml");
        String original = """
                version = 2

                [plugins]
                  [plugins."io.containerd.grpc.v1.cri"]
                    [plugins."io.containerd.grpc.v1.cri".cni]
                      bin_dir = "/usr/lib/cni"
                """;
        Files.writeString(f, original);
        Out o = install("--containerd-config", f.toString());
        assertThat(o.code()).isZero();
        assertThat(o.err()).isEmpty();
        String block = "# BEGIN gvshim runtime gvshim (written by `gvshim install --containerd`; it replaces these lines)\n"
                + V2 + "\n"
                + "  runtime_type = \"io.containerd.runc.v2\"\n"
                + "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.gvshim.options]\n"
                + "  BinaryName = \"" + exe + "\"\n"
                + "# END gvshim runtime gvshim\n";
        assertThat(Files.readString(f)).isEqualTo(original + "\n" + block);
        assertThat(backups(f)).hasSize(1);
        assertThat(Files.readString(backups(f).getFirst())).isEqualTo(original);
        assertThat(o.out()).contains("next: systemctl restart containerd");

        Out again = install("--containerd-config", f.toString());
        assertThat(again.out()).contains("nothing changed");
        assertThat(Files.readString(f)).isEqualTo(original + "\n" + block);
        assertThat(backups(f)).hasSize(1);

        Out moved = CliTest.cli("install", "--containerd-config", f.toString(), "--path", "/bin/true");
        assertThat(moved.code()).isZero();
        assertThat(Files.readString(f)).isEqualTo(original + "\n" + block.replace(exe, "/bin/true"));

        Out dry = install("--containerd-config", f.toString(), "--dry-run");
        assertThat(dry.out()).isEqualTo(original + "\n" + block);
        assertThat(Files.readString(f)).contains("/bin/true");
    }

    @Test
    void containerdMergeCreatesAVersion2File() throws IOException {
        Path f = dir.resolve("etc/containerd/config.toml");
        assertThat(install("--containerd-config", f.toString()).code()).isZero();
        assertThat(Files.readString(f)).startsWith("version = 2\n\n# BEGIN gvshim runtime gvshim").contains(V2);
        assertThat(backups(f)).isEmpty();
    }

    @Test
    void containerdMergeRefusesWhatItCannotEditSafely() throws IOException {
        Path f = dir.resolve("config.toml");
        String v1 = "[plugins.cri]\n  sandbox_image = \"pause\"\n";
        Files.writeString(f, v1);
        Out o = install("--containerd-config", f.toString());
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.err().lines()).hasSize(1).first().asString().contains("has no top-level `version = 2` line");
        assertThat(Files.readString(f)).isEqualTo(v1);

        String defined = "version = 2\n[plugins.'io.containerd.grpc.v1.cri'.containerd.runtimes.\"gvshim\"]\n  runtime_type = \"x\"\n";
        Files.writeString(f, defined);
        Out dup = install("--containerd-config", f.toString());
        assertThat(dup.code()).isEqualTo(1);
        assertThat(dup.err()).contains("already defines runtime gvshim at line 2");
        assertThat(Files.readString(f)).isEqualTo(defined);
        assertThat(backups(f)).isEmpty();
    }

    @Test
    void containerdVersion3UsesContainerd2sPluginName() throws IOException {
        Path f = dir.resolve("config.toml");
        Files.writeString(f, "version = 3\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n");
        Out o = install("--containerd-config", f.toString());
        assertThat(o.code()).isZero();
        assertThat(Files.readString(f)).contains("[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.gvshim]\n");
        assertThat(o.err()).startsWith("gvshim install: warning: " + f + " disables the CRI plugin");
    }
}
