package dev.gvshim.server;

import dev.gvshim.call.Call;
import dev.gvshim.call.Handover;
import dev.gvshim.call.Trace;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.UnixSockets;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One sandbox of the Java API ({@code dev.gvshim.api}): this JVM is the server of one call, and
 * its client is {@code bin/gvshim __sandbox SOCKET}, which the API started with
 * java.lang.ProcessBuilder (so the caller's redirects are its stdio). The call is `gvshim run`'s
 * server path unchanged: the core makes and maps the namespaces (here), the client forks runsc
 * into them (USERNS_SPAWN) and becomes gvshim-waiter (EXEC). ProcessBuilder gives a child no
 * descriptor but 0-2, hence the socket: in a directory of this JVM's own (mode 0700), accepted
 * once, from the started process only (SO_PEERCRED: its pid and this process's uid), then removed.
 */
public final class ApiSession implements AutoCloseable {
    /** How long the started client may take to connect (a static binary: milliseconds, unless the machine is swamped). */
    private static final long CONNECT_MILLIS = 30_000;

    private final Path dir;
    private final int listener;
    private Session session;
    private Request request;
    private volatile Handover.Exec handedOver;
    private boolean closed;

    private ApiSession(Path dir, int listener) {
        this.dir = dir;
        this.listener = listener;
    }

    /** A fresh socket for one client, in a new 0700 directory below {@code tmp}. */
    public static ApiSession listen(Path tmp) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "gvshim-api",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            return new ApiSession(dir, UnixSockets.listen(dir.resolve("s").toString(), 1));
        } catch (SyscallException e) {
            Files.deleteIfExists(dir);
            throw new IOException(e.callAndErrno(), e);
        }
    }

    /** The socket's path, for the client's argv. */
    public Path socket() {
        return dir.resolve("s");
    }

    /**
     * Takes the connection of {@code client} (and of no other process) and its request, and tells
     * it that this JVM acts for the call. IOException: it exited, or did not connect in time.
     */
    public void accept(ProcessHandle client, int euid) throws IOException {
        long end = System.nanoTime() + CONNECT_MILLIS * 1_000_000;
        try {
            while (session == null) {
                short[] rev = UnixSockets.poll(new int[] {listener}, UnixSockets.POLLIN, 50);
                if ((rev[0] & UnixSockets.POLLIN) == 0) {
                    if (!client.isAlive()) {
                        throw new IOException("the sandbox's client exited before it connected");
                    }
                    if (System.nanoTime() > end) {
                        throw new IOException("the sandbox's client did not connect in " + CONNECT_MILLIS / 1000 + " s");
                    }
                    continue;
                }
                int fd = UnixSockets.accept(listener);
                UnixSockets.Cred cred = UnixSockets.peerCred(fd);
                if (cred.pid() != client.pid() || cred.uid() != euid) {
                    Linux.closeQuietly(fd); // not ours: the directory should make that impossible
                    continue;
                }
                session = new Session(fd, cred.pid());
            }
            request = session.read();
            if (request == null) {
                throw new IOException("the sandbox's client closed the connection before its request");
            }
            session.accept();
        } catch (SyscallException e) {
            throw new IOException(e.callAndErrno(), e);
        } finally {
            unlink();
        }
    }

    /**
     * The call as the core sees it: {@code env} is the caller's environment (where runsc is found,
     * the state directory), {@code cwd} its working directory; stdio is the client's (isatty of a
     * terminal the caller inherited); programs are started by the client, as for a server's call.
     */
    public Call call(Map<String, String> env, Path cwd, Path home, int euid) {
        PrintStream out = new PrintStream(new Session.FdOutputStream(session.fd(Request.STDOUT)), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new Session.FdOutputStream(session.fd(Request.STDERR)), true, StandardCharsets.UTF_8);
        Trace trace = new Trace(env, err);
        ServerHandover server = new ServerHandover(session);
        Handover handover = new Handover() {
            @Override
            public void exec(Exec e) throws SyscallException {
                server.exec(e);
                handedOver = e;
            }

            @Override
            public long taker() {
                return server.taker();
            }

            @Override
            public boolean forksIntoNamespaces() {
                return true;
            }

            @Override
            public int spawnInto(Spawn s) throws SyscallException {
                return server.spawnInto(s);
            }
        };
        return new Call("api" + session.peerPid() + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt()), env, cwd,
                new Call.Stdio(new Session.FdInputStream(session.fd(Request.STDIN)), out, err, session.fd(Request.STDIN),
                        session.fd(Request.STDOUT), session.fd(Request.STDERR)),
                () -> euid, home, home.resolve("bin/gvshim"), new ServerProcesses(session, trace), handover, trace);
    }

    /** The client's connection (a pooled run relays the user's server to it: {@link PoolRelay}). */
    Session session() {
        return session;
    }

    /** What the client became (gvshim-waiter's argv: its run directory, its runsc child), or null before the hand-over. */
    public Handover.Exec handedOver() {
        return handedOver;
    }

    /** The call failed before the hand-over: the client exits with {@code status}, saying nothing (the API throws). */
    public void fail(int status) {
        if (session == null || closed) {
            return;
        }
        try {
            session.exit(status);
        } catch (IOException e) {
            // gone already: it exits anyway
        }
    }

    private void unlink() {
        try {
            Files.deleteIfExists(socket());
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // best effort: a 0700 directory of this user's with nothing listening
        }
    }

    /** Closes the socket and the request's descriptors (once: a number closed twice may be another thread's by then). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Linux.closeQuietly(listener);
        unlink();
        if (session != null) {
            session.close();
        }
    }
}
