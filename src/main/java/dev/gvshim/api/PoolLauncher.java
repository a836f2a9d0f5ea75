package dev.gvshim.api;

import dev.gvshim.call.Handover;
import dev.gvshim.container.RunArgs;
import dev.gvshim.container.RunRequest;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import dev.gvshim.server.ApiSession;
import dev.gvshim.server.PoolRelay;
import dev.gvshim.server.ServerDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@link SandboxBuilder#pool}: the sandbox comes from a warm pool of this user's gvshim server,
 * which holds the pools (its children, booted ahead). The call is the server's own `gvshim run
 * --pool NAME` with the builder's settings as its options ({@link RunArgs}): the server checks the
 * profile, takes a ready sandbox and writes the command's process into it; the client this JVM
 * started (on the caller's redirects) connects to the server itself, forks `runsc exec` into the
 * sandbox and becomes gvshim-waiter, as `bin/gvshim run --pool` does ({@link PoolRelay}). A
 * refusal is the server's one line, read back into the same {@link Failure} (same id).
 */
final class PoolLauncher {
    private PoolLauncher() {
    }

    /** The user's server for this installation: where it listens, and what it must be told it is. */
    record Server(ServerDir where, String buildId, String home) {
    }

    /**
     * The server a pooled run goes to; POOL_NEEDS_SERVER when none runs (before anything is
     * started: its socket is missing).
     */
    static Server find(String pool, Path home, Map<String, String> env, int euid) throws SandboxException {
        String buildId;
        String real;
        try {
            buildId = Files.readString(home.resolve("lib/build-id")).strip();
            real = home.toRealPath().toString(); // the native client names its server after the real path (ServerDir.name)
        } catch (IOException e) {
            throw new SandboxException(Failure.of("INSTALL_BROKEN", "cannot find gvshim's build id", home.resolve("lib/build-id")
                    + ": " + e.getMessage(), "a pooled run talks to the gvshim server of this installation's build",
                    "check the installation at " + home));
        }
        ServerDir where = ServerDir.of(env, euid, buildId, real);
        if (where == null || !Files.exists(where.socket())) {
            throw needsServer(pool, "none runs for this user and installation");
        }
        return new Server(where, buildId, real);
    }

    /**
     * Serves the call through {@code s}'s client; returns what the client became. A refusal is
     * a SandboxException with the server's failure (the client is told to exit by the caller).
     */
    static Handover.Exec run(ApiSession s, Server server, RunRequest req, String pool, Path cwd, Map<String, String> env)
            throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(server.home(), "bin/gvshim").toString());
        try {
            argv.addAll(RunArgs.of(req, pool));
        } catch (IllegalArgumentException e) {
            throw new SandboxException(Failure.of("REQUEST_INVALID", "cannot run in the pool " + pool, null, e.getMessage(),
                    "correct the SandboxBuilder's settings, or run without pool()"));
        }
        PoolRelay.Outcome o = PoolRelay.call(s, server.where(), server.buildId(), server.home(), cwd.toString(), argv, env);
        return switch (o) {
            case PoolRelay.HandedOver h -> h.exec();
            case PoolRelay.NotServed n -> throw needsServer(pool, n.why());
            case PoolRelay.Refused r -> throw new SandboxException(refusal(r.stderr(), r.status(), pool));
        };
    }

    /** {@code gvshim run --pool}'s own failure (same id), for the API: the server is found, not started. */
    static SandboxException needsServer(String pool, String why) {
        return new SandboxException(Failure.of("POOL_NEEDS_SERVER", "cannot run in the pool " + pool, null,
                "pools live in the gvshim server, and " + why,
                "start one with the pool: gvshim server start --pool " + pool + ":min=2,max=8"));
    }

    /**
     * The server's failure line (the last line with an id: a warning may come first) as a
     * Failure; a refusal without one (a usage complaint, a server's crash) keeps its text.
     */
    static Failure refusal(String stderr, int status, String pool) {
        List<String> lines = stderr.lines().filter(l -> !l.isBlank()).toList();
        for (int i = lines.size() - 1; i >= 0; i--) {
            Failure f = Failure.parse(lines.get(i), status == 0 ? Exit.GVSHIM : status);
            if (f != null) {
                return f;
            }
        }
        return Failure.of("POOL_RUN_FAILED", "cannot run in the pool " + pool, "exit status " + status,
                lines.isEmpty() ? "the gvshim server ended the call without starting the command" : String.join("; ", lines),
                "see server.log in the server directory, or run without pool()");
    }
}
