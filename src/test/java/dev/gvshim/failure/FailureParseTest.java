package dev.gvshim.failure;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Failure#parse}: a line another process printed with {@link Failure#oneLine()}, read back. */
class FailureParseTest {
    @Test
    void everyShapeOfOneLineComesBackAsItWas() {
        List<Failure> all = List.of(
                Failure.of("POOL_UNKNOWN", "cannot run in the pool nope", null, "the gvshim server has no pool of that name (its"
                        + " pools: p)", "restart it with the pool: gvshim server stop; gvshim server start --pool nope:min=2,max=8"),
                Failure.of("RUNSC_FAILED", "cannot start the sandbox", "open(/a:b): ENOENT (No such file)", "runsc: it said: no",
                        "see runsc.log"),
                Failure.of("X_ONLY", "cannot do it", null, null, null),
                Failure.of("NO_FIX", "cannot do it", null, "because: it is so", null),
                Failure.of("NO_WHY", "cannot do it", "[x] y", null, "try. Fix: again"));
        for (Failure f : all) {
            Failure back = Failure.parse(f.oneLine() + "\n", 125);
            assertThat(back).as(f.oneLine()).isNotNull();
            assertThat(back.oneLine()).isEqualTo(f.oneLine());
            assertThat(back.id()).isEqualTo(f.id());
            assertThat(back.exitCode()).isEqualTo(125);
        }
        Failure p = Failure.parse(all.get(1).oneLine(), 125);
        assertThat(p.what()).isEqualTo("cannot start the sandbox");
        assertThat(p.evidence()).isEqualTo("open(/a:b): ENOENT (No such file)");
        assertThat(p.why()).isEqualTo("runsc: it said: no");
        assertThat(p.fix()).isEqualTo("see runsc.log");
        assertThat(Failure.parse(all.getFirst().oneLine(), 125)).isEqualTo(all.getFirst());
    }

    @Test
    void aLineWithoutAnIdIsNotAFailure() {
        assertThat(Failure.parse("gvshim run: --cwd x: must be an absolute path", 125)).isNull();
        assertThat(Failure.parse("hello [NOT_GVSHIM]", 125)).isNull();
        assertThat(Failure.parse("", 125)).isNull();
    }
}
