package dev.gvshim.call;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * One invocation of gvshim, as the core sees it: the caller's environment, working directory,
 * effective uid and stdio, where gvshim is installed, and how programs are started
 * ({@link Processes}) and handed over to ({@link Handover}). Immutable but for the memo of the
 * effective uid; one per call, so calls never share state.
 */
public final class Call {
    /**
     * The caller's stdio: as streams for gvshim's own output, and as descriptors of this process
     * for what must be inherited or tested (isatty) as the caller's own.
     */
    public record Stdio(InputStream in, PrintStream out, PrintStream err, int inFd, int outFd, int errFd) {
        /** This process's own descriptors 0, 1, 2 behind the given streams. */
        public static Stdio of(InputStream in, PrintStream out, PrintStream err) {
            return new Stdio(in, out, err, 0, 1, 2);
        }
    }

    /** Who the caller is: its effective uid (a one-shot call reads its own; a server the peer's credentials). */
    @FunctionalInterface
    public interface Identity {
        int euid() throws IOException;
    }

    private final String id;
    private final Map<String, String> env;
    private final Path cwd;
    private final Stdio stdio;
    private final Identity identity;
    private final Path home;
    private final Path launcher;
    private final Processes processes;
    private final Handover handover;
    private final Trace trace;
    private final Roots roots;
    private dev.gvshim.pool.SandboxPools pools;
    private int euid = -1;

    /**
     * Told of each state directory (--root) a call starts creating a container in. A server
     * remembers them: a create it did not finish (it was killed) is cleaned up by its successor's
     * start, which has no call to learn the --root from (notes/server-design.md 9).
     */
    @FunctionalInterface
    public interface Roots {
        Roots NONE = root -> {
        };

        void creatingIn(Path root);
    }

    /**
     * @param id       this call among all others at the same time, as a file name part (a one-shot call: its pid)
     * @param home     the installation (bin/, lib/, libexec/), null when gvshim was not started by its launcher
     * @param launcher the path of bin/gvshim the caller ran, symbolic links resolved, or null
     */
    public Call(String id, Map<String, String> env, Path cwd, Stdio stdio, Identity identity, Path home, Path launcher,
            Processes processes, Handover handover, Trace trace) {
        this(id, env, cwd, stdio, identity, home, launcher, processes, handover, trace, Roots.NONE);
    }

    /** With {@code roots} told of the state directories the call creates containers in (a server's call). */
    public Call(String id, Map<String, String> env, Path cwd, Stdio stdio, Identity identity, Path home, Path launcher,
            Processes processes, Handover handover, Trace trace, Roots roots) {
        this.roots = roots;
        this.id = id;
        this.env = Map.copyOf(env);
        this.cwd = cwd;
        this.stdio = stdio;
        this.identity = identity;
        this.home = home;
        this.launcher = launcher;
        this.processes = processes;
        this.handover = handover;
        this.trace = trace;
    }

    /** Unique among the calls running at the same time (names of per-call files). */
    public String id() {
        return id;
    }

    /**
     * The caller's pid: a one-shot call's id is its own pid (the client exec'd the JVM), a server
     * call's the peer's (SO_PEERCRED); -1 when the id is not a pid (tests).
     */
    public long callerPid() {
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public Roots roots() {
        return roots;
    }

    /** The caller's environment (never this JVM's own, below the CLI). */
    public Map<String, String> env() {
        return env;
    }

    /** The caller's working directory: every relative path the caller gave is resolved against it. */
    public Path cwd() {
        return cwd;
    }

    /** {@code path} as the caller means it: relative to the caller's working directory (not normalized). */
    public Path absolute(String path) {
        return cwd.resolve(path);
    }

    /** {@code path} as the caller means it: relative to the caller's working directory (not normalized). */
    public Path absolute(Path path) {
        return cwd.resolve(path);
    }

    public Stdio stdio() {
        return stdio;
    }

    public PrintStream out() {
        return stdio.out();
    }

    public PrintStream err() {
        return stdio.err();
    }

    /** The caller's effective uid, asked for once. */
    public synchronized int euid() throws IOException {
        if (euid < 0) {
            euid = identity.euid();
        }
        return euid;
    }

    /** The installation directory, or null when gvshim was not started through bin/gvshim. */
    public Path home() {
        return home;
    }

    /** {@code libexec/NAME} of the installation (relative to the current directory when there is none: tests). */
    public Path libexec(String name) {
        return (home == null ? Path.of(".") : home).resolve("libexec").resolve(name);
    }

    /** bin/gvshim as the caller ran it, or null. */
    public Path launcher() {
        return launcher;
    }

    /** The gvshim program to run again (a waiter's `__explain`, a --rm sandbox's `rm --on-exit`): the launcher, else HOME/bin/gvshim. */
    public Path gvshim() {
        return launcher != null ? launcher : home.resolve("bin/gvshim");
    }

    public Processes processes() {
        return processes;
    }

    public Handover handover() {
        return handover;
    }

    public Trace trace() {
        return trace;
    }

    /** The same call with other stdio (a verb that runs another one quietly). */
    public Call withStdio(Stdio other) {
        return new Call(id, env, cwd, other, identity, home, launcher, processes, handover, trace, roots).withPools(pools);
    }

    /** The same call, served by a server with these warm pools (`gvshim run --pool`). */
    public Call withPools(dev.gvshim.pool.SandboxPools p) {
        Call c = new Call(id, env, cwd, stdio, identity, home, launcher, processes, handover, trace, roots);
        c.pools = p;
        return c;
    }

    /** The warm pools of the server serving this call; null for a one-shot call (no server). */
    public dev.gvshim.pool.SandboxPools pools() {
        return pools;
    }
}
