package dev.gvshim.api;

import dev.gvshim.container.RunRequest;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@link ProcessBuilder} for a command in a rootless gVisor sandbox: what {@code gvshim run}
 * does, from Java, through the same core ({@link RunRequest}, one path up to the launch).
 *
 * <pre>{@code
 * Process p = new SandboxBuilder("python3", "job.py")
 *         .mount(src, "/work", ReadOnly.YES)
 *         .directory("/work").timeout(Duration.ofSeconds(30))
 *         .redirectOutput(Redirect.INHERIT)
 *         .start();
 * int status = p.waitFor();
 * }</pre>
 *
 * <p>Defaults are {@code gvshim run}'s: the host's {@code /} as the root file system, read-only,
 * with an empty writable {@code /tmp} (and {@code /root} for HOME); network {@link Network#NONE}
 * (loopback only); user namespace {@link Mode#AUTO} (full when subordinate ids allow); the
 * sandbox's user is its root, mapped to yours; no timeout; pipes for stdio, as ProcessBuilder's.
 *
 * <p>{@link #start()} returns a {@link Process} whose pid is gvshim-waiter's (the native process
 * that relays stdio, forwards signals and reaps runsc): its exit status is {@code gvshim run}'s,
 * the command's status, 128+N when signal N killed it, 124 after {@link #timeout}, 125 when the
 * sandbox failed after the start (runsc's own failure: one line with an id on the error
 * stream). {@link Process#destroy()} sends SIGTERM to the command (its last output stays readable),
 * {@link Process#destroyForcibly()} kills the sandbox and everything it started at once, and
 * removes its state.
 *
 * <p>A builder is not thread-safe (as ProcessBuilder is not); {@link #start()} may be called from
 * many threads at once on different builders, and again on the same one: every start is
 * independent.
 */
public final class SandboxBuilder {
    private final List<String> command;
    private final Path bundle;
    private Path rootfs;
    private final List<RunRequest.BindMount> mounts = new ArrayList<>();
    private final List<String> tmpfs = new ArrayList<>();
    private String directory;
    private Network network = Network.NONE;
    private Duration timeout;
    private Duration killAfter = Duration.ofSeconds(2);
    private Mode userns = Mode.AUTO;
    private String platform;
    private Path runsc;
    private Path stateDir;
    private String hostname;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final Map<String, String> host;
    private Redirect in = Redirect.PIPE;
    private Redirect out = Redirect.PIPE;
    private Redirect err = Redirect.PIPE;
    private boolean errorToOutput;
    private Path home;
    private String pool;

    /** The command and its arguments, run with the host's root file system (read-only). */
    public SandboxBuilder(String... command) {
        this(List.of(command));
    }

    /** The command and its arguments, run with the host's root file system (read-only). */
    public SandboxBuilder(List<String> command) {
        this(command, null);
        if (command.isEmpty()) {
            throw new IllegalArgumentException("nothing to run: give a command");
        }
    }

    private SandboxBuilder(List<String> command, Path bundle) {
        this.command = List.copyOf(command);
        this.bundle = bundle;
        // the API's boundary: the only place it reads this process's environment (runsc in PATH,
        // XDG_RUNTIME_DIR for the state directory, TERM and LANG passed as `gvshim run` passes them)
        this.host = new LinkedHashMap<>(System.getenv());
    }

    /**
     * An OCI bundle ({@code dir/config.json} and its root file system), as {@code gvshim run
     * --bundle DIR [CMD]}: {@code command}, if not empty, replaces the spec's process.args.
     */
    public static SandboxBuilder bundle(Path dir, String... command) {
        return new SandboxBuilder(List.of(command), Objects.requireNonNull(dir).toAbsolutePath().normalize());
    }

    /** The command and its arguments (empty for a bundle's own). */
    public List<String> command() {
        return command;
    }

    /** The root file system, mounted read-only (default {@code /}); not with {@link #bundle}, which names its own. */
    public SandboxBuilder rootfs(Path dir) {
        if (bundle != null) {
            throw new IllegalStateException("a bundle names its own root file system");
        }
        this.rootfs = dir.toAbsolutePath().normalize();
        return this;
    }

    /**
     * Bind-mounts {@code source} (a host file or directory) at {@code destination}, an absolute
     * path ({@code gvshim run --mount}): one the root file system lacks is made for the sandbox
     * only, one it has must be of the source's type. A later mount on the same destination
     * replaces the earlier one.
     */
    public SandboxBuilder mount(Path source, String destination, ReadOnly readOnly) {
        Checks.absolute("mount destination " + destination, destination);
        mounts.removeIf(m -> m.destination().equals(destination));
        mounts.add(new RunRequest.BindMount(source.toAbsolutePath().normalize(), destination, readOnly == ReadOnly.YES));
        return this;
    }

    /** An empty writable tmpfs at {@code destination} ({@code gvshim run --tmpfs}). */
    public SandboxBuilder tmpfs(String destination) {
        tmpfs.add(Checks.absolute("tmpfs " + destination, destination));
        return this;
    }

    /**
     * The working directory inside the sandbox (an absolute path; default: this JVM's own with
     * the host's root, else {@code /}).
     */
    public SandboxBuilder directory(String dir) {
        this.directory = Checks.absolute("directory " + dir, dir);
        return this;
    }

    String directory() {
        return directory;
    }

    /** The sandbox's network (default {@link Network#NONE}: loopback only). */
    public SandboxBuilder network(Network n) {
        this.network = Objects.requireNonNull(n);
        return this;
    }

    /** Stops the command after {@code t}: SIGTERM, SIGKILL after {@link #killAfter}; exit status 124. Null: none. */
    public SandboxBuilder timeout(Duration t) {
        this.timeout = Checks.duration("timeout", t, false);
        return this;
    }

    /** Grace period between the SIGTERM and the SIGKILL of {@link #timeout} (default 2 s). */
    public SandboxBuilder killAfter(Duration d) {
        this.killAfter = Checks.duration("killAfter", Objects.requireNonNull(d), true);
        return this;
    }

    /** The user-namespace mode (default {@link Mode#AUTO}). */
    public SandboxBuilder userns(Mode mode) {
        this.userns = Objects.requireNonNull(mode);
        return this;
    }

    /** gVisor's platform: ptrace, systrap or kvm (default: runsc's). */
    public SandboxBuilder platform(String name) {
        this.platform = Checks.platform(name);
        return this;
    }

    /**
     * Runs the command in a ready sandbox of the warm pool {@code name} of this user's gvshim server
     * ({@link SandboxPool}, or {@code gvshim server start --pool NAME:...}), as {@code gvshim run
     * --pool NAME}: a new sandbox booted ahead for every command. The sandbox options must be the
     * pool's, else {@link #start()} throws {@code POOL_PROFILE_MISMATCH} naming the option; no
     * server: {@code POOL_NEEDS_SERVER}, no such pool: {@code POOL_UNKNOWN}. Null: a sandbox of its own.
     */
    public SandboxBuilder pool(String name) {
        if (name != null && !name.matches(dev.gvshim.pool.PoolSpec.NAME)) {
            throw new IllegalArgumentException("pool " + name + ": a pool's name is letters, digits, '_', '.' and '-' (at most 63)");
        }
        this.pool = name;
        return this;
    }

    /** The warm pool {@link #start()} takes a sandbox from, or null. */
    public String pool() {
        return pool;
    }

    /** The runsc binary (default: runsc in the host environment's PATH). */
    public SandboxBuilder runsc(Path path) {
        this.runsc = path == null ? null : path.toAbsolutePath();
        return this;
    }

    /** The state directory ({@code gvshim run --root}; default the per-user one). */
    public SandboxBuilder stateDirectory(Path dir) {
        this.stateDir = dir == null ? null : dir.toAbsolutePath().normalize();
        return this;
    }

    /** The sandbox's host name (default {@code gvshim}). */
    public SandboxBuilder hostname(String name) {
        this.hostname = name;
        return this;
    }

    /**
     * Variables set for the command, on top of {@code gvshim run}'s defaults (PATH, HOME,
     * TERM, LANG, LANGUAGE, TZ and LC_* of the {@link #hostEnvironment()}): each is
     * {@code gvshim run -e KEY=VALUE}. Mutable, as ProcessBuilder's.
     */
    public Map<String, String> environment() {
        return environment;
    }

    /**
     * The environment gvshim itself works in: where runsc is found (PATH), the state directory
     * (XDG_RUNTIME_DIR), what passes by default. A mutable copy of {@link System#getenv()} taken
     * when the builder was made; never the sandbox's (see {@link #environment()}).
     */
    public Map<String, String> hostEnvironment() {
        return host;
    }

    /** Where the command's stdin comes from (any {@link Redirect}; default a pipe from {@link Process#getOutputStream()}). */
    public SandboxBuilder redirectInput(Redirect r) {
        this.in = Checks.redirect(r, true);
        return this;
    }

    /** Where the command's stdout goes (any {@link Redirect}; default a pipe to {@link Process#getInputStream()}). */
    public SandboxBuilder redirectOutput(Redirect r) {
        this.out = Checks.redirect(r, false);
        return this;
    }

    /** Where the command's stderr goes (any {@link Redirect}; default a pipe to {@link Process#getErrorStream()}). */
    public SandboxBuilder redirectError(Redirect r) {
        this.err = Checks.redirect(r, false);
        return this;
    }

    /** stderr merged into stdout, as {@link ProcessBuilder#redirectErrorStream(boolean)}. */
    public SandboxBuilder redirectErrorStream(boolean merge) {
        this.errorToOutput = merge;
        return this;
    }

    /** This JVM's own stdin, stdout and stderr (gvshim relays them: runsc never gets them). */
    public SandboxBuilder inheritIO() {
        in = Redirect.INHERIT;
        out = Redirect.INHERIT;
        err = Redirect.INHERIT;
        return this;
    }

    /** The stdin redirect. */
    public Redirect redirectInput() {
        return in;
    }

    /** The stdout redirect. */
    public Redirect redirectOutput() {
        return out;
    }

    /** The stderr redirect. */
    public Redirect redirectError() {
        return err;
    }

    /** Whether stderr is merged into stdout. */
    public boolean redirectErrorStream() {
        return errorToOutput;
    }

    /**
     * The gvshim installation (bin/gvshim, libexec/); default: the system property
     * {@code gvshim.home}, else the installation this class was loaded from (its jar in lib/).
     */
    public SandboxBuilder home(Path dir) {
        this.home = dir == null ? null : dir.toAbsolutePath().normalize();
        return this;
    }

    /** The installation {@link #start()} would use, or null when none is found. */
    public Path home() {
        return home != null ? home : Launcher.findHome();
    }

    /**
     * Starts the sandbox and returns its process once runsc is starting it; the command runs
     * when the sandbox has booted. Throws {@link SandboxException} (with its id, cause and fix)
     * when it cannot start, and then nothing runs and nothing is left behind.
     */
    public Process start() throws IOException {
        return new Launcher(this).start();
    }

    /** A builder for {@code cmd} with every setting of this one (a {@link SandboxPool}'s commands: its profile's). */
    SandboxBuilder copy(List<String> cmd) {
        SandboxBuilder b = bundle != null ? bundle(bundle, cmd.toArray(String[]::new)) : new SandboxBuilder(cmd);
        b.rootfs = rootfs;
        b.mounts.addAll(mounts);
        b.tmpfs.addAll(tmpfs);
        b.directory = directory;
        b.network = network;
        b.timeout = timeout;
        b.killAfter = killAfter;
        b.userns = userns;
        b.platform = platform;
        b.runsc = runsc;
        b.stateDir = stateDir;
        b.hostname = hostname;
        b.environment.putAll(environment);
        b.host.clear();
        b.host.putAll(host);
        b.in = in;
        b.out = out;
        b.err = err;
        b.errorToOutput = errorToOutput;
        b.home = home;
        b.pool = pool;
        return b;
    }

    /**
     * The request {@code gvshim run} would get for these settings, checked as the CLI checks
     * its options (paths that must exist). IllegalArgumentException: the one-line complaint.
     */
    RunRequest request() {
        Path root = rootfs == null ? Path.of("/") : rootfs; // as the CLI's, also with a bundle (which names its own)
        Checks.paths(bundle == null ? root : null, mounts);
        List<String> env = Checks.environment(environment);
        return new RunRequest(command, bundle, root, List.copyOf(mounts), List.copyOf(tmpfs), directory, env, false, network,
                timeout == null ? null : timeout.toNanos() / 1e9, killAfter.toNanos() / 1e9, platform,
                runsc == null ? null : runsc.toString(), stateDir, userns, RunRequest.Tty.AUTO, null, null, hostname, false,
                false, false);
    }

    Redirect[] redirects() {
        return new Redirect[] {in, out, err};
    }
}
