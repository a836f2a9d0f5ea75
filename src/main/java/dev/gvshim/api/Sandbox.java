package dev.gvshim.api;

import dev.gvshim.call.Handover;
import dev.gvshim.container.RunDir;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The {@link Process} {@link SandboxBuilder#start()} returns: the JDK's own Process of
 * gvshim-waiter (its streams, pid, exit status), and what a killed waiter cannot do for itself.
 * A SIGKILLed waiter leaves its run directory (runsc's state, the spec, the logs), and runsc's
 * processes die only by PR_SET_PDEATHSIG, asynchronously: {@link #destroyForcibly()} kills
 * runsc's whole tree first, and the run directory is removed before {@link #waitFor()} returns.
 * A warm pool's sandbox ({@link SandboxBuilder#pool}) belongs to the user's gvshim server, which
 * destroys it once the waiter is gone; runsc here is the command's {@code runsc exec}.
 */
final class Sandbox extends Process {
    private static final long GONE_MILLIS = 10_000;
    private final Process waiter;
    private final Path runDir;
    /** runsc's handle, taken at the start: a handle keeps its start time, so a reused pid is never killed */
    private final Optional<ProcessHandle> runsc;
    private final CompletableFuture<Process> exited;
    /** a warm pool's sandbox: the user's gvshim server owns it, and destroys it once the waiter is gone */
    private final boolean pooled;
    private volatile boolean forced;

    Sandbox(Process waiter, Handover.Exec exec, boolean pooled) {
        this.waiter = waiter;
        this.pooled = pooled;
        List<String> argv = exec.argv();
        int i = argv.indexOf("--run-dir");
        this.runDir = i < 0 ? null : Path.of(argv.get(i + 1));
        this.runsc = ProcessHandle.of(exec.child());
        this.exited = waiter.onExit().thenApplyAsync(p -> {
            cleanUp();
            return this;
        });
    }

    /**
     * After the waiter: its run directory is gone, unless it was killed before it could remove
     * it; then once runsc is gone (nothing writes there any more) it is collected as the next
     * `gvshim run` would (its owner, the waiter, is dead). A pooled sandbox is the server's: it
     * destroys it (its pool's keeper looks every 100 ms for takers that are gone) and its run
     * directory, which a command's end does not wait for; after {@link #destroyForcibly()} it is
     * waited for, and collected here only if that does not happen in time (the server died too).
     */
    private void cleanUp() {
        if (runDir == null || !Files.exists(runDir)) {
            return;
        }
        tree().forEach(ProcessHandle::destroyForcibly);
        if (pooled && !forced) {
            return;
        }
        long end = System.nanoTime() + GONE_MILLIS * 1_000_000;
        while ((runsc.isPresent() && runsc.get().isAlive() || pooled && Files.exists(runDir)) && System.nanoTime() < end) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (Files.exists(runDir)) {
            RunDir.collectGarbage(runDir.getParent());
        }
    }

    /** runsc and everything below it (the sandbox, the gofer, their stubs), while runsc lives. */
    private List<ProcessHandle> tree() {
        return runsc.filter(ProcessHandle::isAlive).map(h -> Stream.concat(h.descendants(), Stream.of(h)).toList()).orElse(List.of());
    }

    @Override
    public OutputStream getOutputStream() {
        return waiter.getOutputStream();
    }

    @Override
    public InputStream getInputStream() {
        return waiter.getInputStream();
    }

    @Override
    public InputStream getErrorStream() {
        return waiter.getErrorStream();
    }

    @Override
    public int waitFor() throws InterruptedException {
        waiter.waitFor();
        try {
            exited.get();
        } catch (java.util.concurrent.ExecutionException e) {
            // the clean-up failed: the next run collects what is left
        }
        return waiter.exitValue();
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        long end = System.nanoTime() + unit.toNanos(timeout);
        if (!waiter.waitFor(timeout, unit)) {
            return false;
        }
        try {
            exited.get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (java.util.concurrent.ExecutionException e) {
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    @Override
    public int exitValue() {
        if (!exited.isDone()) {
            throw new IllegalThreadStateException("the sandbox has not exited");
        }
        return waiter.exitValue();
    }

    @Override
    public boolean isAlive() {
        return !exited.isDone();
    }

    /**
     * SIGTERM to the waiter, which forwards it to the command (runsc kill). Unlike the JDK's own
     * Process, the streams stay open: what the command writes as it ends can still be read, and
     * they end when the sandbox has.
     */
    @Override
    public void destroy() {
        waiter.toHandle().destroy();
    }

    /** SIGKILL to runsc's tree, then to the waiter: the sandbox dies now, its state goes with it. */
    @Override
    public Process destroyForcibly() {
        List<ProcessHandle> sandbox = tree(); // before the waiter dies: runsc's children are still its own
        forced = true;
        waiter.destroyForcibly();
        sandbox.forEach(ProcessHandle::destroyForcibly);
        return this;
    }

    @Override
    public boolean supportsNormalTermination() {
        return true;
    }

    @Override
    public long pid() {
        return waiter.pid();
    }

    @Override
    public ProcessHandle toHandle() {
        return waiter.toHandle();
    }

    @Override
    public CompletableFuture<Process> onExit() {
        return exited;
    }

    @Override
    public ProcessHandle.Info info() {
        return waiter.info();
    }

    @Override
    public Stream<ProcessHandle> children() {
        return waiter.children();
    }

    @Override
    public Stream<ProcessHandle> descendants() {
        return waiter.descendants();
    }

    @Override
    public String toString() {
        return "Sandbox[pid=" + pid() + ", exitValue=" + (exited.isDone() ? waiter.exitValue() : "running") + "]";
    }
}
