package dev.gvshim.api;

import dev.gvshim.container.RunRequest;
import dev.gvshim.failure.Failure;
import dev.gvshim.pool.PoolSpec;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A warm pool of sandboxes, configured from Java: sandboxes booted ahead with one profile, each
 * used by one command and destroyed after it, refilled in the background.
 *
 * <pre>{@code
 * SandboxBuilder profile = new SandboxBuilder("python3").rootfs(Path.of("/srv/py-root"));
 * try (SandboxPool pool = SandboxPool.start("py", profile, 2, 8)) {
 *     Process p = pool.command("python3", "job.py").start();   // a SandboxBuilder: redirects, timeout...
 *     int status = p.waitFor();
 * }
 * }</pre>
 *
 * <p>The pool lives in this user's gvshim server (started if none runs), as {@code gvshim server
 * add-pool} makes it: pooled sandboxes are the server's children, shared by every caller of the
 * user, and shown by {@code gvshim server status}. It belongs to this JVM: {@link #close()} removes
 * it (its sandboxes, ready and in use, are destroyed), and so does this JVM's end, whatever it
 * was (the server watches the process). {@link #start} returns once {@code min} sandboxes are
 * ready, or throws why the pool cannot fill, with {@code gvshim doctor}'s id.
 *
 * <p>The profile is a {@link SandboxBuilder}'s sandbox options: root file system or bundle,
 * mounts, tmpfs, network, user-namespace mode, platform, runsc, state directory, hostname. Its
 * command is not used; {@link #command} gives a builder with all of the profile's settings (its
 * environment, directory, timeout and redirects too) for each command; the commands run in
 * {@code /} unless the profile sets a directory. Thread-safe.
 */
public final class SandboxPool implements AutoCloseable {
    /** How long {@link #start} waits for {@code min} sandboxes to be ready. */
    public static final Duration READY_WAIT = Duration.ofSeconds(120);

    private final String name;
    private final SandboxBuilder profile;
    private final Path home;
    private volatile boolean closed;

    private SandboxPool(String name, SandboxBuilder profile, Path home) {
        this.name = name;
        this.profile = profile;
        this.home = home;
    }

    /** {@link #start(String, SandboxBuilder, int, int, long)} with no memory bound. */
    public static SandboxPool start(String name, SandboxBuilder profile, int min, int max) throws IOException {
        return start(name, profile, min, max, 0);
    }

    /**
     * Adds the pool {@code name} to this user's gvshim server (starting one if none runs) and waits
     * until {@code min} sandboxes are ready.
     *
     * @param min sandboxes kept ready (0 to 256)
     * @param max sandboxes in all, ready and in use (1 to 256, at least min)
     * @param memoryBytes the most RSS the ready sandboxes may take together; 0: no bound
     * @throws SandboxException the pool cannot be added or cannot fill ({@link SandboxException#id()}:
     *     POOL_EXISTS for a pool of that name with another profile, or doctor's id of the cause)
     * @throws IllegalArgumentException a bound or a profile option is not valid
     */
    public static SandboxPool start(String name, SandboxBuilder profile, int min, int max, long memoryBytes)
            throws IOException {
        Objects.requireNonNull(profile);
        if (name == null || !name.matches(PoolSpec.NAME)) {
            throw new IllegalArgumentException("pool " + name + ": a pool's name is letters, digits, '_', '.' and '-' (at most 63)");
        }
        RunRequest template = profile.copy(PoolSpec.INIT).request();
        // the canonical form the server parses back; parsed here first so a bad bound is this call's exception
        String spec = new PoolSpec(name, min, max, memoryBytes, template).toString();
        if (memoryBytes < 0) {
            throw new IllegalArgumentException("memoryBytes must be 0 (no bound) or more");
        }
        if (!PoolSpec.parse(spec, Path.of("/")).toString().equals(spec)) {
            // the spec is NAME:KEY=VALUE,... with SRC:DST[:ro] mounts: a ',' or ':' in a path would be read back as
            // another profile (another rootfs, or keys of its own)
            throw new IllegalArgumentException("pool " + name + ": the profile's paths and hostname cannot be said in a pool's"
                    + " spec (" + spec + "): leave ',' out of them, and ':' out of mount paths");
        }
        Path home = profile.home();
        if (home == null) {
            throw new SandboxException(Failure.of("INSTALL_NOT_FOUND", "cannot start the pool " + name, null,
                    "a pool lives in the gvshim server, started by the installation's bin/gvshim, and none was found",
                    "set the system property gvshim.home, or SandboxBuilder.home(dir)"));
        }
        SandboxBuilder commands = profile.copy(List.of("true")).pool(name);
        if (profile.directory() == null) {
            // the pool's sandboxes are booted in the server's directory, /: a command in the JVM's own directory,
            // which under /tmp shapes the generated spec's mounts, would not be the pool's profile
            commands.directory("/");
        }
        SandboxPool p = new SandboxPool(name, commands, home);
        p.gvshim(List.of("server", "add-pool", "--owner", Long.toString(ProcessHandle.current().pid()), "--wait",
                Long.toString(READY_WAIT.toSeconds()), spec));
        return p;
    }

    /** The pool's name (what {@link SandboxBuilder#pool} and {@code gvshim run --pool} take). */
    public String name() {
        return name;
    }

    /** A builder for {@code command} in a sandbox of this pool, with every setting of the profile. */
    public SandboxBuilder command(String... command) {
        return command(List.of(command));
    }

    /** A builder for {@code command} in a sandbox of this pool, with every setting of the profile. */
    public SandboxBuilder command(List<String> command) {
        if (closed) {
            throw new IllegalStateException("the pool " + name + " is closed");
        }
        if (command.isEmpty()) {
            throw new IllegalArgumentException("nothing to run: give a command");
        }
        return profile.copy(command);
    }

    /**
     * The server's account of this pool, as {@code gvshim server status} shows it: ready, in use,
     * starting, created, failed, served, bounds, RSS per ready sandbox, why it cannot fill.
     */
    public String status() throws IOException {
        String all = gvshim(List.of("server", "status"));
        StringBuilder b = new StringBuilder();
        boolean in = false;
        for (String line : all.split("\n")) {
            if (line.startsWith("pool ")) {
                in = line.startsWith("pool " + name + ":");
            }
            if (in) {
                b.append(line).append('\n');
            }
        }
        return b.toString();
    }

    /**
     * Removes the pool from the server: its ready sandboxes, and those in use, are destroyed.
     * Idempotent. A pool that another JVM started too (the same name and profile), or that the
     * server was started or added with without an owner, stays for them: this JVM's hold ends.
     */
    @Override
    public void close() throws SandboxException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            gvshim(List.of("server", "remove-pool", "--owner", Long.toString(ProcessHandle.current().pid()), name));
        } catch (SandboxException e) {
            if (!e.id().equals("POOL_UNKNOWN")) { // gone already: the server stopped meanwhile
                throw e;
            }
        } catch (IOException e) {
            throw new SandboxException(Failure.of("POOL_REMOVE_FAILED", "cannot remove the pool " + name, null,
                    "bin/gvshim could not be run: " + e.getMessage(), "gvshim server remove-pool " + name));
        }
    }

    /** Runs {@code bin/gvshim ARGS} of the installation in the profile's host environment; its stdout. */
    private String gvshim(List<String> args) throws IOException {
        List<String> argv = new ArrayList<>(List.of(home.resolve("bin/gvshim").toString()));
        argv.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(argv).directory(new File("/"));
        Map<String, String> env = pb.environment();
        env.clear();
        env.putAll(profile.hostEnvironment());
        pb.redirectInput(Redirect.from(new File("/dev/null")));
        File err = File.createTempFile("gvshim-pool", ".err");
        try {
            pb.redirectError(err);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int status;
            try {
                status = p.waitFor();
            } catch (InterruptedException e) {
                p.destroy();
                Thread.currentThread().interrupt();
                throw new SandboxException(Failure.of("POOL_NOT_READY", "the pool " + name + ": interrupted", null,
                        "the thread was interrupted while the server worked", "try again"));
            }
            if (status != 0 && !(status == 3 && args.get(1).equals("status"))) {
                throw new SandboxException(PoolLauncher.refusal(java.nio.file.Files.readString(err.toPath()), status, name));
            }
            return out;
        } finally {
            err.delete();
        }
    }
}
