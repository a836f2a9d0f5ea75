package dev.gvshim.server;

import dev.gvshim.call.Call;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.UnixSockets;
import dev.gvshim.pool.PoolSpec;
import dev.gvshim.pool.SandboxPools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The long-lived gvshim server of one euid, user namespace and build (issue 17;
 * notes/server-design.md): serves the calls its clients send, through the same core as a
 * one-shot gvshim, each with a {@link Call} of its own. One per {@link ServerDir#name} (flock);
 * it leaves when idle for {@link Config#idleMillis} (0: never), when its build changes on disk,
 * or when told to stop, and then finishes the calls it has.
 *
 * <p>Calls run on a fixed pool of {@link #THREADS} platform threads that live as long as the
 * server: a call thread does unshare(CLONE_FS) for the caller's umask and working directory,
 * and a child cloned with PR_SET_PDEATHSIG dies with the thread that cloned it (prctl(2)), so
 * no call runs on a virtual thread or on a thread that could retire. The accept loop takes no
 * connection while all are busy (the listen backlog holds the rest).
 */
public final class Server {
    static final int THREADS = 64;
    private static final long GC_AFTER_NANOS = 5_000_000_000L;

    /**
     * @param where      the directory and name of this server
     * @param buildId    the installation's build id (lib/build-id); requests of another are COLD
     * @param home       the installation, or null (tests)
     * @param idleMillis leave after this long without calls; 0: never
     * @param euid       the only uid served (this process's own)
     */
    public record Config(ServerDir where, String buildId, Path home, long idleMillis, int euid) {
    }

    private final Config cfg;
    private final Dispatcher dispatcher;
    private final ServerLog log;
    private final ServerRoots roots;
    private final PeerContext context;
    private final long pid = ProcessHandle.current().pid();
    private final long startNanos = System.nanoTime();
    private final Instant started = Instant.now();
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong lastNanos = new AtomicLong(System.nanoTime());
    private final Reaper reaper = new Reaper(Path.of("/proc"));
    private final Semaphore slots = new Semaphore(THREADS);
    private final ExecutorService pool = Executors.newFixedThreadPool(THREADS,
            Thread.ofPlatform().name("gvshim-call-", 1).daemon(true).factory());
    private final int[] wake;
    private volatile String stopping;
    private volatile SandboxPools pools = SandboxPools.of(List.of()); // a test's server: none, and none can be added
    private int lockFd = -1;
    private volatile int listener = -1;
    private long socketInode = -1;

    public Server(Config cfg, Dispatcher dispatcher) throws IOException, SyscallException {
        this.cfg = cfg;
        this.dispatcher = dispatcher;
        this.log = new ServerLog(cfg.where().log(), pid);
        this.roots = new ServerRoots(cfg.where().dir().resolve("roots"), log);
        this.context = new PeerContext(Path.of("/proc"));
        this.wake = Linux.pipe2(Linux.O_CLOEXEC | Linux.O_NONBLOCK);
    }

    public Config config() {
        return cfg;
    }

    /** Starts the warm pools of `--pool` (issue 18), booted with {@code base}: see {@link LineStream#pools}. */
    public void startPools(List<PoolSpec> specs, Call base) {
        pools = LineStream.pools(specs, base, log); // empty or not: `server add-pool` adds to it
    }

    /** The warm pools. */
    SandboxPools pools() {
        return pools;
    }

    ServerLog log() {
        return log;
    }

    /**
     * Takes NAME.lock and binds NAME.sock ({@link ServerFiles}); false when another server holds
     * the lock.
     */
    public boolean bind() throws IOException, SyscallException {
        ServerDir w = cfg.where();
        int lock = ServerFiles.lock(w);
        if (lock < 0) {
            return false;
        }
        lockFd = lock;
        ServerFiles.removeStale(w);
        listener = ServerFiles.listen(w, pid);
        socketInode = ServerFiles.inode(w.socket());
        log.line("server of build " + cfg.buildId() + " (" + cfg.home() + ") listening on " + w.socket() + "; idle timeout "
                + (cfg.idleMillis() == 0 ? "none" : cfg.idleMillis() / 1000 + " s"));
        return true;
    }

    /**
     * Cleans up after servers that were killed in the middle of a `create` (notes/server-design.md
     * 9): in each --root they created containers in ({@link ServerRoots}), the containers whose
     * create was abandoned are removed (runsc delete --force, the holder, the record). Before any
     * call is served, so that no call meets them half-made; it costs a directory listing per root
     * when there is nothing to clean. runsc runs here as this server's child: there is no caller.
     */
    public void cleanAbandoned() {
        roots.cleanAbandoned(dispatcher, log);
    }

    /** Where this server's calls create containers (given to each call). */
    Call.Roots roots() {
        return roots;
    }

    /** Serves the connection {@code fd} in this thread, and only it (a server that lost the lock: a one-shot for its first call). */
    public void serveOnly(int fd) {
        active.incrementAndGet();
        serve(fd); // serve() never throws: it closes its connection on every path
        active.decrementAndGet();
    }

    /** Serves the connection {@code fd} on a call thread (blocks while all are busy). */
    public void submit(int fd) {
        slots.acquireUninterruptibly();
        active.incrementAndGet();
        pool.execute(() -> {
            try {
                serve(fd);
            } finally {
                lastNanos.set(System.nanoTime());
                active.decrementAndGet();
                slots.release();
                poke();
            }
        });
    }

    /**
     * Accepts and serves until told to stop, idle for the timeout, or the build on disk changed;
     * then leaves the name (socket and pid file), destroys its pools, releases the lock (a new
     * server can start), finishes the calls it has, and returns why it stopped.
     */
    public String loop() throws SyscallException {
        boolean collected = false;
        byte[] drain = new byte[64];
        long swept = System.nanoTime();
        while (stopping == null) {
            // holders die at their container's delete, which a call does: sweep every second for a while after a
            // call, every 10 s otherwise (a zombie holds only its pid, but "nothing left" should mean it)
            long since = System.nanoTime() - lastNanos.get();
            if (System.nanoTime() - swept > (since < 15_000_000_000L ? 1_000_000_000L : 10_000_000_000L)) {
                swept = System.nanoTime();
                for (int pid : reaper.sweep()) {
                    log.line("reaped the holder " + pid + " of a deleted rootless container");
                }
                pools.removeOrphans(); // the API's pools whose JVM is gone
                if (active.get() == 0 && NamespaceWatch.alone(Path.of("/proc"), ProcessHandle.current().pid())) {
                    stop("no other process is left in its user namespace");
                }
            }
            short[] rev = UnixSockets.poll(new int[] {listener, wake[0]}, UnixSockets.POLLIN, 1000);
            if ((rev[1] & UnixSockets.POLLIN) != 0) {
                try {
                    Linux.read(wake[0], drain, 0, drain.length);
                } catch (SyscallException e) {
                    // EAGAIN: another reader took it; nothing to do
                }
            }
            if ((rev[0] & UnixSockets.POLLIN) != 0 && stopping == null) {
                submit(UnixSockets.accept(listener));
                collected = false;
                continue;
            }
            long idle = System.nanoTime() - lastNanos.get();
            if (active.get() == 0 && idle > GC_AFTER_NANOS && !collected) {
                // SerialGC gives heap back after a full collection (Min/MaxHeapFreeRatio): an idle
                // server's RSS is then its live data, not the high-water mark of a busy minute
                collected = true;
                System.gc();
            }
            // a server that holds pools is not idle: keeping sandboxes warm is what it is there for
            if (cfg.idleMillis() > 0 && active.get() == 0 && idle > cfg.idleMillis() * 1_000_000L
                    && pools.isEmpty()) {
                stop("idle for " + cfg.idleMillis() / 1000 + " s");
            } else if (!ServerFiles.ownBuild(cfg.home(), cfg.buildId())) {
                stop("the installation's build changed");
            } else if (socketInode >= 0 && ServerFiles.inode(cfg.where().socket()) != socketInode) {
                // removed (rm -rf of the state directory) or replaced: no client can reach this server any more
                stop("its socket " + cfg.where().socket() + " is gone");
            }
        }
        leave(); // no call waits in the backlog while the pools close (up to a minute for a boot under way)
        pools.close(); // before the lock goes: a stopped server leaves no pooled sandbox behind a new one
        Linux.closeQuietly(lockFd);
        while (active.get() > 0) {
            UnixSockets.poll(new int[] {wake[0]}, UnixSockets.POLLIN, 100);
            try {
                Linux.read(wake[0], drain, 0, drain.length);
            } catch (SyscallException e) {
                // nothing written yet
            }
        }
        log.line("stopped after " + calls.get() + " calls: " + stopping);
        return stopping;
    }

    /**
     * SIGTERM, SIGINT, SIGHUP (systemd's stop, ^C of `gvshim server run`): the JVM runs shutdown
     * hooks while other threads go on, so the hook stops taking calls, leaves the name and lets
     * the calls it has finish (at most {@code graceMillis}) before the JVM exits. (java.base has no
     * signal API; a one-shot gvshim registers no hooks: it halts.)
     */
    public void stopOnSignals(long graceMillis) {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            stop("a signal");
            long end = System.nanoTime() + graceMillis * 1_000_000L;
            while (listener >= 0 || (active.get() > 0 && System.nanoTime() < end)) {
                if (System.nanoTime() > end) {
                    break;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }));
    }

    /** Asks the loop to stop (it finishes the calls it has). */
    public void stop(String why) {
        if (stopping == null) {
            stopping = why;
        }
        poke();
    }

    private void poke() {
        try {
            Linux.write(wake[1], new byte[] {1}, "wake");
        } catch (SyscallException e) {
            // EAGAIN: the pipe is full of wake-ups already
        }
    }

    /** Unlinks the name while holding the lock (so the name is still ours), then releases it. */
    private void leave() {
        try {
            if (ServerFiles.inode(cfg.where().socket()) == socketInode) {
                Files.deleteIfExists(cfg.where().socket());
                Files.deleteIfExists(cfg.where().pidFile());
            }
        } catch (IOException e) {
            log.line("cannot remove " + cfg.where().socket() + ": " + e.getMessage());
        }
        Linux.closeQuietly(listener);
        listener = -1;
    }

    /** One connection, start to end; whatever happens, its descriptors are closed. */
    void serve(int fd) {
        Session s = null;
        try {
            UnixSockets.Cred cred = UnixSockets.peerCred(fd);
            s = new Session(fd, cred.pid());
            if (cred.uid() != cfg.euid()) { // not a caller of this server's: nothing is read from it
                log.line("refused a connection of uid " + cred.uid() + " (pid " + cred.pid() + ")");
                return;
            }
            Request r = s.read();
            if (r == null) {
                return;
            }
            calls.incrementAndGet();
            String cold = coldReason(r, cred.pid());
            if (cold == null) {
                cold = ServerCall.takeCallersFs(s, r);
            }
            if (cold != null) {
                log.line("call of pid " + cred.pid() + " (" + String.join(" ", r.argv()) + ") answered COLD: " + cold);
                s.cold(cold);
                return;
            }
            s.accept();
            s.exit(new ServerCall(this, s, r).run(dispatcher));
        } catch (IOException e) {
            log.line("call" + (s == null ? "" : " of pid " + s.peerPid()) + ": " + e.getMessage());
        } catch (SyscallException e) {
            log.line("connection: " + e.callAndErrno());
        } catch (RuntimeException | Error e) {
            log.error("call" + (s == null ? "" : " of pid " + s.peerPid()), e);
            if (e instanceof Error) {
                stop("an internal error: " + e.getClass().getSimpleName()); // an OutOfMemoryError leaves nothing reliable
            }
        } finally {
            if (s != null) {
                s.close();
            } else {
                Linux.closeQuietly(fd);
            }
        }
    }

    private String coldReason(Request r, int peerPid) {
        if (r.protocol() != Wire.PROTOCOL) {
            return "protocol " + r.protocol() + " (this server speaks " + Wire.PROTOCOL + ")";
        }
        if (!r.buildId().equals(cfg.buildId())) {
            return "a server of another build";
        }
        if (cfg.home() != null && !r.home().equals(cfg.home().toString())) {
            return "a server of another installation";
        }
        if (stopping != null) {
            return "the server is stopping";
        }
        if (r.cwd().isEmpty() || !r.cwd().startsWith("/")) {
            return "the caller's working directory has no path";
        }
        String other = context.differs(peerPid);
        return other != null ? other : dispatcher.coldReason(List.of(r.args()));
    }

    /** What `gvshim server status` prints. */
    String status() {
        return ServerStatus.text(pid, started, (System.nanoTime() - startNanos) / 1_000_000_000L, cfg, log.file(), calls.get(),
                active.get(), pools);
    }

    long pid() {
        return pid;
    }
}
