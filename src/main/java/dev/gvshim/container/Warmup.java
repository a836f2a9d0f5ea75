package dev.gvshim.container;

import dev.gvshim.call.Trace;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Started before a runc verb's arguments are parsed, on the second core: class initialisation
 * the call will need, interpreted, while the main thread parses arguments. Every verb spawns
 * runsc, and JDK 25's ProcessBuilder.start asks for a System.Logger, whose first lookup scans
 * every jar on the class path for a LoggerFinder service (~8 ms); create and run read
 * config.json, and jackson-core's parser's static constants pull in BigDecimal and BigInteger
 * (~8 ms). The main thread then finds the classes initialised, or waits for the rest. Once per
 * process is enough (a second call finds them initialised).
 */
public final class Warmup {
    private Warmup() {
    }

    /** What has been started in this JVM (1: process spawning, 2: spec reading): a server's calls find it done. */
    private static final java.util.concurrent.atomic.AtomicInteger STARTED = new java.util.concurrent.atomic.AtomicInteger();

    public static void start(Trace trace, boolean specReading) {
        int want = specReading ? 3 : 1;
        int had = STARTED.getAndUpdate(v -> v | want);
        if ((had & want) == want) {
            return; // class initialisation is once per JVM: a long-lived server warmed up at its first calls
        }
        Thread t = new Thread(() -> {
            try {
                if (specReading) { // first: config.json is read before runsc is spawned
                    JsonTree.read("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"true\"],\"x\":1.5,\"y\":null}}"
                            .getBytes(StandardCharsets.UTF_8));
                    trace.mark("warmed up: spec reading");
                }
                System.getLogger("java.lang.ProcessBuilder");
                Class.forName("java.lang.ProcessImpl", true, null);
                new ProcessBuilder().environment();
            } catch (IOException | ClassNotFoundException e) {
                // not reached: the class exists and the document is valid
            }
            trace.mark("warmed up");
        }, "gvshim-warm-up");
        t.setDaemon(true);
        t.start();
    }
}
