package dev.gvshim.userns;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SubIdsTest {
    private static final String FILE = """
            # comments and blank lines are skipped, as shadow does

            alice:100000:65536
            1001:200000:1000
            bob:165536:65536
            1001:300000:5000
            broken line
            carol:abc:10
            dave:10:0
            """;

    @Test
    void findsAUserByNameAndByUidInFileOrder() {
        SubIds s = SubIds.parse(FILE);
        assertThat(s.rangesFor("alice", 1000)).containsExactly(new SubIds.Range(100000, 65536));
        assertThat(s.rangesFor("eve", 1001)).containsExactly(new SubIds.Range(200000, 1000), new SubIds.Range(300000, 5000));
        assertThat(s.rangesFor("alice", 1001)).hasSize(3);
    }

    @Test
    void aUserWithNoEntryHasNoRanges() {
        assertThat(SubIds.parse(FILE).rangesFor("zoe", 4242)).isEmpty();
        assertThat(SubIds.EMPTY.rangesFor("alice", 1000)).isEmpty();
        assertThat(SubIds.parse("").entries()).isEmpty();
    }

    @Test
    void malformedAndEmptyRangesAreSkipped() {
        assertThat(SubIds.parse(FILE).entries()).extracting(SubIds.Entry::owner).containsExactly("alice", "1001", "bob", "1001");
        assertThat(SubIds.parse("x:4294967000:1000\n").entries()).as("beyond 2^32").isEmpty();
    }

    @Test
    void rangesKnowTheirEnd() {
        SubIds.Range r = new SubIds.Range(100000, 65536);
        assertThat(r.end()).isEqualTo(165536);
        assertThat(r.contains(165535)).isTrue();
        assertThat(r.contains(165536)).isFalse();
        assertThat(List.of(r)).hasSize(1);
    }
}
