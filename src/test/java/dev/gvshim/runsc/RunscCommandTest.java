package dev.gvshim.runsc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The command lines {@link RunscCommand} builds for gvshim-nsexec. */
class RunscCommandTest {
    private static List<String> argv(String verb, RunscCommand.Stdio stdio, boolean log) {
        RunscCommand c = RunscCommand.of(Path.of("/usr/bin/runsc"), Path.of("/r")).verb(List.of(verb, "x")).stdio(stdio, null)
                .errorFile(Path.of("/r/e"));
        if (log) {
            c.log(Path.of("/r/x/runsc-1.log"), null);
        }
        return c.launch(Path.of("/n"), Map.of()).argv();
    }

    @Test
    void onlyCreatesStderrIsHeldUntilRunscExits() {
        // `create`: nothing on runsc's stderr is the container's before `start`; its error is in its --log
        assertThat(String.join(" ", argv("create", RunscCommand.Stdio.DETACH, true)))
                .startsWith("/n --relay detach --hold-stderr /r/x/runsc-1.log --error-file /r/e -- /usr/bin/runsc");
        // a process that runs while runsc does (run, restore, exec), or no log to say runsc's error: relayed as it comes
        assertThat(argv("run", RunscCommand.Stdio.DETACH, true)).doesNotContain("--hold-stderr");
        assertThat(argv("restore", RunscCommand.Stdio.DETACH, true)).doesNotContain("--hold-stderr");
        assertThat(argv("restore", RunscCommand.Stdio.WAIT, true)).doesNotContain("--hold-stderr");
        assertThat(argv("exec", RunscCommand.Stdio.WAIT, true)).doesNotContain("--hold-stderr");
        assertThat(argv("create", RunscCommand.Stdio.DETACH, false)).doesNotContain("--hold-stderr");
    }
}
