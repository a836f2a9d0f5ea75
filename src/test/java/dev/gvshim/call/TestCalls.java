package dev.gvshim.call;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Calls for unit tests: a caller in {@code cwd} with {@code env}, its output in memory, programs started by {@code processes}. */
public final class TestCalls {
    private TestCalls() {
    }

    /** A call whose stdout and stderr are discarded, with this process's own identity and the one-shot process API. */
    public static Call of(Path cwd, Map<String, String> env) {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        return of(cwd, env, sink, sink, new OneShotProcesses(Trace.off()));
    }

    public static Call of(Path cwd, Map<String, String> env, PrintStream out, PrintStream err, Processes processes) {
        return new Call("test", env, cwd, new Call.Stdio(new ByteArrayInputStream(new byte[0]), out, err, 0, 1, 2),
                () -> (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"), null, null, processes,
                e -> {
                    throw new AssertionError("a unit test hands nothing over: " + e.argv());
                }, Trace.off());
    }
}
