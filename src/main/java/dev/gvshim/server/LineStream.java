package dev.gvshim.server;

import dev.gvshim.call.Call;
import dev.gvshim.pool.PoolSpec;
import dev.gvshim.pool.SandboxPools;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.List;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** An output stream that hands each line written to it to {@code sink} (the server's log). */
final class LineStream extends OutputStream {
    private final Consumer<String> sink;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    /**
     * The warm pools of `gvshim server run --pool`: their sandboxes boot through `gvshim run`'s
     * core with {@code base} (the server's own environment), whose output goes to the log.
     */
    static SandboxPools pools(List<PoolSpec> specs, Call base, ServerLog log) {
        PrintStream toLog = new PrintStream(new LineStream(log::line), true, StandardCharsets.UTF_8);
        Call call = base.withStdio(new Call.Stdio(InputStream.nullInputStream(), toLog, toLog, -1, -1, -1));
        specs.forEach(p -> log.line("pool " + p));
        return SandboxPools.start(specs, call, log::line);
    }

    LineStream(Consumer<String> sink) {
        this.sink = sink;
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            sink.accept(line.toString(StandardCharsets.UTF_8));
            line.reset();
        } else if (line.size() < 8192) {
            line.write(b);
        }
    }
}
