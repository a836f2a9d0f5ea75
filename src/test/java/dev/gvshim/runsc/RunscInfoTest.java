package dev.gvshim.runsc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * runsc's probe and gvshim's choices from it, on the real outputs of `runsc --version` and
 * `runsc flags` of Debian 12's runsc (0.0~20221219) and Debian 13's (0.0~20240729), kept in
 * src/test/resources/runsc; the cache with a fake runsc that counts its calls.
 */
class RunscInfoTest {
    @TempDir
    Path tmp;

    static RunscInfo info(String date) {
        try {
            Path d = Path.of("src/test/resources/runsc");
            return RunscInfo.parse(Files.readString(d.resolve("version-" + date + ".txt")),
                    Files.readString(d.resolve("flags-" + date + ".txt")));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static final RunscInfo R2022 = info("20221219");
    static final RunscInfo R2024 = info("20240729");

    @Test
    void versionsAndTheDefaultsThatChanged() {
        assertThat(R2022.version()).isEqualTo("0.0~20221219.0");
        assertThat(R2022.spec()).isEqualTo("1.0.2-dev");
        assertThat(R2022.release().date()).isEqualTo(20221219);
        assertThat(R2022.label()).isEqualTo("0.0~20221219.0 (gVisor 2022-12-19)");
        assertThat(R2024.version()).isEqualTo("0.0~20240729.0");
        assertThat(R2024.spec()).isEqualTo("1.2.0");
        assertThat(R2024.release().bindsProc()).isTrue();
        assertThat(R2022.release().bindsProc()).isFalse();
        // every global flag gvshim passes exists in both
        for (String f : List.of("root", "log", "log-format", "debug-log", "debug", "ignore-cgroups", "network", "platform",
                "rootless", "oci-seccomp", "overlay2", "allow-flag-override")) {
            assertThat(R2022.has(f)).as(f).isTrue();
            assertThat(R2024.has(f)).as(f).isTrue();
        }
        assertThat(R2022.defaultOf("platform")).isEqualTo("ptrace");
        assertThat(R2024.defaultOf("platform")).isEqualTo("systrap");
        assertThat(R2022.defaultOf("overlay2")).as("no default: none").isEmpty();
        assertThat(R2024.defaultOf("overlay2")).isEqualTo("root:self");
        assertThat(R2022.has("directfs")).isFalse();
        assertThat(R2024.defaultOf("directfs")).isEqualTo("true");
        assertThat(R2024.defaultOf("dcache")).isEqualTo("-1");
        assertThat(R2024.defaultOf("debug")).as("a bool flag without a default").isEmpty();
        assertThat(R2024.flags()).hasSizeGreaterThan(R2022.flags().size()).hasSizeGreaterThan(80);
    }

    @Test
    void versionFormsOfDebianUpstreamAndPlainBuilds() {
        assertThat(RunscInfo.parse("runsc version release-20240729.0-42-gabcdef123456\nspec: 1.1.0-rc.1\n", null)
                .release().date()).isEqualTo(20240729);
        RunscInfo bare = RunscInfo.parse("runsc version VERSION_MISSING\nspec: 1.1.0\n", null);
        assertThat(bare.version()).isEqualTo("VERSION_MISSING");
        assertThat(bare.release().known()).isFalse();
        assertThat(bare.label()).isEqualTo("VERSION_MISSING");
        assertThat(bare.probed()).isFalse();
        assertThat(RunscInfo.parse("garbage", "garbage").version()).isNull();
        assertThat(RunscInfo.UNKNOWN.label()).isEqualTo("unknown version");
    }

    @Test
    void aRunFromGvshimsOwnSpecGetsTheThrowawayOverlayAndNoDirectfsWithBothVersions() {
        RunscChoices.Chosen r22 = RunscChoices.forRun(R2022, true, false);
        assertThat(r22.flags()).containsExactly("--overlay2=root:memory");
        assertThat(r22.writableRoot()).isTrue();
        RunscChoices.Chosen r24 = RunscChoices.forRun(R2024, true, false);
        assertThat(r24.flags()).containsExactly("--overlay2=root:memory", "--directfs=false");
        assertThat(r24.notes()).containsExactly("runsc 0.0~20240729.0 (gVisor 2024-07-29): platform systrap unless --platform"
                + " says otherwise; gvshim passes --overlay2=root:memory --directfs=false");
        // --read-only: no overlay; 2024's root:self would only apply to a writable root, said explicitly all the same
        assertThat(RunscChoices.forRun(R2022, true, true).flags()).isEmpty();
        assertThat(RunscChoices.forRun(R2024, true, true).flags()).containsExactly("--overlay2=none", "--directfs=false");
        assertThat(RunscChoices.forRun(R2024, true, true).writableRoot()).isFalse();
        // a bundle: runc's semantics, its writes land in its rootfs with both versions
        assertThat(RunscChoices.forRun(R2024, false, false).flags()).containsExactly("--overlay2=none", "--directfs=false");
        assertThat(RunscChoices.forRun(R2022, false, false).flags()).isEmpty();
    }

    @Test
    void aRunscWithoutTheOverlayKeepsTheRootReadOnlyAndAnUnprobedOneGetsTheFlagAnyway() {
        RunscInfo old = new RunscInfo("0.0~20200101.0", null, Map.of("platform", "ptrace", "network", "sandbox"));
        RunscChoices.Chosen c = RunscChoices.forRun(old, true, false);
        assertThat(c.writableRoot()).as("never a writable root without the overlay").isFalse();
        assertThat(c.flags()).isEmpty();
        assertThat(c.notes()).first().asString().startsWith("root: read-only, this runsc (0.0~20200101.0 (gVisor 2020-01-01))"
                + " has no --overlay2");
        RunscChoices.Chosen unknown = RunscChoices.forRun(RunscInfo.UNKNOWN, true, false);
        assertThat(unknown.flags()).containsExactly("--overlay2=root:memory");
        assertThat(unknown.writableRoot()).isTrue();
        assertThat(RunscChoices.forRun(RunscInfo.UNKNOWN, true, true).flags()).isEmpty();
    }

    @Test
    void theRuntimeKeepsRuncsSemanticsUnlessConfigured() {
        assertThat(RunscChoices.forRuntime(R2022, Map.of(), List.of())).as("2022-12's defaults are runc's").isEmpty();
        assertThat(RunscChoices.forRuntime(R2024, Map.of(), List.of())).containsExactly("--overlay2=none", "--directfs=false");
        assertThat(RunscChoices.forRuntime(R2024, Map.of("overlay2", "root:self"), List.of("--directfs"))).isEmpty();
        assertThat(RunscChoices.forRuntime(R2024, Map.of("overlay", "true"), List.of("-directfs=true"))).isEmpty();
        assertThat(RunscChoices.forRuntime(R2024, Map.of(), List.of("--directfs-x"))).contains("--directfs=false");
        assertThat(RunscChoices.forRuntime(RunscInfo.UNKNOWN, Map.of(), List.of())).as("nothing known, nothing added").isEmpty();
    }

    @Test
    void theProbeIsCachedByTheBinarysIdentity() throws Exception {
        Path calls = tmp.resolve("calls");
        Path runsc = tmp.resolve("runsc");
        String v = Files.readString(Path.of("src/test/resources/runsc/version-20240729.txt"));
        Files.writeString(tmp.resolve("flags.txt"), Files.readString(Path.of("src/test/resources/runsc/flags-20240729.txt")));
        Files.writeString(runsc, "#!/bin/sh\necho \"$1\" >> " + calls + "\ncase $1 in\n--version) printf '%s' '" + v
                + "' ;;\nflags) cat " + tmp.resolve("flags.txt") + " >&2 ;;\n*) exit 2 ;;\nesac\n");
        Files.setPosixFilePermissions(runsc, PosixFilePermissions.fromString("rwx------"));
        Path cache = Files.createDirectory(tmp.resolve("cache"));
        RunscInfo first = RunscInfo.of(runsc, cache);
        assertThat(first.version()).isEqualTo("0.0~20240729.0");
        assertThat(first.defaultOf("platform")).isEqualTo("systrap");
        assertThat(Files.readAllLines(calls)).containsExactlyInAnyOrder("--version", "flags");
        assertThat(RunscInfo.of(runsc, cache)).isEqualTo(first);
        assertThat(Files.readAllLines(calls)).as("the second call reads the cache").hasSize(2);
        // a changed binary (another mtime here) is asked again, and replaces its entries
        Files.setLastModifiedTime(runsc, FileTime.fromMillis(Files.getLastModifiedTime(runsc).toMillis() - 60_000));
        assertThat(RunscInfo.of(runsc, cache)).isEqualTo(first);
        assertThat(Files.readAllLines(calls)).hasSize(4);
        assertThat(Files.readString(cache.resolve(RunscInfo.CACHE)).lines().filter(l -> l.contains("|version="))).hasSize(1);
        // without a cache directory: asked each time; a runsc that cannot run: unknown
        RunscInfo.of(runsc, null);
        assertThat(Files.readAllLines(calls)).hasSize(6);
        assertThat(RunscInfo.of(tmp.resolve("absent"), cache)).isEqualTo(RunscInfo.UNKNOWN);
        assertThat(RunscRelease.of(runsc, cache).date()).isEqualTo(20240729);
    }
}
