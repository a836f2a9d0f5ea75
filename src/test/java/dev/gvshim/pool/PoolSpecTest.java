package dev.gvshim.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PoolSpecTest {
    @TempDir
    Path dir;

    @Test
    void nameMinMaxAndDefaults() {
        PoolSpec p = PoolSpec.parse("py:min=2,max=8", dir);
        assertThat(p.name()).isEqualTo("py");
        assertThat(p.min()).isEqualTo(2);
        assertThat(p.max()).isEqualTo(8);
        assertThat(p.memoryBytes()).isZero();
        assertThat(p.template().rootfs()).isEqualTo(Path.of("/"));
        assertThat(p.template().network()).isEqualTo(Network.NONE);
        assertThat(p.template().userns()).isEqualTo(Mode.AUTO);
        assertThat(p.template().command()).isEqualTo(PoolSpec.INIT);
        PoolSpec bare = PoolSpec.parse("x", dir);
        assertThat(bare.min()).isEqualTo(2);
        assertThat(bare.max()).isEqualTo(8);
        assertThat(PoolSpec.parse("x:min=12", dir).max()).isEqualTo(12);
    }

    @Test
    void profileKeysAndRelativePaths() {
        PoolSpec p = PoolSpec.parse("w:min=0,max=3,memory=512M,rootfs=.,mount=src:/work:ro,tmpfs=/scratch,network=host,userns=single,"
                + "platform=ptrace,runsc=/usr/bin/runsc,hostname=h", dir);
        assertThat(p.memoryBytes()).isEqualTo(512L << 20);
        assertThat(p.template().rootfs()).isEqualTo(dir);
        assertThat(p.template().mounts()).singleElement().satisfies(m -> {
            assertThat(m.source()).isEqualTo(dir.resolve("src"));
            assertThat(m.destination()).isEqualTo("/work");
            assertThat(m.readOnly()).isTrue();
        });
        assertThat(p.template().tmpfs()).containsExactly("/scratch");
        assertThat(p.template().network()).isEqualTo(Network.HOST);
        assertThat(p.template().userns()).isEqualTo(Mode.SINGLE);
        assertThat(p.template().platform()).isEqualTo("ptrace");
        assertThat(p.template().hostname()).isEqualTo("h");
    }

    @Test
    void canonicalFormReadsBackTheSame() {
        PoolSpec p = PoolSpec.parse("w:min=1,max=3,memory=1G,mount=src:/work,network=host,platform=systrap", dir);
        PoolSpec again = PoolSpec.parse(p.toString(), Path.of("/elsewhere"));
        assertThat(again).isEqualTo(p);
        assertThat(p.toString()).startsWith("w:min=1,max=3,memory=1073741824,mount=" + dir.resolve("src") + ":/work:rw");
    }

    @Test
    void refusals() {
        for (List<String> c : List.of(
                List.of("", "a pool's name"),
                List.of("a/b:min=1", "a pool's name"),
                List.of("p:min=3,max=2", "min 3 is more than max 2"),
                List.of("p:max=0", "max must be 1 to"),
                List.of("p:min=-1", "min must be a number"),
                List.of("p:min", "expected KEY=VALUE"),
                List.of("p:color=red", "unknown key color"),
                List.of("p:network=bridge", "network must be none, sandbox or host"),
                List.of("p:userns=half", "userns must be auto, full or single"),
                List.of("p:platform=xen", "platform must be ptrace, systrap, kvm"),
                List.of("p:memory=lots", "memory must be a size"),
                List.of("p:tmpfs=scratch", "must be an absolute path"),
                List.of("p:runsc=./runsc", "runsc ./runsc must be an absolute path"),
                List.of("p:rootfs=/,bundle=/b", "cannot be combined"),
                List.of("p:rootfs=/no/such/dir", "does not exist"))) {
            assertThatThrownBy(() -> PoolSpec.parse(c.get(0), dir)).as(c.get(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(c.get(1)).hasMessageStartingWith("--");
        }
    }

    @Test
    void theConfigurationFileNamesPoolsToo() throws Exception {
        Path f = dir.resolve("config.json");
        java.nio.file.Files.writeString(f, "{\"server\": \"on\", \"pools\": [\"a:min=1,max=2\", \"b:network=host\"]}");
        List<PoolSpec> p = dev.gvshim.container.RuntimeConfig.pools(f);
        assertThat(p).extracting(PoolSpec::name).containsExactly("a", "b");
        assertThat(p.get(1).template().network()).isEqualTo(Network.HOST);
        assertThat(dev.gvshim.container.RuntimeConfig.pools(dir.resolve("none.json"))).isEmpty();
        java.nio.file.Files.writeString(f, "{\"pools\": [\"a:min=3,max=2\"]}");
        assertThatThrownBy(() -> dev.gvshim.container.RuntimeConfig.pools(f))
                .isInstanceOfSatisfying(dev.gvshim.failure.GvshimException.class, e -> {
                    assertThat(e.failure().id()).isEqualTo("CONFIG_INVALID");
                    assertThat(e.failure().oneLine()).contains("\"pools\" in " + f + ": --pool a:min=3,max=2: min 3 is more than max 2");
                });
    }
}
