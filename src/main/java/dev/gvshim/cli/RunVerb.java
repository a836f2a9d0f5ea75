package dev.gvshim.cli;

import static dev.gvshim.cli.Options.flag;
import static dev.gvshim.cli.Options.names;
import static dev.gvshim.cli.Options.repeated;
import static dev.gvshim.cli.Options.value;

import dev.gvshim.call.Call;
import dev.gvshim.container.Fallback;
import dev.gvshim.container.PooledRun;
import dev.gvshim.container.RunForeground;
import dev.gvshim.container.RunRequest;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.pool.SandboxPool;
import dev.gvshim.pool.SandboxPools;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim run [OPTIONS] [--] COMMAND [ARGS...]}: the wrapper entrypoint. Runs the
 * command under gVisor as the calling (non-root) user; the exit status is the command's.
 * Its own failures exit 125 (docker run's convention), so they never look like the command's.
 */
final class RunVerb implements Verb {
    @Override
    public String name() {
        return "run";
    }

    @Override
    public int usageError() {
        return Exit.GVSHIM;
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("run",
                "Run COMMAND in a gVisor sandbox as the calling user, in a user namespace gvshim sets up.",
                "stdin, stdout and stderr pass through; the exit status is COMMAND's (128+N when killed by signal N).",
                "Exit " + Exit.GVSHIM + ": the sandbox could not start (one line says why and how to fix it); " + Exit.TIMEOUT
                        + ": --timeout expired.");
        s.addOption(value(names("--bundle"), "DIR", String.class,
                "Run this OCI bundle (DIR/config.json) instead of generating a spec. COMMAND, if given, replaces its process.args."));
        s.addOption(value(names("--rootfs"), "DIR", String.class,
                "Root file system of the generated spec (default: /, to wrap a container's own entrypoint). Never written:"
                        + " the command's writes go to an overlay in memory, gone after the run (see --read-only)."));
        s.addOption(flag(names("--read-only"), "Mount the root file system read-only, without the overlay (a bundle's"
                + " root too); /tmp, /root for HOME and --tmpfs/--volume mounts stay writable."));
        s.addOption(repeated(names("-v", "--volume", "--mount"), "SRC:DST[:ro]",
                "Bind-mount a host path into the sandbox; repeatable. Docker's type=bind,source=SRC,target=DST[,readonly] too."));
        s.addOption(repeated(names("--tmpfs"), "DST", "Mount an empty writable tmpfs at DST (/tmp gets one by default)."));
        s.addOption(value(names("-w", "--workdir", "--cwd"), "DIR", String.class,
                "Working directory inside the sandbox (default: the current one when --rootfs is /, else /)."));
        s.addOption(repeated(names("-e", "--env"), "KEY[=VALUE]",
                "Set a variable, or pass the caller's value of KEY; repeatable. PATH, TERM, LANG, LC_* and TZ pass by default."));
        s.addOption(repeated(names("--env-file"), "FILE",
                "Read variables from FILE (KEY=VALUE lines, or KEY to pass the caller's value; # comments), as docker does."));
        s.addOption(flag(names("--env-all"), "Pass the caller's whole environment."));
        s.addOption(flag(names("-i", "--interactive"), "Accepted for docker's habit (-i, -it): stdin always passes through."));
        s.addOption(value(names("--network"), "MODE", Network.class,
                "Network of the sandbox: ${COMPLETION-CANDIDATES} (default: none, only loopback; sandbox: gVisor's"
                + " own stack over slirp4netns, no root needed; host: the host's interfaces)."));
        s.addOption(value(names("--timeout"), "DURATION", java.time.Duration.class,
                "Stop the command after DURATION (30, 30s, 2m, 1h, 500ms; SIGTERM, then SIGKILL after --kill-after); exit 124."));
        s.addOption(value(names("--kill-after"), "DURATION", java.time.Duration.class,
                "Grace period after the SIGTERM of --timeout (default 2s)."));
        s.addOption(value(names("--platform"), "NAME", String.class,
                "gVisor platform: ptrace, systrap or kvm (default: this runsc's own default)."));
        s.addOption(value(names("--runsc"), "PATH", String.class, "The runsc binary (default: runsc in $PATH)."));
        s.addOption(value(names("--root"), "DIR", String.class,
                "State directory (default: $XDG_RUNTIME_DIR/gvshim if yours and 0700, else /tmp/gvshim-UID, or"
                        + " /tmp/gvshim-UID.RANDOM if another user took that name; created 0700). Yours, 0700, and no"
                        + " directory above it writable by other users unless sticky."));
        s.addOption(value(names("--userns"), "MODE", Mode.class,
                "User namespace: auto (full when possible), full (subordinate ids via newuidmap), single (only your id)."));
        // -t alone is docker's -t (a terminal: always), so -it, -ti and -i -t work; a WHEN after it is taken only when it
        // is one of the three words: picocli leaves an optional parameter that does not convert to COMMAND, but checks
        // that only for a multi-valued option (a single-valued one takes any next word), hence a list (the last wins)
        s.addOption(picocli.CommandLine.Model.OptionSpec.builder("-t", "--tty").paramLabel("WHEN").type(List.class)
                .auxiliaryTypes(RunRequest.Tty.class).arity("0..1").fallbackValue("always").description("Give COMMAND a terminal: -t or -t always (docker's -t),"
                        + " auto (default: when stdin and stdout are terminals), never. A word after -t is WHEN only if it is"
                        + " one of these three (-t -- always runs a command named always).").build());
        s.addOption(value(names("-u", "--user"), "USER[:GROUP]", String.class, "User and group inside the sandbox, names or"
                + " numeric ids (default 0:0). Names are looked up in the sandbox's /etc/passwd and /etc/group; without"
                + " GROUP, the user's primary group; supplementary groups from /etc/group, as docker does."));
        s.addOption(value(names("--memory", "-m"), "SIZE", String.class, "Memory limit (512m, 2g) of the sandbox's"
                + " processes, gVisor's included: a cgroup gvshim creates under yours (cgroup v2 delegated to you, or root);"
                + " refused where there is none."));
        s.addOption(value(names("--cpus"), "N", String.class, "CPU time limit in CPUs (1.5): a cgroup, as --memory."));
        s.addOption(value(names("--pids-limit"), "N", String.class, "At most N processes and threads per user inside"
                + " the sandbox (gVisor's own RLIMIT_NPROC; gVisor's threads on the host are not counted)."));
        s.addOption(value(names("--hostname"), "NAME", String.class, "Host name inside the sandbox (default gvshim)."));
        s.addOption(value(names("--fallback"), "WHAT", String.class,
                "What to do when the sandbox cannot start: none (default: exit " + Exit.GVSHIM
                        + ") or unsandboxed (run COMMAND directly, with a warning)."));
        s.addOption(value(names("--pool"), "NAME", String.class,
                "Run in a ready sandbox of the gvshim server's warm pool NAME (gvshim server start --pool NAME:min=2,max=8);"
                        + " the sandbox options must be the pool's."));
        DetachedRun.options(s);
        s.addOption(flag(names("--debug"), "Keep the run directory and runsc's debug logs; show runsc's own error text."));
        s.addOption(flag(names("--verbose"), "Say which user-namespace mode was chosen and why, what gvshim mounted and which runsc flags it chose."));
        s.addPositional(Options.rest("COMMAND", "The command and its arguments (after -- if they start with -)."));
        s.parser().stopAtPositional(true);
        return s;
    }

    @Override
    public int call(ParseResult p, Call call) {
        RunRequest req;
        try {
            req = request(p, call.cwd());
        } catch (IllegalArgumentException e) {
            return ErrorSink.usage(call, "gvshim run", e.getMessage() + " (see `gvshim run --help`)", Exit.GVSHIM);
        }
        String pool = p.matchedOptionValue("--pool", null);
        if (req.network() == Network.HOST && pool == null) {
            // one line, before anything else: the command's own output follows (a pooled run: once it matches)
            call.err().println(NETWORK_HOST_WARNING);
        }
        if (DetachedRun.applies(p)) {
            return DetachedRun.call(p, call, req);
        }
        if (call.home() == null) {
            return ErrorSink.usage(call, "gvshim", "cannot find the installation: start gvshim through its launcher,"
                    + " bin/gvshim", Exit.GVSHIM);
        }
        try {
            if (pool != null) {
                SandboxPool sandboxes = pool(call, pool);
                if (req.network() == Network.HOST && sandboxes.profile().network() == Network.HOST) {
                    call.err().println(NETWORK_HOST_WARNING); // else refused as a mismatch: one line
                }
                PooledRun.run(call, req, sandboxes);
                return 0;
            }
            new RunForeground(call, req).run();
            return 0; // handed over: the waiter runs elsewhere (or, GVSHIM_TRACE=wait, runsc has been waited for)
        } catch (GvshimException e) {
            Failure f = e.failure();
            int status = ErrorSink.failure(call, f);
            if (req.debug()) {
                call.err().println("gvshim: (debug) failure id " + f.id());
            }
            if (req.fallbackUnsandboxed() && f.exitCode() == Exit.GVSHIM) {
                try {
                    Fallback.exec(call, req.command(), req.cwd() != null ? req.cwd() : call.cwd().toString(), f.id());
                    return 0;
                } catch (GvshimException unsandboxed) {
                    return ErrorSink.failure(call, unsandboxed.failure());
                }
            }
            return status;
        }
    }

    /** --network host's warning (docs/errors.md: NETWORK_HOST). */
    static final String NETWORK_HOST_WARNING = "gvshim: warning: --network host: the sandbox shares this host's network"
            + " interfaces and ports (gVisor's hostinet: no network isolation; its system calls stay in the sandbox);"
            + " use --network none for none [NETWORK_HOST]";

    /** The server's pool {@code name}; one line with the fix when there is no server or no such pool. */
    private static SandboxPool pool(Call call, String name) throws GvshimException {
        SandboxPools pools = call.pools();
        if (pools == null) {
            throw new GvshimException(Failure.of("POOL_NEEDS_SERVER", "cannot run in the pool " + name, null,
                    "pools live in the gvshim server, and this call ran without one (GVSHIM_SERVER=off, or none configured)",
                    "start one with the pool: gvshim server start --pool " + name + ":min=2,max=8, and run with GVSHIM_SERVER=on"));
        }
        SandboxPool p = pools.find(name);
        if (p == null) {
            throw new GvshimException(Failure.of("POOL_UNKNOWN", "cannot run in the pool " + name, null,
                    "the gvshim server has no pool of that name (its pools: " + (pools.names().isEmpty() ? "none"
                            : String.join(", ", pools.names())) + ")",
                    "add it: gvshim server add-pool " + name + ":min=2,max=8 (and this run's sandbox options as keys)"));
        }
        return p;
    }

    private static Path path(String s) {
        return s == null ? null : Path.of(s);
    }

    /** The largest --env-file read (an environment is at most a few hundred KiB: execve's ARG_MAX). */
    static final long ENV_FILE_MAX = 1024 * 1024;

    /**
     * docker's --env-file: a KEY=VALUE a line (the value as it is, quotes and spaces included), or
     * KEY alone for the caller's value; blank lines and lines starting with # are skipped.
     */
    static List<String> envFile(Path file) {
        List<String> lines;
        try {
            // a regular file of a sensible size: /dev/zero or a FIFO would be read until memory runs out
            if (java.nio.file.Files.exists(file) && !java.nio.file.Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--env-file " + file + ": not a regular file");
            }
            if (java.nio.file.Files.isRegularFile(file) && java.nio.file.Files.size(file) > ENV_FILE_MAX) {
                throw new IllegalArgumentException("--env-file " + file + ": larger than " + ENV_FILE_MAX / 1024 + " KiB");
            }
            lines = java.nio.file.Files.readAllLines(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("--env-file " + file + ": no such file");
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("--env-file " + file + ": " + dev.gvshim.diagnose.IoError.reason(e));
        }
        List<String> env = new ArrayList<>();
        for (String l : lines) {
            String t = l.stripLeading();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            if (t.startsWith("=")) {
                throw new IllegalArgumentException("--env-file " + file + ": a line without a name: " + l);
            }
            env.add(t);
        }
        return env;
    }

    private static dev.gvshim.container.RunLimits limits(ParseResult p) {
        String m = p.matchedOptionValue("--memory", null);
        String c = p.matchedOptionValue("--cpus", null);
        String n = p.matchedOptionValue("--pids-limit", null);
        return new dev.gvshim.container.RunLimits(m == null ? null : dev.gvshim.container.RunLimits.memory(m),
                c == null ? null : dev.gvshim.container.RunLimits.cpus(c, Runtime.getRuntime().availableProcessors()),
                n == null ? null : dev.gvshim.container.RunLimits.pids(n));
    }

    /** Validates the options into a request; IllegalArgumentException carries the one-line complaint. */
    static RunRequest request(ParseResult p, Path cwd) {
        List<String> command = p.matchedPositionalValue(0, List.<String>of());
        Path bundle = path(p.matchedOptionValue("--bundle", null));
        Path rootfs = path(p.matchedOptionValue("--rootfs", null));
        if (bundle != null && rootfs != null) {
            throw new IllegalArgumentException("--bundle and --rootfs cannot be combined (the bundle names its root)");
        }
        if (bundle == null && command.isEmpty()) {
            throw new IllegalArgumentException("nothing to run: give a command (gvshim run -- CMD ARGS) or --bundle DIR");
        }
        rootfs = rootfs == null ? Path.of("/") : cwd.resolve(rootfs).normalize();
        boolean rootfsVisible = bundle == null && RunRequest.checkRootfs(rootfs);
        List<RunRequest.BindMount> mounts = new ArrayList<>();
        for (String m : p.matchedOptionValue("--mount", List.<String>of())) {
            RunRequest.BindMount b = RunRequest.BindMount.parse(m, cwd);
            RunRequest.checkMount(m, b, rootfsVisible ? rootfs : null);
            mounts.add(b);
        }
        List<String> tmpfs = p.matchedOptionValue("--tmpfs", List.<String>of());
        for (String t : tmpfs) {
            if (!t.startsWith("/")) {
                throw new IllegalArgumentException("--tmpfs " + t + ": must be an absolute path");
            }
        }
        String workdir = p.matchedOptionValue("--cwd", null);
        if (workdir != null && !workdir.startsWith("/")) {
            throw new IllegalArgumentException("--cwd " + workdir + ": must be an absolute path inside the sandbox");
        }
        java.time.Duration t = p.matchedOptionValue("--timeout", null);
        Double timeout = t == null ? null : t.toNanos() / 1e9;
        if (timeout != null && !(timeout > 0)) {
            throw new IllegalArgumentException("--timeout must be a positive number of seconds");
        }
        java.time.Duration k = p.matchedOptionValue("--kill-after", java.time.Duration.ofSeconds(2));
        Double killAfter = k.toNanos() / 1e9;
        if (!(killAfter >= 0)) {
            throw new IllegalArgumentException("--kill-after must be zero or more seconds");
        }
        String platform = p.matchedOptionValue("--platform", null);
        if (platform != null && !List.of("ptrace", "systrap", "kvm").contains(platform)) {
            throw new IllegalArgumentException("--platform " + platform + ": expected ptrace, systrap or kvm");
        }
        String userOption = p.matchedOptionValue("--user", null);
        dev.gvshim.container.RunUser user = userOption == null ? null : dev.gvshim.container.RunUser.parse(userOption);
        // numeric ids are known now; names (and a numeric user's entry, for its group) when the spec is built
        Long uid = user == null ? null : user.numericUid();
        Long gid = user == null || uid == null ? null : user.group() != null && user.numeric() ? Long.valueOf(user.group()) : uid;
        String fallback = p.matchedOptionValue("--fallback", "none");
        if (!fallback.equals("none") && !fallback.equals("unsandboxed")) {
            throw new IllegalArgumentException("--fallback " + fallback + ": expected none or unsandboxed");
        }
        boolean unsandboxed = fallback.equals("unsandboxed");
        if (unsandboxed && (bundle != null || !rootfs.equals(Path.of("/")))) {
            throw new IllegalArgumentException("--fallback=unsandboxed only applies to commands on / (not --bundle or --rootfs)");
        }
        Network network = p.matchedOptionValue("--network", Network.NONE);
        Mode userns = p.matchedOptionValue("--userns", Mode.AUTO);
        List<RunRequest.Tty> ttys = p.matchedOptionValue("--tty", List.<RunRequest.Tty>of());
        RunRequest.Tty tty = ttys.isEmpty() ? RunRequest.Tty.AUTO : ttys.getLast();
        Path root = path(p.matchedOptionValue("--root", null));
        List<String> env = new ArrayList<>();
        for (String file : p.matchedOptionValue("--env-file", List.<String>of())) {
            env.addAll(envFile(cwd.resolve(file)));
        }
        env.addAll(p.matchedOptionValue("--env", List.<String>of()));
        dev.gvshim.container.RunLimits limits = limits(p);
        if (unsandboxed && (limits.needsCgroup() || limits.pids() != null)) {
            // the command would run without them exactly when the sandbox cannot start: never silently
            throw new IllegalArgumentException("--fallback=unsandboxed cannot be combined with --memory, --cpus or --pids-limit"
                    + " (they limit the sandbox, and the command would run without them)");
        }
        return new RunRequest(command, bundle == null ? null : cwd.resolve(bundle).normalize(), rootfs, mounts, tmpfs, workdir,
                env, p.hasMatchedOption("--env-all"), network, timeout,
                killAfter, platform, p.matchedOptionValue("--runsc", null), root == null ? null : cwd.resolve(root),
                userns, tty, uid, gid, p.matchedOptionValue("--hostname", null), unsandboxed,
                p.hasMatchedOption("--debug"), p.hasMatchedOption("--verbose"), p.hasMatchedOption("--read-only"), user,
                limits);
    }
}
