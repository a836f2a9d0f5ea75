package dev.gvshim.api;

import dev.gvshim.call.Call;
import dev.gvshim.call.Handover;
import dev.gvshim.container.RunForeground;
import dev.gvshim.container.RunRequest;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.server.ApiSession;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@link SandboxBuilder#start()}: this JVM serves `gvshim run`'s server path for one call
 * ({@link ApiSession}), whose client, {@code bin/gvshim __sandbox SOCKET}, is started with
 * java.lang.ProcessBuilder on the caller's redirects and becomes gvshim-waiter (same pid):
 *
 * <pre>
 *  this JVM                                   bin/gvshim __sandbox (ProcessBuilder's child)
 *  listen on a socket in a new 0700 dir
 *  ProcessBuilder.start() ----------------->  connect, send its stdio (the caller's redirects)
 *  RunForeground: plan, clone, map, spec
 *  USERNS_SPAWN ---------------------------->  fork runsc into the namespaces (its child)
 *  EXEC ------------------------------------>  execve gvshim-waiter: relays, signals, timeout, cleanup
 *  return the Process of that pid
 * </pre>
 *
 * With {@link SandboxBuilder#pool}, the call is the user's gvshim server's `run --pool` instead of
 * RunForeground here: {@link PoolLauncher}.
 */
final class Launcher {
    /** How long a client told to exit may take before it is killed. */
    private static final long REAP_SECONDS = 10;
    private final SandboxBuilder b;

    Launcher(SandboxBuilder b) {
        this.b = b;
    }

    Process start() throws IOException {
        RunRequest req;
        try {
            req = b.request();
        } catch (IllegalArgumentException e) {
            throw new SandboxException(Failure.of("REQUEST_INVALID", "cannot start the sandbox", null, e.getMessage(),
                    "correct the SandboxBuilder's settings"));
        }
        Path home = b.home();
        if (home == null || !Files.isExecutable(home.resolve("bin/gvshim"))) {
            throw new SandboxException(Failure.of("INSTALL_BROKEN", "cannot find gvshim's installation",
                    home == null ? null : home.resolve("bin/gvshim") + " is not executable",
                    "the API runs the installation's native helpers (bin/gvshim, libexec/)",
                    "set the system property gvshim.home to the installation directory, or call SandboxBuilder.home(dir)"));
        }
        int euid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        Map<String, String> env = Map.copyOf(b.hostEnvironment());
        Path cwd = Path.of(System.getProperty("user.dir"));
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        // a pooled run: the user's server must run (found before anything is started)
        PoolLauncher.Server server = b.pool() == null ? null : PoolLauncher.find(b.pool(), home, env, euid);
        ApiSession s;
        try {
            s = ApiSession.listen(tmp);
        } catch (IOException e) {
            throw new SandboxException(Failure.of("RUN_DIR_WRITE", "cannot make the sandbox's socket in " + tmp, e.getMessage(),
                    "the API talks to its native helper over a unix socket in a new directory there (a path of at most"
                            + " 107 bytes)", "set java.io.tmpdir to a short directory this user can write to"));
        }
        Process p = null;
        try {
            ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/gvshim").toString(), "__sandbox", s.socket().toString());
            Redirect[] r = b.redirects();
            pb.redirectInput(r[0]).redirectOutput(r[1]).redirectError(r[2]).redirectErrorStream(b.redirectErrorStream());
            pb.environment().clear();
            pb.environment().putAll(env);
            pb.directory(cwd.toFile());
            p = pb.start();
            s.accept(p.toHandle(), euid);
            Handover.Exec waiter;
            if (server == null) {
                Call call = s.call(env, cwd, home, euid);
                new RunForeground(call, req).run();
                waiter = s.handedOver();
            } else {
                waiter = PoolLauncher.run(s, server, req, b.pool(), cwd, env);
            }
            s.close();
            Process started = new Sandbox(p, waiter, server != null);
            p = null;
            return started;
        } catch (GvshimException e) {
            s.fail(e.failure().exitCode());
            throw new SandboxException(e.failure());
        } catch (SandboxException e) {
            s.fail(e.failure().exitCode());
            throw e;
        } catch (IOException e) {
            if (p == null) {
                throw new SandboxException(Failure.of("INSTALL_BROKEN", "cannot start " + home.resolve("bin/gvshim"),
                        e.getMessage(), null, "check the installation at " + home));
            }
            throw new SandboxException(Failure.of("SERVER_DIED", "cannot start the sandbox", e.getMessage(),
                    "the sandbox's client (bin/gvshim __sandbox) ended or did not answer", "start the sandbox again"));
        } finally {
            s.close();
            if (p != null) {
                reap(p);
            }
        }
    }

    /** The client of a failed start: it exits (told to, or its connection closed); killed if it does not. */
    private static void reap(Process p) {
        try {
            if (!p.waitFor(REAP_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** The system property gvshim.home, else the installation whose lib/ holds the jar this class came from. */
    static Path findHome() {
        String prop = System.getProperty("gvshim.home");
        if (prop != null && !prop.isEmpty()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        try {
            var src = SandboxBuilder.class.getProtectionDomain().getCodeSource();
            if (src != null) {
                Path jar = Path.of(src.getLocation().toURI());
                Path home = jar.getParent() == null ? null : jar.getParent().getParent();
                if (home != null && Files.isExecutable(home.resolve("bin/gvshim"))) {
                    return home;
                }
            }
        } catch (URISyntaxException | RuntimeException e) {
            // not from a file: no installation to find
        }
        return null;
    }
}
