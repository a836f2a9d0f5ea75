package dev.gvshim.linux;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** GVSHIM_TRACE and GVSHIM_PROFILE: set to something, on; unset, empty or 0, off (`GVSHIM_TRACE= cmd` switches it off). */
class TraceTest {
    @Test
    void onlyANonEmptyValueOtherThanZeroTurnsItOn() {
        assertThat(Trace.enabled(null)).isFalse();
        assertThat(Trace.enabled("")).isFalse();
        assertThat(Trace.enabled("0")).isFalse();
        assertThat(Trace.enabled("1")).isTrue();
        assertThat(Trace.enabled("wait")).isTrue();
        assertThat(Trace.enabled("yes")).isTrue();
    }
}
