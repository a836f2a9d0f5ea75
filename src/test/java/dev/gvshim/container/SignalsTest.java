package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** `runc kill ID SIGNAL` takes a number or a name, with or without SIG, in any case. */
class SignalsTest {
    @Test
    void numbersAreSignalsOneToSixtyFour() {
        assertThat(Signals.parse("9")).isEqualTo(9);
        assertThat(Signals.parse("1")).isEqualTo(1);
        assertThat(Signals.parse("15")).isEqualTo(15);
        assertThat(Signals.parse("64")).isEqualTo(64);
        assertThat(Signals.parse("09")).as("Go's strconv.Atoi reads a leading zero as decimal").isEqualTo(9);
    }

    @Test
    void namesWithOrWithoutSigInAnyCase() {
        for (String s : new String[] {"KILL", "SIGKILL", "kill", "sigkill", "SigKill"}) {
            assertThat(Signals.parse(s)).as(s).isEqualTo(9);
        }
        assertThat(Signals.parse("TERM")).isEqualTo(15);
        assertThat(Signals.parse("sigterm")).isEqualTo(15);
        assertThat(Signals.parse("HUP")).isEqualTo(1);
        assertThat(Signals.parse("SIGINT")).isEqualTo(2);
        assertThat(Signals.parse("USR1")).isEqualTo(10);
        assertThat(Signals.parse("SIGUSR2")).isEqualTo(12);
        assertThat(Signals.parse("CHLD")).isEqualTo(17);
        assertThat(Signals.parse("STOP")).isEqualTo(19);
        assertThat(Signals.parse("CONT")).isEqualTo(18);
        assertThat(Signals.parse("WINCH")).isEqualTo(28);
        assertThat(Signals.parse("SYS")).isEqualTo(31);
        assertThat(Signals.parse("IOT")).as("alias of ABRT").isEqualTo(Signals.parse("ABRT")).isEqualTo(6);
        assertThat(Signals.parse("POLL")).as("alias of IO").isEqualTo(Signals.parse("IO")).isEqualTo(29);
    }

    @Test
    void realtimeSignalsCountFromGlibcsRtmin() {
        // glibc reserves 32 and 33 for NPTL: SIGRTMIN is 34 for programs, and SIGRTMAX 64
        assertThat(Signals.parse("RTMIN")).isEqualTo(34);
        assertThat(Signals.parse("SIGRTMIN")).isEqualTo(34);
        assertThat(Signals.parse("RTMIN+1")).isEqualTo(35);
        assertThat(Signals.parse("sigrtmin+3")).isEqualTo(37);
        assertThat(Signals.parse("RTMIN+30")).isEqualTo(64);
        assertThat(Signals.parse("RTMAX")).isEqualTo(64);
        assertThat(Signals.parse("SIGRTMAX-1")).isEqualTo(63);
        assertThat(Signals.parse("RTMAX-30")).isEqualTo(34);
    }

    @Test
    void everythingElseIsRejected() {
        for (String s : new String[] {null, "", "0", "65", "-9", "+9", "9x", "99999999999999999999", "SIG", "SIGSIGKILL",
                "KIL", "SIGFOO", "RTMIN+", "RTMIN+31", "RTMIN-1", "RTMIN+x", "RTMIN+100", "RTMAX-31", "RTMAX+1", "RTMAX-",
                " KILL", "KILL "}) {
            assertThat(Signals.parse(s)).as(String.valueOf(s)).isEqualTo(-1);
        }
    }
}
