package dev.gvshim.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the server may act for a caller: the same namespaces, privileges and security label (a fake /proc). */
class PeerContextTest {
    @TempDir
    Path proc;

    private void process(String pid, String netns, String capEff, String label) throws IOException {
        Path p = Files.createDirectories(proc.resolve(pid).resolve("ns"));
        for (String ns : new String[] {"mnt", "user", "pid", "uts", "ipc", "cgroup"}) {
            Files.createSymbolicLink(p.resolve(ns), Path.of(ns + ":[4026531840]"));
        }
        Files.createSymbolicLink(p.resolve("net"), Path.of("net:[" + netns + "]"));
        Files.writeString(proc.resolve(pid).resolve("status"), "Name:\tgvshim\nCapPrm:\t0\nCapEff:\t" + capEff
                + "\nCapBnd:\t1ff\nCapAmb:\t0\nNoNewPrivs:\t0\nSeccomp:\t0\n");
        if (label != null) {
            Files.createDirectories(proc.resolve(pid).resolve("attr"));
            Files.writeString(proc.resolve(pid).resolve("attr/current"), label + "\n");
        }
    }

    @Test
    void theSameContextIsServedAnyDifferenceIsNamed() throws Exception {
        process("self", "4026531992", "0", null);
        process("10", "4026531992", "0", null);
        process("11", "4026532000", "0", null);
        process("12", "4026531992", "1ff", null);
        process("13", "4026531992", "0", "docker-default (enforce)");
        PeerContext c = new PeerContext(proc);
        assertThat(c.differs(10)).isNull();
        assertThat(c.differs(11)).isEqualTo("the caller's net net:[4026532000] is not the server's net net:[4026531992]");
        assertThat(c.differs(12)).isEqualTo("the caller's CapEff: 1ff is not the server's CapEff: 0");
        assertThat(c.differs(13)).isEqualTo("the caller's label docker-default (enforce) is not the server's label none");
        assertThat(c.differs(0)).isEqualTo("the caller is in a pid namespace the server cannot see");
        assertThat(c.differs(99)).startsWith("cannot read /proc/99");
    }
}
