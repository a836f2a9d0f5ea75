package dev.gvshim.container;

import dev.gvshim.call.Call;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * `gvshim ps`, `logs`, `stop` and `rm` on the detached sandboxes ({@link Sandboxes}): each one
 * call of the runtime verbs' core (its state through runsc's `state`, Kill, Delete) in the
 * default runtime state directory.
 */
public final class SandboxOps {
    private SandboxOps() {
    }

    /** A sandbox and its status (created, running, paused, stopped; "removed" when its container is gone). */
    public record Listed(Sandboxes.Record record, String status) {
        public boolean active() {
            return SandboxOps.active(status);
        }
    }

    static boolean active(String status) {
        return status.equals("running") || status.equals("created") || status.equals("paused");
    }

    private static RuntimeCall call(Call call) throws GvshimException {
        return new RuntimeCall(call, Detach.options(null, null, null, false));
    }

    /** Every detached sandbox of the caller, oldest first, with its status. */
    public static List<Listed> list(Call call) throws GvshimException {
        try (RuntimeCall rc = call(call)) {
            List<Listed> out = new ArrayList<>();
            for (Sandboxes.Record r : new Sandboxes(rc.root()).all()) {
                out.add(new Listed(r, status(rc, r.id())));
            }
            return out;
        }
    }

    static String status(RuntimeCall rc, String id) throws GvshimException {
        Container ct = rc.store.load(id);
        if (ct == null) {
            return "removed";
        }
        String s = rc.lookup.status(ct);
        return s == null || s.isEmpty() ? "stopped" : s;
    }

    /** The sandbox {@code word} names (its name, id or a unique id prefix), or the one-line refusal. */
    public static Sandboxes.Record find(Sandboxes sb, String word) throws GvshimException {
        Sandboxes.Record r = sb.find(word);
        if (r == null) {
            throw new GvshimException(Failure.of("SANDBOX_NOT_FOUND", "cannot find sandbox " + word, null,
                    "no detached sandbox of yours has this name or id", "`gvshim ps -a` lists them"));
        }
        return r;
    }

    /** The id {@code word} names among the detached sandboxes, or null (then it may be a runtime container's own id). */
    public static String idOf(Call call, String word) throws GvshimException {
        try (RuntimeCall rc = call(call)) {
            Sandboxes.Record r = new Sandboxes(rc.root()).find(word);
            return r == null ? null : r.id();
        }
    }

    /** The spec file of a detached sandbox (its process is what `gvshim exec -t` starts from), or null. */
    public static java.nio.file.Path bundleSpec(Call call, String id) throws GvshimException {
        try (RuntimeCall rc = call(call)) {
            java.nio.file.Path p = new Sandboxes(rc.root()).bundle(id).resolve("config.json");
            return Files.isRegularFile(p) ? p : null;
        }
    }

    /**
     * `gvshim stop`: SIGTERM to the command, then SIGKILL after {@code grace} if it still runs
     * (docker stop's order); the sandbox's name.
     */
    public static String stop(Call call, String word, Duration grace) throws GvshimException {
        try (RuntimeCall rc = call(call)) {
            Sandboxes.Record r = find(new Sandboxes(rc.root()), word);
            if (active(status(rc, r.id()))) {
                signal(rc, r.id(), "SIGTERM");
                if (!waitStopped(rc, r.id(), grace)) {
                    signal(rc, r.id(), "SIGKILL");
                    waitStopped(rc, r.id(), Duration.ofSeconds(10));
                }
            }
            return r.name();
        }
    }

    private static void signal(RuntimeCall rc, String id, String sig) throws GvshimException {
        try {
            Kill.run(rc, id, sig, false);
        } catch (GvshimException e) {
            if (active(status(rc, id))) {
                throw e; // not "it ended meanwhile"
            }
        }
    }

    /** Whether the sandbox stopped within {@code limit} (its status polled every 100 ms). */
    private static boolean waitStopped(RuntimeCall rc, String id, Duration limit) throws GvshimException {
        long end = System.nanoTime() + limit.toNanos();
        while (active(status(rc, id))) {
            if (System.nanoTime() >= end) {
                return false;
            }
            sleep(100);
        }
        return true;
    }

    /**
     * `gvshim rm`: the container deleted (runsc's state, its sandbox, a rootless holder) and what
     * `run -d` kept; a running one only with {@code force} (SIGKILL first). {@code onExit} (the
     * relay of a --rm sandbox, once its output has ended): waits for the sandbox to stop, and
     * a sandbox already removed is no failure. The sandbox's name.
     */
    public static String rm(Call call, String word, boolean force, boolean onExit) throws GvshimException {
        try (RuntimeCall rc = call(call)) {
            Sandboxes sb = new Sandboxes(rc.root());
            Sandboxes.Record r = onExit ? sb.find(word) : find(sb, word);
            if (r == null) {
                return word;
            }
            String status = status(rc, r.id());
            while (onExit && active(status)) {
                sleep(1000); // its output closed before its end (the command closed its stdout and stderr)
                status = status(rc, r.id());
            }
            if (active(status)) {
                if (!force) {
                    throw new GvshimException(Failure.of("SANDBOX_RUNNING", "cannot remove sandbox " + r.name(), null,
                            "it is " + status, "stop it first (gvshim stop " + r.name() + "), or use gvshim rm -f " + r.name()));
                }
                signal(rc, r.id(), "SIGKILL");
                waitStopped(rc, r.id(), Duration.ofSeconds(10));
            }
            if (rc.store.load(r.id()) != null || rc.store.exists(r.id())) {
                Delete.run(rc, r.id(), true);
            }
            sb.remove(r.id(), r.name());
            return r.name();
        }
    }

    /**
     * `gvshim logs`: the sandbox's output so far to {@code out}; {@code follow}: then what comes,
     * until the sandbox has stopped and its log has no more (polled every 200 ms, as `tail -f`
     * does without inotify).
     */
    public static void logs(Call call, String word, boolean follow, OutputStream out) throws GvshimException, IOException {
        try (RuntimeCall rc = call(call)) {
            Sandboxes sb = new Sandboxes(rc.root());
            Sandboxes.Record r = find(sb, word);
            long at = 0;
            for (;;) {
                boolean ended = !follow || !active(status(rc, r.id()));
                at = copy(sb, r.id(), at, out);
                if (ended) {
                    return;
                }
                sleep(200);
            }
        }
    }

    /** Copies the log from {@code from} on; where it ends now. */
    private static long copy(Sandboxes sb, String id, long from, OutputStream out) throws IOException {
        try (InputStream in = Files.newInputStream(sb.log(id))) {
            in.skipNBytes(from);
            long n = in.transferTo(out);
            out.flush();
            return from + n;
        } catch (NoSuchFileException | java.io.EOFException e) {
            return from; // not written yet, or removed meanwhile
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
