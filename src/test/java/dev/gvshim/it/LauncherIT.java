package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What every runtime call meets before any verb runs: the launcher's choice of AOT cache for the
 * runtime verbs, runc's three-line {@code --version} (dockerd parses it), and GVSHIM_TRACE.
 */
class LauncherIT extends RuncFixture {
    /**
     * The launcher picks the runtime verbs' own AOT cache for calls that start with a global option
     * (as every dockerd and containerd call does), gvshim's general one otherwise, and both exist.
     */
    @Test
    void launcherUsesTheRuntimeCacheForRuntimeCalls() {
        Path home = host.gvshim.getParent().getParent();
        assertThat(home.resolve("lib/runtime.aot")).isNotEmptyFile();
        assertThat(home.resolve("lib/gvshim.aot")).isNotEmptyFile();
        // bin/gvshim is the native client; the JVM's launcher (its cold path) is libexec/gvshim-jvm
        Path jvm = home.resolve("libexec/gvshim-jvm");
        Host.Result rt = Host.sh("sh", "-x", jvm.toString(), "--root", root.toString(), "state", "nosuch");
        assertThat(rt.err()).contains("-XX:AOTCache=" + home.resolve("lib/runtime.aot")).contains("container does not exist");
        assertThat(rt.code()).isEqualTo(1);
        Host.Result own = Host.sh("sh", "-x", jvm.toString(), "--version");
        assertThat(own.err()).contains("-XX:AOTCache=" + home.resolve("lib/gvshim.aot"));
        assertThat(own.out()).startsWith("gvshim version ");
        assertThat(own.code()).isZero();
    }

    @Test
    void versionIsRuncsThreeLineForm() {
        Host.Result r = Host.run(List.of(host.gvshim.toString(), "--version"), null, T, null);
        assertThat(r.code()).isZero();
        assertThat(r.err()).isEmpty();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(3);
        // dockerd splits the first line at "version" (moby parseRuntimeVersion)
        assertThat(lines.get(0)).matches("\\S+ version \\S+");
        assertThat(lines.get(1)).startsWith("commit: ");
        assertThat(lines.get(2)).startsWith("spec: 1.");
    }

    @Test
    void anEmptyGvshimTraceIsOff() {
        for (String v : List.of("GVSHIM_TRACE=", "GVSHIM_TRACE=0")) {
            Host.Result r = Host.run(List.of("env", v, host.gvshim.toString(), "--root", root.toString(), "state", "nosuch"),
                    null, T, tmp);
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.err()).as(v).isEqualTo("gvshim: container does not exist: nosuch [CONTAINER_NOT_FOUND]\n");
        }
        Host.Result on = Host.run(List.of("env", "GVSHIM_TRACE=1", host.gvshim.toString(), "--root", root.toString(), "state",
                "nosuch"), null, T, tmp);
        assertThat(on.err()).contains("gvshim: trace ");
    }
}
