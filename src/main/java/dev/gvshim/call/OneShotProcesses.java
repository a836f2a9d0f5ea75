package dev.gvshim.call;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * {@link Processes} of a one-shot gvshim: the JDK's process API. Not an FFM clone: a runtime
 * verb is a fresh JVM, where linking FFM downcalls (~45 ms of generated stubs, which the AOT
 * cache cannot keep) would cost twice what `runsc state` itself takes. No Java runs in the
 * child either way. INHERIT gives the program this process's own descriptors 0-2, which in a
 * one-shot gvshim are the caller's.
 */
public final class OneShotProcesses implements Processes {
    private final Trace trace;

    public OneShotProcesses(Trace trace) {
        this.trace = trace;
    }

    @Override
    public Launch.Ran run(Launch launch) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(launch.argv());
        pb.environment().clear();
        pb.environment().putAll(launch.env());
        switch (launch.stdio()) {
            // stdin: an empty pipe (closed below), not /dev/null: the program gets no file of the host's
            case LINES -> pb.redirectError(ProcessBuilder.Redirect.DISCARD);
            case CAPTURE -> pb.redirectErrorStream(true);
            case INHERIT, FOREGROUND -> pb.inheritIO();
        }
        trace.mark("spawning " + launch.argv().getFirst());
        // held from before the start: its process may run (and a caller signal it) before its pid is known here
        boolean forwarding = launch.stdio() == Launch.Stdio.FOREGROUND && forward(-1);
        Process p;
        try {
            p = pb.start();
        } catch (IOException | RuntimeException e) {
            if (forwarding) {
                forward(0);
            }
            throw e;
        }
        trace.mark("spawned");
        if (forwarding) {
            forward((int) p.pid());
        }
        String out = "";
        if (launch.stdio() != Launch.Stdio.INHERIT && launch.stdio() != Launch.Stdio.FOREGROUND) {
            p.getOutputStream().close();
        }
        if (launch.stdio() == Launch.Stdio.LINES) {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    launch.lines().accept(line);
                }
            }
        } else if (launch.stdio() == Launch.Stdio.CAPTURE) {
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }
        int code = waitFor(p);
        if (forwarding) {
            forward(0); // what comes after its exit is dropped, as runc ignores signals once the process has exited
        }
        trace.mark("exited");
        return new Launch.Ran(code, out);
    }

    /**
     * The caller's process is this JVM: the signals it receives go to {@code pid} (0: dropped; -1:
     * held until a pid is given).
     * Without libgvshim.so (a JVM not started by the launcher) they are not forwarded: the JVM's
     * own handling stays, as before this existed. Whether forwarding is on.
     */
    private boolean forward(int pid) {
        try {
            dev.gvshim.linux.Linux.forwardSignals(pid);
            trace.mark(pid > 0 ? "signals forwarded to " + pid : "signals dropped");
            return true;
        } catch (dev.gvshim.linux.SyscallException | LinkageError | IllegalStateException e) {
            trace.mark("signals not forwarded: " + e.getMessage());
            return false;
        }
    }

    private static int waitFor(Process p) {
        while (true) {
            try {
                return p.waitFor();
            } catch (InterruptedException e) {
                // a call's program is never interrupted on purpose: keep waiting for it
            }
        }
    }
}
