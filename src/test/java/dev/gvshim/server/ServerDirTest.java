package dev.gvshim.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The server's file names: the C client computes the same (ClientTest compares them). */
class ServerDirTest {
    @Test
    void fnv1a64MatchesThePublishedTestVectors() {
        // Fowler/Noll/Vo's reference values of FNV-1a 64
        assertThat(ServerDir.fnv1a64(new byte[0])).isEqualTo(0xcbf29ce484222325L);
        assertThat(ServerDir.fnv1a64("a".getBytes(StandardCharsets.US_ASCII))).isEqualTo(0xaf63dc4c8601ec8cL);
        assertThat(ServerDir.fnv1a64("foobar".getBytes(StandardCharsets.US_ASCII))).isEqualTo(0x85944171f73967e8L);
    }

    @Test
    void theNameHasTheBuildsFirst16DigitsAndTheInstallationsHash() {
        assertThat(ServerDir.name("0123456789abcdef0123", "/opt/gvshim", 4026531837L))
                .matches("s-0123456789abcdef-[0-9a-f]{16}-4026531837");
        assertThat(ServerDir.name("0123456789abcdef0123", "/opt/gvshim", 1))
                .isNotEqualTo(ServerDir.name("0123456789abcdef0123", "/opt/gvshim2", 1));
        assertThat(ServerDir.name("dev", "", 7)).isEqualTo("s-dev-cbf29ce484222325-7");
        assertThat(ServerDir.ownUserns()).isPositive();
    }
}
