package dev.gvshim.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProcStatusTest {
    /** A non-root process in a default Docker container, as read there. */
    static final String DOCKER_APP = """
            Name:\tsh
            Uid:\t1000\t1000\t1000\t1000
            Gid:\t1000\t1000\t1000\t1000
            CapPrm:\t0000000000000000
            CapEff:\t0000000000000000
            CapBnd:\t00000000a80425fb
            NoNewPrivs:\t0
            Seccomp:\t2
            Seccomp_filters:\t1
            """;

    @Test
    void parsesADockerContainersProcess() {
        ProcStatus s = ProcStatus.parse(DOCKER_APP);
        assertThat(s.uid()).isEqualTo(1000);
        assertThat(s.seccompMode()).isEqualTo(2);
        assertThat(s.noNewPrivs()).isFalse();
        assertThat(s.inBounding(ProcStatus.CAP_SYS_ADMIN)).isFalse();
        assertThat(s.inBounding(ProcStatus.CAP_SETUID)).isTrue();
        assertThat(ProcStatus.capNames(s.capBnd())).containsExactly("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
                "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT",
                "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP");
        assertThat(ProcStatus.capNames(1L << 45)).containsExactly("CAP_45");
    }

    @Test
    void refusesTextWithoutIds() {
        assertThatThrownBy(() -> ProcStatus.parse("Name:\tx\n")).hasMessageContaining("no Uid/Gid");
    }
}
