package dev.gvshim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.cli.CliTest.Out;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `gvshim uninstall`, black box against files in a temporary directory, after the real `gvshim install`. */
class UninstallVerbTest {
    /** A user's daemon.json as people write them: one line here, odd spacing there, a trailing newline missing. */
    static final String USERS_JSON = "{ \"debug\":true,\n\t\"runtimes\": {\"runsc\": {\"path\": \"/usr/bin/runsc\"}},"
            + "  \"log-opts\": {\"max-size\": \"10m\"} }";
    static final String USERS_TOML = "version = 2\n# the user's comment\n[plugins.\"io.containerd.grpc.v1.cri\"]\n"
            + "  sandbox_image = \"pause:3.9\"\n";

    @TempDir
    Path dir;
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
        Out o = CliTest.cli(a.toArray(String[]::new));
        assertThat(o.code()).as(o.toString()).isZero();
        return o;
    }

    static Out uninstall(String... args) {
        List<String> a = new ArrayList<>(List.of("uninstall"));
        a.addAll(List.of(args));
        return CliTest.cli(a.toArray(String[]::new));
    }

    static List<Path> backups(Path file) throws IOException {
        try (Stream<Path> s = Files.list(file.getParent())) {
            return s.filter(p -> p.getFileName().toString().startsWith(file.getFileName() + ".gvshim-backup-")).sorted().toList();
        }
    }

    @Test
    void restoresTheUsersDaemonJsonByteForByteAndBacksUpTheInstalledOne() throws IOException {
        Path f = dir.resolve("daemon.json");
        Files.writeString(f, USERS_JSON);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        install("--daemon-json", f.toString());
        String installed = Files.readString(f);
        assertThat(installed).isNotEqualTo(USERS_JSON).contains(exe);

        Out o = uninstall("--daemon-json", f.toString());
        assertThat(o.code()).as(o.toString()).isZero();
        assertThat(o.err()).isEmpty();
        assertThat(Files.readString(f)).isEqualTo(USERS_JSON);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-r-----");
        List<Path> b = backups(f);
        assertThat(b).hasSize(2); // install's (the user's file) and uninstall's (the installed one)
        assertThat(o.out().lines().toList()).containsExactly(
                "gvshim uninstall: restored " + f + " from " + b.get(0) + " (the file as it was before gvshim install);"
                        + " the file with the runtime: " + b.get(1),
                "next: systemctl reload docker    (without systemd: kill -HUP $(pidof dockerd))");
        assertThat(Files.readString(b.get(1))).isEqualTo(installed);

        Out again = uninstall("--daemon-json", f.toString());
        assertThat(again.code()).isZero();
        assertThat(again.out()).isEqualTo("gvshim uninstall: " + f + " has no runtime \"gvshim\"; nothing changed\n");
        assertThat(backups(f)).hasSize(2);
    }

    @Test
    void reinstallingWithOtherArgumentsStillRestoresTheFileAsItWasBeforeTheFirst() throws IOException {
        Path f = dir.resolve("daemon.json");
        Files.writeString(f, USERS_JSON);
        install("--daemon-json", f.toString());
        install("--daemon-json", f.toString(), "--runtime-arg=--network=host");
        assertThat(uninstall("--daemon-json", f.toString()).code()).isZero();
        assertThat(Files.readString(f)).isEqualTo(USERS_JSON);
    }

    @Test
    void aFileInstallCreatedIsRemoved() throws IOException {
        Path f = dir.resolve("etc/docker/daemon.json");
        install("--daemon-json", f.toString());
        Out o = uninstall("--daemon-json", f.toString());
        assertThat(o.code()).as(o.toString()).isZero();
        assertThat(o.out()).startsWith("gvshim uninstall: removed " + f + " (gvshim install had created it with runtime"
                + " \"gvshim\" alone); the file with the runtime: " + f + ".gvshim-backup-");
        assertThat(f).doesNotExist();
        assertThat(backups(f)).hasSize(1);
    }

    @Test
    void aFileEditedSinceInstallLosesOnlyTheRuntime() throws IOException {
        Path f = dir.resolve("daemon.json");
        Files.writeString(f, USERS_JSON);
        install("--daemon-json", f.toString());
        install("--daemon-json", f.toString(), "--name", "other");
        Files.writeString(f, Files.readString(f).replace("\"debug\": true", "\"debug\": false"));
        Out o = uninstall("--daemon-json", f.toString());
        assertThat(o.out()).startsWith("gvshim uninstall: removed runtime \"gvshim\" from " + f + " (the rest of it unchanged)");
        assertThat(Files.readString(f)).isEqualTo("""
                {
                  "debug": false,
                  "runtimes": {
                    "runsc": {
                      "path": "/usr/bin/runsc"
                    },
                    "other": {
                      "path": "%s"
                    }
                  },
                  "log-opts": {
                    "max-size": "10m"
                  }
                }
                """.formatted(exe));
        // the last runtime gone: so is the "runtimes" key install added
        Files.writeString(f, "{\"debug\": true}");
        install("--daemon-json", f.toString());
        Files.writeString(f, Files.readString(f).replace("true", "false"));
        assertThat(uninstall("--daemon-json", f.toString()).code()).isZero();
        assertThat(Files.readString(f)).isEqualTo("{\n  \"debug\": false\n}\n");
    }

    @Test
    void theDefaultRuntimeIsRefusedAndNothingIsWritten() throws IOException {
        Path f = dir.resolve("daemon.json");
        install("--daemon-json", f.toString());
        String withDefault = Files.readString(f).replaceFirst("\\{", "{\"default-runtime\": \"gvshim\",");
        Files.writeString(f, withDefault);
        List<Path> before = backups(f);
        Out o = uninstall("--daemon-json", f.toString());
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.err()).isEqualTo("gvshim uninstall: " + f + " makes gvshim the \"default-runtime\"; dockerd does not"
                + " start without it: set another default runtime there first, then run gvshim uninstall again (nothing"
                + " was changed) [INSTALL_CONFIG]\n");
        assertThat(Files.readString(f)).isEqualTo(withDefault);
        assertThat(backups(f)).isEqualTo(before);
    }

    @Test
    void dryRunPrintsTheResultAndWritesNothing() throws IOException {
        Path f = dir.resolve("daemon.json");
        Files.writeString(f, USERS_JSON);
        install("--daemon-json", f.toString());
        String installed = Files.readString(f);
        List<Path> before = backups(f);
        Out o = uninstall("--daemon-json", f.toString(), "--dry-run");
        assertThat(o.code()).isZero();
        assertThat(o.out()).isEqualTo(USERS_JSON);
        assertThat(o.err()).isEqualTo("gvshim uninstall: dry run: " + f + " would become the above: " + before.get(0)
                + ", the file as it was before gvshim install; nothing was written\n");
        assertThat(Files.readString(f)).isEqualTo(installed);
        assertThat(backups(f)).isEqualTo(before);
    }

    @Test
    void containerdConfigIsRestoredByteForByteOrLosesOnlyGvshimsLines() throws IOException {
        Path f = dir.resolve("config.toml");
        Files.writeString(f, USERS_TOML);
        install("--containerd-config", f.toString());
        Out o = uninstall("--containerd-config", f.toString());
        assertThat(o.code()).as(o.toString()).isZero();
        assertThat(o.out()).startsWith("gvshim uninstall: restored " + f).endsWith(
                "next: systemctl restart containerd    (containerd reads config.toml only when it starts)\n");
        assertThat(Files.readString(f)).isEqualTo(USERS_TOML);

        // edited since: gvshim's lines and the blank line before them go, the user's new line stays
        install("--containerd-config", f.toString());
        Files.writeString(f, Files.readString(f).replace("pause:3.9", "pause:3.10"));
        assertThat(uninstall("--containerd-config", f.toString()).code()).isZero();
        assertThat(Files.readString(f)).isEqualTo(USERS_TOML.replace("pause:3.9", "pause:3.10"));

        Path created = dir.resolve("new/config.toml");
        install("--containerd-config", created.toString());
        assertThat(uninstall("--containerd", "--containerd-config", created.toString()).code()).isZero();
        assertThat(created).doesNotExist();
    }

    @Test
    void containerdLinesInTheMiddleGoWithoutTouchingTheTablesAround() throws IOException {
        Path f = dir.resolve("config.toml");
        Files.writeString(f, USERS_TOML);
        install("--containerd-config", f.toString());
        String after = "[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n";
        Files.writeString(f, Files.readString(f) + after);
        assertThat(uninstall("--containerd-config", f.toString()).code()).isZero();
        assertThat(Files.readString(f)).isEqualTo(USERS_TOML + "\n" + after);
    }

    @Test
    void aMissingFileIsNothingToDo() {
        Path f = dir.resolve("none/daemon.json");
        Out o = uninstall("--daemon-json", f.toString());
        assertThat(o.code()).isZero();
        assertThat(o.out()).isEqualTo("gvshim uninstall: " + f + " does not exist; nothing changed\n");
        assertThat(f.getParent()).doesNotExist();
    }
}
