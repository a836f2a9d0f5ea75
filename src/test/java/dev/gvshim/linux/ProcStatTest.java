package dev.gvshim.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProcStatTest {
    @Test
    void theStartTimeIsField22CountedAfterTheCommandName() {
        // a command name with a space and a parenthesis: fields are counted from the last ')'
        String stat = "4242 (a b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000000 100 18446744073709551615";
        assertThat(ProcStat.parseStartTime(stat)).isEqualTo(987654);
        assertThatThrownBy(() -> ProcStat.parseStartTime("garbage")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void thisProcessHasOneAndAGonePidHasNone() {
        long self = ProcessHandle.current().pid();
        assertThat(ProcStat.startTime(self)).isPositive().isEqualTo(ProcStat.startTime(self));
        assertThat(ProcStat.startTime(999_999_999)).isEqualTo(-1);
    }

    @Test
    void aZombieOrAnotherStartTimeIsNotRunning() {
        String stat = "4242 (a b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000000 100 18446744073709551615";
        assertThat(ProcStat.running(stat, 987654)).isTrue();
        assertThat(ProcStat.running(stat, 987655)).as("a pid reused").isFalse();
        assertThat(ProcStat.running(stat.replace(") S ", ") Z "), 987654)).as("a zombie").isFalse();
        long self = ProcessHandle.current().pid();
        assertThat(ProcStat.running(self, ProcStat.startTime(self))).isTrue();
        assertThat(ProcStat.running(999_999_999, 1)).isFalse();
    }

    @Test
    void parentOfCountsFieldsAfterTheLastParenthesis(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path stat = tmp.resolve("stat");
        java.nio.file.Files.writeString(stat, "4242 (a) b (c) S 17 4242 0 0 -1 4194560\n");
        assertThat(ProcStat.parentOf(stat)).isEqualTo(17);
        java.nio.file.Files.writeString(stat, "garbage");
        assertThat(ProcStat.parentOf(stat)).isEqualTo(-1);
        assertThat(ProcStat.parentOf(tmp.resolve("gone"))).isEqualTo(-1);
    }

    @Test
    void theStateIsTheFieldAfterTheLastParenthesisAndGarbageIsDead() {
        assertThat(ProcStat.state("4242 (a) Z) S 1 4242")).as("a command name that looks like a state").isEqualTo('S');
        assertThat(ProcStat.state("4242 (sleep) S 1 4242")).isEqualTo('S');
        assertThat(ProcStat.state("garbage")).isEqualTo('X');
        assertThat(ProcStat.state("4242 (cut")).isEqualTo('X');
        assertThat(ProcStat.state("4242 (cut)")).as("nothing after the name").isEqualTo('X');
    }
}
