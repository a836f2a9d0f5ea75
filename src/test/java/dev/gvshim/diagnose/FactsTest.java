package dev.gvshim.diagnose;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class FactsTest {
    /** Files.readString reads /proc/sys files one byte first, and sysctls answer reads past 0 with EOF. */
    @Test
    void readsWholeSysctlValues() throws Exception {
        Process cat = new ProcessBuilder("cat", "/proc/sys/kernel/pid_max").start();
        String expected = new String(cat.getInputStream().readAllBytes()).strip();
        assertThat(expected).hasSizeGreaterThan(1);
        assertThat(Facts.string(Path.of("/"), "proc/sys/kernel/pid_max")).isEqualTo(expected);
        assertThat(Facts.number(Path.of("/"), "proc/sys/kernel/pid_max")).isEqualTo(Long.parseLong(expected));
        assertThat(Facts.string(Path.of("/"), "proc/sys/no/such/file")).isNull();
    }
}
